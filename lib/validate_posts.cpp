#include "validate_checks.hpp"

#include "app.hpp"
#include "build_weights_job.hpp"
#include "config.hpp"
#include "db.hpp"
#include "map_shape.hpp"
#include "policy_value.hpp"
#include "stored_values.hpp"
#include "text.hpp"
#include "v2_backfill.hpp"

#include <fmt/ranges.h>

#include <cmath>

namespace xloop::checks {

namespace {

// Why plan cannot use the active map (its id, its posteriors), if so.
std::optional<std::string> unusable_active_map(std::string const& id,
                                               nlohmann::json const& posteriors)
{
    auto const why = unusable_map_reason(posteriors);
    if (!why) {
        return std::nullopt;
    }
    return fmt::format("the active map (id {}) cannot be used by xloop-plan: {}; run "
                       "xloop-build-weights (plan draws uniformly until then)",
                       id, *why);
}

// The map's likely best values plan never draws, and what to do.
std::string undrawn_best_text(std::vector<undrawn_value> const& undrawn)
{
    std::vector<std::string> each;
    for (auto const& u : undrawn) {
        each.push_back(fmt::format("{} {:?} (P(best) {:.2f}, {} posts)", u.dimension,
                                   excerpt(u.value, 40), u.p_best, u.posts));
    }
    bool const one = undrawn.size() == 1;
    auto const it = one ? "it" : "them";
    return fmt::format("the map's likely best {} {} not in plan's catalogue: plan never "
                       "draws {}, and what was learned of {} goes unused; list {} in "
                       "plan.catalogue (an adopted database's names may differ from the "
                       "built-in ones), unless left out on purpose",
                       fmt::join(each, ", "), one ? "is" : "are", it, it, it);
}

// The map's likely best post_hour when no time of plan.times is in it: an
// hour plan never posts at (a time taken out of plan.times; posts learned at
// the hour they went out, hours after their time or without one).
std::optional<undrawn_value> undrawn_best_hour(nlohmann::json const& posteriors,
                                               plan_config const& plan,
                                               long long min_posts)
{
    std::vector<std::string> hours;
    for (auto const& t : plan.times) {
        hours.push_back(t.substr(0, 2));
    }
    auto const undrawn =
        undrawn_best_values(posteriors, {{"post_hour", hours}}, 0.5, min_posts);
    return undrawn.empty() ? std::nullopt : std::optional{undrawn.front()};
}

std::string undrawn_hour_text(undrawn_value const& u, plan_config const& plan)
{
    return fmt::format(
        "the map's likely best post_hour {} (P(best) {:.2f}, {} posts) is the hour of no "
        "time in plan.times ({}): plan never posts then, and what was learned of it goes "
        "unused; add a time in that hour to plan.times, unless left out on purpose "
        "(a post is learned at the hour of its scheduled_at, or, without one or "
        "published more than two hours after it, at the hour it went out)",
        excerpt(u.value, 10), u.p_best, u.posts, fmt::join(plan.times, ", "));
}

// What the newest ok scrape-metrics run says of the source that gives no
// metrics: a file whose records are all old (its export stopped), or X.
std::string unmeasured_cause(check_context& x)
{
    auto const r = x.db.exec(R"sql(
SELECT coalesce(detail ? 'records', false), detail ->> 'records', detail ->> 'not_newer',
       coalesce(detail ? 'due', false)
  FROM xloop.job_runs
 WHERE job = 'scrape-metrics' AND status = 'ok' AND started_at <= $1::timestamptz
 ORDER BY started_at DESC LIMIT 1)sql",
                             x.now);
    if (r.rows() == 0) {
        return "xloop-scrape-metrics has not run ok";
    }
    if (r.boolean(0, 0)) {
        return fmt::format("xloop-scrape-metrics' last run read {} records from its "
                           "metrics file, {} of them no newer than what it had: is the "
                           "export that writes the file still running, and does it "
                           "hold every post?",
                           r.opt_str(0, 1).value_or("?"), r.opt_str(0, 2).value_or("?"));
    }
    if (r.boolean(0, 3)) {
        return "X answered no metrics for the posts: see job:scrape-metrics (X's rate "
               "limit, its usage cap)";
    }
    return "see job:scrape-metrics";
}

// Posts in the learners' reach that the 31-day rescoring no longer reaches,
// with outcomes but no v2 score: learning leaves them out.
std::string unscored_text(unscored_history const& u, config const& cfg)
{
    auto const them = u.posts == 1 ? "it" : "them";
    return fmt::format("{} posted from {} to {} (as far back as build-weights or "
                       "learn-replies read, before the last {} that every run of "
                       "xloop-scrape-metrics scores) {} an outcome without a v2 score: "
                       "learning leaves {} out; run xloop-scrape-metrics --backfill "
                       "once to score {}",
                       counted(u.posts, "post", "posts"), format_seconds(u.from),
                       format_seconds(u.to),
                       last_days_text(std::ceil(cfg.metrics.max_age_days) + 1),
                       u.posts == 1 ? "has" : "have", them, them);
}

// An outcome another program collected since xloop-scrape-metrics' first ok
// run (data_source none of xloop's): the original bot's metrics job left
// running, whose scores replace xloop's until its next run.
constexpr char const* by_another_program_sql = R"sql(
data_source::text IS DISTINCT FROM 'x-api' AND data_source::text IS DISTINCT FROM 'file'
AND collected_at > (SELECT min(started_at) FROM xloop.job_runs
                     WHERE job = 'scrape-metrics' AND status = 'ok'))sql";

// The data_source of the newest of them, asked only when there are some:
// sorting the window's every outcome for it in the count's statement took
// 0.7 s of 1.05 at 366 679 outcomes in the window.
std::string newest_other_source(check_context& x)
{
    auto const r = x.db.exec(fmt::format(R"sql(
SELECT coalesce(data_source::text, 'NULL') FROM public.outcomes
 WHERE {} AND collected_at > $1::timestamptz - make_interval(days => $2::int)
   AND collected_at <= $1::timestamptz
 ORDER BY collected_at DESC LIMIT 1)sql",
                                         by_another_program_sql),
                             x.now, x.days);
    return r.rows() > 0 ? r.str(0, 0) : "";
}

