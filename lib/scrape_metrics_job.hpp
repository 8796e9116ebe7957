#pragma once

// xloop-scrape-metrics: follower snapshot, metrics of the posts that are due
// (X API) or of every record of a JSON Lines file, then the v2 pass.

#include <optional>
#include <string>

namespace xloop {

class run_context;

struct scrape_options {
    std::string source = "x-api";     // x-api | file
    std::optional<std::string> input; // file source: a path, or "-" for stdin
    bool skip_bad = false;
    std::optional<std::string> observed_at; // X's analytics export: when it was made
    std::optional<int> max_posts;           // overrides metrics.max_posts
    bool backfill = false; // score outcomes as far back as the learners read
};

void run_scrape_metrics(run_context& run, scrape_options const& opts);

} // namespace xloop
