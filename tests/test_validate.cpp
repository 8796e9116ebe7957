#include "test_db_fixture.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "subprocess.hpp"
#include "timestamp.hpp"
#include "validate_job.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <map>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <stack>
#include <thread>
#include <tuple>

using namespace xloop;
using namespace xloop::test;
using nlohmann::json;

namespace {

constexpr char const* now = "2026-03-02T12:00:00Z";

// A consistent history: a week of posts and replies with v2 outcomes, follower
// snapshots, a fresh active map, learned priorities and recent ok job runs.
void fill_healthy(db_connection& c, int posts = 40)
{
    c.exec(
        "INSERT INTO public.content_generation_metadata_comprehensive (status, tweet_id, "
        "posted_at, created_at, decision_type, content_slot, target_username) "
        "SELECT 'posted', 't' || g, $1::timestamptz - g * interval '90 minutes', "
        "$1::timestamptz - g * interval '90 minutes' - interval '1 hour', "
        "CASE WHEN g % 4 = 0 THEN 'reply' ELSE 'single' END, "
        "CASE WHEN g % 4 = 0 THEN 'reply' ELSE (ARRAY['how_to', 'myth_busting'])[1 + g % "
        "2] END, "
        "CASE WHEN g % 4 = 0 THEN 'acct_' || (g % 3) END "
        "FROM generate_series(1, $2::int) g",
        now, posts);
    c.exec(
        "INSERT INTO public.outcomes (decision_id, tweet_id, impressions, "
        "engagement_rate, "
        "followers_gained_weighted, primary_objective_score, collected_at) SELECT "
        "decision_id, tweet_id, 1000, 0.02, 1, 0.1, posted_at + interval '1 hour' FROM "
        "public.content_generation_metadata_comprehensive");
    c.exec("INSERT INTO public.follower_snapshots (snapshot_at, follower_count) SELECT "
           "$1::timestamptz - s * interval '1 hour', 5000 - s FROM generate_series(0, "
           "100) s",
           now);
    c.exec(
        "INSERT INTO public.learning_model_weights (weights, posteriors, computed_at, "
        "sample_size, is_active, version) VALUES ('{\"content_slot\": {\"how_to\": 0.7, "
        "\"myth_busting\": 0.3}, \"tone\": {\"calm\": 1.0}}', '{\"_prior\": "
        "{\"content_slot\": {\"mean\": 0.1, \"sd\": 0.05}}, \"content_slot\": "
        "{\"how_to\": {\"shrunk_mean\": 0.12, \"sd\": 0.03}, \"myth_busting\": "
        "{\"shrunk_mean\": 0.09, \"sd\": 0.03}}}', $1::timestamptz - interval "
        "'1 hour', 40, true, 1)",
        now);
    c.exec("INSERT INTO public.discovered_accounts (username, priority_score) VALUES "
           "('acct_0', 0.7), ('acct_1', 0.4), ('acct_2', 0.55), ('never', 0.5)");
    c.exec("INSERT INTO public.reply_opportunities (tweet_id, tweet_author, "
           "opportunity_score, discovered_at) SELECT (700 + g)::text, 'acct_' || (g % "
           "3), 0.5, "
           "$1::timestamptz - g * interval '2 hours' FROM generate_series(1, 30) g",
           now);
    for (auto const* job : {"scrape-metrics", "learn-replies", "build-weights", "plan"}) {
        c.exec("INSERT INTO xloop.job_runs (job, started_at, finished_at, status) VALUES "
               "($1, "
               "$2::timestamptz - interval '10 minutes', $2::timestamptz - interval '9 "
               "minutes', 'ok')",
               job, now);
    }
}

// A migrated database holding fill_healthy's history, and a connection to it:
// the tests that break one part of a healthy loop start from it.
struct healthy {
    test_db db;
    db_connection c{(db.migrate(), db.connect())};
    healthy() { fill_healthy(c); }
};

// A run of `job` that started and ended `ago` (an interval) before now.
void add_run(db_connection& c, std::string const& job, std::string const& ago,
             std::string const& status, std::optional<std::string> const& error = {})
{
    c.exec("INSERT INTO xloop.job_runs (job, started_at, finished_at, status, error) "
           "VALUES ($1, $2::timestamptz - $3::interval, $2::timestamptz - $3::interval, "
           "$4, $5)",
           job, now, ago, status, error);
}

json validate(test_db const& db, int expect, std::vector<std::string> args = {})
{
    args.insert(args.end(), {"--json", "--now", now, "-q"});
    auto const r = run_tool("validate", args, &db);
    INFO(r.err << r.out);
    REQUIRE(r.exit_code == expect);
    return json::parse(r.out);
}

std::set<std::string> failing(json const& report)
{
    std::set<std::string> out;
    for (auto const& c : report["checks"]) {
        if (c["status"] == "fail") {
            out.insert(c["name"].get<std::string>());
        }
    }
    return out;
}

// scrape-metrics' ok runs, each `hours` before now with its ledger detail.
void add_scrape_runs(db_connection& c,
                     std::vector<std::pair<int, std::string>> const& runs)
{
    for (auto const& [hours, detail] : runs) {
        c.exec(
            "INSERT INTO xloop.job_runs (job, started_at, finished_at, status, detail) "
            "SELECT 'scrape-metrics', t, t, 'ok', $3::jsonb FROM (SELECT "
            "$1::timestamptz - make_interval(hours => $2::int) AS t) v",
            now, hours, detail);
    }
}

// The active map's posteriors of `dimension` replaced by `arms` (JSON).
void set_map_arms(db_connection& c, std::string const& dimension, std::string const& arms)
{
    c.exec("UPDATE public.learning_model_weights SET posteriors = "
           "jsonb_set(posteriors::jsonb, ARRAY[$1], $2::jsonb) WHERE is_active",
           dimension, arms);
}

// Check `name` of a validate run at `now` with `yaml` as its config file.
json check_with_config(test_db const& db, std::string const& name,
                       std::string const& yaml)
{
    temp_dir dir;
    dir.write("x.yaml", yaml);
    auto const r = run_tool(
        "validate", {"--json", "--now", now, "--config", dir.path() + "/x.yaml"}, &db);
    INFO(r.err);
    return check_named(json::parse(r.out), name);
}

} // namespace

TEST_CASE("an empty migrated database is NOT READY, with the reasons", "[db]")
{
    test_db db;
    db.migrate();
    auto const r = validate(db, 1);
    CHECK(r["verdict"] == "NOT READY");
    auto const f = failing(r);
    CHECK(f.count("v2_coverage"));
    CHECK(f.count("weight_map"));
    CHECK(f.count("job:scrape-metrics"));
    CHECK(check_named(r, "v2_coverage")["message"].get<std::string>().find(
              "run xloop-scrape-metrics") != std::string::npos);
    CHECK(check_named(r, "schema")["status"] == "ok");
}

TEST_CASE_METHOD(healthy, "a consistent history is READY", "[db]")
{
    auto const r = validate(db, 0);
    CHECK(r["verdict"] == "READY");
    CHECK(failing(r).empty());
    CHECK(check_named(r, "v2_coverage")["numbers"]["outcomes"] == 40 - 0);
    CHECK(check_named(r, "reply_priorities")["numbers"]["accounts_replied_to"] == 3);
    CHECK(check_named(r, "reply_priorities")["numbers"]["accounts_with_priority"] == 3);
    // the original bot's spelling of an account is the same account, as
    // learn-replies reads it; an empty target is none
    c.exec(
        "UPDATE public.content_generation_metadata_comprehensive SET target_username = "
        "CASE tweet_id WHEN 't4' THEN '@ACCT_1 ' WHEN 't8' THEN ' ' END "
        "WHERE tweet_id IN ('t4', 't8')");
    CHECK(check_named(validate(db, 0),
                      "reply_priorities")["numbers"]["accounts_replied_to"] == 3);
    // the human table
    auto const table = run_tool("validate", {"--now", now, "-q"}, &db);
    CHECK(table.exit_code == 0);
    CHECK(table.out.find("verdict: READY") != std::string::npos);
    CHECK(table.out.find("\033[") == std::string::npos); // no colour when not a terminal
    CHECK_THAT(table.out, Catch::Contains("What was learned"));
    // first, whose health it is and when: the database by name, host and port
    auto const first = table.out.substr(0, table.out.find('\n'));
    CHECK_THAT(first, Catch::StartsWith("database " + db.name() + " at "));
    CHECK_THAT(first, Catch::EndsWith(std::string{", "} + now));
    // --checks: the same line, checks and verdict, nothing else
    auto const glance = run_tool("validate", {"--now", now, "-q", "--checks"}, &db);
    CHECK(glance.exit_code == 0);
    CHECK(glance.out == first + "\n\n" + table.out.substr(table.out.find("check ")));
    CHECK(!validate(db, 0, {"--checks"}).contains("policy_value"));
    auto const full = validate(db, 0);
    CHECK(full.contains("policy_value"));
    // --json names it too, as every tool's summary does
    CHECK(full["database"]["name"] == db.name());
    CHECK(full["database"]["user"] == c.exec("SELECT current_user").str(0, 0));
    CHECK_FALSE(full["database"]["port"].get<std::string>().empty());
}

TEST_CASE("on a terminal validate's table is in colour and each message wraps under "
          "its own column at the terminal's width",
          "[db]")
{
    test_db db;
    db.migrate();
    // a terminal of 72 columns: script(1) runs the tool on a pseudo-terminal
    auto const command =
        fmt::format("stty cols 72 rows 50; exec '{}/xloop-validate' --db '{}' --now "
                    "2026-03-02T12:00:00Z --checks -q",
                    XLOOP_BIN_DIR, db.conninfo());
    process_spec spec;
    spec.argv = {"script", "-qec", command, "/dev/null"};
    spec.env = {{"XLOOP_CONFIG", std::nullopt}, {"COLUMNS", std::nullopt}};
    auto const r = run_process(spec);
    CHECK(r.exit_code == 1); // a fresh database: never-run jobs fail
    CHECK_THAT(r.out, Catch::Contains("\033[31mfail"));
    auto const plain = std::regex_replace(r.out, std::regex{"\r|\033\\[[0-9;]*m"}, "");
    std::vector<std::string> lines;
    std::istringstream in{plain};
    for (std::string line; std::getline(in, line);) {
        lines.push_back(line);
    }
    // every continuation starts where the header's "why" does
    auto const header = std::find_if(lines.begin(), lines.end(), [](auto const& l) {
        return l.rfind("check ", 0) == 0;
    });
    REQUIRE(header != lines.end());
    auto const column = header->find("why / what to do");
    CHECK(column == std::string{"content_slot_coverage"}.size() + 8);
    std::size_t continued = 0;
    // (the line above it names the database, whatever its length)
    auto const verdict = std::find(header, lines.end(), "");
    for (auto const& line : std::vector<std::string>{header, lines.end()}) {
        INFO(line);
        CHECK(line.size() <= 72); // the messages are ASCII
    }
    for (auto const& line : std::vector<std::string>{header, verdict}) {
        if (!line.empty() && line[0] == ' ') {
            ++continued;
            CHECK(line.find_first_not_of(' ') == column);
        }
    }
    CHECK(continued > 0);
    // 72 − 29 leaves 43 columns: "xloop-build-weights has never run: install"
    // is 42 of them, " cron/xloop.crontab" would make 61
    auto const weights = std::find_if(lines.begin(), lines.end(), [](auto const& l) {
        return l.rfind("job:build-weights ", 0) == 0;
    });
    REQUIRE(weights + 1 < lines.end());
    CHECK(*weights ==
          fmt::format("{:<23}fail  xloop-build-weights has never run: install",
                      "job:build-weights"));
    CHECK(weights[1] == std::string(29, ' ') + "cron/xloop.crontab");
    // the last lines name the checks to read, wrapped under the verdict:
    // "NOT READY … job:build-weights," is 59 of 63 columns
    REQUIRE(lines.size() >= 3);
    CHECK(lines.end()[-3] ==
          "verdict: NOT READY (failing: v2_coverage, content_slot_coverage,");
    CHECK(lines.end()[-2] ==
          "         vw_learning, weight_map, job:build-weights, job:learn-replies,");
    CHECK(lines.back() == "         job:plan, job:scrape-metrics)");
}

TEST_CASE("in a cron mail validate's table wraps at COLUMNS where the crontab sets it, "
          "uncoloured, and without it a check is one line",
          "[db]")
{
    test_db db;
    db.migrate();
    auto const report = [&](std::map<std::string, std::optional<std::string>> env) {
        auto const r = run_tool("validate", {"--now", "2026-03-02T12:00:00Z", "--checks"},
                                &db, "", std::move(env));
        CHECK(r.exit_code == 1); // a fresh database: never-run jobs fail
        CHECK(r.out.find('\033') == std::string::npos); // a pipe: no colours
        std::vector<std::string> lines;
        std::istringstream in{r.out};
        for (std::string line; std::getline(in, line);) {
            lines.push_back(line);
        }
        auto const header = std::find_if(lines.begin(), lines.end(), [](auto const& l) {
            return l.rfind("check ", 0) == 0;
        });
        REQUIRE(header != lines.end());
        return std::vector<std::string>{header, lines.end()};
    };
    auto const mail = report({{"COLUMNS", "72"}});
    for (auto const& line : mail) {
        INFO(line);
        CHECK(line.size() <= 72);
    }
    // as on a terminal of 72 columns: the message goes on under its column
    auto const weights = std::find_if(mail.begin(), mail.end(), [](auto const& l) {
        return l.rfind("job:build-weights ", 0) == 0;
    });
    REQUIRE(weights + 1 < mail.end());
    CHECK(weights[1] == std::string(29, ' ') + "cron/xloop.crontab");

    auto const plain = report({});
    auto const whole = std::find_if(plain.begin(), plain.end(), [](auto const& l) {
        return l.rfind("job:build-weights ", 0) == 0;
    });
    REQUIRE(whole != plain.end());
    CHECK(whole->size() > 72);
    CHECK_THAT(*whole, Catch::Contains("install cron/xloop.crontab"));
}

TEST_CASE_METHOD(healthy,
                 "outcomes the learners read that no run scored are named with the "
                 "command that scores them, once scrape-metrics has run",
                 "[db]")
{
    // The bot's history, adopted with an xloop that scored only its last 31
    // days: outcomes of 50 and 70 days ago without a v2 score.
    c.exec("INSERT INTO public.content_generation_metadata_comprehensive (status, "
           "tweet_id, posted_at, decision_type) SELECT 'posted', 'old' || d, "
           "$1::timestamptz - make_interval(days => d), 'single' FROM unnest('{50, "
           "70}'::int[]) d",
           now);
    c.exec(
        "INSERT INTO public.outcomes (decision_id, tweet_id, impressions, "
        "collected_at) SELECT decision_id, tweet_id, 100, posted_at + interval '1 day' "
        "FROM public.content_generation_metadata_comprehensive WHERE tweet_id LIKE "
        "'old%'");
    auto const before = check_named(validate(db, 0), "v2_coverage");
    CHECK(before["status"] == "warn");
    CHECK(before["numbers"]["unscored_in_learners_reach"] == 2);
    CHECK_THAT(
        before["message"].get<std::string>(),
        Catch::Contains("2 posts posted from ") &&
            Catch::Contains("(as far back as build-weights or learn-replies read, before "
                            "the last 31 days that every run of "
                            "xloop-scrape-metrics scores) have an outcome without "
                            "a v2 score: learning leaves them out; run "
                            "xloop-scrape-metrics --backfill once to score them"));
    auto const backfill =
        run_tool("scrape-metrics", {"--input", "-", "--now", now, "--backfill"}, &db, "");
    INFO(backfill.err);
    REQUIRE(backfill.exit_code == 0);
    auto const after = check_named(validate(db, 0), "v2_coverage");
    CHECK(after["status"] == "ok");
    CHECK_FALSE(after["numbers"].contains("unscored_in_learners_reach"));
    // a NaN is no score either, and --backfill scores it
    c.exec("UPDATE public.outcomes SET primary_objective_score = 'NaN' WHERE tweet_id "
           "= 'old50'");
    CHECK(check_named(validate(db, 0),
                      "v2_coverage")["numbers"]["unscored_in_learners_reach"] == 1);
    REQUIRE(
        run_tool("scrape-metrics", {"--input", "-", "--now", now, "--backfill"}, &db, "")
            .exit_code == 0);
    CHECK_FALSE(check_named(validate(db, 0), "v2_coverage")["numbers"].contains(
        "unscored_in_learners_reach"));
    // before scrape-metrics' first ok run, which scores them itself: not said
    c.exec("UPDATE public.outcomes SET primary_objective_score = NULL WHERE tweet_id "
           "LIKE 'old%'");
    c.exec("DELETE FROM xloop.job_runs WHERE job = 'scrape-metrics'");
    auto const never = check_named(validate(db, 1), "v2_coverage");
    CHECK_FALSE(never["numbers"].contains("unscored_in_learners_reach"));
}

TEST_CASE_METHOD(healthy,
                 "a pending migration that adds an index only leaves what the choices "
                 "are worth in the report",
                 "[db]")
{
    c.exec("DROP INDEX public.cgmc_unnamed_reply_idx");
    c.exec("DELETE FROM xloop.schema_migrations WHERE name = '0019_unnamed_reply_index'");
    auto const r = validate(db, 1);
    CHECK(check_named(r, "schema")["numbers"]["pending_migrations"] == 1);
    CHECK(r.contains("policy_value"));
    // a column it reads gone: the schema check names it, nothing is valued
    c.exec("ALTER TABLE public.outcomes DROP COLUMN primary_objective_score CASCADE");
    auto const gone = validate(db, 1);
    auto const missing = check_named(gone, "schema")["numbers"]["missing"];
    CHECK(std::find(missing.begin(), missing.end(),
                    "public.outcomes.primary_objective_score") != missing.end());
    CHECK_FALSE(gone.contains("policy_value"));
}

TEST_CASE("each check fails on its own when its part of the loop breaks", "[db]")
{
    struct flip {
        char const* check;
        char const* sql;
    };
    std::vector<flip> const flips{
        {"schema", "DROP VIEW public.vw_learning_never_there_placeholder_ignore"},
        {"job:scrape-metrics",
         "UPDATE xloop.job_runs SET started_at = started_at - interval "
         "'5 hours', finished_at = finished_at - interval '5 hours' "
         "WHERE job = 'scrape-metrics'"},
        {"weight_map",
         "UPDATE public.learning_model_weights SET computed_at = computed_at - "
         "interval '2 days'"},
        {"v2_coverage", "UPDATE public.outcomes SET primary_objective_score = NULL"},
        {"content_slot_coverage",
         "UPDATE public.content_generation_metadata_comprehensive SET content_slot = "
         "NULL"},
        {"reply_priorities",
         "UPDATE public.discovered_accounts SET priority_score = 0.5"},
        // due 3 hours before now (2026-03-02T12:00:00Z), never posted
        {"queue",
         "INSERT INTO public.content_generation_metadata_comprehensive (status, "
         "scheduled_at, created_at, decision_type, content_slot) VALUES ('queued', "
         "'2026-03-02T09:00:00Z', '2026-03-02T08:00:00Z', 'single', 'how_to')"},
    };
    for (auto const& f : flips) {
        if (std::string{f.check} == "schema") {
            continue; // covered below: dropping vw_learning
        }
        DYNAMIC_SECTION(f.check)
        {
            test_db db;
            db.migrate();
            auto c = db.connect();
            fill_healthy(c);
            c.exec(f.sql);
            auto const r = validate(db, 1);
            CHECK(failing(r) == std::set<std::string>{f.check});
        }
    }
    SECTION("schema")
    {
        test_db db;
        db.migrate();
        auto c = db.connect();
        fill_healthy(c);
        c.exec("DROP VIEW public.vw_learning");
        auto const r = validate(db, 1);
        CHECK(failing(r).count("schema"));
        CHECK(check_named(r, "schema")["message"].get<std::string>().find(
                  "public.vw_learning") != std::string::npos);
    }
}

