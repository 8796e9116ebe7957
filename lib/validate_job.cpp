#include "validate_job.hpp"

#include "app.hpp"

#include "learn_replies_job.hpp"
#include "lock_holders.hpp"
#include "log.hpp"
#include "map_shape.hpp"
#include "policy_value.hpp"
#include "reply_opportunity.hpp"
#include "stored_values.hpp"
#include "text.hpp"
#include "validate_schema.hpp"

#include <fmt/ranges.h>

#include <algorithm>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <sys/stat.h>
#include <unistd.h>

namespace xloop {

namespace {

check_result make(std::string name, std::string status, std::string message)
{
    return {std::move(name), std::move(status), std::move(message),
            nlohmann::json::object()};
}

// A warning added to a check: an ok one becomes a warning, a failing one
// stays failed; either way its message says it.
void add_warning(check_result& c, std::string_view what)
{
    if (c.status == "ok") {
        c.status = "warn";
    }
    c.message += "; ";
    c.message += what;
}

// How long before now something happened, "5 min ago"; or how far after now
// (a clock behind the database's, a --now in the past): "3.0 h in the future".
std::string ago_text(double h)
{
    return h > -1.0 / 60 ? hours_text(h) + " ago" : hours_text(-h) + " in the future";
}

// The same of something made then: "5 min old", "dated 3.0 h in the future".
std::string old_text(double h)
{
    return h > -1.0 / 60 ? hours_text(h) + " old"
                         : "dated " + hours_text(-h) + " in the future";
}

struct job_state {
    std::optional<double> last_ok_hours; // how long ago, at --now
    std::string last_status;
    std::string last_error;
    std::int64_t runs = 0;   // in the window of the coverage checks
    std::int64_t failed = 0; // of those
    std::string last_failure;
    // scrape-metrics' runs of the window: file records skipped (--skip-bad)
    // as bad lines, or as observed before their post was posted.
    std::int64_t skipped_lines = 0;
    std::int64_t observed_before_posting = 0;
    std::int64_t non_public_refused = 0;  // runs X refused non-public metrics
    std::int64_t followers_limited = 0;   // runs X rate-limited the follower count
    std::int64_t tweets_deferred = 0;     // runs X's rate limit left due posts for later
    std::int64_t posted_at_off = 0;       // posts X says were posted at another time
    std::int64_t expired_age_unknown = 0; // opportunities plan expired for want of a time
};

// Each job's last ok run (hours before now), its last run's status and error
// or skip reason, and its runs and failures in the last `days`, in one
// statement for all the jobs (a statement each cost a fifth of an idle run).
// started_at is the --now the run used: freshness in the same clock. Last,
// the records scrape-metrics' runs of the window skipped.
// A count the run's detail holds under `key`, or NULL where it holds
// anything else (another program's text, a number no count is): nested
// CASEs, since PostgreSQL may evaluate an AND's operands in any order.
std::string detail_count_sql(char const* key)
{
    return fmt::format("CASE WHEN jsonb_typeof(detail->'{0}') = 'number' THEN CASE WHEN "
                       "(detail->>'{0}')::numeric BETWEEN 0 AND 1e12 THEN "
                       "(detail->>'{0}')::numeric END END",
                       key);
}

std::string const job_state_sql = fmt::format(
    R"sql(
SELECT j.job,
       (SELECT extract(epoch FROM $2::timestamptz - max(started_at)) / 3600
          FROM xloop.job_runs
         WHERE job = j.job AND status = 'ok' AND started_at <= $2::timestamptz),
       l.status, coalesce(l.error, l.detail->>'reason'),
       w.runs, w.failed,
       (SELECT error FROM xloop.job_runs
         WHERE job = j.job AND status = 'failed' AND started_at <= $2::timestamptz
           AND started_at > $2::timestamptz - make_interval(days => $3::int)
         ORDER BY started_at DESC, id DESC LIMIT 1),
       l.status = 'running' AND l.detail ? 'backend_pid' AND NOT EXISTS (
           SELECT 1 FROM pg_stat_get_activity((l.detail->>'backend_pid')::int) a
            WHERE a.backend_start IS NULL -- another role's: not ours to judge
               OR a.backend_start = (l.detail->>'backend_start')::timestamptz),
       l.started_at, w.skipped_lines, w.observed_before_posting, w.non_public_refused,
       w.followers_limited, w.tweets_deferred, w.posted_at_off, w.expired_age_unknown
  FROM unnest($1::text[]) AS j(job)
  CROSS JOIN LATERAL (
      SELECT count(*) AS runs,
             count(*) FILTER (WHERE status = 'failed') AS failed,
             coalesce(sum({0}), 0)::int8 AS skipped_lines,
             coalesce(sum({1}), 0)::int8 AS observed_before_posting,
             count(*) FILTER (WHERE detail->>'x_api_non_public_refused' = 'true')
                 AS non_public_refused,
             count(*) FILTER (WHERE detail->>'x_api_followers_rate_limited' = 'true')
                 AS followers_limited,
             count(*) FILTER (WHERE {2} > 0) AS tweets_deferred,
             coalesce(max({3}), 0)::int8 AS posted_at_off,
             coalesce(sum({4}), 0)::int8 AS expired_age_unknown
        FROM xloop.job_runs
       WHERE job = j.job AND started_at <= $2::timestamptz
         AND started_at > $2::timestamptz - make_interval(days => $3::int)) w
  LEFT JOIN LATERAL (
      SELECT status, error, detail, started_at FROM xloop.job_runs
       WHERE job = j.job AND started_at <= $2::timestamptz
       ORDER BY started_at DESC, id DESC LIMIT 1) l ON true
)sql",
    detail_count_sql("skipped_lines"), detail_count_sql("observed_before_posting"),
    detail_count_sql("x_api_tweets_deferred"), detail_count_sql("posted_at_off"),
    detail_count_sql("expired_age_unknown"));

std::map<std::string, job_state> job_states(db_connection& db,
                                            std::vector<std::string> const& jobs,
                                            timestamp now, int days)
{
    auto const r = db.exec(job_state_sql, jobs, now, days);
    std::map<std::string, job_state> out;
    for (int i = 0; i < r.rows(); ++i) {
        job_state s;
        if (!r.is_null(i, 1)) {
            s.last_ok_hours = r.f64(i, 1);
        }
        s.last_status = r.opt_str(i, 2).value_or("");
        s.last_error = r.opt_str(i, 3).value_or("");
        s.runs = r.i64(i, 4);
        s.failed = r.i64(i, 5);
        s.last_failure = r.opt_str(i, 6).value_or("");
        s.skipped_lines = r.i64(i, 9);
        s.observed_before_posting = r.i64(i, 10);
        s.non_public_refused = r.i64(i, 11);
        s.followers_limited = r.i64(i, 12);
        s.tweets_deferred = r.i64(i, 13);
        s.posted_at_off = r.i64(i, 14);
        s.expired_age_unknown = r.i64(i, 15);
        if (s.last_status == "running" && s.last_error.empty()) {
            // A row without its end: a run going on, or one that died
            // unrecorded (kill -9) whose connection is gone.
            s.last_error =
                r.boolean(i, 7)
                    ? "was abandoned: its connection is gone (killed, or the database "
                      "restarted); the job's next run marks it interrupted"
                    : fmt::format("started at {} and is still going (its connection "
                                  "is open)",
                                  stored_timestamp_text(r.str(i, 8)));
        }
        out.emplace(r.str(i, 0), std::move(s));
    }
    return out;
}

std::string last_run_text(std::string const& job, job_state const& s)
{
    return s.last_ok_hours ? fmt::format("xloop-{}'s last ok run was {}", job,
                                         ago_text(*s.last_ok_hours))
                           : fmt::format("xloop-{} has never run ok", job);
}

// Why plan cannot use the active map (its id, its posteriors as JSON text), if so.
std::optional<std::string> unusable_active_map(std::string const& id,
                                               std::string const& posteriors)
{
    auto const why = unusable_map_reason(stored_json(posteriors));
    if (!why) {
        return std::nullopt;
    }
    return fmt::format("the active map (id {}) cannot be used by xloop-plan: {}; run "
                       "xloop-build-weights (plan draws uniformly until then)",
                       id, *why);
}

double ratio(std::int64_t part, std::int64_t whole)
{
    return whole > 0 ? static_cast<double>(part) / static_cast<double>(whole) : 0.0;
}

// What the checks read: the connection, the thresholds, the window, and each
// job's state, read once (the coverage checks name the job to run, the
// job:<name> checks judge it).
struct check_context {
    db_connection& db;
    config const& cfg;
    timestamp now;
    int days;
    std::map<std::string, job_state> jobs;
    bool has_as_uuid = false;         // xloop.as_uuid, which 0014 creates
    std::optional<std::string> own{}; // the account's own key, read once