// Outcomes another program wrote since scrape-metrics' first ok run.
std::string other_program_text(std::int64_t others, std::string const& source)
{
    return fmt::format("another program wrote {} since xloop-scrape-metrics' first run "
                       "(data_source {:?}): if it is the original bot's metrics job, "
                       "stop it (its scores replace xloop's until the next run)",
                       counted(others, "of them", "of them"), example_text(source, 40));
}

// Scored outcomes whose attribution scrape-metrics worked out, few of them
// with follows attributed: no follower snapshot around their posts (X
// rate-limits the follower count, or a file source gives neither follows
// nor follower counts). Their follows are unknown and the loop learns from
// engagement and reach alone, while every check passes.
std::string unattributed_text(std::int64_t attributed, std::int64_t scored,
                              std::optional<std::string> const& newest_snapshot,
                              check_context const& x)
{
    auto const at = newest_snapshot ? parse_timestamp(*newest_snapshot) : std::nullopt;
    return fmt::format(
        "{} of the {} xloop-scrape-metrics scored in the last {} {} follows attributed "
        "({}): a post without follower snapshots before and after it has no follows "
        "measured, "
        "and the loop learns from engagement and reach alone. xloop-scrape-metrics "
        "takes a snapshot a run unless X rate-limits the follower count "
        "(x_api.followers_every_minutes spaces them); a metrics file gives `follows` "
        "per post or `followers` records",
        attributed, counted(scored, "outcome", "outcomes"), x.last_days(),
        attributed == 1 ? "has" : "have",
        at ? fmt::format(
                 "the newest follower snapshot was taken {}, {}", format_timestamp(*at),
                 ago_text(std::chrono::duration<double, std::ratio<3600>>(x.now - *at)
                              .count()))
           : std::string{"there is no follower snapshot"});
}

// A follower count that has not moved for two days and more, over three
// snapshots and more (the newest ones, since the last that differed): every
// post's attributed follows are 0 (their windows gained nothing), so the
// loop learns from engagement and reach alone. Either the account gains no
// one, or the count read is stale.
std::optional<std::string> frozen_followers_text(check_context& x)
{
    auto const r = x.db.exec(R"sql(
WITH newest AS (
    SELECT follower_count AS n, snapshot_at AS at FROM public.follower_snapshots
     WHERE snapshot_at <= $1::timestamptz AND follower_count >= 0
     ORDER BY snapshot_at DESC LIMIT 1),
changed AS (
    SELECT max(s.snapshot_at) AS at FROM public.follower_snapshots s, newest
     WHERE s.snapshot_at <= newest.at AND s.follower_count >= 0
       AND s.follower_count <> newest.n)
SELECT newest.n, count(*), min(s.snapshot_at),
       extract(epoch FROM newest.at - min(s.snapshot_at)) / 3600
  FROM newest CROSS JOIN changed
  JOIN public.follower_snapshots s
    ON s.snapshot_at > coalesce(changed.at, '-infinity') AND s.snapshot_at <= newest.at
   AND s.follower_count >= 0
 GROUP BY newest.n, newest.at)sql",
                             x.now);
    constexpr double min_hours = 48;
    if (r.rows() == 0 || r.i64(0, 1) < 3 || r.f64(0, 3) < min_hours) {
        return std::nullopt;
    }
    auto const since = parse_timestamp(r.str(0, 2));
    return fmt::format(
        "the follower count has been {} in the last {} snapshots, since {} ({:.0f} h): "
        "the posts' attributed follows are 0 and the loop learns from engagement and "
        "reach alone. If the account did gain or lose followers, the count "
        "xloop-scrape-metrics reads is stale (a cached answer, a metrics file whose "
        "`followers` records no export updates)",
        r.i64(0, 0), r.i64(0, 1), since ? format_timestamp(*since) : r.str(0, 2),
        r.f64(0, 3));
}

// With metrics.fit_reach: the reach the last ok scrape-metrics run shared
// follows by, as it noted it (the half-life used and fitted best, replies'
// follows an impression against posts'), read as numbers only where they
// are numbers of a sensible size.
void add_reach_fit(check_context& x, check_result& c)
{
    auto const number = [](char const* key) {
        return fmt::format("({})::float8", detail_number_sql(key, "1000"));
    };
    auto const r = x.db.exec(fmt::format(R"sql(
SELECT {}, {}, {}, detail->>'reach_fitted' = 'true' FROM xloop.job_runs
 WHERE job = 'scrape-metrics' AND status = 'ok' AND started_at <= $1::timestamptz
   AND detail ? 'reach_fitted'
 ORDER BY started_at DESC, id DESC LIMIT 1)sql",
                                         number("reach_half_life_hours"),
                                         number("reach_best_half_life_hours"),
                                         number("reply_follows_ratio")),
                             x.now);
    auto const hours = [](double h) {
        return h > 0 ? fmt::format("a half-life of {:g} h", h)
                     : std::string{"even reach"};
    };
    c.numbers["reach_fitted"] = false;
    if (r.rows() == 0 || r.is_null(0, 0) || r.is_null(0, 2)) {
        return; // no run noted one (outcomes another program scored)
    }
    if (r.is_null(0, 1)) {
        c.message +=
            fmt::format("; reach: {} as configured, not fitted yet (48 intervals "
                        "between follower snapshots with posts live needed)",
                        hours(r.f64(0, 0)));
        return;
    }
    auto const used = r.f64(0, 0);
    auto const best = r.f64(0, 1);
    auto const ratio = r.f64(0, 2);
    bool const fitted = r.boolean(0, 3);
    c.numbers["reach_fitted"] = fitted;
    c.numbers["reach_half_life_hours"] = used;
    c.numbers["reply_follows_ratio"] = ratio;
    if (fitted) {
        c.message += fmt::format(
            "; reach fitted to the last 14 days' follower counts: {}", hours(used));
    } else if (best == used) {
        c.message += fmt::format(
            "; reach: {} as configured, the last 14 days' best fit too", hours(used));
    } else {
        c.message += fmt::format("; reach: {} as configured (the last 14 days' best fit, "
                                 "{}, is not clearly better)",
                                 hours(used), hours(best));
    }
    c.message += ratio == 1 ? std::string{", a reply's impressions weighing as a post's"}
                            : fmt::format(", a reply's impressions bringing {:.2f}× the "
                                          "follows of a post's",
                                          ratio);
}

} // namespace

