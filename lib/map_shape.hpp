#pragma once

// Whether plan can draw from a weight map's posteriors: build-weights' shape
// ({dimension: {value: {shrunk_mean|mean, sd}}, "_prior": {dimension: …}}), as
// opposed to a map another program (the original bot) left active.

#include <nlohmann/json_fwd.hpp>

#include <optional>
#include <string>

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

} // namespace xloop
