// The tools through PgBouncer in transaction mode: the pooler operators put
// in front of PostgreSQL (Supabase's port 6543 is one). Each transaction may
// run on another server connection, and server connections outlive clients.

#include "test_db_fixture.hpp"

#include "fake_x_api.hpp"

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pwd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <map>
#include <thread>

using namespace xloop;
using namespace xloop::test;

namespace {

char const* const now = "2026-03-02T12:00:00Z";

std::string env_or(char const* name, char const* fallback)
{
    char const* v = std::getenv(name);
    return v && *v ? v : fallback;
}

int free_port()
{
    int const s = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t len = sizeof a;
    ::getsockname(s, reinterpret_cast<sockaddr*>(&a), &len);
    ::close(s);
    return ntohs(a.sin_port);
}

bool accepts(int port)
{
    int const s = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<std::uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bool const ok = ::connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    ::close(s);
    return ok;
}

// The cluster's password as a PgBouncer setting; none where it trusts its
// clients (PgBouncer refuses an empty `password=`).
std::string password_setting()
{
    auto const pw = env_or("PGPASSWORD", "");
    return pw.empty() ? std::string{} : " password=" + pw;
}

// PgBouncer 1.18+ in transaction mode (or `pool_mode`) on 127.0.0.1 in front
// of the test cluster, with two server connections per database (so clients
// share them), and a database `dead` whose server does not exist.
class pgbouncer {
public:
    explicit pgbouncer(std::string const& dbname,
                       std::string const& pool_mode = "transaction")
        : m_port(free_port())
    {
        auto const user = env_or("PGUSER", "postgres");
        m_dir.write("pgbouncer.ini",
                    fmt::format(R"([databases]
{0} = host={1} port={2} dbname={0} user={3}{4}
dead = host=127.0.0.1 port={5} dbname=dead user={3}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {6}
unix_socket_dir =
auth_type = any
admin_users = {3}
pool_mode = {8}
default_pool_size = 2
max_client_conn = 200
pidfile = {7}/pgbouncer.pid
logfile = {7}/pgbouncer.log
)",
                                dbname, env_or("PGHOST", "localhost"),
                                env_or("PGPORT", "5432"), user, password_setting(),
                                free_port(), m_port, m_dir.path(), pool_mode));
        std::vector<std::string> argv{"pgbouncer", "-d"};
        if (::geteuid() == 0) {
            // PgBouncer refuses to run as root.
            if (passwd const* pw = ::getpwnam("postgres")) {
                for (auto const* f : {"", "/pgbouncer.ini"}) {
                    REQUIRE(::chown((m_dir.path() + f).c_str(), pw->pw_uid, pw->pw_gid) ==
                            0);
                }
            }
            argv.insert(argv.end(), {"-u", "postgres"});
        }
        argv.push_back(m_dir.path() + "/pgbouncer.ini");
        auto const r = run_command(argv);
        INFO(r.err << r.out);
        REQUIRE(r.exit_code == 0);
        for (int i = 0; i < 100 && !accepts(m_port); ++i) {
            std::this_thread::sleep_for(std::chrono::milliseconds{50});
        }
        REQUIRE(accepts(m_port));
    }

    ~pgbouncer()
    {
        std::ifstream pidfile{m_dir.path() + "/pgbouncer.pid"};
        pid_t pid = 0;
        if (pidfile >> pid && pid > 0) {
            ::kill(pid, SIGTERM);
            for (int i = 0; i < 100 && ::kill(pid, 0) == 0; ++i) {
                std::this_thread::sleep_for(std::chrono::milliseconds{20});
            }
        }
    }

    std::string conninfo(std::string const& dbname) const
    {
        return fmt::format("host=127.0.0.1 port={} dbname={}", m_port, dbname);
    }

    // A command on PgBouncer's admin console (PAUSE, RESUME).
    void admin(std::string const& command) const
    {
        auto const r =
            run_command({"psql", "-X", "-q", "-h", "127.0.0.1", "-p",
                         std::to_string(m_port), "-d", "pgbouncer", "-c", command});
        INFO(r.err);
        REQUIRE(r.exit_code == 0);
    }

private:
    temp_dir m_dir;
    int m_port;
};

// Runs every command at once; their exit codes and stderr, in order.
std::vector<std::pair<int, std::string>>
run_at_once(std::vector<std::vector<std::string>> const& commands,
            std::map<std::string, std::optional<std::string>> env)
{
    temp_dir dir;
    std::string script;
    for (std::size_t i = 0; i < commands.size(); ++i) {
        std::string line;
        for (auto const& a : commands[i]) {
            line += "'" + a + "' ";
        }
        script += fmt::format("({} 2>'{}/{}.err' >/dev/null; echo $? >'{}/{}.code') &\n",
                              line, dir.path(), i, dir.path(), i);
    }
    script += "wait\n";
    process_spec spec;
    spec.argv = {"bash", "-c", script};
    spec.env = env;
    spec.timeout_ms = 120000;
    auto const r = run_process(spec);
    REQUIRE(r.exit_code == 0);
    std::vector<std::pair<int, std::string>> out;
    for (std::size_t i = 0; i < commands.size(); ++i) {
        auto const code = read_file(fmt::format("{}/{}.code", dir.path(), i));
        out.emplace_back(std::atoi(code.c_str()),
                         read_file(fmt::format("{}/{}.err", dir.path(), i)));
    }
    return out;
}

