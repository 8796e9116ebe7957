#pragma once

// The nearest of some names to a misspelt one: for "did you mean …?" hints
// (command-line options, configuration keys).

#include <string>
#include <string_view>
#include <vector>

namespace xloop {

// Edits (insert, delete, replace a character) from a to b.
std::size_t edit_distance(std::string_view a, std::string_view b);

// The name nearest to `given`, within two edits (three for a longer one:
// "--reply" for "--replies") or as its start; of two as near, the one that
// starts alike ("--replies", not "--help"). Empty when none is near.
std::string nearest_name(std::string const& given, std::vector<std::string> const& names);

// " (did you mean 'a'?)", " (did you mean 'a' or 'b'?)" for the names
// given, "" for none: the end of a message that names an unknown one.
std::string did_you_mean(std::vector<std::string> const& names);

// did_you_mean of the nearest of `names` to `given`, written after `prefix`
// ("plan." for a key of plan's), or "".
std::string nearest_hint(std::string const& given, std::vector<std::string> const& names,
                         std::string const& prefix = {});

} // namespace xloop
