#pragma once

// xloop-plan: fills the queue with posts drawn from the active weight map
// (or uniformly), on the posting calendar; with --replies N, queues replies
// to the best fresh reply opportunities.

#include "config.hpp"
#include "sampling.hpp"

#include <nlohmann/json_fwd.hpp>

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace xloop {

class db_connection;
class run_context;

struct plan_options {
    std::optional<int> replies;
};

// The base table's varchar(n) and char(n) columns (an adopted table's)
// narrower than a value of `rows` (objects of column names to values): each
// named with its longest value, and the statements that widen them.
struct narrow_columns_found {
    std::string columns;
    std::string widen;
};
std::optional<narrow_columns_found> narrow_columns(db_connection& db,
                                                   nlohmann::json const& rows);

// One row per value plan may write from its catalogue (in its column: topic
// is raw_topic), and the status and source of every item it queues: what
// narrow_columns checks before plan has run.
nlohmann::json catalogue_rows(plan_config const& cfg);

// A learned dimension's arms as plan draws them (the map's posteriors over
// `candidates`, never-posted values at the prior with one post's spread) and
// its ε; nullopt where plan draws uniformly (no posteriors for it, or one
// candidate). selection_probabilities(arms, epsilon) is then the policy.
struct dimension_arms {
    std::vector<normal_belief> arms;
    double epsilon = 0;
};
// The configured draw_rule: weights.epsilon, plan.epsilon, plan.posterior_scale.
draw_rule draw_rule_of(config const& cfg);
std::optional<dimension_arms> arms_of(nlohmann::json const& posteriors,
                                      std::string const& dimension,
                                      std::vector<std::string> const& candidates,
                                      draw_rule const& rule);

void run_plan(run_context& run, plan_options const& opts);

} // namespace xloop
