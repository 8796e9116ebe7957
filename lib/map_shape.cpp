#include "map_shape.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>

namespace xloop {

std::optional<double> map_number(nlohmann::json const& object, char const* key)
{
    if (!object.is_object()) {
        return std::nullopt;
    }
    auto const it = object.find(key);
    if (it == object.end() || !it->is_number()) {
        return std::nullopt;
    }
    double const v = it->get<double>();
    return std::isfinite(v) ? std::optional{v} : std::nullopt;
}

std::optional<double> arm_mean(nlohmann::json const& arm)
{
    if (auto const m = map_number(arm, "shrunk_mean")) {
        return m;
    }
    return map_number(arm, "mean");
}

std::optional<double> prior_epsilon(nlohmann::json const& prior)
{
    auto const epsilon = map_number(prior, "epsilon");
    return epsilon && *epsilon >= 0 && *epsilon <= 1 ? epsilon : std::nullopt;
}

namespace {

// A prior's optional keys, where present, are numbers plan can use.
bool is_prior(nlohmann::json const& prior)
{
    return (!prior.contains("sigma") || map_number(prior, "sigma")) &&
           (!prior.contains("epsilon") || prior_epsilon(prior));
}

} // namespace

std::optional<std::string> unusable_map_reason(nlohmann::json const& posteriors)
{
    if (posteriors.is_discarded()) {
        return "its posteriors hold a number beyond a double's range (or are not JSON)";
    }
    if (!posteriors.is_object() || posteriors.empty()) {
        return "it has no posteriors";
    }
    if (!posteriors.contains("_prior") || !posteriors["_prior"].is_object()) {
        return "its posteriors have no \"_prior\" (not written by xloop-build-weights)";
    }
    for (auto const& [dimension, values] : posteriors.items()) {
        if (!values.is_object()) {
            return fmt::format("posteriors.{} is not an object", dimension);
        }
        for (auto const& [value, arm] : values.items()) {
            if (!map_number(arm, "sd") || !arm_mean(arm)) {
                return fmt::format("posteriors.{}.{} has no finite mean and sd",
                                   dimension, value);
            }
            if (dimension == "_prior" && !is_prior(arm)) {
                return fmt::format("posteriors._prior.{} has a sigma or epsilon that is "
                                   "not a number (epsilon: from 0 to 1)",
                                   value);
            }
        }
    }
    return std::nullopt;
}

std::vector<undrawn_value>
undrawn_best_values(nlohmann::json const& posteriors,
                    std::map<std::string, std::vector<std::string>> const& catalogue,
                    double min_p_best, long long min_posts)
{
    std::vector<undrawn_value> out;
    if (!posteriors.is_object()) {
        return out;
    }
    for (auto const& [dimension, values] : catalogue) {
        auto const arms = posteriors.find(dimension);
        if (arms == posteriors.end() || !arms->is_object()) {
            continue;
        }
        std::optional<undrawn_value> best;
        for (auto const& [value, arm] : arms->items()) {
            auto const p = map_number(arm, "p_best");
            if (value != "reply" && p && (!best || *p > best->p_best)) {
                auto const n = map_number(arm, "n").value_or(0);
                best = undrawn_value{dimension, value, *p,
                                     n >= 0 && n < 1e15 ? std::llround(n) : 0};
            }
        }
        if (best && best->p_best >= min_p_best && best->posts >= min_posts &&
            std::find(values.begin(), values.end(), best->value) == values.end()) {
            out.push_back(*best);
        }
    }
    return out;
}

} // namespace xloop