TEST_CASE_METHOD(
    healthy,
    "the schema check names every relation and column missing, in the order the "
    "tools need them",
    "[db]")
{
    CHECK(check_named(validate(db, 0), "schema")["status"] == "ok");
    c.exec("ALTER TABLE public.discovered_accounts DROP COLUMN last_successful_reply_at");
    c.exec("ALTER TABLE public.follower_snapshots RENAME COLUMN follower_count TO "
           "followers");
    c.exec("DROP VIEW public.vw_learning");
    auto const schema = check_named(validate(db, 1), "schema");
    CHECK(schema["status"] == "fail");
    // in required_schema()'s order; a relation not there named once, not by column
    CHECK(schema["numbers"]["missing"] ==
          json::array({"public.follower_snapshots.follower_count", "public.vw_learning",
                       "public.discovered_accounts.last_successful_reply_at"}));
    CHECK(schema["message"].get<std::string>().starts_with(
        "3 missing (public.follower_snapshots.follower_count, …)"));
}

TEST_CASE("validate counts in the singular where there is one", "[db]")
{
    test_db db;
    db.migrate();
    auto c = db.connect();
    fill_healthy(c, 4); // three posts and one reply, to acct_1
    auto const r = run_tool("validate", {"--json", "--now", now, "-q"}, &db);
    INFO(r.err);
    auto const report = json::parse(r.out);
    CHECK(check_named(report, "vw_learning")["message"] ==
          "3 posts and 1 reply of the last 3 days, 4 with v2 metrics");
    CHECK(check_named(report, "reply_priorities")["message"] ==
          "1 account replied to, 3 with a learned priority");
    c.exec("DELETE FROM public.reply_opportunities WHERE tweet_id <> '701'");
    CHECK(check_named(validate(db, 0), "reply_opportunities")["message"] ==
          "1 opportunity came in during the last 3 days, the newest 2.0 h ago");
}

TEST_CASE_METHOD(healthy, "the queue check counts the replies among the queued items",
                 "[db]")
{
    // plan.queue_ahead posts and --replies N replies: "3 queued" alone reads
    // as a queue past its size
    c.exec("INSERT INTO public.content_generation_metadata_comprehensive (status, "
           "scheduled_at, created_at, decision_type, generation_source) VALUES "
           "('queued', $1::timestamptz + interval '1 hour', $1, 'single', 'xloop'), "
           "('queued', $1::timestamptz - interval '10 minutes', $1, 'reply', 'xloop')",
           now);
    auto r = check_named(validate(db, 0), "queue");
    CHECK(r["status"] == "ok");
    CHECK(r["message"] == "2 queued (1 of them a reply), none more than 2.0 h past its "
                          "time");
    CHECK(r["numbers"]["queued_replies"] == 1);
    c.exec("INSERT INTO public.content_generation_metadata_comprehensive (status, "
           "scheduled_at, created_at, decision_type, generation_source) VALUES "
           "('queued', $1::timestamptz, $1, 'reply', 'xloop')",
           now);
    r = check_named(validate(db, 0), "queue");
    CHECK(r["message"] == "3 queued (2 of them replies), none more than 2.0 h past its "
                          "time");
}

TEST_CASE_METHOD(healthy,
                 "a poster that publishes posts hours after their time, or before it, "
                 "warns with an example: post_hour learns the hours they went out",
                 "[db]")
{
    // xloop's eight posts due every 5 h; `late` of them out 3 h after their
    // time, the rest 5 minutes after (a poster on its own cron)
    auto const posted = [this](int late, char const* early) {
        c.exec("DELETE FROM public.content_generation_metadata_comprehensive WHERE "
               "generation_source = 'xloop'");
        c.exec("INSERT INTO public.content_generation_metadata_comprehensive (status, "
               "tweet_id, scheduled_at, posted_at, created_at, decision_type, "
               "generation_source) SELECT 'posted', (500 + g)::text, "
               "$1::timestamptz - g * interval '5 hours', $1::timestamptz - g * interval "
               "'5 hours' + CASE WHEN g <= $2::int THEN interval '3 hours' WHEN g = 8 "
               "THEN $3::interval ELSE interval '5 minutes' END, $1::timestamptz - "
               "interval '3 days', 'single', 'xloop' FROM generate_series(1, 8) g",
               now, late, early);
        return check_named(validate(db, 0), "queue");
    };
    // one late (an outage): learned at its hour, nothing to say
    auto r = posted(1, "5 minutes");
    CHECK(r["status"] == "ok");
    CHECK(r["numbers"]["posted_late_in_window"] == 1);
    r = posted(2, "5 minutes");
    CHECK(r["status"] == "warn");
    CHECK(r["numbers"]["posted_late_in_window"] == 2);
    // g = 1 due 5 h ago (2026-03-02T07:00Z), out at 10:00
    CHECK_THAT(r["message"].get<std::string>(),
               Catch::Contains("the poster published 2 of the 8 posts due in the last 3 "
                               "days 2.0 h or more after their time (e.g. tweet 501 due "
                               "at 2026-03-02T07:00Z, posted at 2026-03-02T10:00Z): "
                               "post_hour learns them at the hours they went out"));
    // before their time: 8 (due 40 h ago) out an hour early, then one more
    r = posted(0, "-1 hour");
    CHECK(r["numbers"]["posted_early_in_window"] == 1);
    CHECK(r["status"] == "ok");
    c.exec("UPDATE public.content_generation_metadata_comprehensive SET posted_at = "
           "scheduled_at - interval '20 minutes' WHERE tweet_id = '507'");
    r = check_named(validate(db, 0), "queue");
    CHECK(r["status"] == "warn");
    CHECK_THAT(r["message"].get<std::string>(),
               Catch::Contains("the poster published 2 of the 8 posts due in the last 3 "
                               "days before their time (e.g. tweet 507") &&
                   Catch::Contains("it does not wait for scheduled_at"));
}

TEST_CASE_METHOD(healthy,
                 "queued items long past their time say the poster is not posting",
                 "[db]")
{
    // xloop's: one due 90 minutes ago (within the 2 h), one in an hour, one
    // unscheduled
    c.exec("INSERT INTO public.content_generation_metadata_comprehensive (status, "
           "scheduled_at, created_at, decision_type, content_slot, generation_source) "
           "VALUES "
           "('queued', $1::timestamptz - interval '90 minutes', $1, 'single', 'how_to', "
           "'xloop'), "
           "('queued', $1::timestamptz + interval '1 hour', $1, 'single', 'how_to', "
           "'xloop'), "
           "('queued', NULL, $1, 'single', 'how_to', 'xloop')",
           now);
    auto r = check_named(validate(db, 0), "queue");
    CHECK(r["status"] == "ok");
    CHECK(r["message"] == "2 queued, none more than 2.0 h past its time; 1 more has no "
                          "scheduled_at and is not counted: if no poster will take it, "
                          "set its status to 'skipped'");
    CHECK(r["numbers"]["unscheduled"] == 1);
    // the poster stopped: two more, the oldest due 26 hours ago
    c.exec("INSERT INTO public.content_generation_metadata_comprehensive (status, "
           "scheduled_at, created_at, decision_type, content_slot, generation_source) "
           "VALUES "
           "('queued', $1::timestamptz - interval '26 hours', $1, 'single', 'how_to', "
           "'xloop'), "
           "('queued', $1::timestamptz - interval '3 hours', $1, 'reply', 'reply', "
           "'xloop')",
           now);
    auto const report = validate(db, 1);
    CHECK(report["verdict"] == "NOT READY");
    r = check_named(report, "queue");
    CHECK(r["status"] == "fail");
    CHECK(r["numbers"]["queued"] == 4);
    CHECK(r["numbers"]["overdue"] == 2);
    CHECK(
        r["message"] ==
        "2 queued items are more than 2.0 h past their time (the oldest was due at "
        "2026-03-01T10:00Z, 26.0 h ago); the last post was at 2026-03-02T10:30Z: is the "
        "poster publishing the queue? (items it should never post: set their status to "
        "'skipped'); 1 more has no scheduled_at and is not counted: if no poster will "
        "take it, set its status to 'skipped'");
    // a longer allowance in the config
    temp_dir dir;
    dir.write("x.yaml", "validate:\n  max_queue_delay_hours: 30\n");
    CHECK(check_named(validate(db, 0, {"--config", dir.path() + "/x.yaml"}),
                      "queue")["status"] == "ok");
}

TEST_CASE_METHOD(
    healthy,
    "items the poster marked failed are counted and named, and fail the queue "
    "check when it failed every one",
    "[db]")
{
    // xloop's items of the last days: two posted, one the poster failed
    auto const add = [&](char const* status, char const* ago, char const* error) {
        c.exec("INSERT INTO public.content_generation_metadata_comprehensive (status, "
               "generation_source, scheduled_at, created_at, decision_type, "
               "content_slot, error_message) VALUES ($1, 'xloop', $2::timestamptz - "
               "$3::interval, $2::timestamptz - interval '3 days', 'single', 'how_to', "
               "$4)",
               status, now, ago, std::optional<std::string>{error ? error : ""});
    };
    add("posted", "30 hours", nullptr);
    add("posted", "20 hours", nullptr);
    add("failed", "10 hours",
        "403 Forbidden: You are not allowed to create a Tweet "
        "with duplicate content.");
    auto r = check_named(validate(db, 0), "queue");
    CHECK(r["status"] == "warn");
    CHECK(r["numbers"]["failed_in_window"] == 1);
    CHECK(r["numbers"]["posted_in_window"] == 2);
    CHECK(r["message"] ==
          "0 queued, none more than 2.0 h past its time; the poster marked 1 of the 3 "
          "items due in the last 3 days failed (the latest: \"403 Forbidden: You are not "
          "allowed to create a Tweet with duplicate content.\")");
    // a window of one day is said as such
    CHECK_THAT(check_named(validate(db, 0, {"--days", "1"}), "queue")["message"]
                   .get<std::string>(),
               Catch::Contains("items due in the last day failed"));
    // every one failed: nothing is posted
    c.exec("UPDATE public.content_generation_metadata_comprehensive SET status = "
           "'failed', error_message = 'thread_parts must be a text[]' WHERE "
           "generation_source = 'xloop'");
    auto const report = validate(db, 1);
    r = check_named(report, "queue");
    CHECK(r["status"] == "fail");
    CHECK(r["message"] == "the poster failed every item of the last 3 days (3; the "
                          "latest: \"thread_parts must be a text[]\"): nothing is "
                          "posted; see its log, and error_message");
    // older failures are not the window's
    c.exec("UPDATE public.content_generation_metadata_comprehensive SET scheduled_at = "
           "scheduled_at - interval '4 days' WHERE generation_source = 'xloop'");
    CHECK(check_named(validate(db, 0), "queue")["status"] == "ok");
}

TEST_CASE_METHOD(
    healthy,
    "items another program writes after xloop-plan's first run (the original "
    "bot's planner left running) warn, naming it",
    "[db]")
{
    // the bot's history, before plan's first run 10 minutes ago
    CHECK(check_named(validate(db, 0), "queue")["status"] == "ok");
    c.exec("INSERT INTO public.content_generation_metadata_comprehensive (status, "
           "generation_source, scheduled_at, created_at, decision_type, content) VALUES "
           "('queued', 'bot_planner', $1::timestamptz + interval '1 hour', "
           "$1::timestamptz - interval '5 minutes', 'single', 'Posted by the old job.')",
           now);
    auto const r = check_named(validate(db, 0), "queue");
    CHECK(r["status"] == "warn");
    CHECK(r["numbers"]["by_another_program_in_window"] == 1);
    CHECK(r["message"] == "1 queued, none more than 2.0 h past its time; another program "
                          "wrote 1 item since xloop-plan's first run (generation_source "
                          "\"bot_planner\", the latest at 2026-03-02T11:55Z): if it is "
                          "the original bot's planner, stop it (items you queue by hand "
                          "are yours to keep)");
}

TEST_CASE_METHOD(healthy,
                 "one outcome and one item of the window are said in the singular",
                 "[db]")
{
    // the others collected before the window (deleted, their posts would be
    // unmeasured: vw_learning fails)
    c.exec(
        "UPDATE public.outcomes SET collected_at = $1::timestamptz - interval '30 days' "
        "WHERE decision_id <> (SELECT decision_id FROM public.outcomes ORDER BY "
        "collected_at DESC LIMIT 1)",
        now);
    c.exec("UPDATE public.content_generation_metadata_comprehensive SET created_at = "
           "$1::timestamptz - interval '30 days' WHERE id <> (SELECT id FROM "
           "public.content_generation_metadata_comprehensive ORDER BY created_at DESC "
           "LIMIT 1)",
           now);
    auto const r = validate(db, 0);
    CHECK(check_named(r, "v2_coverage")["message"] ==
          "1 of 1 outcome of the last 3 days has v2 metrics");
    CHECK(check_named(r, "content_slot_coverage")["message"] ==
          "1 of 1 item of the last 3 days has a content_slot");
}

TEST_CASE_METHOD(healthy,
                 "scored outcomes with no follows attributed are said, with the newest "
                 "follower snapshot",
                 "[db]")
{
    // another program's outcomes (no attribution worked out): nothing to say
    auto const theirs = check_named(validate(db, 0), "v2_coverage");
    CHECK(theirs["status"] == "ok");
    CHECK(theirs["numbers"]["with_attribution"] == 0);
    // xloop's, every one with follows attributed: nothing to say either
    c.exec("UPDATE public.outcomes SET attribution_confidence = 0.9");
    auto const ours = check_named(validate(db, 0), "v2_coverage");
    CHECK(ours["status"] == "ok");
    CHECK(ours["numbers"]["with_follows_attributed"] == 40);
    // X rate-limited the follower count for days: the snapshots stop two days
    // ago and the posts since have none after them (confidence 0); half of
    // the 40 still attributed is enough, fewer is said
    c.exec("DELETE FROM public.follower_snapshots WHERE snapshot_at > $1::timestamptz - "
           "interval '50 hours'",
           now);
    c.exec("UPDATE public.outcomes o SET attribution_confidence = 0 FROM "
           "public.content_generation_metadata_comprehensive c WHERE c.decision_id = "
           "o.decision_id AND c.tweet_id IN (SELECT 't' || g FROM generate_series(1, 20) "
           "g)");
    CHECK(check_named(validate(db, 0), "v2_coverage")["status"] == "ok");
    c.exec(
        "UPDATE public.outcomes SET attribution_confidence = 0 WHERE tweet_id = 't21'");
    auto const r = validate(db, 0); // a warning: still READY
    auto const few = check_named(r, "v2_coverage");
    CHECK(few["status"] == "warn");
    CHECK(few["numbers"]["with_follows_attributed"] == 19);
    CHECK(
        few["message"] ==
        "40 of 40 outcomes of the last 3 days have v2 metrics; 19 of the 40 outcomes "
        "xloop-scrape-metrics scored in the last 3 days have follows attributed (the "
        "newest follower snapshot was taken 2026-02-28T10:00:00Z, 2.1 days ago): a post "
        "without follower "
        "snapshots before and after it has no follows measured, and the loop learns from "
        "engagement and reach alone. xloop-scrape-metrics takes a snapshot a run unless "
        "X rate-limits the follower count (x_api.followers_every_minutes spaces them); a "
        "metrics file gives `follows` per post or `followers` records");
    c.exec("DELETE FROM public.follower_snapshots");
    CHECK_THAT(check_named(validate(db, 0), "v2_coverage")["message"].get<std::string>(),
               Catch::Contains("(there is no follower snapshot)"));
}

TEST_CASE_METHOD(healthy,
                 "a follower count that has not moved for two days warns that the posts' "
                 "follows are 0 and the count may be stale",
                 "[db]")
{
    c.exec("UPDATE public.outcomes SET attribution_confidence = 0.9");
    REQUIRE(check_named(validate(db, 0), "v2_coverage")["status"] == "ok");
    // the same count in every snapshot, hourly over 100 h
    c.exec("UPDATE public.follower_snapshots SET follower_count = 4321");
    auto const frozen = check_named(validate(db, 0), "v2_coverage");
    CHECK(frozen["status"] == "warn");
    CHECK(frozen["numbers"]["follower_count_unchanged"] == true);
    CHECK_THAT(
        frozen["message"].get<std::string>(),
        Catch::EndsWith("; the follower count has been 4321 in the last 101 "
                        "snapshots, since 2026-02-26T08:00:00Z (100 h): the posts' "
                        "attributed follows are 0 and the loop learns from "
                        "engagement and reach alone. If the account did gain or "
                        "lose followers, the count xloop-scrape-metrics reads is "
                        "stale (a cached answer, a metrics file whose `followers` "
                        "records no export updates)"));
    // one follower more an hour ago: the count moves
    c.exec("UPDATE public.follower_snapshots SET follower_count = 4322 WHERE snapshot_at "
           "= $1::timestamptz - interval '1 hour'",
           now);
    CHECK(check_named(validate(db, 0), "v2_coverage")["status"] == "ok");
    // another count until 41 h ago: unchanged for 40 h only, too soon to say
    auto const until = [&](char const* ago) {
        c.exec("UPDATE public.follower_snapshots SET follower_count = CASE WHEN "
               "snapshot_at < $1::timestamptz - $2::interval THEN 4000 ELSE 4321 END",
               now, ago);
    };
    until("40 hours");
    CHECK(check_named(validate(db, 0), "v2_coverage")["status"] == "ok");
    // until 61 h ago: 60 h unchanged, though the count moved before
    until("60 hours");
    CHECK_THAT(check_named(validate(db, 0), "v2_coverage")["message"].get<std::string>(),
               Catch::Contains("has been 4321 in the last 61 snapshots, since "
                               "2026-02-28T00:00:00Z (60 h)"));
}

TEST_CASE_METHOD(healthy,
                 "an outcome whose score is NaN counts as one without v2 metrics", "[db]")
{
    auto const before = validate(db, 0);
    auto const outcomes = check_named(before, "v2_coverage")["numbers"];
    auto const view = check_named(before, "vw_learning")["numbers"];
    REQUIRE(outcomes["with_v2"] == outcomes["outcomes"]);
    REQUIRE(view["with_v2"] == view["rows"]);
    // the newest post's, collected within the last 3 days
    c.exec("UPDATE public.outcomes SET primary_objective_score = 'NaN' WHERE "
           "decision_id = (SELECT decision_id FROM "
           "public.content_generation_metadata_comprehensive WHERE status = 'posted' "
           "ORDER BY posted_at DESC LIMIT 1)");
    auto const after = validate(db, 0);
    CHECK(check_named(after, "v2_coverage")["numbers"]["with_v2"] ==
          outcomes["with_v2"].get<int>() - 1);
    CHECK(check_named(after, "vw_learning")["numbers"]["with_v2"] ==
          view["with_v2"].get<int>() - 1);
}

