#include "sampling.hpp"
#include "test_db_fixture.hpp"

#include <catch2/catch.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <map>
#include <thread>

using namespace xloop;
using namespace xloop::test;
using nlohmann::json;

namespace {

constexpr char const* now = "2026-03-02T12:00:00Z";

// One posted decision with its v2 outcome, `age_days` before `now`.
void add_post(db_connection& c, double age_days, std::string const& slot, double score,
              std::string const& generator = "dataNerd",
              std::string const& type = "single")
{
    c.exec(
        "WITH c AS (INSERT INTO public.content_generation_metadata_comprehensive "
        "(status, tweet_id, posted_at, decision_type, content_slot, generator_name, "
        "raw_topic, tone, hook_type) VALUES ('posted', md5(random()::text), "
        "$1::timestamptz - make_interval(secs => $2::float8 * 86400), $3, $4, $5, 'sql', "
        "'calm', 'question') RETURNING decision_id, tweet_id) "
        "INSERT INTO public.outcomes (decision_id, tweet_id, primary_objective_score, "
        "followers_gained_weighted) SELECT decision_id, tweet_id, $6, 2 FROM c",
        now, age_days, type, slot, generator, score);
}

// n posts each of how_to scoring `how_to` and myth_busting scoring
// 1 − how_to, from `age` days old on, `step` days apart; ± 0.1 in turn so
// that noise has a size.
void add_slot_pairs(db_connection& c, double age, int n, double step, double how_to)
{
    for (int i = 0; i < n; ++i) {
        double const e = i % 2 ? 0.1 : -0.1;
        add_post(c, age + step * i, "how_to", how_to + e);
        add_post(c, age + step * i, "myth_busting", 1 - how_to + e);
    }
}

// `n` posts in bulk, one statement.
void add_posts(db_connection& c, int n, double score)
{
    c.exec(
        "WITH c AS (INSERT INTO public.content_generation_metadata_comprehensive "
        "(status, tweet_id, posted_at, decision_type, content_slot, generator_name) "
        "SELECT 'posted', 't' || g, $1::timestamptz - make_interval(mins => g % 5000), "
        "CASE WHEN g % 3 = 0 THEN 'reply' ELSE 'single' END, "
        "CASE WHEN g % 2 = 0 THEN 'how_to' ELSE 'myth_busting' END, 'data_nerd' "
        "FROM generate_series(1, $2::int) g RETURNING decision_id, tweet_id) "
        "INSERT INTO public.outcomes (decision_id, tweet_id, primary_objective_score) "
        "SELECT decision_id, tweet_id, $3 FROM c",
        now, n, score);
}

json run_json(test_db const& db, std::vector<std::string> args, int expect = 0)
{
    if (std::find(args.begin(), args.end(), "--now") == args.end()) {
        args.insert(args.end(), {"--now", now});
    }
    args.insert(args.end(), {"--json", "-q"});
    auto const r = run_tool("build-weights", args, &db, {}, score_target_env());
    INFO(r.err << r.out);
    REQUIRE(r.exit_code == expect);
    return json::parse(r.out);
}

// The target of tests/fixtures/score_target.yaml: the score itself.
constexpr char const* score_target_line =
    "  target: {engagement_rate: 0, reach: 0, profile_clicks: 0, follows: 0, "
    "attributed_follows: 0, primary_objective_score: 1}\n";

// A dry run with `weights` (YAML lines under weights:) as its config.
json dry_run_with(test_db const& db, std::string const& weights)
{
    temp_dir dir;
    dir.write("x.yaml", "weights:\n" + weights);
    return run_json(db, {"--dry-run", "--config", dir.path() + "/x.yaml"});
}

// A dry run with the score as the target and rows in bands of `band_days`
// (0: no change test).
json dry_run_in_bands(test_db const& db, int band_days)
{
    return dry_run_with(db, "  change_window_days: " + std::to_string(band_days) + "\n" +
                                score_target_line);
}

// content_slot's change in a map's posteriors: null where none was found.
json slot_change(json const& out)
{
    return out["posteriors"]["_prior"]["content_slot"].value("changed", json{});
}

// 20 posts, how_to and myth_busting in turn, how_to reaching ~10× more
// (1000 against 100 impressions, plus some noise so that each value has a
// spread); `also`: more SET items for every outcome.
void add_reach_pairs(db_connection& c, std::string const& also = "")
{
    for (int i = 0; i < 20; ++i) {
        add_post(c, 2 + i * 0.1, i % 2 ? "how_to" : "myth_busting", 0.3);
    }
    c.exec("UPDATE public.outcomes o SET impressions = CASE WHEN m.content_slot = "
           "'how_to' THEN 1000 ELSE 100 END + m.id % 7" +
           also +
           " FROM public.content_generation_metadata_comprehensive m "
           "WHERE m.decision_id = o.decision_id");
}

} // namespace

TEST_CASE("build-weights writes one active map from every row in the window", "[db]")
{
    test_db db;
    db.migrate();
    auto c = db.connect();
    add_posts(c, 1500, 0.3); // more than the REST API's silent 1000-row cap (defect 6)
    auto const out = run_json(db, {});
    CHECK(out["sample_size"] == 1500);
    auto const r =
        c.exec("SELECT sample_size, total_posts_analyzed, is_active, version, "
               "weights->'decision_type' ? 'reply', weights->'decision_type' ? "
               "'single', computed_at = $1::timestamptz, "
               "date_range_end - date_range_start = interval '60 days', "
               "avg_primary_objective_score FROM public.learning_model_weights",
               now);
    REQUIRE(r.rows() == 1);
    CHECK(r.i64(0, 0) == 1500);
    CHECK(r.i64(0, 1) == 1500);
    CHECK(r.boolean(0, 2));
    CHECK(r.i64(0, 3) == 1);
    CHECK(r.boolean(0, 4)); // replies and posts both present
    CHECK(r.boolean(0, 5));
    CHECK(r.boolean(0, 6));
    CHECK(r.boolean(0, 7));
    CHECK(r.f64(0, 8) == Approx(0.3));
    // a second run, an hour on, makes a second map active and the first inactive
    run_json(db, {"--now", "2026-03-02T13:00:00Z"});
    CHECK(db.count("SELECT count(*) FROM public.learning_model_weights") == 2);
    CHECK(db.count("SELECT version FROM public.learning_model_weights WHERE is_active") ==
          2);
    CHECK(db.count("SELECT count(*) FROM xloop.job_runs WHERE job = 'build-weights' AND "
                   "status = 'ok' AND rows_in = 1500 AND rows_out = 1") == 2);
}

TEST_CASE("fewer rows than min_posts is a skipped run that writes nothing", "[db]")
{
    test_db db;
    db.migrate();
    auto c = db.connect();
    for (int i = 0; i < 9; ++i) {
        add_post(c, 1, "how_to", 0.2);
    }
    add_post(c, 400, "how_to", 0.2); // older than max_window_days: not counted
    auto const out = run_json(db, {});
    CHECK(out["status"] == "skipped");
    CHECK(out["reason"].get<std::string>().rfind("9 rows with v2 metrics", 0) == 0);
    CHECK(db.count("SELECT count(*) FROM public.learning_model_weights") == 0);
}

