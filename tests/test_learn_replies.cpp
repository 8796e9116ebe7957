#include "test_db_fixture.hpp"

#include "reply_opportunity.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using namespace xloop;
using namespace xloop::test;
using nlohmann::json;

namespace {

constexpr char const* now = "2026-03-02T12:00:00Z";

void add_reply(db_connection& c, double age_days, std::string const& username,
               double score, char const* at = now)
{
    c.exec("WITH c AS (INSERT INTO public.content_generation_metadata_comprehensive "
           "(status, tweet_id, posted_at, decision_type, content_slot, target_username, "
           "target_tweet_id) VALUES ('posted', md5(random()::text), "
           "$1::timestamptz - make_interval(secs => $2::float8 * 86400), 'reply', "
           "'reply', $3, "
           "'42') RETURNING decision_id, tweet_id) "
           "INSERT INTO public.outcomes (decision_id, tweet_id, primary_objective_score) "
           "SELECT decision_id, tweet_id, $4 FROM c",
           at, age_days, username, score);
}

process_result learn(test_db const& db, std::vector<std::string> args = {})
{
    if (std::find(args.begin(), args.end(), "--now") == args.end()) {
        args.insert(args.end(), {"--now", now});
    }
    args.push_back("-q");
    auto r = run_tool("learn-replies", args, &db, {}, score_target_env());
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    return r;
}

std::string accounts_table(test_db const& db)
{
    auto c = db.connect();
    return c
        .exec("SELECT string_agg(concat_ws('|', username, priority_score, "
              "reply_performance_score, last_successful_reply_at, last_updated), E'\\n' "
              "ORDER BY username) FROM public.discovered_accounts")
        .str(0, 0);
}

double priority_of(db_connection& c, std::string const& username)
{
    return c
        .exec("SELECT priority_score FROM public.discovered_accounts WHERE username = $1",
              username)
        .f64(0, 0);
}

} // namespace

TEST_CASE("learn-replies computes priorities worked out by hand", "[db]")
{
    test_db db;
    db.migrate();
    auto c = db.connect();
    add_reply(c, 0, "amy", 0.9);
    add_reply(c, 30, "bob", 0.1); // one half-life old: weight 0.5
    learn(db);
    // μ₀ = (0.9 + 0.5·0.1) / 1.5 = 0.63333; σ = 0.377124
    // amy: μ̂ = (0.9 + 5μ₀)/6 = 0.677778, Φ(0.044444 / (σ/√6)) = 0.613585
    // bob: μ̂ = (0.05 + 5μ₀)/5.5 = 0.584848, Φ(−0.048485 / (σ/√5.5)) = 0.381512
    auto const r =
        c.exec("SELECT username, priority_score, reply_performance_score, "
               "last_successful_reply_at = $1::timestamptz, "
               "last_successful_reply_at IS NULL FROM public.discovered_accounts "
               "ORDER BY username",
               now);
    REQUIRE(r.rows() == 2); // both inserted: they were missing
    CHECK(r.str(0, 0) == "amy");
    CHECK(r.f64(0, 1) == Approx(0.613585).margin(1e-6));
    CHECK(r.f64(0, 2) == Approx(0.677778).margin(1e-6));
    CHECK(r.boolean(0, 3)); // amy's reply beat μ₀
    CHECK(r.f64(1, 1) == Approx(0.381512).margin(1e-6));
    CHECK(r.f64(1, 2) == Approx(0.584848).margin(1e-6));
    CHECK(r.boolean(1, 4)); // bob's never did
}

TEST_CASE("the account key lowers a handle's ASCII letters whatever the collation: "
          "under Turkish rules @IVAN_Bot is ivan_bot, as account_key() says",
          "[db]")
{
    test_db db;
    auto c = db.connect();
    if (c.exec("SELECT count(*) FROM pg_collation WHERE collname = 'tr-TR-x-icu'")
            .i64(0, 0) == 0) {
        WARN("PostgreSQL built without ICU: no Turkish collation to try");
        return;
    }
    auto const r = c.exec("SELECT lower(u), " + account_key_sql("u") +
                          " FROM (SELECT ' @IVAN_Bot ' COLLATE \"tr-TR-x-icu\" AS u) s");
    CHECK(r.str(0, 0) == " @ıvan_bot "); // the collation's own: a dotless ı
    CHECK(r.str(0, 1) == "ivan_bot");
    CHECK(r.str(0, 1) == account_key("IVAN_Bot"));
}

