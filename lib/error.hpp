#pragma once

// Errors as exceptions carrying a formatted message; exit_code_for() is the one
// place that turns them into sysexits-style exit codes (DESIGN §4).

#include <fmt/format.h>

#include <optional>
#include <stdexcept>
#include <string>
#include <utility>

namespace xloop {

enum class exit_code : int {
    ok = 0,
    not_ready = 1,    // xloop-validate: the loop is not healthy
    usage = 64,       // bad command line
    data = 65,        // bad input data (file, API body, migration SQL)
    unavailable = 69, // a remote service refused (X API auth)
    software = 70,    // internal error
    temporary = 75,   // database unreachable, lock held, rate limited
    config = 78       // bad configuration
};

class error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

struct usage_error : error {
    using error::error;
};
struct data_error : error {
    using error::error;
};
struct service_refused : error {
    using error::error;
};
struct temporary_failure : error {
    using error::error;
};
struct config_error : error {
    using error::error;
};

// Another run of the same job holds the lock: not a failure of this run, but
// nothing was done either (ledger status 'skipped', exit 75 so cron retries).
struct lock_held : temporary_failure {
    using temporary_failure::temporary_failure;
};

// A remote API's rate limit (HTTP 429) on one endpoint: `limit` says which
// and when it lifts, the message what follows for the run; `reset_epoch`:
// when it lifts (epoch seconds), where the answer said.
struct rate_limited : temporary_failure {
    rate_limited(std::string limit_, std::string const& consequence,
                 std::optional<long long> reset)
        : temporary_failure(limit_ + "; " + consequence), limit(std::move(limit_)),
          reset_epoch(reset)
    {}
    std::string limit;
    std::optional<long long> reset_epoch;
};

// A remote service answered the last attempt with an error a later try may
// not get (HTTP 5xx; 429 where retried): it is reachable, that endpoint
// failed, and a request to another may still work.
struct server_failed : temporary_failure {
    using temporary_failure::temporary_failure;
};

// The run was stopped by SIGINT/SIGTERM/SIGHUP (ledger status 'interrupted').
struct interrupted : temporary_failure {
    using temporary_failure::temporary_failure;
};

// What the server names in an error about a row (PG_DIAG_SCHEMA_NAME …
// CONSTRAINT_NAME); each empty where it names nothing.
struct db_object {
    std::string schema;
    std::string table;
    std::string column;
    std::string constraint;
};

// An error reported by PostgreSQL, with its SQLSTATE.
class db_error : public error {
public:
    db_error(std::string const& message, std::string sqlstate, int position = 0,
             std::string statement = {}, db_object object = {}, std::string context = {})
        : error(message), m_sqlstate(std::move(sqlstate)), m_position(position),
          m_statement(std::move(statement)), m_object(std::move(object)),
          m_context(std::move(context))
    {}
    std::string const& sqlstate() const noexcept { return m_sqlstate; }
    // 1-based character position of the error in the statement, 0 if unknown.
    int position() const noexcept { return m_position; }
    // The statement that failed, as sent (parameters are never part of it).
    std::string const& statement() const noexcept { return m_statement; }
    db_object const& object() const noexcept { return m_object; }
    // The server's CONTEXT: the functions (a trigger's) the error came from,
    // innermost first, one a line.
    std::string const& context() const noexcept { return m_context; }

private:
    std::string m_sqlstate;
    int m_position = 0;
    std::string m_statement;
    db_object m_object;
    std::string m_context;
};

// The frame of the server's context that names a function not xloop's (a
// trigger of the database's own on a table xloop writes), as the server
// wrote it ("PL/pgSQL function audit() line 3 at PERFORM"); empty if none.
std::string foreign_function_frame(db_error const& e);

// Whether PgBouncer in statement pooling mode refused the run's transaction
// (its own message, never translated): every xloop run is one, so no retry
// helps; the pooler's mode is the operator's to change (exit 78).
bool refused_by_statement_pooler(db_error const& e);

exit_code exit_code_for(std::exception const& e) noexcept;

// True for SQLSTATEs that a later retry may not hit: connection loss, server
// shutdown, serialization failure, deadlock, lock or statement timeout, a
// server out of disk or memory.
bool is_transient_sqlstate(std::string const& sqlstate) noexcept;

// True for SQLSTATEs of a row the table's own rules reject: a value longer
// than a varchar(n), a NULL where a column is NOT NULL, a CHECK or foreign
// key. xloop's schema has none that its writes break, so it is an adopted
// table's shape (exit 65), not a bug.
bool is_rejected_row_sqlstate(std::string const& sqlstate) noexcept;

} // namespace xloop
