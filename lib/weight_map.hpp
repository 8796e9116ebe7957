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

// The same per period of posting (an index: weeks of age, say): value →
// period → one group_stats per component.
using period_cells = std::map<std::string, std::map<int, std::vector<group_stats>>>;

// Each value's stats net of when it was posted. The loop posts better in
// every dimension as it learns, so a value it stopped drawing early has only
// the early, weaker posts of the other dimensions, and looks worse than it is
// (the first value the loop settled on kept the later posts and looked best).
// Per component, y = α_t + β_v + noise is fitted over the cells (least squares
// by alternating means, α weighted to mean 0 over the rows), and each value's
// stats are those of y − α_t: its mean is β_v, compared within periods only.
// Values posted in one period alone are compared against that period's others.
std::map<std::string, std::vector<group_stats>> net_of_periods(period_cells const& cells);

// A value of a dimension: (dimension, value).
using value_id = std::pair<std::string, std::string>;

// What net_of_companions fits: each dimension's cells (as net_of_periods
// takes them), the stats of every row per period and component, and the Σw
// of the rows holding both values of a pair of dimensions (key: the smaller
// value_id first).
struct companion_cells {
    std::map<std::string, period_cells> cells;
    std::map<int, std::vector<group_stats>> periods;
    std::map<std::pair<value_id, value_id>, double> pairs;
};

// Each value's stats net of its period and of the other dimensions' values
// posted with it. The loop draws each dimension on its own, so those are
// noise to a value's mean, not bias: in eight dimensions with effects of
// +20-40 % on a rate with 40 % noise, nearly half a value's spread is its
// companions'. Per component, y = μ + α_t + Σ_d β_d,v + noise is fitted
// by block coordinate descent (α and each dimension's β weighted to mean 0
// over their rows; β with a ridge of `kappa` pseudo-posts, so a value with
// a few rows does not explain away its companions); a value's mean is
//   m_v = (Σw·y − Σ_t W_vt·α_t − Σ_{u of other dimensions} W_vu·β_u) / W_v
// and its spread around it net_of_periods' less its companions' (per
// dimension e, Σ_u W_vu·β_u² − (Σ_u W_vu·β_u)²/W_v). A dimension that depends on one
// fitted before it (Cramér's V of their values above 0.8, values in `apart` left out: a
// structure derived from the decision type) is not fitted, and neither is
// netted of the other. Without pairs: net_of_periods.
std::map<std::string, std::map<std::string, std::vector<group_stats>>>
net_of_companions(companion_cells const& c, double kappa,
                  std::set<std::string> const& apart = {});

// The companions' part of each value's mean in other rows: per set of rows
// given, dimension, value and component, Σ_u W_vu·β_u / W_v, with β the
// joint fit of `fit` (as net_of_companions fits it, the same companions
// taking part) and W_vu, W_v those of the rows (one period's, say). A
// value's mean less this part is its mean as if its companions had been
// the fit's average ones, whatever they were in those rows. Values or
// companions the fit has not seen count nothing; without pairs, empty.
std::vector<std::map<std::string, std::map<std::string, std::vector<double>>>>
companions_part(companion_cells const& fit,
                std::vector<companion_cells const*> const& rows, double kappa,
                std::set<std::string> const& apart = {});

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
// more than noise gets all of its values pulled to μ₀ (κ capped at 1e9).
double empirical_kappa(std::vector<group_stats> const& values, double kappa_floor);

// Whether a dimension's values rank differently in its recent posts than in
// the older ones: the world changed, beyond noise. Per value with posts in
// both periods (recent, older: W, S = Σw², mean m),
//   Δ_v = m_recent − m_older,  h_v = 1 / (S_r/W_r² + S_o/W_o²),
//   T = Σ h_v·(Δ_v − Δ̄)² / σ²,  Δ̄ = Σ h_v·Δ_v / Σ h_v,
// σ² the pooled within-value variance of both periods (as empirical_kappa).
// If every value moved by the same amount (the account's level, not the
// ranking), T is χ² with V − 1 degrees of freedom; a change is T above its
// 1 − p quantile (Wilson–Hilferty); z is T on the normal scale of that
// approximation, comparable between tests over different numbers of values.
struct change_test {
    double statistic = 0;
    double threshold = 0;
    double z = 0;
    int values = 0; // with posts in both periods
    bool changed = false;
};
// Which recent rows a dimension is learned from when its rows lie in
// `count` bands of age (0 the newest): tests[{j, to}] compares bands [0, j)
// with [j, to). Binary segmentation: of the splits of [0, count), the changed
// one with the largest z; then likewise within its recent side, while a
// split there is changed. The recent side is then as long as the change is
// old and holds none of the rows from before it (the whole window's best
// split alone can reach back over the change: more rows, more power).
// Nothing when no split of the whole window is changed.
struct band_split {
    std::size_t bands = 0; // learned from bands [0, bands)
    change_test test;      // the test that set them apart
};
std::optional<band_split>
segment_change(std::map<std::pair<std::size_t, std::size_t>, change_test> const& tests,
               std::size_t count);

// A value's change between the periods measured within strata, so that a
// shift of its rows between strata is not a change: replies, each account
// against its own earlier replies (learn-replies choosing better accounts
// raises replies' mean, not the account's level). Over the strata with rows
// in both periods, Δ = Σ h_a·Δ_a / Σ h_a and h = Σ h_a (Δ_a, h_a as above);
// h = 0 where none has.
struct value_change {
    double h = 0;
    double delta = 0;
};
value_change
matched_change(std::vector<std::pair<group_stats, group_stats>> const& recent_older);

// `matched`, where given (in the order of recent_older), replaces a value's
// Δ_v and h_v by its matched_change. Such values (replies) are another
// population with noise of their own: σ² is pooled over them apart from the
// other values, and each value's h_v is divided by its population's σ² (with
// one σ² for all, many quiet replies made the posts' noise look small).
change_test
test_change(std::vector<std::pair<group_stats, group_stats>> const& recent_older,
            double p, std::vector<std::optional<value_change>> const& matched = {});

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

} // namespace xloop
