#include "stored_values.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace xloop {

nlohmann::json stored_json(std::string const& text)
{
    return nlohmann::json::parse(text, nullptr, false);
}

namespace {

// The branches of a CASE for a number a double holds (a cast refuses both
// a number beyond its range and one too small, not 0).
std::string in_range_branches(std::string_view number)
{
    return fmt::format("WHEN abs({0}) < 1e-300 THEN 0::float8 "
                       "WHEN abs({0}) <= 1e300 THEN ({0})::float8",
                       number);
}

} // namespace

std::string float8_sql(std::string_view number)
{
    return fmt::format("CASE {} END", in_range_branches(number));
}

std::string float8_or_infinite_sql(std::string_view number)
{
    // NaN compares above every number: it reaches the text test (which no
    // other value does in practice: out-of-range values are rare).
    return fmt::format("CASE {1} WHEN {0} < 0 THEN '-Infinity'::float8 "
                       "WHEN ({0})::text = 'NaN' THEN 'NaN'::float8 "
                       "WHEN {0} IS NOT NULL THEN 'Infinity'::float8 END",
                       number, in_range_branches(number));
}

std::string finite_sql(std::string_view number)
{
    return fmt::format("({}) BETWEEN -1e300 AND 1e300", number);
}

std::string jsonb_float8_sql(std::string_view jsonb)
{
    return fmt::format("CASE WHEN jsonb_typeof({0}) = 'number' THEN {1} END", jsonb,
                       float8_sql(fmt::format("({})::numeric", jsonb)));
}

} // namespace xloop
