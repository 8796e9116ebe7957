#include "fake_x_api.hpp"
#include "test_db_fixture.hpp"

#include <catch2/catch.hpp>
#include <fcntl.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <optional>

using namespace xloop;
using namespace xloop::test;
using nlohmann::json;

namespace {

constexpr char const* now = "2026-03-02T12:00:00Z";
constexpr char const* token = "xtok-5ecret-value";

// A posted decision `age_hours` before now; returns its tweet id.
std::string add_posted(db_connection& c, std::string const& tweet_id, double age_hours,
                       std::string const& type = "single",
                       std::optional<double> scraped_at_age_hours = std::nullopt)
{
    c.exec(
        "INSERT INTO public.content_generation_metadata_comprehensive (status, tweet_id, "
        "posted_at, decision_type, content, target_username) VALUES ('posted', $1, "
        "$2::timestamptz - make_interval(secs => $3::float8 * 3600), $4, "
        "'Why do dashboards lie? Reply below.', CASE WHEN $4 = 'reply' THEN 'amy' END)",
        tweet_id, now, age_hours, type);
    if (scraped_at_age_hours) {
        c.exec("INSERT INTO public.outcomes (decision_id, tweet_id, impressions, "
               "collected_at) "
               "SELECT decision_id, tweet_id, 1, posted_at + make_interval(secs => "
               "$2::float8 * "
               "3600) FROM public.content_generation_metadata_comprehensive WHERE "
               "tweet_id = $1",
               tweet_id, *scraped_at_age_hours);
    }
    return tweet_id;
}

struct scraper {
    test_db const& db;
    std::string base_url;
    temp_dir dir;
    std::string config;

    scraper(test_db const& d, fake_x_api const& api) : db(d), base_url(api.base_url())
    {
        configure();
    }
    // The config: the fake's URL, quick retries, and `more` keys of x_api.
    void configure(std::string const& more = {})
    {
        dir.write("x.yaml", "x_api:\n  base_url: " + base_url +
                                "\n  timeout_ms: 2000\n  retries: 1\n  backoff_ms: 10\n" +
                                more);
        config = dir.path() + "/x.yaml";
    }
    process_result run(std::vector<std::string> args = {}, char const* at = now,
                       std::optional<std::string> tok = std::string{token})
    {
        args.insert(args.end(), {"--config", config, "--now", at});
        return run_tool("scrape-metrics", args, &db, {}, {{"X_BEARER_TOKEN", tok}});
    }
    // A run that must succeed; its stderr shown if it does not.
    process_result ok(std::vector<std::string> args)
    {
        auto r = run(std::move(args));
        UNSCOPED_INFO(r.err);
        REQUIRE(r.exit_code == 0);
        return r;
    }
    // What a run at `at` that must succeed did with the follower count.
    std::string followers_at(char const* at)
    {
        auto const r = run({"--json"}, at);
        UNSCOPED_INFO(r.err);
        REQUIRE(r.exit_code == 0);
        return nlohmann::json::parse(r.out)["followers"].get<std::string>();
    }
};

std::string dump(test_db const& db)
{
    auto c = db.connect();
    return c
        .exec("SELECT (SELECT string_agg(o::text, E'\\n' ORDER BY tweet_id) FROM "
              "public.outcomes o) || (SELECT string_agg(f::text, E'\\n' ORDER BY "
              "snapshot_at) "
              "FROM public.follower_snapshots f) || (SELECT string_agg(c::text, E'\\n' "
              "ORDER "
              "BY id) FROM public.content_generation_metadata_comprehensive c)")
        .str(0, 0);
}

} // namespace

TEST_CASE("scrape-metrics asks for the posts that are due, oldest first", "[db]")
{
    test_db db;
    db.migrate();
    auto c = db.connect();
    add_posted(c, "500", 0.5);              // younger than the first checkpoint (1 h)
    add_posted(c, "501", 2);                // due at 1 h, never scraped
    add_posted(c, "502", 7, "single", 2);   // scraped at 2 h, due again at 6 h
    add_posted(c, "503", 7, "single", 6.5); // scraped after its 6 h checkpoint
    add_posted(c, "504", 24 * 40);          // older than 30 days
    add_posted(c, "505", 30);               // due at 24 h, never scraped
    c.exec("UPDATE public.content_generation_metadata_comprehensive SET metrics_gone_at "
           "= now() "
           "WHERE tweet_id = '501'");
    add_posted(c, "506", 3);
    fake_x_api api;
    scraper s{db, api};
    auto const r = s.ok({"--json"});
    auto const reqs = api.tweet_requests();
    REQUIRE(reqs.size() == 1);
    // due times: 505 at 30−24 = 6 h ago, 502 at 1 h ago, 506 at 2 h ago
    CHECK(reqs[0].ids == std::vector<std::string>{"505", "506", "502"});
    CHECK(json::parse(r.out)["due"] == 3);
}

TEST_CASE(
    "a tweet id X cannot look up is never asked for, and named, and the other posts "
    "are scraped",
    "[db]")
{
    test_db db;
    db.migrate();
    auto c = db.connect();
    add_posted(c, "501", 2);
    add_posted(c, " 502 ", 3); // the oldest due: it was first in every request
    add_posted(c, "503,504", 4);
    fake_x_api api;
    scraper s{db, api};
    auto const r = s.ok({"--json"});
    auto const reqs = api.tweet_requests();
    REQUIRE(reqs.size() == 1);
    CHECK(reqs[0].ids == std::vector<std::string>{"501"});
    CHECK(json::parse(r.out)["unaskable_tweet_ids"] == 2);
    CHECK(r.err.find("2 posts of the last 31 days have a tweet_id X cannot look up (e.g. "
                     "\" 502 \"; an id is 1 to 19 digits)") != std::string::npos);
    CHECK(db.count("SELECT count(*) FROM public.outcomes WHERE tweet_id = '501' AND "
                   "primary_objective_score IS NOT NULL") == 1);
}

namespace {

// Two due posts and an X API that answers after 1.5 s, under the config
// `yaml` and the database's own `setting` (none if empty): both are written,
// with the follower snapshot.
void slow_x_api_loses_nothing(std::string const& yaml, std::string const& setting)
{
    test_db db;
    db.migrate();
    auto c = db.connect();
    add_posted(c, "501", 2);
    add_posted(c, "502", 3);
    if (!setting.empty()) {
        c.exec(fmt::format("ALTER DATABASE {} SET {}", quote_ident(db.name()), setting));
    }
    fake_x_api api;
    api.delay_tweets_ms = 1500;
    scraper s{db, api};
    if (!yaml.empty()) {
        s.configure(yaml);
    }
    auto const r = s.ok({"--json"});
    CHECK(json::parse(r.out)["outcomes_written"] == 2);
    CHECK(db.count(
              "SELECT count(*) FROM public.outcomes WHERE impressions IS NOT NULL") == 2);
    CHECK(db.count("SELECT count(*) FROM public.follower_snapshots") == 1);
}

} // namespace

TEST_CASE("no transaction waits on the X API: an answer slower than "
          "idle_in_transaction_session_timeout loses nothing",
          "[db]")
{
    // the session's timeout 1 s (as a pooler or the database may set it)
    slow_x_api_loses_nothing("database:\n  idle_in_transaction_timeout_minutes: 0.0167\n",
                             "");
}

TEST_CASE("a database's idle_session_timeout does not end a run waiting for the X API "
          "between transactions",
          "[db]")
{
    // as a managed database may set it for every session
    slow_x_api_loses_nothing("", "idle_session_timeout = '1s'");
}

TEST_CASE("250 due posts are asked for in 3 requests of at most 100 ids", "[db]")
{
    test_db db;
    db.migrate();
    auto c = db.connect();
    c.exec(
        "INSERT INTO public.content_generation_metadata_comprehensive (status, tweet_id, "
        "posted_at, decision_type) SELECT 'posted', (7000 + g)::text, $1::timestamptz - "
        "interval '2 hours' - g * interval '1 second', 'single' FROM generate_series(1, "
        "250) g",
        now);
    fake_x_api api;
    scraper s{db, api};
    s.ok({"-q"});
    auto const reqs = api.tweet_requests();
    REQUIRE(reqs.size() == 3);
    CHECK(reqs[0].ids.size() == 100);
    CHECK(reqs[1].ids.size() == 100);
    CHECK(reqs[2].ids.size() == 50);
    CHECK(db.count(
              "SELECT count(*) FROM public.outcomes WHERE primary_objective_score IS NOT "
              "NULL") == 250);
    CHECK(db.count("SELECT count(*) FROM public.follower_snapshots") == 1);
    // the base table's actual_* columns follow
    CHECK(
        db.count(
            "SELECT count(*) FROM public.content_generation_metadata_comprehensive "
            "WHERE actual_impressions IS NOT NULL AND actual_primary_objective_score IS "
            "NOT NULL") == 250);
    // --max-posts caps a run; its output is the run's own lines, not the
    // server's notices of each batch's setup ("already exists, skipping")
    c.exec("UPDATE public.outcomes SET collected_at = NULL");
    fake_x_api api2;
    scraper s2{db, api2};
    auto const capped = s2.run({"--max-posts", "30"});
    INFO(capped.err);
    REQUIRE(capped.exit_code == 0);
    CHECK(api2.tweet_requests().at(0).ids.size() == 30);
    CHECK(capped.err.find("server:") == std::string::npos);
}

TEST_CASE("replies get v2 metrics exactly like posts", "[db]")
{
    test_db db;
    db.migrate();
    auto c = db.connect();
    add_posted(c, "600", 30, "single");
    add_posted(c, "601", 30, "reply");
    // follower history: a snapshot before both posts, one after their windows
    c.exec("INSERT INTO public.follower_snapshots (snapshot_at, follower_count) VALUES "
           "($1::timestamptz - interval '31 hours', 900), "
           "($1::timestamptz - interval '6 hours', 940)",
           now);
    fake_x_api api;
    scraper s{db, api};
    REQUIRE(s.run({"-q"}).exit_code == 0);
    auto const r =
        c.exec("SELECT o.tweet_id, o.engagement_rate, o.followers_gained_weighted, "
               "o.primary_objective_score, o.attribution_confidence, o.hook_type, "
               "o.cta_type, o.structure_type FROM public.outcomes o ORDER BY 1");
    REQUIRE(r.rows() == 2);
    for (int i = 0; i < 2; ++i) {
        INFO(r.str(i, 0));
        for (int col = 1; col <= 7; ++col) {
            CHECK_FALSE(r.is_null(i, col));
        }
        CHECK(r.str(i, 5) == "question");
        CHECK(r.str(i, 6) == "engagement");
    }
    CHECK(r.str(0, 7) == "single");
    CHECK(r.str(1, 7) == "reply");
    // the 40 followers (1000 − 900 … the last snapshot is the API's 1000 at now)
    // are shared by impressions: together never more than the gain
    CHECK(
        c.exec("SELECT sum(followers_gained) <= 100 FROM public.outcomes").boolean(0, 0));
    CHECK(db.count("SELECT count(*) FROM public.vw_learning WHERE has_v2_metrics AND "
                   "decision_type = 'reply'") == 1);
}

TEST_CASE("a reply that names no account is given the one X says it answers, and "
          "learn-replies learns from it",
          "[db]")
{
    test_db db;
    db.migrate();
    auto c = db.connect();
    for (auto const* id : {"4001", "4002", "4003"}) {
        add_posted(c, id, 30, "reply");
    }
    add_posted(c, "4004", 30, "single");
    // the original bot's replies recorded no account; 4002's is xloop's own
    c.exec("UPDATE public.content_generation_metadata_comprehensive SET target_username "
           "= CASE tweet_id WHEN '4002' THEN 'joe' WHEN '4003' THEN ' ' END");
    fake_x_api api;
    api.replies_to = {{"4001", {"111", "analyst_amy"}},
                      {"4002", {"222", "someone_else"}}, // a name there is kept
                      {"4003", {"333", ""}},             // X leaves the user out
                      {"4004", {"444", "bob"}}};         // no reply of ours
    scraper s{db, api};
    auto const r = s.ok({"--json"});
    auto const reqs = api.tweet_requests();
    REQUIRE_FALSE(reqs.empty());
    CHECK(reqs[0].expansions == "in_reply_to_user_id");
    CHECK(json::parse(r.out)["reply_targets_named"] == 1);
    CHECK_THAT(r.err, Catch::Contains("1 reply that named no account now names the one X "
                                      "says it answers (in_reply_to_user_id): "
                                      "learn-replies learns from it"));
    auto const targets = c.exec(
        "SELECT string_agg(tweet_id || '=' || coalesce(target_username, '-'), ',' ORDER "
        "BY tweet_id) FROM public.content_generation_metadata_comprehensive");
    CHECK(targets.str(0, 0) == "4001=analyst_amy,4002=joe,4003= ,4004=-");
    // the user X would not expand is no post gone, nor one to ask again
    CHECK(json::parse(r.out)["gone"] == 0);
    CHECK(r.err.find("retried next run") == std::string::npos);
    CHECK(r.err.find("no longer exist") == std::string::npos);
    CHECK(
        db.count("SELECT count(*) FROM public.content_generation_metadata_comprehensive "
                 "WHERE metrics_gone_at IS NOT NULL") == 0);
    // learn-replies learns from it beside xloop's own (a day later: old enough)
    auto const learned =
        run_tool("learn-replies", {"--now", "2026-03-03T12:00:00Z"}, &db);
    CHECK_THAT(learned.err, Catch::Contains("2 replies over 2 accounts"));
}

TEST_CASE("two runs at the same --now leave identical tables", "[db]")
{
    test_db db;
    db.migrate();
    auto c = db.connect();
    for (int i = 0; i < 20; ++i) {
        add_posted(c, std::to_string(800 + i), 2 + i * 3, i % 4 ? "single" : "reply");
    }
    fake_x_api api;
    scraper s{db, api};
    REQUIRE(s.run({"-q"}).exit_code == 0);
    auto const first = dump(db);
    REQUIRE(s.run({"-q"}).exit_code == 0);
    CHECK(dump(db) == first);
    CHECK(api.tweet_requests().size() == 1); // nothing was due the second time
}

