#include "scrape_inbox.hpp"

#include "app.hpp"

#include <fmt/format.h>

#include <cmath>

namespace xloop {

v2_window v2_window_of(run_context const& run)
{
    auto const& m = run.cfg().metrics;
    auto const write_from =
        run.now() - fractional_hours(24 * (std::ceil(m.max_age_days) + 1));
    return {write_from, write_from - fractional_hours(m.attribution_window_hours)};
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
