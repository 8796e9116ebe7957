#pragma once

// A jsonb value as SQL double precision, for statements that read numbers
// from JSON another program may have written.

#include <fmt/format.h>

#include <string>
#include <string_view>

namespace xloop {

// NULL unless `jsonb` (an SQL expression) is a number a double holds: jsonb's
// numbers are numeric, and 1e999 fails a cast to float8 (1e-999 too; it is
// read as 0).
inline std::string jsonb_float8_sql(std::string_view jsonb)
{
    return fmt::format(R"sql(CASE WHEN jsonb_typeof({0}) <> 'number' THEN NULL
     WHEN abs(({0})::numeric) < 1e-300 THEN 0::float8
     WHEN abs(({0})::numeric) <= 1e300 THEN ({0})::numeric::float8 END)sql",
                       jsonb);
}

} // namespace xloop
