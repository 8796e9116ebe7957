// ISO 8601 timestamps: what parses formats, and formats back to the same time.
#include "fuzz_common.hpp"
#include "timestamp.hpp"

#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(std::uint8_t const* data, std::size_t size)
{
    using namespace xloop;
    std::string_view const text{reinterpret_cast<char const*>(data), size};
    fuzz::expect_only_xloop_errors([&] {
        if (auto const t = parse_timestamp(text)) {
            auto const again = parse_timestamp(format_timestamp(*t));
            if (!again || *again != *t) {
                std::abort(); // the round trip must hold for every time accepted
            }
        }
    });
    return 0;
}