TEST_CASE("a dry run fetches and computes but writes nothing", "[db]")
{
    test_db db;
    db.migrate();
    auto c = db.connect();
    add_posted(c, "900", 5);
    auto const before = dump(db);
    fake_x_api api;
    scraper s{db, api};
    auto const r = s.run({"--dry-run", "--json"});
    REQUIRE(r.exit_code == 0);
    CHECK(json::parse(r.out)["outcomes_written"] == 1);
    CHECK(dump(db) == before);
    CHECK(db.count("SELECT count(*) FROM xloop.job_runs WHERE job = 'scrape-metrics'") ==
          0);
}

TEST_CASE("a deleted tweet is marked gone and never asked for again", "[db]")
{
    test_db db;
    db.migrate();
    auto c = db.connect();
    add_posted(c, "910", 2);
    add_posted(c, "911", 2);
    add_posted(c, "912", 2);
    fake_x_api api;
    api.gone = {"911"};
    api.refused = {"912"};
    scraper s{db, api};
    REQUIRE(s.run({"-q"}).exit_code == 0);
    CHECK(
        db.count(
            "SELECT count(*) FROM public.content_generation_metadata_comprehensive WHERE "
            "metrics_gone_at IS NOT NULL") == 1);
    // an hour later: 910 passed no new checkpoint (scraped at 2 h, next at 6 h)
    REQUIRE(s.run({"-q"}, "2026-03-02T13:00:00Z").exit_code == 0);
    auto const reqs = api.tweet_requests();
    REQUIRE(reqs.size() == 2);
    // 910 was scraped; 911 is gone; 912 failed and is asked for again
    CHECK(reqs[1].ids == std::vector<std::string>{"912"});
}

TEST_CASE("a rate limit stops the run with exit 75 and keeps what was written", "[db]")
{
    test_db db;
    db.migrate();
    auto c = db.connect();
    c.exec(
        "INSERT INTO public.content_generation_metadata_comprehensive (status, tweet_id, "
        "posted_at, decision_type) SELECT 'posted', (5000 + g)::text, $1::timestamptz - "
        "interval '2 hours' - g * interval '1 second', 'single' FROM generate_series(1, "
        "150) g",
        now);
    fake_x_api api;
    api.tweets_failures[1] = fake_failure{429,
                                          "{\"title\": \"Too Many Requests\"}",
                                          {{"x-rate-limit-reset", "1772456400"}}};
    scraper s{db, api};
    auto const r = s.run();
    CHECK(r.exit_code == 75);
    CHECK(r.err.find("resets at 2026-03-02T13:00:00Z") != std::string::npos);
    // the first batch is kept, with its v2 metrics
    CHECK(db.count(
              "SELECT count(*) FROM public.outcomes WHERE primary_objective_score IS NOT "
              "NULL") == 100);
    CHECK(
        db.count(
            "SELECT count(*) FROM xloop.job_runs WHERE job = 'scrape-metrics' AND status "
            "= 'failed' AND rows_in = 0") == 0);
}

// How many times the fake was asked for the account's follower count.
std::size_t account_lookups(fake_x_api& api)
{
    auto const reqs = api.requests();
    return static_cast<std::size_t>(std::count_if(
        reqs.begin(), reqs.end(), [](auto const& r) { return r.path == "/2/users/me"; }));
}

TEST_CASE("a rate limit on the follower count costs that run its snapshot, not the "
          "posts' metrics, and the count is not asked for again until it lifts",
          "[db]")
{
    test_db db;
    db.migrate();
    auto c = db.connect();
    add_posted(c, "700", 2);
    add_posted(c, "701", 30);
    // another program's values in the ledger are no limit, and no error
    for (auto const* detail : {R"({"x_api_followers_limited_until": 1e400})",
                               R"({"x_api_followers_limited_until": "1772460000"})",
                               R"({"x_api_followers_limited_until": -1})"}) {
        c.exec(
            "INSERT INTO xloop.job_runs (job, started_at, finished_at, status, detail) "
            "VALUES ('scrape-metrics', $1::timestamptz - interval '1 hour', "
            "$1::timestamptz - interval '1 hour', 'ok', $2::jsonb)",
            now, detail);
    }
    fake_x_api api;
    // X's Free tier: GET /2/users/me 25 times a day; this one lifts at 14:00
    api.account_failure = fake_failure{429,
                                       "{\"title\": \"Too Many Requests\"}",
                                       {{"x-rate-limit-reset", "1772460000"}}};
    scraper s{db, api};
    auto const first = s.ok({"--json"});
    CHECK(first.err.find("HTTP 429) on GET /2/users/me") != std::string::npos);
    CHECK(first.err.find("it resets at 2026-03-02T14:00:00Z") != std::string::npos);
    CHECK(first.err.find("this run takes no follower snapshot, the posts' metrics are "
                         "still asked for, and the follower count is not asked again "
                         "until then") != std::string::npos);
    CHECK(first.err.find("x_api.followers_every_minutes: 60") != std::string::npos);
    CHECK(first.err.find("the next run goes on") == std::string::npos); // this one does
    CHECK(json::parse(first.out)["followers"] == "rate limited");
    CHECK(db.count("SELECT count(*) FROM public.outcomes") == 2);
    CHECK(db.count("SELECT count(*) FROM public.follower_snapshots") == 0);
    CHECK(account_lookups(api) == 1);

    // 20 minutes on: still limited, so not asked; the posts still are
    add_posted(c, "702", 1.5);
    auto const second = s.run({"--json"}, "2026-03-02T12:20:00Z");
    REQUIRE(second.exit_code == 0);
    CHECK(second.err.find("follower count not asked: X rate-limited its lookup until "
                          "2026-03-02T14:00:00Z") != std::string::npos);
    CHECK(second.err.find("warn") == std::string::npos); // said once, by the first
    CHECK(json::parse(second.out)["followers"] == "rate limited");
    CHECK(account_lookups(api) == 1);
    CHECK(db.count("SELECT count(*) FROM public.outcomes") == 3);

    // validate tells the operator why the snapshots have a gap, and what to set
    auto const v = run_tool("validate", {"--json", "--now", "2026-03-02T12:30:00Z"}, &db);
    INFO(v.err);
    auto const job = check_named(json::parse(v.out), "job:scrape-metrics");
    CHECK(job["numbers"]["followers_rate_limited_runs_in_window"] == 1);
    CHECK(job["message"].get<std::string>().find(
              "X rate-limited the follower count in 1 run of the last 3 days") !=
          std::string::npos);

    // after 14:00 it is asked again
    api.account_failure.reset();
    auto const third = s.run({"--json"}, "2026-03-02T14:20:00Z");
    REQUIRE(third.exit_code == 0);
    CHECK(json::parse(third.out)["followers"] == "asked");
    CHECK(account_lookups(api) == 2);
    CHECK(db.count("SELECT count(*) FROM public.follower_snapshots") == 1);
}

TEST_CASE("an outage of the follower count's endpoint alone costs the run its snapshot, "
          "not the posts' metrics, and the run exits 75 saying so",
          "[db]")
{
    test_db db;
    db.migrate();
    auto c = db.connect();
    add_posted(c, "720", 2);
    add_posted(c, "721", 30);
    fake_x_api api;
    api.account_failure = fake_failure{503, "{\"title\": \"Service Unavailable\"}", {}};
    scraper s{db, api};
    auto const r = s.run();
    INFO(r.err);
    CHECK(r.exit_code == 75);
    CHECK(account_lookups(api) == 2); // retried once (retries: 1), then given up
    CHECK(r.err.find("X API answered HTTP 503 for GET /2/users/me after 2 attempts: "
                     "this run takes no follower snapshot; the posts' metrics are still "
                     "asked for, then it exits 75") != std::string::npos);
    // the error the run ends with says what it did do
    CHECK(r.err.find("no follower snapshot this run (the posts' metrics were asked "
                     "for)") != std::string::npos);
    CHECK(api.tweet_requests().size() == 1);
    CHECK(db.count("SELECT count(*) FROM public.outcomes WHERE primary_objective_score "
                   "IS NOT NULL") == 2);
    CHECK(db.count("SELECT count(*) FROM public.follower_snapshots") == 0);
    CHECK(db.count("SELECT count(*) FROM xloop.job_runs WHERE job = 'scrape-metrics' AND "
                   "status = 'failed' AND detail->>'followers' = 'failed' AND "
                   "error LIKE '%GET /2/users/me%'") == 1);

    // the endpoint back: the next run takes its snapshot
    api.account_failure.reset();
    auto const next = s.run({"--json"}, "2026-03-02T12:20:00Z");
    INFO(next.err);
    REQUIRE(next.exit_code == 0);
    CHECK(json::parse(next.out)["followers"] == "asked");
    CHECK(db.count("SELECT count(*) FROM public.follower_snapshots") == 1);

    // no answer at all: nothing more is tried after the first request
    s.base_url = "http://127.0.0.1:1";
    s.configure();
    auto const down = s.run({}, "2026-03-02T13:00:00Z");
    CHECK(down.exit_code == 75);
    CHECK(down.err.find("X API is unreachable") != std::string::npos);
    CHECK(down.err.find("the posts' metrics are still asked for") == std::string::npos);
}

// Four runs 20 minutes apart from 12:00, where one lookup an hour is due:
// the follower count is asked at 12:00 and 13:00 only.
void asked_hourly(scraper& s, fake_x_api& api)
{
    for (auto const* at : {"2026-03-02T12:00:00Z", "2026-03-02T12:20:00Z",
                           "2026-03-02T12:40:00Z", "2026-03-02T13:00:00Z"}) {
        CHECK(s.followers_at(at) == (at[14] == '0' ? "asked" : "not due"));
    }
    CHECK(account_lookups(api) == 2);
}

TEST_CASE("x_api.followers_every_minutes asks for the follower count once in that many "
          "minutes",
          "[db]")
{
    test_db db;
    db.migrate();
    auto c = db.connect();
    add_posted(c, "710", 2);
    fake_x_api api;
    scraper s{db, api};
    s.configure("  followers_every_minutes: 60\n");
    asked_hourly(s, api);
    CHECK(db.count("SELECT count(*) FROM public.follower_snapshots") == 2);
}

TEST_CASE("the follower count is asked for as often as X's lookups left allow until its "
          "window resets, not every run until they are gone",
          "[db]")
{
    test_db db;
    db.migrate();
    auto c = db.connect();
    add_posted(c, "711", 2);
    fake_x_api api;
    // X's Free tier after the first lookup of its 24 h: 23 left until
    // 2026-03-03T12:00:00Z, one an hour
    api.account_headers = {{"x-rate-limit-limit", "25"},
                           {"x-rate-limit-remaining", "23"},
                           {"x-rate-limit-reset", "1772539200"}};
    scraper s{db, api};
    asked_hourly(s, api);
    // none left: not asked again until the window resets (no 429 asked for)
    api.account_headers["x-rate-limit-remaining"] = "0";
    CHECK(s.followers_at("2026-03-02T14:00:00Z") == "asked");
    CHECK(s.followers_at("2026-03-03T11:40:00Z") == "not due");
    CHECK(s.followers_at("2026-03-03T12:00:00Z") == "asked");
    CHECK(account_lookups(api) == 4);
    // another program's values in the ledger are no pace
    c.exec("INSERT INTO xloop.job_runs (job, started_at, finished_at, status, detail) "
           "VALUES ('scrape-metrics', '2026-03-03T12:10:00Z', '2026-03-03T12:10:00Z', "
           "'ok', '{\"followers\": \"asked\", \"x_api_followers_remaining\": "
           "\"none\", \"x_api_followers_reset\": 1e400}')");
    CHECK(s.followers_at("2026-03-03T12:20:00Z") == "asked");
}

TEST_CASE("X's day cap on the follower count paces and stops its lookups, not the "
          "endpoint's 15-minute window beside it",
          "[db]")
{
    test_db db;
    db.migrate();
    auto c = db.connect();
    add_posted(c, "712", 2);
    fake_x_api api;
    // 74 lookups left in a window ending at 12:15, 23 in the day ending at
    // 12:00 tomorrow: the day's, one an hour, binds
    api.account_headers = {{"x-rate-limit-limit", "75"},
                           {"x-rate-limit-remaining", "74"},
                           {"x-rate-limit-reset", "1772453700"},
                           {"x-user-limit-24hour-limit", "25"},
                           {"x-user-limit-24hour-remaining", "23"},
                           {"x-user-limit-24hour-reset", "1772539200"}};
    scraper s{db, api};
    asked_hourly(s, api);
    // the day used up: a 429 whose 15-minute window still has lookups left;
    // not asked again until the day's cap resets
    api.account_failure = fake_failure{429,
                                       "{\"title\": \"Too Many Requests\"}",
                                       {{"x-rate-limit-remaining", "73"},
                                        {"x-rate-limit-reset", "1772460900"},
                                        {"x-user-limit-24hour-remaining", "0"},
                                        {"x-user-limit-24hour-reset", "1772539200"}}};
    auto const limited = s.run({"--json"}, "2026-03-02T14:00:00Z");
    INFO(limited.err);
    REQUIRE(limited.exit_code == 0);
    CHECK(limited.err.find("the user's 24-hour limit is used up "
                           "(x-user-limit-24hour-remaining: 0); it resets at "
                           "2026-03-03T12:00:00Z") != std::string::npos);
    CHECK(s.followers_at("2026-03-02T14:40:00Z") == "rate limited");
    CHECK(s.followers_at("2026-03-03T11:40:00Z") == "rate limited");
    CHECK(account_lookups(api) == 3);
    api.account_failure.reset();
    CHECK(s.followers_at("2026-03-03T12:00:00Z") == "asked");
    CHECK(account_lookups(api) == 4);
}