TEST_CASE("a skipped run counts the posts measured but not scored (an adopted "
          "database's) and says which run scores them",
          "[db]")
{
    test_db db;
    db.migrate();
    auto c = db.connect();
    for (int i = 0; i < 4; ++i) {
        add_post(c, 2, "how_to", 0.2);
        add_post(c, 3 + i, "how_to", 0.2);
    }
    add_post(c, 90, "how_to", 0.2); // older than the window: not counted
    // the original bot's outcomes: metrics, no v2 score; one post with none at all
    c.exec("UPDATE public.outcomes SET primary_objective_score = NULL, likes = 3 WHERE "
           "decision_id IN (SELECT decision_id FROM "
           "public.content_generation_metadata_comprehensive WHERE posted_at < "
           "$1::timestamptz - interval '2 days 12 hours')",
           now);
    c.exec("DELETE FROM public.outcomes WHERE decision_id = (SELECT decision_id FROM "
           "public.content_generation_metadata_comprehensive WHERE posted_at BETWEEN "
           "$1::timestamptz - interval '6 days 12 hours' AND $1::timestamptz - interval "
           "'5 days 12 hours')",
           now);
    auto const out = run_json(db, {});
    CHECK(out["status"] == "skipped");
    CHECK(out["sample_size"] == 4);
    CHECK(out["without_v2_metrics"] == 3);
    CHECK(
        out["reason"] ==
        "4 rows with v2 metrics in the last 60 days, fewer than weights.min_posts (10); "
        "no map written; 3 posts and replies of the window have metrics but no v2 "
        "score (an adopted database's): xloop-scrape-metrics scores those posted in "
        "the last 31 days");
}

TEST_CASE(
    "posts younger than min_age_hours are not learned from: their counts still grow",
    "[db]")
{
    test_db db;
    db.migrate();
    auto c = db.connect();
    for (int i = 0; i < 10; ++i) {
        add_post(c, 2, "mature", 0.5);
        add_post(c, 0.5, "growing", 0.1); // 12 hours old: below the default 24
    }
    // a dry run with the score as its target and `weights_extra` in the config
    auto const learn = [&](std::string const& weights_extra) {
        return dry_run_with(db, weights_extra + score_target_line);
    };
    auto const out = learn("");
    CHECK(out["sample_size"] == 10);
    CHECK(out["posteriors"]["content_slot"].contains("mature"));
    CHECK_FALSE(out["posteriors"]["content_slot"].contains("growing"));
    // 11 hours: the 12-hour-old posts count again
    CHECK(learn("  min_age_hours: 11\n")["sample_size"] == 20);
}

TEST_CASE("rows older than the window are ignored and recent ones weigh more", "[db]")
{
    test_db db;
    db.migrate();
    auto c = db.connect();
    for (int i = 0; i < 10; ++i) {
        add_post(c, 0, "fresh", 0.0);
        add_post(c, 14, "aged", 1.0); // one half-life old: weight 0.5
        add_post(c, 61, "ancient", 1.0);
    }
    temp_dir dir;
    dir.write("x.yaml", std::string{"weights:\n  half_life_days: 14\n  min_age_hours: 0\n"
                                    "  window_posts: 0\n"} +
                            score_target_line);
    auto const config = dir.path() + "/x.yaml";
    auto const out = run_json(db, {"--dry-run", "--config", config});
    CHECK(out["sample_size"] == 20);
    auto const& p = out["posteriors"];
    CHECK_FALSE(p["content_slot"].contains("ancient"));
    // μ₀ = Σw·y / Σw = (10·0.5·1) / (10·1 + 10·0.5) = 1/3
    CHECK(p["_prior"]["content_slot"]["mean"].get<double>() ==
          Approx(1.0 / 3).margin(1e-9));
    // n_eff of "aged": W² / Σw² = 25 / 2.5 = 10; of all 20 rows together it would differ
    CHECK(p["content_slot"]["aged"]["n_eff"].get<double>() == Approx(10).margin(1e-9));
    CHECK(p["content_slot"]["aged"]["n"] == 10);
    // the same rows seen 14 days later: every weight halves, so μ₀ is unchanged,
    // but "fresh" is now 14 d and "aged" 28 d old: (10·0.25) / (10·0.5 + 10·0.25) = 1/3
    auto const later =
        run_json(db, {"--dry-run", "--config", config, "--now", "2026-03-16T12:00:00Z"});
    CHECK(later["posteriors"]["_prior"]["content_slot"]["mean"].get<double>() ==
          Approx(1.0 / 3).margin(1e-9));
    CHECK(db.count("SELECT count(*) FROM public.learning_model_weights") == 0);
}

TEST_CASE("an account that posts once a day learns from its newest 180 posts, not its "
          "last 60 days",
          "[db]")
{
    test_db db;
    db.migrate();
    auto c = db.connect();
    // one post a day for 250 days (ages 1.5 to 250.5), and a reply a day that
    // does not count towards the 180
    c.exec("WITH c AS (INSERT INTO public.content_generation_metadata_comprehensive "
           "(status, tweet_id, posted_at, decision_type, content_slot, generator_name) "
           "SELECT 'posted', 't' || g || d, $1::timestamptz - make_interval(secs => (g + "
           "0.5) * 86400), d, 'how_to', 'data_nerd' FROM generate_series(1, 250) g, "
           "unnest(ARRAY['single', 'reply']) d RETURNING decision_id, tweet_id) "
           "INSERT INTO public.outcomes (decision_id, tweet_id, primary_objective_score) "
           "SELECT decision_id, tweet_id, 0.3 FROM c",
           now);
    auto const learn = [&](std::string const& weights) {
        temp_dir dir;
        dir.write("x.yaml",
                  "weights:\n  min_age_hours: 0\n" + weights + score_target_line);
        return run_json(db, {"--config", dir.path() + "/x.yaml"});
    };
    // the newest 180 posts go back 180.5 days: their replies too, half-life
    // 60·180.5/60 (the second the window starts before the oldest aside)
    auto const out = learn("");
    CHECK(out["sample_size"] == 2 * 180);
    CHECK(out["window_days"].get<double>() == Approx(180.5).margin(1.0 / 86400));
    CHECK(out["half_life_days"].get<double>() == Approx(180.5).margin(1.0 / 86400));
    CHECK(
        db.count("SELECT count(*) FROM public.learning_model_weights WHERE is_active AND "
                 "date_range_end - date_range_start BETWEEN interval '180 days 12 hours' "
                 "AND interval '180 days 12 hours 1 second'") == 1);
    // validate says how far back the map reaches
    auto const v = run_tool("validate", {"--now", now, "--json", "-q"}, &db);
    auto const map = check_named(json::parse(v.out), "weight_map");
    CHECK(map["numbers"]["window_days"] == 180.5);
    CHECK(map["message"].get<std::string>().find(
              "learned from 360 posts and replies of the last 181 days") !=
          std::string::npos);
    // as configured: 60 days (59 posts and their replies), or at most 100
    auto const fixed = learn("  window_posts: 0\n");
    CHECK(fixed["sample_size"] == 2 * 59);
    CHECK(fixed["window_days"] == 60);
    CHECK(fixed["half_life_days"] == 60);
    auto const capped = learn("  max_window_days: 100\n  half_life_days: 30\n");
    CHECK(capped["sample_size"] == 2 * 99);
    CHECK(capped["half_life_days"] == 50);
}

