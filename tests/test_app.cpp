#include "test_db_fixture.hpp"

#include "app.hpp"
#include "local_server.hpp"
#include "subprocess.hpp"
#include "tcp_proxy.hpp"

#include <catch2/catch.hpp>
#include <httplib.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <future>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

using namespace xloop;
using namespace xloop::test;

namespace {

// Runs an app in-process with `args` and a body.
int run_app(std::string const& job, std::vector<std::string> args,
            std::function<void(run_context&)> const& body)
{
    app a{job, "test tool"};
    std::vector<char*> argv{const_cast<char*>("xloop-test")};
    for (auto& s : args) {
        argv.push_back(s.data());
    }
    return a.run(static_cast<int>(argv.size()), argv.data(), body);
}

// A heartbeat receiver on 127.0.0.1 that records the paths it was asked for.
struct ping_server {
    httplib::Server server;
    std::thread thread;
    int port = 0;
    std::mutex m;
    std::vector<std::string> paths;

    ping_server()
    {
        server.Get(R"(/hc/.*)",
                   [this](httplib::Request const& req, httplib::Response& res) {
                       std::lock_guard<std::mutex> lock{m};
                       paths.push_back(req.path);
                       res.set_content("OK", "text/plain");
                   });
        port = bind_loopback(server);
        thread = start_listening(server);
    }
    ~ping_server()
    {
        server.stop();
        thread.join();
    }
    std::string url() const { return fmt::format("http://127.0.0.1:{}/hc/abc", port); }
};

} // namespace

TEST_CASE("every run writes one job_runs row with its status and counts", "[db]")
{
    test_db db;
    db.migrate();
    int const code = run_app(
        "build-weights",
        {"--db", db.conninfo(), "--now", "2026-03-02T12:00:00Z", "--seed", "7", "-q"},
        [](run_context& run) {
            run.db();
            run.rows_in = 12;
            run.rows_out = 3;
        });
    CHECK(code == 0);
    auto c = db.connect();
    auto const r =
        c.exec("SELECT status, rows_in, rows_out, started_at = '2026-03-02 "
               "12:00:00+00', finished_at >= started_at, detail->>'seed', error "
               "FROM xloop.job_runs WHERE job = 'build-weights'");
    REQUIRE(r.rows() == 1);
    CHECK(r.str(0, 0) == "ok");
    CHECK(r.i64(0, 1) == 12);
    CHECK(r.i64(0, 2) == 3);
    CHECK(r.boolean(0, 3));
    CHECK(r.boolean(0, 4));
    CHECK(r.str(0, 5) == "7");
    CHECK(r.is_null(0, 6));
}

TEST_CASE("a failed run is recorded with its error and exit code", "[db]")
{
    test_db db;
    db.migrate();
    int const code = run_app("plan", {"--db", db.conninfo(), "-q"}, [](run_context& run) {
        run.db();
        throw data_error{"post 42: text is empty"};
    });
    CHECK(code == 65);
    CHECK(db.count("SELECT count(*) FROM xloop.job_runs WHERE job = 'plan' AND status = "
                   "'failed' AND error = 'post 42: text is empty'") == 1);
}

TEST_CASE("a run out of memory exits 75 saying so, recorded", "[db]")
{
    test_db db;
    db.migrate();
    int const code =
        run_app("build-weights", {"--db", db.conninfo(), "-q"}, [](run_context& run) {
            run.db();
            throw std::bad_alloc{};
        });
    CHECK(code == 75);
    CHECK(
        db.count(
            "SELECT count(*) FROM xloop.job_runs WHERE job = 'build-weights' AND "
            "status = 'failed' AND error LIKE 'out of memory (exit 75, retry later)%'") ==
        1);
}

namespace {

// The job's one ledger row ended 'failed' (not left 'running' for the next
// run to find) and no lease left behind, so a rerun need not wait out
// ledger.lease_minutes; returns the row's error.
std::string ended_failed_without_lease(test_db const& db, std::string const& job)
{
    auto const row = db.connect().exec("SELECT status, finished_at IS NOT NULL, "
                                       "coalesce(error, '') FROM xloop.job_runs WHERE "
                                       "job = $1",
                                       job);
    REQUIRE(row.rows() == 1);
    CHECK(row.str(0, 0) == "failed");
    CHECK(row.boolean(0, 1));
    CHECK(db.count("SELECT count(*) FROM xloop.job_leases") == 0);
    return row.str(0, 2);
}

} // namespace

TEST_CASE("a run whose connection dies is recorded as failed and gives back its lease "
          "over a new connection",
          "[db]")
{
    test_db db;
    db.migrate();
    int const code =
        run_app("build-weights", {"--db", db.conninfo(), "-q"}, [&](run_context& run) {
            run.take_lease();
            REQUIRE(db.count("SELECT count(*) FROM xloop.job_leases") == 1);
            auto const pid = PQbackendPID(run.db().raw());
            // as a restart, a failover or a pooler's cut does
            db.connect().exec("SELECT pg_terminate_backend($1)", pid);
            run.db().exec("SELECT 1");
        });
    CHECK(code == 75);
    // libpq's words for it vary with when the server's FATAL arrives
    CHECK_THAT(ended_failed_without_lease(db, "build-weights"),
               Catch::Contains("connection") && Catch::Contains("statement: SELECT 1"));
}

TEST_CASE("a run whose database restarts under it records its end once the database "
          "is back",
          "[db]")
{
    test_db db;
    db.migrate();
    tcp_proxy proxy;
    int const code = run_app("scrape-metrics", {"--db", proxy.conninfo(db.name()), "-q"},
                             [&](run_context& run) {
                                 run.take_lease();
                                 // the server gone for 1.5 s: connections refused
                                 proxy.restart(std::chrono::milliseconds{1500});
                                 run.db().exec("SELECT 1");
                             });
    CHECK(code == 75);
    ended_failed_without_lease(db, "scrape-metrics"); // after one try: left 'running'
}

namespace {
int socket_option(int fd, int level, int name)
{
    int v = -1;
    socklen_t len = sizeof v;
    ::getsockopt(fd, level, name, &v, &len);
    return v;
}
} // namespace

TEST_CASE("a run's connection notices a server that vanished within two minutes "
          "(TCP keepalives), and so does the server of the run",
          "[db]")
{
    test_db db;
    tcp_proxy proxy; // a TCP connection whatever the PG* variables say
    run_app("plan", {"--db", proxy.conninfo(db.name()), "-q", "--dry-run"},
            [&](run_context& run) {
                int const fd = PQsocket(run.db().raw());
                CHECK(socket_option(fd, SOL_SOCKET, SO_KEEPALIVE) == 1);
                CHECK(socket_option(fd, IPPROTO_TCP, TCP_KEEPIDLE) == 60);
                CHECK(socket_option(fd, IPPROTO_TCP, TCP_KEEPINTVL) == 10);
                CHECK(socket_option(fd, IPPROTO_TCP, TCP_KEEPCNT) == 6);
                if (proxy.upstream_is_tcp()) { // a Unix socket has none to show
                    auto const r =
                        run.db().exec("SELECT current_setting('tcp_keepalives_idle'), "
                                      "current_setting('tcp_keepalives_interval'), "
                                      "current_setting('tcp_keepalives_count')");
                    CHECK(r.str(0, 0) == "60");
                    CHECK(r.str(0, 1) == "10");
                    CHECK(r.str(0, 2) == "6");
                }
            });
    // the connection string's own values win
    run_app(
        "plan",
        {"--db", proxy.conninfo(db.name()) + " keepalives_idle=300", "-q", "--dry-run"},
        [&](run_context& run) {
            CHECK(socket_option(PQsocket(run.db().raw()), IPPROTO_TCP, TCP_KEEPIDLE) ==
                  300);
        });
}

