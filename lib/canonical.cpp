#include "canonical.hpp"

#include <cctype>

namespace xloop {

std::string canonical_name(std::string_view raw)
{
    auto is_upper = [](char c) {
        return std::isupper(static_cast<unsigned char>(c)) != 0;
    };
    auto is_lower_or_digit = [](char c) {
        return std::islower(static_cast<unsigned char>(c)) ||
               std::isdigit(static_cast<unsigned char>(c));
    };
    std::string out;
    out.reserve(raw.size() + 4);
    for (std::size_t i = 0; i < raw.size(); ++i) {
        char const c = raw[i];
        if (std::isspace(static_cast<unsigned char>(c)) || c == '-' || c == '_') {
            if (!out.empty() && out.back() != '_') {
                out += '_';
            }
            continue;
        }
        if (is_upper(c) && i > 0 && !out.empty() && out.back() != '_') {
            char const prev = raw[i - 1];
            bool const next_lower = i + 1 < raw.size() &&
                                    std::islower(static_cast<unsigned char>(raw[i + 1]));
            // "dataNerd" → data_nerd; "HTTPServer" → http_server
            if (is_lower_or_digit(prev) || (is_upper(prev) && next_lower)) {
                out += '_';
            }
        }
        out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    while (!out.empty() && out.back() == '_') {
        out.pop_back();
    }
    return out;
}

} // namespace xloop
