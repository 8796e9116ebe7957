#include "map_shape.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cmath>

namespace xloop {

namespace {

bool is_arm(nlohmann::json const& arm)
{
    auto const finite = [&](char const* key) {
        return arm.contains(key) && arm[key].is_number() &&
               std::isfinite(arm[key].get<double>());
    };
    return arm.is_object() && finite("sd") && (finite("shrunk_mean") || finite("mean"));
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
            if (!is_arm(arm)) {
                return fmt::format("posteriors.{}.{} has no finite mean and sd",
                                   dimension, value);
            }
        }
    }
    return std::nullopt;
}

} // namespace xloop