    job_state const& job(std::string const& name)
    {
        auto it = jobs.find(name);
        if (it == jobs.end()) {
            it = jobs.emplace(name, job_states(db, {name}, now, days).at(name)).first;
        }
        return it->second;
    }
    // "the last {}": "3 days", or "day"
    std::string last_days() const { return last_days_text(days); }
    std::string last_run(std::string const& name)
    {
        return last_run_text(name, job(name));
    }
    // account_key(own_handle()), or "" when not known
    std::string const& own_key()
    {
        if (!own) {
            own = account_key(own_handle(db, cfg));
        }
        return *own;
    }
};

bool nothing_to_count(db_connection& db)
{
    return !db.exec(R"sql(
SELECT to_regclass('xloop.vw_learning') IS NOT NULL
   AND to_regclass('xloop.job_runs') IS NOT NULL
   AND to_regclass('public.outcomes') IS NOT NULL)sql")
                .boolean(0, 0);
}

check_result v2_coverage_check(check_context& x)
{
    // With the outcomes another program collected since xloop-scrape-metrics'
    // first ok run (data_source none of xloop's): the original bot's metrics
    // job left running, whose scores replace xloop's until its next run.
    auto const r = x.db.exec(R"sql(
SELECT count(*), count(primary_objective_score),
       count(*) FILTER (WHERE data_source::text IS DISTINCT FROM 'x-api'
                          AND data_source::text IS DISTINCT FROM 'file'
                          AND collected_at > (SELECT min(started_at) FROM xloop.job_runs
                                               WHERE job = 'scrape-metrics'
                                                 AND status = 'ok')),
       (array_agg(coalesce(data_source::text, 'NULL') ORDER BY collected_at DESC)
            FILTER (WHERE data_source::text IS DISTINCT FROM 'x-api'
                      AND data_source::text IS DISTINCT FROM 'file'))[1]
  FROM public.outcomes
 WHERE collected_at > $1::timestamptz - make_interval(days => $2::int)
   AND collected_at <= $1::timestamptz)sql",
                             x.now, x.days);
    auto const total = r.i64(0, 0);
    auto const v2 = r.i64(0, 1);
    auto const others = r.i64(0, 2);
    auto c = make("v2_coverage", "ok", "");
    c.numbers = {{"outcomes", total},
                 {"with_v2", v2},
                 {"coverage", ratio(v2, total)},
                 {"by_another_program", others}};
    if (total == 0) {
        c.status = "fail";
        c.message = fmt::format("no outcomes collected in the last {}: run "
                                "xloop-scrape-metrics; {}",
                                x.last_days(), x.last_run("scrape-metrics"));
    } else if (ratio(v2, total) < x.cfg.validate.min_v2_coverage) {
        c.status = "fail";
        c.message = fmt::format("{} of {} outcomes have v2 metrics: run "
                                "xloop-scrape-metrics; {}",
                                v2, total, x.last_run("scrape-metrics"));
    } else {
        c.message = fmt::format("{} of {} outcomes of the last {} have v2 metrics", v2,
                                total, x.last_days());
    }
    if (others > 0) {
        add_warning(
            c,
            fmt::format("another program wrote {} since xloop-scrape-metrics' first run "
                        "(data_source {:?}): if it is the original bot's metrics job, "
                        "stop it (its "
                        "scores replace xloop's until the next run)",
                        counted(others, "of them", "of them"),
                        example_text(r.opt_str(0, 3).value_or(""), 40)));
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
        c.message = fmt::format("{} of {} items of the last {} have a content_slot: "
                                "queue content with xloop-plan",
                                slotted, total, x.last_days());
    } else {
        c.message = fmt::format("{} of {} items of the last {} have a content_slot",
                                slotted, total, x.last_days());
    }
    return c;
}

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