TEST_CASE("on a database with a Turkish collation replies to @Ivan are learned from "
          "(its lower('I') is a dotless ı: the key was no handle, and the replies "
          "were left out)",
          "[db]")
{
    {
        test_db probe;
        auto const r = probe.connect().exec(
            "SELECT current_setting('server_version_num')::int >= 150000, "
            "EXISTS (SELECT FROM pg_collation WHERE collprovider = 'i')");
        if (!r.boolean(0, 0) || !r.boolean(0, 1)) {
            WARN("an ICU locale for a whole database needs PostgreSQL 15 built with ICU");
            return;
        }
    }
    test_db db{"TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'tr-TR' "
               "LOCALE 'C.UTF-8'"};
    db.migrate();
    auto c = db.connect();
    REQUIRE(c.exec("SELECT lower('IVAN')").str(0, 0) == "ıvan");
    add_reply(c, 0, "@Ivan", 0.9);
    add_reply(c, 0, "bob", 0.1);
    auto const r = learn(db, {"--json"});
    CHECK(json::parse(r.out)["accounts"] == 2);
    CHECK_FALSE(json::parse(r.out).contains("not_handle_replies"));
    // μ₀ = 0.5, σ = 0.4; Ivan: μ̂ = (0.9 + 5·0.5)/6 = 0.566667, s = σ/√6 =
    // 0.163299, Φ(0.066667/0.163299) = Φ(0.408248) = 0.658454; bob mirrors it
    CHECK(priority_of(c, "Ivan") == Approx(0.658454).epsilon(0).margin(1e-6));
    CHECK(priority_of(c, "bob") == Approx(0.341546).epsilon(0).margin(1e-6));
}

TEST_CASE("replies younger than min_age_hours are not learned from", "[db]")
{
    test_db db;
    db.migrate();
    auto c = db.connect();
    add_reply(c, 0.5, "young", 0.9); // 12 hours old: below the default 24
    add_reply(c, 2, "grown", 0.1);
    temp_dir dir;
    dir.write("x.yaml",
              "weights:\n  target: {engagement_rate: 0, reach: 0, profile_clicks: "
              "0, follows: 0, attributed_follows: 0, primary_objective_score: 1}\n");
    auto const r =
        run_tool("learn-replies",
                 {"--now", now, "--json", "-q", "--config", dir.path() + "/x.yaml"}, &db);
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    CHECK(json::parse(r.out)["accounts"] == 1);
    CHECK(
        db.count(
            "SELECT count(*) FROM public.discovered_accounts WHERE username = 'young'") ==
        0);
    CHECK(
        db.count(
            "SELECT count(*) FROM public.discovered_accounts WHERE username = 'grown'") ==
        1);
}

TEST_CASE("usernames match by exact lower-case equality: joe_x is not joeAx", "[db]")
{
    test_db db;
    db.migrate();
    auto c = db.connect();
    c.exec("INSERT INTO public.discovered_accounts (username, priority_score) VALUES "
           "('joe_x', 0), ('joeAx', 0), ('Analyst_Amy', 0), ('quiet_one', 0.9)");
    for (int i = 0; i < 10; ++i) {
        add_reply(c, 1, i % 2 ? "Joe_X" : "@joe_x", 0.8); // mixed spellings: one account
        add_reply(c, 1, "analyst_amy", 0.1);
    }
    auto const r = learn(db, {"--json"});
    CHECK(json::parse(r.out)["accounts"] == 2);
    CHECK(priority_of(c, "joe_x") > 0.99);
    CHECK(priority_of(c, "Analyst_Amy") < 0.01);
    // an ILIKE 'joe_x' would have matched joeAx ('_' is a wildcard): defect 11
    CHECK(priority_of(c, "joeAx") == 0.5);
    // never replied to: back to "no evidence"
    CHECK(priority_of(c, "quiet_one") == 0.5);
    CHECK(db.count("SELECT count(*) FROM public.discovered_accounts") == 4);
    // a harvester's new account starts at 0.5 too
    c.exec("INSERT INTO public.discovered_accounts (username) VALUES ('newcomer')");
    CHECK(priority_of(c, "newcomer") == 0.5);
}

TEST_CASE("accounts replied to but missing are inserted once", "[db]")
{
    test_db db;
    db.migrate();
    auto c = db.connect();
    add_reply(c, 1, "Fresh_Face", 0.7, "2026-03-01T12:00:00Z");
    add_reply(c, 0.5, "fresh_face", 0.2);
    learn(db);
    learn(db);
    auto const r = c.exec("SELECT username FROM public.discovered_accounts");
    REQUIRE(r.rows() == 1);
    CHECK(r.str(0, 0) == "fresh_face"); // the newest reply's spelling
}

