#pragma once

// Weight maps (DESIGN §5.3): per dimension and canonical value, the shrunk
// posterior of the score and the weight (1 − ε)·P(best) + ε/K. Pure.

#include "weighting.hpp"

#include <map>
#include <optional>
#include <string>

namespace xloop {

// dimension → canonical value → accumulated observations
using dimension_stats = std::map<std::string, std::map<std::string, group_stats>>;

struct arm_estimate {
    posterior post;
    double p_best = 0;
    double weight = 0;
};

struct dimension_estimate {
    double prior_mean = 0; // μ₀: the dimension's weighted mean
    double sigma = 0;      // the dimension's weighted sd (before the floor)
    double epsilon = 0;    // its exploration floor, decayed with its evidence
    std::map<std::string, arm_estimate> arms;
};

using weight_map = std::map<std::string, dimension_estimate>;

// ε decays with each dimension's effective posts (decayed_epsilon); a
// decay of 0 keeps it fixed.
weight_map compute_weight_map(dimension_stats const& stats, double kappa, double epsilon,
                              double epsilon_decay_posts = 0);

// Why a map must not be activated (a weight that is not finite or outside
// [0, 1], a dimension whose weights do not sum to 1), or nothing: plan draws
// from whatever map is active, so a broken one would stop the loop.
std::optional<std::string> map_defect(weight_map const& map);

} // namespace xloop