TEST_CASE("where X says the day's cap allows no more requests, the posts left wait for "
          "the next run, named with the cap and its reset",
          "[db]")
{
    test_db db;
    db.migrate();
    auto c = db.connect();
    add_posted(c, "967", 24 * 30 + 5); // due at 30 d: public metrics only
    add_posted(c, "968", 2);           // due at 1 h: with non-public ones
    fake_x_api api;
    api.tweets_headers = {{"x-rate-limit-remaining", "14"},
                          {"x-rate-limit-reset", "1772453700"},
                          {"x-user-limit-24hour-remaining", "0"},
                          {"x-user-limit-24hour-reset", "1772488800"}};
    scraper s{db, api};
    auto const r = s.run({"--json"});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    REQUIRE(api.tweet_requests().size() == 1);
    CHECK(r.err.find("X allows no more GET /2/tweets until 2026-03-02T22:00:00Z "
                     "(x-user-limit-24hour-remaining: 0): 1 due post waits for the next "
                     "run") != std::string::npos);
    CHECK(json::parse(r.out)["x_api_tweets_deferred"] == 1);
    CHECK(db.count("SELECT count(*) FROM public.outcomes") == 1);
}

TEST_CASE("where X says its window allows no more requests, the posts left wait for the "
          "next run: no 429, exit 0",
          "[db]")
{
    test_db db;
    db.migrate();
    auto c = db.connect();
    add_posted(c, "965", 24 * 30 + 5); // due at 30 d: public metrics only
    add_posted(c, "966", 2);           // due at 1 h: with non-public ones
    fake_x_api api;
    api.tweets_per_window = 1; // X's Free tier: GET /2/tweets once in 15 minutes
    scraper s{db, api};
    auto const first = s.run({"--json"});
    INFO(first.err);
    REQUIRE(first.exit_code == 0);
    auto const reqs = api.tweet_requests();
    REQUIRE(reqs.size() == 1); // the 429 a second request would get is not asked for
    CHECK(reqs[0].ids == std::vector<std::string>{"965"}); // the most overdue first
    CHECK(first.err.find("X allows no more GET /2/tweets until 2026-03-02T12:15:00Z "
                         "(x-rate-limit-remaining: 0): 1 due post waits for the next "
                         "run") != std::string::npos);
    CHECK(json::parse(first.out)["x_api_tweets_deferred"] == 1);
    CHECK(db.count("SELECT count(*) FROM public.outcomes") == 1);

    auto const v = run_tool("validate", {"--json", "--now", "2026-03-02T12:10:00Z"}, &db);
    auto const job = check_named(json::parse(v.out), "job:scrape-metrics");
    CHECK(job["numbers"]["tweets_deferred_runs_in_window"] == 1);
    CHECK(job["message"].get<std::string>().find(
              "X's rate limit left due posts for the next run in 1 run of the last 3 "
              "days") != std::string::npos);

    // the next window: the post that waited is asked for
    api.new_rate_window();
    auto const second = s.run({"--json"}, "2026-03-02T12:20:00Z");
    INFO(second.err);
    REQUIRE(second.exit_code == 0);
    REQUIRE(api.tweet_requests().size() == 2);
    CHECK(api.tweet_requests()[1].ids == std::vector<std::string>{"966"});
    CHECK(json::parse(second.out)["x_api_tweets_deferred"] == 0);
    CHECK(db.count("SELECT count(*) FROM public.outcomes") == 2);
}

TEST_CASE("the page of the most overdue post is asked for first, so a 30-day "
          "checkpoint is not starved by younger posts where X allows one request a run",
          "[db]")
{
    test_db db;
    db.migrate();
    auto c = db.connect();
    add_posted(c, "960", 24 * 30 + 5); // due at 30 d, 5 h ago: public metrics only
    add_posted(c, "961", 2);           // due at 1 h, 1 h ago: with non-public ones
    fake_x_api api;
    // X's Free tier: GET /2/tweets once in 15 minutes
    api.tweets_failures[1] = fake_failure{429,
                                          "{\"title\": \"Too Many Requests\"}",
                                          {{"x-rate-limit-reset", "1772453700"}}};
    scraper s{db, api};
    auto const r = s.run();
    CHECK(r.exit_code == 75);
    auto const reqs = api.tweet_requests();
    REQUIRE(reqs.size() == 2);
    CHECK(reqs[0].ids == std::vector<std::string>{"960"});
    CHECK(reqs[1].ids == std::vector<std::string>{"961"});
    CHECK(db.count("SELECT count(*) FROM public.outcomes WHERE tweet_id = '960'") == 1);
}

TEST_CASE("refused credentials exit 69 and a missing token exits 78, never printing it",
          "[db]")
{
    test_db db;
    db.migrate();
    auto c = db.connect();
    add_posted(c, "920", 2);
    fake_x_api api;
    api.always = fake_failure{401, "{\"title\": \"Unauthorized\"}"};
    scraper s{db, api};
    auto const r = s.run({"-v", "--json"});
    CHECK(r.exit_code == 69);
    CHECK((r.err + r.out).find(token) == std::string::npos);
    CHECK(db.count("SELECT count(*) FROM xloop.job_runs WHERE coalesce(error, '') || "
                   "coalesce(detail::text, '') LIKE '%5ecret%'") == 0);
    auto const missing = s.run({}, now, std::nullopt);
    CHECK(missing.exit_code == 78);
    CHECK(missing.err.find("X_BEARER_TOKEN is not set") != std::string::npos);
    auto const empty = s.run({}, now, std::string{}); // as the shipped xloop.env has it
    CHECK(empty.exit_code == 78);
    CHECK(empty.err.find("X_BEARER_TOKEN is empty") != std::string::npos);
}

TEST_CASE("with an app-only token and x_api.username, scrape-metrics stores public "
          "metrics and the follower count, and without the username names that setting",
          "[db]")
{
    test_db db;
    db.migrate();
    auto c = db.connect();
    add_posted(c, "940", 2);           // due at 1 h
    add_posted(c, "941", 24 * 30 + 2); // due at 30 d: X has no non-public metrics left
    fake_x_api api;
    api.app_only = true;
    api.followers = 777;
    scraper s{db, api};

    auto const refused = s.run({"--json"});
    CHECK(refused.exit_code == 69);
    CHECK(refused.err.find("an app-only bearer token cannot read GET /2/users/me: set "
                           "x_api.username") != std::string::npos);
    CHECK(db.count("SELECT count(*) FROM public.follower_snapshots") == 0);
    CHECK(api.tweet_requests().empty());

    s.configure("  username: '@xloop_bot'\n");
    auto const r = s.ok({"--json"});
    CHECK(json::parse(r.out)["x_api_non_public_refused"] == true);
    // in the ledger too, where validate counts such runs
    CHECK(db.count("SELECT count(*) FROM xloop.job_runs WHERE job = 'scrape-metrics' AND "
                   "detail->>'x_api_non_public_refused' = 'true'") == 1);
    CHECK(db.count("SELECT count(*) FROM public.follower_snapshots WHERE follower_count "
                   "= 777") == 1);
    CHECK(
        db.count("SELECT count(*) FROM public.outcomes WHERE tweet_id IN ('940', '941') "
                 "AND likes IS NOT NULL AND profile_clicks IS NULL AND "
                 "primary_objective_score IS NOT NULL") == 2);
    auto const reqs = api.tweet_requests();
    // 941 without non-public metrics (the most overdue), 940 with, 940 again without
    REQUIRE(reqs.size() == 3);
    CHECK(reqs[0].ids == std::vector<std::string>{"941"});
    CHECK(reqs[0].tweet_fields ==
          "public_metrics,created_at,in_reply_to_user_id,author_id");
    CHECK(reqs[1].ids == std::vector<std::string>{"940"});
    CHECK(reqs[1].tweet_fields ==
          "public_metrics,non_public_metrics,created_at,in_reply_to_user_id,author_id");
    CHECK(reqs[2].ids == std::vector<std::string>{"940"});
    CHECK(reqs[2].tweet_fields ==
          "public_metrics,created_at,in_reply_to_user_id,author_id");
    CHECK(r.err.find("set x_api.non_public_metrics: false") != std::string::npos);
}

TEST_CASE("with x_api.auth oauth1 scrape-metrics signs its requests with the four keys "
          "and reads profile clicks, and a missing key names its variable",
          "[db]")
{
    test_db db;
    db.migrate();
    auto c = db.connect();
    add_posted(c, "960", 2);
    fake_x_api api;
    api.oauth1 = oauth1_credentials{"app-key", "app-s3cret", "42-token", "token-s3cret"};
    scraper s{db, api};
    s.configure("  auth: oauth1\n");
    std::map<std::string, std::optional<std::string>> env{
        {"X_API_KEY", "app-key"},
        {"X_API_SECRET", "app-s3cret"},
        {"X_ACCESS_TOKEN", "42-token"},
        {"X_ACCESS_TOKEN_SECRET", "token-s3cret"},
        {"X_BEARER_TOKEN", std::nullopt}};
    auto const args = std::vector<std::string>{"--config", s.config, "--now", now, "-v"};
    auto const r = run_tool("scrape-metrics", args, &db, {}, env);
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    CHECK(r.err.find("s3cret") == std::string::npos);
    CHECK(db.count("SELECT count(*) FROM public.outcomes WHERE tweet_id = '960' AND "
                   "profile_clicks = 5") == 1);
    CHECK(db.count("SELECT count(*) FROM public.follower_snapshots") == 1);

    env["X_ACCESS_TOKEN_SECRET"] = std::nullopt;
    auto const missing = run_tool("scrape-metrics", args, &db, {}, env);
    CHECK(missing.exit_code == 78);
    CHECK(missing.err.find("x_api.access_token_secret_env: the environment variable "
                           "X_ACCESS_TOKEN_SECRET is not set") != std::string::npos);
}

TEST_CASE("a post at its 30-day checkpoint is asked for its public metrics, the younger "
          "ones for their profile clicks too",
          "[db]")
{
    test_db db;
    db.migrate();
    auto c = db.connect();
    add_posted(c, "950", 24 * 30 + 2);
    add_posted(c, "951", 3);
    add_posted(c, "952", 24 * 7 + 1);
    fake_x_api api;
    api.past_non_public = {"950"}; // what X would refuse, had it been asked
    scraper s{db, api};
    auto const r = s.ok({"--json"});
    CHECK(json::parse(r.out)["x_api_non_public_refused"] == false);
    auto const reqs = api.tweet_requests();
    REQUIRE(reqs.size() == 2);
    // oldest due first: 950 and 951 were due 2 h ago (the tweet id breaks the
    // tie), 952 1 h ago
    CHECK(reqs[0].ids == std::vector<std::string>{"950"});
    CHECK(reqs[0].tweet_fields ==
          "public_metrics,created_at,in_reply_to_user_id,author_id");
    CHECK(reqs[1].ids == std::vector<std::string>{"951", "952"});
    CHECK(reqs[1].tweet_fields ==
          "public_metrics,non_public_metrics,created_at,in_reply_to_user_id,author_id");
    CHECK(db.count("SELECT count(*) FROM public.outcomes WHERE profile_clicks = 5 AND "
                   "tweet_id IN ('951', '952')") == 2);
    CHECK(db.count("SELECT count(*) FROM public.outcomes WHERE tweet_id = '950' AND "
                   "likes IS NOT NULL AND profile_clicks IS NULL") == 1);
}

TEST_CASE("posts X says were posted at another time than posted_at are counted and "
          "named, and validate warns of them",
          "[db]")
{
    test_db db;
    db.migrate();
    auto c = db.connect();
    add_posted(c, "600", 3); // 09:00
    add_posted(c, "601", 2); // 10:00
    add_posted(c, "602", 5); // 07:00
    fake_x_api api;
    // 600 a few seconds after its posted_at: the poster's; the others five
    // hours later, as a poster writing New York's time into a timestamp
    // without time zone leaves them
    api.created_at = {{"600", "2026-03-02T09:00:03.000Z"},
                      {"601", "2026-03-02T15:00:00.000Z"},
                      {"602", "2026-03-02T12:00:00.000Z"}};
    scraper s{db, api};
    auto const r = s.ok({"--json"});
    CHECK(json::parse(r.out)["posted_at_off"] == 2);
    CHECK_THAT(r.err,
               Catch::Contains("2 posts X has posted at another time than its posted_at "
                               "says, by up to 5.0 h (e.g. tweet 60") &&
                   Catch::Contains(": posted_at 2026-03-02T") &&
                   Catch::Contains("a local time into a timestamp without time zone"));
    CHECK(r.err.find("tweet 600") == std::string::npos);
    auto const v = run_tool("validate", {"--json", "--now", now, "-q"}, &db);
    INFO(v.out << v.err);
    auto const report = json::parse(v.out);
    auto const check = [&] {
        for (auto const& k : report["checks"]) {
            if (k["name"] == "job:scrape-metrics") {
                return k;
            }
        }
        return json{};
    }();
    CHECK(check["status"] == "warn");
    CHECK(check["numbers"]["posted_at_off_in_window"] == 2);
    CHECK_THAT(check["message"].get<std::string>(),
               Catch::Contains("X says 2 posts were posted at another time than "
                               "posted_at says"));

    // a poster that writes the posting time: nothing to say
    test_db fine;
    fine.migrate();
    auto f = fine.connect();
    add_posted(f, "600", 3);
    fake_x_api api2;
    api2.created_at = {{"600", "2026-03-02T08:59:30.000Z"}};
    scraper s2{fine, api2};
    auto const ok = s2.ok({"--json"});
    CHECK(json::parse(ok.out)["posted_at_off"] == 0);
    CHECK(ok.err.find("another time") == std::string::npos);
}