TEST_CASE("a target written '@Amy ' is stored as Amy and keeps its priority run after "
          "run",
          "[db]")
{
    // stored as written, '@Amy ' matched no later run's key (amy): the next
    // run set it back to 0.5, and plan, which looks up amy, never saw it
    test_db db;
    db.migrate();
    auto c = db.connect();
    add_reply(c, 1, "@Amy ", 0.9, "2026-03-01T12:00:00Z");
    add_reply(c, 1, "bob", 0.1, "2026-03-01T12:00:00Z");
    learn(db);
    auto const first = priority_of(c, "Amy");
    CHECK(first > 0.5);
    learn(db);
    CHECK(priority_of(c, "Amy") == first);
    CHECK(db.count("SELECT count(*) FROM public.discovered_accounts") == 2);
}

TEST_CASE("an account the original bot stored as '@Amy' gets amy's priority under its "
          "own spelling, and plan ranks by it",
          "[db]")
{
    // it was set back to 0.5 each run while a second row, amy, took the
    // priority: the bot's own code, reading '@Amy', never saw it
    test_db db;
    db.migrate();
    auto c = db.connect();
    c.exec("INSERT INTO public.discovered_accounts (username, priority_score) VALUES "
           "('@Amy', 0), (' @Bob ', 0)");
    add_reply(c, 1, "amy", 0.9, "2026-03-01T12:00:00Z");
    add_reply(c, 1, "bob", 0.1, "2026-03-01T12:00:00Z");
    add_reply(c, 1, "carol", 0.5, "2026-03-01T12:00:00Z");
    learn(db);
    auto const amy = priority_of(c, "@Amy");
    CHECK(amy > 0.5);
    CHECK(priority_of(c, " @Bob ") < 0.5);
    CHECK(c.exec("SELECT string_agg(username, ',' ORDER BY username) FROM "
                 "public.discovered_accounts")
              .str(0, 0) == " @Bob ,@Amy,carol");
    learn(db); // and again: nothing moves, nothing is added
    CHECK(priority_of(c, "@Amy") == amy);
    CHECK(db.count("SELECT count(*) FROM public.discovered_accounts") == 3);
    // plan looks an author up as the bot spelled the account (dave, not
    // replied to yet: amy is within the reply cooldown)
    c.exec("INSERT INTO public.discovered_accounts (username, priority_score) VALUES "
           "('@Dave', 0.8)");
    c.exec(
        "INSERT INTO public.reply_opportunities (tweet_id, tweet_author, tweet_content, "
        "opportunity_score, status, discovered_at) VALUES ('77', '@dave', 'charts?', "
        "0.5, 'pending', $1::timestamptz - interval '10 minutes')",
        now);
    auto const r =
        run_tool("plan", {"--now", now, "--replies", "1", "--json", "--dry-run"}, &db);
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    auto const items = json::parse(r.out)["replies"];
    REQUIRE(items.size() == 1);
    CHECK(items[0]["features"]["priority_score"].get<double>() == Approx(0.8));
    // and writes to dave, not "@@dave"
    CHECK_THAT(items[0]["content"].get<std::string>(), Catch::Contains("@dave"));
    CHECK(items[0]["content"].get<std::string>().find("@@") == std::string::npos);
}

TEST_CASE(
    "replies to a target that is no X handle are left out with a warning naming one",
    "[db]")
{
    test_db db;
    db.migrate();
    auto c = db.connect();
    add_reply(c, 1, "amy smith", 0.9);
    add_reply(c, 1, "\x1b[31mred", 0.9);
    add_reply(c, 1, "@", 0.9);
    add_reply(c, 1, "bob", 0.1);
    add_reply(c, 1, "carol", 0.5);
    auto const r =
        run_tool("learn-replies", {"--now", now, "--json"}, &db, {}, score_target_env());
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    CHECK_THAT(r.err,
               Catch::Contains("2 replies of the window to a target_username that is "
                               "no X handle (e.g. "));
    CHECK(r.err.find("\x1b") == std::string::npos); // quoted, never raw
    CHECK(nlohmann::json::parse(r.out)["not_handle_replies"] == 2);
    CHECK(c.exec("SELECT string_agg(username, ',' ORDER BY username) FROM "
                 "public.discovered_accounts")
              .str(0, 0) == "bob,carol");
}

