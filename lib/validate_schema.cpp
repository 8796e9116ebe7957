#include "validate_schema.hpp"

#include "adopt.hpp"
#include "config.hpp"
#include "db.hpp"
#include "json_text.hpp"
#include "migrations.hpp"
#include "plan_job.hpp"
#include "schema.hpp"
#include "text.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace xloop {

namespace {

// One statement naming every relation and column of required_schema(),
// parsed and never run: the server resolves each name, schema-qualified, as
// it would in a tool's statement (a view's columns too). Parsing it
// loads the tables' entries that the checks after it need anyway; the
// catalogue query below costs 4–6 ms more as a connection's first look at
// pg_attribute, a tenth of a run with nothing to do.
std::string every_required_column_sql()
{
    std::string sql = "SELECT 1";
    char const* from = " FROM ";
    int i = 0;
    for (auto const& [rel, cols] : required_schema()) {
        std::vector<std::string> quoted;
        for (auto const& col : cols) {
            quoted.push_back(quote_ident(col));
        }
        auto const dot = rel.find('.');
        sql += fmt::format("{}(SELECT {} FROM {}.{}) r{}", from, fmt::join(quoted, ", "),
                           quote_ident(rel.substr(0, dot)),
                           quote_ident(rel.substr(dot + 1)), i++);
        from = ", ";
    }
    return sql;
}

// Whether every relation and column is there, at the cost of a parse.
bool every_required_column(db_connection& db)
{
    try {
        db.parse(every_required_column_sql());
        return true;
    } catch (db_error const& e) {
        // not there (42P01, 42703), a schema not there (3F000) or this role
        // may not look (42501): the catalogue query below says which
        auto const& state = e.sqlstate();
        if (state == "42P01" || state == "42703" || state == "3F000" ||
            state == "42501") {
            return false;
        }
        throw;
    }
}

// Every relation and column of required_schema() that is not there, in the
// order listed: a missing relation named once, a missing column as
// relation.column (one query for all).
std::vector<std::string> missing_columns(db_connection& db)
{
    if (every_required_column(db)) {
        return {};
    }
    nlohmann::json wanted = nlohmann::json::array();
    for (auto const& [rel, cols] : required_schema()) {
        for (auto const& col : cols) {
            wanted.push_back({rel, col});
        }
    }
    auto const r = db.exec(R"sql(
SELECT CASE WHEN to_regclass(w->>0) IS NULL THEN w->>0 ELSE (w->>0) || '.' || (w->>1) END
  FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS x(w, n)
 WHERE to_regclass(w->>0) IS NULL
    OR NOT EXISTS (SELECT 1 FROM pg_attribute a
                    WHERE a.attrelid = to_regclass(w->>0) AND a.attname = w->>1
                      AND NOT a.attisdropped)
 GROUP BY 1 ORDER BY min(n))sql",
                           json_text(wanted));
    std::vector<std::string> missing;
    for (int i = 0; i < r.rows(); ++i) {
        missing.push_back(r.str(i, 0));
    }
    return missing;
}

// The indexes and functions the tools rely on, in one statement: missing ones
// added to `missing`; the index an adopted database may lack (usernames
// unique ignoring case) a warning. Returns whether xloop.as_uuid is there.
bool check_indexes(db_connection& db, std::vector<std::string>& missing,
                   std::vector<std::string>& warnings)
{
    auto const r = db.exec(R"sql(
SELECT xloop.has_unique_index('public.outcomes', 'decision_id'),
       to_regclass('public.learning_model_weights_one_active') IS NOT NULL,
       xloop.has_unique_index('public.discovered_accounts', 'lower(username)'),
       to_regprocedure('xloop.as_uuid(text)') IS NOT NULL)sql");
    if (!r.boolean(0, 0)) {
        missing.push_back("unique index on outcomes(decision_id)");
    }
    if (!r.boolean(0, 1)) {
        missing.push_back("index learning_model_weights_one_active");
    }
    if (!r.boolean(0, 2)) {
        warnings.push_back("no unique index on discovered_accounts(lower(username)): "
                           "usernames collide ignoring case (see README, adopting)");
    }
    if (!r.boolean(0, 3)) {
        missing.push_back("function xloop.as_uuid(text)");
    }
    return r.boolean(0, 3);
}

// The tables the tools use whose rows row-level security hides from this
// role (Supabase enables it on every table): it is subject to it (not the
// owner, no BYPASSRLS) and no permissive policy shows it every row. The tools
// would see none or some of the rows, and learn from them without a word.
std::vector<std::string> hidden_by_row_security(db_connection& db)
{
    nlohmann::json names = nlohmann::json::array();
    for (auto const& rel : required_schema()) {
        names.push_back(rel.name);
    }
    auto const r = db.exec(R"sql(
SELECT c.oid::regclass::text
  FROM jsonb_array_elements_text($1::jsonb) WITH ORDINALITY AS w(name, n)
  JOIN pg_class c ON c.oid = to_regclass(w.name)
 WHERE c.relkind IN ('r', 'p') AND c.relrowsecurity
   AND NOT (SELECT rolbypassrls OR rolsuper FROM pg_roles WHERE rolname = current_user)
   AND (c.relforcerowsecurity OR NOT pg_has_role(current_user, c.relowner, 'USAGE'))
   AND NOT EXISTS (
       SELECT 1 FROM pg_policy p
        WHERE p.polrelid = c.oid AND p.polpermissive AND p.polcmd IN ('*', 'r')
          AND pg_get_expr(p.polqual, p.polrelid) = 'true'
          AND (0 = ANY (p.polroles)
               OR EXISTS (SELECT 1 FROM unnest(p.polroles) AS r(role)
                           WHERE pg_has_role(current_user, r.role, 'USAGE'))))
 ORDER BY w.n)sql",
                           json_text(names));
    std::vector<std::string> hidden;
    for (int i = 0; i < r.rows(); ++i) {
        hidden.push_back(r.str(i, 0));
    }
    return hidden;
}

