#pragma once

// Small text helpers shared by the library.

#include <string>
#include <string_view>

namespace xloop {

// Without leading and trailing spaces, tabs and line breaks.
std::string trim(std::string_view s);

// ASCII lower case (usernames, header names, classification rules).
std::string to_lower(std::string_view s);

// The first `n` characters of a text (whole UTF-8 sequences, "…" when cut),
// on one line.
std::string excerpt(std::string_view text, std::size_t n);

} // namespace xloop