TEST_CASE("posts X says another account posted than the one whose follower count is "
          "read are counted and named, and validate warns of them",
          "[db]")
{
    test_db db;
    db.migrate();
    auto c = db.connect();
    add_posted(c, "600", 3);
    add_posted(c, "601", 2);
    fake_x_api api; // the follower count is user 1's (xloop_bot)
    api.author_of = {{"601", "77"}};
    scraper s{db, api};
    s.configure("  followers_every_minutes: 60\n");
    auto const r = s.ok({"--json"});
    CHECK(json::parse(r.out)["posts_by_another_account"] == 1);
    CHECK(json::parse(r.out)["account_id"] == "1");
    CHECK_THAT(r.err,
               Catch::Contains("1 post is by another account than the one whose "
                               "follower count this reads (e.g. tweet 601 posted by user "
                               "77; the follower count is user 1's)") &&
                   Catch::Contains("set x_api.username to the posting account's handle"));
    auto const v = run_tool("validate", {"--json", "--now", now, "-q"}, &db);
    auto const check = check_named(json::parse(v.out), "job:scrape-metrics");
    CHECK(check["status"] == "warn");
    CHECK(check["numbers"]["posts_by_another_account_in_window"] == 1);
    CHECK_THAT(check["message"].get<std::string>(),
               Catch::Contains("X says 1 post was posted by another account than the "
                               "one whose follower count xloop-scrape-metrics reads"));
    // a later run that does not ask for the follower count still knows whose
    // it is (the ledger's)
    add_posted(c, "602", 1);
    api.author_of = {{"602", "77"}};
    auto const later = s.run({"--json"}, "2026-03-02T12:20:00Z");
    INFO(later.err);
    REQUIRE(later.exit_code == 0);
    CHECK(json::parse(later.out)["followers"] == "not due");
    CHECK(json::parse(later.out)["posts_by_another_account"] == 1);
}

TEST_CASE("a token never appears in any log line of a normal run", "[db]")
{
    test_db db;
    db.migrate();
    auto c = db.connect();
    add_posted(c, "930", 2);
    fake_x_api api;
    api.tweets_failures[0] = fake_failure{503};
    scraper s{db, api};
    auto const r = s.run({"-v", "--log-format", "json", "--json"});
    REQUIRE(r.exit_code == 0);
    CHECK(r.err.find("retrying") != std::string::npos);
    CHECK((r.err + r.out).find(token) == std::string::npos);
}

TEST_CASE("the file source ingests metrics and follower counts, strictly", "[db]")
{
    test_db db;
    db.migrate();
    auto c = db.connect();
    add_posted(c, "1001", 26);
    add_posted(c, "1002", 26, "reply");
    temp_dir dir;
    auto const good =
        std::string{"{\"followers\": 1000, \"observed_at\": \"2026-03-01T09:00:00Z\"}\n"
                    "{\"followers\": 1040, \"observed_at\": \"2026-03-02T11:00:00Z\"}\n"
                    "{\"tweet_id\": \"1001\", \"observed_at\": \"2026-03-02T12:00:00Z\", "
                    "\"impressions\": "
                    "3000, \"likes\": 30, \"retweets\": 6, \"replies\": 4}\n"
                    "{\"tweet_id\": \"1002\", \"observed_at\": \"2026-03-02T12:00:00Z\", "
                    "\"impressions\": "
                    "1000, \"likes\": 5}\n"
                    "{\"tweet_id\": \"9999\", \"observed_at\": \"2026-03-02T12:00:00Z\", "
                    "\"likes\": 5}\n"};
    dir.write("bad.jsonl", good + "{\"tweet_id\": \"1001\", \"observed_at\": "
                                  "\"2026-03-02T12:00:00Z\", \"likes\": \"many\"}\n");
    dir.write("good.jsonl", good);
    auto scrape = [&](std::vector<std::string> args) {
        args.insert(args.end(), {"--source", "file", "--now", now});
        return run_tool("scrape-metrics", args, &db);
    };

    auto const strict = scrape({"--input", dir.path() + "/bad.jsonl"});
    CHECK(strict.exit_code == 65);
    CHECK(
        strict.err.find("bad.jsonl:6: field 'likes': must be a non-negative integer (got "
                        "\"many\")") != std::string::npos);
    CHECK(db.count("SELECT count(*) FROM public.outcomes") == 0);
    CHECK(db.count("SELECT count(*) FROM public.follower_snapshots") == 0);

    // --skip-bad on a file with no good line (an X API answer's objects):
    // nothing to write is no ok run
    dir.write("x_api.jsonl",
              "{\"id\": \"1001\", \"public_metrics\": {\"like_count\": 3}}\n"
              "{\"id\": \"1002\", \"public_metrics\": {\"like_count\": 4}}\n");
    auto const none = scrape({"--input", dir.path() + "/x_api.jsonl", "--skip-bad"});
    CHECK(none.exit_code == 65);
    CHECK_THAT(
        none.err,
        Catch::Contains("x_api.jsonl: no line is a record (2 bad, the first, line 1: "
                        "unknown field 'id' (a post's fields: tweet_id, "
                        "observed_at, impressions,"));
    CHECK(db.count("SELECT count(*) FROM xloop.job_runs WHERE job = 'scrape-metrics' AND "
                   "status = 'failed'") == 2); // the strict run's, and this one's
    CHECK(db.count("SELECT count(*) FROM public.outcomes") == 0);

    auto const skipping =
        scrape({"--input", dir.path() + "/bad.jsonl", "--skip-bad", "--json"});
    INFO(skipping.err);
    REQUIRE(skipping.exit_code == 0);
    CHECK(skipping.err.find("bad.jsonl:6: skipped: field 'likes'") != std::string::npos);
    CHECK_THAT(skipping.err, Catch::Contains("1 record for tweet ids not in "
                                             "content_generation_metadata_comprehensive "
                                             "skipped (e.g. 9999)"));
    CHECK_THAT(skipping.err, Catch::Contains(", 1 unknown tweet, 0 gone"));
    auto const out = json::parse(skipping.out);
    CHECK(out["skipped_lines"] == 1);
    CHECK(out["unknown_tweets"] == 1);
    CHECK(db.count("SELECT count(*) FROM public.follower_snapshots") == 2);
    // 40 followers between the snapshots bracketing both posts (posted 26 h ago,
    // windows ended 2 h ago): shared by impressions 3000 : 1000 → 30 and 10
    auto const r =
        c.exec("SELECT tweet_id, followers_gained, engagement_rate, "
               "attribution_confidence FROM public.outcomes ORDER BY tweet_id");
    REQUIRE(r.rows() == 2);
    CHECK(r.i64(0, 1) == 30);
    CHECK(r.i64(1, 1) == 10);
    CHECK(r.f64(0, 2) == Approx(0.0133).margin(1e-4)); // 40 / 3000
    CHECK(r.f64(1, 2) == Approx(0.005).margin(1e-4));  // 5 / 1000
    // snapshots 1 h before posting and 1 h after the window's end: 1 − 2/24
    CHECK(r.f64(0, 3) == Approx(1 - 2.0 / 24).margin(1e-4));

    // the same file from stdin, again: nothing changes
    auto const before = dump(db);
    auto const again = run_tool(
        "scrape-metrics", {"--source", "file", "--input", "-", "--now", now}, &db, good);
    REQUIRE(again.exit_code == 0);
    CHECK(dump(db) == before);
}

TEST_CASE("X's analytics export, as downloaded, gives each post its counts and follows, "
          "observed at --observed-at (default now)",
          "[db]")
{
    test_db db;
    db.migrate();
    auto c = db.connect();
    add_posted(c, "1001", 30);
    add_posted(c, "1002", 28);
    temp_dir dir;
    // as X writes it: a byte order mark, CRLF lines, a post's text over two
    // lines, and a post of the account xloop did not queue (9999)
    dir.write("export.csv",
              "\xEF\xBB\xBFPost id,Date,Post text,Post Link,Impressions,Likes,"
              "Engagements,Bookmarks,Shares,New follows,Replies,Reposts,Profile visits,"
              "Detail Expands,URL Clicks\r\n"
              "1001,\"Sun, Mar 1, 2026\",\"Why do dashboards lie?\r\nReply below.\","
              "https://x.com/a/status/1001,3000,30,70,4,1,6,4,6,12,9,0\r\n"
              "1002,\"Sun, Mar 1, 2026\",\"Why, though?\",https://x.com/a/status/1002,"
              "1000,5,9,0,0,0,1,0,2,1,0\r\n"
              "9999,\"Sat, Feb 28, 2026\",Mine,https://x.com/a/status/9999,10,1,1,0,0,0,"
              "0,0,0,0,0\r\n");
    auto const r = run_tool("scrape-metrics",
                            {"--input", dir.path() + "/export.csv", "--observed-at",
                             "2026-03-02T10:00:00Z", "--now", now, "--json"},
                            &db);
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    auto const out = json::parse(r.out);
    CHECK(out["records"] == 3);
    CHECK(out["unknown_tweets"] == 1);
    auto const o = c.exec(
        "SELECT tweet_id, impressions, likes, retweets, replies, bookmarks, "
        "profile_clicks, follows, followers_gained, attribution_confidence::float8, "
        "to_char(collected_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') "
        "FROM public.outcomes ORDER BY tweet_id");
    REQUIRE(o.rows() == 2);
    CHECK(o.i64(0, 1) == 3000);
    CHECK(o.i64(0, 2) == 30);
    CHECK(o.i64(0, 3) == 6);  // Reposts
    CHECK(o.i64(0, 4) == 4);  // Replies
    CHECK(o.i64(0, 5) == 4);  // Bookmarks
    CHECK(o.i64(0, 6) == 12); // Profile visits
    CHECK(o.i64(0, 7) == 6);  // New follows
    // a post's own follow count is its gain, with full confidence
    CHECK(o.i64(0, 8) == 6);
    CHECK(o.f64(0, 9) == Approx(1.0));
    CHECK(o.str(0, 10) == "2026-03-02T10:00:00Z");
    CHECK(o.i64(1, 7) == 0);
    // the same export again: nothing is newer, nothing changes
    auto const before = dump(db);
    auto const again = run_tool("scrape-metrics",
                                {"--input", dir.path() + "/export.csv", "--observed-at",
                                 "2026-03-02T10:00:00Z", "--now", now},
                                &db);
    REQUIRE(again.exit_code == 0);
    CHECK(dump(db) == before);
    // without --observed-at the rows are observed at the run's now; a time
    // past now is refused before anything is read
    auto const later = run_tool(
        "scrape-metrics", {"--input", dir.path() + "/export.csv", "--now", now}, &db);
    REQUIRE(later.exit_code == 0);
    CHECK(db.count("SELECT count(*) FROM public.outcomes WHERE collected_at = "
                   "'2026-03-02T12:00:00Z'") == 2);
    auto const future = run_tool("scrape-metrics",
                                 {"--input", dir.path() + "/export.csv", "--observed-at",
                                  "2026-03-03T12:00:00Z", "--now", now},
                                 &db);
    CHECK(future.exit_code == 64);
    CHECK_THAT(future.err, Catch::Contains("--observed-at 2026-03-03T12:00:00Z is later "
                                           "than now plus the allowed clock skew"));
    // JSON Lines carry their own times: --observed-at changes none, and says so
    dir.write("m.jsonl", "{\"tweet_id\": \"1001\", \"observed_at\": "
                         "\"2026-03-02T12:05:00Z\", \"likes\": 31}\n");
    auto const lines = run_tool("scrape-metrics",
                                {"--input", dir.path() + "/m.jsonl", "--observed-at",
                                 "2026-03-02T10:00:00Z", "--now", now},
                                &db);
    REQUIRE(lines.exit_code == 0);
    CHECK_THAT(lines.err, Catch::Contains("--observed-at is for X's analytics export; " +
                                          dir.path() + "/m.jsonl is JSON Lines"));
    CHECK(db.count("SELECT count(*) FROM public.outcomes WHERE tweet_id = '1001' AND "
                   "likes = 31 AND collected_at = '2026-03-02T12:05:00Z'") == 1);
}

TEST_CASE("an --input that is a directory or missing exits 65 saying why", "[db]")
{
    // A directory opens, and its reads fail: once read as an empty file, a
    // run that found nothing and exited 0.
    test_db db;
    db.migrate();
    temp_dir dir;
    auto const folder = run_tool("scrape-metrics", {"--input", dir.path()}, &db);
    CHECK(folder.exit_code == 65);
    CHECK_THAT(folder.err,
               Catch::Contains(fmt::format("--input: cannot read '{}': it is a directory",
                                           dir.path())));
    auto const missing =
        run_tool("scrape-metrics", {"--input", dir.path() + "/m.jsonl"}, &db);
    CHECK(missing.exit_code == 65);
    CHECK_THAT(missing.err, Catch::Contains("m.jsonl': No such file or directory"));
    // both recorded as failed runs, with why
    CHECK(db.count("SELECT count(*) FROM xloop.job_runs WHERE job = 'scrape-metrics' AND "
                   "status = 'failed' AND error LIKE '--input: cannot read%'") == 2);
}

TEST_CASE(
    "follower numbers no account has leave that post without attribution, and never "
    "fail the run",
    "[db]")
{
    test_db db;
    db.migrate();
    auto c = db.connect();
    add_posted(c, "1001", 26);
    add_posted(c, "1002", 26);
    // Another writer's snapshot of -3 half an hour before 1002's window ends:
    // not a count, so the window ends at the next one (1040), not there.
    c.exec("INSERT INTO public.follower_snapshots (snapshot_at, follower_count) VALUES "
           "($1::timestamptz - interval '27 hours', 1000), "
           "($1::timestamptz - interval '150 minutes', -3)",
           now);
    // A follows count the file source accepts (a count in [0, 2^63)) but no
    // post earns: 5·10⁷ attributed follows do not fit numeric(10,4).
    auto const file =
        std::string{"{\"followers\": 1040, \"observed_at\": \"2026-03-02T11:00:00Z\"}\n"
                    "{\"tweet_id\": \"1001\", \"observed_at\": \"2026-03-02T12:00:00Z\", "
                    "\"impressions\": 3000, \"likes\": 30, \"follows\": 50000000}\n"
                    "{\"tweet_id\": \"1002\", \"observed_at\": \"2026-03-02T12:00:00Z\", "
                    "\"impressions\": 1000, \"likes\": 5}\n"};
    auto const r =
        run_tool("scrape-metrics",
                 {"--source", "file", "--input", "-", "--now", now, "--json"}, &db, file);
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    CHECK(json::parse(r.out)["follows_out_of_range"] == 1);
    CHECK(r.err.find("1 post was attributed more follows than outcomes can hold (e.g. "
                     "tweet 1001: 50000000 follows)") != std::string::npos);
    auto const o =
        c.exec("SELECT tweet_id, followers_gained, followers_after, "
               "followers_gained_weighted, primary_objective_score, "
               "engagement_rate, follows FROM public.outcomes ORDER BY tweet_id");
    REQUIRE(o.rows() == 2);
    // 1001: its counts and ER stored, no attribution and no score
    CHECK(o.is_null(0, 1));
    CHECK(o.is_null(0, 3));
    CHECK(o.is_null(0, 4));
    CHECK(o.f64(0, 5) == Approx(0.01).margin(1e-4)); // 30 / 3000
    CHECK(o.i64(0, 6) == 50000000);
    // 1002: the whole gain of 1000 → 1040 (1001's follows are direct: no share)
    CHECK(o.i64(1, 1) == 40);
    CHECK(o.i64(1, 2) == 1040);
    CHECK_FALSE(o.is_null(1, 4));
}

