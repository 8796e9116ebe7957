#include "learning_target_db.hpp"

#include <fmt/format.h>

namespace xloop {

char const* const target_components_sql =
    "engagement_rate::float8, ln(1 + greatest(impressions, 0))::float8, "
    "ln(1 + greatest(profile_clicks, 0))::float8, follows::float8, "
    "followers_gained_weighted::float8, primary_objective_score::float8";

target_scales read_target_scales(db_connection& db, std::string const& where)
{
    auto const r = db.exec(fmt::format(R"sql(
SELECT avg(x1), stddev_pop(x1), avg(x2), stddev_pop(x2), avg(x3), stddev_pop(x3),
       avg(x4), stddev_pop(x4), avg(x5), stddev_pop(x5), avg(x6), stddev_pop(x6)
  FROM (SELECT engagement_rate::float8 AS x1,
               ln(1 + greatest(impressions, 0))::float8 AS x2,
               ln(1 + greatest(profile_clicks, 0))::float8 AS x3,
               follows::float8 AS x4,
               followers_gained_weighted::float8 AS x5,
               primary_objective_score::float8 AS x6
          FROM xloop.vw_learning
         WHERE {}) t)sql",
                                       where));
    target_scales out;
    for (std::size_t k = 0; k < target_component_count; ++k) {
        int const col = static_cast<int>(2 * k);
        if (!r.is_null(0, col) && !r.is_null(0, col + 1)) {
            out[k] = {r.f64(0, col), r.f64(0, col + 1)};
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
