#include "test_db_fixture.hpp"

#include "app.hpp"
#include "config.hpp"
#include "migrations.hpp"
#include "schema.hpp"
#include "sha256.hpp"
#include "text.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <filesystem>
#include <future>
#include <regex>
#include <sstream>
#include <thread>
#include <tuple>

using namespace xloop;
using namespace xloop::test;
using nlohmann::json;

namespace {

std::int64_t embedded_count()
{
    return static_cast<std::int64_t>(embedded_migrations().size());
}

// Marks 0019 and every migration after it pending again (so that none is
// numbered below an applied one); how many, as migrate counts them.
std::string repend_from_0019(db_connection& c)
{
    auto const n = c.exec("DELETE FROM xloop.schema_migrations WHERE name >= '0019'")
                       .affected_rows();
    return counted(n, "migration", "migrations");
}

// How many times `what` is in `text`.
std::int64_t occurrences(std::string const& text, std::string const& what)
{
    std::int64_t n = 0;
    for (auto at = text.find(what); at != std::string::npos;
         at = text.find(what, at + 1)) {
        ++n;
    }
    return n;
}

// xloop-migrate waiting for a table `holder` holds: the holder commits once
// migrate is past its first try (2 s), and migrate's run is returned.
process_result migrate_past_a_held_table(test_db const& db, db_connection& holder)
{
    auto later = std::async(std::launch::async, [&db] {
        return run_tool("migrate", {"--lock-timeout", "120"}, &db);
    });
    REQUIRE(waits_for_a_lock(db, "migrate"));
    std::this_thread::sleep_for(std::chrono::seconds(3));
    holder.exec("COMMIT");
    return later.get();
}

bool relation_exists(db_connection& c, std::string const& name)
{
    return c.exec("SELECT to_regclass($1) IS NOT NULL", name).boolean(0, 0);
}

void require_columns(db_connection& c, std::string const& table,
                     std::vector<std::string> const& want)
{
    auto const have = columns_of(c, table);
    for (auto const& col : want) {
        INFO(table << "." << col);
        CHECK(std::find(have.begin(), have.end(), col) != have.end());
    }
}

void require_schema_complete(db_connection& c)
{
    require_columns(c, "public.content_generation_metadata_comprehensive",
                    content_table_columns());
    require_columns(c, "public.content_metadata",
                    columns_of(c, "public.content_generation_metadata_comprehensive"));
    require_columns(c, "public.outcomes",
                    {"decision_id",
                     "tweet_id",
                     "impressions",
                     "views",
                     "likes",
                     "retweets",
                     "replies",
                     "quotes",
                     "bookmarks",
                     "profile_clicks",
                     "engagement_rate",
                     "followers_gained",
                     "followers_before",
                     "followers_after",
                     "followers_gained_weighted",
                     "primary_objective_score",
                     "attribution_confidence",
                     "hook_type",
                     "cta_type",
                     "structure_type",
                     "collected_at",
                     "data_source",
                     "simulated"});
    require_columns(
        c, "public.follower_snapshots",
        {"snapshot_at", "follower_count", "following_count", "tweet_count", "source"});
    require_columns(c, "public.vw_learning",
                    {"decision_id", "tweet_id", "decision_type", "content_slot",
                     "generator_name", "topic", "tone", "hook_type", "cta_type",
                     "structure_type", "target_username", "posted_at", "engagement_rate",
                     "followers_gained_weighted", "primary_objective_score", "age_hours",
                     "age_days", "has_metrics", "has_v2_metrics"});
    require_columns(c, "public.learning_model_weights",
                    {"id", "weights", "posteriors", "computed_at", "date_range_start",
                     "date_range_end", "sample_size", "version",
                     "avg_primary_objective_score", "avg_followers_gained_weighted",
                     "total_posts_analyzed", "is_active"});
    require_columns(c, "public.discovered_accounts",
                    {"username", "follower_count", "priority_score",
                     "reply_performance_score", "last_successful_reply_at",
                     "last_updated"});
    require_columns(c, "public.reply_opportunities",
                    {"tweet_id", "tweet_author", "tweet_content", "opportunity_score",
                     "status", "discovered_at"});
    require_columns(c, "xloop.job_runs",
                    {"id", "job", "started_at", "finished_at", "status", "rows_in",
                     "rows_out", "detail", "error"});
    require_columns(c, "xloop.schema_migrations",
                    {"version", "name", "checksum", "applied_at", "duration_ms"});
    CHECK(c.exec("SELECT xloop.has_unique_index('public.outcomes', 'decision_id')")
              .boolean(0, 0));
    CHECK(relation_exists(c, "public.learning_model_weights_one_active"));
    for (auto const* idx :
         {"cgmc_posted_idx", "cgmc_created_at_idx", "cgmc_others_created_idx",
          "cgmc_reply_tweet_idx", "cgmc_unnamed_reply_idx", "cgmc_calendar_idx",
          "follower_snapshots_snapshot_at_idx", "reply_opportunities_pending_idx"}) {
        INFO(idx);
        CHECK(relation_exists(c, std::string{"public."} + idx));
    }
}

// A migrations directory of small synthetic files, for the failure cases.
struct migration_dir : temp_dir {
    migration_dir()
    {
        write("0001_first.sql", "CREATE TABLE public.first (x int);\n");
        write("0003_third.sql", "CREATE TABLE public.third (x int);\n");
    }
};

} // namespace

TEST_CASE("a fresh database gets every table, column, view and index", "[db]")
{
    test_db db;
    auto const r = run_tool("migrate", {}, &db);
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    auto c = db.connect();
    require_schema_complete(c);
    CHECK(db.count("SELECT count(*) FROM xloop.schema_migrations") == embedded_count());
    CHECK(db.count("SELECT count(*) FROM xloop.job_runs WHERE job = 'migrate' AND status "
                   "= 'ok'") == 1);
}

TEST_CASE("the tables the jobs rewrite leave room on each page for in-place updates",
          "[db]")
{
    test_db db;
    db.migrate();
    auto const fillfactor = [&](char const* table) {
        return db.count(fmt::format(
            "SELECT coalesce((SELECT split_part(o, '=', 2)::int FROM pg_class c, "
            "unnest(c.reloptions) o WHERE c.oid = 'public.{}'::regclass AND o LIKE "
            "'fillfactor=%'), 100)",
            table));
    };
    CHECK(fillfactor("content_generation_metadata_comprehensive") == 80);
    CHECK(fillfactor("outcomes") == 80);
    CHECK(fillfactor("discovered_accounts") == 50);
    CHECK(fillfactor("reply_opportunities") == 100);
}