// A database in an encoding other than UTF-8 (LATIN1) has no emoji: with a
// writer that may give one (a model, a program), plan stops on it (exit 65).
std::optional<std::string> encoding_warning(db_connection const& db, config const& cfg)
{
    if (db.holds_any_text() || cfg.plan.writer.kind == "template") {
        return std::nullopt;
    }
    return fmt::format("the database's encoding is {}: a text the {} writer gives with "
                       "a character it has not (an emoji, another script) stops "
                       "xloop-plan with exit 65; a database created with ENCODING 'UTF8' "
                       "holds every text",
                       db.server_encoding(), cfg.plan.writer.kind);
}

// The tools are older than the schema (rolled back): they run, but the
// operator should know.
std::string newer_migrations_warning(std::vector<std::string> const& unknown)
{
    return fmt::format(
        "migration {}{} was applied by a newer xloop than this one: run that xloop's "
        "tools (migrations are never undone)",
        unknown.front(),
        unknown.size() > 1 ? fmt::format(" and {} more", unknown.size() - 1) : "");
}

// Only what is wrong, each with its first example.
std::string wrong_schema_text(std::vector<std::string> const& missing,
                              migration_counts const& m)
{
    auto const part = [](std::string& out, std::string const& what) {
        out += (out.empty() ? "" : ", ") + what;
    };
    auto const and_more = [](std::size_t n) { return n > 1 ? ", …" : ""; };
    std::string wrong;
    if (!missing.empty()) {
        part(wrong, fmt::format("{} missing ({}{})", missing.size(), missing.front(),
                                and_more(missing.size())));
    }
    if (m.pending > 0) {
        part(wrong, fmt::format("{} pending ({}{})",
                                counted(m.pending, "migration", "migrations"),
                                m.first_pending, and_more(m.pending)));
    }
    if (m.edited > 0) {
        part(wrong, fmt::format("{} edited since applied ({}{})",
                                counted(m.edited, "migration", "migrations"),
                                m.first_edited, and_more(m.edited)));
    }
    return wrong;
}

std::string hidden_rows_text(db_connection& db, std::vector<std::string> const& hidden)
{
    auto const role = db.exec("SELECT current_user").str(0, 0);
    return fmt::format(
        "row-level security hides rows of {}{} from role {}: no policy shows it "
        "every row; run share/roles.sql (policies for xloop_reader and "
        "xloop_writer) or ALTER ROLE {} BYPASSRLS",
        hidden.front(),
        hidden.size() > 1 ? fmt::format(" and {} more tables", hidden.size() - 1) : "",
        role, quote_ident(role));
}

// What migrate's checks of an adopted table's column types say, if anything.
std::optional<std::string> wrong_column_types(db_connection& db)
{
    try {
        check_column_types(db);
    } catch (data_error const& e) {
        return std::string{e.what()};
    }
    return std::nullopt;
}

} // namespace

check_result schema_check(db_connection& db, config const& cfg, bool& has_as_uuid)
{
    check_result c{"schema", "ok", "", nlohmann::json::object()};
    auto missing = missing_columns(db);
    std::vector<std::string> warnings;
    if (missing.empty()) {
        has_as_uuid = check_indexes(db, missing, warnings);
    }
    auto const m = migration_states(db);
    if (!m.unknown.empty()) {
        warnings.insert(warnings.begin(), newer_migrations_warning(m.unknown));
    }
    if (auto const w = encoding_warning(db, cfg)) {
        warnings.push_back(*w);
    }
    auto const hidden = hidden_by_row_security(db);
    auto const types = missing.empty() ? wrong_column_types(db) : std::nullopt;
    c.numbers = {{"missing", missing},
                 {"wrong_column_types", types.has_value()},
                 {"pending_migrations", m.pending},
                 {"edited_migrations", m.edited},
                 {"unknown_migrations", m.unknown},
                 {"hidden_by_row_security", hidden}};
    if (!missing.empty() || m.pending > 0 || m.edited > 0) {
        c.status = "fail";
        c.message = wrong_schema_text(missing, m) + ": run xloop-migrate";
    } else if (!hidden.empty()) {
        c.status = "fail";
        c.message = hidden_rows_text(db, hidden);
    } else if (auto const narrow = narrow_columns(db, catalogue_rows(cfg.plan))) {
        // An adopted varchar(n) shorter than a catalogue value: plan refuses
        // each run that draws it.
        c.status = "fail";
        c.message = fmt::format("{}: xloop-plan refuses to write it. {}", narrow->columns,
                                narrow->widen);
    } else if (types) {
        // adopted by an xloop that did not check them: every job exits 70
        c.status = "fail";
        c.message = *types;
    } else if (!warnings.empty()) {
        c.status = "warn";
        c.message = warnings.front();
    } else {
        c.message = "every table, column, view and index is there; no pending migrations";
    }
    return c;
}

bool schema_complete(check_result const& schema)
{
    return schema.numbers.value("missing", nlohmann::json::array()).empty() &&
           !schema.numbers.value("wrong_column_types", false);
}

} // namespace xloop
