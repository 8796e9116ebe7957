#pragma once

// build-weights' one pass over the window's rows: per band of age, half of
// the posts and period, each value's sums and each reply account's, merged
// at the end into the canonical values' stats that the map is made of
// (choose_periods keeps, per dimension, the bands a change test left).
// Memory grows with distinct values, never with rows.

#include "change_test.hpp"
#include "weight_map.hpp"
#include "weighting.hpp"

#include <array>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace xloop {

class run_context;

// Replies' own value (learned_from): not one plan draws for a post, learned
// apart from the posts' values (compute_weight_map).
inline std::set<std::string> const replies_own{"reply"};

// A dimension's raw values learned from: every one up to this many, and past
// that only the catalogue's (a free-text topic has thousands, each with a few
// rows, and each value's sums are kilobytes in every band, half and period:
// 593 MiB for 20 000 topics at 10⁶ rows).
inline constexpr std::size_t max_raw_values = 1000;

// A dimension learned from its recent rows only: the test that set them
// apart and how many days they span.
struct found_change {
    change_test test;
    double days = 0;
};

// What the pass found: the rows and their mean score and fgw, and the
// values' stats.
struct streamed {
    std::int64_t rows = 0;
    long double sum_y = 0;
    std::int64_t n_y = 0;
    long double sum_fgw = 0;
    std::int64_t n_fgw = 0;
    std::int64_t non_finite = 0; // rows with a NaN or infinite value, left out
    // per dimension, the rows whose value came past value_admission's limit
    std::map<std::string, std::int64_t> left_out;
    component_stats stats;
    // dimensions learned from their recent posts only, and why
    std::map<std::string, found_change> changed;
    // per half of the posts (cross_fit_fold): the stats of the other half,
    // its rows and its changed dimensions
    std::array<component_stats, 2> without;
    std::array<std::int64_t, 2> without_rows{};
    std::array<std::map<std::string, found_change>, 2> without_changed;
};

// Reads every row of `copy_sql`, a binary COPY (no text formatting on the
// server, no parsing here) of posted_at, the score, fgw, the target's
// components, one column per dimension, then the account a reply answered
// (NULL for a post).
streamed stream_rows(run_context& run, learning_window const& window,
                     std::vector<std::string> const& dimensions,
                     std::string const& copy_sql);

} // namespace xloop
