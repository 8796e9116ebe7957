#include "priority.hpp"

#include "normal.hpp"

#include <algorithm>

namespace xloop {

void reply_frontier::add(timestamp at, double score)
{
    // dominated: some reply is at least as new and scores at least as well
    for (auto const& [t, y] : m_points) {
        if (t >= at && y >= score) {
            return;
        }
    }
    std::erase_if(m_points,
                  [&](auto const& p) { return p.first <= at && p.second <= score; });
    auto const pos = std::find_if(m_points.begin(), m_points.end(),
                                  [&](auto const& p) { return p.first < at; });
    m_points.insert(pos, {at, score});
}

std::optional<timestamp> reply_frontier::latest_above(double threshold) const
{
    // newest first: the first point above the threshold is the latest
    for (auto const& [t, y] : m_points) {
        if (y > threshold) {
            return t;
        }
    }
    return std::nullopt;
}

account_priority reply_priority(group_stats const& stats, double mu0, double sigma,
                                double kappa)
{
    auto const p = shrink_toward(stats, mu0, kappa, sigma);
    account_priority out;
    out.reply_performance_score = p.shrunk_mean;
    out.sd = p.sd;
    out.n = p.n;
    out.n_eff = p.n_eff;
    out.priority_score = normal_cdf((p.shrunk_mean - mu0) / p.sd);
    return out;
}

} // namespace xloop
