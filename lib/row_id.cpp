#include "row_id.hpp"

#include <nlohmann/json.hpp>

#include <charconv>
#include <cstdint>
#include <string>

namespace xloop {

nlohmann::json row_id_json(std::string_view id)
{
    std::int64_t n = 0;
    auto const [end, ec] = std::from_chars(id.data(), id.data() + id.size(), n);
    if (!id.empty() && ec == std::errc{} && end == id.data() + id.size()) {
        return n;
    }
    return std::string{id};
}

} // namespace xloop
