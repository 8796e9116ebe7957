#include "test_db_fixture.hpp"

#include <chrono>

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>
#include <unistd.h>

namespace xloop::test {

namespace {
db_connection maintenance()
{
    return db_connection{"dbname=postgres", "xloop-tests"};
}

// A database xloop-migrate migrated, made once for each build of it (its
// size and time in the name; another build's is dropped) under an advisory
// lock: the tests in parallel processes share it. No session may connect to
// it, so copying it never fails for one that did.
std::string const& migrated_template()
{
    static std::string const name = [] {
        auto const tool = std::filesystem::path{XLOOP_BIN_DIR} / "xloop-migrate";
        auto const built = std::filesystem::last_write_time(tool).time_since_epoch();
        auto const name = fmt::format(
            "xloop_test_tmpl_{:x}_{:x}", std::filesystem::file_size(tool),
            std::chrono::duration_cast<std::chrono::nanoseconds>(built).count());
        auto m = maintenance();
        m.exec("SELECT pg_advisory_lock(hashtext('xloop_test_template'))");
        if (m.exec("SELECT count(*) FROM pg_database WHERE datname = $1", name)
                .i64(0, 0) == 0) {
            auto const others = m.exec("SELECT datname FROM pg_database WHERE datname "
                                       "LIKE 'xloop\\_test\\_tmpl\\_%'");
            for (int i = 0; i < others.rows(); ++i) { // and a build left half made
                try {
                    m.exec(fmt::format("DROP DATABASE IF EXISTS {} WITH (FORCE)",
                                       quote_ident(others.str(i, 0))));
                } catch (db_error const&) {
                    // another build's tests are copying it: theirs to drop
                }
            }
            auto const building = name + "_new";
            m.exec(fmt::format("CREATE DATABASE {}", quote_ident(building)));
            auto const r = run_tool("migrate", {"-q", "--db", "dbname=" + building});
            if (r.exit_code != 0) {
                throw std::runtime_error{"migrating the tests' template: " + r.err};
            }
            m.exec(fmt::format("ALTER DATABASE {} RENAME TO {}", quote_ident(building),
                               quote_ident(name)));
            m.exec(fmt::format("ALTER DATABASE {} ALLOW_CONNECTIONS false",
                               quote_ident(name)));
        }
        m.exec("SELECT pg_advisory_unlock(hashtext('xloop_test_template'))");
        return name;
    }();
    return name;
}

} // namespace

test_db::test_db(std::string const& create_options)
{
    static std::atomic<int> counter{0};
    std::random_device rd;
    m_name = fmt::format("xloop_test_{}_{}_{:x}", getpid(), counter++, rd() & 0xffffff);
    if (!create_options.empty()) {
        create(create_options);
    }
}

void test_db::create(std::string const& options) const
{
    std::lock_guard const lock{m_create};
    if (m_created) {
        return;
    }
    maintenance().exec(
        fmt::format("CREATE DATABASE {} {}", quote_ident(m_name), options));
    m_created = true;
}

test_db::~test_db()
{
    if (!m_created || std::getenv("XLOOP_KEEP_TEST_DB")) {
        return;
    }
    try {
        maintenance().exec(
            fmt::format("DROP DATABASE IF EXISTS {} WITH (FORCE)", quote_ident(m_name)));
    } catch (...) {
    }
}

db_connection test_db::connect() const
{
    return db_connection{conninfo(), "xloop-tests"};
}

leaked_session leak_transaction(test_db const& db, std::string const& statement,
                                std::string const& application_name)
{
    leaked_session s{db.connect(), {}};
    s.pid = s.conn.exec("SELECT pg_backend_pid()::text").str(0, 0);
    if (!application_name.empty()) {
        s.conn.exec("SELECT set_config('application_name', $1, false)", application_name);
    }
    s.conn.exec("BEGIN");
    s.conn.exec(statement);
    return s;
}

bool waits_for_a_lock(test_db const& db, std::string const& tool)
{
    auto watcher = db.connect();
    for (int i = 0; i < 400; ++i) {
        if (watcher
                .exec("SELECT count(*) FROM pg_stat_activity WHERE application_name = $1 "
                      "AND wait_event_type = 'Lock'",
                      "xloop-" + tool)
                .i64(0, 0) > 0) {
            return true;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
}

void test_db::load_fixture(std::string const& file) const
{
    auto c = connect();
    c.exec(read_file(source_path("tests/fixtures/" + file)));
}

void test_db::migrate() const
{
    {
        std::lock_guard const lock{m_create};
        if (!m_created) {
            maintenance().exec(fmt::format("CREATE DATABASE {} TEMPLATE {}",
                                           quote_ident(m_name),
                                           quote_ident(migrated_template())));
            m_created = true;
            return;
        }
    }
    auto const r = run_tool("migrate", {"-q"}, this);
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
}

std::int64_t test_db::count(std::string const& sql) const
{
    auto c = connect();
    return c.exec(sql).i64(0, 0);
}

namespace {

// The tool's command line and environment: --db added unless args has one,
// no config, clock, database or width to wrap at from the test's own
// environment.
process_spec tool_spec(std::string const& tool, std::vector<std::string> const& args,
                       test_db const* db,
                       std::map<std::string, std::optional<std::string>> env)
{
    process_spec spec;
    spec.argv.push_back(std::string{XLOOP_BIN_DIR} + "/xloop-" + tool);
    bool has_db = false;
    for (auto const& a : args) {
        has_db = has_db || a == "--db" || a.rfind("--db=", 0) == 0;
    }
    if (db && !has_db) {
        spec.argv.push_back("--db");
        spec.argv.push_back(db->conninfo());
    }
    spec.argv.insert(spec.argv.end(), args.begin(), args.end());
    env.emplace("XLOOP_CONFIG", std::nullopt);
    env.emplace("XLOOP_NOW", std::nullopt);
    env.emplace("DATABASE_URL", std::nullopt);
    env.emplace("COLUMNS", std::nullopt);
    spec.env = std::move(env);
    return spec;
}

long long ms_since(std::chrono::steady_clock::time_point t)
{
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::steady_clock::now() - t)
        .count();
}

} // namespace

process_result run_tool(std::string const& tool, std::vector<std::string> args,
                        test_db const* db, std::string const& input,
                        std::map<std::string, std::optional<std::string>> env)
{
    auto spec = tool_spec(tool, args, db, std::move(env));
    spec.input = input;
    spec.timeout_ms = 120000;
    return run_process(spec);
}

signalled_run run_tool_signalled(std::string const& tool, std::vector<std::string> args,
                                 std::function<bool()> const& when, test_db const* db,
                                 std::map<std::string, std::optional<std::string>> env,
                                 int signal_number)
{
    auto spec = tool_spec(tool, args, db, std::move(env));
    spec.signal_number = signal_number;
    spec.timeout_ms = 60000;
    auto const start = std::chrono::steady_clock::now();
    auto signalled = start;
    spec.signal_when = [&] {
        signalled = std::chrono::steady_clock::now();
        return when();
    };
    signalled_run out{run_process(spec)};
    out.ms = ms_since(start);
    out.after_signal_ms = ms_since(signalled);
    return out;
}

std::vector<std::string> columns_of(db_connection& c, std::string const& relation)
{
    auto const r =
        c.exec("SELECT attname FROM pg_attribute WHERE attrelid = $1::regclass "
               "AND attnum > 0 AND NOT attisdropped ORDER BY attnum",
               relation);
    std::vector<std::string> out;
    for (int i = 0; i < r.rows(); ++i) {
        out.push_back(r.str(i, 0));
    }
    return out;
}

nlohmann::json check_named(nlohmann::json const& report, std::string const& name)
{
    for (auto const& c : report["checks"]) {
        if (c["name"] == name) {
            return c;
        }
    }
    FAIL("no check named " << name);
    return {};
}

std::map<std::string, std::optional<std::string>> score_target_env()
{
    return {{"XLOOP_CONFIG", source_path("tests/fixtures/score_target.yaml")}};
}

namespace {

std::map<std::string, std::optional<std::string>> preload_env(char const* library)
{
    // An ASan build wants its runtime first.
    char const* asan = std::getenv("ASAN_OPTIONS");
    return {{"LD_PRELOAD", library},
            {"ASAN_OPTIONS", fmt::format("{}{}verify_asan_link_order=0", asan ? asan : "",
                                         asan ? ":" : "")}};
}

} // namespace

std::map<std::string, std::optional<std::string>> resolver_down_env()
{
    return preload_env(XLOOP_RESOLVER_DOWN_LIB);
}

std::map<std::string, std::optional<std::string>> clock_shift_env(long seconds)
{
    auto env = preload_env(XLOOP_CLOCK_SHIFT_LIB);
    env["XLOOP_CLOCK_SHIFT_SECONDS"] = std::to_string(seconds);
    return env;
}

void set_attributed_follows(db_connection& c, std::string const& gain,
                            std::string const& confidence)
{
    c.exec(fmt::format(
        "UPDATE public.outcomes o SET followers_gained_weighted = g * f, "
        "attribution_confidence = f FROM (SELECT decision_id, {} AS g, {} AS f "
        "FROM public.content_generation_metadata_comprehensive) m "
        "WHERE m.decision_id = o.decision_id",
        gain, confidence));
}

std::string source_path(std::string const& relative)
{
    return std::string{XLOOP_SOURCE_DIR} + "/" + relative;
}

std::string read_file(std::string const& path)
{
    std::ifstream in{path, std::ios::binary};
    REQUIRE(in.good());
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

} // namespace xloop::test
