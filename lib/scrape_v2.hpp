#pragma once

// The v2 pass of scrape-metrics: engagement rate, follower attribution,
// confidence, followers_gained_weighted, primary_objective_score and the text
// types of every post of the attribution range, merged with the inbox's
// newest records for them, written once per outcome.

#include <cstdint>
#include <optional>
#include <string>

namespace xloop {

class run_context;

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
};

// Only rows whose values change are written, so a run with nothing new
// writes nothing and a post's fgw rises as its window gains snapshots
// (re-attribution). Runs in the caller's transaction.
v2_result v2_pass(run_context& run, std::string const& source);

} // namespace xloop