TEST_CASE("a run whose database stays away gives up reconnecting after "
          "ledger.reconnect_seconds",
          "[db]")
{
    test_db db;
    db.migrate();
    temp_dir dir;
    auto const config = dir.write("x.yaml", "ledger:\n  reconnect_seconds: 1\n");
    tcp_proxy proxy;
    std::chrono::steady_clock::time_point cut;
    int const code = run_app(
        "scrape-metrics", {"--db", proxy.conninfo(db.name()), "--config", config, "-q"},
        [&](run_context& run) {
            run.take_lease();
            proxy.restart(std::chrono::minutes{5});
            cut = std::chrono::steady_clock::now();
            run.db().exec("SELECT 1");
        });
    auto const waited = std::chrono::steady_clock::now() - cut;
    CHECK(code == 75);
    // tried at 0, 0.25 and 0.75 s; the next try would be past the second
    CHECK(waited >= std::chrono::milliseconds{700});
    CHECK(waited < std::chrono::seconds{5});
    // what it could not record, the job's next run does (stale or expired)
    CHECK(db.count("SELECT count(*) FROM xloop.job_runs WHERE job = 'scrape-metrics' AND "
                   "status = 'running'") == 1);
}

TEST_CASE("a second run while the first holds the lock is skipped with exit 75", "[db]")
{
    test_db db;
    db.migrate();
    auto holder = db.connect();
    auto const [k1, k2] = job_lock_key("learn-replies");
    holder.exec("SELECT pg_advisory_lock($1::int, $2::int)", k1, k2);
    bool body_went_on = false;
    int const code =
        run_app("learn-replies", {"--db", db.conninfo(), "-q"}, [&](run_context& run) {
            run.lock_session();
            body_went_on = true;
        });
    CHECK(code == 75);
    CHECK_FALSE(body_went_on);
    CHECK(
        db.count(
            "SELECT count(*) FROM xloop.job_runs WHERE job = 'learn-replies' AND "
            "status = 'skipped' AND error LIKE 'skipped: another run holds the lock%'") ==
        1);
    // the message names the holder's session
    auto const holder_pid = holder.exec("SELECT pg_backend_pid()").str(0, 0);
    CHECK(db.count("SELECT count(*) FROM xloop.job_runs WHERE job = 'learn-replies' AND "
                   "error LIKE '%(pid " +
                   holder_pid + ", %connected since %'") == 1);
    // the transaction-scoped lock conflicts with it too
    CHECK(run_app("learn-replies", {"--db", db.conninfo(), "-q"}, [&](run_context& run) {
              transaction tx{run.db()};
              run.lock_in_transaction();
          }) == 75);
    holder.exec("SELECT pg_advisory_unlock($1::int, $2::int)", k1, k2);
    CHECK(run_app("learn-replies", {"--db", db.conninfo(), "-q"},
                  [&](run_context& run) { run.lock_session(); }) == 0);
}

TEST_CASE("a lease admits one run at a time, names its holder, ends when the run does "
          "or when it expires",
          "[db]")
{
    test_db db;
    db.migrate();
    auto const lease_count = [&] {
        return db.count(
            "SELECT count(*) FROM xloop.job_leases WHERE job = 'scrape-metrics'");
    };
    bool second_went_on = false;
    int second_code = -1;
    int const first_code =
        run_app("scrape-metrics", {"--db", db.conninfo(), "-q"}, [&](run_context& run) {
            run.take_lease();
            CHECK(lease_count() == 1);
            second_code = run_app("scrape-metrics", {"--db", db.conninfo(), "-q"},
                                  [&](run_context& other) {
                                      other.take_lease();
                                      second_went_on = true;
                                  });
            transaction tx{run.db()};
            run.renew_lease(); // still ours
            tx.commit();
        });
    CHECK(first_code == 0);
    CHECK(second_code == 75);
    CHECK_FALSE(second_went_on);
    // the skip names the holder: program, host and pid
    CHECK(db.count(
              "SELECT count(*) FROM xloop.job_runs WHERE job = 'scrape-metrics' AND "
              "status = 'skipped' AND error LIKE 'skipped: another run holds the lease "
              "(xloop-scrape-metrics on %, pid " +
              std::to_string(::getpid()) + ", since %'") == 1);
    CHECK(lease_count() == 0); // given back at the end of the run

    // A killed run's lease (never given back) blocks until it expires, then
    // another run takes it; the killed run can no longer commit under it.
    int lost_code = -1;
    CHECK(run_app("scrape-metrics", {"--db", db.conninfo(), "-q"}, [&](run_context& run) {
              run.take_lease();
              auto other = db.connect();
              other.exec(
                  "UPDATE xloop.job_leases SET expires_at = now() - interval '1 s'");
              lost_code = run_app("scrape-metrics", {"--db", db.conninfo(), "-q"},
                                  [&](run_context& next) {
                                      next.take_lease();
                                      other.exec("UPDATE xloop.job_leases SET holder = "
                                                 "'someone else'"); // keep it after
                                  });
              transaction tx{run.db()};
              run.renew_lease();
          }) == 75);
    CHECK(lost_code == 0);
    CHECK(
        db.count("SELECT count(*) FROM xloop.job_runs WHERE job = 'scrape-metrics' AND "
                 "status = 'failed' AND error LIKE '%lease on scrape-metrics expired and "
                 "another run took it%'") == 1);
}

TEST_CASE("a dry run writes no ledger row", "[db]")
{
    test_db db;
    db.migrate();
    CHECK(run_app("plan", {"--db", db.conninfo(), "--dry-run", "-q"},
                  [](run_context& run) { run.db(); }) == 0);
    CHECK(db.count("SELECT count(*) FROM xloop.job_runs WHERE job = 'plan'") == 0);
}

TEST_CASE("a skipped run is a success that says why", "[db]")
{
    test_db db;
    db.migrate();
    CHECK(run_app("build-weights", {"--db", db.conninfo(), "-q"}, [](run_context& run) {
              run.db();
              run.skip("3 usable rows, fewer than weights.min_posts (10)");
          }) == 0);
    CHECK(db.count("SELECT count(*) FROM xloop.job_runs WHERE status = 'skipped' AND "
                   "detail->>'reason' LIKE '3 usable rows%'") == 1);
}

TEST_CASE("the heartbeat pings start, then success or the exit code", "[db]")
{
    ping_server hc;
    CHECK(run_app("plan", {"--ping-url", hc.url(), "-q"}, [](run_context&) {}) == 0);
    CHECK(run_app("plan", {"--ping-url", hc.url(), "-q"},
                  [](run_context&) { throw temporary_failure{"rate limited"}; }) == 75);
    std::lock_guard<std::mutex> lock{hc.m};
    CHECK(hc.paths == std::vector<std::string>{"/hc/abc/start", "/hc/abc",
                                               "/hc/abc/start", "/hc/abc/75"});
}

TEST_CASE("a heartbeat that cannot be delivered never fails the job", "[db]")
{
    CHECK(run_app("plan", {"--ping-url", "http://127.0.0.1:1/hc", "-q"},
                  [](run_context&) {}) == 0);
}

TEST_CASE("a heartbeat URL of the wrong scheme says which to write, and the job still "
          "runs",
          "[db]")
{
    ping_server hc; // plain HTTP
    test_db db;
    db.migrate();
    auto const url = fmt::format("https://127.0.0.1:{}/hc/abc", hc.port);
    auto const r = run_tool("build-weights", {"--ping-url", url}, &db);
    INFO(r.err);
    CHECK(r.exit_code == 0);
    CHECK_THAT(r.err, Catch::Contains(fmt::format("heartbeat ping (start) to "
                                                  "https://127.0.0.1:{} failed: ",
                                                  hc.port)) &&
                          Catch::Contains("(the server there speaks plain HTTP: begin "
                                          "the URL with http://)") &&
                          !Catch::Contains("/hc/abc"));
    CHECK(db.count("SELECT count(*) FROM xloop.job_runs WHERE job = 'build-weights' "
                   "AND status IN ('ok', 'skipped')") == 1);
}