TEST_CASE_METHOD(
    healthy,
    "outcomes another program collects after xloop-scrape-metrics' first run (the "
    "original bot's metrics job left running) warn, naming it",
    "[db]")
{
    // outcomes of the bot's, before scrape-metrics' first run
    CHECK(check_named(validate(db, 0), "v2_coverage")["status"] == "ok");
    c.exec("UPDATE public.outcomes SET data_source = 'bot_metrics', collected_at = "
           "$1::timestamptz - interval '5 minutes' WHERE decision_id = (SELECT "
           "decision_id FROM public.outcomes ORDER BY collected_at DESC LIMIT 1)",
           now);
    auto const r = check_named(validate(db, 0), "v2_coverage");
    CHECK(r["status"] == "warn");
    CHECK(r["numbers"]["by_another_program"] == 1);
    CHECK_THAT(r["message"].get<std::string>(),
               Catch::EndsWith("; another program wrote 1 of them since "
                               "xloop-scrape-metrics' first run (data_source "
                               "\"bot_metrics\"): if it is the original bot's metrics "
                               "job, stop it (its scores replace xloop's until the next "
                               "run)"));
    // xloop's own sources are its own
    c.exec("UPDATE public.outcomes SET data_source = 'x-api' WHERE data_source = "
           "'bot_metrics'");
    CHECK(check_named(validate(db, 0), "v2_coverage")["status"] == "ok");
}

TEST_CASE_METHOD(
    healthy,
    "replies in use with no opportunity for a day warn that the harvester stopped",
    "[db]")
{
    // 30 opportunities, one every 2 h back from 2 h ago: all in the 3 days
    auto check = check_named(validate(db, 0), "reply_opportunities");
    CHECK(check["status"] == "ok");
    CHECK(check["message"] ==
          "30 opportunities came in during the last 3 days, the newest 2.0 h ago");
    // none in the last 30 h: past validate.max_opportunity_age_hours (24)
    c.exec("DELETE FROM public.reply_opportunities WHERE discovered_at > "
           "$1::timestamptz - interval '30 hours'",
           now);
    check = check_named(validate(db, 0), "reply_opportunities");
    CHECK(check["status"] == "warn");
    CHECK(check["message"] ==
          "10 replies in the last 3 days, but no opportunity came in for 30.0 h (the "
          "newest at 2026-03-01T06:00Z): replies stop until the harvester that fills "
          "reply_opportunities runs again");
    // an account without replies: nothing to say
    c.exec("DELETE FROM public.reply_opportunities");
    c.exec("DELETE FROM public.content_generation_metadata_comprehensive WHERE "
           "decision_type = 'reply'");
    check = check_named(validate(db, 0), "reply_opportunities");
    CHECK(check["status"] == "ok");
    CHECK(check["message"] == "no reply opportunities and no replies in the last 3 days: "
                              "replies are not in use");
    check = check_named(validate(db, 0, {"--days", "1"}), "reply_opportunities");
    CHECK(check["message"] == "no reply opportunities and no replies in the last day: "
                              "replies are not in use");
}

TEST_CASE_METHOD(healthy,
                 "an account whose replies stopped is warned that there is nothing to "
                 "learn, one that does not reply is not",
                 "[db]")
{
    // opportunities still come in, but no reply was posted in the window
    c.exec("DELETE FROM public.content_generation_metadata_comprehensive WHERE "
           "decision_type = 'reply'");
    auto check = check_named(validate(db, 0), "reply_priorities");
    CHECK(check["status"] == "warn");
    CHECK(check["message"] == "no reply posted in the last 90 days "
                              "(replies.window_days): nothing to learn from");
    // nor any opportunity: replies are not in use, which is no fault (it had
    // warned for ever, where reply_opportunities called it fine)
    c.exec("DELETE FROM public.reply_opportunities");
    auto const r = validate(db, 0);
    check = check_named(r, "reply_priorities");
    CHECK(check["status"] == "ok");
    CHECK(check["message"] == "no replies in the last 90 days (replies.window_days), "
                              "and replies are not in use");
    CHECK(check_named(r, "reply_opportunities")["status"] == "ok");
}

TEST_CASE_METHOD(
    healthy, "opportunities plan cannot reply to are counted, and only such ones warn",
    "[db]")
{
    // of the 30, three with an id X has no post under, one with no author
    c.exec("UPDATE public.reply_opportunities SET tweet_id = 'o' || tweet_id WHERE "
           "tweet_id IN ('701', '702', '703')");
    c.exec("UPDATE public.reply_opportunities SET tweet_author = NULL WHERE tweet_id = "
           "'704'");
    auto check = check_named(validate(db, 0), "reply_opportunities");
    CHECK(check["status"] == "ok");
    CHECK(check["numbers"]["unusable_in_window"] == 4);
    CHECK(check["message"] ==
          "30 opportunities came in during the last 3 days, the newest "
          "2.0 h ago; 4 of them cannot be replied to (e.g. a "
          "tweet_author NULL that is no X handle)");
    // the harvester writes nothing plan can use: replies have stopped
    c.exec("UPDATE public.reply_opportunities SET tweet_id = 'o' || tweet_id WHERE "
           "tweet_author IS NOT NULL");
    check = check_named(validate(db, 0), "reply_opportunities");
    CHECK(check["status"] == "warn");
    CHECK(check["message"] ==
          "none of the 30 opportunities of the last 3 days can be "
          "replied to (e.g. a tweet_author NULL that is no X handle): "
          "fix the harvester that fills reply_opportunities");
}

TEST_CASE_METHOD(healthy,
                 "a line break in data a check quotes stays in its row of the table, "
                 "never a row of its own",
                 "[db]")
{
    // a harvester's author that holds a line and a forged row after it
    c.exec("UPDATE public.reply_opportunities SET tweet_author = E'evil\\nverdict: "
           "READY' WHERE tweet_id = '704'");
    auto const text = run_tool("validate", {"--now", now, "-q"}, &db);
    INFO(text.out);
    CHECK(text.out.find("(e.g. a tweet_author 'evil\\nverdict: READY' that is no X "
                        "handle)\n") != std::string::npos);
    auto lines = 0;
    for (std::size_t at = 0; (at = text.out.find("\nverdict: ", at)) != std::string::npos;
         ++at) {
        ++lines;
    }
    CHECK(lines == 1);
    // the JSON keeps the value as it is
    auto const check = check_named(validate(db, 0), "reply_opportunities");
    CHECK(check["message"].get<std::string>().find("'evil\nverdict: READY'") !=
          std::string::npos);
}

TEST_CASE_METHOD(healthy,
                 "opportunities without a discovered_at warn, waiting or already "
                 "expired by plan",
                 "[db]")
{
    // the harvester now writes discovered_at as NULL: nothing new comes in
    // with a time, and replies stopped; before, "replies are not in use"
    c.exec("DELETE FROM public.reply_opportunities");
    c.exec("DELETE FROM public.content_generation_metadata_comprehensive WHERE "
           "decision_type = 'reply'");
    c.exec("INSERT INTO public.reply_opportunities (tweet_id, tweet_author, "
           "opportunity_score, discovered_at) SELECT (800 + g)::text, 'acct_1', 0.5, "
           "NULL FROM generate_series(1, 3) g");
    auto check = check_named(validate(db, 0), "reply_opportunities");
    CHECK(check["status"] == "warn");
    CHECK(check["numbers"]["without_discovered_at"] == 3);
    CHECK(check["message"] ==
          "3 opportunities without a discovered_at, none with one in the last 3 "
          "days: xloop-plan expires them unreplied (a tweet of unknown age is never "
          "replied to); the harvester that fills reply_opportunities must write "
          "discovered_at, or leave it to its default (now())");
    // plan expired two of them; its ledger keeps the count for the window
    c.exec("UPDATE public.reply_opportunities SET status = 'expired' WHERE tweet_id <> "
           "'801'");
    c.exec("INSERT INTO xloop.job_runs (job, started_at, finished_at, status, detail) "
           "VALUES ('plan', $1::timestamptz - interval '5 minutes', $1::timestamptz - "
           "interval '5 minutes', 'ok', '{\"expired_age_unknown\": 2}')",
           now);
    check = check_named(validate(db, 0), "reply_opportunities");
    CHECK(check["status"] == "warn");
    CHECK(check["numbers"]["without_discovered_at"] == 3);
    // beside usable ones, a note on an ok check
    c.exec("INSERT INTO public.reply_opportunities (tweet_id, tweet_author, "
           "opportunity_score, discovered_at) VALUES ('900', 'acct_2', 0.5, "
           "$1::timestamptz - interval '1 hour')",
           now);
    check = check_named(validate(db, 0), "reply_opportunities");
    CHECK(check["status"] == "ok");
    CHECK(check["message"] ==
          "1 opportunity came in during the last 3 days, the newest 1.0 h ago; 3 "
          "without a discovered_at, which xloop-plan expires unreplied: the harvester "
          "that fills reply_opportunities must write discovered_at, or leave it to its "
          "default (now())");
    // an old plan run's count is out of the window, like the rows it expired
    c.exec("UPDATE xloop.job_runs SET started_at = started_at - interval '10 days' "
           "WHERE detail ? 'expired_age_unknown'");
    check = check_named(validate(db, 0), "reply_opportunities");
    CHECK(check["numbers"]["without_discovered_at"] == 1);
}

TEST_CASE_METHOD(
    healthy, "opportunities dated later than now warn: plan takes them late, as fresh",
    "[db]")
{
    // a harvester writing its local time (UTC+2) as UTC: two pending ones
    // 2 h ahead; one a minute ahead is within metrics.max_clock_skew_minutes
    c.exec("INSERT INTO public.reply_opportunities (tweet_id, tweet_author, "
           "opportunity_score, discovered_at) VALUES ('801', 'acct_1', 0.5, "
           "$1::timestamptz + interval '2 hours'), ('802', 'acct_2', 0.5, "
           "$1::timestamptz + interval '90 minutes'), ('803', 'acct_2', 0.5, "
           "$1::timestamptz + interval '1 minute')",
           now);
    auto check = check_named(validate(db, 0), "reply_opportunities");
    CHECK(check["status"] == "warn");
    CHECK(check["numbers"]["dated_in_future"] == 2);
    CHECK(check["message"] ==
          "30 opportunities came in during the last 3 days, the newest 2.0 h ago; 2 "
          "pending ones have a discovered_at later than now (up to 2.0 h ahead, e.g. "
          "tweet 801): plan takes each only once its time has come, then as fresh, so "
          "it replies to tweets that old and older; does the harvester write local "
          "time as UTC?");
    // taken or expired, they are no longer plan's to misjudge
    c.exec("UPDATE public.reply_opportunities SET status = 'expired' WHERE tweet_id IN "
           "('801', '802')");
    check = check_named(validate(db, 0), "reply_opportunities");
    CHECK(check["status"] == "ok");
    CHECK(check["numbers"]["dated_in_future"] == 0);
    // nothing dated up to now: the table is not empty, it is misdated
    c.exec(
        "DELETE FROM public.reply_opportunities WHERE discovered_at <= $1::timestamptz",
        now);
    c.exec("UPDATE public.reply_opportunities SET status = 'pending'");
    check = check_named(validate(db, 0), "reply_opportunities");
    CHECK(check["status"] == "warn");
    CHECK_THAT(check["message"].get<std::string>(),
               Catch::StartsWith("10 replies in the last 3 days, but none of the "
                                 "opportunities is dated up to now; 2 pending ones have "
                                 "a discovered_at later than now (up to 2.0 h ahead"));
}

TEST_CASE_METHOD(healthy,
                 "the account's own posts among the opportunities are counted as ones "
                 "plan will not reply to, by tweet id and by x_api.username",
                 "[db]")
{
    // the harvester found the account's post 701 (by acct_1, as it reads)
    c.exec("UPDATE public.content_generation_metadata_comprehensive SET tweet_id = '701' "
           "WHERE tweet_id = 't1'");
    auto check = check_named(validate(db, 0), "reply_opportunities");
    CHECK(check["status"] == "ok");
    CHECK(check["numbers"]["unusable_in_window"] == 1);
    CHECK(check["message"] == "30 opportunities came in during the last 3 days, the "
                              "newest 2.0 h ago; 1 of them cannot be replied to (e.g. "
                              "the account's own post, tweet 701 by @acct_1)");
    // with the account's handle: acct_0's ten (g = 3, 6, …, 30) as well
    temp_dir dir;
    dir.write("x.yaml", "x_api:\n  username: ACCT_0\n");
    check = check_named(validate(db, 0, {"--config", dir.path() + "/x.yaml"}),
                        "reply_opportunities");
    CHECK(check["numbers"]["unusable_in_window"] == 11);
    // an item posted long before the window is not looked for (a week's
    // search reaches no further back)
    c.exec("UPDATE public.content_generation_metadata_comprehensive SET created_at = "
           "created_at - interval '30 days' WHERE tweet_id = '701'");
    check = check_named(validate(db, 0), "reply_opportunities");
    CHECK(check["numbers"]["unusable_in_window"] == 0);
}

TEST_CASE_METHOD(
    healthy,
    "opportunities under a status plan never takes ('new', NULL) are counted as "
    "ones it cannot reply to",
    "[db]")
{
    // a harvester of its own ways: replies stop, since plan takes 'pending' ones
    c.exec("UPDATE public.reply_opportunities SET status = 'new'");
    c.exec("UPDATE public.reply_opportunities SET status = NULL WHERE tweet_id = '701'");
    auto check = check_named(validate(db, 0), "reply_opportunities");
    CHECK(check["status"] == "warn");
    CHECK(check["numbers"]["unusable_in_window"] == 30);
    CHECK(check["message"] == "none of the 30 opportunities of the last 3 days can be "
                              "replied to (e.g. a status 'new', where plan replies to "
                              "'pending' ones): fix the harvester that fills "
                              "reply_opportunities");
    // plan's own statuses are its to use
    c.exec("UPDATE public.reply_opportunities SET status = (ARRAY['pending', 'replied', "
           "'expired', 'skipped'])[1 + (tweet_id::int % 4)]");
    check = check_named(validate(db, 0), "reply_opportunities");
    CHECK(check["status"] == "ok");
    CHECK(check["numbers"]["unusable_in_window"] == 0);
}

TEST_CASE_METHOD(healthy,
                 "a value the active map holds likely best that plan's catalogue does "
                 "not list warns, naming it: plan never draws it",
                 "[db]")
{
    // an adopted database: the original bot's hook 'stat' is not the
    // catalogue's 'statistic', and it did best
    set_map_arms(c, "hook_type",
                 R"({"stat": {"shrunk_mean": 0.3, "sd": 0.02, "p_best": 0.83, "n": 412},
                     "question": {"shrunk_mean": 0.1, "sd": 0.02, "p_best": 0.17,
                                  "n": 380}})");
    auto const check = check_named(validate(db, 0), "weight_map");
    CHECK(check["status"] == "warn");
    CHECK(check["numbers"]["undrawn_best_values"] == 1);
    CHECK_THAT(check["message"].get<std::string>(),
               Catch::Contains("the map's likely best hook_type \"stat\" (P(best) 0.83, "
                               "412 posts) is not in plan's catalogue: plan never draws "
                               "it"));
    // listed in plan.catalogue: nothing to say
    CHECK(check_with_config(
              db, "weight_map",
              "plan:\n  catalogue:\n    hook_type: [question, stat]\n")["status"] ==
          "ok");
}

TEST_CASE_METHOD(healthy,
                 "posts that went out a day ago or more without metrics warn, naming "
                 "them and the file that gives none, and most of them fail",
                 "[db]")
{
    // t1 … t40 went out every 90 minutes: t16 on are 24 h old or more
    auto const drop = [this](std::string const& ids) {
        c.exec("DELETE FROM public.outcomes WHERE tweet_id IN (" + ids + ")");
    };
    drop("'t1', 't2'"); // younger: not yet
    drop("'t18', 't19', 't20'");
    drop("'t21'"); // X says it no longer exists
    c.exec(
        "UPDATE public.content_generation_metadata_comprehensive SET metrics_gone_at = "
        "$1::timestamptz WHERE tweet_id = 't21'",
        now);
    add_scrape_runs(c, {{0, R"({"records": 94, "not_newer": 93})"}});
    auto check = check_named(validate(db, 0), "vw_learning");
    INFO(check.dump());
    CHECK(check["status"] == "warn");
    CHECK(check["numbers"]["unmeasured"] == 3);
    auto const message = check["message"].get<std::string>();
    // t18 (27 h before now: 2026-03-01T09:00) … t20 (06:00), a reply
    CHECK_THAT(message,
               Catch::Contains("3 of the 25 posts and replies of the last 3 days that "
                               "went out 24.0 h ago or more (2 posts and 1 reply, from "
                               "2026-03-01T06:00:00Z to 2026-03-01T09:00:00Z) have no "
                               "metrics (validate.max_unmeasured_hours)") &&
                   Catch::Contains("read 94 records from its metrics file, 93 of them no "
                                   "newer than what it had: is the export that writes "
                                   "the file still running"));
    // a longer lag allowed: t18 … t20 are within it
    CHECK(check_with_config(db, "vw_learning",
                            "validate:\n  max_unmeasured_hours: 30.5\n")["status"] ==
          "ok");
    // the export stopped for good: most of the window unmeasured fails
    c.exec("DELETE FROM public.outcomes o USING "
           "public.content_generation_metadata_comprehensive p WHERE p.decision_id = "
           "o.decision_id AND p.posted_at < $1::timestamptz - interval '20 hours'",
           now);
    check = check_named(validate(db, 1), "vw_learning");
    CHECK(check["status"] == "fail");
    CHECK(check["numbers"]["unmeasured"] == 24);
    // nothing collected in the window while scrape-metrics runs: "run it"
    // would not help, the file is named
    c.exec("DELETE FROM public.outcomes");
    auto const coverage = check_named(validate(db, 1), "v2_coverage");
    CHECK_THAT(coverage["message"].get<std::string>(),
               Catch::StartsWith("no outcomes collected in the last 3 days, though "
                                 "xloop-scrape-metrics's last ok run was 0 min ago: "
                                 "xloop-scrape-metrics' last run read 94 records from "
                                 "its metrics file"));
}

TEST_CASE_METHOD(healthy,
                 "an hour the active map holds likely best that no time of plan.times is "
                 "in warns, naming the times: plan never posts then",
                 "[db]")
{
    // learned at 18 (a poster two hours and more behind, a time since taken
    // out of plan.times); the default times are 09:00, 13:00 and 18:00
    set_map_arms(c, "post_hour",
                 R"({"19": {"shrunk_mean": 0.3, "sd": 0.02, "p_best": 0.9, "n": 40},
                     "18": {"shrunk_mean": 0.1, "sd": 0.02, "p_best": 0.1, "n": 38}})");
    auto const check = check_named(validate(db, 0), "weight_map");
    CHECK(check["status"] == "warn");
    CHECK(check["numbers"]["undrawn_best_hour"] == 40);
    CHECK_THAT(check["message"].get<std::string>(),
               Catch::Contains("the map's likely best post_hour 19 (P(best) 0.90, 40 "
                               "posts) is the hour of no time in plan.times (09:00, "
                               "13:00, 18:00): plan never posts then"));
    // a time in that hour: nothing to say
    CHECK(check_with_config(
              db, "weight_map",
              "plan:\n  times: [\"09:00\", \"13:00\", \"19:30\"]\n")["status"] == "ok");
}

