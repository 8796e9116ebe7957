#pragma once

// Thin RAII over libpq: a connection, its results, parameterised statements,
// transactions and COPY streaming. Values travel as text; SQL casts them.

#include "error.hpp"
#include "timestamp.hpp"

#include <libpq-fe.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace xloop {

struct db_result_deleter {
    void operator()(PGresult* r) const noexcept { PQclear(r); }
};

class db_result {
public:
    explicit db_result(PGresult* r) : m_result(r) {}

    int rows() const noexcept { return PQntuples(m_result.get()); }
    int columns() const noexcept { return PQnfields(m_result.get()); }
    bool is_null(int row, int col) const noexcept
    {
        return PQgetisnull(m_result.get(), row, col) != 0;
    }
    std::string_view get(int row, int col) const noexcept
    {
        return {PQgetvalue(m_result.get(), row, col),
                static_cast<std::size_t>(PQgetlength(m_result.get(), row, col))};
    }
    std::string str(int row, int col) const { return std::string{get(row, col)}; }
    std::optional<std::string> opt_str(int row, int col) const;
    std::int64_t i64(int row, int col) const;
    double f64(int row, int col) const;
    bool boolean(int row, int col) const { return get(row, col) == "t"; }
    char const* column_name(int col) const noexcept
    {
        return PQfname(m_result.get(), col);
    }
    // Rows an INSERT/UPDATE/DELETE (or COPY) touched; 0 for other commands.
    std::int64_t affected_rows() const noexcept
    {
        return std::atoll(PQcmdTuples(m_result.get()));
    }
    PGresult* raw() const noexcept { return m_result.get(); }

private:
    std::unique_ptr<PGresult, db_result_deleter> m_result;
};

// One statement parameter: text or SQL NULL.
using pg_param = std::optional<std::string>;

inline pg_param to_param(std::nullopt_t)
{
    return std::nullopt;
}
inline pg_param to_param(std::string const& s)
{
    return s;
}
inline pg_param to_param(std::string_view s)
{
    return std::string{s};
}
inline pg_param to_param(char const* s)
{
    return std::string{s};
}
inline pg_param to_param(bool b)
{
    return std::string{b ? "true" : "false"};
}
inline pg_param to_param(timestamp t)
{
    return format_timestamp(t);
}
pg_param to_param(double v);
// Array literals: text[] ({"a","b"}, every element quoted and escaped) and
// float8[] ({1,2.5}).
pg_param to_param(std::vector<std::string> const& v);
pg_param to_param(std::vector<double> const& v);
template <typename T>
requires std::is_integral_v<T> pg_param to_param(T v)
{
    return std::to_string(v);
}
template <typename T>
pg_param to_param(std::optional<T> const& v)
{
    return v ? to_param(*v) : std::nullopt;
}

struct db_connection_deleter {
    void operator()(PGconn* c) const noexcept { PQfinish(c); }
};

// Where the connection string comes from: --db, else DATABASE_URL, else libpq's
// own PG* variables (an empty string).
std::string resolve_conninfo(std::optional<std::string> const& db_option);

// For a failed connection: where nothing named a database (`conninfo`
// empty, none of libpq's PGHOST, PGHOSTADDR, PGPORT, PGDATABASE, PGSERVICE
// among `env`), what was tried and why, as "; …"; else "". A cron job that
// did not read its environment file meets this.
std::string unnamed_database_hint(std::string const& conninfo,
                                  std::function<char const*(char const*)> const& env);

// Replaces the password of `conninfo` (and PGPASSWORD) wherever it occurs in
// `message`, so no error or log line carries it.
std::string redact_secrets(std::string message, std::string const& conninfo);

// The SQLSTATE of a server's refusal in a connection failure message built
// in verbose mode ("FATAL:  28P01: …"), the last one when libpq tried several
// hosts; nullopt when no server answered. The code reads the same in every
// language, the text does not.
std::optional<std::string> sqlstate_in_message(std::string_view message);

// Whether a connection failure is PgBouncer refusing for good: it answers for
// itself with 08P01 in words it never translates, and a database or user it
// does not know, or credentials it refuses, are the operator's to fix (exit
// 78); its other refusals (no server yet, too many clients, a pause) pass.
bool pooler_refused_for_good(std::string_view message);

// `sql` on one line, whitespace collapsed, cut after `max_chars`.
std::string statement_summary(std::string_view sql, std::size_t max_chars);

// The oldest PostgreSQL xloop runs on (its tests pass on 14 to 18): 13's
// catalogs have no primary keys, which the view helpers' GROUP BY relies on,
// and 12 has no gen_random_uuid().
constexpr int min_server_version = 140000;

// Throws config_error naming the server's version (PQserverVersion's number,
// 130023 for 13.23) when it is older than min_server_version; 0 (not known)
// passes.
void check_server_version(int version);

// Where a connection's server notices go: logged as "<label>: …", or held.
struct notice_sink {
    std::string label = "server";
    bool holding = false;
    std::vector<std::pair<std::string, std::string>> held; // severity, message
};

// Where a connection is: its database, host (a name, an address or a socket
// directory), port and user. An operator with more than one database (or a
// cron environment that is not their shell's) reads which one a run used.
struct database_place {
    std::string name;
    std::string host;
    std::string port;
    std::string user;
};

// "ex at /tmp/pg:5499", "\"my db\" at [::1]:5432": a name other than
// letters, digits, '_', '-' and '.' is quoted, control characters escaped.
std::string place_text(database_place const& p);

class db_connection {
public:
    // Connects; throws temporary_failure when the server is unreachable,
    // config_error for a malformed string or refused credentials.
    // `settings`: session parameters set with the connection's own (time zone,
    // date style), in the same round trip.
    db_connection(std::string const& conninfo, std::string const& application_name,
                  std::vector<std::pair<std::string, std::string>> const& settings = {});

