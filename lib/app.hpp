#pragma once

// The frame every tool runs in: common options (parsed once, with CLI11), the
// config, `now`, the connection, the one-run-at-a-time lock, the xloop.job_runs
// ledger row, the heartbeat ping, and the single place where exceptions turn
// into exit codes.

#include "advisory_lock.hpp"
#include "config.hpp"
#include "db.hpp"
#include "error.hpp"
#include "timestamp.hpp"

// Kept out of this header (every job includes it): the tools that add options
// include <CLI/CLI.hpp>, the jobs that fill a summary <nlohmann/json.hpp>.
#include <nlohmann/json_fwd.hpp>

#include <chrono>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace CLI {
class App;
}

namespace xloop {

struct common_options {
    std::optional<std::string> db;
    std::optional<std::string> config_file;
    std::optional<std::string> now_text;
    std::optional<std::uint64_t> seed;
    bool dry_run = false;
    bool json = false;
    std::string log_format = "text";
    int quiet = 0;
    int verbose = 0;
    bool log_sql = false;
    std::optional<std::string> ping_url;
};

class run_context {
public:
    run_context(std::string job, common_options const& opts, config cfg, timestamp now,
                std::uint64_t seed);
    ~run_context();

    // The job it is recorded, locked and named to the server as; the tool's
    // own name for its messages.
    std::string const& job() const noexcept { return m_job; }
    std::string const& tool() const noexcept { return m_tool; }
    // Records the run as another job than its tool's, for a tool with two
    // modes on schedules of their own (xloop-plan --replies: plan-replies),
    // so each mode's runs, failures and lock are its own. Call before db().
    void record_as(std::string job);
    common_options const& options() const noexcept { return m_opts; }
    config const& cfg() const noexcept { return m_cfg; }
    timestamp now() const noexcept { return m_now; }
    std::uint64_t seed() const noexcept { return m_seed; }
    bool dry_run() const noexcept { return m_opts.dry_run; }

    // The database connection, opened on first use; the ledger row is written
    // right after (unless --dry-run, or the schema has no xloop.job_runs yet).
    db_connection& db();
    // The connection if db() has opened one (or one was lent), else null.
    db_connection const* connection() const noexcept { return m_conn; }

    // This run writes nothing but its ledger row (validate, migrate status):
    // on a read-only database (a hot standby) it runs unrecorded, where a
    // writing job stops before its work; and that row's commit does not wait
    // for the disk. Call before db().
    void reads_only() noexcept { m_reads_only = true; }

    // Runs on `conn` rather than opening a connection of its own: xloop-sim
    // runs thousands of jobs in-process on one. The caller keeps it open.
    void use_connection(db_connection& conn);

    // One run at a time per job, session-scoped: needs a direct connection or a
    // session-mode pooler. Throws lock_held when another run has it.
    void lock_session();

    // One run at a time per job, for work that spans several transactions,
    // through any pooler: a row in xloop.job_leases that lasts
    // ledger.lease_minutes unless renewed (a session lock taken through a
    // transaction-mode pooler would stay on a pooled server connection).
    // Throws lock_held, naming the holder, while another run's lease is live.
    void take_lease();
    // Extends the lease; call in each transaction before it commits. Throws
    // if the lease expired and another run took it: that transaction then
    // rolls back, so two runs never both commit work.
    void renew_lease();

    // Transaction-scoped variant: call inside the job's one write transaction;
    // safe behind a transaction-mode pooler (PgBouncer, Supabase port 6543).
    void lock_in_transaction();

    // Counts and details for the ledger row and the --json summary.
    std::int64_t rows_in = 0;
    std::int64_t rows_out = 0;
    // detail goes into the ledger row, summary is printed by --json.
    nlohmann::json& detail() noexcept { return *m_detail; }
    nlohmann::json& summary() noexcept { return *m_summary; }

    // Ends the run as 'skipped' (a success: exit 0) with a reason.
    void skip(std::string reason);
    std::optional<std::string> const& skip_reason() const noexcept
    {
        return m_skip_reason;
    }

    // The exit code the body wants on success (validate's "not ready" is 1).
    exit_code success_code = exit_code::ok;

    // Throws `interrupted` after SIGINT/SIGTERM/SIGHUP; long loops call it.
    void check_interrupted() const;

    // Called by the app frame when the run ends.
    void finish(std::string const& status, std::string const& error_text);
    void ensure_ledger();

private:
    // Deletes this job's finished ledger rows older than ledger.keep_days.
    void prune_ledger();
    // Writes the ledger row's end.
    void record(std::string const& status, std::string const& error_text,
                std::chrono::microseconds elapsed);
    // Finishes over a new connection when the run's is lost.
    // Empty, or why the database is still out of reach.
    std::string reconnect_if_lost();

    std::string m_job;
    std::string m_tool;
    common_options const& m_opts;
    config m_cfg;
    timestamp m_now;
    std::uint64_t m_seed;
    std::optional<db_connection> m_own_conn;
    db_connection* m_conn = nullptr; // m_own_conn's, or one lent by use_connection
    std::optional<db_connection> m_closing_conn; // reconnect_if_lost's

    bool m_reads_only = false;
    bool m_unrecorded = false; // the ledger refused this run's row: not asked again
    std::optional<std::int64_t> m_ledger_id;
    std::unique_ptr<advisory_lock> m_session_lock;
    std::optional<std::string> m_lease; // this run's token while it holds one
    std::optional<std::string> m_skip_reason;
    std::chrono::steady_clock::time_point m_started;
    std::unique_ptr<nlohmann::json> m_detail;
    std::unique_ptr<nlohmann::json> m_summary;
};

// How a run ended; the context stays for its summary.
struct run_result {
    exit_code code = exit_code::ok;
    std::string status = "ok"; // or skipped, interrupted, failed
    std::string error_text;
    std::unique_ptr<run_context> ctx;
};

// Makes a run's context, runs `body` in it, ends its ledger row and turns
// what was thrown into an exit code: the one place that happens, for the
// tools (app::run) and for xloop-sim, which runs the jobs in-process.
run_result run_job(std::function<std::unique_ptr<run_context>()> const& make,
                   std::function<void(run_context&)> const& body);

class app {
public:
    // `job` is the tool's name without the prefix: "migrate", "plan", …
    app(std::string job, std::string description);
    ~app();

    CLI::App& cli() noexcept { return *m_cli; }
    common_options const& options() const noexcept { return m_opts; }

    // Parses the command line, runs `body`, reports; returns the exit code.
    int run(int argc, char** argv, std::function<void(run_context&)> const& body);

    // The seed when --seed is not given, instead of a random one: for a tool
    // whose draws measure rather than decide, so the same data gives the same
    // report. `why` ends --seed's help.
    void default_seed(std::uint64_t seed, std::string const& why);

private:
    // The exit code when the command line ends the run (--help, a usage error).
    std::optional<int> parse(int argc, char** argv);

    std::string m_job;
    std::unique_ptr<CLI::App> m_cli;
    common_options m_opts;
    std::optional<std::uint64_t> m_default_seed;
};

} // namespace xloop