TEST_CASE_METHOD(
    healthy,
    "an active map holding a number no double holds is said to be unusable, and "
    "every report and plan still run",
    "[db]")
{
    // jsonb's numbers are numeric: a program other than build-weights can
    // leave 1e999 in the active map, which JSON parsers for doubles refuse
    c.exec("UPDATE public.learning_model_weights SET weights = jsonb_set(weights::jsonb, "
           "'{content_slot,how_to}', '1e999'), posteriors = jsonb_set(posteriors::jsonb, "
           "'{content_slot}', '{\"how_to\": {\"mean\": 1e999, \"sd\": 0.1}}') "
           "WHERE is_active");
    auto const report = validate(db, 1);
    auto const check = check_named(report, "weight_map");
    CHECK(check["status"] == "fail");
    CHECK(check["message"] ==
          "the active map (id 1) cannot be used by xloop-plan: its posteriors hold a "
          "number beyond a double's range (or are not JSON); run xloop-build-weights "
          "(plan draws uniformly until then)");
    auto const text = run_tool("validate", {"--now", now}, &db);
    CHECK(text.exit_code == 1);
    CHECK(text.err.find("error") == std::string::npos);
    temp_dir dir;
    auto const html =
        run_tool("validate", {"--now", now, "-q", "--html", dir.path() + "/r.html"}, &db);
    CHECK(html.exit_code == 1);
    CHECK(html.err.empty());
    // the weights chart shows the numbers it can: myth_busting, not 1e999
    auto const page = read_file(dir.path() + "/r.html");
    CHECK(page.find("<title>myth_busting: 0.3</title>") != std::string::npos);
    CHECK(page.find("<title>how_to:") == std::string::npos);
    // weights that are no object at all, or hold an array: no chart, no failure
    for (auto const* weights : {"[1, 2]", "\"x\"", "{\"tone\": [1]}"}) {
        c.exec("UPDATE public.learning_model_weights SET weights = $1::jsonb WHERE "
               "is_active",
               std::string{weights});
        auto const again = run_tool(
            "validate", {"--now", now, "-q", "--html", dir.path() + "/r.html"}, &db);
        INFO(weights);
        CHECK(again.exit_code == 1);
        CHECK(again.err.empty());
    }

    auto const plan = run_tool("plan", {"--now", now}, &db);
    INFO(plan.err);
    CHECK(plan.exit_code == 0);
    CHECK(
        plan.err.find("the active weight map (id 1) cannot be used: its posteriors hold "
                      "a number beyond a double's range") != std::string::npos);
    CHECK(
        db.count("SELECT count(*) FROM public.content_generation_metadata_comprehensive "
                 "WHERE status = 'queued'") > 0);
}

TEST_CASE_METHOD(
    healthy,
    "a reply's propensity no double holds is a reply without propensities, not a "
    "failed report",
    "[db]")
{
    c.exec("UPDATE public.content_generation_metadata_comprehensive SET features = "
           "'{\"propensity\": 1e999, \"baseline_p\": -1e999}' WHERE decision_type = "
           "'reply'");
    for (auto const* format : {"--json", "--checks"}) {
        auto const r = run_tool("validate", {"--now", now, format}, &db);
        INFO(r.err);
        CHECK(r.exit_code == 0);
    }
    auto const text = run_tool("validate", {"--now", now}, &db);
    CHECK(text.exit_code == 0);
    CHECK(text.out.find("Replies (7 replies with outcomes, 0 with propensities") !=
          std::string::npos);
}

TEST_CASE_METHOD(
    healthy,
    "an item queued for -infinity is overdue by no number of hours, not a failed "
    "report",
    "[db]")
{
    c.exec("INSERT INTO public.content_generation_metadata_comprehensive (status, "
           "scheduled_at, decision_type, content_slot) VALUES ('queued', '-infinity', "
           "'single', 'how_to')");
    auto const check = check_named(validate(db, 1), "queue");
    CHECK(check["status"] == "fail");
    CHECK(check["numbers"]["oldest_hours_late"].is_null());
    CHECK(check["message"].get<std::string>().rfind(
              "1 queued item is more than 2.0 h past its time (the oldest was due at "
              "-infinity); the last post was at 2026-03-02T10:30Z",
              0) == 0);
}

TEST_CASE_METHOD(healthy,
                 "items queued for infinity or after 2199 are never due: a warning that "
                 "names one, not a healthy queue",
                 "[db]")
{
    REQUIRE(check_named(validate(db, 0), "queue")["status"] == "ok");
    c.exec("INSERT INTO public.content_generation_metadata_comprehensive (status, "
           "scheduled_at, decision_type, content_slot) VALUES "
           "('queued', 'infinity', 'single', 'how_to'), "
           "('queued', '2500-01-01T00:00:00Z', 'single', 'how_to')");
    auto const check = check_named(validate(db, 0), "queue");
    CHECK(check["status"] == "warn");
    CHECK(check["numbers"]["never_due"] == 2);
    CHECK_THAT(check["message"].get<std::string>(),
               Catch::EndsWith("; 2 more are scheduled at a time that never comes (e.g. "
                               "infinity): give them a time, or set their status to "
                               "'skipped'"));
}

TEST_CASE("on a LATIN1 database with a writer that may give emoji the schema check "
          "warns, with the templates it does not",
          "[db]")
{
    test_db db{"TEMPLATE template0 ENCODING 'LATIN1' LC_COLLATE 'C' LC_CTYPE 'C'"};
    db.migrate();
    auto c = db.connect();
    fill_healthy(c);
    CHECK(check_named(validate(db, 0), "schema")["status"] == "ok");
    temp_dir dir;
    auto const cfg = dir.write("x.yaml", "plan:\n  writer:\n    kind: openai\n");
    auto const check = check_named(validate(db, 0, {"--config", cfg}), "schema");
    CHECK(check["status"] == "warn");
    CHECK(
        check["message"] ==
        "the database's encoding is LATIN1: a text the openai writer gives with a "
        "character it has not (an emoji, another script) stops xloop-plan with exit 65; "
        "a database created with ENCODING 'UTF8' holds every text");
}

TEST_CASE_METHOD(
    healthy,
    "a job not ok for three intervals says how its latest run ended, or to check "
    "cron when nothing ran",
    "[db]")
{
    // scrape-metrics (every 20 min) ok 2 h ago, rate limited since;
    // build-weights (every 6 h) ok 20 h ago, nothing since
    c.exec("DELETE FROM xloop.job_runs WHERE job IN ('scrape-metrics', 'build-weights')");
    add_run(c, "scrape-metrics", "2 hours", "ok");
    add_run(c, "scrape-metrics", "20 minutes", "failed",
            "X API rate limit reached (HTTP 429) on GET /2/tweets");
    add_run(c, "build-weights", "20 hours", "ok");
    auto const out = validate(db, 1);
    CHECK(check_named(out, "job:scrape-metrics")["message"] ==
          "xloop-scrape-metrics's last ok run was 2.0 h ago, more than 3 intervals of "
          "20 min: its latest run failed: X API rate limit reached (HTTP 429) on GET "
          "/2/tweets");
    CHECK(check_named(out, "job:build-weights")["message"] ==
          "xloop-build-weights's last ok run was 20.0 h ago, more than 3 intervals of "
          "6.0 h: check cron and its mail");
}

TEST_CASE_METHOD(healthy,
                 "a session left idle in a transaction is a warning naming it, the "
                 "tables it holds and how to end it",
                 "[db]")
{
    temp_dir dir;
    auto const cfg =
        dir.write("x.yaml", "validate:\n  max_idle_transaction_minutes: 0.01\n"); // 0.6 s
    // the bot's pooled client, never released, and one that ended
    auto [leaked, pid] = leak_transaction(
        db, "UPDATE public.outcomes SET likes = likes WHERE false", "node");
    auto ended = db.connect();
    ended.exec("BEGIN");
    ended.exec("SELECT 1");
    ended.exec("COMMIT");
    // another database's sessions are not this one's
    auto other = test_db{};
    auto elsewhere = other.connect();
    elsewhere.exec("BEGIN");
    elsewhere.exec("SELECT 1");
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));

    auto const warned =
        check_named(validate(db, 0, {"--config", cfg}), "idle_transactions");
    CHECK(warned["status"] == "warn");
    CHECK(warned["numbers"]["sessions"] == 1);
    CHECK_THAT(warned["message"].get<std::string>(),
               Catch::StartsWith("1 session has been idle in a transaction for more "
                                 "than 0.01 min (validate.max_idle_transaction_minutes), "
                                 "left open by its program: pid " +
                                 pid + " (node, idle in transaction for ") &&
                   Catch::Contains(", holding outcomes)") &&
                   Catch::Contains("pg_terminate_backend(pid) ends it"));

    leaked.exec("ROLLBACK");
    auto const after =
        check_named(validate(db, 0, {"--config", cfg}), "idle_transactions");
    CHECK(after["status"] == "ok");
    CHECK(after["message"] ==
          "no session of this database has been idle in a transaction "
          "for more than 0.01 min");
    // at the default, a second's idle transaction is no leak
    leaked.exec("BEGIN");
    leaked.exec("SELECT 1");
    std::this_thread::sleep_for(std::chrono::milliseconds(1000));
    CHECK(check_named(validate(db, 0), "idle_transactions")["status"] == "ok");
}

TEST_CASE_METHOD(
    healthy,
    "reply runs are a job of their own, judged once they have run, so failing "
    "replies are not hidden behind the posts' ok runs",
    "[db]")
{
    auto const has_check = [](json const& report, std::string const& name) {
        for (auto const& check : report["checks"]) {
            if (check["name"] == name) {
                return true;
            }
        }
        return false;
    };
    // an account that does not reply: no check of a job it does not run
    CHECK_FALSE(has_check(validate(db, 0), "job:plan-replies"));
    // xloop-plan --replies is recorded as plan-replies, the posts' runs as plan
    auto const replies = run_tool("plan", {"--replies", "1", "--now", now, "-q"}, &db);
    INFO(replies.err);
    REQUIRE(replies.exit_code == 0);
    CHECK(db.count("SELECT count(*) FROM xloop.job_runs WHERE job = 'plan-replies' AND "
                   "status = 'ok' AND started_at = '" +
                   std::string{now} + "'") == 1);
    CHECK(db.count("SELECT count(*) FROM xloop.job_runs WHERE job = 'plan' AND "
                   "started_at = '" +
                   std::string{now} + "'") == 0);
    auto r = check_named(validate(db, 0), "job:plan-replies");
    CHECK(r["status"] == "ok");
    CHECK(r["numbers"]["interval_minutes"] == 1440);
    CHECK(r["message"] == "the last ok run of xloop-plan --replies was 0 min ago");
    // its latest run failed while the posts' runs are fine: said on its own line
    add_run(c, "plan-replies", "0 minutes", "failed",
            std::string{"a reply's text could not be written"});
    auto const report = validate(db, 0);
    CHECK(check_named(report, "job:plan")["status"] == "ok");
    r = check_named(report, "job:plan-replies");
    CHECK(r["status"] == "warn");
    CHECK(r["message"] == "the latest run failed: a reply's text could not be written");
}

TEST_CASE_METHOD(healthy,
                 "a latest run's long error of many lines is one line of at most 400 "
                 "characters in validate's warning",
                 "[db]")
{
    // a server error with its DETAIL, HINT and statement, and more
    std::string error = "ERROR:  deadlock detected\nDETAIL:  Process 1 waits";
    error += std::string(2000, 'x') + "\nHINT:  See server log";
    add_run(c, "build-weights", "0 minutes", "failed", error);
    auto const r = check_named(validate(db, 0), "job:build-weights");
    CHECK(r["status"] == "warn");
    auto const message = r["message"].get<std::string>();
    CHECK(message.rfind(
              "the latest run failed: ERROR:  deadlock detected DETAIL:  Process 1 "
              "waits",
              0) == 0);
    CHECK(message.find('\n') == std::string::npos);
    CHECK(message.find("HINT") == std::string::npos);
    CHECK(message.size() < 450);
}

TEST_CASE_METHOD(healthy,
                 "xloop-plan --replies stopped while opportunities come in fails, and "
                 "stopped with replies switched off does not",
                 "[db]")
{
    add_run(c, "plan-replies", "10 days", "ok");
    auto r = check_named(validate(db, 1), "job:plan-replies");
    CHECK(r["status"] == "fail");
    CHECK_THAT(r["message"].get<std::string>(),
               Catch::Contains("check cron and its mail"));
    // no opportunity and no reply in the window: the operator stopped replies
    c.exec("DELETE FROM public.reply_opportunities");
    c.exec("DELETE FROM public.content_generation_metadata_comprehensive WHERE "
           "decision_type = 'reply'");
    auto const report = validate(db, 0);
    r = check_named(report, "job:plan-replies");
    CHECK(r["status"] == "ok");
    CHECK(r["message"] == "replies are not in use (no opportunity came in and no reply "
                          "was queued in the last 3 days); the last ok run of xloop-plan "
                          "--replies was 10.0 days ago");
    CHECK(check_named(report, "reply_opportunities")["status"] == "ok");
    // runs that still come and fail are no switched-off job
    add_run(c, "plan-replies", "1 day", "failed", std::string{"plan.timezone: bad"});
    CHECK(check_named(validate(db, 1), "job:plan-replies")["status"] == "fail");
}

TEST_CASE_METHOD(healthy, "a job's recent failures are counted even when it recovered",
                 "[db]")
{
    // two rate-limited runs in the window, one long before it
    c.exec("INSERT INTO xloop.job_runs (job, started_at, finished_at, status, error) "
           "SELECT 'scrape-metrics', $1::timestamptz - g * interval '1 hour', "
           "$1::timestamptz - g * interval '1 hour', 'failed', 'X API rate limit reached "
           "(HTTP 429) on GET /2/tweets; it resets at ' || g FROM unnest(ARRAY[2, 5, "
           "200]) g",
           now);
    auto const out = validate(db, 0);
    json job;
    for (auto const& check : out["checks"]) {
        if (check["name"] == "job:scrape-metrics") {
            job = check;
        }
    }
    CHECK(job["status"] == "ok");
    CHECK(job["numbers"]["runs_in_window"] == 3); // the two failures and the ok run
    CHECK(job["numbers"]["failed_in_window"] == 2);
    CHECK(job["message"].get<std::string>().find(
              "; 2 of its 3 runs of the last 3 days failed (latest: X API rate limit "
              "reached (HTTP 429) on GET /2/tweets; it resets at 2)") !=
          std::string::npos);
}

TEST_CASE_METHOD(
    healthy,
    "records scrape-metrics' runs of the window skipped are counted in its check", "[db]")
{
    // two runs in the window (3 days) that skipped records, one before it;
    // and another program's values, counted as none, never an error
    add_scrape_runs(c,
                    {{2, R"({"skipped_lines": 2, "observed_before_posting": 1})"},
                     {5, R"({"skipped_lines": 1, "observed_before_posting": 0})"},
                     {6, R"({"skipped_lines": "many", "observed_before_posting": 1e400,
                             "x_api_tweets_deferred": "3"})"},
                     {7, R"({"skipped_lines": -4, "observed_before_posting": [1],
                             "x_api_tweets_deferred": 1e300})"},
                     {200, R"({"skipped_lines": 50, "observed_before_posting": 40})"}});
    auto const out = validate(db, 0);
    auto const job = check_named(out, "job:scrape-metrics");
    CHECK(job["status"] == "ok");
    CHECK(job["numbers"]["skipped_lines_in_window"] == 3);
    CHECK(job["numbers"]["observed_before_posting_in_window"] == 1);
    CHECK(job["numbers"]["tweets_deferred_runs_in_window"] == 0);
    CHECK_THAT(job["message"].get<std::string>(),
               Catch::EndsWith("; its runs of the last 3 days skipped 3 bad lines and 1 "
                               "record observed before its post was posted (--skip-bad; "
                               "their logs name them)"));
    // another job's check has no such numbers
    CHECK_FALSE(
        check_named(out, "job:plan")["numbers"].contains("skipped_lines_in_window"));
}

TEST_CASE_METHOD(
    healthy,
    "scrape-metrics' runs X refused non-public metrics are counted in its check, "
    "with the two settings that end it",
    "[db]")
{
    add_scrape_runs(c, {{2, R"({"x_api_non_public_refused": true})"},
                        {3, R"({"x_api_non_public_refused": false})"},
                        {4, R"({"x_api_non_public_refused": true})"},
                        {200, R"({"x_api_non_public_refused": true})"}});
    auto const job = check_named(validate(db, 0), "job:scrape-metrics");
    CHECK(job["status"] == "ok");
    CHECK(job["numbers"]["non_public_refused_runs_in_window"] == 2);
    CHECK_THAT(job["message"].get<std::string>(),
               Catch::EndsWith("; X refused the non-public metrics (profile clicks) in 2 "
                               "runs of the last 3 days: set x_api.non_public_metrics: "
                               "false not to ask, or x_api.auth: oauth1 to read them"));
}

TEST_CASE_METHOD(healthy, "a job that never ran ok shows its latest error or skip reason",
                 "[db]")
{
    c.exec("DELETE FROM xloop.job_runs WHERE job IN ('plan', 'learn-replies', "
           "'scrape-metrics')");
    add_run(c, "plan", "2 hours", "failed", "writer command exited 3");
    // a lease's skip records its reason with the status in front
    add_run(c, "scrape-metrics", "1 hour", "skipped",
            "skipped: another run holds the lease (xloop-scrape-metrics on h, pid 7)");
    c.exec("INSERT INTO xloop.job_runs (job, started_at, finished_at, status, detail) "
           "VALUES ('learn-replies', $1::timestamptz - interval '1 hour', "
           "$1::timestamptz - interval '1 hour', 'skipped', "
           "'{\"reason\": \"no replies with v2 metrics in the window\"}')",
           now);
    auto const out = validate(db, 1);
    CHECK(check_named(out, "job:plan")["message"] ==
          "xloop-plan has never run ok; its latest run failed: writer command exited 3");
    CHECK(check_named(out, "job:learn-replies")["message"] ==
          "xloop-learn-replies has never run ok; its latest run skipped: no replies "
          "with v2 metrics in the window");
    CHECK(check_named(out, "job:scrape-metrics")["message"] ==
          "xloop-scrape-metrics has never run ok; its latest run skipped: another run "
          "holds the lease (xloop-scrape-metrics on h, pid 7)");
}

TEST_CASE_METHOD(
    healthy,
    "a first run without its end is said to be going on, or abandoned when its "
    "connection is gone",
    "[db]")
{
    c.exec("DELETE FROM xloop.job_runs WHERE job IN ('plan', 'learn-replies')");
    // plan's on this test's live connection; learn-replies' on no backend
    c.exec(
        "INSERT INTO xloop.job_runs (job, started_at, status, detail) VALUES "
        "('plan', $1::timestamptz - interval '10 minutes', 'running', "
        " jsonb_build_object('backend_pid', pg_backend_pid(), 'backend_start', "
        " (SELECT backend_start FROM pg_stat_activity WHERE pid = pg_backend_pid()))), "
        "('learn-replies', $1::timestamptz - interval '1 hour', 'running', "
        " '{\"backend_pid\": 999999, \"backend_start\": \"2026-03-02T10:59:59Z\"}')",
        now);
    auto const out = validate(db, 1);
    CHECK(check_named(out, "job:plan")["message"] ==
          "xloop-plan has never run ok; its latest run started at 2026-03-02T11:50:00Z "
          "and is still going (its connection is open)");
    CHECK(check_named(out, "job:learn-replies")["message"] ==
          "xloop-learn-replies has never run ok; its latest run was abandoned: its "
          "connection is gone (killed, or the database restarted); the job's next run "
          "marks it interrupted");
}

