#include "app.hpp"

#include "argv_secrets.hpp"
#include "db_advice.hpp"
#include "http_client.hpp"
#include "interrupt.hpp"
#include "json_text.hpp"
#include "log.hpp"
#include "text.hpp"

#include <nlohmann/json.hpp>

#include <atomic>
#include <cerrno>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <new>
#include <random>

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

namespace xloop {

namespace {

std::atomic<PGcancel*> g_cancel{nullptr};

// A pipe whose reader has ended tells its writer so (POLLERR): the output
// went nowhere, but no disk is full.
bool stdout_reader_gone()
{
    pollfd p{STDOUT_FILENO, POLLOUT, 0};
    return ::poll(&p, 1, 0) == 1 && (p.revents & POLLERR) != 0;
}

extern "C" void on_signal(int)
{
    request_interrupt();
    // PQcancel is async-signal-safe: stop the statement that is running now.
    if (PGcancel* c = g_cancel.load()) {
        char err[256];
        PQcancel(c, err, sizeof err);
    }
}

// The ledger row a run starts with. It also marks runs of this job left 'running'
// by a client that died (kill -9, a restart of the database): their server
// connection is gone, or they are older than ledger.stale_hours. Each row
// names its connection (pid and start), so a live run is never taken for a
// dead one. (The function, not the pg_stat_activity view: 4 ms instead of 10
// as a connection's first statement, a tenth of a run with nothing to do.)
constexpr char const* ledger_start_sql = R"sql(
WITH abandoned AS (
    UPDATE xloop.job_runs r
       SET status = 'interrupted',
           error = 'abandoned: the run ended without recording it (its connection is '
                   'gone: killed, or the database restarted; or it ran longer than '
                   'ledger.stale_hours)'
     WHERE r.job = $1 AND r.status = 'running'
       AND (r.started_at < $2::timestamptz - make_interval(secs => $4::float8 * 3600)
            OR (r.detail ? 'backend_pid' AND NOT EXISTS (
                   SELECT 1 FROM pg_stat_get_activity((r.detail->>'backend_pid')::int) a
                    WHERE a.backend_start = (r.detail->>'backend_start')::timestamptz)))
    RETURNING 1)
INSERT INTO xloop.job_runs (job, started_at, status, detail)
SELECT $1, $2::timestamptz, 'running',
       jsonb_build_object('seed', $3::text, 'backend_pid', pg_backend_pid(),
                          'backend_start', a.backend_start,
                          'abandoned_before', (SELECT count(*) FROM abandoned))
  FROM pg_stat_get_activity(pg_backend_pid()) a
RETURNING id, (detail->>'abandoned_before')::int)sql";

void install_signal_handlers()
{
    struct sigaction sa {};
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, nullptr);
    sigaction(SIGTERM, &sa, nullptr);
    // A run by hand whose terminal or ssh session closed stops as it would
    // by SIGTERM (rolled back, recorded), not killed mid-run; and a reader of
    // its output that went away (| head) costs the output, not the run.
    sigaction(SIGHUP, &sa, nullptr);
    ::signal(SIGPIPE, SIG_IGN);
}

void ping(std::optional<std::string> const& url, std::string const& suffix)
{
    if (!url || url->empty()) {
        return;
    }
    http_request req;
    req.url = *url + suffix;
    // A run stopped by a signal exits within a second: the ping that reports
    // it gets a quarter of that, and the start ping gives way to the signal.
    req.timeout_ms = interrupt_requested() ? 250 : 5000;
    req.interruptible = suffix == "/start";
    req.interrupt_grace_ms = 0;
    auto const res = http_send(req);
    // A heartbeat that fails must never fail the job.
    if (res.status < 200 || res.status >= 300) {
        log::warn("heartbeat ping ({}) to {} failed: {}{}",
                  suffix == "/start" ? "start" : "end", url_origin(*url),
                  res.status ? fmt::format("HTTP {}", res.status) : res.transport_error,
                  res.other_scheme.empty()
                      ? ""
                      : fmt::format(" (the server there speaks {}: begin the URL with "
                                    "{}://)",
                                    res.other_scheme == "https" ? "TLS" : "plain HTTP",
                                    res.other_scheme));
    }
}

} // namespace

