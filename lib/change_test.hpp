#pragma once

// Whether the world changed under a dimension: its values rank differently in
// recent posts than in older ones (build-weights then learns that dimension
// from the recent posts alone). Pure.

#include "weighting.hpp"

#include <cstddef>
#include <map>
#include <optional>
#include <utility>
#include <vector>

namespace xloop {

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

} // namespace xloop