TEST_CASE("the first run on a database scores the stored outcomes as far back as the "
          "learners read, later runs their own range or that far with --backfill",
          "[db]")
{
    test_db db;
    db.migrate();
    auto c = db.connect();
    temp_dir dir;
    auto scrape = [&](std::vector<std::string> more) {
        std::vector<std::string> args{"--input", "-", "--now", now, "--json"};
        args.insert(args.end(), more.begin(), more.end());
        auto r = run_tool("scrape-metrics", args, &db, "");
        INFO(r.err);
        REQUIRE(r.exit_code == 0);
        return r;
    };
    // a new account's first run has nothing to score and says nothing of it
    // (a dry run: it leaves no ledger row, so the next is still the first)
    auto const empty = scrape({"--dry-run"});
    CHECK_FALSE(json::parse(empty.out).contains("backfill_from"));
    CHECK(empty.err.find("first run") == std::string::npos);
    // the bot's history: outcomes it collected, never scored by xloop
    for (auto const& [id, days, type] :
         std::vector<std::tuple<std::string, int, std::string>>{
             {"2010", 10, "single"},
             {"2050", 50, "single"},
             {"2070", 70, "reply"},
             {"2120", 120, "single"},
             {"2400", 400, "single"}}) {
        add_posted(c, id, days * 24, type, 24.0);
    }
    auto scored = [&] {
        std::vector<std::string> out;
        auto const r = c.exec("SELECT tweet_id FROM public.outcomes WHERE "
                              "primary_objective_score IS NOT NULL ORDER BY tweet_id");
        for (int i = 0; i < r.rows(); ++i) {
            out.push_back(r.str(i, 0));
        }
        return out;
    };
    // Every run scores the last 31 days. The first reaches back as far as
    // build-weights reads: fewer than weights.window_posts (180) posts in all,
    // so back to the oldest, but weights.max_window_days (365) at most.
    auto const first = scrape({});
    CHECK(scored() == std::vector<std::string>{"2010", "2050", "2070", "2120"});
    CHECK(json::parse(first.out)["backfill_from"] == "2025-03-02T12:00:00Z");
    CHECK_THAT(first.err, Catch::Contains("the first run on this database: scoring (v2) "
                                          "the stored outcomes of posts back to "
                                          "2025-03-02T12:00:00Z"));
    // the learners then read them
    auto const learned = run_tool("learn-replies", {"--now", now}, &db);
    CHECK_THAT(learned.err, Catch::Contains("1 reply over 1 account"));
    // an outcome of 50 days ago stored since: a later run leaves it to --backfill
    add_posted(c, "2051", 50 * 24, "single", 24.0);
    auto const later = scrape({});
    CHECK_FALSE(json::parse(later.out).contains("backfill_from"));
    CHECK(scored() == std::vector<std::string>{"2010", "2050", "2070", "2120"});
    auto const again = scrape({"--backfill"});
    CHECK_THAT(again.err, Catch::Contains("--backfill: scoring (v2)"));
    CHECK(scored() == std::vector<std::string>{"2010", "2050", "2051", "2070", "2120"});
    // build-weights held to its 60 days: the replies' 90 are the further
    dir.write("x.yaml", "weights:\n  window_posts: 0\n");
    add_posted(c, "2085", 85 * 24, "single", 24.0);
    add_posted(c, "2095", 95 * 24, "single", 24.0);
    scrape({"--backfill", "--config", dir.path() + "/x.yaml"});
    CHECK(scored() ==
          std::vector<std::string>{"2010", "2050", "2051", "2070", "2085", "2120"});
    // nothing further back than every run's 31 days: said so
    dir.write("x.yaml", "weights:\n  window_posts: 0\n  window_days: 20\n"
                        "replies:\n  window_days: 20\n");
    auto const near = scrape({"--backfill", "--config", dir.path() + "/x.yaml"});
    CHECK_THAT(near.err,
               Catch::Contains("--backfill: the learners read no further back "
                               "than the last 31 days, which every run scores"));
}

TEST_CASE("the first run asks X whom the replies of learn-replies' window that name no "
          "account answer, past their checkpoints too, and --backfill asks again",
          "[db]")
{
    test_db db;
    db.migrate();
    auto c = db.connect();
    // the bot's history: its outcomes collected long after its last checkpoint
    add_posted(c, "6060", 60 * 24, "reply", 40 * 24);  // 60 days old, unnamed
    add_posted(c, "6061", 60 * 24, "reply", 40 * 24);  // named already
    add_posted(c, "6100", 100 * 24, "reply", 40 * 24); // past replies.window_days
    add_posted(c, "6002", 2 * 24, "reply");            // due now (48 h)
    c.exec("UPDATE public.content_generation_metadata_comprehensive SET target_username "
           "= CASE tweet_id WHEN '6061' THEN 'joe' END");
    fake_x_api api;
    api.replies_to = {{"6060", {"111", "analyst_amy"}},
                      {"6061", {"222", "someone_else"}},
                      {"6100", {"333", "old_one"}},
                      {"6002", {"444", "bob"}}};
    scraper s{db, api};
    auto const first = s.ok({"--json"});
    std::vector<std::string> asked;
    for (auto const& r : api.tweet_requests()) {
        asked.insert(asked.end(), r.ids.begin(), r.ids.end());
    }
    std::sort(asked.begin(), asked.end());
    CHECK(asked == std::vector<std::string>{"6002", "6060"}); // each once
    CHECK(json::parse(first.out)["unnamed_replies_asked"] == 1);
    CHECK(json::parse(first.out)["reply_targets_named"] == 2);
    CHECK_THAT(first.err, Catch::Contains("the first run on this database: asking X whom "
                                          "1 reply of the last 90 days that names no "
                                          "account answers"));
    auto const targets = [&] {
        return c
            .exec("SELECT string_agg(tweet_id || '=' || coalesce(target_username, '-'), "
                  "',' ORDER BY tweet_id) FROM "
                  "public.content_generation_metadata_comprehensive")
            .str(0, 0);
    };
    CHECK(targets() == "6002=bob,6060=analyst_amy,6061=joe,6100=-");
    // not its metrics: the bot's outcome stays as collected
    CHECK(db.count("SELECT count(*) FROM public.outcomes WHERE tweet_id = '6060' AND "
                   "collected_at = (SELECT posted_at FROM "
                   "public.content_generation_metadata_comprehensive WHERE tweet_id = "
                   "'6060') + interval '40 days'") == 1);
    // a later run asks for the due posts only; --backfill for the rest again
    add_posted(c, "6050", 50 * 24, "reply", 40 * 24);
    c.exec("UPDATE public.content_generation_metadata_comprehensive SET target_username "
           "= NULL WHERE tweet_id = '6050'");
    api.replies_to["6050"] = {"555", "carol"};
    auto const before = api.tweet_requests().size();
    auto const later = s.ok({"--json"});
    CHECK(api.tweet_requests().size() == before);
    CHECK_FALSE(json::parse(later.out).contains("unnamed_replies_asked"));
    auto const again = s.ok({"--json", "--backfill"});
    CHECK(json::parse(again.out)["unnamed_replies_asked"] == 1);
    CHECK_THAT(again.err, Catch::Contains("--backfill: asking X whom 1 reply"));
    CHECK(targets() == "6002=bob,6050=carol,6060=analyst_amy,6061=joe,6100=-");
    // more than --max-posts: the newest asked, the rest counted for the next
    for (auto const* id : {"6045", "6035"}) { // collected past their last checkpoint
        add_posted(c, id, std::stoi(std::string{id}.substr(2)) * 24, "reply", 32 * 24);
    }
    c.exec("UPDATE public.content_generation_metadata_comprehensive SET target_username "
           "= NULL WHERE tweet_id IN ('6045', '6035')");
    auto const capped = s.ok({"--json", "--backfill", "--max-posts", "1"});
    CHECK(json::parse(capped.out)["unnamed_replies_asked"] == 1);
    CHECK(json::parse(capped.out)["unnamed_replies_left"] == 1);
    CHECK_THAT(capped.err, Catch::Contains("1 older reply that names no account not "
                                           "asked whom it answers in this run (at most "
                                           "1, --max-posts): run xloop-scrape-metrics "
                                           "--backfill again to ask"));
    CHECK(api.tweet_requests().back().ids == std::vector<std::string>{"6035"});
}

TEST_CASE("replies X's rate limit leaves unasked on the first run are counted, with "
          "--backfill to ask later, and the due posts come first",
          "[db]")
{
    test_db db;
    db.migrate();
    auto c = db.connect();
    add_posted(c, "6060", 60 * 24, "reply", 40 * 24);
    add_posted(c, "6002", 2 * 24, "single");
    c.exec("UPDATE public.content_generation_metadata_comprehensive SET target_username "
           "= NULL");
    fake_x_api api;
    api.tweets_per_window = 1; // X's Free tier: GET /2/tweets once in 15 minutes
    api.replies_to = {{"6060", {"111", "analyst_amy"}}};
    scraper s{db, api};
    auto const r = s.ok({"--json"});
    REQUIRE(api.tweet_requests().size() == 1);
    CHECK(api.tweet_requests()[0].ids == std::vector<std::string>{"6002"});
    CHECK(json::parse(r.out)["unnamed_replies_deferred"] == 1);
    CHECK(json::parse(r.out)["unnamed_replies_asked"] == 0);
    CHECK_THAT(r.err, Catch::Contains("X allows no more GET /2/tweets now: 1 reply that "
                                      "names no account not asked whom it answers; run "
                                      "xloop-scrape-metrics --backfill later to ask"));
}

TEST_CASE("a reply that names no account is given the author of the opportunity it "
          "answers, as far back as learn-replies reads, and learn-replies learns from it",
          "[db]")
{
    test_db db;
    db.migrate();
    auto c = db.connect();
    // A poster that recorded the post each reply answers (target_tweet_id),
    // not its author; the harvester's opportunities name the author.
    struct reply {
        std::string id;
        double days;
        char const* target_username; // nullptr: none
        char const* target_tweet_id;
        char const* status;
    };
    for (auto const& r : std::vector<reply>{
             {"5001", 70, nullptr, "9001", "posted"},  // 70 days old
             {"5002", 10, "joe", "9002", "posted"},    // a name there is kept
             {"5003", 10, " ", "9003", "posted"},      // an author that is no handle
             {"5004", 10, nullptr, nullptr, "posted"}, // answers no known post
             {"5005", 100, nullptr, "9005", "posted"}, // older than replies.window_days
             {"5006", 10, nullptr, "9006", "queued"},  // not posted
             {"5007", 5, "", "9007", "posted"}}) {
        add_posted(c, r.id, r.days * 24, "reply", 24.0);
        c.exec(
            "UPDATE public.content_generation_metadata_comprehensive SET "
            "target_username = $2, target_tweet_id = $3, status = $4 WHERE tweet_id = $1",
            r.id,
            r.target_username ? std::optional<std::string>{r.target_username}
                              : std::nullopt,
            r.target_tweet_id ? std::optional<std::string>{r.target_tweet_id}
                              : std::nullopt,
            r.status);
    }
    c.exec(
        "INSERT INTO public.reply_opportunities (tweet_id, tweet_author, status) VALUES "
        "('9001', ' @Analyst_Amy', 'replied'), ('9002', 'someone_else', 'replied'), "
        "('9003', 'amy smith', 'replied'), ('9005', 'old_one', 'replied'), "
        "('9006', 'queued_one', 'pending'), ('9007', 'bob', 'replied')");
    auto scrape = [&] {
        auto r =
            run_tool("scrape-metrics", {"--input", "-", "--now", now, "--json"}, &db, "");
        INFO(r.err);
        REQUIRE(r.exit_code == 0);
        return r;
    };
    auto const first = scrape();
    CHECK(json::parse(first.out)["reply_targets_from_opportunities"] == 2);
    CHECK_THAT(first.err,
               Catch::Contains("2 replies that named no account now name the author of "
                               "the post they answer (reply_opportunities.tweet_author): "
                               "learn-replies learns from them"));
    auto const targets = c.exec(
        "SELECT string_agg(tweet_id || '=' || coalesce(target_username, '-'), ',' ORDER "
        "BY tweet_id) FROM public.content_generation_metadata_comprehensive");
    CHECK(targets.str(0, 0) ==
          "5001=Analyst_Amy,5002=joe,5003= ,5004=-,5005=-,5006=-,5007=bob");
    auto const learned = run_tool("learn-replies", {"--now", now, "--json"}, &db);
    INFO(learned.err);
    CHECK(json::parse(learned.out)["accounts"] == 3);
    // a second run has nothing left to name, and says nothing of it
    auto const second = scrape();
    CHECK(json::parse(second.out)["reply_targets_from_opportunities"] == 0);
    CHECK(second.err.find("reply_opportunities.tweet_author") == std::string::npos);
}

