#pragma once

// Weight maps (DESIGN §5.3): per dimension and canonical value, the shrunk
// posterior of the score and the weight (1 − ε)·P(best) + ε/K. Pure.

#include "weighting.hpp"

#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace xloop {

// dimension → canonical value → accumulated observations
using dimension_stats = std::map<std::string, std::map<std::string, group_stats>>;

// The same, split by component of the learning target: per value one
// group_stats per component, whose y's add up to the target (build-weights'
// target_sums::component_stats). All of a value's entries hold the same rows.
using component_stats =
    std::map<std::string, std::map<std::string, std::vector<group_stats>>>;

struct arm_estimate {
    posterior post;
    double p_best = 0;
    double weight = 0;
};

struct dimension_estimate {
    double prior_mean = 0;     // μ₀: the dimension's weighted mean
    double sigma = 0;          // the dimension's weighted sd (before the floor)
    double prior_sd = 0;       // a value without posts: sqrt(Σ_k σ_k²/κ_k)
    double epsilon = 0;        // its exploration floor, decayed with its evidence
    std::vector<double> kappa; // per component: the shrinkage used (≥ κ)
    double proxy_trust = 1;    // the proxy component's share (proxy_agreement)
    std::map<std::string, arm_estimate> arms;
};

using weight_map = std::map<std::string, dimension_estimate>;

// Empirical Bayes: how many pseudo-posts to shrink a dimension's values by,
// from how much their means spread beyond what noise explains. With W_v and
// S_v the sum of a value's weights and of their squares (W, S over all
// values), m_v its mean and μ₀ the overall one, the noise variance is
//   σ² = Σ w·(y − m_v)² / Σ (W_v − S_v/W_v)
// and the spread of the true means (recency weights make a mean noisier than
// W_v posts would: its variance is σ²·S_v/W_v²)
//   τ² = max(0, (Σ W_v·(m_v − μ₀)² − σ²·(Σ S_v/W_v − S/W)) / (W − Σ W_v²/W))
// κ = σ²/τ², never below `kappa_floor`; a dimension whose values differ no
// more than noise gets all of its values pulled to μ₀ (κ = kappa_no_spread).
inline constexpr double kappa_no_spread = 1e9;
double empirical_kappa(std::vector<group_stats> const& values, double kappa_floor);

// How far a proxy component of the target (the engagement rate: well
// measured, but not what the account grows by) is trusted in a dimension:
// how much likelier it is that its values rank the way the rest of the target
// (reach, clicks, follows) ranks them than the other way round. Over the
// values (per value one group_stats per component; W_v, S_v its weights' sum
// and sum of squares, e_v the proxy's mean, u_v the sum of the other
// components' means, ē and ū their W-weighted means):
//   C = Σ W_v·(e_v − ē)·(u_v − ū),  Var C = σ_u²·Σ S_v·(e_v − ē)²,
//   trust = max(0, 2·Φ(C / sqrt(Var C)) − 1)
// with σ_u² the sum of the other components' pooled within-value variances.
// The proxy earns its say: 0 with no evidence either way and where it ranks
// the values against the rest (a call to engage raises the engagement rate
// and costs follows), → 1 as the two agree beyond noise; 1 where it does not
// tell the values apart or fewer than two values have rows.
double proxy_agreement(std::vector<std::vector<group_stats> const*> const& values,
                       std::size_t proxy);

// Each component of the target is shrunk on its own (empirical_kappa per
// dimension and component): a component that does not tell a dimension's
// values apart (reach for a hook, say) adds none of its noise to them. A
// value's shrunk mean is the sum of its components', its sd
// sqrt(Σ_k σ_k²/(W_v + κ_k)) with σ_k the component's sd over the dimension.
// ε decays with each dimension's effective posts (decayed_epsilon); a decay
// of 0 keeps it fixed. A `proxy` component's part (means and spread) is
// scaled by its proxy_agreement in each dimension. Values in `apart` (replies' own
// 'reply') get an arm but no say in the dimension's prior (mean, σ, κ): they are another
// population, many and of another reach, and would pull the posts' values
// that have little data toward themselves.
weight_map compute_weight_map(component_stats const& stats, double kappa, double epsilon,
                              double epsilon_decay_posts = 0,
                              std::set<std::string> const& apart = {},
                              std::optional<std::size_t> proxy = std::nullopt);

// One component: the target as a whole.
weight_map compute_weight_map(dimension_stats const& stats, double kappa, double epsilon,
                              double epsilon_decay_posts = 0,
                              std::set<std::string> const& apart = {});

// Why a map must not be activated (a weight that is not finite or outside
// [0, 1], a dimension whose weights do not sum to 1), or nothing: plan draws
// from whatever map is active, so a broken one would stop the loop.
std::optional<std::string> map_defect(weight_map const& map);

// A number of a map as build-weights stores it: rounded to 10 decimals, and
// above 1 to 10 significant digits, so that the same rows give the same bytes
// whatever order the server returns them in (sums differ in their last bits,
// relative to the value: a prior strength of 124 kept to 10 decimals showed
// them in one map of ten).
double stored_number(double v);

} // namespace xloop