TEST_CASE("running 1 or 10 times at the same --now gives identical rows", "[db]")
{
    test_db db;
    db.migrate();
    auto c = db.connect();
    for (int i = 0; i < 30; ++i) {
        add_reply(c, i * 0.9, "acct_" + std::to_string(i % 7), 0.03 * (i % 11));
    }
    learn(db);
    auto const once = accounts_table(db);
    for (int i = 0; i < 9; ++i) {
        learn(db);
    }
    CHECK(accounts_table(db) == once);
    CHECK(db.count(
              "SELECT sum(rows_out) FROM xloop.job_runs WHERE job = 'learn-replies'") ==
          7); // only the first run wrote anything
}

TEST_CASE("priorities do not depend on how often the job ran before", "[db]")
{
    test_db often;
    test_db once;
    for (auto const* db : {&often, &once}) {
        db->migrate();
        auto c = db->connect();
        for (int i = 0; i < 24; ++i) {
            add_reply(c, i * 1.3, "acct_" + std::to_string(i % 5), 0.04 * (i % 9));
        }
    }
    for (auto const* t :
         {"2026-02-20T12:00:00Z", "2026-02-25T00:00:00Z", "2026-02-28T06:00:00Z", now}) {
        learn(often, {"--now", t});
    }
    learn(once);
    auto scores = [](test_db const& db) {
        auto c = db.connect();
        return c
            .exec("SELECT string_agg(concat_ws('|', username, priority_score, "
                  "reply_performance_score), ',' ORDER BY username) FROM "
                  "public.discovered_accounts")
            .str(0, 0);
    };
    CHECK(scores(often) == scores(once)); // no ×0.95 per run (defect 12)
}

TEST_CASE("replies older than the window no longer count and the last success stays, as "
          "a dry run counts first",
          "[db]")
{
    test_db db;
    db.migrate();
    auto c = db.connect();
    for (int i = 0; i < 5; ++i) {
        add_reply(c, 1, "old_friend", 0.9);
        add_reply(c, 1, "someone_else", 0.1);
    }
    learn(db);
    CHECK(priority_of(c, "old_friend") > 0.9);
    auto const last =
        c.exec("SELECT last_successful_reply_at FROM public.discovered_accounts "
               "WHERE username = 'old_friend'")
            .str(0, 0);
    // 95 days later: outside the 90-day window. A dry run counts both
    // accounts as going back to 0.5 and leaves them as they are; a run sets them.
    auto const dry = json::parse(
        learn(db, {"--now", "2026-06-05T12:00:00Z", "--dry-run", "--json"}).out);
    CHECK(dry["reset"] == 2);
    CHECK(dry["updated"] == 0);
    CHECK(dry["inserted"] == 0);
    CHECK(priority_of(c, "old_friend") > 0.9);
    learn(db, {"--now", "2026-06-05T12:00:00Z"});
    CHECK(priority_of(c, "old_friend") == 0.5);
    CHECK(c.exec("SELECT reply_performance_score IS NULL, last_successful_reply_at::text "
                 "FROM public.discovered_accounts WHERE username = 'old_friend'")
              .boolean(0, 0));
    CHECK(c.exec("SELECT last_successful_reply_at::text FROM public.discovered_accounts "
                 "WHERE "
                 "username = 'old_friend'")
              .str(0, 0) == last);
}

TEST_CASE("a dry run lists the top and bottom accounts and writes nothing", "[db]")
{
    test_db db;
    db.migrate();
    auto c = db.connect();
    for (int i = 0; i < 12; ++i) {
        add_reply(c, 1, "star", 0.9);
        add_reply(c, 1, "dud", 0.05);
        add_reply(c, 1, "middle", 0.4);
    }
    auto const out = json::parse(learn(db, {"--dry-run", "--json"}).out);
    CHECK(out["top"][0]["username"] == "star");
    CHECK(out["bottom"][0]["username"] == "dud");
    CHECK(out["top"][0]["replies"] == 12);
    CHECK(out["replies"] == 36);
    // and the three best and worst in words, without -q
    auto const words = run_tool("learn-replies", {"--dry-run", "--now", now}, &db, {},
                                score_target_env());
    CHECK_THAT(
        words.err,
        Catch::Contains(fmt::format("  best: @star {:.3f} (12 replies), @middle ",
                                    out["top"][0]["priority_score"].get<double>())) &&
            Catch::Contains(
                fmt::format("  worst: @dud {:.3f} (12 replies), @middle ",
                            out["bottom"][0]["priority_score"].get<double>())));
    CHECK(db.count("SELECT count(*) FROM public.discovered_accounts") == 0);
    // it says what a run would write: three accounts to insert
    CHECK(out["inserted"] == 3);
    CHECK_THAT(words.err, Catch::Contains("0 to update, 0 back to 0.5, 3 to insert; "
                                          "nothing written"));
    // an account of one reply is among the three best or worst of four
    add_reply(c, 1, "solo", 0.0);
    auto const four = run_tool("learn-replies", {"--dry-run", "--now", now}, &db, {},
                               score_target_env());
    CHECK_THAT(four.err, Catch::Contains("@solo ") && Catch::Contains(" (1 reply)"));
}