// The queue at $1 (now): overdue past $2 seconds, items before $3 (after
// it: never due), the oldest, the last post, the never-due and the unscheduled.
constexpr char const* queue_sql = R"sql(
WITH taken AS (
    -- xloop's items due in the last $4 days that the poster took: failed or posted
    SELECT count(*) FILTER (WHERE i.status::text = 'failed') AS failed,
           count(*) FILTER (WHERE i.status::text = 'posted') AS posted,
           (array_agg(coalesce(i.error_message, 'no error_message')
                      ORDER BY i.scheduled_at DESC)
                FILTER (WHERE i.status::text = 'failed'))[1] AS error
      FROM public.content_generation_metadata_comprehensive i
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
       (SELECT n FROM others), (SELECT source FROM others), (SELECT latest FROM others)
  FROM public.content_generation_metadata_comprehensive q
 WHERE q.status = 'queued')sql";

// What queue_sql reads, by name.
struct queue_state {
    std::int64_t overdue = 0;
    std::int64_t queued = 0;
    std::string oldest_due;       // as stored where it is no readable time
    double oldest_hours_late = 0; // -infinity's: infinite
    std::optional<std::string> last_post;
    std::int64_t never_due = 0;    // infinity or after 2199: another program's "hold"
    std::string never_due_example; // the latest of them, as stored
    std::int64_t unscheduled = 0;  // no scheduled_at (the original bot's rows)
    std::int64_t failed = 0;       // xloop's items due in the window the poster failed
    std::int64_t posted = 0;       // … and posted
    std::optional<std::string> failed_error; // the latest failure's error_message
    std::int64_t others = 0;                 // items another program wrote in the window
    std::optional<std::string> others_source, others_latest;
};

queue_state read_queue(check_context& x)
{
    auto const r =
        x.db.exec(queue_sql, x.now, x.cfg.validate.max_queue_delay_hours * 3600,
                  readable_times_end, x.days);
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
    q.others = r.i64(0, 11);
    q.others_source = r.opt_str(0, 12);
    q.others_latest = r.opt_str(0, 13);
    return q;
}

// The remarks the queue check appends to its message, each empty where it
// does not apply, each beginning with "; ".
struct queue_remarks {
    std::string failed, others, never_due, unscheduled;
};

queue_remarks remarks_of(queue_state const& q, std::string const& last_days)
{
    queue_remarks out;
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
                 {"overdue", q.overdue},
                 {"never_due", q.never_due},
                 {"unscheduled", q.unscheduled},
                 {"failed_in_window", q.failed},
                 {"posted_in_window", q.posted}};
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
        c.status = q.never_due == 0 && q.failed == 0 && q.others == 0 ? "ok" : "warn";
        c.message = fmt::format("{} queued, none more than {} past its time{}{}{}{}",
                                q.queued, hours_text(hours), more.failed, more.others,
                                more.never_due, more.unscheduled);
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
    c.message += more.failed + more.others + more.never_due + more.unscheduled;
    return c;
}

check_result learning_view_check(check_context& x)
{
    auto const r = x.db.exec(R"sql(
SELECT count(*), count(*) FILTER (WHERE has_v2_metrics),
       count(*) FILTER (WHERE decision_type = 'reply')
  FROM xloop.vw_learning
 WHERE posted_at > $1::timestamptz - make_interval(days => $2::int)
   AND posted_at <= $1::timestamptz)sql",
                             x.now, x.days);
    auto c = make("vw_learning", "ok", "");
    auto const replies = r.i64(0, 2);
    c.numbers = {{"rows", r.i64(0, 0)},
                 {"posts", r.i64(0, 0) - replies},
                 {"replies", replies},
                 {"with_v2", r.i64(0, 1)}};
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
    return c;
}

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
    if (auto const why = unusable_active_map(r.str(0, 3), r.str(0, 4))) {
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
    if (foreign) {
        add_warning(c, foreign->message);
        c.numbers.update(foreign->numbers);
    }
    return c;
}

