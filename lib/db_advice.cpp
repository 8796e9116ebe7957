#include "db_advice.hpp"

#include "app.hpp"
#include "db.hpp"
#include "error.hpp"
#include "interrupt.hpp"
#include "lock_holders.hpp"
#include "migrations.hpp"
#include "text.hpp"

namespace xloop {

std::string read_only_database(std::string const& job)
{
    return fmt::format("the database is read-only (a hot standby, or "
                       "default_transaction_read_only is on) and xloop-{} writes to it: "
                       "point --db at the primary (with several hosts in --db, add "
                       "target_session_attrs=read-write and libpq picks it)",
                       job);
}

namespace {

// A row the table's own rules reject (is_rejected_row_sqlstate): an adopted
// table's constraint, named, with the change that lets xloop's rows in.
std::string rejected_row_advice(db_error const& d)
{
    auto const& o = d.object();
    auto const schema = o.schema.empty() ? std::string{"public"} : o.schema;
    // As an operator reads it, and as SQL takes it.
    auto const table = fmt::format("{}.{}", schema, o.table);
    auto const sql_table =
        fmt::format("{}.{}", quote_ident(schema), quote_ident(o.table));
    if (d.sqlstate() == "23502" && !o.table.empty() && !o.column.empty()) {
        return fmt::format(
            "{}.{} is NOT NULL without a default, and xloop leaves it empty: "
            "give it one (ALTER TABLE {} ALTER COLUMN {} SET DEFAULT …) or "
            "allow NULL (… DROP NOT NULL)",
            table, o.column, sql_table, quote_ident(o.column));
    }
    if ((d.sqlstate() == "23514" || d.sqlstate() == "23503") && !o.table.empty() &&
        !o.constraint.empty()) {
        return fmt::format(
            "the {} {} of {} is not in xloop's schema and rejects a row xloop writes "
            "(the detail shows it): drop it (ALTER TABLE {} DROP CONSTRAINT {}) or widen "
            "it to take xloop's values",
            d.sqlstate() == "23514" ? "check constraint" : "foreign key", o.constraint,
            table, sql_table, quote_ident(o.constraint));
    }
    if (d.sqlstate() == "22P05") {
        return "the database's encoding has no such character (the message names both): "
               "xloop's texts are UTF-8 (emoji, any script), which a database created "
               "with ENCODING 'UTF8' holds";
    }
    if (d.sqlstate() == "22001") {
        return "a value xloop writes is longer than a varchar(n) or char(n) column of "
               "an adopted table allows: widen that column (SELECT "
               "xloop.alter_column_type('public.table', 'column', 'text') keeps the "
               "views reading it)";
    }
    return "a constraint of an adopted table, not in xloop's schema, rejects a row "
           "xloop writes";
}

} // namespace

bool schema_older_than_tools(db_error const& d)
{
    if (!foreign_function_frame(d).empty()) {
        return false; // the database's own trigger's missing column or table
    }
    return d.sqlstate() == "42703" || d.sqlstate() == "42P01" ||
           (d.sqlstate() == "42883" && // not "operator does not exist"
            std::string_view{d.what()}.find("function xloop.") != std::string_view::npos);
}

namespace {

// Why a table, column or function of xloop's is missing, asked after the
// run's transaction has rolled back: xloop-migrate never ran here (the
// original bot's database), an upgrade not migrated, or neither.
std::string missing_schema_advice(run_context* ctx)
{
    std::string const unknown = "is the schema older than this xloop? run xloop-migrate "
                                "(xloop-validate lists pending migrations)";
    if (!ctx) {
        return unknown;
    }
    try {
        auto& db = ctx->db();
        auto const m = migration_states(db);
        // named: a cron line whose environment picks another database than
        // the operator's shell must not send them to migrate the wrong one
        auto const place = place_text(db.place());
        if (m.pending > 0 && m.pending == m.total) {
            return fmt::format("xloop-migrate has not run on database {} ({} "
                               "pending): if it is the bot's, run xloop-migrate on it "
                               "(README.md: Adopting an existing database); if not, "
                               "give the tool the right one (--db or DATABASE_URL)",
                               place, counted(m.pending, "migration", "migrations"));
        }
        if (m.pending > 0) {
            return fmt::format("{} pending on database {} ({}{}): run xloop-migrate",
                               counted(m.pending, "migration", "migrations"), place,
                               m.first_pending, m.pending > 1 ? ", …" : "");
        }
        return "no migration is pending: a table, view, column or function of xloop's "
               "schema was dropped or changed by hand; xloop-validate names what is "
               "missing, and xloop-migrate cannot make it again (its migrations are "
               "applied): restore it from a backup, or from its migration in xloop's "
               "source (sql/)";
    } catch (std::exception const&) {
        return unknown; // the connection is gone too: the error says enough
    }
}

} // namespace

std::string advice_for(db_error const& d, run_context* ctx)
{
    if (refused_by_statement_pooler(d)) {
        return "the connection goes through PgBouncer in statement pooling mode, which "
               "runs no transaction, and every xloop run is one: give xloop's database "
               "pool_mode = transaction (or session) in pgbouncer.ini, or connect to "
               "PostgreSQL directly";
    }
    if (auto const frame = foreign_function_frame(d);
        !frame.empty() && !is_transient_sqlstate(d.sqlstate())) {
        return fmt::format(
            "in {}: a trigger or function of the database's own, not xloop's, failed "
            "on a row xloop writes or reads; fix it, or drop it if nothing needs it "
            "(psql's \\d TABLE lists a table's triggers)",
            frame);
    }
    if (schema_older_than_tools(d)) {
        return missing_schema_advice(ctx);
    }
    if (is_rejected_row_sqlstate(d.sqlstate())) {
        return rejected_row_advice(d);
    }
    if (d.sqlstate() == "25006") {
        return read_only_database(ctx ? ctx->tool() : "");
    }
    if (d.sqlstate() == "42883" || d.sqlstate() == "42804") {
        // an adopted column of another type than xloop's (text for a count,
        // seconds for a time), taken over by an xloop that did not check it
        return "is a column of another type than xloop's (text, seconds since 1970 or "
               "a date where xloop reads a number or a time)? xloop-validate's schema "
               "check names such columns, with the ALTER that converts each";
    }
    if (d.sqlstate() == "55P03" && ctx && ctx->job() != "migrate") {
        // The run's transaction is rolled back by now: its connection can
        // still ask who holds the tables.
        std::string holders;
        try {
            holders = table_lock_holders(ctx->db());
        } catch (std::exception const& e) {
            holders = fmt::format("who holds it is unknown ({})", e.what());
        }
        return fmt::format(
            "it waited database.lock_timeout_minutes ({}) for a lock "
            "another session holds; its transaction was rolled back: {}. {}",
            ctx->cfg().database.lock_timeout_minutes, holders, leaked_session_hint);
    }
    if (d.sqlstate() == "57014" && ctx && !interrupt_requested()) {
        // A lock wait ends at lock_timeout first (55P03, above) unless that
        // is off or no shorter.
        auto const& db = ctx->cfg().database;
        bool const lock_wait = db.lock_timeout_minutes == 0 ||
                               db.lock_timeout_minutes >= db.statement_timeout_minutes;
        return fmt::format("the server cancelled it: it ran longer than "
                           "database.statement_timeout_minutes ({}{}), or an "
                           "administrator cancelled it",
                           db.statement_timeout_minutes,
                           lock_wait ? "; waiting for a lock another session holds? see "
                                       "pg_locks"
                                     : "");
    }
    return {};
}

std::string with_advice(std::string text, std::string const& sqlstate,
                        std::string const& advice)
{
    auto const mark = fmt::format("(SQLSTATE {})", sqlstate);
    auto const at = text.find(mark);
    text.insert(at == std::string::npos ? text.size() : at + mark.size(), "; " + advice);
    return text;
}

} // namespace xloop