TEST_CASE("a reply with a NaN score is left out with a warning, not a failed run", "[db]")
{
    test_db db;
    db.migrate();
    auto c = db.connect();
    add_reply(c, 0, "amy", 0.9);
    add_reply(c, 30, "bob", 0.1); // as in the test above
    add_reply(c, 1, "amy", 0.5);
    c.exec("UPDATE public.outcomes SET primary_objective_score = 'NaN' WHERE "
           "primary_objective_score = 0.5");
    auto const r = learn(db);
    CHECK(r.err.find("1 reply of the window has a NaN") != std::string::npos);
    // the same priorities as without the NaN reply (worked out in the test above)
    CHECK(priority_of(c, "amy") == Approx(0.613585).margin(1e-6));
    CHECK(priority_of(c, "bob") == Approx(0.381512).margin(1e-6));
}

TEST_CASE("a NaN engagement rate is missing from the target's scales, as NULL is: "
          "the same priorities",
          "[db]")
{
    // The default target: the engagement rate is the only component that
    // varies (reach is the same everywhere), amy's high and bob's low.
    auto const priorities = [](char const* cat_er) {
        test_db db;
        db.migrate();
        auto c = db.connect();
        add_reply(c, 1, "amy", 0.5);
        add_reply(c, 2, "amy", 0.5);
        add_reply(c, 3, "bob", 0.5);
        add_reply(c, 4, "bob", 0.5);
        add_reply(c, 5, "cat", 0.5);
        c.exec(fmt::format(
            "UPDATE public.outcomes o SET impressions = 100, engagement_rate = CASE "
            "c.target_username WHEN 'amy' THEN 0.08 WHEN 'bob' THEN 0.01 ELSE {} END "
            "FROM public.content_generation_metadata_comprehensive c WHERE "
            "c.decision_id = o.decision_id",
            cat_er));
        auto const r = run_tool("learn-replies", {"--now", now, "-q"}, &db);
        INFO(r.err);
        REQUIRE(r.exit_code == 0);
        return std::pair{priority_of(c, "amy"), priority_of(c, "bob")};
    };
    auto const missing = priorities("NULL");
    CHECK(missing.first > 0.5);
    CHECK(missing.second < 0.5);
    auto const nan = priorities("'NaN'");
    CHECK(nan.first == Approx(missing.first));
    CHECK(nan.second == Approx(missing.second));
}

TEST_CASE("a reply whose follows were not measured counts as average for its account, "
          "not as a reply that brought none",
          "[db]")
{
    test_db db;
    db.migrate();
    auto c = db.connect();
    for (int i = 0; i < 10; ++i) {
        add_reply(c, 1 + i * 0.1, i % 2 ? "amy" : "bob", 0.5);
    }
    // bob's replies: 8–10 follows, measured; amy's: 10–12, but for three of
    // five no interval was measured (gain × confidence 0 = 0)
    set_attributed_follows(
        c, "CASE WHEN target_username = 'bob' THEN 8 ELSE 10 END + id % 3",
        "CASE WHEN target_username = 'bob' OR id > 6 THEN 1 ELSE 0 END");
    temp_dir dir;
    dir.write("x.yaml", "weights:\n  target: {engagement_rate: 0, reach: 0, "
                        "profile_clicks: 0, follows: 0, attributed_follows: 1, "
                        "primary_objective_score: 0}\n");
    learn(db, {"--config", dir.path() + "/x.yaml"});
    // as gain × confidence amy's replies averaged 4.6 against bob's 8.8
    CHECK(priority_of(c, "amy") > 0.5);
    CHECK(priority_of(c, "bob") < 0.5);
}