TEST_CASE("a dimension whose best value changed lately is learned from its recent posts "
          "only",
          "[db]")
{
    test_db db;
    db.migrate();
    auto c = db.connect();
    // Before the last 14 days "how_to" scored 1 and "myth_busting" 0 (20
    // posts each); since then the other way round (8 each). The scores vary
    // by ±0.1 so that noise has a size.
    add_slot_pairs(c, 20, 20, 1, 1);
    add_slot_pairs(c, 2, 8, 1, 0);
    auto const weight = [](json const& out, char const* v) {
        return out["weights"]["content_slot"][v].get<double>();
    };
    // All 56 posts at a 60-day half-life: how_to's mean is still ~0.7.
    auto const all = dry_run_in_bands(db, 0);
    CHECK(weight(all, "how_to") > weight(all, "myth_busting"));
    CHECK(slot_change(all).is_null());
    // The test: Δ = −1 and +1 against a within sd of 0.1; far beyond noise.
    auto const out = run_json(db, {"--dry-run"});
    auto const changed = slot_change(out);
    REQUIRE(changed.is_object());
    CHECK(changed["statistic"].get<double>() > changed["threshold"].get<double>());
    CHECK(changed["learned_from_days"] == 14);
    CHECK(out["changed"] == json::array({"content_slot"}));
    CHECK(weight(out, "myth_busting") > weight(out, "how_to"));
    CHECK(out["posteriors"]["content_slot"]["how_to"]["n"] == 8);
    // Every other dimension has one value: nothing to rank, all posts count.
    CHECK_FALSE(out["posteriors"]["_prior"]["tone"].contains("changed"));
    CHECK(out["posteriors"]["tone"]["calm"]["n"] == 56);
}

TEST_CASE("a change weeks ago is learned from every day since it, not from the last 14 "
          "only",
          "[db]")
{
    test_db db;
    db.migrate();
    auto c = db.connect();
    // Until 30 days ago how_to scored 1 and myth_busting 0 (ages 30-49, 20
    // posts each); since then the other way round (ages 2, 4 .. 26: 13 each),
    // ± 0.1 noise. In bands of 14 days (0-14, 14-28, 28-42, 42-60) the test
    // tries each split: at 14 days the older side holds 7 posts of each
    // value's new level among 20 of its old one (Δ = ∓20/27 against 6 recent
    // posts a value); at 28 only old ones (Δ = ∓1, 13 recent posts a value);
    // at 42 the recent side holds 12 old posts (Δ = ∓0.52). The clearest
    // split is 28 days, and the map learns from them.
    add_slot_pairs(c, 30, 20, 1, 1);
    add_slot_pairs(c, 2, 13, 2, 0);
    auto const out = dry_run_in_bands(db, 14);
    auto const changed = slot_change(out);
    REQUIRE(changed.is_object());
    CHECK(changed["learned_from_days"] == 28);
    CHECK(out["posteriors"]["content_slot"]["how_to"]["n"] == 13);
    CHECK(out["posteriors"]["content_slot"]["myth_busting"]["n"] == 13);
    CHECK(out["weights"]["content_slot"]["myth_busting"].get<double>() > 0.9);
    // With bands of 30 days the only split is at 30: the change's own day.
    auto const wide = dry_run_in_bands(db, 30);
    auto const at30 = slot_change(wide);
    REQUIRE(at30.is_object());
    CHECK(at30["learned_from_days"] == 30);
    CHECK(wide["posteriors"]["content_slot"]["how_to"]["n"] == 13);
}

TEST_CASE("a value posted with weaker companions lately is not a change: each period's "
          "values are compared net of the other dimensions' values",
          "[db]")
{
    test_db db;
    db.migrate();
    auto c = db.connect();
    // The content slot does nothing; the "story" generator scores 1 more than
    // "plain" (± 0.1 noise). Before the last 14 days each slot had each
    // generator half the time (50 posts each); since then how_to had "story"
    // 17 times in 20 and myth_busting 3 times in 20, as when the loop settles
    // on a generator while one slot is drawn mostly early in the fortnight.
    for (int i = 0; i < 50; ++i) {
        double const e = (i / 2) % 2 ? 0.1 : -0.1;
        bool const story = i % 2 == 0;
        add_post(c, 15 + i * 0.8, "how_to", (story ? 1 : 0) + e,
                 story ? "story" : "plain");
        add_post(c, 15 + i * 0.8, "myth_busting", (story ? 1 : 0) - e,
                 story ? "story" : "plain");
    }
    for (int i = 0; i < 20; ++i) {
        double const e = (i / 8) % 2 ? 0.1 : -0.1;
        bool const story = i % 8 != 0;
        add_post(c, 1.5 + i * 0.6, "how_to", (story ? 1 : 0) + e,
                 story ? "story" : "plain");
        add_post(c, 1.5 + i * 0.6, "myth_busting", (story ? 0 : 1) + e,
                 story ? "plain" : "story");
    }
    // Raw means moved by +0.33 and −0.38 (recency-weighted, half-life 60 d),
    // h ≈ 1/(1/20 + 1/50) = 14.3 each, a pooled within variance of 0.22
    // (mostly the generator's): T = 15.8 against χ²₁'s 10.8 at p = 0.001, a
    // change. Net of the generator neither slot moved.
    auto const out = dry_run_with(db, score_target_line);
    CHECK(slot_change(out).is_null());
    CHECK_FALSE(out.contains("changed"));
    CHECK(out["posteriors"]["content_slot"]["how_to"]["n"] == 70);
    // The generator's values are learned from every post and story is best.
    CHECK(out["weights"]["generator_name"]["story"].get<double>() >
          out["weights"]["generator_name"]["plain"].get<double>());
}

TEST_CASE("replying to better accounts is not a change: replies are compared account by "
          "account",
          "[db]")
{
    test_db db;
    db.migrate();
    auto c = db.connect();
    auto const reply = [&](double age, double score, char const* account) {
        add_post(c, age, "reply", score, "dataNerd", "reply");
        c.exec("UPDATE public.content_generation_metadata_comprehensive SET "
               "target_username = $1 WHERE decision_type = 'reply' AND target_username "
               "IS NULL",
               account);
    };
    // Posts rank the same throughout: how_to 0.6, myth_busting 0.4 (± 0.1).
    for (int i = 0; i < 20; ++i) {
        double const e = i % 2 ? 0.1 : -0.1;
        add_post(c, 20 + i, "how_to", 0.6 + e);
        add_post(c, 20 + i, "myth_busting", 0.4 + e);
        reply(20 + i, 0.1 + e, " @Weak"); // the same account, as learn-replies keys it
    }
    for (int i = 0; i < 8; ++i) {
        double const e = i % 2 ? 0.1 : -0.1;
        add_post(c, 2 + i, "how_to", 0.6 + e);
        add_post(c, 2 + i, "myth_busting", 0.4 + e);
        reply(2 + i, 0.1 + e, "weak");
    }
    // Lately most replies went to a better account: replies' mean rose from
    // 0.1 to 0.67, the posts' did not. Taken whole, replies' rise would make
    // every post value look as if it fell; account by account nothing moved.
    for (int i = 0; i < 20; ++i) {
        reply(2 + i * 0.5, 0.9 + (i % 2 ? 0.1 : -0.1), "strong");
    }
    auto const out = dry_run_with(db, score_target_line);
    CHECK(slot_change(out).is_null());
    CHECK_FALSE(out.contains("changed"));
    CHECK(out["posteriors"]["content_slot"]["how_to"]["n"] == 28);
    // The weak account's own replies rose by 0.5 too: the account's level
    // moved and the posts did not follow it, which is a change of the posts
    // against replies.
    c.exec("UPDATE public.outcomes o SET primary_objective_score = "
           "primary_objective_score + 0.5 FROM "
           "public.content_generation_metadata_comprehensive m WHERE m.decision_id = "
           "o.decision_id AND m.target_username = 'weak' AND m.posted_at > "
           "$1::timestamptz - interval '14 days'",
           now);
    auto const moved = dry_run_with(db, score_target_line);
    CHECK(slot_change(moved).is_object());
}