TEST_CASE_METHOD(healthy, "an age is never negative, even with --now before the event",
                 "[db]")
{
    // the map was computed 10 s after --now (a clock a little behind)
    c.exec("UPDATE public.learning_model_weights SET computed_at = $1::timestamptz + "
           "interval '10 seconds'",
           now);
    auto const out = validate(db, 0);
    auto const message = check_named(out, "weight_map")["message"].get<std::string>();
    CHECK(message.find("is 0 min old") != std::string::npos);
    CHECK(message.find("-0") == std::string::npos);
    // a day after --now (a --now in the past): dated, not "in the future old"
    c.exec("UPDATE public.learning_model_weights SET computed_at = $1::timestamptz + "
           "interval '30 hours'",
           now);
    auto const later =
        check_named(validate(db, 0), "weight_map")["message"].get<std::string>();
    CHECK_THAT(later, Catch::StartsWith("the active map is dated 30.0 h in the future "
                                        "and learned from "));
}

TEST_CASE_METHOD(
    healthy,
    "the weight_map check says how many days back the map learned, whatever the "
    "columns' type",
    "[db]")
{
    c.exec("UPDATE public.learning_model_weights SET date_range_end = $1::timestamptz, "
           "date_range_start = $1::timestamptz - interval '90 days 6 hours'",
           now);
    auto const check = check_named(validate(db, 0), "weight_map");
    CHECK(check["numbers"]["window_days"] == 90.3); // 90.25, to a tenth
    CHECK(check["message"].get<std::string>().find(
              "learned from 40 posts and replies of the last 90 "
              "days") != std::string::npos);
    // a map of one post: said so, warned (below validate.min_map_sample)
    c.exec("UPDATE public.learning_model_weights SET sample_size = 1");
    auto const one = check_named(validate(db, 0), "weight_map");
    CHECK(one["message"] == "the active map learned from 1 post or reply of the last 90 "
                            "days only");
    c.exec("UPDATE public.learning_model_weights SET sample_size = 40");
    // an adopted database's text columns, one not a time: no window, no error
    c.exec("ALTER TABLE public.learning_model_weights ALTER date_range_start TYPE text, "
           "ALTER date_range_end TYPE text");
    c.exec("UPDATE public.learning_model_weights SET date_range_start = 'last quarter'");
    auto const text = check_named(validate(db, 0), "weight_map");
    CHECK(text["status"] == "ok");
    CHECK_FALSE(text["numbers"].contains("window_days"));
    CHECK(text["message"].get<std::string>().find("of the last") == std::string::npos);
}

TEST_CASE_METHOD(
    healthy,
    "maps another program writes beside xloop-build-weights (the original bot's "
    "job left running) fail the check while one is active, warn for days after",
    "[db]")
{
    // the original bot's map before xloop ever ran: nothing to say of it
    CHECK(check_named(validate(db, 0), "weight_map")["status"] == "ok");
    // xloop-build-weights' run that wrote it (at its computed_at)
    c.exec("UPDATE xloop.job_runs SET detail = jsonb_build_object('map_id', m.id), "
           "started_at = m.computed_at, finished_at = m.computed_at FROM (SELECT id, "
           "computed_at FROM public.learning_model_weights) m WHERE job = "
           "'build-weights'");
    auto const ours =
        c.exec("SELECT max(id)::text FROM public.learning_model_weights").str(0, 0);
    CHECK(check_named(validate(db, 0), "weight_map")["status"] == "ok");

    // the bot's job writes one and makes it active
    auto const write_map = [&](std::string const& ago) {
        c.exec("UPDATE public.learning_model_weights SET is_active = false");
        return c
            .exec("INSERT INTO public.learning_model_weights (weights, posteriors, "
                  "computed_at, sample_size, is_active, version) SELECT weights, "
                  "posteriors, $1::timestamptz - $2::interval, 40, true, version + 1 "
                  "FROM public.learning_model_weights WHERE id = $3::bigint "
                  "RETURNING id::text",
                  now, ago, ours)
            .str(0, 0);
    };
    auto const theirs = write_map("30 minutes");
    auto const failed = check_named(validate(db, 1), "weight_map");
    CHECK(failed["status"] == "fail");
    CHECK(failed["numbers"]["maps_by_another_program"] == 1);
    CHECK(
        failed["message"] ==
        fmt::format("1 map of learning_model_weights since xloop-build-weights wrote its "
                    "first was written by another program (the newest: id {}, "
                    "computed_at 2026-03-02 11:30:00+00, the active one), where "
                    "xloop-build-weights' newest is id {}: is the original bot's "
                    "build-weights job still running? Stop it: two learners take turns "
                    "and plan draws from whichever wrote last",
                    theirs, ours));

    // xloop's next map is active again: a warning while the other's is recent
    auto const next = write_map("5 minutes");
    c.exec("INSERT INTO xloop.job_runs (job, started_at, finished_at, status, detail) "
           "VALUES ('build-weights', $1::timestamptz - interval '5 minutes', "
           "$1::timestamptz - interval '5 minutes', 'ok', jsonb_build_object('map_id', "
           "$2::bigint))",
           now, next);
    auto const warned = check_named(validate(db, 0), "weight_map");
    CHECK(warned["status"] == "warn");
    CHECK_THAT(warned["message"].get<std::string>(),
               Catch::Contains("(the newest: id " + theirs +
                               ", computed_at 2026-03-02 11:30:00+00), where "
                               "xloop-build-weights' newest is id " +
                               next + ": is the original bot's"));
    // and none once it is older than validate's days
    c.exec("UPDATE public.learning_model_weights SET computed_at = computed_at - "
           "interval '4 days' WHERE id = $1::bigint",
           theirs);
    CHECK(check_named(validate(db, 0), "weight_map")["status"] == "ok");
}

TEST_CASE_METHOD(healthy, "reply priorities all at one value are not called learned",
                 "[db]")
{
    c.exec("UPDATE public.discovered_accounts SET priority_score = 0");
    auto const out = validate(db, 1);
    auto const check = check_named(out, "reply_priorities");
    CHECK(check["status"] == "fail");
    CHECK(check["numbers"]["accounts_with_priority"] == 0);
    CHECK(check["message"].get<std::string>().find(
              "all 4 accounts have the same priority (0.000000): nothing was learned") !=
          std::string::npos);
}

TEST_CASE_METHOD(
    healthy,
    "a reply priority that is NaN or outside 0 to 1 is a warning naming one, not "
    "a learned priority",
    "[db]")
{
    c.exec("UPDATE public.discovered_accounts SET priority_score = CASE username "
           "WHEN 'acct_0' THEN 'NaN' WHEN 'never' THEN 2.5 ELSE priority_score END");
    auto const out = validate(db, 0);
    auto const check = check_named(out, "reply_priorities");
    CHECK(check["status"] == "warn");
    // of the three replied to, acct_0's NaN is no learned priority
    CHECK(check["numbers"]["accounts_with_priority"] == 2);
    CHECK(check["numbers"]["accounts_with_odd_priority"] == 2);
    CHECK_THAT(check["message"].get<std::string>(),
               Catch::Contains("2 accounts have a priority_score that is no number in "
                               "[0, 1] (e.g. \"@acct_0: NaN\"): plan ranks them as 0.5"));
    // too few usable ones left is the coverage's fail, still naming them
    c.exec("UPDATE public.discovered_accounts SET priority_score = -1 WHERE username = "
           "'acct_1'");
    auto const fail = check_named(validate(db, 1), "reply_priorities");
    CHECK(fail["status"] == "fail");
    CHECK_THAT(fail["message"].get<std::string>(),
               Catch::Contains("3 accounts replied to, 1 with a learned priority: run "
                               "xloop-learn-replies"));
    CHECK_THAT(fail["message"].get<std::string>(), Catch::Contains("3 accounts have a"));
}

TEST_CASE_METHOD(healthy,
                 "times another program stored as infinity are named, never subtracted",
                 "[db]")
{
    c.exec("UPDATE public.learning_model_weights SET computed_at = 'infinity'");
    c.exec("UPDATE public.reply_opportunities SET discovered_at = '-infinity'");
    c.exec("UPDATE public.content_generation_metadata_comprehensive SET posted_at = "
           "'infinity' WHERE tweet_id = 't1'");
    auto const out = validate(db, 1);
    auto const map = check_named(out, "weight_map");
    CHECK(map["status"] == "fail");
    CHECK(map["numbers"]["age_hours"].is_null());
    CHECK_THAT(
        map["message"].get<std::string>(),
        Catch::Contains("the active map's computed_at is infinity: it has no age"));
    // an opportunity at -infinity is none of the window's
    CHECK(check_named(out, "reply_opportunities")["numbers"]["found_in_window"] == 0);
    CHECK_THAT(check_named(out, "posted_items")["message"].get<std::string>(),
               Catch::Contains("(e.g. tweet t1 posted at infinity)"));
}

TEST_CASE_METHOD(
    healthy,
    "posted items without a tweet id or posting time, or sharing a tweet id, are "
    "named",
    "[db]")
{
    CHECK(check_named(validate(db, 0), "posted_items")["status"] == "ok");
    // 40 posted: one loses its time, one its tweet id, two share one tweet id
    // (one of them an older item outside the window: both are counted wrong
    // only where they are in it).
    c.exec("UPDATE public.content_generation_metadata_comprehensive SET posted_at = NULL "
           "WHERE tweet_id = 't1'");
    c.exec("UPDATE public.content_generation_metadata_comprehensive SET tweet_id = NULL "
           "WHERE tweet_id = 't2'");
    c.exec("INSERT INTO public.content_generation_metadata_comprehensive (status, "
           "tweet_id, posted_at, created_at) VALUES ('posted', 't3', "
           "$1::timestamptz - interval '20 days', $1::timestamptz - interval '20 days')",
           now);
    auto r = validate(db, 0);
    auto check = check_named(r, "posted_items");
    INFO(check.dump());
    CHECK(check["status"] == "warn");
    CHECK(check["numbers"]["posted"] == 40);
    CHECK(check["numbers"]["without_posted_at"] == 1);
    CHECK(check["numbers"]["without_tweet_id"] == 1);
    CHECK(check["numbers"]["sharing_tweet_id"] == 1);
    auto const decision = [&](char const* where) {
        return db.connect()
            .exec(fmt::format("SELECT decision_id::text FROM "
                              "public.content_generation_metadata_comprehensive WHERE {}",
                              where))
            .str(0, 0);
    };
    auto const message = check["message"].get<std::string>();
    CHECK(message.find("1 have a tweet_id but no posted_at (e.g. decision " +
                       decision("tweet_id = 't1'") + ")") != std::string::npos);
    CHECK(message.find("1 have no tweet_id (e.g. decision " +
                       decision("tweet_id IS NULL") + ")") != std::string::npos);
    CHECK(message.find("(e.g. tweet t3)") != std::string::npos);

    // Half of them unusable is no longer a detail.
    c.exec("UPDATE public.content_generation_metadata_comprehensive SET posted_at = NULL "
           "WHERE created_at > $1::timestamptz - interval '3 days' AND tweet_id <= 't5'",
           now);
    r = validate(db, 1);
    check = check_named(r, "posted_items");
    INFO(check.dump());
    CHECK(check["status"] == "fail");
    CHECK(check["numbers"]["without_posted_at"].get<int>() >= 18);
}

TEST_CASE_METHOD(
    healthy,
    "posted items dated in the future, or with a tweet id under another status, "
    "are named",
    "[db]")
{
    // Within the clock skew allowed (10 minutes) is not the future.
    c.exec("UPDATE public.content_generation_metadata_comprehensive SET posted_at = "
           "$1::timestamptz + interval '5 minutes' WHERE tweet_id = 't3'",
           now);
    CHECK(check_named(validate(db, 0), "posted_items")["status"] == "ok");
    c.exec("UPDATE public.content_generation_metadata_comprehensive SET posted_at = "
           "$1::timestamptz + interval '2 hours' WHERE tweet_id = 't4'",
           now);
    c.exec(
        "UPDATE public.content_generation_metadata_comprehensive SET status = 'POSTED' "
        "WHERE tweet_id = 't5'");
    auto const r = validate(db, 0);
    auto const check = check_named(r, "posted_items");
    INFO(check.dump());
    CHECK(check["status"] == "warn");
    CHECK(check["numbers"]["posted"] == 39);
    CHECK(check["numbers"]["posted_in_future"] == 1);
    CHECK(check["numbers"]["tweet_id_not_posted"] == 1);
    auto const message = check["message"].get<std::string>();
    CHECK(message.find("1 have a posted_at later than now (e.g. tweet t4 posted at "
                       "2026-03-02T14:00Z)") != std::string::npos);
    CHECK(message.find("1 other items have a tweet_id but a status other than 'posted' "
                       "(e.g. tweet t5 with status 'POSTED'): no tool reads them") !=
          std::string::npos);

    // A poster that writes every item under its own status: nothing is learned.
    c.exec("UPDATE public.content_generation_metadata_comprehensive SET status = "
           "'published' WHERE status = 'posted'");
    CHECK(check_named(validate(db, 1), "posted_items")["status"] == "fail");
}

TEST_CASE("validate counts every row, not the first thousand", "[db]")
{
    test_db db;
    db.migrate();
    auto c = db.connect();
    fill_healthy(c, 1500);
    auto const r = validate(db, 0, {"--days", "100"});
    CHECK(check_named(r, "v2_coverage")["numbers"]["outcomes"] == 1500);
    auto const view = check_named(r, "vw_learning");
    CHECK(view["numbers"]["rows"] == 1500);
    // every fourth item a reply: posts and replies are told apart
    CHECK(view["numbers"]["replies"] == 375);
    CHECK(view["message"] ==
          "1125 posts and 375 replies of the last 100 days, 1500 with v2 "
          "metrics");
    CHECK(check_named(r, "content_slot_coverage")["numbers"]["content"] == 1500);
}

TEST_CASE_METHOD(healthy, "the JSON report has the documented shape", "[db]")
{
    auto const r = validate(db, 0);
    REQUIRE(r.is_object());
    CHECK(r["tool"] == "xloop-validate");
    CHECK((r["verdict"] == "READY" || r["verdict"] == "NOT READY"));
    CHECK(r["exit_code"] == 0);
    CHECK(r["days"] == 3);
    REQUIRE(r["checks"].is_array());
    CHECK(r["checks"].size() == 14);
    for (auto const& ch : r["checks"]) {
        CHECK(ch["name"].is_string());
        CHECK((ch["status"] == "ok" || ch["status"] == "warn" || ch["status"] == "fail"));
        CHECK(ch["message"].is_string());
        CHECK_FALSE(ch["message"].get<std::string>().empty());
        CHECK(ch["numbers"].is_object());
    }
}

TEST_CASE("the HTML page replaces the old one whole, and a path that cannot be a file "
          "exits 64 with the reason",
          "[db]")
{
    test_db db;
    db.migrate();
    temp_dir dir;
    auto const file = dir.write("report.html", "the page of an earlier run");
    REQUIRE(run_tool("validate", {"--now", now, "-q", "--html", file}, &db).exit_code ==
            1);
    CHECK(read_file(file).rfind("<!DOCTYPE html>", 0) == 0);
    // nothing left beside it
    CHECK(std::distance(std::filesystem::directory_iterator{dir.path()},
                        std::filesystem::directory_iterator{}) == 1);

    auto const missing = run_tool(
        "validate", {"--now", now, "-q", "--html", dir.path() + "/no/such.html"}, &db);
    CHECK(missing.exit_code == 64);
    CHECK(missing.err.find("--html: cannot write '" + dir.path() +
                           "/no/such.html': No such file or directory") !=
          std::string::npos);
    CHECK(missing.out.empty()); // refused before the checks: no table
    auto const directory =
        run_tool("validate", {"--now", now, "-q", "--html", dir.path()}, &db);
    CHECK(directory.exit_code == 64);
    CHECK(directory.err.find("it is a directory") != std::string::npos);
    CHECK(directory.out.empty());
}

TEST_CASE("the HTML page through a symbolic link replaces the file it points to, and "
          "into a FIFO or a device is written, never replaced by a file",
          "[db]")
{
    test_db db;
    db.migrate();
    temp_dir dir;
    auto const file = dir.write("report.html", "the page of an earlier run");
    auto const link = dir.path() + "/index.html";
    std::filesystem::create_symlink("report.html", link);
    REQUIRE(run_tool("validate", {"--now", now, "-q", "--checks", "--html", link}, &db)
                .exit_code == 1);
    CHECK(std::filesystem::is_symlink(link));
    CHECK(read_file(file).rfind("<!DOCTYPE html>", 0) == 0);
    CHECK(std::distance(std::filesystem::directory_iterator{dir.path()},
                        std::filesystem::directory_iterator{}) == 2);

    // a FIFO (and so /dev/stdout to a pipe) gets the page and stays a FIFO
    auto const fifo = dir.path() + "/page.fifo";
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    std::string got;
    std::thread reader{[&] {
        std::ifstream in{fifo, std::ios::binary};
        got.assign(std::istreambuf_iterator<char>{in}, {});
    }};
    auto const r =
        run_tool("validate", {"--now", now, "-q", "--checks", "--html", fifo}, &db);
    // a reader still waiting (the tool never opened the FIFO) gets its end
    if (int const fd = ::open(fifo.c_str(), O_WRONLY | O_NONBLOCK); fd >= 0) {
        ::close(fd);
    }
    reader.join();
    CHECK(r.exit_code == 1);
    CHECK(got.rfind("<!DOCTYPE html>", 0) == 0);
    struct stat st {};
    REQUIRE(::stat(fifo.c_str(), &st) == 0);
    CHECK(S_ISFIFO(st.st_mode));
    // a device that is full: exit 75 naming the reason, the device left as it was
    // (as root, a file took /dev/full's place)
    auto const full = run_tool(
        "validate", {"--now", now, "-q", "--checks", "--html", "/dev/full"}, &db);
    CHECK(full.exit_code == 75);
    CHECK_THAT(full.err,
               Catch::Contains("--html: cannot write '/dev/full': No space left "
                               "on device"));
    REQUIRE(::stat("/dev/full", &st) == 0);
    CHECK(S_ISCHR(st.st_mode));
}

TEST_CASE_METHOD(healthy,
                 "the page sent to stdout (--html -, /dev/stdout) is all stdout holds, "
                 "never after the table, and refused with --json",
                 "[db]")
{
    for (std::string const path : {"-", "/dev/stdout"}) {
        auto const r = run_tool("validate", {"--now", now, "-q", "--html", path}, &db);
        INFO(path);
        INFO(r.err);
        CHECK(r.exit_code == 0);
        CHECK(r.out.rfind("<!DOCTYPE html>", 0) == 0);
        CHECK(r.out.find("verdict: ") == std::string::npos);
        CHECK(r.out.find("</html>") != std::string::npos);
        CHECK(r.err.empty());
    }
    CHECK_FALSE(std::filesystem::exists("-"));
    auto const both = run_tool("validate", {"--now", now, "--json", "--html", "-"}, &db);
    CHECK(both.exit_code == 64);
    CHECK_THAT(both.err, Catch::Contains("--json and --html - both write to stdout: give "
                                         "--html a file"));
    CHECK(nlohmann::json::parse(both.out)["exit_code"] == 64); // --json's one object
}

