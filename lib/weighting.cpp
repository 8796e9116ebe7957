#include "weighting.hpp"

#include <algorithm>
#include <cmath>

namespace xloop {

double recency_weight(double age_days, double half_life_days)
{
    return std::exp2(-std::max(age_days, 0.0) / half_life_days);
}

learning_window stretch_window(double window_days, double half_life_days, double max_days,
                               std::optional<double> reach_days)
{
    double const days =
        reach_days && std::isfinite(*reach_days)
            ? std::clamp(*reach_days, window_days, std::max(window_days, max_days))
            : window_days;
    return {days, half_life_days * days / window_days};
}

double group_stats::weighted_sd() const
{
    if (sum_w <= 0) {
        return 0;
    }
    double const m = weighted_mean();
    return std::sqrt(std::max(sum_wy2 / sum_w - m * m, 0.0));
}

posterior shrink_toward(group_stats const& g, double mu0, double kappa, double sigma)
{
    posterior p;
    p.mean = g.weighted_mean();
    p.n = g.n;
    p.n_eff = g.effective_n();
    p.weight_sum = g.sum_w;
    double const denom = g.sum_w + kappa;
    p.shrunk_mean = denom > 0 ? (g.sum_wy + kappa * mu0) / denom : mu0;
    p.sd = std::max(sigma, min_sd) / std::sqrt(std::max(denom, 1e-12));
    return p;
}

double decayed_epsilon(double epsilon, double decay_posts, double effective_posts)
{
    if (decay_posts <= 0) {
        return epsilon;
    }
    return epsilon * decay_posts / (decay_posts + std::max(effective_posts, 0.0));
}

} // namespace xloop
