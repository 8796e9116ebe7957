#pragma once

// Follower attribution (DESIGN §5.1). A post's window runs from its posting to
// posting + window (or now, if earlier). Its gain is measured between the
// snapshot nearest before posting (b) and the snapshot nearest the window's end
// (e). Every interval between consecutive snapshots has a gain — its change in
// followers minus the background drift, losses kept — that is split among the
// posts live in it — in proportion to the impressions each is expected to
// have gained in it (its impressions × the share of its reach that came in
// during the interval), or to that share alone if any of them has unknown
// impressions — so no follower is counted twice. A reply's impressions
// weigh at the rate of follows replies' impressions bring against posts',
// where that is fitted (reach_options). A post's reach comes in
// evenly over its window (`half_life_hours` 0) or front-loaded: all but
// 2^(−age/half-life) of it by an age, as X's reach comes. The drift is the
// rate of change over the intervals where no post is live, when
// they add up to 6 h or more (else none is subtracted). Only `posts` are
// known to be live, and they are all the account's from `known_from` on:
// before it (a read of the recent posts, with snapshots from earlier) posts
// not given may be live, and their follows are no drift. Clamping losses to 0,
// as the original did, made the noise only ever add to every post.
//
// attribution_confidence = completion × alignment, where
//   completion = the share of its reach in by the window's end (as of now):
//                (end − posting) / window when even          (1 once it has ended)
//   alignment  = max(0, 1 − (|posting − t_b| + |t_e − window end|) / window)
// i.e. it grows as the window completes and falls as the bracketing snapshots
// drift from the window's ends. A post with a direct follow count from the
// source takes that count with confidence 1 and no share of the intervals;
// its count, spread over its span as its reach came in, comes out of those
// intervals' gains first, so the posts live beside it never share its
// followers, and out of the quiet time the drift is learned from (unless it
// exceeds the account's followers: no count of this account's, it takes
// nothing from the others). Pure: takes `now` and the data.

#include "timestamp.hpp"

#include <cstdint>
#include <optional>
#include <vector>

namespace xloop {

struct follower_snapshot {
    timestamp at;
    std::int64_t followers = 0;
};

struct attribution_post {
    timestamp posted_at;
    std::optional<std::int64_t> impressions;
    std::optional<std::int64_t> direct_follows;
    bool reply = false; // its impressions weigh at replies' rate of follows
};

struct attribution_result {
    double gain = 0; // attributed followers
    double confidence = 0;
    std::optional<std::int64_t> followers_before;         // at snapshot b
    std::optional<std::int64_t> followers_after;          // at snapshot e
    double weighted() const { return gain * confidence; } // followers_gained_weighted
};

// How a post's reach comes in: halving every `half_life_hours` (0: even over
// the window); with `fit`, the half-life among 0.5–12 h and even that best
// explains the last 14 days' gains (at least 48 intervals with posts live),
// where it explains clearly more than `half_life_hours` (else that), and
// replies' rate of follows an impression against posts' fitted with the
// half-life used, where it is clearly not a post's (else 1).
struct reach_options {
    double half_life_hours = 0;
    bool fit = false;
};

// The reach used: the half-life (`fitted`: the fit's, else the configured
// one) and replies' rate of follows an impression against posts' (1 where
// not fitted or not clear); the half-life that explained the intervals
// best where there were enough of them to fit.
struct reach_fit {
    double half_life_hours = 0;
    double reply_ratio = 1;
    bool fitted = false;
    std::optional<double> best_half_life_hours;
};

// `snapshots` sorted by time; results in the order of `posts`; what was
// fitted in `*fitted` if given.
std::vector<attribution_result>
attribute_followers(std::vector<follower_snapshot> const& snapshots,
                    std::vector<attribution_post> const& posts, double window_hours,
                    timestamp now, timestamp known_from = timestamp::min(),
                    reach_options const& options = {}, reach_fit* fitted = nullptr);

} // namespace xloop