TEST_CASE("an error with invalid UTF-8 is still recorded, made valid", "[db]")
{
    test_db db;
    db.migrate();
    int const code = run_app("plan", {"--db", db.conninfo(), "-q"}, [](run_context& run) {
        run.db();
        throw data_error{"line 3: not valid JSON (last read: '\xff\xfe')"};
    });
    CHECK(code == 65);
    CHECK(db.count("SELECT count(*) FROM xloop.job_runs WHERE job = 'plan' AND status = "
                   "'failed' AND error = 'line 3: not valid JSON (last read: "
                   "''\xef\xbf\xbd\xef\xbf\xbd'')'") == 1);
}

TEST_CASE("a run left running by a dead client is marked interrupted by the next run",
          "[db]")
{
    test_db db;
    db.migrate();
    auto c = db.connect();
    // one whose connection is gone (no such backend), one from before xloop
    // recorded connections but older than ledger.stale_hours, one whose
    // connection is alive (this test's), one of another job
    c.exec("DELETE FROM xloop.job_runs"); // migrate's
    c.exec(
        "INSERT INTO xloop.job_runs (job, started_at, status, detail) VALUES "
        "('plan', '2026-03-02T11:00:00Z', 'running', "
        " '{\"backend_pid\": 999999, \"backend_start\": \"2026-03-02T10:59:59Z\"}'), "
        "('plan', '2026-02-27T11:00:00Z', 'running', '{}'), "
        "('plan', '2026-03-02T11:30:00Z', 'running', jsonb_build_object('backend_pid', "
        " pg_backend_pid(), 'backend_start', (SELECT backend_start FROM pg_stat_activity "
        " WHERE pid = pg_backend_pid()))), "
        "('build-weights', '2026-03-02T11:00:00Z', 'running', "
        " '{\"backend_pid\": 999999, \"backend_start\": \"2026-03-02T10:59:59Z\"}')");
    int const code =
        run_app("plan", {"--db", db.conninfo(), "-q", "--now", "2026-03-02T12:00:00Z"},
                [](run_context& run) { run.db(); });
    CHECK(code == 0);
    auto const r = c.exec("SELECT job, started_at = '2026-03-02T11:30:00Z', status, "
                          "coalesce(error, '') FROM xloop.job_runs ORDER BY id");
    REQUIRE(r.rows() == 5);
    CHECK(r.str(0, 2) == "interrupted");
    CHECK(r.str(0, 3).rfind("abandoned:", 0) == 0);
    CHECK(r.str(1, 2) == "interrupted"); // older than 24 h
    CHECK(r.str(2, 2) == "running");     // alive
    CHECK(r.str(3, 2) == "running");     // another job's: its own next run decides
    CHECK(r.str(4, 2) == "ok");          // this run
}

TEST_CASE("each run deletes its job's finished ledger rows older than ledger.keep_days",
          "[db]")
{
    test_db db;
    db.migrate();
    auto c = db.connect();
    c.exec("DELETE FROM xloop.job_runs"); // migrate's
    // now 2026-06-01T12:00Z; keep_days 90 → rows started before 2026-03-03T12:00Z go
    c.exec("INSERT INTO xloop.job_runs (job, started_at, status) VALUES "
           "('plan', '2026-03-01T12:00:00Z', 'ok'), "          // 92 days: deleted
           "('plan', '2026-03-03T11:00:00Z', 'failed'), "      // 90 days 1 h: deleted
           "('plan', '2026-03-03T13:00:00Z', 'ok'), "          // 89 days 23 h: kept
           "('plan', '2026-01-01T12:00:00Z', 'interrupted'), " // deleted
           "('build-weights', '2026-01-01T12:00:00Z', 'ok')"); // another job's: kept
    auto const plan =
        [&](std::map<std::string, std::optional<std::string>> const& env = {}) {
            for (auto const& [k, v] : env) {
                ::setenv(k.c_str(), v->c_str(), 1);
            }
            int const code = run_app(
                "plan", {"--db", db.conninfo(), "-q", "--now", "2026-06-01T12:00:00Z"},
                [](run_context& run) { run.db(); });
            for (auto const& [k, v] : env) {
                ::unsetenv(k.c_str());
            }
            return code;
        };
    CHECK(plan() == 0);
    CHECK(db.count("SELECT count(*) FROM xloop.job_runs WHERE job = 'plan'") == 2);
    CHECK(
        db.count("SELECT count(*) FROM xloop.job_runs WHERE job = 'plan' AND started_at "
                 "= '2026-03-03T13:00:00Z'") == 1);
    CHECK(db.count("SELECT count(*) FROM xloop.job_runs WHERE job = 'build-weights'") ==
          1);
    CHECK(
        db.count(
            "SELECT (detail->>'ledger_rows_pruned')::int FROM xloop.job_runs WHERE job = "
            "'plan' AND status = 'ok' AND started_at = '2026-06-01T12:00:00Z'") == 3);

    // keep_days 0 keeps every row
    temp_dir dir;
    dir.write("keep.yaml", "ledger:\n  keep_days: 0\n");
    c.exec("INSERT INTO xloop.job_runs (job, started_at, status) VALUES "
           "('plan', '2020-01-01T12:00:00Z', 'ok')");
    CHECK(plan({{"XLOOP_CONFIG", dir.path() + "/keep.yaml"}}) == 0);
    CHECK(
        db.count("SELECT count(*) FROM xloop.job_runs WHERE job = 'plan' AND started_at "
                 "< '2021-01-01'") == 1);
}

namespace {

// A TCP port on 127.0.0.1 that accepts connections and never answers: a
// database server that hangs.
struct silent_server {
    int fd = -1;
    int port = 0;
    silent_server()
    {
        fd = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
        REQUIRE(::listen(fd, 16) == 0);
        socklen_t len = sizeof a;
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
        port = ntohs(a.sin_port);
    }
    ~silent_server() { ::close(fd); }
    std::string conninfo(std::string const& timeout) const
    {
        return fmt::format("host=127.0.0.1 port={} dbname=x user=x connect_timeout={}",
                           port, timeout);
    }
};

long long elapsed_ms(std::chrono::steady_clock::time_point start)
{
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::steady_clock::now() - start)
        .count();
}

} // namespace

TEST_CASE("SIGTERM while connecting to a silent server exits 75 within a second", "[db]")
{
    silent_server server;
    // connect_timeout=0: libpq alone would wait for ever; the signal comes
    // once the tool has connected (a fixed delay raced a tool slow to start)
    auto const [r, ms, after_signal_ms] =
        run_tool_signalled("build-weights", {"--db", server.conninfo("0")},
                           [&] {
                               pollfd p{server.fd, POLLIN, 0};
                               return ::poll(&p, 1, 0) == 1;
                           },
                           nullptr, {{"PGCONNECT_TIMEOUT", std::nullopt}});
    INFO(r.err);
    CHECK(r.exit_code == 75);
    CHECK(r.err.find("interrupted") != std::string::npos);
    CHECK(after_signal_ms < 1000);
}

TEST_CASE("a silent server is given up after connect_timeout with exit 75", "[db]")
{
    silent_server server;
    auto const start = std::chrono::steady_clock::now();
    auto const r = run_tool("build-weights", {"--db", server.conninfo("2")}, nullptr);
    INFO(r.err);
    CHECK(r.exit_code == 75);
    CHECK(r.err.find("no answer within connect_timeout (2 s") != std::string::npos);
    CHECK(elapsed_ms(start) >= 2000);
    CHECK(elapsed_ms(start) < 4000);
}