// {0} the handle pattern, {1} the account key of target_username; $1 now,
// $2 the reply window in days, $3 the account's own key (own_handle()
// lower-cased, or ''): its replies to itself teach nothing (learn-replies).
constexpr char const* reply_priorities_sql = R"sql(
SELECT (SELECT count(*)
          FROM (SELECT DISTINCT {1}
                  FROM xloop.vw_learning
                 WHERE decision_type = 'reply'
                   AND ltrim(btrim(target_username), '@') ~ '^{0}$'
                   AND {1} <> $3
                   AND posted_at > $1::timestamptz - make_interval(days => $2::int)
                   AND posted_at <= $1::timestamptz) accounts),
       (SELECT count(*) FROM public.discovered_accounts
         WHERE priority_score NOT IN (0, 0.5) AND priority_score BETWEEN 0 AND 1),
       (SELECT count(*) FROM public.discovered_accounts),
       (SELECT count(DISTINCT priority_score) FROM public.discovered_accounts),
       (SELECT min(priority_score)::text FROM public.discovered_accounts),
       -- NaN (a numeric holds it) or outside [0, 1]: plan ranks it as 0.5 or
       -- the nearest bound; how many, and one of them
       o.n, o.example
  FROM (SELECT count(*) AS n,
               min(format('@%s: %s', username, priority_score)) AS example
          FROM public.discovered_accounts
         WHERE NOT priority_score BETWEEN 0 AND 1) o)sql";

// The replies of the reply window that name no account answered: asked only
// when none does, to say why nothing can be learned.
std::int64_t unnamed_replies(check_context& x)
{
    return x.db
        .exec(R"sql(
SELECT count(*) FROM xloop.vw_learning
 WHERE decision_type = 'reply' AND coalesce(btrim(target_username), '') IN ('', '@')
   AND posted_at > $1::timestamptz - make_interval(days => $2::int)
   AND posted_at <= $1::timestamptz)sql",
              x.now, static_cast<int>(x.cfg.replies.window_days))
        .i64(0, 0);
}

check_result reply_priorities_check(check_context& x)
{
    // A priority of 0 is the original bot's constant, 0.5 no evidence. The
    // accounts replied to as learn-replies names them ('@Amy ' is amy);
    // counted from a DISTINCT, which may hash and scan in parallel (a
    // count(DISTINCT) sorts: 1.7 against 0.9 s over 250 000 replies).
    auto const r =
        x.db.exec(fmt::format(reply_priorities_sql, x_handle_pattern,
                              account_key_sql("target_username")),
                  x.now, static_cast<int>(x.cfg.replies.window_days), x.own_key());
    auto const replied = r.i64(0, 0);
    auto const accounts = r.i64(0, 2);
    // Every account at one value is a constant, not something learned.
    bool const all_same = accounts > 1 && r.i64(0, 3) == 1;
    auto const learned = all_same ? 0 : r.i64(0, 1);
    auto c = make("reply_priorities", "ok", "");
    auto const odd = r.i64(0, 5);
    c.numbers = {{"accounts_replied_to", replied},
                 {"accounts_with_priority", learned},
                 {"accounts", accounts},
                 {"accounts_with_odd_priority", odd}};
    if (all_same && replied > 0) {
        c.status = "fail";
        c.message = fmt::format(
            "all {} accounts have the same priority ({}): nothing was learned; run "
            "xloop-learn-replies; {}",
            accounts, r.opt_str(0, 4).value_or("NULL"), x.last_run("learn-replies"));
    } else if (replied == 0) {
        c.status = "warn";
        auto const unnamed = unnamed_replies(x);
        c.numbers["replies_naming_no_account"] = unnamed;
        c.message =
            unnamed == 0
                ? "no replies posted in the reply window yet: nothing to learn from"
                : unnamed_replies_text(unnamed, x.cfg.replies.window_days);
    } else if (ratio(learned, replied) < x.cfg.validate.min_priority_coverage) {
        c.status = "fail";
        c.message = fmt::format("{} replied to, {} with a learned priority: run "
                                "xloop-learn-replies; {}",
                                counted(replied, "account", "accounts"), learned,
                                x.last_run("learn-replies"));
    } else {
        c.message = fmt::format("{} replied to, {} with a learned priority",
                                counted(replied, "account", "accounts"), learned);
    }
    if (odd > 0) {
        c.status = c.status == "fail" ? "fail" : "warn";
        c.message +=
            fmt::format("; {} a priority_score that is no number in [0, 1] (e.g. {:?}): "
                        "plan ranks {} "
                        "as 0.5 or the nearest bound until xloop-learn-replies writes {}",
                        counted(odd, "account has", "accounts have"),
                        example_text(r.opt_str(0, 6).value_or(""), 60),
                        odd == 1 ? "it" : "them", odd == 1 ? "it" : "them");
    }
    return c;
}

// {0} why an opportunity is unusable, {1} its score as text; $1 now, $2 days.
// Last, the pending ones without a discovered_at, which plan will expire.
// A status that is none of plan's (4: a harvester writing 'new', 'Pending' or
// NULL) is unusable too: plan takes 'pending' ones only, and replies stopped
// while the check counted the harvester's rows as coming in.
constexpr char const* reply_opportunities_sql = R"sql(
SELECT to_char(max(discovered_at) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI"Z"'),
       extract(epoch FROM $1::timestamptz - max(discovered_at)) / 3600,
       count(*) FILTER (WHERE discovered_at > $1::timestamptz - make_interval(days => $2)),
       (SELECT count(*) FROM public.content_generation_metadata_comprehensive
         WHERE decision_type = 'reply'
           AND created_at > $1::timestamptz - make_interval(days => $2)
           AND created_at <= $1::timestamptz),
       count(*) FILTER (WHERE discovered_at > $1::timestamptz - make_interval(days => $2)
                          AND u.unusable IS NOT NULL),
       min(CASE u.unusable
           WHEN 1 THEN 'a tweet_author ' || coalesce(quote_literal(r.tweet_author), 'NULL')
                       || ' that is no X handle'
           WHEN 2 THEN 'a tweet_id ' || coalesce(quote_literal(r.tweet_id::text), 'NULL')
                       || ' that is no X post id'
           WHEN 3 THEN 'an opportunity_score ' || {1}
                       || ' that is no number plan can rank'
           WHEN 4 THEN 'a status ' || coalesce(quote_literal(r.status::text), 'NULL')
                       || ', where plan replies to ''pending'' ones'
           WHEN 5 THEN 'the account''s own post, tweet ' || r.tweet_id::text || ' by @'
                       || ltrim(btrim(r.tweet_author), '@')
           END) FILTER (WHERE discovered_at > $1::timestamptz - make_interval(days => $2)),
       (SELECT count(*) FROM public.reply_opportunities
         WHERE status = 'pending' AND discovered_at IS NULL)
  FROM public.reply_opportunities r
 CROSS JOIN LATERAL (
     SELECT CASE WHEN coalesce(r.status::text NOT IN ('pending', 'replied', 'expired',
                                                      'skipped'), true)
                 THEN 4 ELSE coalesce({0}, {2}) END AS unusable) u
 WHERE discovered_at <= $1::timestamptz AND isfinite(discovered_at))sql";

