#include "scrape_inbox.hpp"

#include "app.hpp"
#include "config.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace xloop {

v2_window v2_window_at(timestamp now, metrics_config const& m)
{
    auto const from = now - fractional_hours(24 * (std::ceil(m.max_age_days) + 1));
    return {from, from - fractional_hours(m.attribution_window_hours), from, now, now};
}

v2_window v2_window_of(run_context const& run)
{
    return v2_window_at(run.now(), run.cfg().metrics);
}

std::vector<v2_window> backfill_slices(timestamp now, metrics_config const& m,
                                       timestamp from)
{
    auto const usual = v2_window_at(now, m);
    auto const span = usual.write_to - usual.write_from;
    // a post's window before a slice and two after it: the posts that share
    // follower gains with its own, and the snapshots that end their windows
    auto const context = fractional_hours(m.attribution_window_hours);
    std::vector<v2_window> out;
    for (auto a = from; a < usual.write_from;) {
        auto const b = std::min(a + span, usual.write_from);
        out.push_back(
            {a, a - context, usual.merge_from, b, std::min(b + 2 * context, now)});
        a = b;
    }
    return out;
}

std::string v2_range(std::string_view from, std::string_view to)
{
    return fmt::format("c.status = 'posted' AND c.tweet_id IS NOT NULL AND c.posted_at > "
                       "{} AND c.posted_at <= {}",
                       from, to);
}

std::string record_replaces(std::string_view r, std::string_view observed,
                            std::string_view source)
{
    return fmt::format(R"sql(
(o.collected_at IS NULL OR NOT isfinite(o.collected_at) OR o.collected_at < {1}
 OR (o.collected_at = {1}
     AND (o.impressions, o.likes, o.retweets, o.replies, o.quotes, o.bookmarks,
          o.profile_clicks, o.follows, o.data_source)
         IS DISTINCT FROM
         (coalesce({0}.impressions, o.impressions), coalesce({0}.likes, o.likes),
          coalesce({0}.retweets, o.retweets), coalesce({0}.replies, o.replies),
          coalesce({0}.quotes, o.quotes), coalesce({0}.bookmarks, o.bookmarks),
          coalesce({0}.profile_clicks, o.profile_clicks),
          coalesce({0}.follows, o.follows), {2}))))sql",
                       r, observed, source);
}

double clock_skew_seconds(run_context const& run)
{
    return run.cfg().metrics.max_clock_skew_minutes * 60;
}

std::string record_is_early(std::string_view observed, std::string_view posted,
                            std::string_view skew)
{
    return fmt::format("coalesce({} < {} - make_interval(secs => {}::float8), false)",
                       observed, posted, skew);
}

std::string observed_before_posting(std::string_view tweet_id, std::string_view observed,
                                    std::string_view posted)
{
    return fmt::format("tweet {} observed at {}, posted at {}", tweet_id, observed,
                       posted);
}

} // namespace xloop
