#pragma once

// The learning target (DESIGN §5.6): what build-weights and learn-replies rank
// by. primary_objective_score is kept for the original's readers, but its
// engagement part has 1/40 the spread of its follower part, and attributed
// follows are mostly attribution noise, so ranking by it learns little.
// Instead each outcome's components are standardised over the learner's
// window and combined with configured weights:
//
//   y = Σ_k c_k·p_k·(x_k − μ_k)/σ_k / Σ_k c_k    over the components that vary
//
// with x = engagement rate, ln(1 + impressions) (reach), profile clicks and
// direct follows (where the source counts them) per impression, as
// ln((1 + count)/(1 + impressions)) so that reach's noise stays in reach,
// attributed follows (the attributed gain), and the original's
// primary_objective_score (weight 0 by default). p_k is how far a row's value
// counts: 1, 0 where it is missing (it counts as the mean), and for
// attributed follows their attribution_confidence: a gain measured across a
// gap in the snapshots (cron down, a revoked token) says little, and counts
// toward the mean, not toward 0 follows as gain × confidence
// (followers_gained_weighted) did. A component that does not vary in the
// window (σ = 0) counts as its mean (0).
// A target of primary_objective_score alone is the score itself, unscaled: the
// original's way, for comparison. Pure: the scales are computed by the caller.

#include "weighting.hpp"

#include <array>
#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace xloop {

inline constexpr std::size_t target_component_count = 6;

// In this order in outcome_components and in the jobs' queries.
inline constexpr std::array<char const*, target_component_count> target_component_names{
    "engagement_rate",        "reach", "profile_clicks", "follows", "attributed_follows",
    "primary_objective_score"};

// The one component that is a proxy for follows rather than a measure of them
// (weight_map's proxy_agreement decides how far it counts in each dimension).
inline constexpr std::size_t engagement_rate_component = 0;

// The one whose value counts only as far as its confidence.
inline constexpr std::size_t attributed_follows_component = 4;

// An outcome's components (nullopt: missing) and the confidence of its
// attributed follows.
struct outcome_components {
    std::array<std::optional<double>, target_component_count> x{};
    double attributed_confidence = 1;

    std::optional<double> const& operator[](std::size_t k) const { return x[k]; }
    std::optional<double>& operator[](std::size_t k) { return x[k]; }
    // p_k: how far x_k counts, 0 where it is missing or not finite.
    double presence(std::size_t k) const;
};

struct component_scale {
    double mean = 0;
    double sd = 0; // 0: the component does not vary, and is left out
};
using target_scales = std::array<component_scale, target_component_count>;

// A component's scale from its mean and spread. A spread below 1e-9 of the
// mean's size is rounding noise (a constant summed in another order), not
// variation: it counts as none, since
// dividing by it would turn the noise into the learning target.
component_scale make_scale(double mean, double sd);

// The configured weight of each component, in target_component_names' order.
std::array<double, target_component_count>
target_weights(std::map<std::string, double> const& configured);

// y of one outcome; nullopt when it has no usable component.
std::optional<double>
learning_target(outcome_components const& x, target_scales const& scales,
                std::array<double, target_component_count> const& c);

// Whether a row has any component the target weighs (c > 0): rows without
// one have no target and are left out.
bool has_target_component(outcome_components const& x,
                          std::array<double, target_component_count> const& c);

// The unweighted mean and sd (population) of each component over the rows
// that have it (p > 0): the scales, gathered in the same pass as the rows
// themselves.
class scale_sums {
public:
    void add(outcome_components const& x);
    target_scales scales() const;

private:
    std::array<double, target_component_count> m_n{}, m_shift{}, m_sum{}, m_sum2{};
};

// One group's rows, summed so that Σw·y of their learning targets follows
// once the window's scales are known (the mean of y, not its spread): y is
// linear in the components (z = p·(x − μ)/σ, p how far x counts), so
// Σw·y comes from Σw·p_k·x_k and Σw·p_k. On their own for the many small
// groups whose means alone are compared (a tenth of target_sums' size).
class target_mean_sums {
public:
    void add(double w, outcome_components const& x);
    void merge(target_mean_sums const& o);
    // n, W, Σw² and Σw·y of y = learning_target(x, scales, c); Σw·y² is 0.
    group_stats stats(target_scales const& scales,
                      std::array<double, target_component_count> const& c) const;
    // The same of each component's part of y (target_sums::component_stats).
    std::vector<group_stats>
    component_stats(target_scales const& scales,
                    std::array<double, target_component_count> const& c) const;
    std::int64_t rows() const { return m_n; }

private:
    friend class target_sums;
    static constexpr std::size_t K = target_component_count;
    std::int64_t m_n = 0;
    double m_w = 0, m_w2 = 0;
    std::array<double, K> m_sx{}, m_sp{};
};

// The same with the spread of y: Σw·y² comes from the pairwise
// Σw·p_j·p_k·x_j·x_k, Σw·p_j·p_k·x_j, Σw·p_j·p_k. One pass instead of a scan
// for the scales first.
class target_sums {
public:
    void add(double w, outcome_components const& x);
    void merge(target_sums const& o);
    // The group's stats of y = learning_target(x, scales, c) over its rows
    // (a row whose weighed components do not vary counts as y = 0).
    group_stats stats(target_scales const& scales,
                      std::array<double, target_component_count> const& c) const;
    // The same rows' stats of each component's part of y, a_k·p_k·(x_k − μ_k)
    // (their y's add up to the target's; a component the target does not
    // weigh has y = 0): for shrinking each on its own.
    std::vector<group_stats>
    component_stats(target_scales const& scales,
                    std::array<double, target_component_count> const& c) const;
    std::int64_t rows() const { return m_first.rows(); }

private:
    static constexpr std::size_t K = target_component_count;
    double cross(std::size_t j, std::size_t k, double mu_j, double mu_k) const;
    // Σw·p_j·p_k·x_j·x_k and Σw·p_j·p_k are symmetric: each pair once (a
    // free-text value keeps one of these per band, half and period)
    static constexpr std::size_t pairs = K * (K + 1) / 2;
    static constexpr std::size_t pair(std::size_t j, std::size_t k)
    {
        return j < k ? k * (k + 1) / 2 + j : j * (j + 1) / 2 + k;
    }
    target_mean_sums m_first; // n, W, Σw², Σw·p·x, Σw·p
    std::array<double, pairs> m_sxx{}, m_spp{};
    std::array<std::array<double, K>, K> m_sxp{};
};

} // namespace xloop