TEST_CASE("decay depends on --now, not on how often the job runs", "[db]")
{
    test_db db;
    db.migrate();
    auto c = db.connect();
    for (int i = 0; i < 12; ++i) {
        add_post(c, i * 3.0, i % 2 ? "how_to" : "myth_busting", 0.05 * i);
    }
    auto const once = run_json(db, {});
    for (int i = 0; i < 5; ++i) {
        run_json(db, {});
    }
    auto const r = c.exec("SELECT DISTINCT weights::text, posteriors::text FROM "
                          "public.learning_model_weights");
    CHECK(r.rows() == 1); // six runs at the same --now: six identical maps
    CHECK(json::parse(r.str(0, 0)) == once["weights"]);
}

TEST_CASE("dataNerd, data_nerd and Data Nerd are one arm", "[db]")
{
    test_db db;
    db.migrate();
    auto c = db.connect();
    for (auto const* g : {"dataNerd", "data_nerd", "Data Nerd", "dataNerd"}) {
        for (int i = 0; i < 3; ++i) {
            add_post(c, 1, "how_to", 0.4, g);
        }
    }
    auto const out = run_json(db, {"--dry-run"});
    auto const& gen = out["weights"]["generator_name"];
    CHECK(gen.size() == 1);
    CHECK(gen["data_nerd"].get<double>() == Approx(1.0));
    CHECK(out["posteriors"]["generator_name"]["data_nerd"]["n"] == 12);
}

TEST_CASE("a name in another script is one arm whatever its case", "[db]")
{
    test_db db;
    db.migrate();
    auto c = db.connect();
    for (auto const* g :
         {"DatenÜbersicht", "datenÜbersicht", "daten übersicht", "DATEN-ÜBERSICHT"}) {
        for (int i = 0; i < 3; ++i) {
            add_post(c, 1, "how_to", 0.4, g);
        }
    }
    auto const out = run_json(db, {});
    auto const& gen = out["weights"]["generator_name"];
    CHECK(gen.size() == 1);
    CHECK(out["posteriors"]["generator_name"]["daten_übersicht"]["n"] == 12);
    // the stored map has the same key
    CHECK(c.exec("SELECT weights->'generator_name' ? 'daten_übersicht' FROM "
                 "public.learning_model_weights WHERE is_active")
              .boolean(0, 0));
}

TEST_CASE("the same inputs give the same map, byte for byte", "[db]")
{
    test_db db;
    db.migrate();
    auto c = db.connect();
    for (int i = 0; i < 40; ++i) {
        add_post(c, i * 0.7, i % 4 ? "how_to" : "hot_take", 0.01 * (i % 7), "dataNerd",
                 i % 5 ? "single" : "thread");
    }
    auto const a = run_tool("build-weights", {"--dry-run", "--json", "--now", now, "-q"},
                            &db, {}, score_target_env());
    auto const b = run_tool("build-weights", {"--dry-run", "--json", "--now", now, "-q"},
                            &db, {}, score_target_env());
    REQUIRE(a.exit_code == 0);
    CHECK(json::parse(a.out)["weights"].dump() == json::parse(b.out)["weights"].dump());
    CHECK(json::parse(a.out)["posteriors"].dump() ==
          json::parse(b.out)["posteriors"].dump());
    // and the dry run wrote nothing
    CHECK(db.count("SELECT count(*) FROM public.learning_model_weights") == 0);
    CHECK(db.count("SELECT count(*) FROM xloop.job_runs") == 1); // migrate's own row
}

TEST_CASE("a second run at the same time writes no second map: the same inputs leave "
          "the same database",
          "[db]")
{
    test_db db;
    db.migrate();
    auto c = db.connect();
    add_posts(c, 30, 0.4);
    auto const first = run_json(db, {});
    auto const again = run_json(db, {});
    CHECK(again["map_id"] == first["map_id"]);
    CHECK(again["version"] == first["version"]);
    CHECK(again["unchanged"] == true);
    CHECK(db.count("SELECT count(*) FROM public.learning_model_weights") == 1);
    CHECK(db.count("SELECT count(*) FROM public.learning_model_weights WHERE "
                   "is_active") == 1);
    // a new row in the window: a new map, the old one kept inactive
    add_post(c, 0.5, "how_to", 0.9);
    auto const more = run_json(db, {});
    CHECK(more["map_id"] != first["map_id"]);
    CHECK_FALSE(more.contains("unchanged"));
    CHECK(db.count("SELECT count(*) FROM public.learning_model_weights") == 2);
    // and later, from the same rows: computed again at its own time
    auto const later = run_json(db, {"--now", "2026-03-02T18:00:00Z"});
    CHECK(later["map_id"] != more["map_id"]);
    CHECK(db.count("SELECT count(*) FROM public.learning_model_weights WHERE "
                   "is_active AND computed_at = '2026-03-02T18:00:00Z'") == 1);
}

TEST_CASE("a failure after the insert leaves the previous map active", "[db]")
{
    test_db db;
    db.migrate();
    auto c = db.connect();
    add_posts(c, 20, 0.2);
    run_json(db, {});
    auto const first =
        db.count("SELECT id FROM public.learning_model_weights WHERE is_active");
    c.exec("CREATE FUNCTION fail_after_insert() RETURNS trigger LANGUAGE plpgsql AS "
           "$$ BEGIN RAISE EXCEPTION 'injected failure'; END $$");
    c.exec(
        "CREATE TRIGGER fail_after_insert AFTER INSERT ON public.learning_model_weights "
        "FOR EACH ROW EXECUTE FUNCTION fail_after_insert()");
    auto const r = run_tool("build-weights", {"--now", "2026-03-02T13:00:00Z", "-q"}, &db,
                            {}, score_target_env());
    // a trigger of the database's own: its owner's to fix
    CHECK(r.exit_code == 78);
    CHECK(r.err.find("injected failure") != std::string::npos);
    CHECK(r.err.find("in PL/pgSQL function fail_after_insert() line 1 at RAISE") !=
          std::string::npos);
    CHECK(db.count("SELECT count(*) FROM public.learning_model_weights") == 1);
    CHECK(db.count("SELECT id FROM public.learning_model_weights WHERE is_active") ==
          first);
    CHECK(db.count("SELECT count(*) FROM xloop.job_runs WHERE job = 'build-weights' AND "
                   "status = 'failed'") == 1);
}