namespace {

// The arguments of the running process whose arguments hold `marker`, as
// every user of the machine reads them (ps); empty when there is none.
std::string cmdline_holding(std::string const& marker)
{
    for (auto const& entry : std::filesystem::directory_iterator{"/proc"}) {
        std::ifstream in{entry.path() / "cmdline", std::ios::binary};
        std::string args{std::istreambuf_iterator<char>{in}, {}};
        if (args.find(marker) != std::string::npos &&
            args.find("xloop_db_tests") == std::string::npos) {
            std::replace(args.begin(), args.end(), '\0', ' ');
            return args;
        }
    }
    return {};
}

} // namespace

TEST_CASE("a password in --db and the key in --ping-url are blanked in the process "
          "list before the run connects, with a warning to move the password",
          "[db]")
{
    silent_server server;
    auto const marker = fmt::format("xloop_argv_{}", ::getpid());
    auto const uri = fmt::format(
        "postgresql://bot:S3cret-pw@127.0.0.1:{}/{}?connect_timeout=2&sslpassword=K3y",
        server.port, marker);
    auto run = std::async(std::launch::async, [&] {
        return run_tool("build-weights",
                        {"--db", uri, "--ping-url", "http://127.0.0.1:1/ping-uuid-42"});
    });
    // the tool connects after it has parsed and blanked its arguments
    pollfd p{server.fd, POLLIN, 0};
    REQUIRE(::poll(&p, 1, 10000) == 1);
    auto const seen = cmdline_holding(marker);
    auto const r = run.get();
    INFO(seen << "\n" << r.err);
    CHECK_THAT(seen,
               Catch::Contains(fmt::format(
                   "--db postgresql://bot:*********@127.0.0.1:{}/{}?connect_timeout=2"
                   "&sslpassword=*** --ping-url http://127.0.0.1:1/************",
                   server.port, marker)));
    CHECK(r.exit_code == 75);
    CHECK_THAT(r.err, Catch::Contains("--db holds a password, which every user of this "
                                      "machine could read in the process list (ps)"));
    for (auto const* secret : {"S3cret-pw", "K3y", "ping-uuid-42"}) {
        CHECK(r.err.find(secret) == std::string::npos);
    }
    // without a password, nothing to say
    auto const plain = run_tool("build-weights", {"--db", server.conninfo("1")});
    CHECK(plain.err.find("holds a password") == std::string::npos);
}

namespace {

// A PostgreSQL server on 127.0.0.1 that answers every startup packet with an
// ErrorResponse (severity, SQLSTATE, message in the server's language), or
// asks for a password (`code` empty): the refusals a tool must classify by
// code, whatever the language.
struct refusing_server {
    silent_server socket;
    std::thread thread;
    refusing_server(std::string code, std::string message)
    {
        thread = std::thread{[this, code = std::move(code),
                              message = std::move(message)] {
            for (;;) {
                int const c = ::accept(socket.fd, nullptr, nullptr);
                if (c < 0) {
                    return;
                }
                char header[4];
                if (::recv(c, header, 4, MSG_WAITALL) == 4) {
                    std::uint32_t len = 0;
                    std::memcpy(&len, header, 4);
                    std::string body(ntohl(len) - 4, '\0');
                    ::recv(c, body.data(), body.size(), MSG_WAITALL);
                    std::string reply;
                    auto const int32 = [&reply](std::uint32_t v) {
                        v = htonl(v);
                        reply.append(reinterpret_cast<char const*>(&v), 4);
                    };
                    if (code.empty()) {
                        reply += 'R'; // AuthenticationCleartextPassword
                        int32(8);
                        int32(3);
                    } else {
                        std::string fields;
                        for (auto const& [k, v] : {std::pair{'S', std::string{"FATAL"}},
                                                   {'V', std::string{"FATAL"}},
                                                   {'C', code},
                                                   {'M', message}}) {
                            fields += k;
                            fields += v;
                            fields += '\0';
                        }
                        fields += '\0';
                        reply += 'E';
                        int32(static_cast<std::uint32_t>(fields.size() + 4));
                        reply += fields;
                    }
                    ::send(c, reply.data(), reply.size(), MSG_NOSIGNAL);
                }
                ::close(c);
            }
        }};
    }
    ~refusing_server()
    {
        ::shutdown(socket.fd, SHUT_RDWR);
        thread.join();
    }
    // `host` a name: the connection is made on a thread of its own
    std::string conninfo(char const* host = "127.0.0.1") const
    {
        return fmt::format("host={} port={} dbname=x user=x sslmode=disable "
                           "gssencmode=disable connect_timeout=5",
                           host, socket.port);
    }
};

} // namespace

TEST_CASE("a refused connection exits 78 or 75 by its SQLSTATE, in any language", "[db]")
{
    struct refusal {
        char const* code;
        char const* message;
        int exit_code;
    };
    for (auto const& [code, message, expected] : {
             refusal{"28P01",
                     "Passwort-Authentifizierung für Benutzer »x« fehlgeschlagen", 78},
             refusal{"3D000", "Datenbank »x« existiert nicht", 78},
             refusal{"28000", "Rolle »x« existiert nicht", 78},
             refusal{"53300", "tut mir leid, schon zu viele Verbindungen", 75},
             refusal{"57P03", "das Datenbanksystem startet", 75},
             refusal{"", "", 78}, // a password asked for and none given
         }) {
        refusing_server server{code, message};
        for (char const* host : {"127.0.0.1", "localhost"}) {
            auto const r =
                run_tool("build-weights", {"--db", server.conninfo(host)}, nullptr, {},
                         {{"PGPASSWORD", std::nullopt}, {"PGPASSFILE", "/dev/null"}});
            INFO(host << ", " << code << ": " << r.err);
            CHECK(r.exit_code == expected);
            CHECK(r.err.find(message) != std::string::npos);
            CHECK(r.err.find("LOCATION") == std::string::npos);
        }
    }
    // a named host whose server is down may come back: as 127.0.0.1 would
    auto const down =
        run_tool("build-weights", {"--db", "host=localhost port=1 dbname=x"}, nullptr);
    INFO(down.err);
    CHECK(down.exit_code == 75);
    CHECK(down.err.find("Connection refused") != std::string::npos);
    // libpq's lines (a hint, a failure per address of the name) read as one
    // line of the log, as in the ledger and --json
    CHECK(std::count(down.err.begin(), down.err.end(), '\n') == 1);
}

namespace {

// A server on 127.0.0.1 that answers each SSLRequest with `answer` ('S': TLS
// offered, 'N': none) and hangs up, keeping what each connection sent.
struct ssl_answering_server {
    silent_server socket;
    std::mutex mutex;
    std::condition_variable changed;
    std::vector<std::string> received;
    std::thread thread;
    explicit ssl_answering_server(char answer)
    {
        thread = std::thread{[this, answer] {
            for (;;) {
                int const c = ::accept(socket.fd, nullptr, nullptr);
                if (c < 0) {
                    return;
                }
                std::string got(8, '\0');
                got.resize(static_cast<std::size_t>(
                    std::max<ssize_t>(0, ::recv(c, got.data(), 8, MSG_WAITALL))));
                ::send(c, &answer, 1, MSG_NOSIGNAL);
                // anything more (a startup packet, a TLS hello) until the client hangs up
                timeval const wait{0, 300000};
                ::setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &wait, sizeof wait);
                char more[512];
                for (ssize_t n; (n = ::recv(c, more, sizeof more, 0)) > 0;) {
                    got.append(more, static_cast<std::size_t>(n));
                }
                ::close(c);
                std::lock_guard const lock{mutex};
                received.push_back(got);
                changed.notify_all();
            }
        }};
    }
    // What `n` connections sent: the tool may exit before this thread has
    // seen the last one hang up (on a busy machine, by a second).
    std::vector<std::string> wait_for(std::size_t n)
    {
        std::unique_lock lock{mutex};
        changed.wait_for(lock, std::chrono::seconds{10},
                         [&] { return received.size() >= n; });
        return received;
    }
    ~ssl_answering_server()
    {
        ::shutdown(socket.fd, SHUT_RDWR);
        thread.join();
    }
};

} // namespace

