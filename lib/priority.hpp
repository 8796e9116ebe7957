#pragma once

// Reply priorities (DESIGN §5.4): per account, the shrunk mean of its replies'
// scores toward the global reply mean μ₀, and priority = Φ((μ̂ − μ₀) / s), the
// posterior probability that replying to it beats the average reply. Pure.

#include "timestamp.hpp"
#include "weighting.hpp"

#include <optional>
#include <vector>

namespace xloop {

// The replies of one account that no other reply beats on both time and
// score (a Pareto frontier): enough to answer "latest reply scoring above θ"
// for any θ, in one pass, before θ = μ₀ is known.
class reply_frontier {
public:
    void add(timestamp at, double score);
    std::optional<timestamp> latest_above(double threshold) const;
    std::size_t size() const noexcept { return m_points.size(); }

private:
    // newest first, scores strictly increasing towards the back
    std::vector<std::pair<timestamp, double>> m_points;
};

struct account_priority {
    double reply_performance_score = 0; // μ̂
    double priority_score = 0.5;        // Φ((μ̂ − μ₀)/s)
    double sd = 0;                      // s
    std::int64_t n = 0;
    double n_eff = 0;
};

// `stats`: the account's recency-weighted reply scores; `mu0`, `sigma`: mean
// and sd of all replies in the window; `kappa`: prior strength in pseudo-replies.
account_priority reply_priority(group_stats const& stats, double mu0, double sigma,
                                double kappa);

} // namespace xloop