run_context::run_context(std::string job, common_options const& opts, config cfg,
                         timestamp now, std::uint64_t seed)
    : m_job(std::move(job)), m_tool(m_job), m_opts(opts), m_cfg(std::move(cfg)),
      m_now(now), m_seed(seed), m_started(std::chrono::steady_clock::now()),
      m_detail(std::make_unique<nlohmann::json>(nlohmann::json::object())),
      m_summary(std::make_unique<nlohmann::json>(nlohmann::json::object()))
{}

void run_context::record_as(std::string job)
{
    if (job == m_job) {
        return; // so recorded from the start (xloop-sim names each run's job)
    }
    if (m_conn) {
        throw error{fmt::format("xloop-{}: record_as({}) after the run's ledger row was "
                                "written as {}",
                                m_tool, job, m_job)};
    }
    m_job = std::move(job);
}

run_context::~run_context()
{
    if (PGcancel* c = g_cancel.exchange(nullptr)) {
        PQfreeCancel(c);
    }
}

namespace {

// If this client dies (kill -9), its backend must not keep the job's lock
// for ever: an idle transaction ends after the idle timeout, a runaway
// statement after the statement timeout; a wait for another session's lock
// ends after the lock timeout. Not the first and the last for migrate,
// whose index builds may take long on a large table and which bounds its
// waits by --lock-timeout. 0: none.
// A run that writes nothing but its ledger row (validate) does not wait for
// the disk, or a synchronous standby, to commit it: a row a crash loses costs
// nothing, and the two flushes were 7 of validate's 90 ms with nothing to do.
std::vector<std::pair<std::string, std::string>>
session_limits(std::string const& job, database_config const& d, bool reads_only)
{
    bool const migrate = job == "migrate";
    std::vector<std::pair<std::string, std::string>> limits{
        {"statement_timeout",
         fmt::format("{}s",
                     migrate ? 0L : std::lround(d.statement_timeout_minutes * 60))},
        {"idle_in_transaction_session_timeout",
         fmt::format("{}s", std::lround(d.idle_in_transaction_timeout_minutes * 60))},
        {"lock_timeout",
         fmt::format("{}ms",
                     migrate ? 0L : std::lround(d.lock_timeout_minutes * 60000))}};
    if (reads_only) {
        limits.emplace_back("synchronous_commit", "off");
    }
    return limits;
}

} // namespace

db_connection& run_context::db()
{
    if (!m_conn) {
        try {
            m_own_conn.emplace(resolve_conninfo(m_opts.db), "xloop-" + m_job,
                               session_limits(m_job, m_cfg.database, m_reads_only));
        } catch (config_error const& e) {
            // A wrong connection string is named by where it came from: a
            // DATABASE_URL in a cron environment is not on the command line.
            bool const option = m_opts.db && !m_opts.db->empty();
            char const* url = std::getenv("DATABASE_URL");
            if (!option && !(url && *url)) {
                throw;
            }
            throw config_error{
                fmt::format("{}: {}", option ? "--db" : "DATABASE_URL", e.what())};
        }
        m_own_conn->set_log_sql(m_opts.log_sql);
        if (log::enabled(log::level::debug)) {
            auto const place = m_own_conn->place();
            char const* version = PQparameterStatus(m_own_conn->raw(), "server_version");
            log::debug("connected to database {} as {} (PostgreSQL {})",
                       place_text(place), escape_line(place.user),
                       version ? version : "?");
        }
        use_connection(*m_own_conn);
    }
    return *m_conn;
}

void run_context::use_connection(db_connection& conn)
{
    m_conn = &conn;
    if (PGcancel* old = g_cancel.exchange(PQgetCancel(m_conn->raw()))) {
        PQfreeCancel(old);
    }
    ensure_ledger();
}

