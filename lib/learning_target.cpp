#include "learning_target.hpp"

#include <algorithm>
#include <cmath>

namespace xloop {

std::array<double, target_component_count>
target_weights(std::map<std::string, double> const& configured)
{
    std::array<double, target_component_count> c{};
    for (std::size_t k = 0; k < target_component_count; ++k) {
        auto const it = configured.find(target_component_names[k]);
        c[k] = it == configured.end() ? 0.0 : it->second;
    }
    return c;
}

std::optional<double> learning_target(outcome_components const& x,
                                      target_scales const& scales,
                                      std::array<double, target_component_count> const& c)
{
    constexpr std::size_t score = target_component_count - 1;
    bool const score_only = c[score] > 0 && std::all_of(c.begin(), c.end() - 1,
                                                        [](double w) { return w <= 0; });
    if (score_only) {
        return x[score] && std::isfinite(*x[score]) ? x[score] : std::nullopt;
    }
    double sum = 0;
    double weight = 0;
    bool any = false;
    for (std::size_t k = 0; k < target_component_count; ++k) {
        if (c[k] <= 0 || !(scales[k].sd > 0)) {
            continue;
        }
        weight += c[k]; // a missing value counts as the mean: z = 0
        if (x[k] && std::isfinite(*x[k])) {
            sum += c[k] * (*x[k] - scales[k].mean) / scales[k].sd;
            any = true;
        }
    }
    if (!any || weight <= 0) {
        return std::nullopt;
    }
    return sum / weight;
}

} // namespace xloop