TEST_CASE("a server that is up but refuses the connection's TLS settings exits 78, "
          "one that is down 75",
          "[db]")
{
    temp_dir dir;
    auto const missing_root = (std::filesystem::path{dir.path()} / "root.crt").string();
    std::string const ssl_request{"\0\0\0\x08\x04\xd2\x16\x2f", 8};
    struct tls_case {
        char answer;
        std::string options;
    };
    for (auto const& [answer, options] :
         {tls_case{'N', "sslmode=require"},
          tls_case{'S', "sslmode=verify-full sslrootcert=" + missing_root}}) {
        ssl_answering_server server{answer};
        auto const r =
            run_tool("build-weights",
                     {"--db", fmt::format("host=127.0.0.1 port={} dbname=x user=x "
                                          "gssencmode=disable connect_timeout=5 {}",
                                          server.socket.port, options)});
        INFO(options << ": " << r.err);
        CHECK(r.exit_code == 78);
        CHECK_THAT(r.err, Catch::Contains("over TLS, though the server is up") &&
                              Catch::Contains(answer == 'N' ? "does not support SSL"
                                                            : "root.crt"));
        // libpq's attempt and the probe: an SSLRequest each, no user name
        // after it
        auto const received = server.wait_for(2);
        CHECK(received.size() == 2);
        for (auto const& got : received) {
            CHECK(got == ssl_request);
        }
    }
    // Nothing listening at the port: no answer, a retry may find it up.
    int port = 0;
    {
        silent_server closed;
        port = closed.port;
    }
    auto const down = run_tool(
        "build-weights",
        {"--db", fmt::format("host=127.0.0.1 port={} dbname=x user=x sslmode=verify-full "
                             "sslrootcert={} connect_timeout=5",
                             port, missing_root)});
    INFO(down.err);
    CHECK(down.exit_code == 75);
    CHECK_THAT(down.err, Catch::Contains("database unreachable (exit 75, retry later)"));
}

TEST_CASE("a local server that is down exits 75, an option libpq rejects exits 78",
          "[db]")
{
    temp_dir dir; // a socket directory without a server
    auto const down = run_tool(
        "build-weights", {"--db", fmt::format("host={} port=5999 dbname=x", dir.path())});
    INFO(down.err);
    CHECK(down.exit_code == 75);
    CHECK_THAT(down.err, Catch::Contains("database unreachable (exit 75, retry later)") &&
                             Catch::Contains(".s.PGSQL.5999"));
    auto const bad = run_tool(
        "build-weights",
        {"--db", fmt::format("host={} port=5999 dbname=x sslmode=bogus", dir.path())});
    INFO(bad.err);
    CHECK(bad.exit_code == 78);
    CHECK_THAT(bad.err, Catch::Contains("sslmode"));
}

TEST_CASE("a host name the resolver cannot look up for now exits 75, one that does "
          "not exist exits 78",
          "[db]")
{
    auto const env = resolver_down_env();
    auto const connect_to = [&](std::string const& hosts) {
        return run_tool("build-weights", {"--db", "host=" + hosts + " dbname=x"}, nullptr,
                        {}, env);
    };
    auto const down = connect_to("db.resolver-down.invalid");
    INFO(down.err);
    CHECK(down.exit_code == 75);
    CHECK_THAT(down.err, Catch::Contains("database unreachable (exit 75, retry later)") &&
                             Catch::Contains("db.resolver-down.invalid"));
    // one of two hosts failing for now is enough to try again later
    auto const either =
        connect_to("db.resolver-missing.invalid,db.resolver-down.invalid");
    INFO(either.err);
    CHECK(either.exit_code == 75);
    auto const missing = connect_to("db.resolver-missing.invalid");
    INFO(missing.err);
    CHECK(missing.exit_code == 78);
    CHECK_THAT(missing.err, Catch::Contains("cannot connect to the database") &&
                                Catch::Contains("db.resolver-missing.invalid"));
}

TEST_CASE("a resolver that does not answer for the database's host holds a run no "
          "longer than connect_timeout, nor past a signal",
          "[db]")
{
    auto const env = resolver_down_env();
    auto const start = std::chrono::steady_clock::now();
    auto const r = run_tool("build-weights",
                            {"--db", "host=db.resolver-silent.invalid dbname=x "
                                     "connect_timeout=2"},
                            nullptr, {}, env);
    auto const took = std::chrono::steady_clock::now() - start;
    INFO(r.err);
    CHECK(r.exit_code == 75);
    CHECK_THAT(r.err, Catch::Contains("its host name was not looked up within "
                                      "connect_timeout (2 s): the resolver does not "
                                      "answer"));
    CHECK(took < std::chrono::seconds{10}); // not the resolver's 30 s

    temp_dir dir;
    auto const mark = dir.path() + "/waits";
    auto signalled_env = env;
    signalled_env["XLOOP_RESOLVER_STUCK_MARK"] = mark;
    auto const [stopped, ms, after_signal_ms] = run_tool_signalled(
        "build-weights", {"--db", "host=db.resolver-silent.invalid dbname=x"},
        [&] { return std::filesystem::exists(mark); }, nullptr, signalled_env);
    INFO(stopped.err);
    CHECK(stopped.exit_code == 75);
    CHECK(after_signal_ms < 1000);
}

TEST_CASE("a second host whose name the resolver does not answer for holds a run no "
          "longer than connect_timeout, nor past a signal",
          "[db]")
{
    // The first host refuses; libpq looks the next one up inside the poll
    // that moves on to it, where it held the run for the resolver's 30 s.
    auto const env = resolver_down_env();
    auto const hosts = std::string{"host=127.0.0.1,db.resolver-silent.invalid "
                                   "port=1,5432 dbname=x"};
    auto const start = std::chrono::steady_clock::now();
    auto const r = run_tool("build-weights", {"--db", hosts + " connect_timeout=2"},
                            nullptr, {}, env);
    auto const took = std::chrono::steady_clock::now() - start;
    INFO(r.err);
    CHECK(r.exit_code == 75);
    CHECK_THAT(r.err, Catch::Contains("no answer within connect_timeout (2 s;") &&
                          Catch::Contains("a host name the resolver did not look up"));
    CHECK(took < std::chrono::seconds{10});

    temp_dir dir;
    auto const mark = dir.path() + "/waits";
    auto signalled_env = env;
    signalled_env["XLOOP_RESOLVER_STUCK_MARK"] = mark;
    auto const [stopped, ms, after_signal_ms] = run_tool_signalled(
        "build-weights", {"--db", hosts}, [&] { return std::filesystem::exists(mark); },
        nullptr, signalled_env);
    INFO(stopped.err);
    CHECK(stopped.exit_code == 75);
    CHECK(after_signal_ms < 1000);
}

TEST_CASE("PgBouncer's refusals for good are told from those that pass by its own "
          "words: an unknown database or user and refused credentials, not a pause",
          "[nodb]")
{
    auto const pgb = [](char const* words) {
        return fmt::format("connection to server at \"127.0.0.1\", port 6432 failed: "
                           "FATAL:  08P01: {}",
                           words);
    };
    CHECK(pooler_refused_for_good(pgb("no such database: xloop")));
    CHECK(pooler_refused_for_good(pgb("No such user: cron"))); // before 1.17
    CHECK(pooler_refused_for_good(pgb("password authentication failed")));
    CHECK(pooler_refused_for_good(pgb("\"trust\" authentication failed")));
    CHECK(pooler_refused_for_good(pgb("SASL authentication failed")));
    CHECK_FALSE(pooler_refused_for_good(pgb("pgbouncer cannot connect to server")));
    CHECK_FALSE(
        pooler_refused_for_good(pgb("no more connections allowed (max_client_conn)")));
    CHECK_FALSE(pooler_refused_for_good(pgb("query_wait_timeout")));
    CHECK_FALSE(pooler_refused_for_good(
        pgb("server login has been failing, try again later (server_login_retry)")));
    // the server's own refusal has its own SQLSTATE, in any language
    CHECK_FALSE(pooler_refused_for_good("failed: FATAL:  28P01: password authentication "
                                        "failed for user \"cron\""));
}

