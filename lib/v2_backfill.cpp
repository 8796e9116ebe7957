#include "v2_backfill.hpp"

#include "config.hpp"
#include "db.hpp"
#include "scrape_inbox.hpp"
#include "stored_values.hpp"
#include "weighting.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace xloop {

double learners_reach_days(config const& cfg, std::optional<double> reach_days)
{
    auto const& w = cfg.weights;
    double const weights_days = w.window_posts > 0
                                    ? stretch_window(w.window_days, w.half_life_days,
                                                     w.max_window_days, reach_days)
                                          .days
                                    : w.window_days;
    return std::max(weights_days, cfg.replies.window_days);
}

bool never_scraped(db_connection& db)
{
    try {
        return db
            .exec("SELECT NOT EXISTS (SELECT FROM xloop.job_runs WHERE job = "
                  "'scrape-metrics' AND status = 'ok')")
            .boolean(0, 0);
    } catch (db_error const& e) {
        if (e.sqlstate() == "42501") { // a role that may not read the ledger
            return false;
        }
        throw;
    }
}

namespace {

// Whether any post or reply has an outcome to score (replies count here:
// learn-replies reads them); and, as build-weights' reach
// (lib/learning_target_db.cpp) over the posts with an outcome rather than
// those already scored, the age in days of the oldest of the newest $3 posts
// old enough to learn from, and a second (NULL with $3 = 0). The newest first
// by cgmc_posted_idx, each outcome one probe.
constexpr char const* reach_sql = R"sql(
SELECT EXISTS (SELECT FROM public.content_generation_metadata_comprehensive c
                WHERE c.status = 'posted' AND c.tweet_id IS NOT NULL
                  AND c.posted_at <= $1::timestamptz
                  AND EXISTS (SELECT FROM public.outcomes o
                               WHERE o.decision_id = c.decision_id)),
       (SELECT (floor(extract(epoch FROM $1::timestamptz - min(posted_at))) + 1) / 86400
          FROM (SELECT c.posted_at FROM public.content_generation_metadata_comprehensive c
                 WHERE c.status = 'posted' AND c.tweet_id IS NOT NULL
                   AND c.decision_type IS DISTINCT FROM 'reply'
                   AND c.posted_at <= $2::timestamptz AND isfinite(c.posted_at)
                   AND EXISTS (SELECT FROM public.outcomes o
                                WHERE o.decision_id = c.decision_id)
                 ORDER BY c.posted_at DESC LIMIT $3) p))sql";

} // namespace

std::optional<timestamp> learners_reach_start(db_connection& db, config const& cfg,
                                              timestamp now)
{
    auto const& w = cfg.weights;
    bool const stretches = w.window_posts > 0 && w.max_window_days > w.window_days;
    auto const r = db.exec(reach_sql, now, now - fractional_hours(w.min_age_hours),
                           static_cast<std::int64_t>(stretches ? w.window_posts : 0));
    if (!r.boolean(0, 0)) {
        return std::nullopt;
    }
    auto const reach =
        r.is_null(0, 1) ? std::nullopt : std::optional<double>{r.f64(0, 1)};
    return now - fractional_hours(24 * learners_reach_days(cfg, reach));
}

std::optional<unscored_history> unscored_in_reach(db_connection& db, config const& cfg,
                                                  timestamp now)
{
    auto const from = learners_reach_start(db, cfg, now);
    auto const to = v2_window_at(now, cfg.metrics).write_from;
    if (!from || *from >= to) {
        return std::nullopt;
    }
    // an outcome without a v2 score: NULL or NaN
    static std::string const sql =
        fmt::format(R"sql(
SELECT count(*) FROM public.content_generation_metadata_comprehensive c
 WHERE {} AND EXISTS (SELECT FROM public.outcomes o
                       WHERE o.decision_id = c.decision_id
                         AND NOT coalesce({}, false)))sql",
                    v2_range("$1::timestamptz", "$2::timestamptz"),
                    finite_sql("o.primary_objective_score"));
    auto const n = db.exec(sql, *from, to).i64(0, 0);
    if (n == 0) {
        return std::nullopt;
    }
    return unscored_history{n, *from, to};
}

} // namespace xloop