TEST_CASE(
    "a version column at its type's limit is a data error that keeps the active map",
    "[db]")
{
    test_db db;
    db.migrate();
    auto c = db.connect();
    add_posts(c, 20, 0.2);
    run_json(db, {});
    c.exec("UPDATE public.learning_model_weights SET version = 2147483647");
    auto const r = run_tool("build-weights", {"--now", "2026-03-02T13:00:00Z", "-q"}, &db,
                            {}, score_target_env());
    CHECK(r.exit_code == 65);
    CHECK(r.err.find("public.learning_model_weights: the next version") !=
          std::string::npos);
    CHECK(r.err.find("ALTER COLUMN version TYPE bigint") != std::string::npos);
    CHECK(r.err.find("INSERT") == std::string::npos); // no statement dump
    CHECK(db.count("SELECT count(*) FROM public.learning_model_weights") == 1);
    CHECK(
        db.count("SELECT count(*) FROM public.learning_model_weights WHERE is_active AND "
                 "version = 2147483647") == 1);
}

TEST_CASE("concurrent build-weights runs never leave two active maps", "[db]")
{
    test_db db;
    db.migrate();
    auto c = db.connect();
    add_posts(c, 20000, 0.2);
    std::vector<process_result> results(4);
    std::vector<std::thread> threads;
    for (auto& res : results) {
        threads.emplace_back([&] {
            res = run_tool("build-weights", {"--now", now, "-q", "--json"}, &db, {},
                           score_target_env());
        });
    }
    for (auto& t : threads) {
        t.join();
    }
    // A run that starts after another ended finds its map active and writes
    // none (on a busy machine the four need not overlap).
    int wrote = 0;
    for (auto const& res : results) {
        INFO(res.err);
        CHECK((res.exit_code == 0 || res.exit_code == 75));
        if (res.exit_code == 0) {
            wrote += json::parse(res.out).value("unchanged", false) ? 0 : 1;
        }
    }
    CHECK(wrote >= 1);
    CHECK(db.count(
              "SELECT count(*) FROM public.learning_model_weights WHERE is_active") == 1);
    CHECK(db.count("SELECT count(*) FROM public.learning_model_weights") == wrote);
}

TEST_CASE("a bad time zone for post_hour is a configuration error", "[db]")
{
    test_db db;
    db.migrate();
    temp_dir dir;
    dir.write("x.yaml", "weights:\n  timezone: Mars/Olympus\n");
    auto const r = run_tool("build-weights", {"--config", dir.path() + "/x.yaml"}, &db,
                            {}, score_target_env());
    CHECK(r.exit_code == 78);
    // named where it was written, like every other bad value of the file
    CHECK_THAT(r.err, Catch::Contains("x.yaml:2: 'weights.timezone': 'Mars/Olympus' is "
                                      "not a time zone PostgreSQL knows"));
    // the file named by XLOOP_CONFIG is named as the variable's, as at load
    auto env = score_target_env();
    env["XLOOP_CONFIG"] = dir.path() + "/x.yaml";
    auto const from_env = run_tool("build-weights", {}, &db, {}, env);
    CHECK(from_env.exit_code == 78);
    CHECK_THAT(from_env.err,
               Catch::Contains("error: XLOOP_CONFIG: " + dir.path() +
                               "/x.yaml:2: 'weights.timezone': 'Mars/Olympus'"));
}

TEST_CASE("post_hour is the local hour of posting in plan's time zone, the hours plan "
          "draws by, and another zone for it is warned",
          "[db]")
{
    test_db db;
    db.migrate();
    auto c = db.connect();
    // 12:00 UTC on 2 March is 13:00 in Berlin (CET); 14 days earlier too
    for (int i = 0; i < 10; ++i) {
        add_post(c, 0, "how_to", 0.3);
    }
    auto const target = read_file(source_path("tests/fixtures/score_target.yaml"));
    temp_dir dir;
    dir.write("x.yaml", "plan:\n  timezone: Europe/Berlin\n" +
                            target.substr(target.find("weights:")));
    auto const out = run_json(db, {"--dry-run", "--config", dir.path() + "/x.yaml"});
    CHECK(out["weights"]["post_hour"].contains("13"));
    CHECK(out["weights"]["post_hour"].size() == 1);

    // weights.timezone set apart: learned in its hours, and said what it costs
    auto with_utc = target.substr(target.find("weights:"));
    with_utc.insert(std::string{"weights:\n"}.size(), "  timezone: UTC\n");
    dir.write("y.yaml", "plan:\n  timezone: Europe/Berlin\n" + with_utc);
    auto const y =
        std::vector<std::string>{"--now", now, "--config", dir.path() + "/y.yaml"};
    auto with = [](std::vector<std::string> a, std::vector<std::string> const& b) {
        a.insert(a.end(), b.begin(), b.end());
        return a;
    };
    auto const utc = run_tool("build-weights", with({"--json"}, y), &db);
    REQUIRE(utc.exit_code == 0);
    CHECK(json::parse(utc.out)["weights"]["post_hour"].contains("12"));
    std::string const cost =
        "weights.timezone (UTC) is not plan.timezone (Europe/Berlin): "
        "post_hour is learned in UTC hours, but plan draws a post's "
        "time by its Europe/Berlin hour";
    CHECK(utc.err.find(cost) != std::string::npos);
    // and validate, where an operator looks, says so of the map
    auto const v = run_tool("validate", with({"--json"}, y), &db);
    auto const map = check_named(json::parse(v.out), "weight_map");
    CHECK(map["status"] == "warn");
    CHECK(map["message"].get<std::string>().find(cost) != std::string::npos);
}

TEST_CASE("post_hour is the hour of the time plan chose when a late poster published "
          "within two hours, else the hour it went out",
          "[db]")
{
    test_db db;
    db.migrate();
    auto c = db.connect();
    for (int i = 0; i < 12; ++i) {
        add_post(c, 0, "how_to", 0.3); // out at 12:00 UTC
    }
    // a poster on its own cron: planned 11:45, out at 12:00
    c.exec("UPDATE public.content_generation_metadata_comprehensive SET scheduled_at = "
           "posted_at - interval '15 minutes' WHERE id IN (SELECT id FROM "
           "public.content_generation_metadata_comprehensive ORDER BY id LIMIT 4)");
    // 10:01, out almost two hours late: still the time plan chose
    c.exec(
        "UPDATE public.content_generation_metadata_comprehensive SET scheduled_at = "
        "posted_at - interval '119 minutes' WHERE id IN (SELECT id FROM "
        "public.content_generation_metadata_comprehensive ORDER BY id OFFSET 4 LIMIT 1)");
    // after an outage (07:00, five hours late), and one posted by hand before
    // its 13:30: the hour it went out, as are the posts with no scheduled_at
    c.exec(
        "UPDATE public.content_generation_metadata_comprehensive SET scheduled_at = "
        "posted_at - interval '5 hours' WHERE id IN (SELECT id FROM "
        "public.content_generation_metadata_comprehensive ORDER BY id OFFSET 5 LIMIT 2)");
    c.exec(
        "UPDATE public.content_generation_metadata_comprehensive SET scheduled_at = "
        "posted_at + interval '90 minutes' WHERE id IN (SELECT id FROM "
        "public.content_generation_metadata_comprehensive ORDER BY id OFFSET 7 LIMIT 1)");
    auto const out = run_json(db, {"--dry-run"});
    auto const& hours = out["posteriors"]["post_hour"];
    INFO(hours.dump());
    CHECK(hours.size() == 3);
    CHECK(hours["11"]["n"] == 4);
    CHECK(hours["10"]["n"] == 1);
    CHECK(hours["12"]["n"] == 7);
}