TEST_CASE("a role that may not read the ledger scrapes unrecorded and scores its usual "
          "range",
          "[db]")
{
    test_db db;
    db.migrate();
    auto c = db.connect();
    add_posted(c, "3010", 10 * 24, "single", 24.0);
    add_posted(c, "3050", 50 * 24, "single", 24.0);
    auto const role = "scraper_" + db.name();
    c.exec(fmt::format("CREATE ROLE {0} NOLOGIN; GRANT USAGE ON SCHEMA public, xloop TO "
                       "{0}; GRANT ALL ON ALL TABLES IN SCHEMA public, xloop TO {0}; "
                       "GRANT ALL ON ALL SEQUENCES IN SCHEMA public, xloop TO {0}; "
                       "GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA xloop TO {0}; "
                       "REVOKE ALL ON xloop.job_runs FROM {0}",
                       quote_ident(role)));
    auto const r = run_tool("scrape-metrics",
                            {"--db", db.conninfo() + " options='-c role=" + role + "'",
                             "--input", "-", "--now", now},
                            nullptr, "");
    INFO(r.err);
    CHECK(r.exit_code == 0);
    // whether this is the first run cannot be told: the usual 31 days only
    CHECK(c.exec("SELECT string_agg(tweet_id, ',' ORDER BY tweet_id) FROM "
                 "public.outcomes WHERE primary_objective_score IS NOT NULL")
              .str(0, 0) == "3010");
    c.exec(fmt::format("DROP OWNED BY {0}; DROP ROLE {0}", quote_ident(role)));
}

TEST_CASE("an earlier post is re-attributed when its window gains snapshots", "[db]")
{
    test_db db;
    db.migrate();
    auto c = db.connect();
    add_posted(c, "1100", 10); // posted 10 h before now; its window ends in 14 h
    auto scrape = [&](std::string const& lines, char const* at) {
        auto const r =
            run_tool("scrape-metrics", {"--source", "file", "--input", "-", "--now", at},
                     &db, lines);
        INFO(r.err);
        REQUIRE(r.exit_code == 0);
    };
    scrape("{\"followers\": 500, \"observed_at\": \"2026-03-02T01:00:00Z\"}\n"
           "{\"followers\": 510, \"observed_at\": \"2026-03-02T12:00:00Z\"}\n"
           "{\"tweet_id\": \"1100\", \"observed_at\": \"2026-03-02T12:00:00Z\", "
           "\"impressions\": 900}\n",
           now);
    auto fgw = [&] {
        return c
            .exec("SELECT followers_gained_weighted, attribution_confidence FROM "
                  "public.outcomes")
            .f64(0, 0);
    };
    double const early = fgw();
    // 10 followers; the window as complete as the post's reach at 10 h of 24
    // (metrics.attribution_half_life_hours 1.5: (1 − 2^(−10/1.5)) / (1 −
    // 2^(−24/1.5))); the snapshot 1 h before posting: × (1 − 1/24)
    double const reach = (1 - std::exp2(-10 / 1.5)) / (1 - std::exp2(-24 / 1.5));
    CHECK(early == Approx(10 * reach * (23.0 / 24)).margin(1e-3));
    // a day later, with the window complete and a snapshot at its end
    scrape("{\"followers\": 530, \"observed_at\": \"2026-03-03T02:00:00Z\"}\n",
           "2026-03-03T12:00:00Z");
    CHECK(fgw() > early);
    CHECK(fgw() == Approx(30 * (1 - 1.0 / 24)).margin(1e-3));
}

TEST_CASE("an account older than a run reads gets its posts' follows, not the drift of "
          "posts the run did not read",
          "[db]")
{
    test_db db;
    db.migrate();
    auto c = db.connect();
    // 40 days of a post every 8 h (100 impressions each) and a follower more
    // an hour since the first: three posts live in any 24 h, 8 follows each.
    c.exec(
        "INSERT INTO public.content_generation_metadata_comprehensive (status, "
        "tweet_id, posted_at, decision_type, content) SELECT 'posted', (1000 + h)::text, "
        "$1::timestamptz - make_interval(hours => h), 'single', 'post ' || h FROM "
        "generate_series(8, 960, 8) h",
        now);
    c.exec(
        "INSERT INTO public.outcomes (decision_id, tweet_id, impressions, collected_at) "
        "SELECT decision_id, tweet_id, 100, $1::timestamptz - interval '1 hour' FROM "
        "public.content_generation_metadata_comprehensive",
        now);
    c.exec("INSERT INTO public.follower_snapshots (snapshot_at, follower_count) SELECT "
           "$1::timestamptz - make_interval(hours => h), 20000 - least(h, 960) FROM "
           "generate_series(0, 1000) h",
           now);
    auto gains = [&] {
        return c.exec("SELECT min(o.followers_gained), max(o.followers_gained), "
                      "min(o.followers_gained_weighted)::float8, count(*) FROM "
                      "public.outcomes o JOIN "
                      "public.content_generation_metadata_comprehensive p USING "
                      "(decision_id) WHERE p.posted_at BETWEEN $1::timestamptz - "
                      "interval '30 days' AND $1::timestamptz - interval '48 hours'",
                      now);
    };
    // The first run scores back to the first post; a run an hour later
    // rescores the last 31 days, reading the posts from 32 days back and the
    // snapshots from 33. Both rescore the last 31 days so: the 24 h before
    // the posts read, live with posts not read, had been taken for the
    // account's drift, and every post netted to 0.
    for (char const* at : {now, "2026-03-02T13:00:00Z"}) {
        auto const r =
            run_tool("scrape-metrics",
                     {"--source", "file", "--input", "/dev/null", "--now", at}, &db);
        INFO(r.err);
        REQUIRE(r.exit_code == 0);
        auto const g = gains();
        CHECK(g.i64(0, 3) == 85);
        CHECK(g.i64(0, 0) == 8);
        CHECK(g.i64(0, 1) == 8);
        CHECK(g.f64(0, 2) == Approx(8));
    }
}

TEST_CASE("with metrics.fit_reach a run fits the account's reach, notes it in its ledger "
          "row, and validate says which reach the follows were shared by",
          "[db]")
{
    test_db db;
    db.migrate();
    auto c = db.connect();
    temp_dir dir;
    dir.write("fit.yaml", "metrics:\n  fit_reach: true\n");
    auto const config = dir.path() + "/fit.yaml";
    auto const scrape = [&] {
        auto const r = run_tool("scrape-metrics",
                                {"--source", "file", "--input", "/dev/null", "--now", now,
                                 "--config", config},
                                &db);
        INFO(r.err);
        REQUIRE(r.exit_code == 0);
    };
    auto const coverage = [&] {
        auto const r =
            run_tool("validate", {"--json", "--now", now, "--config", config}, &db);
        INFO(r.err << r.out);
        auto const report = nlohmann::json::parse(r.out);
        for (auto const& k : report["checks"]) {
            if (k["name"] == "v2_coverage") {
                return k;
            }
        }
        FAIL("no v2_coverage check");
        return nlohmann::json{};
    };
    // A post every 8 h (100 impressions each) and a follower more every hour
    // from the first post on (before it, a gain would be the account's drift):
    // each post's follows come in evenly over its day. A day first: too few
    // intervals to fit, so the configured 1.5 h is used and said.
    auto const account = [&](int from, int hours) {
        c.exec("INSERT INTO public.content_generation_metadata_comprehensive (status, "
               "tweet_id, posted_at, decision_type, content) SELECT 'posted', (1000 + "
               "h)::text, $1::timestamptz - make_interval(hours => h), 'single', 'post ' "
               "|| h FROM generate_series($3::int, $2::int, 8) h",
               now, hours, from);
        c.exec("INSERT INTO public.outcomes (decision_id, tweet_id, impressions, "
               "collected_at) SELECT decision_id, tweet_id, 100, $1::timestamptz - "
               "interval '1 hour' FROM public.content_generation_metadata_comprehensive "
               "ON CONFLICT (decision_id) DO NOTHING",
               now);
        c.exec("INSERT INTO public.follower_snapshots (snapshot_at, follower_count) "
               "SELECT $1::timestamptz - make_interval(hours => h), 20000 - h FROM "
               "generate_series(0, $2::int) h ON CONFLICT DO NOTHING",
               now, hours);
    };
    account(8, 24);
    scrape();
    auto const ledger = [&] {
        return nlohmann::json::parse(c.exec("SELECT detail::text FROM xloop.job_runs "
                                            "WHERE job = 'scrape-metrics' ORDER BY id "
                                            "DESC LIMIT 1")
                                         .str(0, 0));
    };
    CHECK(ledger()["reach_fitted"] == false);
    CHECK(ledger()["reach_half_life_hours"] == 1.5);
    CHECK_FALSE(ledger().contains("reach_best_half_life_hours"));
    auto k = coverage();
    CHECK(k["numbers"]["reach_fitted"] == false);
    CHECK(
        k["message"].get<std::string>().find(
            "reach: a half-life of 1.5 h as configured, not fitted yet (48 intervals") !=
        std::string::npos);
    // Twenty days: even reach explains the hourly gains exactly, the
    // configured 1.5 h does not.
    account(32, 480);
    scrape();
    auto const detail = ledger();
    CHECK(detail["reach_fitted"] == true);
    CHECK(detail["reach_half_life_hours"] == 0);
    CHECK(detail["reach_best_half_life_hours"] == 0);
    k = coverage();
    CHECK(k["numbers"]["reach_fitted"] == true);
    CHECK(k["numbers"]["reach_half_life_hours"] == 0);
    CHECK(k["message"].get<std::string>().find(
              "reach fitted to the last 14 days' follower counts: even reach, a reply's "
              "impressions weighing as a post's") != std::string::npos);
    // Configured as even reach, the truth: the fit finds nothing better, and
    // the configured reach is kept and said so.
    dir.write("fit.yaml",
              "metrics:\n  fit_reach: true\n  attribution_half_life_hours: 0\n");
    scrape();
    CHECK(ledger()["reach_fitted"] == false);
    CHECK(ledger()["reach_best_half_life_hours"] == 0);
    k = coverage();
    CHECK(k["message"].get<std::string>().find(
              "reach: even reach as configured, the last 14 days' best fit too") !=
          std::string::npos);
    // A ledger row whose numbers are not numbers (another program's) is read
    // as no fit, never an error.
    c.exec("UPDATE xloop.job_runs SET detail = detail || '{\"reach_half_life_hours\": "
           "\"two\", \"reply_follows_ratio\": 1e400}' WHERE job = 'scrape-metrics'");
    k = coverage();
    CHECK(k["numbers"]["reach_fitted"] == false);
    CHECK_FALSE(k["numbers"].contains("reach_half_life_hours"));
    CHECK(k["message"].get<std::string>().find("reach") == std::string::npos);
}

TEST_CASE("SIGTERM stops a run between batches, keeps what was committed, records it",
          "[db]")
{
    test_db db;
    db.migrate();
    auto c = db.connect();
    c.exec(
        "INSERT INTO public.content_generation_metadata_comprehensive (status, tweet_id, "
        "posted_at, decision_type) SELECT 'posted', (6000 + g)::text, $1::timestamptz - "
        "interval '2 hours' - g * interval '1 second', 'single' FROM generate_series(1, "
        "300) g",
        now);
    fake_x_api api;
    scraper s{db, api};
    // every /2/tweets answer takes 300 ms: the signal arrives during the first
    // (sent once it has arrived: a fixed delay came before it under ASan on a
    // loaded machine), and its answer within the 600 ms a request in flight
    // is given to finish (when curl's progress callback checked, at 700 ms
    // ASan's slower client missed it once; the client now wakes as it comes)
    {
        std::lock_guard<std::mutex> lock{api.mutex};
        api.delay_tweets_ms = 300;
    }
    auto const r =
        run_tool_signalled("scrape-metrics", {"--config", s.config, "--now", now},
                           [&] { return !api.tweet_requests().empty(); }, &db,
                           {{"X_BEARER_TOKEN", token}})
            .result;
    INFO(r.err);
    CHECK(r.exit_code == 75);
    CHECK(r.err.find("interrupted") != std::string::npos);
    // the batch in flight was finished and committed; nothing after it
    CHECK(db.count("SELECT count(*) FROM public.outcomes") == 100);
    CHECK(api.tweet_requests().size() == 1);
    CHECK(db.count("SELECT count(*) FROM xloop.job_runs WHERE job = 'scrape-metrics' AND "
                   "status = 'interrupted'") == 1);
}

