#pragma once

// Arm names are canonicalised before grouping (DESIGN §5.2), so that
// "dataNerd", "data_nerd" and "Data Nerd" are one arm (defect 7).

#include <string>
#include <string_view>

namespace xloop {

// Trims, splits camelCase, turns spaces (any of Unicode's) and hyphens into
// underscores, lower-cases in every script: "dataNerd" → "data_nerd",
// "Data Nerd" → "data_nerd", "HTTPServer" → "http_server", "CAFÉ" → "café".
// Bytes that are not UTF-8 are kept as they are. Empty when nothing is left.
std::string canonical_name(std::string_view raw);

} // namespace xloop
