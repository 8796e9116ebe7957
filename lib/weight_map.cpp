#include "weight_map.hpp"

#include "normal.hpp"

#include <fmt/format.h>

#include <cmath>
#include <vector>

namespace xloop {

weight_map compute_weight_map(dimension_stats const& stats, double kappa, double epsilon,
                              double epsilon_decay_posts)
{
    weight_map out;
    for (auto const& [dimension, groups] : stats) {
        if (groups.empty()) {
            continue;
        }
        group_stats all;
        for (auto const& [value, g] : groups) {
            all.merge(g);
        }
        auto& dim = out[dimension];
        dim.prior_mean = all.weighted_mean();
        dim.sigma = all.weighted_sd();
        std::vector<normal_belief> beliefs;
        for (auto const& [value, g] : groups) {
            auto& arm = dim.arms[value];
            arm.post = shrink_toward(g, dim.prior_mean, kappa, dim.sigma);
            beliefs.push_back({arm.post.shrunk_mean, arm.post.sd});
        }
        auto const p = probability_best(beliefs);
        double const k = static_cast<double>(groups.size());
        double evidence = 0;
        for (auto const& [value, arm] : dim.arms) {
            evidence += arm.post.n_eff;
        }
        dim.epsilon = decayed_epsilon(epsilon, epsilon_decay_posts, evidence);
        std::size_t i = 0;
        for (auto& [value, arm] : dim.arms) {
            arm.p_best = p[i++];
            arm.weight = (1 - dim.epsilon) * arm.p_best + dim.epsilon / k;
        }
    }
    return out;
}

std::optional<std::string> map_defect(weight_map const& map)
{
    for (auto const& [dimension, dim] : map) {
        double sum = 0;
        for (auto const& [value, arm] : dim.arms) {
            if (!std::isfinite(arm.weight) || arm.weight < 0 || arm.weight > 1) {
                return fmt::format("the weight of {} = '{}' is {}", dimension, value,
                                   arm.weight);
            }
            sum += arm.weight;
        }
        if (!dim.arms.empty() && std::abs(sum - 1) > 1e-6) {
            return fmt::format("the weights of {} sum to {}, not 1", dimension, sum);
        }
    }
    return std::nullopt;
}

} // namespace xloop