TEST_CASE("a failed connection where nothing named a database says libpq's default "
          "was tried, and why that may be",
          "[nodb]")
{
    std::map<std::string, std::string> env;
    auto const lookup = [&](char const* name) -> char const* {
        auto const it = env.find(name);
        return it == env.end() ? nullptr : it->second.c_str();
    };
    CHECK_THAT(unnamed_database_hint("", lookup),
               Catch::StartsWith("; no database was named (no --db, DATABASE_URL or "
                                 "PGHOST), so libpq's default, this machine's socket, "
                                 "was tried"));
    // a connection string (--db or DATABASE_URL) or any of libpq's variables
    // that say where names one
    CHECK(unnamed_database_hint("dbname=x", lookup).empty());
    for (char const* name :
         {"PGHOST", "PGHOSTADDR", "PGPORT", "PGDATABASE", "PGSERVICE"}) {
        env = {{name, "x"}};
        CHECK(unnamed_database_hint("", lookup).empty());
    }
    // set but empty is unset, as libpq reads it; PGUSER names no database
    env = {{"PGHOST", ""}, {"PGUSER", "xloop"}};
    CHECK_FALSE(unnamed_database_hint("", lookup).empty());
}

TEST_CASE("a SQLSTATE is found in a verbose connection failure, the last one wins, "
          "refusals that may pass are the transient states",
          "[nodb]")
{
    CHECK(sqlstate_in_message("connection to server at \"h\" (127.0.0.1), port 5432 "
                              "failed: FATAL:  28P01: password authentication failed") ==
          "28P01");
    CHECK(sqlstate_in_message("failed: FATAL:  53300: zu viele\nfailed: ВАЖНО:  3D000: "
                              "база") == "3D000");
    CHECK_FALSE(sqlstate_in_message("connection to server at \"h\", port 1 failed: "
                                    "Connection refused\n\tIs the server running"));
    CHECK_FALSE(sqlstate_in_message("FATAL:  password authentication failed"));
    CHECK_FALSE(is_transient_sqlstate("28P01"));
    CHECK_FALSE(is_transient_sqlstate("3D000"));
    CHECK_FALSE(is_transient_sqlstate("42704")); // options=-c with an unknown setting
    CHECK(is_transient_sqlstate("53300"));
    CHECK(is_transient_sqlstate("57P03"));
    CHECK(is_transient_sqlstate("08006"));
    CHECK(is_transient_sqlstate("53100")); // disk full: a migration is not bad data
    CHECK(is_transient_sqlstate("53400")); // a sort past temp_file_limit
    CHECK(exit_code_for(db_error{"temporary file size exceeds temp_file_limit",
                                 "53400"}) == exit_code::temporary);
    CHECK(is_transient_sqlstate("57014")); // statement_timeout
}

TEST_CASE("every session has a statement, idle-in-transaction and lock timeout, migrate "
          "none but the second",
          "[db]")
{
    test_db db;
    db.migrate();
    // a database whose own default would let a tool wait for a lock for ever
    db.connect().exec(
        fmt::format("ALTER DATABASE {} SET lock_timeout = 0", quote_ident(db.name())));
    std::string statement, idle, lock;
    auto const settings = [&](run_context& run) {
        auto const r =
            run.db().exec("SELECT current_setting('statement_timeout'), "
                          "current_setting('idle_in_transaction_session_timeout'), "
                          "current_setting('lock_timeout')");
        statement = r.str(0, 0);
        idle = r.str(0, 1);
        lock = r.str(0, 2);
    };
    run_app("plan", {"--db", db.conninfo(), "-q"}, settings);
    CHECK(statement == "1h");
    CHECK(idle == "5min");
    CHECK(lock == "5min");
    run_app("migrate", {"--db", db.conninfo(), "-q"}, settings);
    CHECK(statement == "0");
    CHECK(idle == "5min");
    CHECK(lock == "0"); // migrate bounds its waits by --lock-timeout
}

TEST_CASE("a run that writes only its ledger row commits it without waiting for the "
          "disk, a writing run waits for every commit",
          "[db]")
{
    test_db db;
    db.migrate();
    std::string sync;
    run_app("validate", {"--db", db.conninfo(), "-q"}, [&](run_context& run) {
        run.reads_only();
        sync = run.db().exec("SELECT current_setting('synchronous_commit')").str(0, 0);
    });
    CHECK(sync == "off");
    run_app("plan", {"--db", db.conninfo(), "-q"}, [&](run_context& run) {
        sync = run.db().exec("SELECT current_setting('synchronous_commit')").str(0, 0);
    });
    CHECK(sync == "on");
    // and the ledger has both runs
    CHECK(db.count("SELECT count(*) FROM xloop.job_runs WHERE status = 'ok' AND job IN "
                   "('validate', 'plan')") == 2);
}

TEST_CASE("a statement cut off by statement_timeout exits 75 naming the setting and the "
          "lock it may wait for, and is recorded",
          "[db]")
{
    test_db db;
    db.migrate();
    temp_dir dir;
    auto const config =
        dir.write("x.yaml", "database:\n  statement_timeout_minutes: 0.02\n"); // 1 s
    auto holder = db.connect();
    holder.exec("BEGIN");
    holder.exec("LOCK TABLE public.learning_model_weights IN ACCESS EXCLUSIVE MODE");
    auto const r =
        run_tool("plan", {"--config", config, "--now", "2026-03-02T12:00:00Z"}, &db);
    holder.exec("ROLLBACK");
    INFO(r.err);
    CHECK(r.exit_code == 75);
    CHECK(r.err.find("the server cancelled it: it ran longer than "
                     "database.statement_timeout_minutes (0.02; waiting for a lock "
                     "another session holds? see pg_locks)") != std::string::npos);
    CHECK(db.count("SELECT count(*) FROM xloop.job_runs WHERE job = 'plan' AND status = "
                   "'failed' AND error LIKE '%statement_timeout_minutes%'") == 1);
    CHECK(db.count("SELECT count(*) FROM public.content_generation_metadata_"
                   "comprehensive") == 0);
}

namespace {

// A migrated database holding one posted post, tweet 1001, and a metrics
// file of its counts (3000 impressions; `first` lines before them) for
// scrape-metrics to read.
struct one_post {
    test_db db;
    db_connection c{(db.migrate(), db.connect())};
    temp_dir dir;
    std::string input;

    explicit one_post(std::string const& first = {})
    {
        c.exec("INSERT INTO public.content_generation_metadata_comprehensive (status, "
               "tweet_id, posted_at, decision_type, content) VALUES ('posted', '1001', "
               "'2026-03-01T10:00:00Z', 'single', 'Why do dashboards lie?')");
        input = dir.write("m.jsonl",
                          first + "{\"tweet_id\": \"1001\", \"observed_at\": "
                                  "\"2026-03-02T12:00:00Z\", \"impressions\": 3000, "
                                  "\"likes\": 30}\n");
    }
    process_result scrape(std::vector<std::string> args = {}) const
    {
        args.insert(args.end(), {"--source", "file", "--input", input, "--now",
                                 "2026-03-02T12:00:00Z"});
        return run_tool("scrape-metrics", args, &db);
    }
};

} // namespace

