#pragma once

// Values another program may have stored, read without failing a run:
// PostgreSQL holds numbers no double holds (numeric and jsonb take 1e999 and
// 1e-999), which a cast to float8 or a JSON parser for doubles refuses.

#include <nlohmann/json_fwd.hpp>

#include <string>
#include <string_view>

namespace xloop {

// JSON text read from the database, or a discarded value where it cannot be
// held (a number beyond a double's range, text that is not JSON).
nlohmann::json stored_json(std::string const& text);

// An SQL number (numeric, or any float or integer type) as double precision:
// NULL beyond ±1e300 and for NaN and ±Infinity, 0 below 1e-300.
std::string float8_sql(std::string_view number);

// An SQL number the same way, but as ±Infinity beyond ±1e300 and NaN for
// NaN: a value the reader counts as no number (its warnings count NaN and
// infinite values) and ranks by sign (a priority beyond 1 is nearest 1).
std::string float8_or_infinite_sql(std::string_view number);

// Whether an SQL number is finite, in [-1e300, 1e300]: false for NaN (which
// PostgreSQL counts equal to itself and sorts above every number, so that
// `x = x` keeps it) and ±Infinity, NULL for NULL.
std::string finite_sql(std::string_view number);

// A jsonb value (an SQL expression) the same way: NULL unless it is a number.
std::string jsonb_float8_sql(std::string_view jsonb);

} // namespace xloop
