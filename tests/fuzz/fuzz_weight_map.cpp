// A weight map as the database holds it (learning_model_weights.posteriors
// and weights: written by build-weights, or by another program, or edited by
// hand): plan draws from it and validate reports it. Any text is used or
// refused; a draw's probabilities are each in [0, 1] and sum to 1.
#include "fuzz_common.hpp"
#include "map_shape.hpp"
#include "plan_job.hpp"
#include "policy_value.hpp"
#include "sampling.hpp"
#include "stored_values.hpp"

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(std::uint8_t const* data, std::size_t size)
{
    using namespace xloop;
    std::string const text{reinterpret_cast<char const*>(data), size};
    auto const map = stored_json(text);
    std::vector<std::string> const candidates = {"a", "b", "question", "18"};
    std::map<std::string, std::vector<std::string>> catalogue;
    std::vector<logged_post> posts(1);
    if (map.is_object()) {
        for (auto const& [dim, values] : map.items()) {
            catalogue[dim] = candidates;
            posts[0].draws[dim] = {"a", 0.5, 4};
            if (values.is_object()) {
                for (auto const& [value, arm] : values.items()) {
                    catalogue[dim].push_back(value);
                }
            }
        }
    }
    fuzz::expect_only_xloop_errors([&] {
        (void)learned_values(map, map, posts);
        (void)recent_only_dimensions(map);
        (void)no_spread_dimensions(map);
        (void)map_policies_of(catalogue, map, map, draw_rule{});
    });
    if (unusable_map_reason(map)) {
        return 0;
    }
    rng r{1};
    for (auto const& entry : catalogue) {
        fuzz::expect_only_xloop_errors([&] {
            auto const& [dim, values] = entry;
            auto const arms = arms_of(map, dim, values, draw_rule{});
            if (!arms) {
                return;
            }
            auto const p = selection_probabilities(arms->arms, arms->epsilon);
            double sum = 0;
            for (double const x : p) {
                if (!(x >= 0 && x <= 1)) {
                    std::abort();
                }
                sum += x;
            }
            if (std::abs(sum - 1) > 1e-6) {
                std::abort();
            }
            if (thompson_draw(arms->arms, arms->epsilon, r) >= values.size()) {
                std::abort();
            }
        });
    }
    return 0;
}
