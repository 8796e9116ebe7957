// The series validate's HTML page charts, read in one place so that
// report_html (lib/validate_html.cpp) only draws.

#include "validate_job.hpp"

#include "db.hpp"
#include "stored_values.hpp"

#include <fmt/format.h>

#include <limits>

namespace xloop {

namespace {

constexpr char const* tables_exist = R"sql(
SELECT to_regclass('public.outcomes') IS NOT NULL
   AND to_regclass('xloop.vw_learning') IS NOT NULL)sql";

// Posts (and replies) per day of posting, and how many of them have a v2
// score: whether each day's posts got scored. By the day of their latest
// collection, as before, every post re-collected at a later age moved to
// that day, and the chart's first days were always empty. One scan of the
// span, grouped (a join per day read the span 14 times: 2.6 s at 10⁶ rows,
// 1.1 s now, as before). A NaN score is none (finite_sql()).
std::string const coverage_per_day = fmt::format(R"sql(
SELECT to_char(d, 'MM-DD'), coalesce(p.posts, 0), coalesce(p.scored, 0)
  FROM generate_series(date_trunc('day', $1::timestamptz)
                         - make_interval(days => $2::int - 1),
                       date_trunc('day', $1::timestamptz), interval '1 day') d
  LEFT JOIN (SELECT date_trunc('day', v.posted_at) AS day, count(*) AS posts,
                    count(*) FILTER (WHERE {}) AS scored
               FROM xloop.vw_learning v
              WHERE v.posted_at >= date_trunc('day', $1::timestamptz)
                                   - make_interval(days => $2::int - 1)
                AND v.posted_at <= $1::timestamptz
              GROUP BY 1) p ON p.day = d
 ORDER BY d)sql",
                                                 finite_sql("v.primary_objective_score"));

constexpr char const* followers_per_hour = R"sql(
SELECT to_char(date_trunc('hour', snapshot_at), 'MM-DD HH24:00'), max(follower_count)
  FROM public.follower_snapshots
 WHERE snapshot_at > $1::timestamptz - interval '30 days' AND snapshot_at <= $1::timestamptz
   AND follower_count IS NOT NULL
 GROUP BY date_trunc('hour', snapshot_at)
 ORDER BY date_trunc('hour', snapshot_at))sql";

constexpr char const* posts_per_day_and_slot = R"sql(
SELECT to_char(date_trunc('day', created_at), 'YYYY-MM-DD'),
       coalesce(nullif(content_slot, ''), '(none)'), count(*)
  FROM public.content_generation_metadata_comprehensive
 WHERE created_at > $1::timestamptz - make_interval(days => $2::int)
   AND created_at <= $1::timestamptz
 GROUP BY 1, 2
 ORDER BY 1, 2)sql";

// Only numbers a double holds, in objects: a legacy or broken map may hold
// arrays, nulls, text or 1e999 (jsonb's numbers are numeric).
std::string const active_weights = fmt::format(R"sql(
SELECT d.key, w.key, v.weight
  FROM public.learning_model_weights m,
       jsonb_each(CASE jsonb_typeof(m.weights::jsonb) WHEN 'object' THEN m.weights::jsonb
                  END) d,
       jsonb_each(CASE jsonb_typeof(d.value) WHEN 'object' THEN d.value END) w,
       LATERAL (SELECT {} AS weight) v
 WHERE m.is_active AND v.weight IS NOT NULL
 ORDER BY 1, 3 DESC, 2)sql",
                                               jsonb_float8_sql("w.value"));

constexpr char const* priority_histogram = R"sql(
SELECT b, count(a.*)
  FROM generate_series(1, 10) b
  LEFT JOIN public.discovered_accounts a
         ON width_bucket(a.priority_score, 0, 1.000001, 10) = b
 GROUP BY b
 ORDER BY b)sql";

} // namespace

report_series read_report_series(db_connection& db, timestamp now, int days)
{
    report_series s;
    s.days = days;
    if (!db.exec(tables_exist).boolean(0, 0)) {
        return s;
    }
    s.available = true;
    int const span = report_span_days(days);
    auto const coverage = db.exec(coverage_per_day, now, span);
    for (int i = 0; i < coverage.rows(); ++i) {
        auto const total = coverage.i64(i, 1);
        // NaN: nothing posted that day, nothing to cover
        s.coverage.emplace_back(coverage.str(i, 0),
                                total ? 100.0 * static_cast<double>(coverage.i64(i, 2)) /
                                            static_cast<double>(total)
                                      : std::numeric_limits<double>::quiet_NaN());
    }
    auto const followers = db.exec(followers_per_hour, now);
    for (int i = 0; i < followers.rows(); ++i) {
        s.followers.emplace_back(followers.str(i, 0), followers.f64(i, 1));
    }
    auto const posts = db.exec(posts_per_day_and_slot, now, span);
    for (int i = 0; i < posts.rows(); ++i) {
        s.posts_by_day[posts.str(i, 0)][posts.str(i, 1)] =
            static_cast<double>(posts.i64(i, 2));
    }
    auto const weights = db.exec(active_weights);
    for (int i = 0; i < weights.rows(); ++i) {
        s.weights[weights.str(i, 0)].emplace_back(weights.str(i, 1), weights.f64(i, 2));
    }
    auto const priorities = db.exec(priority_histogram);
    for (int i = 0; i < priorities.rows(); ++i) {
        s.priorities.emplace_back(
            fmt::format("{:.1f}", (priorities.i64(i, 0) - 1) / 10.0),
            static_cast<double>(priorities.i64(i, 1)));
    }
    return s;
}

} // namespace xloop