// 5 where a usable opportunity of the window is the account's own post, which
// plan passes over: by its handle ($3, check_context::own_key(), when known),
// or by a tweet id of its items of the window and the week before (a
// harvester's search reaches a week back; a hash of those ids only, not of
// every item). {0}: the author's account key.
constexpr char const* own_opportunity_sql = R"sql(
CASE WHEN discovered_at > $1::timestamptz - make_interval(days => $2)
      AND (($3 <> '' AND {0} = $3)
           OR r.tweet_id::text IN (
              SELECT c.tweet_id FROM public.content_generation_metadata_comprehensive c
               WHERE c.tweet_id IS NOT NULL
                 AND c.created_at > $1::timestamptz - make_interval(days => $2 + 7)))
     THEN 5 END)sql";

// Replies need opportunities, which a harvester outside xloop finds: when it
// stops, plan --replies has nothing to take and succeeds, and the replies
// end with no other sign for a month (the reply window).
check_result reply_opportunities_check(check_context& x)
{
    auto const hours = x.cfg.validate.max_opportunity_age_hours;
    // Those plan cannot reply to counted apart: a harvester writing only
    // such rows stops replies as surely as one that stopped.
    auto const r = x.db.exec(
        fmt::format(reply_opportunities_sql, unusable_opportunity_sql(),
                    opportunity_score_example_sql,
                    fmt::format(own_opportunity_sql, account_key_sql("r.tweet_author"))),
        x.now, x.days, x.own_key());
    auto const found = r.i64(0, 2);
    auto const replies = r.i64(0, 3);
    auto const unusable = r.i64(0, 4);
    // A harvester writing discovered_at as NULL: those waiting, and those
    // plan expired in the window (its ledger counts them).
    auto const unknown_age = r.i64(0, 6) + x.job("plan").expired_age_unknown;
    auto c = make("reply_opportunities", "ok", "");
    c.numbers = {{"found_in_window", found},
                 {"replies_in_window", replies},
                 {"unusable_in_window", unusable},
                 {"without_discovered_at", unknown_age}};
    if (found == 0 && replies == 0 && unknown_age == 0) {
        c.message = fmt::format("no reply opportunities and no replies in the last {}: "
                                "replies are not in use",
                                x.last_days());
        return c;
    }
    auto const age = r.is_null(0, 1) ? std::nullopt : std::optional{r.f64(0, 1)};
    c.numbers["newest_hours_ago"] = age ? nlohmann::json(*age) : nlohmann::json(nullptr);
    constexpr char const* write_the_time =
        "the harvester that fills reply_opportunities must write discovered_at, or "
        "leave it to its default (now())";
    if (unknown_age > 0 && (!age || found == 0 || *age > hours)) {
        c.status = "warn";
        c.message = fmt::format(
            "{} without a discovered_at, {}: xloop-plan expires them unreplied (a "
            "tweet of unknown age is never replied to); {}",
            counted(unknown_age, "opportunity", "opportunities"),
            !age || found == 0
                ? fmt::format("none with one in the last {}", x.last_days())
                : fmt::format("the newest with one {}", old_text(*age)),
            write_the_time);
        return c;
    }
    if (!age || *age > hours) {
        c.status = "warn";
        c.message = fmt::format(
            "{} in the last {}, but {}: replies stop until the harvester "
            "that fills reply_opportunities runs again",
            counted(replies, "reply", "replies"), x.last_days(),
            age ? fmt::format("no opportunity came in for {} (the newest at {})",
                              hours_text(*age), r.str(0, 0))
                : std::string{"reply_opportunities is empty"});
        return c;
    }
    c.message = fmt::format("{} came in during the last {}, the newest {}",
                            counted(found, "opportunity", "opportunities"), x.last_days(),
                            ago_text(*age));
    if (found > 0 && unusable == found) {
        c.status = "warn";
        c.message = fmt::format("none of the {} opportunities of the last {} can be "
                                "replied to (e.g. {}): fix the harvester that fills "
                                "reply_opportunities",
                                found, x.last_days(), r.str(0, 5));
    } else if (unusable > 0) {
        c.message += fmt::format("; {} of them cannot be replied to (e.g. {})", unusable,
                                 r.str(0, 5));
    }
    if (unknown_age > 0) {
        c.message += fmt::format("; {} without a discovered_at, which xloop-plan expires "
                                 "unreplied: {}",
                                 unknown_age, write_the_time);
    }
    return c;
}

