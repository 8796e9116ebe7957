#pragma once

// xloop-plan: fills the queue with posts drawn from the active weight map
// (or uniformly), on the posting calendar; with --replies N, queues replies
// to the best fresh reply opportunities.

#include "config.hpp"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace xloop {

class run_context;

struct plan_options {
    std::optional<int> replies;
};

// The catalogue of candidate values per dimension: the config's, else the
// built-in one; names canonicalised and de-duplicated.
std::map<std::string, std::vector<std::string>> plan_catalogue(plan_config const& cfg);

void run_plan(run_context& run, plan_options const& opts);

} // namespace xloop