TEST_CASE("a second migrate is a no-op and status --check then exits 0", "[db]")
{
    test_db db;
    db.migrate();
    auto c = db.connect();
    auto const before =
        c.exec("SELECT string_agg(version || ':' || applied_at, ',' ORDER BY "
               "version) FROM xloop.schema_migrations")
            .str(0, 0);
    auto const again = run_tool("migrate", {"--json"}, &db);
    REQUIRE(again.exit_code == 0);
    CHECK(again.out.find("\"applied\": []") != std::string::npos);
    CHECK(
        c.exec(
             "SELECT string_agg(version || ':' || applied_at, ',' ORDER BY version) FROM "
             "xloop.schema_migrations")
            .str(0, 0) == before);
    auto const status = run_tool("migrate", {"status", "--check"}, &db);
    INFO(status.out << status.err);
    CHECK(status.exit_code == 0);
    CHECK(status.out.find("pending") == std::string::npos);
    // the daily timer's -q: nothing to read on a healthy day
    auto const quiet = run_tool("migrate", {"status", "--check", "-q"}, &db);
    CHECK(quiet.exit_code == 0);
    CHECK(quiet.out.empty());
    CHECK(quiet.err.empty());
}

TEST_CASE("a migration applied by a newer xloop is named by migrate, its status and "
          "validate, and nothing is undone",
          "[db]")
{
    test_db db;
    db.migrate();
    auto c = db.connect();
    c.exec("INSERT INTO xloop.schema_migrations (version, name, checksum) VALUES "
           "(9001, '9001_from_the_future', 'abc')");
    auto const rows_before = db.count("SELECT count(*) FROM xloop.schema_migrations");
    auto const again = run_tool("migrate", {}, &db);
    INFO(again.err);
    CHECK(again.exit_code == 0);
    CHECK(
        again.err.find("9001_from_the_future is applied, which this xloop does not "
                       "have: a newer xloop (or another --dir) migrated the database") !=
        std::string::npos);
    CHECK(db.count("SELECT count(*) FROM xloop.schema_migrations") == rows_before);

    auto const status = run_tool("migrate", {"status", "--check", "--json"}, &db);
    INFO(status.out);
    CHECK(status.exit_code == 0); // nothing to apply
    auto const summary = json::parse(status.out);
    CHECK(summary["unknown"] == 1);
    CHECK(summary["pending"] == 0);

    auto const v = run_tool("validate", {"--json"}, &db);
    auto const schema = check_named(json::parse(v.out), "schema");
    CHECK(schema["status"] == "warn");
    CHECK(
        schema["message"] ==
        "migration 9001_from_the_future was applied by a newer xloop than this one: run "
        "that xloop's tools (migrations are never undone)");
    CHECK(schema["numbers"]["unknown_migrations"] ==
          json::array({"9001_from_the_future"}));
}

TEST_CASE("status --check exits 1 while migrations are pending", "[db]")
{
    test_db db;
    auto const r = run_tool("migrate", {"status", "--check"}, &db);
    CHECK(r.exit_code == 1);
    CHECK(r.out.find("0001  0001_xloop_bookkeeping") != std::string::npos);
    CHECK(r.out.find("pending") != std::string::npos);
    // -q still lists what is pending
    auto const quiet = run_tool("migrate", {"status", "--check", "-q"}, &db);
    CHECK(quiet.exit_code == 1);
    CHECK(quiet.out.find("0001  0001_xloop_bookkeeping ") != std::string::npos);
    CHECK(quiet.out.find(" pending") != std::string::npos);
    // status is read-only: it created nothing
    CHECK(db.count("SELECT count(*) FROM pg_namespace WHERE nspname = 'xloop'") == 0);
}

TEST_CASE("a dry run lists what would run and writes nothing", "[db]")
{
    test_db db;
    auto const r = run_tool("migrate", {"--dry-run"}, &db);
    REQUIRE(r.exit_code == 0);
    CHECK(r.out.find("would apply 0001_xloop_bookkeeping") != std::string::npos);
    CHECK(r.out.find("would apply 0005_indexes") != std::string::npos);
    CHECK(db.count("SELECT count(*) FROM pg_namespace WHERE nspname = 'xloop'") == 0);
    CHECK(db.count("SELECT count(*) FROM pg_class WHERE relname = 'outcomes'") == 0);
}

TEST_CASE("a dry run with --json prints its one JSON object on stdout, the migrations "
          "it would apply in it",
          "[db]")
{
    test_db db;
    for (auto const* verbose : {"-q", "-v"}) {
        auto const r = run_tool("migrate", {"--dry-run", "--json", verbose}, &db);
        INFO(r.out.substr(0, 200));
        REQUIRE(r.exit_code == 0);
        auto const out = json::parse(r.out); // "would apply …" lines before it broke it
        CHECK(out["would_apply"].size() == embedded_migrations().size());
        CHECK(out["would_apply"][0] == "0001_xloop_bookkeeping");
        CHECK(out["dry_run"] == true);
    }
    CHECK(db.count("SELECT count(*) FROM pg_namespace WHERE nspname = 'xloop'") == 0);
}

TEST_CASE("a dry run names the indexes a migration outside a transaction would build, "
          "and those there already",
          "[db]")
{
    test_db db;
    auto const fresh = run_tool("migrate", {"--dry-run"}, &db);
    INFO(fresh.err);
    REQUIRE(fresh.exit_code == 0);
    CHECK(
        fresh.out.find("would change 0016_created_at_index: runs outside a transaction; "
                       "would build index cgmc_created_at_idx (CONCURRENTLY: writes go "
                       "on meanwhile)\n") != std::string::npos);
    CHECK(fresh.out.find("would change 0005_indexes: runs outside a transaction; would "
                         "build indexes cgmc_posted_idx, cgmc_status_scheduled_idx, ") !=
          std::string::npos);
    CHECK(fresh.out.find("so its changes are not shown here") == std::string::npos);
    // after the tables they are built on
    CHECK(fresh.out.find("would change 0005_indexes:") >
          fresh.out.find("would change content_generation_metadata_comprehensive: table "
                         "created"));

    // applied, then pending again with its index still there
    db.migrate();
    auto c = db.connect();
    auto const pending = repend_from_0019(c);
    auto const again = run_tool("migrate", {"--dry-run"}, &db);
    INFO(again.err);
    REQUIRE(again.exit_code == 0);
    CHECK(again.out.find("would change 0019_unnamed_reply_index: runs outside a "
                         "transaction; cgmc_unnamed_reply_idx there already\n") !=
          std::string::npos);
    CHECK_THAT(again.err,
               Catch::Contains(fmt::format("dry run: {} would be applied", pending)));
}

TEST_CASE("a dry run on the original bot's database says the data changes it reports "
          "were rolled back",
          "[db]")
{
    test_db db;
    db.load_fixture("original_bot.sql");
    auto const r = run_tool("migrate", {"--dry-run"}, &db);
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    CHECK(r.err.find("server (dry run, rolled back): outcomes: 1 older duplicate row ") !=
          std::string::npos);
    CHECK(r.err.find("server (dry run, rolled back): learning_model_weights: 1 older "
                     "active map deactivated") != std::string::npos);
    CHECK(r.err.find("server: ") == std::string::npos);
    // and nothing was moved or deactivated
    CHECK(db.count("SELECT count(*) FROM outcomes") == 4);
    CHECK(db.count("SELECT count(*) FROM learning_model_weights WHERE is_active") == 2);
}