void run_context::ensure_ledger()
{
    if (m_ledger_id || m_unrecorded || m_opts.dry_run || !m_conn) {
        return;
    }
    auto const exists = m_conn->exec("SELECT to_regclass('xloop.job_runs') IS NOT NULL");
    if (!exists.boolean(0, 0)) {
        return;
    }
    std::optional<db_result> inserted;
    try {
        inserted = m_conn->exec(ledger_start_sql, m_job, m_now, std::to_string(m_seed),
                                m_cfg.ledger.stale_hours);
    } catch (db_error const& e) {
        m_unrecorded = e.sqlstate() == "42501" || e.sqlstate() == "25006";
        if (e.sqlstate() == "25006" && !m_reads_only) {
            // Before the job's work, which could only fail at its first write.
            throw config_error{read_only_database(m_tool)};
        }
        if (e.sqlstate() != "42501" && e.sqlstate() != "25006") {
            throw;
        }
        // A read-only role (validate's) or database: the run goes on without
        // its row.
        log::warn("this run is not recorded in xloop.job_runs: {}",
                  e.sqlstate() == "42501"
                      ? fmt::format("the role may not write it ({})", e.what())
                      : std::string{"the database is read-only (a hot standby?)"});
        return;
    }
    auto const& r = *inserted;
    m_ledger_id = r.i64(0, 0);
    prune_ledger();
    if (auto const n = r.i64(0, 1); n > 0) {
        log::warn("{} earlier run(s) of {} never finished; marked interrupted in "
                  "xloop.job_runs",
                  n, m_job);
    }
}

void run_context::prune_ledger()
{
    if (m_cfg.ledger.keep_days <= 0) {
        return;
    }
    // Housekeeping: this job's finished rows older than ledger.keep_days, a
    // few rows a run at steady state (through the (job, started_at) index).
    // A role without DELETE on the ledger (roles.sql before 0011) keeps them.
    try {
        auto const r = m_conn->exec(R"sql(
            DELETE FROM xloop.job_runs
             WHERE job = $1 AND status <> 'running'
               AND started_at < $2::timestamptz - make_interval(secs => $3::float8 * 86400)
            )sql",
                                    m_job, m_now, m_cfg.ledger.keep_days);
        detail()["ledger_rows_pruned"] = r.affected_rows();
    } catch (db_error const& e) {
        if (e.sqlstate() != "42501") {
            throw;
        }
        log::debug("old ledger rows not pruned: the role may not delete them");
    }
}

void run_context::lock_session()
{
    m_session_lock = std::make_unique<advisory_lock>(db(), m_job);
    if (!m_session_lock->try_for_session()) {
        throw lock_held{"skipped: " + m_session_lock->holder()};
    }
}

namespace {

// Random enough that two runs never share a token.
std::string lease_token()
{
    std::random_device rd;
    return fmt::format("{:08x}{:08x}{:08x}{:08x}", rd(), rd(), rd(), rd());
}

std::string host_name()
{
    char buf[256] = {};
    if (::gethostname(buf, sizeof buf - 1) != 0) {
        return "unknown host";
    }
    return buf;
}

} // namespace

void run_context::take_lease()
{
    auto const token = lease_token();
    auto const client =
        fmt::format("xloop-{} on {}, pid {}", m_job, host_name(), ::getpid());
    // One statement: of two runs racing for an expired or free lease, the
    // second waits for the first's row and then finds it live. The server's
    // clock, not --now: leases are about real time.
    auto const r = db().exec(R"sql(
INSERT INTO xloop.job_leases AS l (job, holder, client, acquired_at, expires_at)
VALUES ($1, $2, $3, clock_timestamp(),
        clock_timestamp() + make_interval(secs => $4::float8 * 60))
ON CONFLICT (job) DO UPDATE
   SET holder = excluded.holder, client = excluded.client,
       acquired_at = excluded.acquired_at, expires_at = excluded.expires_at
 WHERE l.expires_at < clock_timestamp()
RETURNING holder)sql",
                             m_job, token, client, m_cfg.ledger.lease_minutes);
    if (r.rows() == 1) {
        m_lease = token;
        return;
    }
    auto const h = db().exec(
        "SELECT client, acquired_at, expires_at FROM xloop.job_leases WHERE job = $1",
        m_job);
    if (h.rows() == 0) {
        throw lock_held{"skipped: another run holds the lease"};
    }
    throw lock_held{fmt::format(
        "skipped: another run holds the lease ({}, since {}); it ends when that run "
        "does, or by itself at {} if that run was killed (ledger.lease_minutes; "
        "DELETE FROM xloop.job_leases WHERE job = '{}' ends it now)",
        h.str(0, 0), h.str(0, 1), h.str(0, 2), m_job)};
}