check_result v2_coverage_check(check_context& x)
{
    // with a v2 score: a NaN is none (finite_sql()); by another program; where
    // the schema has the columns, of the scored, with an attribution worked
    // out (not another program's NULL) and with follows in it
    auto const scored = finite_sql("primary_objective_score");
    auto const attribution = x.schema_complete ? fmt::format(R"sql(,
       count(*) FILTER (WHERE {0} AND attribution_confidence IS NOT NULL),
       count(*) FILTER (WHERE {0} AND attribution_confidence > 0),
       (SELECT max(snapshot_at) FROM public.follower_snapshots
         WHERE snapshot_at <= $1::timestamptz AND follower_count >= 0))sql",
                                                             scored)
                                               : std::string{};
    auto const r = x.db.exec(fmt::format(R"sql(
SELECT count(*), count(*) FILTER (WHERE {}), count(*) FILTER (WHERE {}){}
  FROM public.outcomes
 WHERE collected_at > $1::timestamptz - make_interval(days => $2::int)
   AND collected_at <= $1::timestamptz)sql",
                                         scored, by_another_program_sql, attribution),
                             x.now, x.days);
    auto const total = r.i64(0, 0);
    auto const v2 = r.i64(0, 1);
    auto const others = r.i64(0, 2);
    auto c = make("v2_coverage", "ok", "");
    c.numbers = {{"outcomes", total},
                 {"with_v2", v2},
                 {"coverage", ratio(v2, total)},
                 {"by_another_program", others}};
    auto const ran = x.job("scrape-metrics").last_ok_hours;
    if (total == 0 && ran && *ran < 24.0 * x.days) {
        // it runs and collects nothing: "run it" would not help
        c.status = "fail";
        c.message =
            fmt::format("no outcomes collected in the last {}, though {}: {}",
                        x.last_days(), x.last_run("scrape-metrics"), unmeasured_cause(x));
    } else if (total == 0) {
        c.status = "fail";
        c.message = fmt::format("no outcomes collected in the last {}: run "
                                "xloop-scrape-metrics; {}",
                                x.last_days(), x.last_run("scrape-metrics"));
    } else if (ratio(v2, total) < x.cfg.validate.min_v2_coverage) {
        c.status = "fail";
        c.message = fmt::format("{} of {} v2 metrics: run xloop-scrape-metrics; {}", v2,
                                counted(total, "outcome has", "outcomes have"),
                                x.last_run("scrape-metrics"));
    } else {
        c.message = fmt::format("{} of {} of the last {} {} v2 metrics", v2,
                                counted(total, "outcome", "outcomes"), x.last_days(),
                                total == 1 ? "has" : "have");
    }
    // Said only once scrape-metrics has run ok: its first run scores them.
    if (x.job("scrape-metrics").last_ok_hours) {
        if (auto const u = unscored_in_reach(x.db, x.cfg, x.now)) {
            c.numbers["unscored_in_learners_reach"] = u->posts;
            add_warning(c, unscored_text(*u, x.cfg));
        }
    }
    if (x.schema_complete) {
        auto const with_attribution = r.i64(0, 3);
        auto const attributed = r.i64(0, 4);
        c.numbers["with_attribution"] = with_attribution;
        c.numbers["with_follows_attributed"] = attributed;
        if (with_attribution > 0 && 2 * attributed < with_attribution) {
            add_warning(
                c, unattributed_text(attributed, with_attribution, r.opt_str(0, 5), x));
        }
        if (with_attribution > 0) {
            if (auto const frozen = frozen_followers_text(x)) {
                c.numbers["follower_count_unchanged"] = true;
                add_warning(c, *frozen);
            }
        }
    }
    if (others > 0) {
        add_warning(c, other_program_text(others, newest_other_source(x)));
    }
    if (x.cfg.metrics.fit_reach && total > 0) {
        add_reach_fit(x, c);
    }
    return c;
}

check_result slot_coverage_check(check_context& x)
{
    auto const r = x.db.exec(R"sql(
SELECT count(*), count(content_slot) FILTER (WHERE content_slot <> '')
  FROM public.content_generation_metadata_comprehensive
 WHERE created_at > $1::timestamptz - make_interval(days => $2::int)
   AND created_at <= $1::timestamptz)sql",
                             x.now, x.days);
    auto const total = r.i64(0, 0);
    auto const slotted = r.i64(0, 1);
    auto c = make("content_slot_coverage", "ok", "");
    c.numbers = {
        {"content", total}, {"with_slot", slotted}, {"coverage", ratio(slotted, total)}};
    if (total == 0) {
        c.status = "fail";
        c.message = fmt::format("no content created in the last {}: run xloop-plan; {}",
                                x.last_days(), x.last_run("plan"));
    } else if (ratio(slotted, total) < x.cfg.validate.min_slot_coverage) {
        c.status = "fail";
        c.message = fmt::format("{} of {} of the last {} {} a content_slot: queue "
                                "content with xloop-plan",
                                slotted, counted(total, "item", "items"), x.last_days(),
                                total == 1 ? "has" : "have");
    } else {
        c.message = fmt::format("{} of {} of the last {} {} a content_slot", slotted,
                                counted(total, "item", "items"), x.last_days(),
                                total == 1 ? "has" : "have");
    }
    return c;
}