TEST_CASE("the original bot's database converges with every row kept", "[db]")
{
    test_db db;
    db.load_fixture("original_bot.sql");
    auto c = db.connect();
    auto const r = run_tool("migrate", {}, &db);
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    require_schema_complete(c);

    // every row kept, with its own columns
    CHECK(db.count("SELECT count(*) FROM content_generation_metadata_comprehensive") ==
          5);
    CHECK(db.count("SELECT count(*) FROM content_generation_metadata_comprehensive "
                   "WHERE decision_id IS NULL") == 0);
    CHECK(
        c.exec(
             "SELECT quality_score FROM content_generation_metadata_comprehensive WHERE "
             "tweet_id = '1001'")
            .str(0, 0) == "0.81");
    CHECK(db.count("SELECT count(*) FROM discovered_accounts") == 4);
    CHECK(db.count("SELECT count(*) FROM reply_opportunities") == 2);
    CHECK(db.count("SELECT count(*) FROM learning_model_weights") == 3);

    // the duplicate outcome moved aside, the newest kept
    CHECK(db.count("SELECT count(*) FROM outcomes") == 3);
    CHECK(db.count("SELECT count(*) FROM xloop.outcomes_superseded") == 1);
    CHECK(db.count("SELECT impressions FROM outcomes WHERE decision_id = "
                   "'00000000-0000-0000-0000-000000000001'") == 1500);
    CHECK(r.err.find("1 older duplicate row ") != std::string::npos);

    // follower_snapshots: "timestamp" converged into snapshot_at, both kept in step
    CHECK(db.count("SELECT count(*) FROM follower_snapshots WHERE snapshot_at = "
                   "\"timestamp\"") == 3);
    c.exec("INSERT INTO follower_snapshots (snapshot_at, follower_count) VALUES "
           "('2025-01-12 09:00+00', 1040)");
    c.exec("INSERT INTO follower_snapshots (\"timestamp\", follower_count) VALUES "
           "('2025-01-13 09:00+00', 1050)");
    CHECK(db.count("SELECT count(*) FROM follower_snapshots WHERE snapshot_at = "
                   "\"timestamp\"") == 5);

    // one active map: the newest
    CHECK(db.count("SELECT count(*) FROM learning_model_weights WHERE is_active") == 1);
    CHECK(c.exec("SELECT sample_size FROM learning_model_weights WHERE is_active")
              .i64(0, 0) == 15);

    // duplicate usernames reported, not merged and not a failed build
    CHECK(r.err.find("discovered_accounts: 1 username occurs more than once") !=
          std::string::npos);
    CHECK(r.err.find("joe_x") != std::string::npos);
    CHECK(!c.exec("SELECT xloop.has_unique_index('public.discovered_accounts', "
                  "'lower(username)')")
               .boolean(0, 0));
    CHECK(
        c.exec("SELECT column_default FROM information_schema.columns WHERE table_name = "
               "'discovered_accounts' AND column_name = 'priority_score'")
            .str(0, 0) == "0.5");

    // views recreated with their grants; the operator's view survives
    CHECK(c.exec("SELECT has_table_privilege('anon', 'public.vw_learning', 'SELECT')")
              .boolean(0, 0));
    CHECK(c.exec("SELECT has_table_privilege('authenticated', 'public.content_metadata', "
                 "'SELECT')")
              .boolean(0, 0));
    CHECK(
        c.exec(
             "SELECT has_table_privilege('service_role', 'public.vw_learning', 'INSERT')")
            .boolean(0, 0));
    CHECK(!c.exec("SELECT has_table_privilege('anon', 'public.vw_learning', 'INSERT')")
               .boolean(0, 0));
    CHECK(c.exec("SELECT has_table_privilege('authenticated', "
                 "'public.vw_learning_daily', 'SELECT')")
              .boolean(0, 0));
    CHECK(c.exec("SELECT obj_description('public.vw_learning_daily'::regclass)")
              .str(0, 0) == "posts per day, for the dashboard");
    CHECK(db.count("SELECT sum(posts) FROM vw_learning_daily") == 3);
    CHECK(db.count("SELECT count(*) FROM vw_learning") == 3);
    CHECK(db.count("SELECT count(*) FROM vw_learning WHERE has_metrics") == 3);

    // and the second run changes nothing
    auto const again = run_tool("migrate", {"status", "--check"}, &db);
    CHECK(again.exit_code == 0);
}

// The README's block of SQL that contains `marker`, its list indent taken off.
std::string readme_sql(std::string const& marker)
{
    auto const text = read_file(source_path("README.md"));
    auto const at = text.find(marker);
    REQUIRE(at != std::string::npos);
    auto const open = text.rfind("```sql\n", at);
    auto const close = text.find("```", at);
    REQUIRE(open != std::string::npos);
    REQUIRE(close != std::string::npos);
    std::string sql;
    std::istringstream lines{text.substr(open + 7, close - open - 7)};
    for (std::string line; std::getline(lines, line);) {
        sql += line.substr(std::min(line.find_first_not_of(' '), line.size())) + "\n";
    }
    return sql;
}

TEST_CASE("the README's merge of usernames that collide ignoring case keeps one row of "
          "each and makes the unique index",
          "[db]")
{
    test_db db;
    db.load_fixture("original_bot.sql");
    auto c = db.connect();
    REQUIRE(run_tool("migrate", {"-q"}, &db).exit_code == 0);
    c.exec("UPDATE discovered_accounts SET last_updated = last_updated + interval '1 "
           "hour' WHERE username = 'Joe_X'"); // the spelling written last stays
    auto const accounts = db.count("SELECT count(*) FROM discovered_accounts");

    c.exec(readme_sql("CREATE UNIQUE INDEX discovered_accounts_username_lower_key"));
    CHECK(db.count("SELECT count(*) FROM discovered_accounts") == accounts - 1);
    CHECK(c.exec("SELECT string_agg(username, ',' ORDER BY username) FROM "
                 "discovered_accounts WHERE lower(username) = 'joe_x'")
              .str(0, 0) == "Joe_X");
    CHECK(db.count("SELECT count(*) FROM discovered_accounts WHERE username = 'joeAx'") ==
          1);
    CHECK(c.exec("SELECT xloop.has_unique_index('public.discovered_accounts', "
                 "'lower(username)')")
              .boolean(0, 0));
    // validate no longer warns of it, and the tools go on
    auto const v = run_tool("validate", {"--json"}, &db);
    auto const schema = check_named(json::parse(v.out), "schema");
    CHECK(schema["message"].get<std::string>().find("lower(username)") ==
          std::string::npos);
    CHECK(run_tool("learn-replies", {"-q"}, &db).exit_code == 0);
    CHECK(run_tool("migrate", {"status", "--check"}, &db).exit_code == 0);
}