void run_context::renew_lease()
{
    if (!m_lease) {
        return;
    }
    auto const r = db().exec(R"sql(
            UPDATE xloop.job_leases
               SET expires_at = clock_timestamp() + make_interval(secs => $3::float8 * 60)
             WHERE job = $1 AND holder = $2
            )sql",
                             m_job, *m_lease, m_cfg.ledger.lease_minutes);
    if (r.affected_rows() != 1) {
        m_lease.reset();
        throw temporary_failure{fmt::format(
            "this run's lease on {} expired and another run took it (a batch took longer "
            "than ledger.lease_minutes = {}); this batch is rolled back",
            m_job, m_cfg.ledger.lease_minutes)};
    }
}

void run_context::lock_in_transaction()
{
    advisory_lock lock{db(), m_job};
    if (!lock.try_in_transaction()) {
        throw lock_held{"skipped: " + lock.holder()};
    }
}

void run_context::skip(std::string reason)
{
    m_skip_reason = std::move(reason);
}

void run_context::check_interrupted() const
{
    throw_if_interrupted();
}

void run_context::finish(std::string const& status, std::string const& error_text)
{
    auto const elapsed = std::chrono::duration_cast<std::chrono::microseconds>(
        std::chrono::steady_clock::now() - m_started);
    detail()["duration_ms"] = elapsed.count() / 1000.0;
    if (m_skip_reason) {
        detail()["reason"] = *m_skip_reason;
    }
    if (!m_conn) {
        return;
    }
    if (auto const why = reconnect_if_lost(); !why.empty()) {
        log::warn("the run's end is not recorded: the database is out of reach "
                  "(ledger.reconnect_seconds = {}); the job's next run marks it "
                  "interrupted{}: {}",
                  m_cfg.ledger.reconnect_seconds,
                  m_lease ? fmt::format(" and its lease ends by itself within "
                                        "ledger.lease_minutes ({})",
                                        m_cfg.ledger.lease_minutes)
                          : "",
                  why);
        return;
    }
    record(status, error_text, elapsed);
    if (m_lease) {
        // Given back now, so the next run need not wait for it to expire.
        try {
            m_conn->exec("DELETE FROM xloop.job_leases WHERE job = $1 AND holder = $2",
                         m_job, *m_lease);
            m_lease.reset();
        } catch (std::exception const& e) {
            log::warn("could not give back the lease (it expires by itself): {}",
                      e.what());
        }
    }
    if (m_session_lock) {
        m_session_lock->release();
    }
}

void run_context::record(std::string const& status, std::string const& error_text,
                         std::chrono::microseconds elapsed)
{
    if (m_opts.dry_run) {
        return;
    }
    try {
        if (!m_ledger_id) {
            ensure_ledger(); // e.g. migrate just created xloop.job_runs
        }
        if (!m_ledger_id) {
            return;
        }
        // A database in another encoding than UTF-8 (LATIN1) may have no "…"
        // of a message: the record in ASCII there, rather than none.
        auto const storable = [any = m_conn->holds_any_text()](std::string const& text) {
            return any ? valid_utf8(text) : ascii_only(text);
        };
        m_conn->exec(
            R"sql(
            UPDATE xloop.job_runs
               SET finished_at = $2::timestamptz, status = $3, rows_in = $4, rows_out = $5,
                   detail = coalesce(detail, '{}') || $6::jsonb, error = $7
             WHERE id = $1
            )sql",
            *m_ledger_id, m_now + elapsed, status, rows_in, rows_out,
            storable(json_text(detail())),
            error_text.empty() ? std::nullopt : std::optional{storable(error_text)});
    } catch (std::exception const& e) {
        log::warn("could not record the run in xloop.job_runs: {}", e.what());
    }
}