TEST_CASE("replies that name no account answered (the original bot's) are counted and "
          "said to be why nothing is learned, by learn-replies and validate",
          "[db]")
{
    test_db db;
    db.migrate();
    auto c = db.connect();
    add_reply(c, 1, "unnamed_1", 0.4);
    add_reply(c, 2, "unnamed_2", 0.6);
    add_reply(c, 3, "@", 0.5);
    add_reply(c, 95, "unnamed_3", 0.5); // older than the 90-day window
    // younger than replies.min_age_hours: not learned from yet, so not counted
    // either, by learn-replies or by validate
    add_reply(c, 0.2, "unnamed_4", 0.5);
    c.exec("UPDATE public.content_generation_metadata_comprehensive SET target_username "
           "= CASE target_username WHEN 'unnamed_2' THEN ' ' WHEN '@' THEN '@' END");
    // the default config: replies.min_age_hours 24, as validate reads it
    auto const r = run_tool("learn-replies", {"--json", "--now", now, "-q"}, &db);
    REQUIRE(r.exit_code == 0);
    CHECK(r.err.find("3 replies of the last 90 days name no account answered "
                     "(target_username is empty: written by another program") !=
          std::string::npos);
    CHECK(json::parse(r.out)["unnamed_replies"] == 3);
    CHECK(json::parse(r.out)["replies"] == 0);

    auto const v = run_tool("validate", {"--json", "--now", now}, &db);
    auto const check = check_named(json::parse(v.out), "reply_priorities");
    CHECK(check["status"] == "warn");
    CHECK(check["numbers"]["replies_naming_no_account"] == 3);
    CHECK(check["message"].get<std::string>().starts_with(
        "3 replies of the last 90 days name no account answered"));

    // one reply that names its account: learned from, and nothing more said
    add_reply(c, 1, "amy", 0.9);
    auto const named = learn(db, {"--json"});
    CHECK(named.err.find("name no account") == std::string::npos);
    CHECK(!json::parse(named.out).contains("unnamed_replies"));
    CHECK(json::parse(named.out)["replies"] == 1);
}

TEST_CASE("replies to the account itself (x_api.username) are left out of what is "
          "learned, and no priority is stored for it",
          "[db]")
{
    test_db db;
    db.migrate();
    auto c = db.connect();
    add_reply(c, 0, "amy", 0.9);
    add_reply(c, 30, "bob", 0.1);     // as in the first test
    add_reply(c, 1, "@Me_Bot ", 0.0); // its own thread, as the original bot wrote it
    add_reply(c, 2, "me_bot", 0.2);
    c.exec("INSERT INTO public.discovered_accounts (username, priority_score) VALUES "
           "('me_bot', 0.9)"); // learned by an older build
    temp_dir dir;
    dir.write("x.yaml",
              "x_api:\n  username: '@ME_bot'\n"
              "weights:\n  target: {engagement_rate: 0, reach: 0, profile_clicks: "
              "0, follows: 0, attributed_follows: 0, primary_objective_score: 1}\n"
              "replies:\n  min_age_hours: 0\n");
    auto const r =
        run_tool("learn-replies",
                 {"--now", now, "--json", "--config", dir.path() + "/x.yaml"}, &db);
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    CHECK(r.err.find("2 replies of the window answer the account itself (@ME_bot): left "
                     "out") != std::string::npos);
    auto const j = json::parse(r.out);
    CHECK(j["own_replies"] == 2);
    CHECK(j["replies"] == 2);
    CHECK(j["accounts"] == 2);
    // μ₀ and σ over amy's and bob's replies alone: the first test's values
    CHECK(priority_of(c, "amy") == Approx(0.613585).margin(1e-6));
    CHECK(priority_of(c, "bob") == Approx(0.381512).margin(1e-6));
    // its own row goes back to "no evidence", as an account not replied to
    CHECK(priority_of(c, "me_bot") == Approx(0.5));
    CHECK(db.count("SELECT count(*) FROM public.discovered_accounts") == 3);

    // validate counts the accounts replied to as learn-replies does: amy and bob
    auto const v = run_tool(
        "validate", {"--json", "--now", now, "--config", dir.path() + "/x.yaml"}, &db);
    auto const check = check_named(json::parse(v.out), "reply_priorities");
    CHECK(check["numbers"]["accounts_replied_to"] == 2);
    CHECK(check["numbers"]["accounts_with_priority"] == 2);
    CHECK(check["status"] == "ok");
}