// How many of a job's runs of the window met something (in the check's
// numbers), and what it means (in its message, when the check is ok).
void note_runs(check_result& c, char const* key, std::int64_t runs,
               std::string const& note)
{
    c.numbers[key] = runs;
    if (runs > 0 && c.status == "ok") {
        c.message += note;
    }
}

// What scrape-metrics' runs left out by choice (--skip-bad) or were refused
// (X's non-public metrics): told on an ok check, not a failure.
void add_scrape_skips(check_context const& x, job_state const& s, check_result& c)
{
    c.numbers["skipped_lines_in_window"] = s.skipped_lines;
    c.numbers["observed_before_posting_in_window"] = s.observed_before_posting;
    std::vector<std::string> skipped;
    if (s.skipped_lines > 0) {
        skipped.push_back(counted(s.skipped_lines, "bad line", "bad lines"));
    }
    if (s.observed_before_posting > 0) {
        skipped.push_back(counted(s.observed_before_posting,
                                  "record observed before its post was posted",
                                  "records observed before their post was posted"));
    }
    if (!skipped.empty() && c.status == "ok") {
        // Skipped by choice (--skip-bad), so not a failure; but metrics
        // the loop never saw.
        c.message += fmt::format("; its runs of the last {} skipped {} "
                                 "(--skip-bad; their logs name them)",
                                 x.last_days(), fmt::join(skipped, " and "));
    }
    // A request more per run, and no profile clicks to learn from.
    note_runs(c, "non_public_refused_runs_in_window", s.non_public_refused,
              fmt::format("; X refused the non-public metrics (profile clicks) in {} of "
                          "the last {}: set x_api.non_public_metrics: false not to "
                          "ask, or x_api.auth: oauth1 to read them",
                          counted(s.non_public_refused, "run", "runs"), x.last_days()));
    // Fewer follower snapshots: follows attributed with less confidence.
    note_runs(c, "followers_rate_limited_runs_in_window", s.followers_limited,
              fmt::format("; X rate-limited the follower count in {} of the last {} "
                          "(the snapshots have gaps until it lifts): set "
                          "x_api.followers_every_minutes (60 on the Free tier's 25 "
                          "lookups a day)",
                          counted(s.followers_limited, "run", "runs"), x.last_days()));
    // A wrong posted_at misplaces what is learned from the post: its hour,
    // and the follower gains attributed to it. The most one run met (each
    // post is asked for at several checkpoints).
    c.numbers["posted_at_off_in_window"] = s.posted_at_off;
    if (s.posted_at_off > 0) {
        add_warning(
            c,
            fmt::format(
                "X says {} posted at another time than posted_at says (a run of the last "
                "{}; its log names one): the poster writes another time than the "
                "posting (a local time into a timestamp without time zone, the scheduled "
                "time), and post_hour and the follower attribution read it",
                counted(s.posted_at_off, "post was", "posts were"), x.last_days()));
    }
    // Metrics a run late: a post's checkpoint measured up to an interval after.
    note_runs(c, "tweets_deferred_runs_in_window", s.tweets_deferred,
              fmt::format("; X's rate limit left due posts for the next run in {} of the "
                          "last {} (their metrics come a run late; X's window is 15 "
                          "minutes: run it every 15 minutes to use each)",
                          counted(s.tweets_deferred, "run", "runs"), x.last_days()));
}

// Another program's transaction left open (a pooled client never
// released): it holds back vacuum on every table, and migrate and xloop's
// writes to the rows it changed wait for it. The tools name it when it stops
// them; this names it before.
check_result idle_transactions_check(check_context& x)
{
    double const minutes = x.cfg.validate.max_idle_transaction_minutes;
    auto const idle = idle_transactions_over(x.db, minutes);
    auto c = make("idle_transactions", "ok", "");
    c.numbers = {{"sessions", idle.count},
                 {"hidden_sessions", idle.hidden},
                 {"max_minutes", minutes}};
    if (idle.count == 0) {
        c.message = fmt::format("no session of this database has been idle in a "
                                "transaction for more than {} min",
                                minutes);
        if (idle.hidden > 0) {
            c.message += fmt::format(
                " that this role can see: it may not see the state of {} of other "
                "roles (GRANT pg_read_all_stats TO the role validate runs as shows them)",
                counted(idle.hidden, "session", "sessions"));
        }
        return c;
    }
    c.status = "warn";
    c.message = fmt::format(
        "{} {} idle in a transaction for more than {} min "
        "(validate.max_idle_transaction_minutes), left open by {} program: {}. It "
        "holds back vacuum on every table; xloop-migrate waits for it, and a write "
        "of xloop's to a row it changed waits database.lock_timeout_minutes, then "
        "exits 75. {}",
        idle.count, idle.count == 1 ? "session has been" : "sessions have been", minutes,
        idle.count == 1 ? "its" : "their", idle.named, leaked_session_hint);
    return c;
}