TEST_CASE("a file record replaces older metrics only, keeps counts it lacks, and reaches "
          "posts of any age",
          "[db]")
{
    test_db db;
    db.migrate();
    auto c = db.connect();
    add_posted(c, "1201", 30, "single", 24); // scraped 6 h ago (at 24 h)
    add_posted(c, "1202", 30, "single", 24);
    add_posted(c, "1203", 24 * 50, "single"); // far outside the v2 window
    c.exec("UPDATE public.outcomes SET impressions = 700, likes = 7, retweets = 2");
    auto const lines = std::string{
        // newer, without retweets: likes and impressions change, retweets kept
        "{\"tweet_id\": \"1201\", \"observed_at\": \"2026-03-02T12:00:00Z\", "
        "\"impressions\": 1000, \"likes\": 20}\n"
        // older than what is stored (posted 30 h ago, scraped 6 h ago)
        "{\"tweet_id\": \"1202\", \"observed_at\": \"2026-03-02T00:00:00Z\", "
        "\"impressions\": 5, \"likes\": 1}\n"
        "{\"tweet_id\": \"1203\", \"observed_at\": \"2026-03-02T12:00:00Z\", "
        "\"impressions\": 4000, \"likes\": 40}\n"};
    auto const mixed =
        run_tool("scrape-metrics", {"--source", "x-api", "--input", "-", "--now", now},
                 &db, lines);
    CHECK(mixed.exit_code == 64);
    CHECK(mixed.err.find("--input is for --source file") != std::string::npos);
    // --input alone means the file source
    auto const r =
        run_tool("scrape-metrics", {"--input", "-", "--now", now, "--json"}, &db, lines);
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    CHECK(json::parse(r.out)["outcomes_written"] == 2); // 1201 and 1203
    auto const o = c.exec("SELECT tweet_id, impressions, likes, retweets, data_source, "
                          "engagement_rate FROM public.outcomes ORDER BY tweet_id");
    REQUIRE(o.rows() == 3);
    CHECK(o.i64(0, 1) == 1000);
    CHECK(o.i64(0, 2) == 20);
    CHECK(o.i64(0, 3) == 2);
    CHECK(o.str(0, 4) == "file");
    CHECK(o.f64(0, 5) == Approx(0.022)); // (20 + 2) / 1000
    CHECK(o.i64(1, 1) == 700);           // the older record changed nothing
    CHECK(o.i64(1, 2) == 7);
    CHECK(o.i64(2, 1) == 4000);
    CHECK(o.i64(2, 2) == 40);
    // the base table's actual_* columns follow the outcome
    auto const a = c.exec("SELECT actual_impressions, actual_likes, actual_retweets, "
                          "actual_engagement_rate FROM "
                          "public.content_generation_metadata_comprehensive WHERE "
                          "tweet_id = '1201'");
    CHECK(a.i64(0, 0) == 1000);
    CHECK(a.i64(0, 1) == 20);
    CHECK(a.i64(0, 2) == 2);
    CHECK(a.f64(0, 3) == Approx(0.022));
    // also for a post older than the v2 window (its counts, not its v2 values)
    auto const old =
        c.exec("SELECT actual_impressions, actual_likes, metrics_collected_at = "
               "'2026-03-02T12:00:00Z' FROM "
               "public.content_generation_metadata_comprehensive WHERE "
               "tweet_id = '1203'");
    CHECK(old.i64(0, 0) == 4000);
    CHECK(old.i64(0, 1) == 40);
    CHECK(old.str(0, 2) == "t");
    // the older record for 1202 changed nothing, and was said to
    CHECK(json::parse(r.out)["not_newer"] == 1);
    CHECK_THAT(r.err, Catch::Contains("1 post had records no newer than its stored "
                                      "outcome: left as they were"));
    // the same lines again: no post changes, in the v2 range (1201, 1202) or
    // outside it (1203)
    auto const again =
        run_tool("scrape-metrics", {"--input", "-", "--now", now, "--json"}, &db, lines);
    REQUIRE(again.exit_code == 0);
    CHECK(json::parse(again.out)["not_newer"] == 3);
    CHECK(json::parse(again.out)["outcomes_written"] == 0);
    CHECK_THAT(again.err,
               Catch::Contains("3 posts had records no newer than their stored "
                               "outcomes: left as they were"));
}

TEST_CASE("an outcome collected at infinity (another program's) neither fails a run nor "
          "blocks the next record",
          "[db]")
{
    // 'infinity' fits a timestamptz and no date the v2 pass can hold
    test_db db;
    db.migrate();
    auto c = db.connect();
    add_posted(c, "1301", 30, "single", 24); // in the v2 range
    add_posted(c, "1302", 30, "single", 24);
    add_posted(c, "1303", 24 * 50, "single"); // outside it
    c.exec("UPDATE public.outcomes SET collected_at = CASE tweet_id WHEN '1302' THEN "
           "'-infinity'::timestamptz ELSE 'infinity' END, impressions = 700");
    auto const nothing =
        run_tool("scrape-metrics", {"--input", "-", "--now", now}, &db, "");
    INFO(nothing.err);
    REQUIRE(nothing.exit_code == 0);
    std::string lines; // 1301: 1000 impressions, 1302: 2000, 1303: 3000
    for (int i = 1; i <= 3; ++i) {
        lines += fmt::format(R"({{"tweet_id": "130{}", "observed_at": "{}", )"
                             R"("impressions": {}}})"
                             "\n",
                             i, now, i * 1000);
    }
    auto const r = run_tool("scrape-metrics", {"--input", "-", "--now", now}, &db, lines);
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    auto const o =
        c.exec("SELECT string_agg(tweet_id || ':' || impressions || ':' || "
               "(collected_at = '2026-03-02T12:00:00Z'), ',' ORDER BY tweet_id) "
               "FROM public.outcomes");
    CHECK(o.str(0, 0) == "1301:1000:true,1302:2000:true,1303:3000:true");
}

TEST_CASE("a post posted at infinity or a follower snapshot at infinity or in 1850 "
          "(another program's) is named or left out, never read as a date",
          "[db]")
{
    test_db db;
    db.migrate();
    auto c = db.connect();
    add_posted(c, "1401", 30); // in the v2 range
    add_posted(c, "1402", 30);
    c.exec("UPDATE public.content_generation_metadata_comprehensive SET posted_at = "
           "'infinity' WHERE tweet_id = '1402'");
    c.exec("INSERT INTO public.follower_snapshots (snapshot_at, follower_count) VALUES "
           "('-infinity', 100), ('1850-01-01', 90), ('infinity', 5000), "
           "($1::timestamptz - interval '31 hours', 1000), "
           "($1::timestamptz - interval '1 hour', 1010)",
           now);
    auto const line = [](char const* id) {
        return fmt::format(
            R"({{"tweet_id": "{}", "observed_at": "{}", "impressions": 500, )"
            R"("likes": 10}})"
            "\n",
            id, now);
    };
    auto const ok =
        run_tool("scrape-metrics", {"--input", "-", "--now", now}, &db, line("1401"));
    INFO(ok.err);
    REQUIRE(ok.exit_code == 0);
    // the one post takes the 10 followers the finite snapshots gained at most
    auto const fgw =
        c.exec("SELECT followers_gained_weighted::float8 FROM public.outcomes "
               "WHERE tweet_id = '1401'");
    REQUIRE_FALSE(fgw.is_null(0, 0));
    CHECK(fgw.f64(0, 0) >= 0);
    CHECK(fgw.f64(0, 0) <= 10);
    auto const bad =
        run_tool("scrape-metrics", {"--input", "-", "--now", now}, &db, line("1402"));
    CHECK(bad.exit_code == 65);
    CHECK_THAT(bad.err,
               Catch::Contains("e.g. tweet 1402 observed at 2026-03-02T12:00:00Z, "
                               "posted at infinity"));
}

TEST_CASE("a record observed before its post was posted is refused, named, or skipped "
          "with --skip-bad, in the v2 range and outside it",
          "[db]")
{
    test_db db;
    db.migrate();
    auto c = db.connect();
    add_posted(c, "1301", 30);      // in the v2 range: posted 2026-03-01T06:00:00Z
    add_posted(c, "1302", 24 * 50); // outside it: posted 2026-01-11T12:00:00Z
    add_posted(c, "1303", 30);
    add_posted(c, "1304", 30);
    auto const lines = std::string{
        // 10 h before posting
        "{\"tweet_id\": \"1301\", \"observed_at\": \"2026-02-28T20:00:00Z\", "
        "\"impressions\": 10}\n"
        // 10 days before posting
        "{\"tweet_id\": \"1302\", \"observed_at\": \"2026-01-01T12:00:00Z\", "
        "\"impressions\": 20}\n"
        "{\"tweet_id\": \"1303\", \"observed_at\": \"2026-03-02T12:00:00Z\", "
        "\"impressions\": 30}\n"
        // 5 minutes before posting: within metrics.max_clock_skew_minutes (10)
        "{\"tweet_id\": \"1304\", \"observed_at\": \"2026-03-01T05:55:00Z\", "
        "\"impressions\": 40}\n"};
    temp_dir dir;
    dir.write("m.jsonl", lines);
    auto const file = dir.path() + "/m.jsonl";

    auto const strict = run_tool("scrape-metrics", {"--input", file, "--now", now}, &db);
    CHECK(strict.exit_code == 65);
    CHECK_THAT(strict.err,
               Catch::Contains(file + ": 2 records observed before their post was posted "
                                      "(by more than metrics.max_clock_skew_minutes, 10; "
                                      "e.g. tweet 1302 observed at 2026-01-01T12:00:00Z, "
                                      "posted at 2026-01-11T12:00:00Z): a wrong tweet_id "
                                      "or observed_at? Nothing was written"));
    CHECK(db.count("SELECT count(*) FROM public.outcomes") == 0);
    CHECK(
        db.count("SELECT count(*) FROM public.content_generation_metadata_comprehensive "
                 "WHERE actual_impressions IS NOT NULL") == 0);

    // only the record in the v2 range: named by the v2 pass
    auto const one = run_tool("scrape-metrics", {"--input", "-", "--now", now}, &db,
                              lines.substr(0, lines.find('\n') + 1));
    CHECK(one.exit_code == 65);
    CHECK_THAT(one.err,
               Catch::Contains("stdin: 1 record observed before its post was "
                               "posted (by more than "
                               "metrics.max_clock_skew_minutes, 10; e.g. tweet "
                               "1301 observed at 2026-02-28T20:00:00Z, posted at "
                               "2026-03-01T06:00:00Z)"));
    CHECK(db.count("SELECT count(*) FROM public.outcomes") == 0);

    auto const skipping = run_tool(
        "scrape-metrics", {"--input", file, "--now", now, "--skip-bad", "--json"}, &db);
    INFO(skipping.err);
    REQUIRE(skipping.exit_code == 0);
    CHECK_THAT(skipping.err, Catch::Contains(file + ": skipped 2 records observed before "
                                                    "their post was posted"));
    auto const out = json::parse(skipping.out);
    CHECK(out["observed_before_posting"] == 2);
    CHECK(out["outcomes_written"] == 2);
    auto const o =
        c.exec("SELECT string_agg(tweet_id || ':' || impressions, ' ' ORDER BY "
               "tweet_id) FROM public.outcomes");
    CHECK(o.str(0, 0) == "1303:30 1304:40");
    // the run's ledger row keeps the count, for validate
    CHECK(db.count("SELECT (detail->>'observed_before_posting')::int FROM xloop.job_runs "
                   "WHERE job = 'scrape-metrics' AND status = 'ok'") == 2);
}

TEST_CASE("an insert of new outcomes that meets a key it did not read falls back to "
          "the upsert",
          "[db]")
{
    test_db db;
    db.migrate();
    auto c = db.connect();
    add_posted(c, "1301", 30);
    add_posted(c, "1302", 30, "single", 24); // has an outcome: updated in place
    // Plays a writer that inserts a new outcome between scrape-metrics' read
    // and its insert, once (a sequence is not rolled back with the savepoint):
    // the plain insert fails on the key and the run takes the upsert.
    c.exec(R"sql(
CREATE SEQUENCE public.race_seq;
CREATE FUNCTION public.race() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF pg_trigger_depth() = 1 AND NOT EXISTS (
           SELECT FROM public.outcomes WHERE decision_id = NEW.decision_id) THEN
        IF nextval('public.race_seq') = 1 THEN
            INSERT INTO public.outcomes (decision_id, tweet_id, impressions, likes)
            VALUES (NEW.decision_id, NEW.tweet_id, 1, 1);
        END IF;
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER race BEFORE INSERT ON public.outcomes
    FOR EACH ROW EXECUTE FUNCTION public.race())sql");
    auto const lines =
        std::string{"{\"tweet_id\": \"1301\", \"observed_at\": \"2026-03-02T12:00:00Z\", "
                    "\"impressions\": 1000, \"likes\": 20, \"retweets\": 5}\n"
                    "{\"tweet_id\": \"1302\", \"observed_at\": \"2026-03-02T12:00:00Z\", "
                    "\"impressions\": 2000, \"likes\": 10}\n"};
    auto const r = run_tool("scrape-metrics", {"--input", "-", "--now", now}, &db, lines);
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    auto const o = c.exec("SELECT tweet_id, impressions, likes, retweets, "
                          "engagement_rate, data_source FROM public.outcomes "
                          "ORDER BY tweet_id");
    REQUIRE(o.rows() == 2);
    CHECK(o.i64(0, 1) == 1000);
    CHECK(o.i64(0, 2) == 20);
    CHECK(o.i64(0, 3) == 5);
    CHECK(o.f64(0, 4) == Approx(0.025)); // (20 + 5) / 1000
    CHECK(o.str(0, 5) == "file");
    CHECK(o.i64(1, 1) == 2000);
    CHECK(o.i64(1, 2) == 10);
    CHECK(o.f64(1, 4) == Approx(0.005)); // 10 / 2000
    CHECK(
        db.count("SELECT count(*) FROM public.content_generation_metadata_comprehensive "
                 "WHERE actual_impressions IS NOT NULL") == 2);
    CHECK(db.count("SELECT last_value FROM public.race_seq") ==
          2); // raced, then upserted
}