namespace {

// Posted items of the window the loop cannot learn from, by what is wrong,
// each kind with one example (a decision id, a tweet id).
struct posted_items {
    std::int64_t posted = 0, no_id = 0, no_time = 0, shared = 0, no_key = 0, future = 0,
                 unposted = 0;
    std::string no_id_example, no_time_example, shared_example, no_key_example,
        future_example, unposted_example;
};

posted_items read_posted_items(check_context& x)
{
    auto const r = x.db.exec(R"sql(
SELECT count(*) FILTER (WHERE p.posted),
       count(*) FILTER (WHERE p.posted AND p.no_id),
       count(*) FILTER (WHERE p.posted AND p.no_time),
       count(*) FILTER (WHERE s.shared),
       count(*) FILTER (WHERE p.posted AND p.no_key),
       count(*) FILTER (WHERE p.posted AND p.future),
       count(*) FILTER (WHERE NOT p.posted),
       min(c.decision_id::text) FILTER (WHERE p.posted AND p.no_id),
       min(c.decision_id::text) FILTER (WHERE p.posted AND p.no_time),
       min(c.tweet_id::text) FILTER (WHERE s.shared),
       min(coalesce(quote_literal(c.decision_id::text), 'NULL'))
           FILTER (WHERE p.posted AND p.no_key),
       min(c.tweet_id::text || ' posted at ' ||
           CASE WHEN isfinite(c.posted_at) -- to_char(infinity) is NULL
                THEN to_char(c.posted_at, 'YYYY-MM-DD"T"HH24:MI"Z"')
                ELSE c.posted_at::text END)
           FILTER (WHERE p.posted AND p.future),
       min('tweet ' || c.tweet_id::text || ' with status ' ||
           coalesce(quote_literal(c.status::text), 'NULL'))
           FILTER (WHERE NOT p.posted)
  FROM public.content_generation_metadata_comprehensive c
 CROSS JOIN LATERAL (
       SELECT coalesce(c.status::text = 'posted', false) AS posted,
              coalesce(c.tweet_id::text, '') = '' AS no_id,
              c.tweet_id::text <> '' AND c.posted_at IS NULL AS no_time,
              c.posted_at > $1::timestamptz + make_interval(secs => $3::float8) AS future,
              xloop.as_uuid(c.decision_id) IS NULL AS no_key) p
  LEFT JOIN LATERAL (
       SELECT true AS shared FROM public.content_generation_metadata_comprehensive o
        WHERE o.tweet_id = c.tweet_id AND o.id <> c.id AND o.status = 'posted'
        LIMIT 1) s ON p.posted AND c.tweet_id IS NOT NULL
 WHERE (c.status = 'posted' OR c.tweet_id::text <> '')
   AND c.created_at > $1::timestamptz - make_interval(days => $2::int)
   AND c.created_at <= $1::timestamptz)sql",
                             x.now, x.days, x.cfg.metrics.max_clock_skew_minutes * 60);
    return {r.i64(0, 0),
            r.i64(0, 1),
            r.i64(0, 2),
            r.i64(0, 3),
            r.i64(0, 4),
            r.i64(0, 5),
            r.i64(0, 6),
            r.opt_str(0, 7).value_or(""),
            r.opt_str(0, 8).value_or(""),
            r.opt_str(0, 9).value_or(""),
            excerpt(r.opt_str(0, 10).value_or(""), 40),
            r.opt_str(0, 11).value_or(""),
            excerpt(r.opt_str(0, 12).value_or(""), 60)};
}

// Each kind of unusable posted item there is: how many, what is wrong, an
// example, what follows from it.
std::vector<std::string> posted_item_problems(posted_items const& p)
{
    struct kind {
        std::int64_t n;
        char const* what;
        std::string example;
        char const* so;
    };
    std::vector<std::string> wrong;
    for (auto const& k :
         {kind{p.no_id, "have no tweet_id", "decision " + p.no_id_example,
               "no metrics can be fetched for them"},
          kind{p.no_time, "have a tweet_id but no posted_at",
               "decision " + p.no_time_example, "they get no metrics or v2 score"},
          kind{p.shared, "share their tweet_id with another posted item",
               "tweet " + p.shared_example, "its metrics count for each"},
          kind{p.no_key, "have no decision_id or one that is not a uuid",
               p.no_key_example, "no outcome can be stored for them; give each a uuid"},
          kind{p.future, "have a posted_at later than now", "tweet " + p.future_example,
               "does the poster write local time as UTC? every post_hour learned from "
               "them is off"},
          kind{p.unposted, "other items have a tweet_id but a status other than 'posted'",
               p.unposted_example, "no tool reads them"}}) {
        if (k.n > 0) {
            wrong.push_back(
                fmt::format("{} {} (e.g. {}): {}", k.n, k.what, k.example, k.so));
        }
    }
    return wrong;
}

} // namespace

// Posted items the loop cannot learn from, which no other check sees: the
// poster left out the tweet id (no metrics can be fetched) or the posting
// time (scrape-metrics and every window go by posted_at), wrote one tweet id
// on two items (its metrics would count for both), a decision id that is no
// uuid (an outcome is keyed by one; the original's column may be text), a
// posting time in the future (a poster writing local time as UTC: every
// post_hour is off), or a tweet id under a status other than 'posted'
// ('POSTED', 'published': no tool reads those items).
check_result posted_items_check(check_context& x)
{
    auto c = make("posted_items", "ok", "");
    if (!x.has_as_uuid) {
        c.status = "fail";
        c.message = "xloop.as_uuid is missing: run xloop-migrate";
        return c;
    }
    auto const p = read_posted_items(x);
    c.numbers = {{"posted", p.posted},
                 {"without_tweet_id", p.no_id},
                 {"without_posted_at", p.no_time},
                 {"sharing_tweet_id", p.shared},
                 {"without_uuid_decision_id", p.no_key},
                 {"posted_in_future", p.future},
                 {"tweet_id_not_posted", p.unposted}};
    auto const wrong = posted_item_problems(p);
    if (wrong.empty()) {
        c.message = p.posted == 0
                        ? fmt::format("no items posted in the last {}", x.last_days())
                        : fmt::format("{} posted in the last {}, each with its "
                                      "own tweet_id, a posted_at and a uuid decision_id",
                                      counted(p.posted, "item", "items"), x.last_days());
        return c;
    }
    // Half or more unusable: the loop is learning from too little to go on.
    auto const bad = p.no_id + p.no_time + p.shared + p.no_key + p.future + p.unposted;
    c.status = 2 * bad >= p.posted + p.unposted ? "fail" : "warn";
    c.message = fmt::format("of {} items posted in the last {}, {}{}", p.posted,
                            x.last_days(), fmt::join(wrong, "; "),
                            p.no_id + p.no_time + p.unposted > 0
                                ? "; the poster must set status, tweet_id and "
                                  "posted_at together"
                                : "");
    return c;
}