TEST_CASE("replies count as their own slot and type, not in the attributes of posts",
          "[db]")
{
    test_db db;
    db.migrate();
    auto c = db.connect();
    for (int i = 0; i < 10; ++i) {
        add_post(c, 1, "how_to", 0.3); // hook 'question'
        add_post(c, 1, "how_to", 0.1);
    }
    c.exec("UPDATE public.content_generation_metadata_comprehensive SET hook_type = "
           "'statistic' WHERE decision_id IN (SELECT decision_id FROM public.outcomes "
           "WHERE primary_objective_score < 0.2)");
    // Replies do well, and their text was classified as a statistic hook.
    for (int i = 0; i < 30; ++i) {
        add_post(c, 1, "reply", 0.9, "dataNerd", "reply");
    }
    c.exec("UPDATE public.content_generation_metadata_comprehensive SET hook_type = "
           "'statistic' WHERE decision_type = 'reply'");
    auto const out = run_json(db, {"--dry-run"});
    auto const& p = out["posteriors"];
    CHECK(p["hook_type"]["statistic"]["n"] == 10); // the posts only
    CHECK(p["hook_type"]["question"]["n"] == 10);
    CHECK(p["topic"]["sql"]["n"] == 20);
    CHECK(p["content_slot"]["reply"]["n"] == 30); // replies as their own value
    CHECK(p["decision_type"]["reply"]["n"] == 30);
    CHECK(out["weights"]["hook_type"]["question"].get<double>() >
          out["weights"]["hook_type"]["statistic"].get<double>());
}

TEST_CASE("a NaN metric is left out with a warning and never reaches the map", "[db]")
{
    test_db db;
    db.migrate();
    auto c = db.connect();
    for (int i = 0; i < 40; ++i) {
        add_post(c, 1 + i * 0.5, i % 2 ? "how_to" : "myth_busting", i % 2 ? 0.4 : 0.2);
    }
    // numeric columns hold NaN; one post has it in its score and its ER
    c.exec(
        "UPDATE public.outcomes SET primary_objective_score = 'NaN', engagement_rate "
        "= 'NaN' WHERE decision_id = (SELECT decision_id FROM public.outcomes LIMIT 1)");
    for (auto const& env :
         {score_target_env(), std::map<std::string, std::optional<std::string>>{}}) {
        auto const r =
            run_tool("build-weights", {"--now", now, "--json", "-q"}, &db, {}, env);
        INFO(r.err << r.out);
        REQUIRE(r.exit_code == 0);
        CHECK(r.err.find("1 row of the window has a NaN or infinite metric") !=
              std::string::npos);
        CHECK(json::parse(r.out)["non_finite_rows"] == 1);
        // every weight a number, each dimension summing to 1; a finite average
        auto const m = c.exec(
            "SELECT bool_and(jsonb_typeof(w.value) = 'number'), "
            "bool_and(abs(s.total - 1) < 1e-6), "
            "bool_and(avg_primary_objective_score <> 'NaN') FROM "
            "public.learning_model_weights m, jsonb_each(m.weights) d, "
            "jsonb_each(d.value) w, LATERAL (SELECT sum(x.value::text::float8) AS total "
            "FROM jsonb_each(d.value) x) s WHERE m.is_active");
        CHECK(m.boolean(0, 0));
        CHECK(m.boolean(0, 1));
        CHECK(m.boolean(0, 2));
    }
}

TEST_CASE("profile clicks count per impression: a slot seen less that brings as many "
          "clicks brings more",
          "[db]")
{
    test_db db;
    db.migrate();
    auto c = db.connect();
    // how_to: 9 clicks from 1000 impressions; myth_busting: 9 from 100
    add_reach_pairs(c, ", profile_clicks = 9 + m.id % 3");
    auto const p = dry_run_with(db, "  target: {engagement_rate: 0, reach: 0, "
                                    "profile_clicks: 1, follows: 0, attributed_follows: "
                                    "0, primary_objective_score: 0}\n")["posteriors"];
    // ln(10/101) against ln(10/1001): myth_busting's clicks per view are
    // ~10× how_to's; as ln(1 + clicks) the two would be alike
    CHECK(p["content_slot"]["myth_busting"]["shrunk_mean"].get<double>() >
          p["content_slot"]["how_to"]["shrunk_mean"].get<double>() + 0.5);
    CHECK(p["content_slot"]["myth_busting"]["p_best"].get<double>() > 0.99);
    // the slots differ far beyond their noise: the floor κ; the generator
    // (data_nerd alone) has nothing to compare: the floor too
    CHECK(p["_prior"]["content_slot"]["kappa"]["profile_clicks"] == 5);
    CHECK(p["_prior"]["content_slot"]["kappa"].size() == 1); // the weighed one
}

TEST_CASE("a source without follows (the X API) leaves reach in the target: a missing "
          "count is missing, not 0",
          "[db]")
{
    test_db db;
    db.migrate();
    auto c = db.connect();
    // how_to reaches ~10× more; no row has follows or profile clicks
    add_reach_pairs(c);
    auto const p = dry_run_with(db, "  target: {engagement_rate: 0, reach: 1, "
                                    "profile_clicks: 1, follows: 1, attributed_follows: "
                                    "0, primary_objective_score: 0}\n")["posteriors"];
    // follows read as 0 made follows per view −reach, and reach + (−reach) = 0:
    // both slots alike. Missing, they leave reach alone: z ≈ ±1, divided by
    // the three weights counted (a missing value counts as the mean)
    auto const how_to = p["content_slot"]["how_to"]["shrunk_mean"].get<double>();
    auto const myth = p["content_slot"]["myth_busting"]["shrunk_mean"].get<double>();
    CHECK(how_to - myth > 0.4);
    CHECK(p["content_slot"]["how_to"]["p_best"].get<double>() > 0.99);
    CHECK(p["_prior"]["content_slot"]["kappa"]["reach"] == 5);
}

TEST_CASE("a post whose follows were not measured (snapshots missing) counts as "
          "average, not as a post that brought none",
          "[db]")
{
    test_db db;
    db.migrate();
    auto c = db.connect();
    for (int i = 0; i < 20; ++i) {
        add_post(c, 2 + i * 0.1, i % 2 ? "how_to" : "myth_busting", 0.3);
    }
    // myth_busting: 8–10 follows, measured. how_to: 10–12, measured for
    // five posts, at confidence 0.5 for two (stored as gain × 0.5), and not
    // at all for three (cron was down: gain × confidence 0 = 0)
    set_attributed_follows(
        c, "CASE WHEN content_slot = 'myth_busting' THEN 8 ELSE 10 END + id % 3",
        "CASE WHEN content_slot = 'myth_busting' OR id % 4 = 0 THEN 1 "
        "WHEN id <= 10 THEN 0 ELSE 0.5 END");
    auto const p = dry_run_with(db, "  target: {engagement_rate: 0, reach: 0, "
                                    "profile_clicks: 0, follows: 0, attributed_follows: "
                                    "1, primary_objective_score: 0}\n")["posteriors"];
    // as gain × confidence how_to averaged 6.7 (0 for the three): below
    // myth_busting's 9
    CHECK(p["content_slot"]["how_to"]["shrunk_mean"].get<double>() >
          p["content_slot"]["myth_busting"]["shrunk_mean"].get<double>());
    CHECK(p["content_slot"]["how_to"]["p_best"].get<double>() > 0.9);
}

