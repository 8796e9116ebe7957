#pragma once

// FNV-1a over a string_view, for unordered maps keyed by std::string that are
// looked up with views (heterogeneous lookup): no allocation per lookup.

#include <cstdint>
#include <string_view>

namespace xloop {

struct view_hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept
    {
        std::uint64_t h = 14695981039346656037ull;
        for (char const c : s) {
            h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ull;
        }
        return static_cast<std::size_t>(h);
    }
};

} // namespace xloop