TEST_CASE_METHOD(healthy, "the HTML page is self-contained and has an SVG per chart",
                 "[db]")
{
    temp_dir dir;
    auto const file = dir.path() + "/report.html";
    auto const r = run_tool("validate", {"--now", now, "-q", "--html", file}, &db);
    REQUIRE(r.exit_code == 0);
    auto const html = read_file(file);
    // 4 charts + one per dimension of the active map (2)
    std::size_t svgs = 0;
    for (auto p = html.find("<svg"); p != std::string::npos;
         p = html.find("<svg", p + 1)) {
        ++svgs;
    }
    CHECK(svgs == 6);
    CHECK(html.find("v2 coverage per day") != std::string::npos);
    CHECK(html.find("follower count over time") != std::string::npos);
    CHECK(html.find("items per day by content slot") != std::string::npos);
    CHECK(html.find("weights of content_slot") != std::string::npos);
    CHECK(html.find("distribution of reply priorities") != std::string::npos);
    // nothing loaded from elsewhere: the only URLs are XML namespaces
    std::regex const url{R"((src|href)\s*=|url\(|@import|<link|<script)"};
    CHECK_FALSE(std::regex_search(html, url));
    auto without_ns = std::regex_replace(
        html, std::regex{R"re(xmlns="http://www\.w3\.org/(2000/svg|1999/xhtml)")re"}, "");
    CHECK(without_ns.find("http") == std::string::npos);
    // well-formed: every element closed, properly nested
    std::stack<std::string> open;
    std::regex const tag{R"(<(/?)([a-zA-Z][a-zA-Z0-9]*)[^>]*?(/?)>)"};
    bool nested = true;
    auto body = html.substr(html.find("<html"));
    for (std::sregex_iterator it{body.begin(), body.end(), tag}, end; it != end; ++it) {
        auto const& m = *it;
        if (m[3] == "/" || m[2] == "meta") {
            continue;
        }
        if (m[1] == "/") {
            if (open.empty() || open.top() != m[2]) {
                nested = false;
                break;
            }
            open.pop();
        } else {
            open.push(m[2]);
        }
    }
    CHECK(nested);
    CHECK(open.empty());
}

namespace {

// Headless Chromium on the page `url` with `args`, its profile in `dir`.
process_result chromium(temp_dir const& dir, std::vector<std::string> const& args,
                        std::string const& url)
{
    std::vector<std::string> argv{"/usr/bin/chromium",
                                  "--headless",
                                  "--no-sandbox",
                                  "--disable-gpu",
                                  "--disable-dev-shm-usage",
                                  "--hide-scrollbars",
                                  "--user-data-dir=" + dir.path() + "/profile"};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.push_back(url);
    auto r = run_command(argv);
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    return r;
}

bool has_chromium()
{
    if (access("/usr/bin/chromium", X_OK) != 0) {
        WARN("chromium is not installed (scripts/setup installs it): not rendered");
        return false;
    }
    return true;
}

} // namespace

TEST_CASE_METHOD(healthy, "the HTML page renders in a headless Chromium", "[db]")
{
    if (!has_chromium()) {
        return;
    }
    temp_dir dir;
    auto const file = dir.path() + "/report.html";
    REQUIRE(run_tool("validate", {"--now", now, "-q", "--html", file}, &db).exit_code ==
            0);
    auto browse = [&](std::vector<std::string> args) {
        args.push_back("--window-size=1200,1600");
        return chromium(dir, args, "file://" + file);
    };

    // The DOM the browser built holds every chart as an SVG element.
    auto const dom = browse({"--dump-dom"}).out;
    std::size_t svgs = 0;
    for (auto p = dom.find("<svg"); p != std::string::npos; p = dom.find("<svg", p + 1)) {
        ++svgs;
    }
    CHECK(svgs == 6);
    CHECK(dom.find("READY") != std::string::npos);

    // A screenshot of the window's size, with far more in it than a blank page
    // (about 9 KB as PNG at this size).
    browse({"--screenshot=" + dir.path() + "/shot.png"});
    auto const png = read_file(dir.path() + "/shot.png");
    REQUIRE(png.size() > 24);
    CHECK(png.substr(1, 3) == "PNG");
    auto be32 = [&](std::size_t at) {
        return (std::uint32_t(std::uint8_t(png[at])) << 24) |
               (std::uint32_t(std::uint8_t(png[at + 1])) << 16) |
               (std::uint32_t(std::uint8_t(png[at + 2])) << 8) |
               std::uint8_t(png[at + 3]);
    };
    CHECK(be32(16) == 1200); // IHDR width
    CHECK(be32(20) == 1600); // IHDR height
    CHECK(png.size() > 40000);
}

TEST_CASE_METHOD(healthy,
                 "the HTML page fits a phone's width: the checks wrap, a wide table "
                 "scrolls in itself and wider a check's name is one line",
                 "[db]")
{
    if (!has_chromium()) {
        return;
    }
    temp_dir dir;
    REQUIRE(run_tool("validate",
                     {"--now", now, "-q", "--html", dir.path() + "/report.html"}, &db)
                .exit_code == 0);
    // The page in a frame 390 px wide (a phone's); the frame's document says
    // how wide its content is, and whether the learned values are there.
    auto const phone = dir.write("phone.html", R"html(<!DOCTYPE html>
<html><body style="margin: 0">
<iframe id="f" src="report.html" style="width: 390px; height: 800px; border: 0"></iframe>
<iframe id="g" src="report.html" style="width: 700px; height: 800px; border: 0"></iframe>
<script>
// the most lines a check's name takes in the frame
function nameLines(d) {
  var most = 0;
  d.querySelector('table').querySelectorAll('td:first-child').forEach(function (td) {
    var r = d.createRange();
    r.selectNodeContents(td);
    var line = parseFloat(getComputedStyle(td).lineHeight);
    most = Math.max(most, Math.round(r.getBoundingClientRect().height / line));
  });
  return most;
}
document.getElementById('f').onload = function () {
  var d = this.contentDocument;
  document.body.setAttribute('data-width', String(d.documentElement.scrollWidth));
  document.body.setAttribute('data-wide', String(d.querySelectorAll('.wide table').length));
  document.body.setAttribute('data-phone-lines', String(nameLines(d)));
};
document.getElementById('g').onload = function () {
  document.body.setAttribute('data-desktop-lines', String(nameLines(this.contentDocument)));
};
</script></body></html>)html");
    auto const dom = chromium(dir,
                              {"--allow-file-access-from-files",
                               "--virtual-time-budget=10000", "--dump-dom"},
                              "file://" + phone)
                         .out;
    INFO(dom.substr(0, 400));
    auto const attribute = [&](std::string const& name) {
        auto const at = dom.find(name + "=\"");
        REQUIRE(at != std::string::npos);
        return std::stoi(dom.substr(at + name.size() + 2));
    };
    // no wider than the frame: the page does not scroll sideways
    CHECK(attribute("data-width") <= 390);
    // the wide tables (what the choices are worth) are there, scrolling in
    // themselves
    CHECK(attribute("data-wide") >= 1);
    // a long check name (content_slot_coverage) breaks at its '_' on the
    // phone; in a frame wider than a phone's (700 px: the messages squeeze
    // the column) every name is one line
    CHECK(attribute("data-phone-lines") >= 2);
    CHECK(attribute("data-desktop-lines") == 1);
}

TEST_CASE_METHOD(healthy, "validate runs as a read-only role, without its ledger row",
                 "[db]")
{
    // a role per test database (roles are cluster-wide), used through the
    // connection's startup options: no password needed
    auto const role = "reader_" + db.conninfo().substr(std::string{"dbname="}.size());
    c.exec(fmt::format("CREATE ROLE {} NOLOGIN", quote_ident(role)));
    c.exec(fmt::format("GRANT USAGE ON SCHEMA public, xloop TO {0}; GRANT SELECT ON ALL "
                       "TABLES IN SCHEMA public, xloop TO {0}",
                       quote_ident(role)));
    auto const runs_before = db.count("SELECT count(*) FROM xloop.job_runs");
    auto const r = run_tool("validate",
                            {"--db", db.conninfo() + " options='-c role=" + role + "'",
                             "--json", "--now", now},
                            nullptr);
    INFO(r.err);
    CHECK(r.exit_code == 0);
    CHECK(json::parse(r.out)["verdict"] == "READY");
    CHECK(r.err.find("not recorded in xloop.job_runs") != std::string::npos);
    CHECK(db.count("SELECT count(*) FROM xloop.job_runs") == runs_before);
    c.exec(fmt::format("DROP OWNED BY {0}; DROP ROLE {0}", quote_ident(role)));
}

TEST_CASE("on a read-only database validate runs unrecorded, every writing tool stops "
          "before its work with exit 78 naming the primary",
          "[db]")
{
    test_db db;
    auto const read_only =
        db.conninfo() + " options='-c default_transaction_read_only=on'";
    // Not migrated yet: migrate's first statement fails, and says why.
    auto const fresh = run_tool("migrate", {"--db", read_only});
    INFO(fresh.err);
    CHECK(fresh.exit_code == 78);
    CHECK(fresh.err.find("the database is read-only (a hot standby, or "
                         "default_transaction_read_only is on)") != std::string::npos);
    CHECK(db.count("SELECT count(*) FROM pg_namespace WHERE nspname = 'xloop'") == 0);

    db.migrate();
    auto c = db.connect();
    fill_healthy(c);
    auto const counts = [&] {
        return db.count("SELECT (SELECT count(*) FROM xloop.job_runs) * 1000000 + "
                        "(SELECT count(*) FROM public.content_generation_metadata_"
                        "comprehensive) * 1000 + (SELECT count(*) FROM public.outcomes)");
    };
    auto const before = counts();
    temp_dir dir;
    auto const metrics = dir.write(
        "m.jsonl", R"({"tweet_id":"t1","observed_at":"2026-03-02T11:00:00Z","likes":3})"
                   "\n");
    for (auto const& [tool, args] :
         std::vector<std::pair<std::string, std::vector<std::string>>>{
             {"migrate", {}},
             {"scrape-metrics", {"--source", "file", "--input", metrics}},
             {"build-weights", {}},
             {"learn-replies", {}},
             {"plan", {}},
             {"plan", {"--replies", "3"}}}) {
        auto full = args;
        full.insert(full.end(), {"--db", read_only, "--now", now});
        auto const r = run_tool(tool, full);
        INFO(tool << ": " << r.err);
        CHECK(r.exit_code == 78);
        CHECK(r.err.find("the database is read-only") != std::string::npos);
        CHECK(r.err.find("xloop-" + tool + " writes to it: point --db at the primary") !=
              std::string::npos);
        // one message, not the same again from the ledger's end of run
        CHECK(r.err.find("could not record") == std::string::npos);
    }
    auto const v = run_tool("validate", {"--db", read_only, "--json", "--now", now});
    INFO(v.err);
    CHECK(v.exit_code == 0);
    CHECK(json::parse(v.out)["verdict"] == "READY");
    CHECK(v.err.find("not recorded in xloop.job_runs: the database is read-only") !=
          std::string::npos);
    auto const status = run_tool("migrate", {"status", "--check", "--db", read_only});
    INFO(status.err);
    CHECK(status.exit_code == 0);
    CHECK(counts() == before);
}

namespace {

// Connects as `role` through the connection's startup options: no password.
std::string as_role(test_db const& db, std::string const& role)
{
    return db.conninfo() + " options='-c role=" + role + "'";
}

// Runs the shipped share/roles.sql with role names of this test's own
// (roles are cluster-wide and tests run in parallel): {reader, writer}.
std::pair<std::string, std::string> apply_roles_sql(test_db const& db, db_connection& c)
{
    auto const suffix = db.conninfo().substr(std::string{"dbname="}.size());
    auto const reader = "xloop_reader_" + suffix;
    auto const writer = "xloop_writer_" + suffix;
    auto script = read_file(std::string{XLOOP_SOURCE_DIR} + "/share/roles.sql");
    for (auto const& [from, to] : {std::pair{std::string{"xloop_reader"}, reader},
                                   std::pair{std::string{"xloop_writer"}, writer}}) {
        for (auto p = script.find(from); p != std::string::npos;
             p = script.find(from, p + to.size())) {
            script.replace(p, from.size(), to);
        }
    }
    c.exec(script);
    return {reader, writer};
}

} // namespace

TEST_CASE_METHOD(healthy, "share/roles.sql grants each tool what it needs and no more",
                 "[db]")
{
    c.exec(
        "INSERT INTO public.reply_opportunities (tweet_id, tweet_author, tweet_content, "
        "opportunity_score, discovered_at) VALUES ('901', 'amy', 'a take', 0.8, "
        "$1::timestamptz - interval '10 minutes')",
        now);
    auto const [reader, writer] = apply_roles_sql(db, c);
    auto const as = [&](std::string const& role) { return as_role(db, role); };
    temp_dir dir;
    dir.write("m.jsonl",
              "{\"tweet_id\": \"t1\", \"observed_at\": \"2026-03-02T12:00:00Z\", "
              "\"impressions\": 900, \"likes\": 9}\n"
              "{\"followers\": 5003, \"observed_at\": \"2026-03-02T12:00:00Z\"}\n");
    for (auto const& args : std::vector<std::vector<std::string>>{
             {"scrape-metrics", "--source", "file", "--input", dir.path() + "/m.jsonl"},
             {"build-weights"},
             {"learn-replies"},
             {"plan", "--replies", "1", "--seed", "3"}}) {
        auto tool_args = std::vector<std::string>(args.begin() + 1, args.end());
        tool_args.insert(tool_args.end(), {"--db", as(writer), "--now", now, "-q"});
        auto const r = run_tool(args[0], tool_args, nullptr);
        INFO(args[0] << ": " << r.err);
        CHECK(r.exit_code == 0);
    }
    CHECK(db.count(fmt::format("SELECT count(*) FROM xloop.job_runs WHERE status = 'ok' "
                               "AND started_at = '{}'",
                               now)) == 4);
    // the reader validates; a learning tool run as the reader is refused clearly
    auto const v =
        run_tool("validate", {"--db", as(reader), "--now", now, "--json", "-q"}, nullptr);
    INFO(v.err);
    CHECK((v.exit_code == 0 || v.exit_code == 1));
    CHECK(json::parse(v.out).contains("verdict"));
    // (an hour on: at `now` the active map is this run's already, nothing to write)
    auto const refused =
        run_tool("build-weights",
                 {"--db", as(reader), "--now", "2026-03-02T13:00:00Z", "-q"}, nullptr);
    CHECK(refused.exit_code == 78);
    CHECK(refused.err.find("permission denied") != std::string::npos);
    c.exec(fmt::format("DROP OWNED BY {0}, {1}; DROP ROLE {0}; DROP ROLE {1}",
                       quote_ident(reader), quote_ident(writer)));
}

TEST_CASE_METHOD(healthy,
                 "validate as a role that may not see other roles' sessions says so "
                 "instead of finding none idle in a transaction",
                 "[db]")
{
    temp_dir dir;
    auto const cfg =
        dir.write("x.yaml", "validate:\n  max_idle_transaction_minutes: 0.01\n");
    auto leaked =
        leak_transaction(db, "UPDATE public.outcomes SET likes = likes WHERE false").conn;
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    auto const [reader, writer] = apply_roles_sql(db, c);
    auto const as_reader = [&] {
        auto const r = run_tool(
            "validate",
            {"--db", as_role(db, reader), "--now", now, "--json", "-q", "--config", cfg},
            nullptr);
        INFO(r.err);
        REQUIRE(r.exit_code == 0);
        return check_named(json::parse(r.out), "idle_transactions");
    };
    auto const blind = as_reader();
    CHECK(blind["status"] == "ok");
    CHECK(blind["numbers"]["hidden_sessions"].get<int>() >= 1);
    CHECK_THAT(
        blind["message"].get<std::string>(),
        Catch::Contains("that this role can see: it may not see the state of ") &&
            Catch::Contains("GRANT pg_read_all_stats TO the role validate runs as"));
    // with the grant it sees the leaked session
    c.exec(fmt::format("GRANT pg_read_all_stats TO {}", quote_ident(reader)));
    auto const seeing = as_reader();
    CHECK(seeing["status"] == "warn");
    CHECK(seeing["numbers"]["sessions"] == 1);
    leaked.exec("ROLLBACK");
    c.exec(fmt::format("DROP OWNED BY {0}, {1}; DROP ROLE {0}; DROP ROLE {1}",
                       quote_ident(reader), quote_ident(writer)));
}

TEST_CASE_METHOD(
    healthy,
    "on tables with row-level security validate names the tables a role cannot "
    "see, and share/roles.sql's policies show the tools every row",
    "[db]")
{
    // as Supabase leaves them: row-level security on, no policy for us
    for (auto const* t :
         {"content_generation_metadata_comprehensive", "outcomes", "follower_snapshots",
          "learning_model_weights", "discovered_accounts", "reply_opportunities"}) {
        c.exec(fmt::format("ALTER TABLE public.{} ENABLE ROW LEVEL SECURITY", t));
    }
    auto const plain = "plain_" + db.conninfo().substr(std::string{"dbname="}.size());
    c.exec(fmt::format("CREATE ROLE {0} NOLOGIN; GRANT USAGE ON SCHEMA public, xloop TO "
                       "{0}; GRANT SELECT ON ALL TABLES IN SCHEMA public, xloop TO {0}",
                       quote_ident(plain)));
    auto const hidden = run_tool(
        "validate", {"--db", as_role(db, plain), "--now", now, "--json", "-q"}, nullptr);
    INFO(hidden.err);
    CHECK(hidden.exit_code == 1);
    auto const schema = check_named(json::parse(hidden.out), "schema");
    CHECK(schema["status"] == "fail");
    CHECK(schema["message"].get<std::string>().find(
              "row-level security hides rows of "
              "content_generation_metadata_comprehensive and 5 more tables from role " +
              plain) != std::string::npos);
    CHECK(schema["numbers"]["hidden_by_row_security"].size() == 6);

    // the policies of share/roles.sql: the reader sees every row, the writer
    // writes them
    auto const [reader, writer] = apply_roles_sql(db, c);
    auto const v = run_tool(
        "validate", {"--db", as_role(db, reader), "--now", now, "--json", "-q"}, nullptr);
    INFO(v.err);
    CHECK(v.exit_code == 0);
    CHECK(check_named(json::parse(v.out), "schema")["status"] == "ok");
    temp_dir dir;
    dir.write("m.jsonl",
              "{\"followers\": 5003, \"observed_at\": \"2026-03-02T11:58:30Z\"}\n");
    auto const snapshots = db.count("SELECT count(*) FROM public.follower_snapshots");
    auto const s = run_tool("scrape-metrics",
                            {"--source", "file", "--input", dir.path() + "/m.jsonl",
                             "--db", as_role(db, writer), "--now", now, "-q"},
                            nullptr);
    INFO(s.err);
    CHECK(s.exit_code == 0);
    CHECK(db.count("SELECT count(*) FROM public.follower_snapshots") == snapshots + 1);
    c.exec(fmt::format("DROP OWNED BY {0}, {1}, {2}; DROP ROLE {0}; DROP ROLE {1}; "
                       "DROP ROLE {2}",
                       quote_ident(reader), quote_ident(writer), quote_ident(plain)));
}

namespace {

// A posted post `days` old with its score, drawn by plan with these
// (dimension, value, propensity, candidates), or with no draws logged (the
// original bot's posts) when `draws` is empty.
void add_logged_post(
    db_connection& c, double days, double score,
    std::vector<std::tuple<std::string, std::string, double, int>> const& draws)
{
    json features = json::object();
    if (!draws.empty()) {
        auto& d = features["draws"] = json::object();
        for (auto const& [dim, value, p, k] : draws) {
            d[dim] = {{"value", value}, {"propensity", p}, {"candidates", k}};
        }
    }
    c.exec("WITH c AS (INSERT INTO public.content_generation_metadata_comprehensive "
           "(status, tweet_id, posted_at, decision_type, content_slot, features) VALUES "
           "('posted', md5(random()::text), $1::timestamptz - make_interval(secs => "
           "$2::float8 * 86400), 'single', 'how_to', $3::jsonb) "
           "RETURNING decision_id, tweet_id) "
           "INSERT INTO public.outcomes (decision_id, tweet_id, primary_objective_score, "
           "followers_gained_weighted) SELECT decision_id, tweet_id, $4, 1 FROM c",
           now, days, features.dump(), score);
}

// 30 logged posts over 9 days: question hooks (two in three) score 0.3,
// story hooks 0.1; content_slot drawn 50/50 and worth nothing.
void add_thirty_logged_posts(db_connection& c)
{
    for (int i = 0; i < 30; ++i) {
        bool const q = i % 3 != 0;
        add_logged_post(c, 2 + i * 0.3, q ? 0.3 : 0.1,
                        {{"content_slot", i % 2 ? "how_to" : "hot_take", 0.5, 2},
                         {"hook_type", q ? "question" : "story", q ? 0.6 : 0.4, 2}});
    }
}

// The three posts the IPS weights are worked out for by hand: scores 0.6,
// 0.2, 0.4 (mean 0.4), drawn with μ = 0.5·0.8 = 0.4, 0.5·0.2 = 0.1, 0.1.
void add_three_logged_posts(db_connection& c)
{
    add_logged_post(
        c, 2, 0.6,
        {{"content_slot", "how_to", 0.5, 2}, {"hook_type", "question", 0.8, 2}});
    add_logged_post(
        c, 3, 0.2,
        {{"content_slot", "hot_take", 0.5, 2}, {"hook_type", "story", 0.2, 2}});
    add_logged_post(c, 4, 0.4,
                    {{"content_slot", "how_to", 0.5, 2}, {"hook_type", "story", 0.2, 2}});
}

// The value of one series (`name{labels}`) of a Prometheus text, or NaN.
double prometheus_sample(std::string const& text, std::string const& series)
{
    auto const at = text.find("\n" + series + " ");
    if (at == std::string::npos) {
        return std::nan("");
    }
    return std::stod(text.substr(at + series.size() + 2));
}

// Two dimensions of two values each, and floors low enough for three posts.
constexpr char const* three_post_config = R"(plan:
  catalogue:
    content_slot: [how_to, hot_take]
    hook_type: [question, story]
validate:
  min_policy_posts: 3
  min_effective_posts: 1
)";

// add_thirty_logged_posts and the map build-weights learns from them;
// returns the config file (three_post_config) the map was built with.
std::string thirty_logged_posts_and_map(test_db const& db, temp_dir const& dir)
{
    auto c = db.connect();
    add_thirty_logged_posts(c);
    auto const cfg = dir.write("xloop.yaml", three_post_config);
    auto const built =
        run_tool("build-weights", {"--config", cfg, "--now", now, "-q"}, &db);
    REQUIRE(built.exit_code == 0);
    return cfg;
}

} // namespace

TEST_CASE(
    "validate says what the logged choices are worth, by IPS weights worked by hand",
    "[db]")
{
    test_db db;
    db.migrate();
    auto c = db.connect();
    // μ = 0.5·0.8 = 0.4, 0.5·0.2 = 0.1, 0.5·0.2 = 0.1
    add_three_logged_posts(c);
    temp_dir dir;
    auto const cfg = dir.write("xloop.yaml", three_post_config);
    auto const r = validate(db, 1, {"--config", cfg})["policy_value"];
    INFO(r.dump(2));
    CHECK(r["posts"] == 3);
    CHECK(r["with_propensities"] == 3);
    REQUIRE(r["policies"].size() == 3);
    // The policy that ran, weighed by itself: w = 1, the mean score.
    auto const& logged = r["policies"][0];
    CHECK(logged["policy"] == "logged");
    CHECK(logged["score_snips"]["value"].get<double>() == Approx(0.4));
    // Follows (attributed: 1 each), by DR too: w = 1 leaves the mean,
    // q̂ + (y − q̂) = y whatever the model says.
    CHECK(logged["follows_snips"]["value"].get<double>() == Approx(1.0));
    CHECK(logged["follows_dr"]["value"].get<double>() == Approx(1.0));
    // Uniform: π = ½·½ = 0.25 for each post, w = 0.25/μ = 0.625, 2.5, 2.5;
    // SNIPS = (0.625·0.6 + 2.5·0.2 + 2.5·0.4) / (0.625 + 2.5 + 2.5) = 1.875 / 5.625
    // (IPS would be 1.875 / 3 = 0.625); ESS = 5.625² / (0.625² + 2.5² + 2.5²).
    auto const& uniform = r["policies"][1];
    CHECK(uniform["policy"] == "uniform");
    CHECK(uniform["score_snips"]["value"].get<double>() == Approx(1.875 / 5.625));
    CHECK(uniform["score_snips"]["ess"].get<double>() == Approx(31.640625 / 12.890625));
    CHECK(uniform["score_snips"]["clipped"] == 0);
    double const lo = uniform["score_snips"]["lo"].get<double>();
    double const hi = uniform["score_snips"]["hi"].get<double>();
    CHECK(lo <= 1.875 / 5.625);
    CHECK(hi >= 1.875 / 5.625);
    CHECK(lo >= 0.2); // an average of the scores seen
    CHECK(hi <= 0.6);
    // No active map: plan would draw uniformly, so the map's policy is
    // uniform and its lift over uniform is nothing.
    CHECK(r["policies"][2]["score_snips"]["value"].get<double>() ==
          Approx(1.875 / 5.625));
    CHECK(r["lift_map_over_uniform"]["value"].get<double>() == Approx(0).margin(1e-12));
    // The table says the same.
    auto const table = run_tool("validate", {"--config", cfg, "--now", now, "-q"}, &db);
    CHECK(table.out.find("What the choices are worth (3 posts with outcomes, 3 with "
                         "propensities") != std::string::npos);
    CHECK(table.out.find("uniform  0.333 [") != std::string::npos);
    CHECK(table.out.find("map: no usable active map, so plan draws uniformly") !=
          std::string::npos);
    // And the metrics for Prometheus.
    auto const prom = run_tool(
        "validate", {"--config", cfg, "--now", now, "-q", "--prometheus", "-"}, &db);
    std::string const posts = "{database=\"" + db.name() + "\",of=\"posts\",";
    CHECK(prometheus_sample(prom.out, "xloop_policy_value" + posts +
                                          "policy=\"uniform\",outcome=\"score\","
                                          "estimator=\"snips\",bound=\"estimate\"}") ==
          Approx(1.875 / 5.625));
    CHECK(prometheus_sample(prom.out, "xloop_policy_value" + posts +
                                          "policy=\"uniform\",outcome=\"score\","
                                          "estimator=\"snips\",bound=\"low_90\"}") == lo);
    CHECK(prometheus_sample(prom.out, "xloop_policy_value" + posts +
                                          "policy=\"logged\",outcome=\"follows\","
                                          "estimator=\"dr\",bound=\"estimate\"}") ==
          Approx(1.0));
    CHECK(prometheus_sample(prom.out, "xloop_policy_lift" + posts +
                                          "lift=\"map_over_uniform\",outcome=\"score\","
                                          "estimator=\"snips\",bound=\"estimate\"}") ==
          Approx(0).margin(1e-12));
}

TEST_CASE("validate --what-if values the policy asked about against the map's, by the "
          "weights worked by hand, in the table, --json, the page and the metrics",
          "[db]")
{
    test_db db;
    db.migrate();
    auto c = db.connect();
    // The three posts six times over, one after the other: each half of
    // them by time draws every value three times (else the what-if is too
    // seldom drawn to say), every weighted mean the three posts'.
    for (int k = 0; k < 6; ++k) {
        double const day = 2 + k;
        add_logged_post(
            c, day + 0.2, 0.6,
            {{"content_slot", "how_to", 0.5, 2}, {"hook_type", "question", 0.8, 2}});
        add_logged_post(
            c, day + 0.1, 0.2,
            {{"content_slot", "hot_take", 0.5, 2}, {"hook_type", "story", 0.2, 2}});
        add_logged_post(
            c, day, 0.4,
            {{"content_slot", "how_to", 0.5, 2}, {"hook_type", "story", 0.2, 2}});
    }
    temp_dir dir;
    auto const cfg = dir.write("xloop.yaml", three_post_config);
    // No map: the map's policy is uniform, 1/3 (above). What if hook_type
    // question: π = 1, 0, 0 against μ = 0.8, 0.2, 0.2: w = 1.25, 0, 0 on the
    // hook, content_slot as the map's (π = ½ = μ): SNIPS = 0.6.
    std::vector<std::string> const args{"--config", cfg, "--what-if",
                                        "Hook Type=Question"};
    auto const r = validate(db, 1, args)["policy_value"]["what_if"];
    INFO(r.dump(2));
    CHECK(r["policy"] == json{{"hook_type", {"question"}}});
    REQUIRE(r["policies"].size() == 2);
    CHECK(r["policies"][0]["policy"] == "map");
    CHECK(r["policies"][0]["score_snips"]["value"].get<double>() == Approx(1.0 / 3));
    CHECK(r["policies"][1]["policy"] == "what-if");
    CHECK(r["policies"][1]["score_snips"]["value"].get<double>() == Approx(0.6));
    CHECK(r["lift_what_if_over_map"]["value"].get<double>() == Approx(0.6 - 1.0 / 3));

    auto with = args;
    with.insert(with.end(), {"--now", now, "-q", "--html", dir.path() + "/r.html",
                             "--prometheus", dir.path() + "/x.prom"});
    auto const table = run_tool("validate", with, &db);
    INFO(table.err);
    CHECK(table.out.find("What if hook_type question (every other dimension as the map's "
                         "policy; the same posts):\n") != std::string::npos);
    CHECK(table.out.find("  what-if  0.600 [") != std::string::npos);
    CHECK(table.out.find("  a hint to try, not a verdict: ") != std::string::npos);
    CHECK(read_file(dir.path() + "/r.html").find("<h3>What if hook_type question</h3>") !=
          std::string::npos);
    CHECK(prometheus_sample(
              read_file(dir.path() + "/x.prom"),
              "xloop_policy_lift{database=\"" + db.name() +
                  "\",of=\"what_if\",lift=\"what_if_over_map\","
                  "outcome=\"score\",estimator=\"snips\",bound=\"estimate\"}") ==
          Approx(0.6 - 1.0 / 3));

    // refused before any work, naming the argument
    auto const bad = run_tool(
        "validate", {"--config", cfg, "--now", now, "--what-if", "hook_type=rant"}, &db);
    CHECK(bad.exit_code == 64);
    CHECK_THAT(bad.err,
               Catch::Contains("--what-if 'hook_type=rant': hook_type has no "
                               "value 'rant' in plan.catalogue (question, story)"));
    CHECK(bad.out.empty());
    auto const checks = run_tool(
        "validate", {"--now", now, "--checks", "--what-if", "hook_type=story"}, &db);
    CHECK(checks.exit_code == 64);
    CHECK_THAT(checks.err, Catch::Contains("--what-if values choices, which --checks "
                                           "leaves out"));
}

TEST_CASE("validate counts a post's attributed gain as its follows, not gain × "
          "confidence, a counted follows before either, and none where none was "
          "measured",
          "[db]")
{
    test_db db;
    db.migrate();
    auto c = db.connect();
    add_three_logged_posts(c); // scores 0.6, 0.2, 0.4
    // 0.6: a gain of 6 with its snapshots hours off (confidence 0.5, stored
    // 3); 0.2: 2, measured; 0.4: 4 counted by the source (its fgw 9 unused)
    c.exec("UPDATE public.outcomes SET followers_gained_weighted = CASE "
           "primary_objective_score WHEN 0.6 THEN 3 WHEN 0.2 THEN 2 ELSE 9 END, "
           "attribution_confidence = CASE primary_objective_score WHEN 0.6 THEN 0.5 "
           "ELSE 1 END, follows = CASE WHEN primary_objective_score = 0.4 THEN 4 END");
    temp_dir dir;
    auto const cfg = dir.write("xloop.yaml", three_post_config);
    auto const r = validate(db, 1, {"--config", cfg})["policy_value"];
    INFO(r.dump(2));
    // w = 1: the mean, (6 + 2 + 4)/3 (gain × confidence made it 3)
    CHECK(r["policies"][0]["follows_snips"]["value"].get<double>() == Approx(4.0));
    // 0.2 posted while cron was down: no snapshot near it, confidence 0. Its
    // follows are unknown, not 0: left out, (6 + 4)/2 (with it 10/3); its
    // score still counts
    c.exec("UPDATE public.outcomes SET followers_gained_weighted = 0, "
           "attribution_confidence = 0 WHERE primary_objective_score = 0.2");
    auto const down = validate(db, 1, {"--config", cfg})["policy_value"];
    CHECK(down["policies"][0]["follows_snips"]["value"].get<double>() == Approx(5.0));
    CHECK(down["policies"][0]["score_snips"]["value"].get<double>() == Approx(0.4));
}

TEST_CASE("validate values the map's policy on each half of the posts as learned from "
          "the other half, and says so",
          "[db]")
{
    test_db db;
    db.migrate();
    temp_dir dir;
    auto const cfg = thirty_logged_posts_and_map(db, dir);
    auto c = db.connect();
    auto const r = validate(db, 1, {"--config", cfg})["policy_value"];
    INFO(r.dump(2));
    CHECK(r["map_cross_fitted"] == true);
    CHECK(r["map_usable"] == true);
    auto const table = run_tool("validate", {"--config", cfg, "--now", now, "-q"}, &db);
    CHECK(table.out.find("map: each half of the posts valued under the map learned from "
                         "the other half (cross-fitted)") != std::string::npos);
    // A map written before migration 0012 has no pair: valued on its own
    // posts, and the table says what that means.
    c.exec("UPDATE public.learning_model_weights SET cross_fit = NULL");
    CHECK(validate(db, 1, {"--config", cfg})["policy_value"]["map_cross_fitted"] ==
          false);
    auto const old = run_tool("validate", {"--config", cfg, "--now", now, "-q"}, &db);
    CHECK(old.out.find("map: the active map valued on the posts it learned from (no "
                       "cross-fitted maps") != std::string::npos);
}

TEST_CASE("an active map with an arm that lacks its sd, a number written as text or an "
          "epsilon beyond 1 is said to be unusable, valued as the uniform draws plan "
          "makes from it, and plan still runs",
          "[db]")
{
    test_db db;
    db.migrate();
    temp_dir dir;
    auto const cfg = thirty_logged_posts_and_map(db, dir);
    auto c = db.connect();
    c.exec("UPDATE public.learning_model_weights SET cross_fit = NULL");
    auto const dimension = c.exec("SELECT min(k) FROM public.learning_model_weights, "
                                  "jsonb_object_keys(posteriors::jsonb -> '_prior') k "
                                  "WHERE is_active")
                               .str(0, 0);
    auto const value =
        c.exec("SELECT min(k) FROM public.learning_model_weights, "
               "jsonb_object_keys(posteriors::jsonb -> $1) k WHERE is_active",
               dimension)
            .str(0, 0);
    auto const good = c.exec("SELECT posteriors::text FROM public.learning_model_weights "
                             "WHERE is_active")
                          .str(0, 0);
    struct hostile {
        std::string path, json, reason;
    };
    auto const no_number =
        fmt::format("posteriors.{}.{} has no finite mean and sd", dimension, value);
    auto const bad_prior = fmt::format("posteriors._prior.{} has a sigma or epsilon that "
                                       "is not a number (epsilon: from 0 to 1)",
                                       dimension);
    for (auto const& h : std::vector<hostile>{
             {fmt::format("{{{},{},sd}}", dimension, value), "null", no_number},
             {fmt::format("{{{},{}}}", dimension, value), R"({"shrunk_mean": "0.2"})",
              no_number},
             {fmt::format("{{_prior,{},sigma}}", dimension), R"("0.5")", bad_prior},
             {fmt::format("{{_prior,{},epsilon}}", dimension), "1.5", bad_prior}}) {
        INFO(h.path << " = " << h.json);
        c.exec("UPDATE public.learning_model_weights SET posteriors = "
               "jsonb_set($1::jsonb, $2::text[], $3::jsonb) WHERE is_active",
               good, h.path, h.json);
        auto const report = validate(db, 1, {"--config", cfg});
        auto const check = check_named(report, "weight_map");
        CHECK(check["status"] == "fail");
        CHECK(check["message"].get<std::string>().find(h.reason) != std::string::npos);
        // the map's policy is plan's: uniform, so its value is uniform's
        auto const& policies = report["policy_value"]["policies"];
        REQUIRE(policies.size() == 3);
        CHECK(policies[2]["score_snips"]["value"].get<double>() ==
              Approx(policies[1]["score_snips"]["value"].get<double>()));
        CHECK(report["policy_value"]["map_usable"] == false);
        auto const table =
            run_tool("validate", {"--config", cfg, "--now", now, "-q"}, &db);
        CHECK(table.out.find("map: no usable active map, so plan draws uniformly") !=
              std::string::npos);
        auto const plan = run_tool("plan", {"--config", cfg, "--now", now}, &db);
        CHECK(plan.exit_code == 0);
        CHECK(plan.err.find("cannot be used: " + h.reason) != std::string::npos);
    }
}

TEST_CASE("the coverage chart counts each day's posts with a v2 score by the day they "
          "were posted",
          "[db]")
{
    test_db db;
    db.migrate();
    auto c = db.connect();
    // 02-27: three posts, two scored (one of them collected again today);
    // 02-28: one post, no outcome yet; 03-01: nothing posted
    c.exec("INSERT INTO public.content_generation_metadata_comprehensive (status, "
           "tweet_id, posted_at, created_at, decision_type) VALUES "
           "('posted', '1', '2026-02-27T09:00:00Z', '2026-02-27T08:00:00Z', 'single'), "
           "('posted', '2', '2026-02-27T13:00:00Z', '2026-02-27T12:00:00Z', 'single'), "
           "('posted', '3', '2026-02-27T20:00:00Z', '2026-02-27T19:00:00Z', 'reply'), "
           "('posted', '4', '2026-02-28T10:00:00Z', '2026-02-28T09:00:00Z', 'single')");
    c.exec("INSERT INTO public.outcomes (decision_id, tweet_id, primary_objective_score, "
           "collected_at) SELECT decision_id, tweet_id, CASE tweet_id WHEN '3' THEN NULL "
           "ELSE 0.1 END, CASE tweet_id WHEN '1' THEN $1::timestamptz ELSE posted_at + "
           "interval '1 hour' END FROM public.content_generation_metadata_comprehensive "
           "WHERE tweet_id <> '4'",
           now);
    auto const s = read_report_series(c, *parse_timestamp(now), 3);
    std::map<std::string, double> by_day(s.coverage.begin(), s.coverage.end());
    CHECK(by_day.at("02-27") == Approx(100.0 * 2 / 3));
    CHECK(by_day.at("02-28") == 0.0);
    CHECK(std::isnan(by_day.at("03-01")));
    CHECK(std::isnan(by_day.at("03-02"))); // today: the rescored post counts on 02-27
}

TEST_CASE("validate gives the same report twice on the same data unless given another "
          "--seed",
          "[db]")
{
    // Its only draws are the bootstrap's: seeded 1 unless told, so an
    // operator comparing two runs sees what changed in the data, not noise.
    test_db db;
    db.migrate();
    temp_dir dir;
    auto const cfg = thirty_logged_posts_and_map(db, dir);
    auto const report = [&](std::vector<std::string> extra) {
        std::vector<std::string> args{"--config", cfg, "--now", now, "-q"};
        args.insert(args.end(), extra.begin(), extra.end());
        auto const r = run_tool("validate", args, &db);
        INFO(r.err);
        CHECK(r.out.find("lift of the map's policy over uniform: ") != std::string::npos);
        return r.out;
    };
    auto const first = report({});
    CHECK(report({}) == first);
    CHECK(report({"--seed", "1"}) == first);
    CHECK(report({"--seed", "2"}) != first);
    CHECK(db.count("SELECT count(*) FROM xloop.job_runs WHERE job = 'validate' AND "
                   "detail->>'seed' = '1'") == 3);
}

TEST_CASE("without propensities validate says it cannot estimate, and prints no number",
          "[db]")
{
    test_db db;
    db.migrate();
    auto c = db.connect();
    for (int i = 0; i < 30; ++i) {
        add_logged_post(c, 2 + i * 0.5, 0.1 * (i % 5), {}); // the original bot's posts
    }
    auto const r = validate(db, 1)["policy_value"];
    CHECK(r["posts"] == 30);
    CHECK(r["with_propensities"] == 0);
    CHECK(r["policies"].empty());
    CHECK(r["lift_map_over_uniform"].is_null());
    CHECK(r["note"].get<std::string>().find("0 of 30 posts have the propensities") !=
          std::string::npos);
}

TEST_CASE("validate values the choices of an account that posts every other day over "
          "the posts build-weights learns from, not the last 60 days alone",
          "[db]")
{
    test_db db;
    db.migrate();
    auto c = db.connect();
    // 100 posts, one every 1.5 days from 2 to 150.5 days old: 39 of them in
    // weights.window_days (60), all of them in the newest window_posts (180).
    for (int i = 0; i < 100; ++i) {
        add_logged_post(c, 2 + i * 1.5, 0.1 * (i % 5),
                        {{"content_slot", i % 2 ? "how_to" : "hot_take", 0.5, 2},
                         {"hook_type", i % 3 ? "question" : "story", 0.5, 2}});
    }
    temp_dir dir;
    auto const cfg = dir.write("xloop.yaml", three_post_config);
    CHECK(validate(db, 1, {"--config", cfg})["policy_value"]["posts"] == 100);
    // Without the reach (window_posts 0) the window is window_days: posts up
    // to 60 days old, i.e. i ≤ 38.
    std::ofstream{cfg, std::ios::app} << "weights:\n  window_posts: 0\n";
    CHECK(validate(db, 1, {"--config", cfg})["policy_value"]["posts"] == 39);
}

TEST_CASE("a post whose score is NaN is not valued (PostgreSQL's NaN equals itself)",
          "[db]")
{
    test_db db;
    db.migrate();
    auto c = db.connect();
    add_three_logged_posts(c);
    // newer than the three: the newest the report reads
    add_logged_post(c, 1.5, std::nan(""),
                    {{"content_slot", "how_to", 0.5, 2}, {"hook_type", "story", 0.2, 2}});
    temp_dir dir;
    auto const cfg = dir.write("xloop.yaml", std::string{three_post_config});
    auto const r = validate(db, 1, {"--config", cfg})["policy_value"];
    INFO(r.dump(2));
    CHECK(r["posts"] == 3);
    CHECK(r["in_window"] == 3);
    CHECK(r["policies"][0]["score_snips"]["value"].get<double>() == Approx(0.4));
    // and with room for only two: of the three, not of four
    auto const two =
        dir.write("two.yaml", std::string{three_post_config} + "  max_policy_posts: 2\n");
    auto const newest = validate(db, 1, {"--config", two})["policy_value"];
    CHECK(newest["posts"] == 2);
    CHECK(newest["in_window"] == 3);
}

TEST_CASE_METHOD(healthy, "a reply whose score is NaN is not valued", "[db]")
{
    // the oldest: old enough to be valued (a day)
    c.exec("UPDATE public.outcomes SET primary_objective_score = 'NaN' WHERE "
           "decision_id = (SELECT decision_id FROM "
           "public.content_generation_metadata_comprehensive JOIN public.outcomes "
           "USING (decision_id) WHERE decision_type = 'reply' ORDER BY posted_at "
           "LIMIT 1)");
    auto const text = run_tool("validate", {"--now", now}, &db);
    INFO(text.out);
    CHECK(text.exit_code == 0);
    CHECK(text.out.find("Replies (6 replies with outcomes") != std::string::npos);
}

TEST_CASE("validate values only the newest validate.max_policy_posts posts, and says so",
          "[db]")
{
    test_db db;
    db.migrate();
    auto c = db.connect();
    // The three posts of the hand-worked test (logged mean 0.4), and an older
    // one that would raise the mean to (0.6 + 0.2 + 0.4 + 1.0) / 4 = 0.55.
    add_three_logged_posts(c);
    add_logged_post(c, 5, 1.0,
                    {{"content_slot", "how_to", 0.5, 2}, {"hook_type", "story", 0.2, 2}});
    // Neither valued nor counted: a NaN score, and a post with no outcome.
    add_logged_post(c, 6, std::nan(""),
                    {{"content_slot", "how_to", 0.5, 2}, {"hook_type", "story", 0.2, 2}});
    c.exec("INSERT INTO public.content_generation_metadata_comprehensive (status, "
           "tweet_id, posted_at, decision_type) VALUES ('posted', 'no-outcome', "
           "$1::timestamptz - interval '7 days', 'single')",
           now);
    temp_dir dir;
    auto const cfg = dir.write("xloop.yaml", std::string{three_post_config} +
                                                 "  max_policy_posts: 3\n");
    auto const r = validate(db, 1, {"--config", cfg})["policy_value"];
    INFO(r.dump(2));
    CHECK(r["posts"] == 3);
    CHECK(r["in_window"] == 4);
    CHECK(r["policies"][0]["score_snips"]["value"].get<double>() == Approx(0.4));
    auto const table = run_tool("validate", {"--config", cfg, "--now", now, "-q"}, &db);
    CHECK(table.out.find("What the choices are worth (the newest 3 of 4 posts with "
                         "outcomes (validate.max_policy_posts), 3 with propensities") !=
          std::string::npos);
    // With room for all four, all four.
    auto const all = validate(db, 1)["policy_value"];
    CHECK(all["posts"] == 4);
    CHECK(all["in_window"] == 4);
}

TEST_CASE_METHOD(
    healthy,
    "a learned value too long for its column is cut in the table and the page, "
    "whole in --json",
    "[db]")
{
    std::string const long_value = "long_slot_long_slot_long_slot_long_slot_long_slot_";
    for (auto const* column : {"weights", "posteriors"}) {
        c.exec(
            fmt::format("UPDATE public.learning_model_weights SET {0} = jsonb_set({0} "
                        "#- '{{content_slot,myth_busting}}', ARRAY['content_slot', $1], "
                        "{0}->'content_slot'->'myth_busting') WHERE is_active",
                        column),
            long_value);
    }
    auto const r = validate(db, 0)["policy_value"]["learned"]["content_slot"];
    INFO(r.dump(2));
    CHECK(std::any_of(r.begin(), r.end(),
                      [&](json const& v) { return v["value"] == long_value; }));
    auto const table = run_tool("validate", {"--now", now, "-q"}, &db);
    // 23 characters and the ellipsis: the column's 24
    CHECK_THAT(table.out, Catch::Contains("\n    long_slot_long_slot_lon… +0.090 ["));
    CHECK(table.out.find(long_value) == std::string::npos);
    temp_dir dir;
    auto const file = dir.path() + "/report.html";
    REQUIRE(run_tool("validate", {"--now", now, "-q", "--html", file}, &db).exit_code ==
            0);
    CHECK_THAT(read_file(file), Catch::Contains("<td title=\"" + long_value + "\">" +
                                                long_value.substr(0, 40) + "…</td>"));
}

TEST_CASE_METHOD(healthy, "validate shows what the active map learned, value by value",
                 "[db]")
{
    auto const r = validate(db, 0)["policy_value"];
    INFO(r.dump(2));
    REQUIRE(r["learned"].contains("content_slot"));
    auto const& slots = r["learned"]["content_slot"];
    REQUIRE(slots.size() >= 2);
    for (std::size_t i = 0; i < slots.size(); ++i) {
        auto const& v = slots[i];
        CHECK(v["lo"].get<double>() <= v["mean"].get<double>());
        CHECK(v["mean"].get<double>() <= v["hi"].get<double>());
        CHECK(v["weight"].get<double>() > 0);
        if (i > 0) { // best first
            CHECK(slots[i - 1]["mean"].get<double>() >= v["mean"].get<double>());
        }
    }
    temp_dir dir;
    auto const file = dir.path() + "/report.html";
    REQUIRE(run_tool("validate", {"--now", now, "-q", "--html", file}, &db).exit_code ==
            0);
    auto const html = read_file(file);
    CHECK(html.find("<h2>What was learned</h2>") != std::string::npos);
    CHECK(
        html.find("<h3>content_slot</h3><div class=\"wide\"><table class=\"learned\">") !=
        std::string::npos);
    // A dimension build-weights learned from its recent days only says so,
    // in the table, the JSON and the page.
    c.exec("UPDATE public.learning_model_weights SET posteriors = jsonb_set(posteriors, "
           "'{_prior,content_slot,changed}', '{\"statistic\": 30, \"threshold\": 20, "
           "\"learned_from_days\": 14}') WHERE is_active");
    CHECK(validate(db, 0)["policy_value"]["learned_recent_only_days"] ==
          json{{"content_slot", 14}});
    auto const table = run_tool("validate", {"--now", now, "-q"}, &db);
    CHECK(table.out.find("  content_slot (learned from the last 14 days only: its values "
                         "rank otherwise than before)\n") != std::string::npos);
    REQUIRE(run_tool("validate", {"--now", now, "-q", "--html", file}, &db).exit_code ==
            0);
    CHECK(read_file(file).find("<h3>content_slot</h3><p>learned from the last 14 days "
                               "only: its values rank otherwise than before.</p>") !=
          std::string::npos);
    // A dimension whose values differ no more than noise says that too.
    CHECK(validate(db, 0)["policy_value"]["learned_no_spread"] == json::array());
    c.exec("UPDATE public.learning_model_weights SET posteriors = jsonb_set(posteriors, "
           "'{_prior,content_slot,kappa}', '{\"reach\": 1e9, \"engagement_rate\": 1e9}') "
           "WHERE is_active");
    CHECK(validate(db, 0)["policy_value"]["learned_no_spread"] == json{"content_slot"});
    REQUIRE(run_tool("validate", {"--now", now, "-q", "--html", file}, &db).exit_code ==
            0);
    CHECK(read_file(file).find("only: its values rank otherwise than before.</p><p>its "
                               "values differ no more than noise yet: each is the "
                               "dimension's mean.</p>") != std::string::npos);
}

TEST_CASE("validate compares this machine's clock with the database server's, "
          "except at a --now",
          "[db]")
{
    test_db db;
    db.migrate();
    auto const clock_of = [&](std::vector<std::string> args,
                              std::map<std::string, std::optional<std::string>> env) {
        args.insert(args.end(), {"--json", "-q", "--checks"});
        auto const r = run_tool("validate", args, &db, {}, env);
        INFO(r.err << r.out);
        REQUIRE(r.exit_code == 1); // no job has run
        return check_named(json::parse(r.out), "clock");
    };
    auto const same = clock_of({}, {});
    CHECK(same["status"] == "ok");
    CHECK(std::abs(same["numbers"]["offset_seconds"].get<double>()) < 5);
    // this machine 15 min behind: past metrics.max_clock_skew_minutes (10)
    auto const behind = clock_of({}, clock_shift_env(-900));
    CHECK(behind["status"] == "fail");
    CHECK(std::abs(behind["numbers"]["offset_seconds"].get<double>() - 900) < 5);
    CHECK_THAT(behind["message"].get<std::string>(),
               Catch::Contains("this machine's clock is 15 min behind the database "
                               "server's, more than metrics.max_clock_skew_minutes "
                               "(10)"));
    auto const ahead = clock_of({}, clock_shift_env(180));
    CHECK(ahead["status"] == "warn");
    CHECK(std::abs(ahead["numbers"]["offset_seconds"].get<double>() + 180) < 5);
    CHECK_THAT(ahead["message"].get<std::string>(),
               Catch::Contains("this machine's clock is 3 min ahead of the database "
                               "server's"));
    // a simulated time has no clock to compare
    auto const r = run_tool("validate", {"--json", "-q", "--checks", "--now", now}, &db);
    auto const report = json::parse(r.out);
    for (auto const& c : report["checks"]) {
        CHECK(c["name"] != "clock");
    }
}

namespace {

// The metrics file as the Prometheus client's own parser reads it (Debian's
// python3-prometheus-client): {"types": {family: type}, "samples": [[name,
// labels, value]]}. Empty when the package is not installed.
std::optional<json> parse_prometheus(std::string const& file)
{
    if (access("/usr/lib/python3/dist-packages/prometheus_client/parser.py", R_OK) != 0) {
        WARN("python3-prometheus-client is not installed (scripts/setup installs it): "
             "the metrics not parsed");
        return std::nullopt;
    }
    auto const r = run_command(
        {"/usr/bin/python3", "-c",
         "import json, math, sys\n"
         "from prometheus_client.parser import text_string_to_metric_families\n"
         "types, samples = {}, []\n"
         "for f in text_string_to_metric_families(open(sys.argv[1]).read()):\n"
         "    types[f.name] = f.type\n"
         "    samples += [[s.name, s.labels, s.value] for s in f.samples]\n"
         "print(json.dumps({'types': types, 'samples': samples}))\n",
         file});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    return json::parse(r.out);
}

} // namespace

TEST_CASE_METHOD(healthy,
                 "validate --prometheus writes every check's status and numbers as the "
                 "Prometheus client parses them, the same as --json says",
                 "[db]")
{
    // scrape-metrics silent for 5 hours: a fail
    c.exec("UPDATE xloop.job_runs SET started_at = started_at - interval '5 hours', "
           "finished_at = finished_at - interval '5 hours' WHERE job = 'scrape-metrics'");
    temp_dir dir;
    auto const file = dir.path() + "/xloop.prom";
    auto const r =
        run_tool("validate",
                 {"--now", now, "--json", "-q", "--checks", "--prometheus", file}, &db);
    INFO(r.err);
    REQUIRE(r.exit_code == 1);
    // written whole: nothing left beside it
    CHECK(std::distance(std::filesystem::directory_iterator{dir.path()},
                        std::filesystem::directory_iterator{}) == 1);
    auto const report = json::parse(r.out);
    auto const parsed = parse_prometheus(file);
    if (!parsed) {
        return;
    }
    CHECK((*parsed)["types"] == json{{"xloop_ready", "gauge"},
                                     {"xloop_validate_time_seconds", "gauge"},
                                     {"xloop_check_status", "gauge"},
                                     {"xloop_check_value", "gauge"}});
    std::map<std::string, double> status;
    std::map<std::pair<std::string, std::string>, double> values;
    for (auto const& s : (*parsed)["samples"]) {
        auto const& labels = s[1];
        // every series names its database: two accounts' files on one machine
        CHECK(labels["database"] == db.name());
        if (s[0] == "xloop_ready") {
            CHECK(s[2] == 0.0);
        } else if (s[0] == "xloop_validate_time_seconds") {
            CHECK(s[2] == 1772452800.0); // now
        } else if (s[0] == "xloop_check_status") {
            status[labels["check"]] = s[2];
        } else {
            values[{labels["check"], labels["number"]}] = s[2];
        }
    }
    std::size_t numbers = 0;
    for (auto const& c : report["checks"]) {
        std::string const name = c["name"];
        INFO(name);
        CHECK(status.at(name) == (c["status"] == "ok"     ? 0
                                  : c["status"] == "warn" ? 1
                                                          : 2));
        for (auto const& [key, v] : c["numbers"].items()) {
            if (v.is_number()) {
                CHECK(values.at({name, key}) == Approx(v.get<double>()));
                ++numbers;
            } else if (v.is_array()) {
                CHECK(values.at({name, key}) == v.size());
                ++numbers;
            } else if (v.is_boolean()) {
                CHECK(values.at({name, key}) == (v.get<bool>() ? 1.0 : 0.0));
                ++numbers;
            }
        }
    }
    CHECK(status.size() == report["checks"].size());
    CHECK(values.size() == numbers);
    CHECK(status.at("job:scrape-metrics") == 2);
    CHECK(status.at("schema") == 0);
    CHECK(values.at({"job:scrape-metrics", "last_ok_hours_ago"}) >= 5);
}

TEST_CASE_METHOD(
    healthy,
    "validate --prometheus - writes the metrics on stdout instead of the table, one "
    "output on stdout at most, and a path that cannot be a file is refused first",
    "[db]")
{
    auto const r =
        run_tool("validate", {"--now", now, "-q", "--checks", "--prometheus", "-"}, &db);
    INFO(r.err);
    CHECK(r.exit_code == 0);
    CHECK(r.out.rfind("# HELP xloop_ready ", 0) == 0);
    CHECK(r.out.find("xloop_ready{database=\"" + db.name() + "\"} 1\n") !=
          std::string::npos);
    CHECK(r.out.find("verdict: ") == std::string::npos);
    CHECK_FALSE(std::filesystem::exists("-"));

    auto const both =
        run_tool("validate", {"--now", now, "--html", "-", "--prometheus", "-"}, &db);
    CHECK(both.exit_code == 64);
    CHECK_THAT(both.err, Catch::Contains("--html - and --prometheus - both write to "
                                         "stdout: give --prometheus a file"));
    CHECK(both.out.empty());

    temp_dir dir;
    auto const directory =
        run_tool("validate", {"--now", now, "-q", "--prometheus", dir.path()}, &db);
    CHECK(directory.exit_code == 64);
    CHECK_THAT(directory.err, Catch::Contains("--prometheus: cannot write '" +
                                              dir.path() + "': it is a directory"));
    CHECK(directory.out.empty());
}