check_result job_check(check_context& x, std::string const& job, double interval_minutes)
{
    auto const& s = x.job(job);
    auto c = make("job:" + job, "ok", "");
    double const interval_h = interval_minutes / 60.0;
    c.numbers = {{"interval_minutes", interval_minutes},
                 {"last_ok_hours_ago", s.last_ok_hours ? nlohmann::json(*s.last_ok_hours)
                                                       : nlohmann::json(nullptr)},
                 {"last_status", s.last_status},
                 {"runs_in_window", s.runs},
                 {"failed_in_window", s.failed}};
    // How the latest run ended (or that it has not). A skip's reason may
    // begin with "skipped: " itself.
    std::string_view reason = s.last_error;
    if (auto const said = s.last_status + ": "; reason.substr(0, said.size()) == said) {
        reason.remove_prefix(said.size());
    }
    auto const latest =
        s.last_status == "running"
            ? fmt::format("its latest run {}", s.last_error)
            : fmt::format("its latest run {}: {}", s.last_status,
                          reason.empty() ? "(no reason recorded)" : excerpt(reason, 400));
    if (!s.last_ok_hours && !s.last_status.empty()) {
        c.status = "fail";
        c.message = fmt::format("xloop-{} has never run ok; {}", job, latest);
    } else if (!s.last_ok_hours) {
        c.status = "fail";
        c.message =
            fmt::format("xloop-{} has never run: install cron/xloop.crontab", job);
    } else if (*s.last_ok_hours > 3 * interval_h) {
        c.status = "fail";
        // Runs that fail say why; no run since the last ok one points at cron.
        c.message =
            fmt::format("{}, more than 3 intervals of {}: {}", last_run_text(job, s),
                        hours_text(interval_h),
                        s.last_status == "ok" ? "check cron and its mail" : latest);
    } else if (s.last_status == "failed") {
        c.status = "warn";
        c.message = fmt::format("the latest run failed: {}", s.last_error);
    } else if (*s.last_ok_hours > 1.5 * interval_h) {
        c.status = "warn";
        c.message = fmt::format("{} (runs every {})", last_run_text(job, s),
                                hours_text(interval_h));
    } else {
        c.message = last_run_text(job, s);
        if (s.failed > 0) {
            // Failures the next runs recovered from (a rate limit, an
            // outage): worth knowing, not a reason to stop.
            c.message += fmt::format("; {} of its {} runs of the last {} failed "
                                     "(latest: {})",
                                     s.failed, s.runs, x.last_days(),
                                     excerpt(s.last_failure, 100));
        }
    }
    if (job == "scrape-metrics") {
        add_scrape_skips(x, s, c);
    }
    return c;
}

// The clock check from one reading of the server's clock, timed by this
// machine's before and after.
check_result clock_check(db_connection& db, config const& cfg)
{
    auto const before = clock_now();
    // the server's clock minus ours before the round trip, computed by the
    // server (exact to the microsecond, where epochs as doubles would not
    // be); less half the round trip, minus ours at its midpoint
    auto const r = db.exec("SELECT extract(epoch FROM clock_timestamp() - "
                           "$1::timestamptz)::float8",
                           format_timestamp(before));
    auto const after = clock_now();
    double const round_trip = std::chrono::duration<double>(after - before).count();
    return clock_check_of(r.f64(0, 0) - round_trip / 2, round_trip / 2,
                          cfg.metrics.max_clock_skew_minutes);
}

// A clock difference in seconds, read at a glance.
std::string skew_text(double s)
{
    return s < 120 ? fmt::format("{:.1f} s", s) : hours_text(s / 3600);
}

} // namespace

check_result clock_check_of(double offset_s, double uncertainty_s,
                            double max_skew_minutes)
{
    check_result c{"clock", "ok", "", {}};
    c.numbers = {{"offset_seconds", std::round(offset_s * 1000) / 1000},
                 {"uncertainty_seconds", std::round(uncertainty_s * 1000) / 1000}};
    // what the reading shows at least
    double const apart = std::max(0.0, std::abs(offset_s) - uncertainty_s);
    if (apart <= 60) {
        c.message =
            fmt::format("this machine's clock and the database server's agree ({} apart)",
                        skew_text(std::abs(offset_s)));
        return c;
    }
    auto const which =
        fmt::format("this machine's clock is {} {} the database server's",
                    skew_text(std::abs(offset_s)), offset_s > 0 ? "behind" : "ahead of");
    if (apart > std::max(60.0, max_skew_minutes * 60)) {
        c.status = "fail";
        c.message = fmt::format(
            "{}, more than metrics.max_clock_skew_minutes ({}): times the two "
            "clocks stamped compare wrong by that much (a metrics file's fresh "
            "records refused as observed in the future or before their post was "
            "posted, the ages of the queue and of the opportunities off); sync both "
            "clocks (NTP: timedatectl set-ntp true)",
            which, max_skew_minutes);
        return c;
    }
    c.status = "warn";
    c.message = fmt::format(
        "{}: the tools stamp their rows with this machine's time, other programs "
        "(the poster, the harvester) with the server's; sync both clocks (NTP: "
        "timedatectl set-ntp true)",
        which);
    return c;
}

std::vector<check_result> run_checks(run_context& run, int days)
{
    check_context x{run.db(), run.cfg(), run.now(), days, {}};
    std::vector<check_result> out;
    out.push_back(schema_check(x.db, x.cfg, x.has_as_uuid));
    // a --now (a simulation, a test) has no clock to compare
    bool const real_clock = !run.options().now_text;
    if (out.back().status == "fail" && nothing_to_count(x.db)) {
        if (real_clock) {
            out.push_back(clock_check(x.db, x.cfg));
        }
        return out;
    }
    // the scheduled jobs at once (the four, unless the config leaves one out:
    // then that one when a check names it)
    std::vector<std::string> names;
    for (auto const& [job, interval] : x.cfg.validate.job_interval_minutes) {
        names.push_back(job);
    }
    x.jobs = job_states(x.db, names, x.now, x.days);
    for (auto const check :
         {v2_coverage_check, slot_coverage_check, posted_items_check, queue_check,
          learning_view_check, weight_map_check, reply_priorities_check,
          reply_opportunities_check, idle_transactions_check}) {
        out.push_back(check(x));
    }
    for (auto const& [job, interval] : x.cfg.validate.job_interval_minutes) {
        out.push_back(job_check(x, job, interval));
    }
    if (real_clock) {
        out.push_back(clock_check(x.db, x.cfg));
    }
    return out;
}

