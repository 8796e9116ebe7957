#include "text.hpp"

#include <algorithm>
#include <cctype>

namespace xloop {

std::string trim(std::string_view s)
{
    auto const b = s.find_first_not_of(" \t\r\n");
    if (b == std::string_view::npos) {
        return {};
    }
    return std::string{s.substr(b, s.find_last_not_of(" \t\r\n") - b + 1)};
}

std::string to_lower(std::string_view s)
{
    std::string out{s};
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
}

std::string excerpt(std::string_view text, std::size_t n)
{
    std::string out;
    std::size_t chars = 0;
    for (char const ch : text) {
        auto const c = static_cast<unsigned char>(ch);
        if ((c & 0xC0) != 0x80 && ++chars > n) {
            out += "…";
            break;
        }
        out += c == '\n' ? ' ' : ch;
    }
    return trim(out);
}

} // namespace xloop
