#pragma once

// Metrics v2 of one post (DESIGN §5.1): engagement rate and the primary
// objective score. Pure functions.

#include "config.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace xloop {

struct post_counts {
    std::optional<std::int64_t> impressions;
    std::optional<std::int64_t> likes;
    std::optional<std::int64_t> retweets;
    std::optional<std::int64_t> replies;
    std::optional<std::int64_t> quotes;
    std::optional<std::int64_t> bookmarks;
    std::optional<std::int64_t> profile_clicks;
    bool operator==(post_counts const&) const = default;
};

// (Σ counted fields) / impressions, clamped to [0, 1]; nullopt when the
// impressions are unknown, 0 when they are 0. Unknown counts count as 0.
std::optional<double> engagement_rate(post_counts const& c,
                                      std::vector<std::string> const& fields);

// clamp(er_weight·ER + follow_weight·σ(slope·(fgw − midpoint)), 0, 1). An unknown
// ER counts as 0 so every post with metrics gets a score (defect 1).
double primary_objective_score(std::optional<double> er, double fgw,
                               score_config const& s);

} // namespace xloop