std::string run_context::reconnect_if_lost()
{
    if (m_opts.dry_run || (!m_ledger_id && !m_lease) ||
        PQstatus(m_conn->raw()) != CONNECTION_BAD) {
        return {};
    }
    // The run's connection died under it (its backend terminated, a restart,
    // a pooler's cut): its end is recorded and its lease given back over a
    // new one, rather than the row left 'running' and the lease held until
    // the job's next runs find them. A restarting server refuses connections
    // for a few seconds: tried again for ledger.reconnect_seconds, not after
    // a signal (the supervisor wants the run gone).
    using std::chrono::milliseconds;
    auto const deadline =
        std::chrono::steady_clock::now() +
        milliseconds{std::lround(m_cfg.ledger.reconnect_seconds * 1000)};
    for (milliseconds wait{250};; wait = std::min(2 * wait, milliseconds{4000})) {
        try {
            m_closing_conn.emplace(m_conn->conninfo(), "xloop-" + m_job);
            m_conn = &*m_closing_conn;
            return {};
        } catch (temporary_failure const& e) {
            if (interrupt_requested() ||
                std::chrono::steady_clock::now() + wait > deadline) {
                return e.what();
            }
            log::info("the run's database connection is gone; trying again in {} ms to "
                      "record the run's end: {}",
                      wait.count(), e.what());
        } catch (std::exception const& e) {
            return e.what();
        }
        try {
            interruptible_sleep(wait);
        } catch (interrupted const& e) {
            return e.what();
        }
    }
}

run_result run_job(std::function<std::unique_ptr<run_context>()> const& make,
                   std::function<void(run_context&)> const& body)
{
    run_result r;
    try {
        r.ctx = make();
        body(*r.ctx);
        r.code = r.ctx->success_code;
        if (r.ctx->skip_reason()) {
            r.status = "skipped";
            log::info("skipped: {}", *r.ctx->skip_reason());
        }
    } catch (std::exception const& e) {
        r.code = exit_code_for(e);
        r.error_text = e.what();
        if (dynamic_cast<std::bad_alloc const*>(&e)) {
            r.error_text = "out of memory (exit 75, retry later): the machine had no "
                           "memory left for the run (std::bad_alloc)";
        }
        if (auto const* d = dynamic_cast<db_error const*>(&e)) {
            if (schema_older_than_tools(*d)) {
                r.code = exit_code::config; // the operator's fix, not a bug
            }
            if (auto const advice = advice_for(*d, r.ctx.get()); !advice.empty()) {
                r.error_text = with_advice(r.error_text, d->sqlstate(), advice);
            }
        }
        bool const was_interrupted =
            dynamic_cast<interrupted const*>(&e) != nullptr ||
            (interrupt_requested() && dynamic_cast<db_error const*>(&e) != nullptr);
        if (dynamic_cast<lock_held const*>(&e)) {
            r.status = "skipped";
            log::warn("{}", r.error_text);
        } else if (was_interrupted) {
            r.status = "interrupted";
            r.code = exit_code::temporary;
            log::error("interrupted: {}", r.error_text);
        } else {
            r.status = "failed";
            log::error("{}", r.error_text);
        }
    }
    if (r.ctx) {
        r.ctx->finish(r.status, r.error_text);
    }
    return r;
}

namespace {

// The --json summary: the job's own, with how the run ended.
void print_summary(run_result const& result, std::string const& job, bool dry_run)
{
    auto const& ctx = result.ctx;
    nlohmann::json out = ctx ? ctx->summary() : nlohmann::json::object();
    out["tool"] = "xloop-" + job;
    out["status"] = result.status;
    out["exit_code"] = static_cast<int>(result.code);
    if (ctx) {
        out["now"] = format_timestamp(ctx->now());
        if (auto const* conn = ctx->connection()) {
            auto const p = conn->place();
            out["database"] = {
                {"name", p.name}, {"host", p.host}, {"port", p.port}, {"user", p.user}};
        }
        out["dry_run"] = dry_run;
        if (ctx->skip_reason()) {
            out["reason"] = *ctx->skip_reason();
        }
    }
    if (!result.error_text.empty()) {
        out["error"] = result.error_text;
    }
    std::cout << json_text(out, 2) << std::endl;
}

// A standard descriptor that is closed (`>&-`) would be the next file's or
// socket's: the report then went into the database connection, which the
// server closed. /dev/null takes its place.
void keep_standard_descriptors()
{
    for (int fd = 0; fd <= 2; ++fd) {
        if (::fcntl(fd, F_GETFD) == -1 && errno == EBADF) {
            int const null = ::open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY);
            if (null >= 0 && null != fd) {
                ::dup2(null, fd);
                ::close(null);
            }
        }
    }
}

