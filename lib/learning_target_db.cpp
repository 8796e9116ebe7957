#include "learning_target_db.hpp"

#include <fmt/format.h>

namespace xloop {

namespace {

// In target_component_names' order.
std::array<char const*, target_component_count> const component_sql{
    "engagement_rate::float8",
    "ln(1 + greatest(impressions, 0))::float8",
    "ln(1 + greatest(profile_clicks, 0))::float8",
    "follows::float8",
    "followers_gained_weighted::float8",
    "primary_objective_score::float8"};

} // namespace

std::string const target_components_sql = [] {
    std::string out;
    for (auto const* c : component_sql) {
        out += (out.empty() ? "" : ", ") + std::string{c};
    }
    return out;
}();

target_scales read_target_scales(db_connection& db, std::string const& where)
{
    std::string aggregates;
    for (std::size_t k = 0; k < target_component_count; ++k) {
        aggregates +=
            fmt::format("{0}avg({1}), stddev_pop({1})", k ? ", " : "", component_sql[k]);
    }
    auto const r = db.exec(
        fmt::format("SELECT {} FROM xloop.vw_learning WHERE {}", aggregates, where));
    target_scales out;
    for (std::size_t k = 0; k < target_component_count; ++k) {
        int const col = static_cast<int>(2 * k);
        if (!r.is_null(0, col) && !r.is_null(0, col + 1)) {
            out[k] = make_scale(r.f64(0, col), r.f64(0, col + 1));
        }
    }
    return out;
}

outcome_components read_components(binary_copy_reader const& row, std::size_t first)
{
    outcome_components x;
    for (std::size_t k = 0; k < target_component_count; ++k) {
        if (!row.is_null(first + k)) {
            x[k] = row.float8(first + k);
        }
    }
    return x;
}

} // namespace xloop