TEST_CASE("a tool waiting for a row a leaked session holds exits 75 after "
          "database.lock_timeout_minutes naming that session, and writes nothing",
          "[db]")
{
    one_post p{"{\"followers\": 1000, \"observed_at\": \"2026-03-02T11:00:00Z\"}\n"};
    auto const& db = p.db;
    auto const config =
        p.dir.write("x.yaml", "database:\n  lock_timeout_minutes: 0.02\n"); // 1.2 s
    // the bot's session: it updated the post's row and never ended its transaction
    auto [leaked, pid] = leak_transaction(
        db,
        "UPDATE public.content_generation_metadata_comprehensive SET status = status "
        "WHERE tweet_id = '1001'",
        "node");
    auto const waited = p.scrape({"--config", config});
    INFO(waited.err);
    CHECK(waited.exit_code == 75);
    CHECK_THAT(
        waited.err,
        Catch::Contains("it waited database.lock_timeout_minutes (0.02) for a lock "
                        "another session holds; its transaction was rolled back: pid " +
                        pid + " (node, idle in transaction since ") &&
            Catch::Contains("on content_generation_metadata_comprehensive)") &&
            Catch::Contains("pg_terminate_backend(pid) ends it"));
    CHECK(db.count("SELECT count(*) FROM public.outcomes") == 0);
    CHECK(db.count("SELECT count(*) FROM public.follower_snapshots") == 0);
    // validate's job check shows the named session
    CHECK(db.count("SELECT count(*) FROM xloop.job_runs WHERE job = 'scrape-metrics' AND "
                   "status = 'failed' AND error LIKE '%pid " +
                   pid + " (node%'") == 1);

    leaked.exec("ROLLBACK");
    auto const after = p.scrape({"--config", config});
    INFO(after.err);
    CHECK(after.exit_code == 0);
    CHECK(db.count("SELECT count(*) FROM public.outcomes WHERE impressions = 3000") == 1);
}

TEST_CASE("a tool that waited for a row another session changed and committed goes on, "
          "whatever isolation level the database defaults to",
          "[db]")
{
    one_post p;
    auto const& db = p.db;
    // a database an operator set to serializable: every transaction of the
    // tools is read committed all the same, as their statements assume
    p.c.exec(fmt::format(
        "ALTER DATABASE {} SET default_transaction_isolation = 'serializable'",
        quote_ident(db.name())));
    // the bot changes the post's row in a transaction that ends while
    // scrape-metrics waits for it
    auto bot =
        leak_transaction(db, "UPDATE public.content_generation_metadata_comprehensive "
                             "SET status = status WHERE tweet_id = '1001'")
            .conn;
    auto scrape = std::async(std::launch::async, [&] { return p.scrape(); });
    bool const waited = waits_for_a_lock(db, "scrape-metrics");
    bot.exec("COMMIT");
    auto const r = scrape.get();
    INFO(r.err);
    CHECK(waited);
    CHECK(r.exit_code == 0); // 75 ("could not serialize access") under serializable
    CHECK(
        db.count("SELECT count(*) FROM public.content_generation_metadata_comprehensive "
                 "WHERE actual_impressions = 3000") == 1);
    CHECK(db.count("SELECT count(*) FROM public.outcomes WHERE impressions = 3000") == 1);
}

TEST_CASE("a trigger of the database's own that fails on a row a tool writes exits 78 "
          "naming it, and nothing is written",
          "[db]")
{
    one_post p;
    // the bot's audit trigger, whose function's table is gone
    p.c.exec("CREATE FUNCTION public.bot_audit() RETURNS trigger LANGUAGE plpgsql AS $$ "
             "BEGIN INSERT INTO public.audit_log (row_id) VALUES (NEW.id); RETURN NEW; "
             "END $$");
    p.c.exec(
        "CREATE TRIGGER outcomes_audit BEFORE INSERT OR UPDATE ON public.outcomes FOR "
        "EACH ROW EXECUTE FUNCTION public.bot_audit()");
    auto const r = p.scrape();
    INFO(r.err);
    CHECK(r.exit_code == 78);
    CHECK_THAT(r.err,
               Catch::Contains("relation \"public.audit_log\" does not exist "
                               "(SQLSTATE 42P01); in PL/pgSQL function bot_audit() "
                               "line 1 at SQL statement: a trigger or function of "
                               "the database's own, not xloop's") &&
                   !Catch::Contains("run xloop-migrate"));
    CHECK(p.db.count("SELECT count(*) FROM public.outcomes") == 0);
}

TEST_CASE("a table of xloop's dropped by hand, with no migration pending, is named as "
          "such, not as an upgrade to migrate",
          "[db]")
{
    one_post p;
    p.c.exec("DROP TABLE xloop.job_leases");
    auto const r = p.scrape();
    INFO(r.err);
    CHECK(r.exit_code == 78);
    CHECK_THAT(r.err, Catch::Contains("relation \"xloop.job_leases\" does not exist "
                                      "(SQLSTATE 42P01); no migration is pending: a "
                                      "table, view, column or function of xloop's "
                                      "schema was dropped or changed by hand"));
    CHECK(p.db.count("SELECT count(*) FROM public.outcomes") == 0);
}

TEST_CASE("the option --log-sql logs each statement and its duration, never a parameter",
          "[db]")
{
    test_db db;
    db.migrate();
    // the seed is a parameter of the ledger's INSERT
    auto const r = run_tool("validate", {"--log-sql", "--seed", "987654321"}, &db);
    INFO(r.err);
    CHECK((r.exit_code == 0 || r.exit_code == 1));
    CHECK(r.err.find(" ms: WITH abandoned AS ( UPDATE xloop.job_runs r SET status = "
                     "'interrupted',") != std::string::npos);
    CHECK(r.err.find(" ms: UPDATE xloop.job_runs SET finished_at = $2::timestamptz") !=
          std::string::npos);
    CHECK(r.err.find("987654321") == std::string::npos);
    auto const without = run_tool("validate", {}, &db);
    CHECK(without.err.find(" ms: ") == std::string::npos);
}

TEST_CASE("a child process starts with SIGPIPE at its default though the tool ignores "
          "it",
          "[nodb]")
{
    auto const old = ::signal(SIGPIPE, SIG_IGN); // as every tool does
    process_spec spec;
    spec.argv = {"sh", "-c", "sed -n 's/^SigIgn:[[:space:]]*//p' /proc/self/status"};
    auto const r = run_process(spec);
    ::signal(SIGPIPE, old);
    REQUIRE(r.exit_code == 0);
    auto const ignored = std::stoull(r.out, nullptr, 16);
    CHECK((ignored & (1ull << (SIGPIPE - 1))) == 0);
}

TEST_CASE("a program has finished when it exits, though a process it left behind holds "
          "its output open",
          "[nodb]")
{
    process_spec spec;
    // 200 KB (more than a pipe holds) before it exits, then a background
    // sleep with its stdout and stderr
    spec.argv = {
        "sh", "-c",
        "head -c 200000 /dev/zero | tr '\\0' a; echo done >&2; sleep 8 & exit 3"};
    spec.timeout_ms = 20000;
    auto const start = std::chrono::steady_clock::now();
    auto const r = run_process(spec);
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(6));
    CHECK_FALSE(r.timed_out);
    CHECK(r.exit_code == 3);
    CHECK(r.out == std::string(200000, 'a'));
    CHECK(r.err == "done\n");

    // one left behind that writes for ever: what was there at the end, no
    // more (64 MiB bounds the test should it read on)
    spec.argv = {"sh", "-c", "echo first; yes &"};
    spec.max_output_bytes = std::size_t{64} << 20;
    auto const endless = run_process(spec);
    CHECK_FALSE(endless.too_much_output);
    CHECK(endless.exit_code == 0);
    CHECK(endless.out.rfind("first\n", 0) == 0);
}