std::string tool(std::string const& name)
{
    return std::string{XLOOP_BIN_DIR} + "/xloop-" + name;
}

} // namespace

TEST_CASE("every tool works through PgBouncer in transaction mode, four at once, for ten "
          "rounds",
          "[db]")
{
    test_db db;
    db.migrate();
    pgbouncer bouncer{db.name()};
    auto const pooled = bouncer.conninfo(db.name());
    fake_x_api api;
    temp_dir dir;
    dir.write("x.yaml", "x_api:\n  base_url: " + api.base_url() +
                            "\n  timeout_ms: 5000\n  retries: 1\n  backoff_ms: 10\n");
    std::map<std::string, std::optional<std::string>> env{
        {"X_BEARER_TOKEN", "pooler-test-token"},
        {"XLOOP_CONFIG", dir.path() + "/x.yaml"},
        {"XLOOP_NOW", now}};
    auto c = db.connect();
    int const rounds = 10;
    int const posts_a_round = 250; // 3 requests of at most 100 ids: 4 transactions
    std::map<std::string, int> codes;
    for (int round = 0; round < rounds; ++round) {
        // New posts, due now (posted 2 h ago, past the 1 h checkpoint).
        c.exec(
            "INSERT INTO public.content_generation_metadata_comprehensive (status, "
            "tweet_id, posted_at, decision_type) SELECT 'posted', ($1::int + g)::text, "
            "$2::timestamptz - interval '2 hours' - g * interval '1 second', 'single' "
            "FROM generate_series(1, $3::int) g",
            100000 * (round + 1), now, posts_a_round);
        std::vector<std::vector<std::string>> commands;
        for (int i = 0; i < 4; ++i) {
            for (auto const* t : {"scrape-metrics", "build-weights", "learn-replies",
                                  "plan", "validate", "migrate"}) {
                commands.push_back({tool(t), "--db", pooled, "-q"});
            }
        }
        auto const results = run_at_once(commands, env);
        for (std::size_t i = 0; i < results.size(); ++i) {
            auto const& [code, err] = results[i];
            auto const name = commands[i][0].substr(commands[i][0].rfind('/') + 1);
            INFO("round " << round << ", " << name << " exited " << code << ": " << err);
            // 75: another run of the same job held its lock or lease (skipped);
            // validate's 1: the loop is not healthy yet (no posts planned)
            CHECK((code == 0 || code == 75 || (name == "xloop-validate" && code == 1)));
            CHECK(err.find("does not exist") == std::string::npos);
            ++codes[fmt::format("{} {}", name, code)];
        }
    }
    for (auto const& [what, n] : codes) {
        UNSCOPED_INFO(what << ": " << n << " runs");
    }
    // Every due post was asked for exactly once: no two runs scraped the same
    // batch (a session lock through the pooler let 2–4 of them do so).
    std::map<std::string, int> asked;
    for (auto const& r : api.tweet_requests()) {
        for (auto const& id : r.ids) {
            ++asked[id];
        }
    }
    CHECK(asked.size() == static_cast<std::size_t>(rounds * posts_a_round));
    int asked_twice = 0;
    for (auto const& [id, n] : asked) {
        asked_twice += n > 1;
    }
    CHECK(asked_twice == 0);
    CHECK(db.count("SELECT count(*) FROM public.outcomes") == rounds * posts_a_round);
    // The ledger closed every run; no lease is left behind.
    auto const unclosed =
        c.exec("SELECT coalesce(string_agg(job || ' ' || status || ': ' || "
               "coalesce(error, ''), E'\\n'), '') FROM xloop.job_runs WHERE "
               "status IN ('running', 'failed', 'interrupted')");
    INFO(unclosed.str(0, 0));
    CHECK(db.count("SELECT count(*) FROM xloop.job_runs WHERE status IN ('running', "
                   "'failed', 'interrupted')") == 0);
    CHECK(db.count("SELECT count(*) FROM xloop.job_runs WHERE job = 'scrape-metrics' AND "
                   "status = 'ok'") >= rounds);
    CHECK(db.count("SELECT count(*) FROM xloop.job_leases") == 0);
    // Nothing leaked onto a pooled server connection blocks a direct run.
    auto const direct = run_tool("scrape-metrics", {"-q"}, &db, {}, env);
    INFO(direct.err);
    CHECK(direct.exit_code == 0);
}