TEST_CASE("the README's merge of reply opportunities found twice keeps the one replied "
          "to and makes the unique index",
          "[db]")
{
    test_db db;
    db.load_fixture("original_bot.sql");
    auto c = db.connect();
    // the harvester found 9002 again after the bot replied to it, and 9001 twice
    c.exec("INSERT INTO reply_opportunities (tweet_id, tweet_author, opportunity_score, "
           "status) VALUES ('9002', 'joe_x', 0.9, 'pending'), ('9001', 'analyst_amy', "
           "0.8, 'pending')");
    auto const migrated = run_tool("migrate", {}, &db);
    REQUIRE(migrated.exit_code == 0);
    CHECK_THAT(migrated.err,
               Catch::Contains("reply_opportunities: 2 tweet_id values occur more than "
                               "once"));
    // adopted without a discovered_at, so of unknown age: the harvester's
    // times, the 0.8 the older of 9001's two
    c.exec("UPDATE reply_opportunities SET discovered_at = CASE WHEN opportunity_score "
           "= 0.8 THEN '2026-01-01T00:00:00Z'::timestamptz ELSE "
           "'2026-01-02T00:00:00Z' END");

    c.exec(readme_sql("CREATE UNIQUE INDEX reply_opportunities_tweet_id_key"));
    CHECK(c.exec("SELECT string_agg(tweet_id || ' ' || status || ' ' || "
                 "opportunity_score, ', ' ORDER BY tweet_id) FROM reply_opportunities")
              .str(0, 0) == "9001 pending 0.7, 9002 replied 0.4");
    CHECK(c.exec("SELECT xloop.has_unique_index('public.reply_opportunities', "
                 "'tweet_id')")
              .boolean(0, 0));
    CHECK(run_tool("plan", {"--replies", "1", "--dry-run", "-q"}, &db).exit_code == 0);
}

TEST_CASE("vw_learning exists after every migration", "[db]")
{
    auto const all = embedded_migrations();
    SECTION("on the original bot's database")
    {
        test_db db;
        db.load_fixture("original_bot.sql");
        auto c = db.connect();
        for (auto const& m : all) {
            auto const r =
                run_tool("migrate", {"-q", "--to", std::to_string(m.version)}, &db);
            INFO(m.name << ": " << r.err);
            REQUIRE(r.exit_code == 0);
            CHECK(relation_exists(c, "public.vw_learning"));
            CHECK(relation_exists(c, "public.vw_learning_daily"));
        }
    }
    SECTION("on an empty database, from the migration that creates it on")
    {
        test_db db;
        auto c = db.connect();
        bool seen = false;
        for (auto const& m : all) {
            REQUIRE(run_tool("migrate", {"-q", "--to", std::to_string(m.version)}, &db)
                        .exit_code == 0);
            seen = seen || relation_exists(c, "public.vw_learning");
            INFO(m.name);
            CHECK(relation_exists(c, "public.vw_learning") == seen);
        }
        CHECK(seen);
    }
}

TEST_CASE("two concurrent migrations apply each migration once", "[db]")
{
    test_db db;
    process_result a;
    process_result b;
    std::thread ta{[&] { a = run_tool("migrate", {}, &db); }};
    std::thread tb{[&] { b = run_tool("migrate", {}, &db); }};
    ta.join();
    tb.join();
    INFO(a.err << "\n---\n" << b.err);
    CHECK(a.exit_code == 0);
    CHECK(b.exit_code == 0);
    CHECK(occurrences(a.err, "applying ") + occurrences(b.err, "applying ") ==
          embedded_count());
    CHECK(db.count("SELECT count(*) FROM xloop.schema_migrations") == embedded_count());
}

TEST_CASE("migrate waits for a held lock, then exits 75", "[db]")
{
    test_db db;
    auto holder = db.connect();
    auto const [k1, k2] = job_lock_key("migrate");
    holder.exec("SELECT pg_advisory_lock($1::int, $2::int)", k1, k2);
    auto const start = std::chrono::steady_clock::now();
    auto const r = run_tool("migrate", {"--lock-timeout", "1"}, &db);
    auto const waited = std::chrono::steady_clock::now() - start;
    CHECK(r.exit_code == 75);
    CHECK(r.err.find("another xloop-migrate holds the migration lock") !=
          std::string::npos);
    CHECK(waited >= std::chrono::milliseconds(900));
    holder.exec("SELECT pg_advisory_unlock($1::int, $2::int)", k1, k2);
    CHECK(run_tool("migrate", {"--lock-timeout", "1"}, &db).exit_code == 0);
}

TEST_CASE("a migration tried again after a lock wait says its server warnings once",
          "[db]")
{
    test_db db;
    db.load_fixture("original_bot.sql");
    REQUIRE(run_tool("migrate", {"--to", "3"}, &db).exit_code == 0);
    // 0004 warns of the fixture's duplicate outcomes, then waits for an
    // index on a table the bot is writing
    auto [holder, pid] = leak_transaction(
        db, "LOCK TABLE public.reply_opportunities IN ROW EXCLUSIVE MODE");
    auto const r = migrate_past_a_held_table(db, holder);
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    CHECK_THAT(r.err,
               Catch::Contains("a migration waits for tables other sessions hold"));
    CHECK(occurrences(
              r.err,
              "server: outcomes: 1 older duplicate row (same decision_id) moved") == 1);
    CHECK(occurrences(r.err,
                      "server: learning_model_weights: 1 older active map deactivated") ==
          1);
    CHECK(db.count("SELECT count(*) FROM xloop.outcomes_superseded") == 1);
}