    db_connection(db_connection&&) noexcept = default;
    db_connection& operator=(db_connection&&) noexcept = default;

    // Runs one statement (or several, without parameters).
    db_result exec(std::string_view sql);

    template <typename... Args>
    db_result exec(std::string_view sql, Args const&... args)
    {
        std::vector<pg_param> params{to_param(args)...};
        return exec_params(sql, params);
    }

    db_result exec_params(std::string_view sql, std::vector<pg_param> const& params);

    // Parses and analyses a statement without planning or running it: throws
    // db_error as running it would for a relation, column or function that
    // is not there (a check of names, 42P01 / 42703, at the cost of a parse).
    void parse(std::string_view sql);

    // COPY … FROM STDIN: begin (sends the COPY, as copy_out does too), send rows
    // (already in COPY text format), end.
    void copy_begin(std::string_view copy_sql);
    void copy_send(std::string_view data);
    void copy_end();

    // COPY … TO STDOUT: calls `on_row` with each row's text (without the
    // newline); with `binary`, with each CopyData message as sent (see
    // binary_copy_reader). Returns the number of messages.
    std::int64_t copy_out(std::string_view copy_sql,
                          std::function<void(std::string_view)> const& on_row,
                          bool binary = false);

    PGconn* raw() const noexcept { return m_conn.get(); }
    std::string const& conninfo() const noexcept { return m_conninfo; }

    // Where this connection is, as libpq resolved it (never the password).
    database_place place() const;

    // The database's encoding as the server reported it ("UTF8", "LATIN1").
    std::string server_encoding() const;
    // Whether the database stores any character xloop sends: UTF8, or
    // SQL_ASCII (bytes as sent); not LATIN1 and the other single-byte ones.
    bool holds_any_text() const;

    // `settings` as SET LOCAL statements, which every transaction repeats:
    // through a transaction-mode pooler it may run on a server connection
    // that never saw this session's SETs.
    std::string const& local_settings() const noexcept { return m_local_settings; }

    // --log-sql: log each statement (never its parameters) and its duration;
    // a COPY's once its data has ended.
    void set_log_sql(bool on) noexcept { m_log_sql = on; }

    // What the server's notices are logged as ("server: …" by default); a
    // dry run says that what they report was rolled back.
    void set_notice_label(std::string label) { m_notices->label = std::move(label); }

    // The server's notices are kept, not logged, until release_notices():
    // logged then, or dropped where what they report was rolled back to be
    // tried again (a migration after a lock wait says its warnings once).
    void hold_notices();
    void release_notices(bool log_them);

private:
    [[noreturn]] void throw_result_error(PGresult* r, std::string_view context);
    db_result check(PGresult* r, std::string_view sql);
    // exec() that gives up after `timeout_s` (> 0) without an answer.
    db_result exec_within(std::string const& sql, long timeout_s);
    void log_statement(std::string_view sql,
                       std::chrono::steady_clock::time_point start) const;

    // On the heap: libpq's notice receiver keeps its address across moves;
    // first, so that it outlives the connection.
    std::unique_ptr<notice_sink> m_notices;
    std::unique_ptr<PGconn, db_connection_deleter> m_conn;
    std::string m_conninfo;
    std::string m_local_settings;
    bool m_log_sql = false;
    std::string m_copy_sql; // the COPY in progress
    std::chrono::steady_clock::time_point m_copy_start;
};

// BEGIN on construction; ROLLBACK in the destructor unless commit() ran.
class transaction {
public:
    explicit transaction(db_connection& conn, std::string_view begin_sql =
                                                  "BEGIN ISOLATION LEVEL READ COMMITTED");
    transaction(transaction const&) = delete;
    transaction& operator=(transaction const&) = delete;
    ~transaction() noexcept;
    void commit();

private:
    db_connection* m_conn;
    bool m_open = true;
};

// Buffers rows in COPY text format and sends them in large chunks.
class copy_writer {
public:
    copy_writer(db_connection& conn, std::string_view copy_sql);
    ~copy_writer() noexcept;
    copy_writer(copy_writer const&) = delete;
    copy_writer& operator=(copy_writer const&) = delete;

    // Field helpers: add values separated by tabs, then end_row().
    void add(std::string_view text); // escaped for COPY
    void add_null();
    template <typename T>
    void add(std::optional<T> const& v)
    {
        if (v) {
            add(*v);
        } else {
            add_null();
        }
    }
    void add(double v);
    void add(std::int64_t v);
    void add(timestamp t);
    void end_row();
    void finish();
    std::int64_t rows() const noexcept { return m_rows; }

private:
    void separate();
    db_connection* m_conn;
    std::string m_buffer;
    bool m_row_started = false;
    bool m_finished = false;
    std::int64_t m_rows = 0;
};

// Splits one COPY text-format row into fields (unescaped; nullopt for \N).
std::vector<std::optional<std::string>> split_copy_row(std::string_view row);

std::string quote_ident(std::string_view name);

// A string literal ('…', quotes doubled; E'…' when it holds a backslash), for
// the statements that take no parameters (COPY) where the planner must see a
// value: a setting read through current_setting() hides it, and the planner
// then guesses row counts (a nested loop where a hash join belongs).
std::string quote_literal(std::string_view value);

// Sets transaction-local settings: how parameters reach statements that take
// none, such as COPY (read there with current_setting(name)).
void set_local_settings(db_connection& db,
                        std::vector<std::pair<std::string, pg_param>> const& settings);

// Throws config_error naming `config_key` (as key_place gives it: file, line
// and key) unless PostgreSQL knows the zone.
void require_time_zone(db_connection& db, std::string const& zone,
                       std::string const& config_key);

} // namespace xloop