TEST_CASE("through PgBouncer in statement mode, which runs no transaction, each tool "
          "names the pooler's mode as the cause and exits 78, not 75: cron would retry "
          "it forever",
          "[db]")
{
    test_db db;
    db.migrate();
    pgbouncer bouncer{db.name(), "statement"};
    auto const pooled = bouncer.conninfo(db.name());
    temp_dir dir;
    dir.write("empty.jsonl", "");
    for (std::vector<std::string> args : {std::vector<std::string>{"migrate"},
                                          {"build-weights"},
                                          {"learn-replies"},
                                          {"plan"},
                                          {"scrape-metrics", "--source", "file",
                                           "--input", dir.path() + "/empty.jsonl"}}) {
        auto const name = args.front();
        args.front() = tool(name);
        args.insert(args.end(), {"--db", pooled, "--now", now, "-q"});
        auto const r = run_command(args);
        INFO(name << ": " << r.err);
        CHECK(r.exit_code == 78);
        CHECK_THAT(r.err, Catch::Contains("the connection goes through PgBouncer in "
                                          "statement pooling mode, which runs no "
                                          "transaction") &&
                              Catch::Contains("pool_mode = transaction"));
    }
    // validate's statements stand alone: it runs, and its job checks say why
    // the others failed
    auto const v =
        run_command({tool("validate"), "--db", pooled, "--now", now, "--json"});
    INFO(v.err);
    CHECK(v.exit_code == 1);
    CHECK(v.out.find("statement pooling mode") != std::string::npos);
}

TEST_CASE("through PgBouncer, a database the pooler does not know is a configuration "
          "error, exit 78, not a database to retry later",
          "[db]")
{
    test_db db; // the pooler's one known database: it never reaches it
    pgbouncer bouncer{db.name()};
    auto const r = run_command(
        {tool("plan"), "--db", bouncer.conninfo("no_such_db"), "--now", now, "-q"});
    INFO(r.err);
    CHECK(r.exit_code == 78);
    // its words with auth_type = any ("no such database" with a user list)
    CHECK_THAT(r.err, Catch::Contains("cannot connect to the database") &&
                          Catch::Contains("08P01: bouncer config error"));
}

TEST_CASE("through PgBouncer, a SQL_ASCII database's bytes that are not UTF-8 are read "
          "as stored in every transaction",
          "[db]")
{
    test_db db{"TEMPLATE template0 ENCODING 'SQL_ASCII' LC_COLLATE 'C' LC_CTYPE 'C'"};
    db.migrate();
    REQUIRE(run_tool("sim", {"--days", "2", "--seed", "7"}, &db).exit_code == 0);
    db.connect().exec("UPDATE public.content_generation_metadata_comprehensive SET "
                      "generator_name = 'caf\xe9' WHERE decision_type <> 'reply'");
    pgbouncer bouncer{db.name()};
    auto const pooled = bouncer.conninfo(db.name());
    for (auto const* name : {"build-weights", "learn-replies", "validate"}) {
        auto const r = run_command({tool(name), "--db", pooled, "--now",
                                    "2026-03-03T00:00:00Z", "--json", "-q"});
        INFO(name << ": " << r.err);
        CHECK(
            (r.exit_code == 0 || (std::string{name} == "validate" && r.exit_code == 1)));
        CHECK(r.err.find("22021") == std::string::npos);
    }
    CHECK(db.count("SELECT count(*) FROM public.learning_model_weights WHERE is_active "
                   "AND weights->'generator_name' ? 'caf\xEF\xBF\xBD'") == 1);
}

TEST_CASE("through PgBouncer, a database that does not answer costs connect_timeout, not "
          "the pooler's query_wait_timeout",
          "[db]")
{
    test_db db;
    db.migrate();
    pgbouncer bouncer{db.name()};
    std::map<std::string, std::optional<std::string>> env{{"PGCONNECT_TIMEOUT", "2"}};
    auto const validate = [&](std::string const& dbname) {
        auto const start = std::chrono::steady_clock::now();
        auto const r = run_tool("validate", {"--db", bouncer.conninfo(dbname), "-q"},
                                nullptr, {}, env);
        return std::pair{
            r, std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
                   .count()};
    };
    auto const [first, first_s] = validate(db.name());
    INFO(first.err);
    CHECK((first.exit_code == 0 || first.exit_code == 1)); // the pooler knows the server

    // The pooler answers the login, then holds every statement (PgBouncer's
    // PAUSE: what it does while its server is down or restarting).
    bouncer.admin("PAUSE " + db.name());
    auto const [paused, paused_s] = validate(db.name());
    bouncer.admin("RESUME " + db.name());
    INFO(paused.err);
    CHECK(paused.exit_code == 75);
    CHECK(paused.err.find("no answer within connect_timeout (2 s)") != std::string::npos);
    CHECK(paused_s < 6);

    // A server the pooler cannot reach at all.
    auto const [dead, dead_s] = validate("dead");
    INFO(dead.err);
    CHECK(dead.exit_code == 75);
    CHECK(dead_s < 6);
}