namespace {

// The queue at $1 (now): overdue past $2 seconds, items before $3 (after
// it: never due), the oldest, the last post, the never-due and the unscheduled.
constexpr char const* queue_sql = R"sql(
WITH taken AS (
    -- xloop's items due in the last $4 days that the poster took: failed or posted
    SELECT count(*) FILTER (WHERE i.status::text = 'failed') AS failed,
           count(*) FILTER (WHERE i.status::text = 'posted') AS posted,
           (array_agg(coalesce(i.error_message, 'no error_message')
                      ORDER BY i.scheduled_at DESC)
                FILTER (WHERE i.status::text = 'failed'))[1] AS error,
           -- its posts published before their time ($5 seconds of clock
           -- skew allowed), or $6 minutes after it or more
           count(*) FILTER (WHERE t.post) AS posts,
           count(*) FILTER (WHERE t.post AND t.early) AS early,
           count(*) FILTER (WHERE t.post AND t.late) AS late,
           min(t.example) FILTER (WHERE t.post AND t.early) AS early_example,
           min(t.example) FILTER (WHERE t.post AND t.late) AS late_example
      FROM public.content_generation_metadata_comprehensive i
     CROSS JOIN LATERAL (
           SELECT i.status::text = 'posted' AND i.decision_type IS DISTINCT FROM 'reply'
                  AND i.posted_at IS NOT NULL AS post,
                  i.posted_at < i.scheduled_at - make_interval(secs => $5::float8) AS early,
                  i.posted_at >= i.scheduled_at + make_interval(mins => $6::int) AS late,
                  'tweet ' || coalesce(i.tweet_id::text, '?') || ' due at ' ||
                  to_char(i.scheduled_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI"Z"') ||
                  ', posted at ' ||
                  to_char(i.posted_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI"Z"')
                      AS example) t
     WHERE i.status::text IN ('failed', 'posted') AND i.generation_source::text = 'xloop'
       AND i.scheduled_at > $1::timestamptz - make_interval(days => $4::int)
       AND i.scheduled_at <= $1::timestamptz),
others AS (
    -- items another program wrote in the last $4 days, since xloop-plan's
    -- first ok run (cgmc_others_created_idx)
    SELECT count(*) AS n,
           (array_agg(coalesce(o.generation_source::text, 'NULL') ORDER BY o.created_at DESC))[1]
               AS source,
           to_char(max(o.created_at) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI"Z"') AS latest
      FROM public.content_generation_metadata_comprehensive o
     WHERE o.generation_source::text IS DISTINCT FROM 'xloop'
       AND o.created_at > $1::timestamptz - make_interval(days => $4::int)
       AND o.created_at <= $1::timestamptz
       AND o.created_at > (SELECT min(started_at) FROM xloop.job_runs
                            WHERE job = 'plan' AND status = 'ok'))
SELECT count(*) FILTER (WHERE q.scheduled_at <= $1::timestamptz - make_interval(secs => $2)),
       count(*) FILTER (WHERE q.scheduled_at < $3::timestamptz),
       coalesce(to_char(min(q.scheduled_at) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI"Z"'),
                min(q.scheduled_at)::text),
       (extract(epoch FROM $1::timestamptz) - extract(epoch FROM min(q.scheduled_at))) / 3600,
       (SELECT to_char(max(p.posted_at) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI"Z"')
          FROM public.content_generation_metadata_comprehensive p
         WHERE p.status = 'posted' AND p.tweet_id IS NOT NULL
           AND p.posted_at <= $1::timestamptz),
       count(*) FILTER (WHERE q.scheduled_at >= $3::timestamptz),
       max(q.scheduled_at) FILTER (WHERE q.scheduled_at >= $3::timestamptz)::text,
       count(*) FILTER (WHERE q.scheduled_at IS NULL),
       (SELECT failed FROM taken), (SELECT posted FROM taken), (SELECT error FROM taken),
       (SELECT posts FROM taken), (SELECT early FROM taken), (SELECT late FROM taken),
       (SELECT early_example FROM taken), (SELECT late_example FROM taken),
       (SELECT n FROM others), (SELECT source FROM others), (SELECT latest FROM others),
       count(*) FILTER (WHERE q.scheduled_at < $3::timestamptz
                          AND q.decision_type::text = 'reply')
  FROM public.content_generation_metadata_comprehensive q
 WHERE q.status = 'queued')sql";

// What queue_sql reads, by name.
struct queue_state {
    std::int64_t overdue = 0;
    std::int64_t queued = 0;
    std::int64_t replies = 0;     // of the queued: plan --replies fills its own queue
    std::string oldest_due;       // as stored where it is no readable time
    double oldest_hours_late = 0; // -infinity's: infinite
    std::optional<std::string> last_post;
    std::int64_t never_due = 0;    // infinity or after 2199: another program's "hold"
    std::string never_due_example; // the latest of them, as stored
    std::int64_t unscheduled = 0;  // no scheduled_at (the original bot's rows)
    std::int64_t failed = 0;       // xloop's items due in the window the poster failed
    std::int64_t posted = 0;       // … and posted
    std::optional<std::string> failed_error; // the latest failure's error_message
    // of the posted: posts, and those published before their time or
    // post_hour_late_minutes after it, an example of each
    std::int64_t posts = 0, early = 0, late = 0;
    std::optional<std::string> early_example, late_example;
    std::int64_t others = 0; // items another program wrote in the window
    std::optional<std::string> others_source, others_latest;
};

queue_state read_queue(check_context& x)
{
    auto const r = x.db.exec(
        queue_sql, x.now, x.cfg.validate.max_queue_delay_hours * 3600, readable_times_end,
        x.days, x.cfg.metrics.max_clock_skew_minutes * 60, post_hour_late_minutes);
    queue_state q;
    q.overdue = r.i64(0, 0);
    q.queued = r.i64(0, 1);
    q.oldest_due = r.str(0, 2);
    q.oldest_hours_late = r.is_null(0, 3) ? 0 : r.f64(0, 3); // NULL: nothing queued
    q.last_post = r.opt_str(0, 4);
    q.never_due = r.i64(0, 5);
    q.never_due_example = r.str(0, 6);
    q.unscheduled = r.i64(0, 7);
    q.failed = r.i64(0, 8);
    q.posted = r.i64(0, 9);
    q.failed_error = r.opt_str(0, 10);
    q.posts = r.i64(0, 11);
    q.early = r.i64(0, 12);
    q.late = r.i64(0, 13);
    q.early_example = r.opt_str(0, 14);
    q.late_example = r.opt_str(0, 15);
    q.others = r.i64(0, 16);
    q.others_source = r.opt_str(0, 17);
    q.others_latest = r.opt_str(0, 18);
    q.replies = r.i64(0, 19);
    return q;
}

// The remarks the queue check appends to its message, each empty where it
// does not apply, each beginning with "; ".
struct queue_remarks {
    std::string failed, others, never_due, unscheduled, off_time;
};

queue_remarks remarks_of(queue_state const& q, std::string const& last_days)
{
    queue_remarks out;
    // A quarter or more of the posts out of their time: a poster that does
    // not wait for scheduled_at (plan's times are not kept, and post_hour
    // learns the hours they went out), or one that runs too seldom.
    if (4 * q.early >= q.posts && q.early >= 2) {
        out.off_time += fmt::format(
            "; the poster published {} of the {} posts due in the last {} before their "
            "time (e.g. {}): it does not wait for scheduled_at, so plan's times are not "
            "kept and post_hour learns the hours they went out",
            q.early, q.posts, last_days, q.early_example.value_or(""));
    }
    if (4 * q.late >= q.posts && q.late >= 2) {
        out.off_time += fmt::format(
            "; the poster published {} of the {} posts due in the last {} {} or more "
            "after their time (e.g. {}): post_hour learns them at the hours they went "
            "out, not the times plan chose; run the poster more often",
            q.late, q.posts, last_days, hours_text(post_hour_late_minutes / 60.0),
            q.late_example.value_or(""));
    }
    // The items the poster took and marked failed (X refused them, its own
    // rules did): the queue drains and refills, and nothing is posted.
    if (q.failed > 0) {
        out.failed = fmt::format("; the poster marked {} of the {} items due in the last "
                                 "{} failed (the latest: {:?})",
                                 q.failed, q.failed + q.posted, last_days,
                                 example_text(q.failed_error.value_or(""), 160));
    }
    // Another planner beside xloop-plan (the original bot's, left running):
    // the account posts more than plan.posts_per_day, half of it unlearned.
    if (q.others > 0) {
        out.others = fmt::format("; another program wrote {} since xloop-plan's first "
                                 "run (generation_source {:?}, the latest at {}): if it "
                                 "is the original bot's planner, stop it (items you "
                                 "queue by hand are yours to keep)",
                                 counted(q.others, "item", "items"),
                                 example_text(q.others_source.value_or(""), 40),
                                 q.others_latest.value_or("?"));
    }
    // plan counts them apart, and no poster will ever take them
    if (q.never_due > 0) {
        out.never_due = fmt::format(
            "; {} scheduled at a time that never comes (e.g. {}): give {} a time, or "
            "set {} status to 'skipped'",
            counted(q.never_due, "more is", "more are"),
            stored_timestamp_text(q.never_due_example), q.never_due == 1 ? "it" : "them",
            q.never_due == 1 ? "its" : "their");
    }
    // What the original bot's poster makes of items without a time is not
    // known: they are not the queue, only said.
    if (q.unscheduled > 0) {
        out.unscheduled = fmt::format(
            "; {} no scheduled_at and {} not counted: if no poster will take "
            "{}, set {} status to 'skipped'",
            counted(q.unscheduled, "more has", "more have"),
            q.unscheduled == 1 ? "is" : "are", q.unscheduled == 1 ? "it" : "them",
            q.unscheduled == 1 ? "its" : "their");
    }
    return out;
}

} // namespace

// Queued items long past their time: the poster (the bot's, or another)
// is not publishing. Nothing else sees it for days: plan finds its queue
// full and succeeds, and the coverage checks count what was posted.
check_result queue_check(check_context& x)
{
    auto const hours = x.cfg.validate.max_queue_delay_hours;
    auto const q = read_queue(x);
    auto const more = remarks_of(q, x.last_days());
    auto c = make("queue", "ok", "");
    c.numbers = {{"by_another_program_in_window", q.others},
                 {"queued", q.queued},
                 {"queued_replies", q.replies},
                 {"overdue", q.overdue},
                 {"never_due", q.never_due},
                 {"unscheduled", q.unscheduled},
                 {"failed_in_window", q.failed},
                 {"posted_in_window", q.posted},
                 {"posted_early_in_window", q.early},
                 {"posted_late_in_window", q.late}};
    if (q.overdue == 0 && q.failed > 0 && q.posted == 0) {
        c.status = "fail";
        c.message = fmt::format(
            "the poster failed every item of the last {} ({}; the latest: {:?}): "
            "nothing is posted; see its log, and error_message{}{}{}",
            x.last_days(), q.failed, example_text(q.failed_error.value_or(""), 160),
            more.others, more.never_due, more.unscheduled);
        return c;
    }
    if (q.overdue == 0) {
        c.status =
            q.never_due == 0 && q.failed == 0 && q.others == 0 && more.off_time.empty()
                ? "ok"
                : "warn";
        // posts fill a queue of plan.queue_ahead, replies one of --replies N
        auto const replies = q.replies == 0 ? std::string{}
                             : q.replies == 1
                                 ? std::string{" (1 of them a reply)"}
                                 : fmt::format(" ({} of them replies)", q.replies);
        c.message =
            fmt::format("{} queued{}, none more than {} past its time{}{}{}{}{}",
                        q.queued, replies, hours_text(hours), more.failed, more.off_time,
                        more.others, more.never_due, more.unscheduled);
        return c;
    }
    c.status = "fail";
    // -infinity (another program's) is due at no time: late by no number of hours
    auto const late = q.oldest_hours_late;
    c.numbers["oldest_hours_late"] =
        std::isfinite(late) ? nlohmann::json(late) : nlohmann::json(nullptr);
    c.message = fmt::format(
        "{} more than {} past {} time (the oldest was due at {}); "
        "{}: is the poster publishing the queue? (items it should never "
        "post: set their status to 'skipped')",
        counted(q.overdue, "queued item is", "queued items are"), hours_text(hours),
        q.overdue == 1 ? "its" : "their",
        std::isfinite(late) ? fmt::format("{}, {}", q.oldest_due, ago_text(late))
                            : q.oldest_due,
        q.last_post ? "the last post was at " + *q.last_post
                    : std::string{"nothing was ever posted"});
    c.message +=
        more.failed + more.off_time + more.others + more.never_due + more.unscheduled;
    return c;
}

// The window's rows of vw_learning; and its posts and replies that went out
// validate.max_unmeasured_hours ago or more with no metrics at all (not
// those X says no longer exist): their source gives none while every job
// runs ok, as when the export that writes a metrics file stops.
check_result learning_view_check(check_context& x)
{
    // a NaN score is none (finite_sql())
    // one scan of the window; a row without metrics is looked up in the base
    // table (whether X says it no longer exists) only then
    static std::string const sql = fmt::format(R"sql(
SELECT count(*), count(*) FILTER (WHERE {}), count(*) FILTER (WHERE decision_type = 'reply'),
       count(*) FILTER (WHERE a.aged),
       count(*) FILTER (WHERE a.aged AND a.unmeasured),
       count(*) FILTER (WHERE a.aged AND a.unmeasured AND decision_type = 'reply'),
       min(posted_at) FILTER (WHERE a.aged AND a.unmeasured),
       max(posted_at) FILTER (WHERE a.aged AND a.unmeasured)
  FROM xloop.vw_learning v
 CROSS JOIN LATERAL (
       SELECT v.posted_at <= $1::timestamptz - make_interval(secs => $3::float8) AS aged,
              NOT v.has_metrics AND NOT EXISTS (
                  SELECT 1 FROM public.content_generation_metadata_comprehensive g
                   WHERE g.id = v.id AND g.metrics_gone_at IS NOT NULL) AS unmeasured) a
 WHERE posted_at > $1::timestamptz - make_interval(days => $2::int)
   AND posted_at <= $1::timestamptz)sql",
                                               finite_sql("primary_objective_score"));
    auto const lag = x.cfg.validate.max_unmeasured_hours;
    auto const r = x.db.exec(sql, x.now, x.days, lag * 3600);
    auto c = make("vw_learning", "ok", "");
    auto const replies = r.i64(0, 2);
    auto const aged = r.i64(0, 3);
    auto const unmeasured = r.i64(0, 4);
    auto const unmeasured_replies = r.i64(0, 5);
    c.numbers = {{"rows", r.i64(0, 0)},
                 {"posts", r.i64(0, 0) - replies},
                 {"replies", replies},
                 {"with_v2", r.i64(0, 1)},
                 {"unmeasured", unmeasured}};
    if (r.i64(0, 0) == 0) {
        c.status = "fail";
        c.message = fmt::format("vw_learning has no posts of the last {}: is the "
                                "poster publishing the queue?",
                                x.last_days());
    } else {
        c.message =
            fmt::format("{} and {} of the last {}, {} with v2 metrics",
                        counted(r.i64(0, 0) - replies, "post", "posts"),
                        counted(replies, "reply", "replies"), x.last_days(), r.i64(0, 1));
    }
    if (unmeasured > 0) {
        auto const text = fmt::format(
            "{} of the {} of the last {} that went out {} ago or more ({} and {}, from "
            "{} to {}) {} no metrics (validate.max_unmeasured_hours): the learners "
            "cannot count them; {}",
            unmeasured, counted(aged, "post and reply", "posts and replies"),
            x.last_days(), hours_text(lag),
            counted(unmeasured - unmeasured_replies, "post", "posts"),
            counted(unmeasured_replies, "reply", "replies"),
            stored_timestamp_text(r.str(0, 6)), stored_timestamp_text(r.str(0, 7)),
            unmeasured == 1 ? "has" : "have", unmeasured_cause(x));
        // most of them: the loop measures little of what it posts
        if (unmeasured >= 3 && 2 * unmeasured >= aged) {
            c.status = "fail";
            c.message = text;
        } else {
            add_warning(c, text);
        }
    }
    return c;
}

namespace {

// How far back the map learned (" of the last 40 days", and window_days):
// more than weights.window_days where the account posts less often
// (weights.window_posts). As text: an adopted database's columns may be of
// another type, or hold something else, which says nothing.
std::string learned_window(std::optional<std::string> const& start_text,
                           std::optional<std::string> const& end_text, check_result& c)
{
    auto const start = start_text ? parse_timestamp(*start_text) : std::nullopt;
    auto const end = end_text ? parse_timestamp(*end_text) : std::nullopt;
    if (!start || !end || *end <= *start) {
        return {};
    }
    double const days = days_between(*start, *end);
    c.numbers["window_days"] = std::round(days * 10) / 10;
    return fmt::format(" of the last {:.0f} days", days);
}

// The active map read once (at most one: a partial unique index), its age at
// $1. Then the maps another program wrote since xloop-build-weights wrote its
// first (of the ledger's runs): computed after that run and not one of its
// runs' map_id (a map's key may be a bigint, a uuid or text: compared as
// text), and active or computed within the last $2 days before $1 (a job
// stopped since is not named for ever). How many, and the newest's id,
// computed_at and whether it is the active one; xloop-build-weights' newest.
constexpr char const* active_map_sql = R"sql(
WITH ours AS (
    SELECT detail ->> 'map_id' AS id, started_at
      FROM xloop.job_runs
     WHERE job = 'build-weights' AND status = 'ok' AND detail ->> 'map_id' IS NOT NULL),
others AS (
    SELECT count(*) AS n, (array_agg(m.id::text ORDER BY m.computed_at DESC))[1] AS id,
           (array_agg(m.computed_at::text ORDER BY m.computed_at DESC))[1] AS computed_at,
           coalesce(bool_or(m.is_active), false) AS active,
           (SELECT id FROM ours ORDER BY started_at DESC LIMIT 1) AS ours
      FROM public.learning_model_weights m
     WHERE m.computed_at > (SELECT min(started_at) FROM ours)
       AND m.id::text NOT IN (SELECT id FROM ours)
       AND (m.is_active OR (m.computed_at > $1::timestamptz - make_interval(days => $2::int)
                            AND m.computed_at <= $1::timestamptz)))
SELECT (SELECT count(*) FROM public.learning_model_weights WHERE is_active),
       -- an infinite computed_at (another program's) is no age: as if none
       CASE WHEN isfinite(a.computed_at)
            THEN extract(epoch FROM $1::timestamptz - a.computed_at) / 3600 END,
       a.sample_size, a.id, coalesce(a.posteriors::text, 'null'),
       a.date_range_start::text, a.date_range_end::text,
       coalesce(a.computed_at::text, 'NULL'),
       f.n, f.id, f.computed_at, f.active, f.ours
  FROM (SELECT 1) one
  LEFT JOIN (SELECT * FROM public.learning_model_weights WHERE is_active LIMIT 1) a ON true
 CROSS JOIN others f)sql";

// A learner other than xloop-build-weights writing maps (the original bot's
// job, left running): plan then draws from whichever wrote last. The active
// map being one of its fails; its maps otherwise warn. Empty when none.
// `r` is active_map_sql's row, whose columns from 8 on are these maps'.
std::optional<check_result> foreign_maps_check(db_result const& r)
{
    auto const n = r.i64(0, 8);
    if (n == 0) {
        return std::nullopt;
    }
    auto c = make("weight_map", r.boolean(0, 11) ? "fail" : "warn", "");
    c.numbers = {{"maps_by_another_program", n}};
    auto const which = fmt::format(
        "{} {} of learning_model_weights since xloop-build-weights wrote its first {} "
        "written by another program (the newest: id {}, computed_at {}{}), where "
        "xloop-build-weights' newest is id {}",
        n, n == 1 ? "map" : "maps", n == 1 ? "was" : "were", r.str(0, 9), r.str(0, 10),
        r.boolean(0, 11) ? ", the active one" : "", r.str(0, 12));
    c.message = fmt::format(
        "{}: is the original bot's build-weights job still running? Stop it: two "
        "learners take turns and plan draws from whichever wrote last",
        which);
    return c;
}

// The active map's age against validate.max_map_age_hours, then its sample.
void judge_map_age(check_context& x, double age, std::int64_t sample,
                   std::string const& over, check_result& c)
{
    auto const& v = x.cfg.validate;
    if (age > 2 * v.max_map_age_hours) {
        c.status = "fail";
        c.message = fmt::format("the active map is {} (limit {}): run "
                                "xloop-build-weights; {}",
                                old_text(age), hours_text(v.max_map_age_hours),
                                x.last_run("build-weights"));
    } else if (age > v.max_map_age_hours) {
        c.status = "warn";
        c.message = fmt::format("the active map is {} (limit {})", old_text(age),
                                hours_text(v.max_map_age_hours));
    } else if (sample < v.min_map_sample) {
        c.status = "warn";
        c.message =
            fmt::format("the active map learned from {}{} only",
                        counted(sample, "post or reply", "posts and replies"), over);
    } else {
        c.message =
            fmt::format("the active map is {} and learned from {}{}", old_text(age),
                        counted(sample, "post or reply", "posts and replies"), over);
    }
}

} // namespace

check_result weight_map_check(check_context& x)
{
    auto const r = x.db.exec(active_map_sql, x.now, x.days);
    auto c = make("weight_map", "ok", "");
    auto const active = r.i64(0, 0);
    c.numbers = {{"active_maps", active}};
    if (active == 0) {
        c.status = "fail";
        c.message = fmt::format("no active weight map: run xloop-build-weights (it needs "
                                "{} posts with v2 metrics); {}",
                                x.cfg.weights.min_posts, x.last_run("build-weights"));
        return c;
    }
    auto const foreign = foreign_maps_check(r);
    if (foreign && foreign->status == "fail") {
        return *foreign;
    }
    auto const posteriors = stored_json(r.str(0, 4)); // read once: it may be large
    if (auto const why = unusable_active_map(r.str(0, 3), posteriors)) {
        c.status = "fail";
        c.message = *why;
        return c;
    }
    auto const sample = r.is_null(0, 2) ? 0 : r.i64(0, 2);
    c.numbers["sample_size"] = sample;
    if (r.is_null(0, 1)) { // written by another program
        c.numbers["age_hours"] = nullptr;
        c.status = "fail";
        c.message = fmt::format("the active map's computed_at is {}: it has no age to "
                                "judge it by; run xloop-build-weights; {}",
                                r.str(0, 7), x.last_run("build-weights"));
        return c;
    }
    double const age = r.f64(0, 1);
    c.numbers["age_hours"] = age;
    auto const over = learned_window(r.opt_str(0, 5), r.opt_str(0, 6), c);
    judge_map_age(x, age, sample, over, c);
    if (auto const w = post_hour_zone_warning(x.cfg); !w.empty() && c.status == "ok") {
        c.status = "warn";
        c.message += "; " + w;
    }
    if (auto const undrawn = undrawn_best_values(posteriors, plan_catalogue(x.cfg.plan),
                                                 0.5, min_learned_posts);
        !undrawn.empty()) {
        c.numbers["undrawn_best_values"] = undrawn.size();
        add_warning(c, undrawn_best_text(undrawn));
    }
    // in another zone's hours the warning above says what is wrong
    if (auto const hour = undrawn_best_hour(posteriors, x.cfg.plan, min_learned_posts);
        hour && post_hour_zone_warning(x.cfg).empty()) {
        c.numbers["undrawn_best_hour"] = hour->posts;
        add_warning(c, undrawn_hour_text(*hour, x.cfg.plan));
    }
    if (foreign) {
        add_warning(c, foreign->message);
        c.numbers.update(foreign->numbers);
    }
    return c;
}

} // namespace xloop::checks
