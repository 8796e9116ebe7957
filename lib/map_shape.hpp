#pragma once

// Whether plan can draw from a weight map's posteriors: build-weights' shape
// ({dimension: {value: {shrunk_mean|mean, sd}}, "_prior": {dimension: …}}), as
// opposed to a map another program (the original bot) left active.

#include <nlohmann/json_fwd.hpp>

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace xloop {

// Why plan cannot use these posteriors, or nothing when it can. A discarded
// value (stored_json's answer for text it cannot read) is one it cannot use.
std::optional<std::string> unusable_map_reason(nlohmann::json const& posteriors);

// The finite number under `key` of a map's object (an arm, a prior), or
// nothing: a map may come from another program or a hand's edit, with a
// key missing, a number written as text, or no object at all.
std::optional<double> map_number(nlohmann::json const& object, char const* key);

// An arm's mean as plan draws it: its shrunk mean, else its raw one.
std::optional<double> arm_mean(nlohmann::json const& arm);

// A dimension's prior's exploration rate ε, where it holds one from 0 to 1.
std::optional<double> prior_epsilon(nlohmann::json const& prior);

// A value the map holds likely best in a dimension plan draws that plan's
// catalogue does not list: plan never draws it, so what was learned of it is
// not used (an adopted database's hook 'stat', generator 'storyteller').
struct undrawn_value {
    std::string dimension, value;
    double p_best = 0;
    long long posts = 0;
};

// Per dimension of `catalogue` (canonical values by dimension), the value
// with the highest P(best), where it is at least `min_p_best`, rests on at
// least `min_posts` posts and is not in the catalogue ('reply', the replies'
// own value, never is). Pure.
std::vector<undrawn_value>
undrawn_best_values(nlohmann::json const& posteriors,
                    std::map<std::string, std::vector<std::string>> const& catalogue,
                    double min_p_best, long long min_posts);

} // namespace xloop