// Where --config and --now came from: a value from the environment is named
// as such where it is wrong, since an operator reading "--now" looks for it
// on a command line it is not on.
struct input_sources {
    std::string_view config = "--config";
    std::string_view now = "--now";
};

// XLOOP_CONFIG and XLOOP_NOW where the options are not given.
input_sources take_environment(common_options& o)
{
    input_sources from;
    if (!o.config_file) {
        if (char const* env = std::getenv("XLOOP_CONFIG"); env && *env) {
            o.config_file = env;
            from.config = "XLOOP_CONFIG";
        }
    }
    if (!o.now_text) {
        if (char const* env = std::getenv("XLOOP_NOW"); env && *env) {
            o.now_text = env;
            from.now = "XLOOP_NOW";
        }
    }
    return from;
}

timestamp run_now(common_options const& o, input_sources const& from)
{
    if (!o.now_text) {
        return clock_now();
    }
    auto const t = parse_timestamp(*o.now_text);
    if (!t) {
        throw usage_error{fmt::format("{}: '{}' is not an ISO 8601 time of the years "
                                      "1900 to 2199 (e.g. 2026-03-02T12:00:00Z)",
                                      from.now, *o.now_text)};
    }
    return *t;
}

config run_config(common_options const& o, input_sources const& from)
{
    // a file named by XLOOP_CONFIG is named as the variable's, in the checks
    // made at load and in those made once a tool connects (key_place)
    auto const named = [&](std::string const& what) {
        return from.config == "--config" ? what
                                         : fmt::format("{}: {}", from.config, what);
    };
    try {
        auto cfg = load_config(o.config_file);
        for (auto& [key, place] : cfg.places) {
            place = named(place);
        }
        return cfg;
    } catch (config_error const& e) {
        throw config_error{named(e.what())};
    }
}

} // namespace

int app::run(int argc, char** argv, std::function<void(run_context&)> const& body)
{
    keep_standard_descriptors();
    if (auto const stop = parse(argc, argv)) {
        return *stop;
    }
    bool const db_password = hide_argv_secrets(argc, argv);

    auto const level = m_opts.verbose > 0 ? log::level::debug
                       : m_opts.quiet > 0 ? log::level::warn
                                          : log::level::info;
    log::configure("xloop-" + m_job,
                   m_opts.log_format == "json" ? log::format::json : log::format::text,
                   level);
    install_signal_handlers();
    if (db_password) {
        log::warn("--db holds a password, which every user of this machine could read "
                  "in the process list (ps) until the tool blanked it: give it in "
                  "DATABASE_URL, PGPASSWORD or ~/.pgpass instead");
    }

    auto const from = take_environment(m_opts);

    ping(m_opts.ping_url, "/start");
    auto result = run_job(
        [&] {
            auto const now = run_now(m_opts, from);
            auto const seed = m_opts.seed      ? *m_opts.seed
                              : m_default_seed ? *m_default_seed
                                               : std::uint64_t{std::random_device{}()};
            return std::make_unique<run_context>(m_job, m_opts, run_config(m_opts, from),
                                                 now, seed);
        },
        body);
    auto code = result.code;
    if (m_opts.json) {
        print_summary(result, m_job, m_opts.dry_run);
    }
    // Output that never reached stdout (`--json > report.json` on a full
    // disk) must not pass for a success: a CI script would read an empty
    // report as the run's.
    // (The stream keeps no reason: its first failed write set the failbit.)
    if (!std::cout.flush() && (code == exit_code::ok || code == exit_code::not_ready)) {
        log::error("{}; exit 75",
                   stdout_reader_gone()
                       ? "stdout's reader ended before the output was "
                         "written whole (as `| head` does)"
                       : "cannot write the output to stdout (a full disk?)");
        code = exit_code::temporary;
    }
    ping(m_opts.ping_url,
         code == exit_code::ok ? "" : fmt::format("/{}", static_cast<int>(code)));
    return static_cast<int>(code);
}

} // namespace xloop