TEST_CASE("build-weights names each dimension's values by weight, the best first", "[db]")
{
    test_db db;
    db.migrate();
    auto c = db.connect();
    add_reach_pairs(c); // how_to reaches ~10× more
    temp_dir dir;
    dir.write("x.yaml", "weights:\n  target: {engagement_rate: 0, reach: 1, "
                        "profile_clicks: 0, follows: 0, attributed_follows: 0, "
                        "primary_objective_score: 0}\n");
    auto const r = run_tool("build-weights",
                            {"--now", now, "--config", dir.path() + "/x.yaml"}, &db);
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    auto const w = c.exec("SELECT (weights->'content_slot'->>'how_to')::float8, "
                          "(weights->'content_slot'->>'myth_busting')::float8 FROM "
                          "public.learning_model_weights WHERE is_active");
    REQUIRE(w.f64(0, 0) > w.f64(0, 1));
    CHECK_THAT(r.err, Catch::Contains(fmt::format("  content_slot: how_to {:.2f}, "
                                                  "myth_busting {:.2f}\n",
                                                  w.f64(0, 0), w.f64(0, 1))));
    // after the line that says the map is active
    CHECK(r.err.find("is now active") < r.err.find("  content_slot: "));
    // another program's long value is cut to 40 characters in the line
    std::string const long_value = "long_slot_long_slot_long_slot_long_slot_long_slot_";
    c.exec(
        "UPDATE public.content_generation_metadata_comprehensive SET content_slot = $1 "
        "WHERE content_slot = 'myth_busting'",
        long_value);
    auto const again = run_tool("build-weights",
                                {"--now", now, "--config", dir.path() + "/x.yaml"}, &db);
    INFO(again.err);
    REQUIRE(again.exit_code == 0);
    CHECK_THAT(again.err, Catch::Contains(", " + long_value.substr(0, 40) + "… "));
    CHECK(again.err.find(long_value) == std::string::npos);
}

TEST_CASE("a value that raises the engagement rate but brings fewer profile clicks per "
          "view is not learned as best",
          "[db]")
{
    test_db db;
    db.migrate();
    auto c = db.connect();
    // how_to: engagement rate 0.06, 50-52 clicks from ~1000 views;
    // myth_busting 0.03, 12-14 clicks from ~100 views: more than twice as
    // many a view
    add_reach_pairs(c, ", engagement_rate = CASE WHEN m.content_slot = 'how_to' THEN "
                       "0.06 ELSE 0.03 END + (m.id % 5) * 0.001, profile_clicks = CASE "
                       "WHEN m.content_slot = 'how_to' THEN 50 ELSE 12 END + m.id % 3");
    // the engagement rate weighs twice the clicks: counted fully, it would
    // make how_to best
    auto const p = dry_run_with(db, "  target: {engagement_rate: 2, reach: 0, "
                                    "profile_clicks: 1, follows: 0, attributed_follows: "
                                    "0, primary_objective_score: 0}\n")["posteriors"];
    // the two rank the slots against each other far beyond their noise:
    // the engagement rate has no say in content_slot
    CHECK(p["_prior"]["content_slot"]["engagement_rate_trust"] == 0);
    CHECK(p["content_slot"]["myth_busting"]["p_best"].get<double>() > 0.99);
    // one generator: nothing to doubt
    CHECK(p["_prior"]["generator_name"]["engagement_rate_trust"] == 1);
}

TEST_CASE("a hook posted mostly beside the best slot is not credited with the slot's "
          "effect",
          "[db]")
{
    test_db db;
    db.migrate();
    auto c = db.connect();
    // score = slot + hook: how_to +0.4 over myth_busting, question +0.1
    // over statement; but statement came with how_to 32 times of 40 and
    // question with myth_busting 32 of 40. Raw means: statement 0.32,
    // question 0.18.
    int i = 0;
    auto const add = [&](std::string const& slot, std::string const& hook, int n,
                         double score) {
        for (int k = 0; k < n; ++k, ++i) {
            add_post(c, 2 + i * 0.02, slot, score + (i % 3) * 0.01);
            c.exec("UPDATE public.content_generation_metadata_comprehensive SET "
                   "hook_type = $1 WHERE id = (SELECT max(id) FROM "
                   "public.content_generation_metadata_comprehensive)",
                   hook);
        }
    };
    for (int round = 0; round < 8; ++round) { // the hours mixed
        add("how_to", "statement", 4, 0.4);
        add("how_to", "question", 1, 0.5);
        add("myth_busting", "statement", 1, 0.0);
        add("myth_busting", "question", 4, 0.1);
    }
    auto const p = run_json(db, {"--dry-run"})["posteriors"]["hook_type"];
    INFO(p.dump());
    // Net of the slots it came with, question leads (by 0.06 here: each β
    // of the joint fit is shrunk by κ = 5 pseudo-posts, so part of the
    // slot's effect stays with the hooks; 0.1 with no shrinkage).
    double const lead =
        p["question"]["mean"].get<double>() - p["statement"]["mean"].get<double>();
    CHECK(lead > 0.03);
    CHECK(lead < 0.1);
    CHECK(p["question"]["p_best"].get<double>() > 0.9);
}

TEST_CASE(
    "a dimension of free text with more values than the co-occurrence table holds is "
    "still learned, within weeks only",
    "[db]")
{
    test_db db;
    db.migrate();
    auto c = db.connect();
    // 300 posts, each with a generator name of its own (an adopted
    // database's free text): past 256 raw values the pairs are dropped
    c.exec("WITH c AS (INSERT INTO public.content_generation_metadata_comprehensive "
           "(status, tweet_id, posted_at, decision_type, content_slot, generator_name) "
           "SELECT 'posted', 't' || g, $1::timestamptz - make_interval(hours => 30 + g), "
           "'single', CASE WHEN g % 2 = 0 THEN 'how_to' ELSE 'myth_busting' END, "
           "'writer ' || g FROM generate_series(1, 300) g RETURNING decision_id, "
           "tweet_id, content_slot) "
           "INSERT INTO public.outcomes (decision_id, tweet_id, primary_objective_score) "
           "SELECT decision_id, tweet_id, CASE WHEN content_slot = 'how_to' THEN 0.5 "
           "ELSE 0.2 END + (right(tweet_id, 1)::int % 3) * 0.01 FROM c",
           now);
    auto const out = run_json(db, {"--dry-run"});
    auto const& p = out["posteriors"];
    CHECK(p["generator_name"].size() == 300);
    CHECK(p["content_slot"]["how_to"]["mean"].get<double>() -
              p["content_slot"]["myth_busting"]["mean"].get<double>() ==
          Approx(0.3).margin(0.01));
    CHECK(p["content_slot"]["how_to"]["p_best"].get<double>() > 0.99);
}