TEST_CASE("hostile file records are bad lines named by file and line, never stored",
          "[db]")
{
    test_db db;
    db.migrate();
    auto c = db.connect();
    add_posted(c, "1001", 26);
    add_posted(c, "1002", 26);
    temp_dir dir;
    auto const line = [](std::string const& fields) {
        return "{\"tweet_id\": \"1001\", \"observed_at\": \"2026-03-02T12:00:00Z\", " +
               fields + "}\n";
    };
    struct hostile {
        std::string text;
        std::string reason;
    };
    std::vector<hostile> const cases{
        // an observation from the future would block every later update of the post
        {"{\"tweet_id\": \"1001\", \"observed_at\": \"2026-03-02T13:00:00Z\", "
         "\"likes\": 1}\n",
         "field 'observed_at': 2026-03-02T13:00:00Z is later than now"},
        {"{\"followers\": 5, \"observed_at\": \"2027-01-01T00:00:00Z\"}\n",
         "field 'observed_at': 2027-01-01T00:00:00Z is later than now"},
        // times the code cannot hold
        {"{\"tweet_id\": \"1001\", \"observed_at\": \"2518-01-02T12:00:00Z\"}\n",
         "field 'observed_at': not an ISO 8601 time of the years 1900 to 2199"},
        {"{\"tweet_id\": \"1001\", \"observed_at\": \"0000-01-02T12:00:00Z\"}\n",
         "field 'observed_at': not an ISO 8601 time"},
        // a NUL or control character in an id
        {"{\"tweet_id\": \"10\\u000001\", \"observed_at\": \"2026-03-02T12:00:00Z\"}\n",
         "field 'tweet_id': must not contain control characters"},
        {line("\"likes\": 18446744073709551615"),
         "field 'likes': must be a non-negative"},
        {line("\"impressions\": -1"), "field 'impressions': must be a non-negative"},
        {line("\"likes\": 1e19"), "field 'likes': must be a non-negative"},
        // which of two values would be meant?
        {line("\"likes\": 1, \"likes\": 2"), "field 'likes' is given twice"},
        {"{\"followers\": 5, \"observed_at\": \"2026-03-02T12:00:00Z\", \"followers\": "
         "6}\n",
         "field 'followers' is given twice"},
    };
    auto const good =
        line("\"impressions\": 9223372036854775807, \"likes\": 2147483647") +
        "{\"tweet_id\": \"1002\", \"observed_at\": \"2026-03-02T12:00:00Z\", "
        "\"impressions\": 9223372036854775807}\n";
    for (auto const& h : cases) {
        INFO(h.text);
        dir.write("m.jsonl", good + h.text);
        auto const strict = run_tool(
            "scrape-metrics",
            {"--source", "file", "--input", dir.path() + "/m.jsonl", "--now", now}, &db);
        INFO(strict.err);
        CHECK(strict.exit_code == 65);
        CHECK(strict.err.find("m.jsonl:3: " + h.reason) != std::string::npos);
        CHECK(db.count("SELECT count(*) FROM public.outcomes") == 0);
        CHECK(db.count("SELECT count(*) FROM public.follower_snapshots") == 0);
    }
    // with --skip-bad every hostile line is skipped and listed; the good ones land
    std::string all = good;
    for (auto const& h : cases) {
        all += h.text;
    }
    dir.write("all.jsonl", all);
    auto const skipping =
        run_tool("scrape-metrics",
                 {"--source", "file", "--input", dir.path() + "/all.jsonl", "--now", now,
                  "--skip-bad", "--json"},
                 &db);
    INFO(skipping.err);
    REQUIRE(skipping.exit_code == 0);
    CHECK(json::parse(skipping.out)["skipped_lines"] == cases.size());
    // the largest counts are stored as given; the engagement rate stays in [0, 1]
    auto const r =
        c.exec("SELECT impressions, likes, engagement_rate FROM public.outcomes "
               "WHERE tweet_id = '1001'");
    REQUIRE(r.rows() == 1);
    CHECK(r.i64(0, 0) == 9223372036854775807);
    CHECK(r.i64(0, 1) == 2147483647);
    CHECK(r.f64(0, 2) >= 0);
    CHECK(r.f64(0, 2) <= 1);
}

namespace {

// scrape-metrics of one due post, sent `signal_number` while the X API sits
// on its request (the answer would take 4 s).
signalled_run signalled_while_api_silent(test_db const& db, int signal_number)
{
    auto c = db.connect();
    add_posted(c, "7001", 2);
    fake_x_api api;
    api.delay_tweets_ms = 4000;
    temp_dir dir;
    dir.write("x.yaml",
              "x_api:\n  base_url: " + api.base_url() + "\n  timeout_ms: 60000\n");
    return run_tool_signalled(
        "scrape-metrics", {"--config", dir.path() + "/x.yaml", "--now", now},
        [&] { return !api.tweet_requests().empty(); }, &db, {{"X_BEARER_TOKEN", token}},
        signal_number);
}

} // namespace

TEST_CASE("SIGTERM while the X API is silent exits 75 within a second", "[db]")
{
    // The request in flight gets its 0.6 s of grace, then the run stops
    // (curl's progress callback, which checked before, came as seldom as
    // once a second on a silent connection: 1.2 s).
    test_db db;
    db.migrate();
    auto const [r, took_ms, after_signal_ms] = signalled_while_api_silent(db, SIGTERM);
    INFO(r.err);
    CHECK(r.exit_code == 75);
    CHECK(r.err.find("interrupted") != std::string::npos);
    CHECK(after_signal_ms < 1000);
    CHECK(db.count("SELECT count(*) FROM public.outcomes") == 0);
}

TEST_CASE("SIGHUP (the terminal of a run by hand closed) stops a run as SIGTERM does, "
          "recorded as interrupted",
          "[db]")
{
    test_db db;
    db.migrate();
    auto const [r, took_ms, after_signal_ms] = signalled_while_api_silent(db, SIGHUP);
    INFO(r.err);
    CHECK(r.exit_code == 75);
    CHECK(r.signal == 0); // not killed by it
    CHECK(after_signal_ms < 1000);
    CHECK(db.count("SELECT count(*) FROM xloop.job_runs WHERE job = 'scrape-metrics' AND "
                   "status = 'interrupted'") == 1);
}

TEST_CASE("SIGTERM during the X API's retry backoff exits 75 within a second", "[db]")
{
    test_db db;
    db.migrate();
    auto c = db.connect();
    add_posted(c, "7001", 2);
    fake_x_api api;
    api.tweets_failures.insert_or_assign(0, fake_failure{503});
    api.tweets_failures.insert_or_assign(1, fake_failure{503});
    temp_dir dir;
    // 5 s, then 10 s of backoff: the signal comes during the first, once the
    // first answer is in (a fixed delay raced a tool slow to start)
    dir.write("x.yaml", "x_api:\n  base_url: " + api.base_url() +
                            "\n  retries: 2\n  backoff_ms: 5000\n");
    auto const [r, took, after_signal_ms] = run_tool_signalled(
        "scrape-metrics", {"--config", dir.path() + "/x.yaml", "--now", now},
        [&] { return !api.tweet_requests().empty(); }, &db, {{"X_BEARER_TOKEN", token}});
    INFO(r.err);
    CHECK(r.exit_code == 75);
    CHECK(r.err.find("interrupted") != std::string::npos);
    CHECK(after_signal_ms < 1000);
    CHECK(api.tweet_requests().size() == 1); // never retried after the signal
    CHECK(db.count("SELECT count(*) FROM xloop.job_runs WHERE job = 'scrape-metrics' AND "
                   "status = 'interrupted'") == 1);
}

TEST_CASE("an X API host that does not exist exits 78 at once, one the resolver cannot "
          "look up for now is retried and exits 75",
          "[db]")
{
    test_db db;
    db.migrate();
    auto env = resolver_down_env();
    env["X_BEARER_TOKEN"] = token;
    temp_dir dir;
    auto const scrape_at = [&](std::string const& host) {
        dir.write("x.yaml", "x_api:\n  base_url: https://" + host +
                                "\n  timeout_ms: 2000\n  retries: 2\n  backoff_ms: 10\n");
        return run_tool("scrape-metrics",
                        {"--config", dir.path() + "/x.yaml", "--now", now}, &db, {}, env);
    };
    auto const missing = scrape_at("api.resolver-missing.invalid");
    INFO(missing.err);
    CHECK(missing.exit_code == 78);
    CHECK_THAT(missing.err, Catch::Contains("api.resolver-missing.invalid") &&
                                Catch::Contains("no such host") &&
                                !Catch::Contains("retrying"));
    auto const down = scrape_at("api.resolver-down.invalid");
    INFO(down.err);
    CHECK(down.exit_code == 75);
    CHECK_THAT(down.err, Catch::Contains("api.resolver-down.invalid") &&
                             Catch::Contains("after 3 attempts"));
    CHECK(db.count("SELECT count(*) FROM public.follower_snapshots") == 0);
}

TEST_CASE("SIGTERM while the resolver is silent about the X API's host exits 75 within "
          "a second",
          "[db]")
{
    test_db db;
    db.migrate();
    temp_dir dir;
    auto env = resolver_down_env();
    env["X_BEARER_TOKEN"] = token;
    auto const mark = dir.path() + "/asked-again";
    env["XLOOP_RESOLVER_STUCK_MARK"] = mark;
    // libcurl's lookup fails at once; the tool asks the resolver again (is
    // the name missing, or the resolver down?), which does not answer
    dir.write("x.yaml", "x_api:\n  base_url: https://api.resolver-stuck.invalid\n"
                        "  timeout_ms: 2000\n  retries: 2\n  backoff_ms: 10\n");
    auto const [r, took, after_signal_ms] = run_tool_signalled(
        "scrape-metrics", {"--config", dir.path() + "/x.yaml", "--now", now},
        [&] { return std::filesystem::exists(mark); }, &db, env);
    INFO(r.err);
    CHECK(r.exit_code == 75);
    CHECK(after_signal_ms < 1000);
    CHECK(db.count("SELECT count(*) FROM xloop.job_runs WHERE job = 'scrape-metrics' AND "
                   "status = 'interrupted'") == 1);
}

TEST_CASE(
    "SIGTERM while scrape-metrics waits for its input (a FIFO's writer, or more "
    "of it) exits 75 and writes nothing, never reading the signal as the input's end",
    "[db]")
{
    test_db db;
    db.migrate();
    auto c = db.connect();
    add_posted(c, "7001", 2);
    temp_dir dir;
    auto const fifo = dir.path() + "/metrics.jsonl";
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    // A writer that stays (a pipe from a program, a terminal): the tool reads
    // the first record and waits for more.
    int const writer = ::open(fifo.c_str(), O_RDWR);
    REQUIRE(writer >= 0);
    std::string const line =
        R"({"tweet_id": "7001", "impressions": 900, "observed_at": "2026-03-02T11:00:00Z"})"
        "\n";
    REQUIRE(::write(writer, line.data(), line.size()) ==
            static_cast<ssize_t>(line.size()));
    auto const [r, took, after_signal_ms] = run_tool_signalled(
        "scrape-metrics", {"--source", "file", "--input", fifo, "--now", now},
        [&] {
            return db.count("SELECT count(*) FROM pg_stat_activity WHERE query LIKE "
                            "'COPY xloop_metrics_in%'") == 1;
        },
        &db);
    ::close(writer);
    INFO(r.err);
    CHECK(r.exit_code == 75);
    CHECK(after_signal_ms < 1000);
    CHECK(db.count("SELECT count(*) FROM public.outcomes") == 0);
    CHECK(db.count("SELECT count(*) FROM xloop.job_runs WHERE job = 'scrape-metrics' AND "
                   "status = 'interrupted'") == 1);

    // No writer at all: opening the FIFO waits for one (it was exit 65,
    // "Interrupted system call")
    std::optional<std::chrono::steady_clock::time_point> running_since;
    auto const [nobody, took2, after_signal2_ms] = run_tool_signalled(
        "scrape-metrics", {"--source", "file", "--input", fifo, "--now", now},
        [&] {
            if (!running_since &&
                db.count("SELECT count(*) FROM xloop.job_runs WHERE job = "
                         "'scrape-metrics' AND status = 'running'") == 1) {
                running_since = std::chrono::steady_clock::now();
            }
            return running_since && std::chrono::steady_clock::now() - *running_since >
                                        std::chrono::milliseconds{300};
        },
        &db);
    INFO(nobody.err);
    CHECK(nobody.exit_code == 75);
    CHECK(after_signal2_ms < 1000);
    CHECK(db.count("SELECT count(*) FROM xloop.job_runs WHERE job = 'scrape-metrics' AND "
                   "status = 'interrupted'") == 2);
}

TEST_CASE("without x_api.username the handle X gives scrape-metrics' follower lookup "
          "is the account's own for learn-replies, plan and validate",
          "[db]")
{
    test_db db;
    db.migrate();
    auto c = db.connect();
    add_posted(c, "720", 2);
    fake_x_api api; // /2/users/me answers xloop_bot
    scraper s{db, api};
    auto const r = s.run({"--json"});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    CHECK(json::parse(r.out)["username"] == "xloop_bot");

    // the bot's own thread as replies to '@XLoop_Bot', and one reply to amy
    c.exec("WITH c AS (INSERT INTO public.content_generation_metadata_comprehensive "
           "(status, tweet_id, posted_at, created_at, decision_type, content_slot, "
           "target_username, target_tweet_id) SELECT 'posted', 'r' || g, "
           "$1::timestamptz - interval '2 days', $1::timestamptz - interval '2 days', "
           "'reply', 'reply', CASE g WHEN 1 THEN 'amy' ELSE '@XLoop_Bot' END, '42' "
           "FROM generate_series(1, 3) g RETURNING decision_id, tweet_id) "
           "INSERT INTO public.outcomes (decision_id, tweet_id, primary_objective_score) "
           "SELECT decision_id, tweet_id, 0.5 FROM c",
           now);
    auto const learned =
        run_tool("learn-replies", {"--now", now, "--json"}, &db, {}, score_target_env());
    INFO(learned.err);
    REQUIRE(learned.exit_code == 0);
    CHECK(json::parse(learned.out)["own_replies"] == 2);
    CHECK(json::parse(learned.out)["accounts"] == 1);
    CHECK_THAT(learned.err, Catch::Contains("2 replies of the window answer the account "
                                            "itself (@xloop_bot)"));

    // an opportunity by its handle is not replied to
    c.exec("INSERT INTO public.reply_opportunities (tweet_id, tweet_author, "
           "opportunity_score, discovered_at, tweet_content) VALUES ('901', "
           "'@XLoop_Bot', 0.9, $1::timestamptz - interval '10 minutes', 'a take'), "
           "('902', 'bob', 0.1, $1::timestamptz - interval '10 minutes', 'a take')",
           now);
    auto const planned =
        run_tool("plan", {"--now", now, "--replies", "2", "--dry-run", "--json"}, &db);
    INFO(planned.err);
    REQUIRE(planned.exit_code == 0);
    CHECK(json::parse(planned.out)["own_posts"] == 1);
    CHECK_THAT(planned.err, Catch::Contains("would reply to @bob (tweet 902)") &&
                                !Catch::Contains("tweet 901)"));
    auto const v = run_tool("validate", {"--now", now, "--json"}, &db);
    CHECK(check_named(json::parse(v.out),
                      "reply_opportunities")["numbers"]["unusable_in_window"] == 1);
}