TEST_CASE("a tool whose log's reader went away still finishes and records its run",
          "[db]")
{
    test_db db;
    db.migrate();
    process_spec spec;
    // stderr (unbuffered: each log line written as it comes) into a pipe
    // whose reader, `true`, is gone before the run logs its first line
    spec.argv = {"bash", "-c",
                 fmt::format("'{}/xloop-plan' -v --db '{}' 2>&1 >/dev/null | true; "
                             "echo ${{PIPESTATUS[0]}}",
                             XLOOP_BIN_DIR, db.conninfo())};
    auto const r = run_process(spec);
    INFO(r.err);
    CHECK(r.out == "0\n"); // not 141 (killed by SIGPIPE)
    CHECK(db.count("SELECT count(*) FROM xloop.job_runs WHERE job = 'plan' AND status = "
                   "'ok'") == 1);
    // its work done: the queue filled (plan.queue_ahead)
    CHECK(db.count(
              "SELECT count(*) FROM public.content_generation_metadata_comprehensive") ==
          2);
}

TEST_CASE("a child process gets the environment given, a bare program name is found on "
          "PATH, and a missing program is an error naming it",
          "[nodb]")
{
    ::setenv("XLOOP_TEST_UNSET", "inherited", 1);
    ::setenv("XLOOP_TEST_KEPT", "kept", 1);
    process_spec spec;
    spec.argv = {"sh", "-c",
                 "echo \"$XLOOP_TEST_SET ${XLOOP_TEST_UNSET-unset} $XLOOP_TEST_KEPT\""};
    spec.env = {{"XLOOP_TEST_SET", "given"}, {"XLOOP_TEST_UNSET", std::nullopt}};
    auto const r = run_process(spec);
    ::unsetenv("XLOOP_TEST_UNSET");
    ::unsetenv("XLOOP_TEST_KEPT");
    CHECK(r.exit_code == 0);
    CHECK(r.out == "given unset kept\n");
    spec.argv = {"xloop-no-such-program"};
    CHECK_THROWS_WITH(run_process(spec),
                      Catch::Contains("cannot run 'xloop-no-such-program'"));
}

TEST_CASE("a control character in a message is shown as an escape, never sent to the "
          "terminal: a CRLF env file's DATABASE_URL shows its carriage return",
          "[db]")
{
    test_db db; // the URI keeps the \r in the name (key=value drops it as a space)
    auto const r = run_tool("validate", {"--checks"}, nullptr, {},
                            {{"DATABASE_URL", "postgresql:///" + db.name() + "\r"}});
    INFO(r.err);
    CHECK(r.exit_code == 78);
    CHECK_THAT(r.err,
               Catch::Contains("database \"" + db.name() + "\\r\" does not exist"));
    CHECK(r.err.find('\r') == std::string::npos);
    // JSON lines escape it by JSON's rules
    auto const j = run_tool("validate", {"--checks", "--log-format", "json"}, nullptr, {},
                            {{"DATABASE_URL", "postgresql:///" + db.name() + "\x1b[2J"}});
    CHECK(j.exit_code == 78);
    CHECK(j.err.find('\x1b') == std::string::npos);
    CHECK_THAT(j.err, Catch::Contains("\\u001b[2J"));
}

namespace {

// A tool run with stdout a pipe that has no reader (one that ended before the
// tool wrote, as `| head` does): its exit code and stderr.
std::pair<int, std::string> run_into_ended_reader(std::vector<std::string> args)
{
    int out[2];
    int err[2];
    REQUIRE(::pipe2(out, O_CLOEXEC) == 0);
    REQUIRE(::pipe2(err, O_CLOEXEC) == 0);
    ::close(out[0]);
    std::vector<char*> argv;
    for (auto& a : args) {
        argv.push_back(a.data());
    }
    argv.push_back(nullptr);
    std::vector<std::string> env_text;
    for (char** e = environ; *e != nullptr; ++e) {
        std::string_view const v{*e};
        if (v.rfind("XLOOP_NOW=", 0) != 0 && v.rfind("XLOOP_CONFIG=", 0) != 0) {
            env_text.emplace_back(v);
        }
    }
    std::vector<char*> envp;
    for (auto& e : env_text) {
        envp.push_back(e.data());
    }
    envp.push_back(nullptr);
    pid_t const pid = ::fork();
    if (pid == 0) {
        ::dup2(out[1], STDOUT_FILENO);
        ::dup2(err[1], STDERR_FILENO);
        ::execve(argv[0], argv.data(), envp.data());
        ::_exit(127);
    }
    ::close(out[1]);
    ::close(err[1]);
    std::string text;
    char buf[4096];
    for (ssize_t n; (n = ::read(err[0], buf, sizeof buf)) > 0;) {
        text.append(buf, static_cast<std::size_t>(n));
    }
    ::close(err[0]);
    int status = 0;
    ::waitpid(pid, &status, 0);
    return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, text};
}

} // namespace

TEST_CASE("a closed stdout or stderr is /dev/null to a tool, never its database "
          "connection, and output a full disk or an ended reader refuses exits 75, "
          "saying which",
          "[db]")
{
    test_db db;
    db.migrate();
    // the tool with its standard descriptors redirected by a shell
    auto const run_as = [&](std::string const& redirect) {
        process_spec spec;
        spec.argv = {"/bin/sh", "-c", "exec \"$0\" --db \"$1\" --checks " + redirect,
                     std::string{XLOOP_BIN_DIR} + "/xloop-validate", db.conninfo()};
        spec.env = {{"XLOOP_NOW", std::nullopt}, {"XLOOP_CONFIG", std::nullopt}};
        return run_process(spec);
    };
    // stdout closed: the connection took descriptor 1 and the table went
    // into it ("server closed the connection unexpectedly", the run unrecorded)
    auto const closed = run_as(">&-");
    INFO(closed.err);
    CHECK(closed.exit_code == 1); // not ready: no job has run
    CHECK(closed.err.find("could not record the run") == std::string::npos);
    auto const closed_both = run_as(">&- 2>&-");
    CHECK(closed_both.exit_code == 1);
    auto c = db.connect();
    CHECK(
        c.exec("SELECT count(*) FROM xloop.job_runs WHERE job = 'validate' AND status = "
               "'ok' AND error IS NULL")
            .i64(0, 0) == 2);
    // a CI script's `--json > report.json` on a full disk: not a success
    auto const full = run_as("--json > /dev/full");
    CHECK(full.exit_code == 75);
    CHECK_THAT(full.err, Catch::Contains("cannot write the output to stdout (a full "
                                         "disk?); exit 75"));
    // `| head` that ended first: no disk is blamed
    auto const [code, err] =
        run_into_ended_reader({std::string{XLOOP_BIN_DIR} + "/xloop-validate", "--db",
                               db.conninfo(), "--checks"});
    INFO(err);
    CHECK(code == 75);
    CHECK_THAT(err, Catch::Contains("stdout's reader ended before the output was written "
                                    "whole (as `| head` does); exit 75"));
}

TEST_CASE(
    "a database that sends debug messages adds nothing to a quiet tool's stderr, and "
    "-v shows them as the server's",
    "[db]")
{
    test_db db;
    db.migrate();
    // as a database or role with client_min_messages = debug5 sends them,
    // while the connection starts (libpq printed those to stderr) and after
    std::map<std::string, std::optional<std::string>> const env{
        {"PGOPTIONS", "-c client_min_messages=debug5"}};
    auto const quiet = run_tool("build-weights", {"-q"}, &db, {}, env);
    CHECK(quiet.exit_code == 0);
    CHECK(quiet.err.empty());
    auto const verbose = run_tool("build-weights", {"-v"}, &db, {}, env);
    CHECK(verbose.exit_code == 0);
    CHECK_THAT(verbose.err, Catch::Contains("debug: server: "));
    CHECK(verbose.err.find("\nDEBUG:  ") == std::string::npos);
}