nlohmann::json report_json(std::vector<check_result> const& checks, bool ready)
{
    auto list = nlohmann::json::array();
    for (auto const& c : checks) {
        list.push_back({{"name", c.name},
                        {"status", c.status},
                        {"message", c.message},
                        {"numbers", c.numbers}});
    }
    return {{"verdict", ready ? "READY" : "NOT READY"}, {"checks", list}};
}

std::string report_table(std::vector<check_result> const& checks, bool ready, bool colour)
{
    auto paint = [&](std::string const& status) {
        if (!colour) {
            return fmt::format("{:<4}", status);
        }
        char const* code = status == "ok" ? "32" : status == "warn" ? "33" : "31";
        return fmt::format("\033[{}m{:<4}\033[0m", code, status);
    };
    std::size_t width = 5;
    for (auto const& c : checks) {
        width = std::max(width, c.name.size());
    }
    std::string out =
        fmt::format("{:<{}}  {:<4}  {}\n", "check", width, "", "why / what to do");
    for (auto const& c : checks) {
        // a message quotes data (names, ids): escaped, the colours are ours
        out += fmt::format("{:<{}}  {}  {}\n", c.name, width, paint(c.status),
                           escape_controls(c.message));
    }
    std::string verdict = ready ? "READY" : "NOT READY";
    if (colour) {
        verdict = fmt::format("\033[1;{}m{}\033[0m", ready ? "32" : "31", verdict);
    }
    out += fmt::format("\nverdict: {}\n", verdict);
    return out;
}

// What the logged choices are worth, where the schema has every table, view
// and column it reads: not on a database xloop-migrate has yet to run on,
// such as the original bot's, whose schema check says so. A pending
// migration that adds an index only leaves it as it is.
std::optional<policy_report> policy_value_of(run_context& run, check_result const& schema)
{
    if (!schema.numbers.value("missing", nlohmann::json::array()).empty()) {
        return std::nullopt;
    }
    return policy_report_of(run.db(), run.cfg(), run.now(), run.seed());
}

namespace {

// The page appears whole or not at all (a web server may be serving it):
// written beside it, then renamed over it; where its folder is not ours to
// write (a page made writable for xloop in /var/www), into the file itself.
// A symbolic link keeps its link (the file it points to is replaced); what is
// no file (/dev/stdout to a pipe, a FIFO, a device) is written into, never
// replaced (as root, a file took /dev/full's place). A path that cannot be a
// file is the command line's fault (64, refused before any work by
// check_html_path); a write that fails (a full disk) is not (75).
void write_whole_file(std::string const& path, std::string const& text)
{
    struct stat st {};
    bool const no_file = ::stat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode);
    std::string target = path;
    std::error_code ec;
    if (auto const resolved = std::filesystem::weakly_canonical(path, ec);
        !no_file && !ec) {
        target = resolved.string(); // through any symbolic link
    }
    auto const temp = fmt::format("{}.tmp-{}", target, ::getpid());
    std::ofstream out;
    if (!no_file) {
        out.open(temp, std::ios::binary);
    }
    bool const beside = out.is_open();
    if (!beside) {
        out.open(target, std::ios::binary | std::ios::trunc);
    }
    if (!out) {
        throw usage_error{
            fmt::format("--html: cannot write '{}': {}", path, std::strerror(errno))};
    }
    out << text;
    out.close();
    if (!out || (beside && std::rename(temp.c_str(), target.c_str()) != 0)) {
        auto const reason = std::strerror(errno);
        if (beside) {
            std::remove(temp.c_str());
        }
        throw temporary_failure{
            fmt::format("--html: cannot write '{}': {}", path, reason)};
    }
}

// A path that cannot be a file is refused before any work: a run that prints
// its table and then fails would tell cron two things.
void check_html_path(std::string const& path)
{
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec)) {
        throw usage_error{
            fmt::format("--html: cannot write '{}': it is a directory", path)};
    }
    auto const folder = std::filesystem::path{path}.parent_path();
    if (!folder.empty() && !std::filesystem::is_directory(folder, ec)) {
        throw usage_error{
            fmt::format("--html: cannot write '{}': {}", path, std::strerror(ENOENT))};
    }
}

} // namespace

void run_validate(run_context& run, validate_options const& opts)
{
    run.reads_only();
    if (opts.html_file) {
        check_html_path(*opts.html_file);
    }
    int const days = opts.days.value_or(run.cfg().validate.days);
    auto const checks = run_checks(run, days);
    bool const ready = std::none_of(checks.begin(), checks.end(),
                                    [](auto const& c) { return c.status == "fail"; });
    auto const report = report_json(checks, ready);
    for (auto const& [k, val] : report.items()) {
        run.summary()[k] = val;
    }
    run.summary()["days"] = days;
    run.detail()["verdict"] = report["verdict"];
    run.rows_out = static_cast<std::int64_t>(checks.size());
    auto const policies =
        opts.checks_only ? std::nullopt : policy_value_of(run, checks.front());
    if (policies) {
        run.summary()["policy_value"] = policy_report_json(*policies);
    }
    if (!run.options().json) {
        if (policies) {
            std::cout << escape_controls(policy_report_table(*policies)) << '\n';
        }
        std::cout << report_table(checks, ready, isatty(STDOUT_FILENO) != 0)
                  << std::flush;
    }
    if (opts.html_file) {
        auto series = read_report_series(run.db(), run.now(), days);
        series.policies = policies;
        write_whole_file(*opts.html_file, report_html(series, checks, ready, run.now()));
        log::info("wrote {}", *opts.html_file);
    }
    if (!ready) {
        run.success_code = exit_code::not_ready;
    }
}

} // namespace xloop
