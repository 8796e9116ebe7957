#pragma once

// The v2 pass of scrape-metrics: engagement rate, follower attribution,
// confidence, followers_gained_weighted, primary_objective_score and the text
// types of every post of the attribution range, merged with the inbox's
// newest records for them, written once per outcome.

#include "attribution.hpp"

#include <cstdint>
#include <optional>
#include <string>

namespace xloop {

class run_context;
struct v2_window;

// Posts a run could not write in full: how many, and the first one named
// (its tweet id, and what was wrong) for the warning.
struct counted_posts {
    std::int64_t count = 0;
    std::optional<std::string> example;

    void add(std::int64_t n, std::optional<std::string> const& first)
    {
        count += n;
        if (!example && n > 0) {
            example = first;
        }
    }
};

struct v2_result {
    std::int64_t merged = 0;  // inbox records merged into their outcome
    std::int64_t updated = 0; // outcome rows inserted or changed
    // With metrics but no decision id a uuid can be made of (NULL, or the
    // original's text of another kind): no outcome can be keyed to them; they
    // still share the follower gains.
    counted_posts unkeyed;
    // Attributed more follows than the outcome's columns hold (follower
    // counts no account has): no attribution and no score.
    counted_posts out_of_range;
    // Posts whose inbox record was no newer than their outcome: unchanged.
    std::int64_t not_newer = 0;
    // Records observed before their post was posted: never merged.
    counted_posts early;
    std::int64_t posts = 0; // posts read: in the range, or sharing its follower gains
    // The reach the pass shared follows by (metrics.fit_reach): the last
    // pass's that shared any, the run's own window after any backfill.
    std::optional<reach_fit> reach;

    // Another pass's counts added (a backfill's slices, then the run's pass).
    void add(v2_result const& r)
    {
        merged += r.merged;
        updated += r.updated;
        unkeyed.add(r.unkeyed.count, r.unkeyed.example);
        out_of_range.add(r.out_of_range.count, r.out_of_range.example);
        not_newer += r.not_newer;
        early.add(r.early.count, r.early.example);
        posts += r.posts;
        if (r.reach) {
            reach = r.reach;
        }
    }
};

// Only rows whose values change are written, so a run with nothing new
// writes nothing and a post's fgw rises as its window gains snapshots
// (re-attribution). Runs in the caller's transaction.
v2_result v2_pass(run_context& run, std::string const& source, v2_window const& window);

} // namespace xloop
