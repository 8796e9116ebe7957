#pragma once

// Small text helpers shared by the library.

#include <string>
#include <string_view>

namespace xloop {

// Without leading and trailing spaces, tabs and line breaks.
std::string trim(std::string_view s);

// ASCII lower case (usernames, header names, classification rules).
std::string to_lower(std::string_view s);

} // namespace xloop
