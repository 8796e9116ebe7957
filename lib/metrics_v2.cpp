#include "metrics_v2.hpp"

#include <algorithm>
#include <cmath>

namespace xloop {

std::optional<double> engagement_rate(post_counts const& c,
                                      std::vector<std::string> const& fields)
{
    if (!c.impressions) {
        return std::nullopt;
    }
    if (*c.impressions <= 0) {
        return 0.0;
    }
    double sum = 0; // counts up to 2⁶³ each: their sum overflows an integer
    for (auto const& f : fields) {
        auto const& v = f == "likes"            ? c.likes
                        : f == "retweets"       ? c.retweets
                        : f == "replies"        ? c.replies
                        : f == "quotes"         ? c.quotes
                        : f == "bookmarks"      ? c.bookmarks
                        : f == "profile_clicks" ? c.profile_clicks
                                                : std::optional<std::int64_t>{};
        sum += static_cast<double>(v.value_or(0));
    }
    return std::clamp(sum / static_cast<double>(*c.impressions), 0.0, 1.0);
}

double primary_objective_score(std::optional<double> er, double fgw,
                               score_config const& s)
{
    double const sigmoid =
        1.0 / (1.0 + std::exp(-s.follow_slope * (fgw - s.follow_midpoint)));
    return std::clamp(s.er_weight * er.value_or(0.0) + s.follow_weight * sigmoid, 0.0,
                      1.0);
}

} // namespace xloop