TEST_CASE("migrate waiting for a table the bot holds does not hold the bot's queries, "
          "names the session, and goes on once it ends",
          "[db]")
{
    test_db db;
    db.load_fixture("original_bot.sql");
    // the bot's connection, leaked idle in its transaction
    auto [holder, pid] = leak_transaction(
        db, "SELECT 1 FROM public.content_generation_metadata_comprehensive LIMIT 1");
    auto waiting = std::async(std::launch::async, [&] {
        return run_tool("migrate", {"--lock-timeout", "12"}, &db);
    });
    REQUIRE(waits_for_a_lock(db, "migrate"));
    // The bot's reads of the table go on while migrate waits: each waits
    // behind one try at most (2 s), never the whole --lock-timeout.
    auto bot = db.connect();
    bot.exec("SET statement_timeout = '6s'");
    for (int i = 0; i < 4; ++i) {
        CHECK(bot.exec("SELECT count(*) FROM "
                       "public.content_generation_metadata_comprehensive")
                  .i64(0, 0) > 0);
        std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
    auto const r = waiting.get();
    INFO(r.err);
    CHECK(r.exit_code == 75);
    CHECK_THAT(r.err,
               Catch::Contains("waited 12 s (--lock-timeout) for tables other sessions "
                               "hold; the migration in progress was rolled back: pid " +
                               pid + " (") &&
                   Catch::Contains("idle in transaction since ") &&
                   Catch::Contains("on content_generation_metadata_comprehensive)") &&
                   Catch::Contains("pg_terminate_backend"));
    // the migration it was applying left nothing; the one before it is kept
    CHECK(db.count("SELECT count(*) FROM xloop.schema_migrations") == 1);
    CHECK(db.count("SELECT count(*) FROM pg_class WHERE relname = 'content_metadata' "
                   "AND relkind = 'v'") == 1);
    holder.exec("ROLLBACK");

    // a session that ends while migrate waits: migrate goes on and applies all
    holder.exec("BEGIN");
    holder.exec("SELECT 1 FROM public.content_generation_metadata_comprehensive LIMIT 1");
    auto const ok = migrate_past_a_held_table(db, holder);
    INFO(ok.err);
    CHECK(ok.exit_code == 0);
    CHECK_THAT(ok.err, Catch::Contains("a migration waits for tables other sessions "
                                       "hold: pid " +
                                       pid + " ("));
    CHECK(db.count("SELECT count(*) FROM xloop.schema_migrations") == embedded_count());
}

TEST_CASE("a concurrent index build waits for a leaked writing transaction no longer "
          "than --lock-timeout, names it, and the next run builds the index",
          "[db]")
{
    test_db db;
    db.migrate();
    auto c = db.connect();
    c.exec("DROP INDEX public.cgmc_unnamed_reply_idx");
    auto const pending = repend_from_0019(c);
    // a session that wrote the table and never ended its transaction
    auto [leaked, pid] = leak_transaction(
        db, "UPDATE public.content_generation_metadata_comprehensive SET status = status "
            "WHERE false");
    auto const r = run_tool("migrate", {"--lock-timeout", "2"}, &db);
    INFO(r.err);
    CHECK(r.exit_code == 75);
    CHECK_THAT(r.err, Catch::Contains("0019_unnamed_reply_index waited 2 s "
                                      "(--lock-timeout) for the transactions that write "
                                      "its table to end: pid " +
                                      pid + " (") &&
                          Catch::Contains("idle in transaction since") &&
                          Catch::Contains("pg_terminate_backend"));
    leaked.exec("ROLLBACK");
    auto const again = run_tool("migrate", {"--lock-timeout", "2"}, &db);
    INFO(again.err);
    CHECK(again.exit_code == 0);
    CHECK_THAT(again.err, Catch::Contains(fmt::format("applied {} to database {} at ",
                                                      pending, db.name())));
    CHECK(db.count("SELECT count(*) FROM pg_index WHERE indexrelid = "
                   "'public.cgmc_unnamed_reply_idx'::regclass AND indisvalid") == 1);
}

TEST_CASE("an edited migration is refused, named, with exit 65", "[db]")
{
    test_db db;
    migration_dir dir;
    REQUIRE(run_tool("migrate", {"--dir", dir.path()}, &db).exit_code == 0);
    dir.write("0001_first.sql", "CREATE TABLE public.first (x int, y int);\n");
    auto const r = run_tool("migrate", {"--dir", dir.path()}, &db);
    CHECK(r.exit_code == 65);
    CHECK(r.err.find("0001_first") != std::string::npos);
    CHECK(r.err.find("was edited after it was applied") != std::string::npos);
    auto const status =
        run_tool("migrate", {"status", "--check", "--dir", dir.path()}, &db);
    CHECK(status.exit_code == 1);
    CHECK(status.out.find("edited") != std::string::npos);
}

TEST_CASE("an edit that lists the applied text's checksum counts as applied", "[db]")
{
    test_db db;
    migration_dir dir;
    REQUIRE(run_tool("migrate", {"--dir", dir.path()}, &db).exit_code == 0);
    dir.write("0001_first.sql",
              "-- an edit that changes nothing where the first text ran\n"
              "-- xloop:valid-checksum " +
                  sha256_hex("CREATE TABLE public.first (x int);\n") +
                  "\nCREATE TABLE IF NOT EXISTS public.first (x int);\n");
    auto const r = run_tool("migrate", {"--dir", dir.path()}, &db);
    INFO(r.err);
    CHECK(r.exit_code == 0);
    CHECK(
        run_tool("migrate", {"status", "--check", "--dir", dir.path()}, &db).exit_code ==
        0);
}

TEST_CASE("a database migrated with an edited file is taken as applied by the xloop that "
          "had its first text",
          "[db]")
{
    test_db db;
    migration_dir dir;
    auto const first = std::string{"CREATE TABLE public.first (x int);\n"};
    dir.write("0001_first.sql",
              "-- an edit that changes nothing where the first text ran\n"
              "-- xloop:valid-checksum " +
                  sha256_hex(first) +
                  "\nCREATE TABLE IF NOT EXISTS public.first (x int);\n");
    REQUIRE(run_tool("migrate", {"--dir", dir.path()}, &db).exit_code == 0);
    CHECK(
        run_tool("migrate", {"status", "--check", "--dir", dir.path()}, &db).exit_code ==
        0);
    // the older xloop, rolled back to
    dir.write("0001_first.sql", first);
    auto const older =
        run_tool("migrate", {"status", "--check", "--dir", dir.path()}, &db);
    INFO(older.out << older.err);
    CHECK(older.exit_code == 0);
    CHECK(run_tool("migrate", {"--dir", dir.path()}, &db).exit_code == 0);
}

TEST_CASE("a migration whose skip-if query gives a reason is recorded, not run, and "
          "says why",
          "[db]")
{
    test_db db;
    temp_dir dir;
    dir.write("0001_first.sql", "CREATE TABLE public.first (at timestamp);\n");
    dir.write("0002_second.sql",
              "-- xloop:no-transaction\n"
              "-- xloop:skip-if SELECT 'first.at is ' || format_type(atttypid, NULL) "
              "FROM pg_attribute WHERE attrelid = 'public.first'::regclass AND attname = "
              "'at' AND atttypid = 'timestamp'::regtype\n"
              "CREATE INDEX CONCURRENTLY first_at_idx ON public.first "
              "((at::timestamptz));\n");
    dir.write("0003_third.sql", "CREATE TABLE public.third (x int);\n");
    auto const dry = run_tool("migrate", {"--dir", dir.path(), "--dry-run"}, &db);
    CHECK(dry.exit_code == 0);
    CHECK(dry.err.find("0002_second would be skipped (recorded as applied): first.at is "
                       "timestamp without time zone") != std::string::npos);
    auto const r = run_tool("migrate", {"--dir", dir.path()}, &db);
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    CHECK(r.err.find("0002_second skipped (recorded as applied): first.at is timestamp "
                     "without time zone") != std::string::npos);
    CHECK(db.count("SELECT count(*) FROM xloop.schema_migrations") == 3);
    CHECK(db.count("SELECT count(*) FROM pg_class WHERE relname = 'first_at_idx'") == 0);
    CHECK(db.count("SELECT count(*) FROM pg_class WHERE relname = 'third'") == 1);
}

TEST_CASE("a migration numbered below the newest applied one is refused unless allowed",
          "[db]")
{
    test_db db;
    migration_dir dir;
    REQUIRE(run_tool("migrate", {"--dir", dir.path()}, &db).exit_code == 0);
    dir.write("0002_second.sql", "CREATE TABLE public.second (x int);\n");
    auto const r = run_tool("migrate", {"--dir", dir.path()}, &db);
    CHECK(r.exit_code == 65);
    CHECK(r.err.find("0002_second") != std::string::npos);
    CHECK(r.err.find("--allow-out-of-order") != std::string::npos);
    CHECK(db.count("SELECT count(*) FROM pg_class WHERE relname = 'second'") == 0);
    auto const ok =
        run_tool("migrate", {"--dir", dir.path(), "--allow-out-of-order"}, &db);
    CHECK(ok.exit_code == 0);
    CHECK(db.count("SELECT count(*) FROM pg_class WHERE relname = 'second'") == 1);
}

TEST_CASE("a failing migration is rolled back and reported with file, line and message",
          "[db]")
{
    test_db db;
    migration_dir dir;
    dir.write("0004_bad.sql", "-- a comment\nCREATE TABLE public.bad (x int);\n\n"
                              "INSERT INTO public.bad\n  VALUES ('not a number');\n");
    auto const r = run_tool("migrate", {"--dir", dir.path()}, &db);
    INFO(r.err);
    CHECK(r.exit_code == 65);
    CHECK(r.err.find("0004_bad.sql:5:") != std::string::npos);
    CHECK(r.err.find("invalid input syntax for type integer") != std::string::npos);
    CHECK(db.count("SELECT count(*) FROM pg_class WHERE relname = 'bad'") == 0);
    CHECK(db.count("SELECT count(*) FROM xloop.schema_migrations") == 2);
    CHECK(db.count("SELECT count(*) FROM xloop.schema_migrations WHERE version = 4") ==
          0);
}

TEST_CASE("a runtime error without a position names the statement's first line", "[db]")
{
    test_db db;
    migration_dir dir;
    dir.write("0004_bad.sql", "CREATE TABLE public.u (x int UNIQUE);\n"
                              "INSERT INTO public.u VALUES (1);\n"
                              "INSERT INTO public.u VALUES (1);\n");
    auto const r = run_tool("migrate", {"--dir", dir.path()}, &db);
    CHECK(r.exit_code == 65);
    CHECK(r.err.find("0004_bad.sql:3:") != std::string::npos);
    CHECK(r.err.find("23505") != std::string::npos);
    CHECK(db.count("SELECT count(*) FROM pg_class WHERE relname = 'u'") == 0);
}

TEST_CASE("xloop.as_uuid gives a uuid for exactly the texts PostgreSQL reads as one",
          "[db]")
{
    test_db db;
    db.migrate();
    auto c = db.connect();
    for (std::string const text :
         {"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", "A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11",
          "{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}", "a0eebc999c0b4ef8bb6d6bb9bd380a11",
          "a0ee-bc99-9c0b-4ef8-bb6d-6bb9-bd38-0a11",
          "{a0eebc99-9c0b4ef8-bb6d6bb9-bd380a11}",
          "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}",
          "{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
          " a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1",
          "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11-",
          "a0eebc99--9c0b-4ef8-bb6d-6bb9bd380a11", "g0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
          "legacy-42", ""}) {
        INFO(text);
        bool reads = true;
        try {
            c.exec("SELECT $1::uuid", text);
        } catch (db_error const&) {
            reads = false;
        }
        auto const r = c.exec("SELECT xloop.as_uuid($1::text)::text", text);
        CHECK(!r.is_null(0, 0) == reads);
    }
    // on a uuid it is the value itself
    CHECK(
        c.exec("SELECT xloop.as_uuid('a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid)::text")
            .str(0, 0) == "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11");
}

TEST_CASE("applying migrations sends NOTIFY pgrst 'reload schema'", "[db]")
{
    test_db db;
    auto listener = db.connect();
    listener.exec("LISTEN pgrst");
    REQUIRE(run_tool("migrate", {}, &db).exit_code == 0);
    auto notifications = [&] {
        std::vector<std::string> got;
        PQconsumeInput(listener.raw());
        while (PGnotify* n = PQnotifies(listener.raw())) {
            got.push_back(std::string{n->relname} + ":" + n->extra);
            PQfreemem(n);
        }
        return got;
    };
    // the notification is delivered on commit; allow the backend a moment
    std::vector<std::string> got;
    for (int i = 0; i < 50 && got.empty(); ++i) {
        got = notifications();
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    REQUIRE(got.size() == 1);
    CHECK(got[0] == "pgrst:reload schema");
    // nothing applied: nothing to reload
    REQUIRE(run_tool("migrate", {}, &db).exit_code == 0);
    listener.exec("SELECT 1");
    CHECK(notifications().empty());
}

TEST_CASE("an unreachable database exits 75 and never echoes the password", "[db]")
{
    auto const r =
        run_tool("migrate", {"--db", "postgresql://xloop:S3cretPassw0rd@127.0.0.1:1/x"});
    CHECK(r.exit_code == 75);
    CHECK(r.err.find("database unreachable") != std::string::npos);
    CHECK(r.err.find("S3cretPassw0rd") == std::string::npos);
    CHECK(r.out.find("S3cretPassw0rd") == std::string::npos);

    auto const env =
        run_tool("migrate", {"--json"}, nullptr, {},
                 {{"DATABASE_URL", "host=127.0.0.1 port=1 password=S3cretPassw0rd"}});
    CHECK(env.exit_code == 75);
    CHECK((env.err + env.out).find("S3cretPassw0rd") == std::string::npos);
    CHECK(env.out.find("\"exit_code\": 75") != std::string::npos);
}

TEST_CASE("a connect_timeout libpq would refuse exits 78 naming it, not a timeout at "
          "once",
          "[db]")
{
    test_db db;
    // 99999999999999999999 overflowed the deadline: "no answer within
    // connect_timeout" at once, exit 75, every run
    for (auto const* bad : {"99999999999999999999", "abc", "10s", "1e3"}) {
        auto const r = run_tool("validate", {"--checks", "-q"}, &db, {},
                                {{"PGCONNECT_TIMEOUT", std::string{bad}}});
        CHECK(r.exit_code == 78);
        CHECK_THAT(r.err,
                   Catch::Contains(fmt::format(
                       "connect_timeout '{}' is not a whole number of seconds", bad)));
    }
    auto const in_string =
        run_tool("validate", {"--checks", "-q", "--db",
                              db.conninfo() + " connect_timeout=2147483648"});
    CHECK(in_string.exit_code == 78);
    // what libpq takes: surrounding spaces; 0 or less waits as long as it takes
    for (auto const* good : {" 7 ", "0", "-5", "2147483647"}) {
        auto const r = run_tool("validate", {"--checks", "-q"}, &db, {},
                                {{"PGCONNECT_TIMEOUT", std::string{good}}});
        INFO(good << ": " << r.err);
        CHECK(r.exit_code == 1); // connected: not ready, no job has run
    }
}

TEST_CASE("a malformed connection string exits 78 without echoing its parts", "[db]")
{
    auto const r = run_tool("migrate", {"--db", "host=localhost password=S3cret junk"});
    CHECK(r.exit_code == 78);
    CHECK(r.err.find("invalid connection string") != std::string::npos);
    CHECK(r.err.find("S3cret") == std::string::npos);
    auto const uri =
        run_tool("migrate", {"--db", "postgresql://u:S3cret@host:notaport/db"});
    CHECK(uri.exit_code == 78);
    CHECK(uri.err.find("S3cret") == std::string::npos);
    // Supabase's pooler URL as its docs give it for Prisma
    auto const prisma = run_tool(
        "migrate",
        {"--db",
         "postgresql://postgres.abc:S3cret@127.0.0.1:6543/postgres?pgbouncer=true&"
         "connection_limit=1"});
    CHECK(prisma.exit_code == 78);
    CHECK(prisma.err.find("'pgbouncer' is Prisma's parameter, not libpq's: remove it") !=
          std::string::npos);
    CHECK(prisma.err.find("S3cret") == std::string::npos);
    // An '@' in the password as it is: libpq would look up "t@localhost", the
    // rest of the password, and print it; so would Azure's user@server
    for (auto const* at :
         {"postgresql://postgres:S3cr@t@localhost:5432/db",
          "postgres://joe@myserver:S3cret@localhost/db?sslmode=require"}) {
        auto const r = run_tool("migrate", {"--db", at});
        INFO(r.err);
        CHECK(r.exit_code == 78);
        CHECK_THAT(r.err, Catch::Contains("write an '@' of the user name or password as "
                                          "%40"));
        CHECK(r.err.find("S3cr") == std::string::npos);
        CHECK(r.err.find("t@localhost") == std::string::npos);
    }
    // one '@' before the host, another in the query: no complaint about it
    auto const query_at = run_tool(
        "migrate", {"--db", "postgresql://u:S3cret@127.0.0.1:1/db?options=-c%20x=a@b"});
    CHECK(query_at.err.find("%40") == std::string::npos);
}

TEST_CASE("a bad config file exits 78 naming the file line and key", "[db]")
{
    test_db db;
    temp_dir dir;
    dir.write("xloop.yaml", "weights:\n  half_life_days: 14\n  kapa: 5\n");
    auto const r = run_tool("migrate", {"--config", dir.path() + "/xloop.yaml"}, &db);
    CHECK(r.exit_code == 78);
    CHECK(r.err.find("xloop.yaml:3: unknown key 'weights.kapa'") != std::string::npos);
    // also through XLOOP_CONFIG, and nothing was applied
    auto const env =
        run_tool("migrate", {}, &db, {}, {{"XLOOP_CONFIG", dir.path() + "/xloop.yaml"}});
    CHECK(env.exit_code == 78);
    CHECK(db.count("SELECT count(*) FROM pg_namespace WHERE nspname = 'xloop'") == 0);
}

TEST_CASE("a first migrate as a role that may not create the schema or the tables is "
          "refused before any change, naming the grants",
          "[db]")
{
    test_db db;
    auto c = db.connect();
    // a role per test database (roles are cluster-wide), taken through the
    // connection's startup options; public closed to others as on PostgreSQL 15
    auto const dbname = db.conninfo().substr(std::string{"dbname="}.size());
    auto const role = "cron_" + dbname;
    c.exec(fmt::format("CREATE ROLE {} NOLOGIN", quote_ident(role)));
    c.exec("REVOKE CREATE ON SCHEMA public FROM PUBLIC");
    auto const as_role = db.conninfo() + " options='-c role=" + role + "'";
    auto const owner =
        c.exec("SELECT datdba::regrole::text FROM pg_database WHERE datname "
               "= current_database()")
            .str(0, 0);
    auto const none = run_tool("migrate", {"--db", as_role}, nullptr);
    INFO(none.err);
    CHECK(none.exit_code == 78);
    CHECK_THAT(none.err, Catch::Contains("xloop-migrate creates the schema xloop and its "
                                         "tables in public, which role " +
                                         role +
                                         " may not; nothing was changed. Run it "
                                         "as the database's owner, " +
                                         owner));
    CHECK_THAT(none.err, Catch::Contains(fmt::format(
                             "GRANT CREATE ON DATABASE {} TO {}; GRANT CREATE ON SCHEMA "
                             "public TO {}",
                             quote_ident(dbname), quote_ident(role), quote_ident(role))));
    // --dry-run says the same
    CHECK(run_tool("migrate", {"--db", as_role, "--dry-run"}, nullptr).exit_code == 78);
    c.exec(fmt::format("GRANT CREATE ON DATABASE {} TO {}", quote_ident(dbname),
                       quote_ident(role)));
    auto const one = run_tool("migrate", {"--db", as_role}, nullptr);
    CHECK(one.exit_code == 78);
    CHECK(one.err.find("GRANT CREATE ON DATABASE") == std::string::npos);
    CHECK_THAT(one.err, Catch::Contains("GRANT CREATE ON SCHEMA public TO"));
    CHECK(db.count("SELECT count(*) FROM pg_namespace WHERE nspname = 'xloop'") == 0);
    CHECK(db.count("SELECT count(*) FROM pg_class WHERE relnamespace = "
                   "'public'::regnamespace") == 0);
    // with both it migrates
    c.exec(fmt::format("GRANT CREATE ON SCHEMA public TO {}", quote_ident(role)));
    auto const both = run_tool("migrate", {"--db", as_role, "-q"}, nullptr);
    INFO(both.err);
    CHECK(both.exit_code == 0);
    CHECK(db.count("SELECT count(*) FROM xloop.schema_migrations") > 0);
    c.exec(fmt::format("DROP OWNED BY {0}; DROP ROLE {0}", quote_ident(role)));
}

TEST_CASE("usage errors exit 64", "[db]")
{
    CHECK(run_tool("migrate", {"--no-such-option"}).exit_code == 64);
    auto const r = run_tool("migrate", {"--now", "yesterday"});
    CHECK(r.exit_code == 64);
    CHECK(r.err.find("--now: 'yesterday'") != std::string::npos);
    // an ISO time the tools cannot hold says which years they take
    auto const old = run_tool("migrate", {"--now", "1850-01-01"});
    CHECK(old.exit_code == 64);
    CHECK_THAT(old.err, Catch::Contains("--now: '1850-01-01' is not an ISO 8601 time of "
                                        "the years 1900 to 2199"));
    CHECK(run_tool("migrate", {"--help"}).exit_code == 0);
}

TEST_CASE("each tool's --help lists the exit codes a script branches on, "
          "validate's and migrate status --check's 1 among them",
          "[nodb]")
{
    CHECK_THAT(run_tool("validate", {"--help"}).out,
               Catch::Contains("Exit codes: 0 ok or nothing to do, 1 NOT READY"));
    CHECK_THAT(run_tool("migrate", {"status", "--help"}).out,
               Catch::Contains("1 status --check: a migration pending or edited"));
    auto const plan = run_tool("plan", {"--help"}).out;
    CHECK_THAT(plan, Catch::Contains("Exit codes: 0 ok or nothing to do, 64 usage"));
    CHECK_THAT(plan, Catch::Contains("75 temporary"));
}

TEST_CASE("every configuration key a tool's --help names is a key of the config",
          "[nodb]")
{
    auto const keys = config_keys();
    std::regex const key{R"(\b(metrics|x_api|weights|replies|plan|validate|database|)"
                         R"(ledger)\.[a-z_.]*[a-z_])"};
    int named = 0;
    for (auto const* tool : {"migrate", "scrape-metrics", "build-weights",
                             "learn-replies", "plan", "validate"}) {
        auto const help = run_tool(tool, {"--help"}).out;
        for (std::sregex_iterator it{help.begin(), help.end(), key}, end; it != end;
             ++it) {
            INFO(tool << " --help names " << it->str());
            CHECK(std::find(keys.begin(), keys.end(), it->str()) != keys.end());
            ++named;
        }
    }
    CHECK(named > 10);
}

TEST_CASE("a wrong XLOOP_NOW, XLOOP_CONFIG or DATABASE_URL is named as the variable, "
          "not as the option the command line does not have",
          "[nodb]")
{
    auto const now = run_tool("plan", {}, nullptr, {}, {{"XLOOP_NOW", "yesterday"}});
    CHECK(now.exit_code == 64);
    CHECK_THAT(now.err,
               Catch::Contains("XLOOP_NOW: 'yesterday' is not an ISO 8601 time"));
    auto const config =
        run_tool("plan", {}, nullptr, {}, {{"XLOOP_CONFIG", "/nonexistent/xloop.yaml"}});
    CHECK(config.exit_code == 78);
    CHECK_THAT(config.err,
               Catch::Contains("XLOOP_CONFIG: cannot read config file "
                               "'/nonexistent/xloop.yaml': No such file or directory"));
    // the option, where given, wins and is named
    auto const option = run_tool("plan", {"--now", "today"}, nullptr, {},
                                 {{"XLOOP_NOW", "2026-03-02T12:00:00Z"}});
    CHECK_THAT(option.err, Catch::Contains("--now: 'today'"));
    auto const url =
        run_tool("plan", {}, nullptr, {},
                 {{"DATABASE_URL", "postgresql://x:s3cret@localhost:99999/db"}});
    CHECK(url.exit_code == 78);
    CHECK_THAT(url.err, Catch::Contains("DATABASE_URL: cannot connect to the database: "
                                        "invalid port number"));
    CHECK_THAT(url.err, !Catch::Contains("s3cret"));
    auto const db_option = run_tool("plan", {"--db", "garbage"});
    CHECK(db_option.exit_code == 78);
    CHECK_THAT(db_option.err, Catch::Contains("--db: invalid connection string"));
}

TEST_CASE("a count option that is not a whole number in its range says which it is",
          "[nodb]")
{
    for (auto const& [args, message] :
         std::vector<std::pair<std::vector<std::string>, std::string>>{
             {{"--replies", "abc"}, "--replies: 'abc' is not a whole number"},
             {{"--replies", "2.5"}, "--replies: '2.5' is not a whole number"},
             {{"--replies", "0"}, "--replies: 0 is not between 1 and 1000"},
             {{"--replies", "99999999999999999999"},
              "--replies: '99999999999999999999' is not a whole number"}}) {
        auto const r = run_tool("plan", args);
        INFO(r.err);
        CHECK(r.exit_code == 64);
        CHECK_THAT(r.err, Catch::Contains(message));
    }
    auto const days = run_tool("validate", {"--days", "x"});
    CHECK(days.exit_code == 64);
    CHECK_THAT(days.err, Catch::Contains("--days: 'x' is not a whole number"));
    // and --help shows each range once, not "INT:INT in [1 - 1000]"
    auto const help = run_tool("plan", {"--help"});
    CHECK_THAT(help.out, Catch::Contains("--replies INT in [1 - 1000] "));
    CHECK(help.out.find("INT:") == std::string::npos);
}

TEST_CASE("an option or subcommand the tool does not have names the nearest one it has",
          "[nodb]")
{
    for (auto const& [tool, args, hint] :
         std::vector<std::tuple<std::string, std::vector<std::string>, std::string>>{
             {"plan", {"--reply", "3"}, "--reply (did you mean --replies?)"},
             {"plan", {"--dryrun"}, "--dryrun (did you mean --dry-run?)"},
             {"plan", {"--dry"}, "--dry (did you mean --dry-run?)"},
             {"validate", {"--log-fmt=json"}, "(did you mean --log-format?)"},
             {"migrate", {"--alow-out-of-order"}, "(did you mean --allow-out-of-order?)"},
             {"scrape-metrics", {"--inptu", "x"}, "(did you mean --input?)"},
             {"migrate", {"stats"}, "stats (did you mean status?)"},
             {"migrate", {"satus", "--check"}, "(did you mean status?)"},
             // psql's habits: the connection is one --db string
             {"validate", {"-d", "mydb"}, "(did you mean --db?)"},
             {"plan", {"-U", "bot", "-dmydb"}, "(did you mean --db?)"},
             {"build-weights", {"-n"}, "(did you mean --dry-run?)"},
             {"learn-replies", {"-c", "x.yaml"}, "(did you mean --config?)"}}) {
        auto const r = run_tool(tool, args);
        INFO(r.err);
        CHECK(r.exit_code == 64);
        CHECK_THAT(r.err, Catch::Contains(hint));
    }
    // nothing near: no guess
    auto const far = run_tool("plan", {"--zzzzzz"});
    CHECK(far.exit_code == 64);
    CHECK(far.err.find("did you mean") == std::string::npos);
    auto const far_word = run_tool("migrate", {"frobnicate"});
    CHECK(far_word.exit_code == 64);
    CHECK(far_word.err.find("did you mean") == std::string::npos);
    // and a seed is a whole number, said so
    auto const seed = run_tool("plan", {"--seed", "-1"});
    CHECK(seed.exit_code == 64);
    CHECK_THAT(seed.err, Catch::Contains("--seed: '-1' is not a whole number from 0 to "
                                         "18446744073709551615"));
}

TEST_CASE("a number of seconds that is not one in its range says which it is", "[nodb]")
{
    for (auto const& [value, message] : std::vector<std::pair<std::string, std::string>>{
             {"abc", "--lock-timeout: 'abc' is not a number of seconds"},
             {"nan", "--lock-timeout: 'nan' is not a number of seconds"},
             {"-1", "--lock-timeout: -1 is not between 0 and 86400 seconds"},
             {"1e6", "--lock-timeout: 1e6 is not between 0 and 86400 seconds"}}) {
        auto const r = run_tool("migrate", {"--lock-timeout", value});
        INFO(r.err);
        CHECK(r.exit_code == 64);
        CHECK_THAT(r.err, Catch::Contains(message));
    }
    CHECK_THAT(run_tool("migrate", {"--help"}).out,
               Catch::Contains("--lock-timeout SECONDS in [0 - 86400]"));
}
