// X's weighted length of any bytes: no crash, and words count apart (the
// length of "a b" is a's, 1 for the space, and b's).
#include "fuzz_common.hpp"
#include "tweet_length.hpp"

#include <cstdlib>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(std::uint8_t const* data, std::size_t size)
{
    using namespace xloop;
    std::string_view const text{reinterpret_cast<char const*>(data), size};
    fuzz::expect_only_xloop_errors([&] {
        auto const a = text.substr(0, size / 2);
        auto const b = text.substr(size / 2);
        auto const joined = std::string{a} + " " + std::string{b};
        if (tweet_length(joined) != tweet_length(a) + 1 + tweet_length(b)) {
            std::abort();
        }
    });
    return 0;
}
