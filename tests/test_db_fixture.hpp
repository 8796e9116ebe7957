#pragma once

// Each database test works in its own fresh database on the cluster that
// pg_virtualenv (or the PG* variables) point at; it is dropped on exit unless
// XLOOP_KEEP_TEST_DB is set.

#include "db.hpp"
#include "subprocess.hpp"
#include "temp_dir.hpp"

#include <nlohmann/json.hpp>

#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace xloop::test {

class test_db {
public:
    // `create_options` follow CREATE DATABASE, e.g. "TEMPLATE template0 ENCODING
    // 'LATIN1'". Without options the database is made at its first use, so
    // that a migrate() first copies a migrated one instead.
    explicit test_db(std::string const& create_options = {});
    ~test_db();
    test_db(test_db const&) = delete;
    test_db& operator=(test_db const&) = delete;

    std::string const& name() const
    {
        create();
        return m_name;
    }
    std::string conninfo() const { return "dbname=" + name(); }
    db_connection connect() const;

    // Runs a SQL script file from tests/fixtures/.
    void load_fixture(std::string const& file) const;

    // Applies every migration with xloop-migrate (the real binary). As the
    // first use of the database, a copy of one xloop-migrate made once per
    // build of it (a quarter second less a test).
    void migrate() const;

    std::int64_t count(std::string const& sql) const;

private:
    void create(std::string const& options = {}) const;

    std::string m_name;
    mutable std::mutex m_create; // the tools of a test run in threads
    mutable bool m_created = false;
};

// A session of `db` that ran `statement` in a transaction it never ends, as a
// bot's leaked pooled client does (named `application_name` where given):
// ROLLBACK or COMMIT on `conn` ends it.
struct leaked_session {
    db_connection conn;
    std::string pid;
};
leaked_session leak_transaction(test_db const& db, std::string const& statement,
                                std::string const& application_name = {});

// Whether xloop-<tool>'s session comes to wait for a lock within 20 s.
bool waits_for_a_lock(test_db const& db, std::string const& tool);

// Runs bin/xloop-<tool> with `args`; --db is added unless args has one.
process_result run_tool(std::string const& tool, std::vector<std::string> args,
                        test_db const* db = nullptr, std::string const& input = {},
                        std::map<std::string, std::optional<std::string>> env = {});

// run_tool sending SIGTERM once `when` holds (polled every 10 ms): at a point
// of the run, however slow a loaded machine makes the way there; `ms` is how
// long the tool took in all (tests of shutdown).
struct signalled_run {
    process_result result;
    long long ms = 0;
    long long after_signal_ms = 0; // from the signal to the exit
};
signalled_run
run_tool_signalled(std::string const& tool, std::vector<std::string> args,
                   std::function<bool()> const& when, test_db const* db = nullptr,
                   std::map<std::string, std::optional<std::string>> env = {},
                   int signal_number = SIGTERM);

// XLOOP_CONFIG for tests worked out by hand on primary_objective_score: the
// learners then rank by the score itself (tests/fixtures/score_target.yaml).
std::map<std::string, std::optional<std::string>> score_target_env();

// The environment that preloads tests/resolver_down.cpp into a tool, to play a
// resolver's answers with no query leaving the machine: names under
// resolver-down.invalid cannot be looked up for now (EAI_AGAIN), names under
// resolver-missing.invalid do not exist (EAI_NONAME).
std::map<std::string, std::optional<std::string>> resolver_down_env();

// The environment that preloads tests/clock_shift.cpp into a tool: its clock
// reads `seconds` ahead of this machine's (negative: behind).
std::map<std::string, std::optional<std::string>> clock_shift_env(long seconds);

// A relation's columns, in order.
std::vector<std::string> columns_of(db_connection& c, std::string const& relation);

// Every outcome's attributed follows as scrape-metrics stores them:
// followers_gained_weighted the gain × its confidence, and the confidence;
// `gain` and `confidence` SQL over the post's row of the base table.
void set_attributed_follows(db_connection& c, std::string const& gain,
                            std::string const& confidence);

// The check named `name` in validate's --json report (fails the test if none).
nlohmann::json check_named(nlohmann::json const& report, std::string const& name);

std::string source_path(std::string const& relative);
std::string read_file(std::string const& path);

} // namespace xloop::test