TEST_CASE("build-weights learns two more maps, each from the half of the posts the other "
          "leaves out",
          "[db]")
{
    test_db db;
    db.migrate();
    auto c = db.connect();
    add_posts(c, 600, 0.3);
    auto const out = run_json(db, {});
    // Each post's half, as validate will find it: from its posting time.
    auto const posts =
        c.exec("SELECT (extract(epoch FROM posted_at) * 1e6)::int8, content_slot FROM "
               "public.content_generation_metadata_comprehensive");
    std::array<std::map<std::string, std::int64_t>, 2> slots;
    std::array<std::int64_t, 2> rows{};
    for (int i = 0; i < posts.rows(); ++i) {
        int const fold = cross_fit_fold(posts.i64(i, 0));
        ++rows[fold];
        ++slots[fold][posts.str(i, 1)];
    }
    REQUIRE(rows[0] > 0); // both halves hold posts
    REQUIRE(rows[1] > 0);
    // cross_fit_rows[k]: the rows the map for half k learned from, the other half's
    CHECK(out["cross_fit_rows"][0] == rows[1]);
    CHECK(out["cross_fit_rows"][1] == rows[0]);
    auto const cross_fit = json::parse(
        c.exec("SELECT cross_fit::text FROM public.learning_model_weights").str(0, 0));
    REQUIRE(cross_fit.size() == 2);
    for (int k = 0; k < 2; ++k) {
        INFO("the map for half " << k);
        CHECK(cross_fit[k].contains("_prior"));
        for (auto const& slot : {"how_to", "myth_busting"}) {
            CHECK(cross_fit[k]["content_slot"][slot]["n"] == slots[1 - k][slot]);
        }
    }
}

TEST_CASE(
    "tools newer than the schema say to run xloop-migrate, and validate still reports",
    "[db]")
{
    test_db db;
    db.migrate();
    auto c = db.connect();
    // The schema as it was before migration 0012: binaries upgraded, not migrated.
    c.exec("ALTER TABLE public.learning_model_weights DROP COLUMN cross_fit");
    c.exec("DELETE FROM xloop.schema_migrations WHERE version = 12");
    add_posts(c, 30, 0.3);
    auto const built =
        run_tool("build-weights", {"--now", now}, &db, {}, score_target_env());
    CHECK(built.exit_code == 78);
    CHECK_THAT(built.err, Catch::Contains(fmt::format(
                              "1 migration pending on database {} at ", db.name())));
    CHECK_THAT(built.err, Catch::Contains(" (0012_cross_fit): run xloop-migrate"));
    CHECK(db.count("SELECT count(*) FROM public.learning_model_weights") == 0);
    // validate reads what is there and names the pending migration
    auto const v = run_tool("validate", {"--now", now, "--json", "-q"}, &db);
    INFO(v.err);
    CHECK(v.exit_code == 1);
    auto const report = json::parse(v.out);
    auto const& checks = report["checks"];
    auto const schema = std::find_if(checks.begin(), checks.end(),
                                     [](json const& k) { return k["name"] == "schema"; });
    REQUIRE(schema != checks.end());
    CHECK((*schema)["status"] == "fail");
    CHECK((*schema)["numbers"]["pending_migrations"] == 1);
    CHECK((*schema)["message"] ==
          "1 migration pending (0012_cross_fit): run xloop-migrate");
    CHECK(report.contains("policy_value"));
}

TEST_CASE("a free-text topic of thousands of values is learned from its first 1000 and "
          "the catalogue's, with a warning, in bounded memory",
          "[db]")
{
    test_db db;
    db.migrate();
    auto c = db.connect();
    // 1500 posts, each with a topic of its own (the original bot's raw_topic
    // is free text), then 3 of a topic the catalogue lists.
    c.exec(
        "WITH c AS (INSERT INTO public.content_generation_metadata_comprehensive "
        "(status, tweet_id, posted_at, decision_type, content_slot, raw_topic) "
        "SELECT 'posted', 'f' || g, $1::timestamptz - make_interval(mins => 2880 + g), "
        "'single', CASE WHEN g % 2 = 0 THEN 'how_to' ELSE 'myth_busting' END, "
        "'what the model said ' || g FROM generate_series(1, 1500) g "
        "RETURNING decision_id, tweet_id) "
        "INSERT INTO public.outcomes (decision_id, tweet_id, primary_objective_score) "
        "SELECT decision_id, tweet_id, 0.3 FROM c",
        now);
    for (int i = 0; i < 3; ++i) {
        add_post(c, 1 + i, "how_to", 0.5);
    }
    c.exec("UPDATE public.content_generation_metadata_comprehensive SET raw_topic = "
           "'Late Pick' WHERE raw_topic = 'sql'");
    temp_dir dir;
    dir.write("x.yaml", std::string{"weights:\n"} + score_target_line +
                            "plan:\n  catalogue:\n    topic: [late_pick, sql]\n");
    auto const r = run_tool("build-weights",
                            {"--now", now, "--json", "--config", dir.path() + "/x.yaml"},
                            &db, {}, score_target_env());
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    CHECK(
        r.err.find("topic: more than 1000 distinct values in the window (free text?)") !=
        std::string::npos);
    // the leaders' line gives a weight of a thousandth two digits, not 0.00
    auto const leaders = r.err.find("  topic: ");
    REQUIRE(leaders != std::string::npos);
    auto const line = r.err.substr(leaders, r.err.find('\n', leaders) - leaders);
    INFO(line);
    CHECK(line.find(" 0.00") == std::string::npos);
    auto const out = json::parse(r.out);
    auto const posteriors =
        json::parse(c.exec("SELECT posteriors FROM public.learning_model_weights "
                           "WHERE is_active")
                        .str(0, 0));
    auto const& topic = posteriors["topic"];
    // the first 1000 values to arrive, and the catalogue's wherever it came
    CHECK(topic.size() >= 1000);
    CHECK(topic.size() <= 1001);
    REQUIRE(topic.contains("late_pick"));
    CHECK(topic["late_pick"]["n"] == 3);
    std::int64_t learned = 0;
    for (auto const& [value, arm] : topic.items()) {
        learned += arm["n"].get<std::int64_t>();
    }
    CHECK(learned + out["left_out_rows"]["topic"].get<std::int64_t>() == 1503);
    // every row still counts in the other dimensions
    CHECK(posteriors["content_slot"]["how_to"]["n"].get<int>() +
              posteriors["content_slot"]["myth_busting"]["n"].get<int>() ==
          1503);
    // validate shows the topics that say most, not a thousand lines; its
    // JSON lists every one
    auto const table = run_tool("validate", {"--now", now, "-q"}, &db);
    auto const hidden = fmt::format("… and {} more values", topic.size() - 12);
    CHECK(table.out.find(hidden) != std::string::npos);
    CHECK(std::count(table.out.begin(), table.out.end(), '\n') < 200);
    temp_dir out_dir;
    auto const file = out_dir.path() + "/report.html";
    REQUIRE(run_tool("validate", {"--now", now, "-q", "--html", file}, &db).exit_code <
            70);
    CHECK(read_file(file).find(hidden) != std::string::npos);
    auto const j =
        json::parse(run_tool("validate", {"--now", now, "-q", "--json"}, &db).out);
    CHECK(j["policy_value"]["learned"]["topic"].size() == topic.size());
}
