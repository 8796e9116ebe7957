#pragma once

// The v2 pass of scrape-metrics: engagement rate, follower attribution,
// confidence, followers_gained_weighted, primary_objective_score and the text
// types of every post of the attribution range, merged with the inbox's
// newest records for them, written once per outcome.

#include <cstdint>
#include <string>

namespace xloop {

class run_context;

struct v2_result {
    std::int64_t merged = 0;  // inbox records merged into their outcome
    std::int64_t updated = 0; // outcome rows inserted or changed
    std::int64_t unkeyed = 0; // posts with metrics and no uuid decision id
};

// Only rows whose values change are written, so a run with nothing new
// writes nothing and a post's fgw rises as its window gains snapshots
// (re-attribution). Runs in the caller's transaction.
v2_result v2_pass(run_context& run, std::string const& source);

} // namespace xloop
