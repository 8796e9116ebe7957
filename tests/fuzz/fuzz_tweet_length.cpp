// X's weighted length of any bytes: no crash, and words count apart (the
// length of "a b" is a's, 1 for the space, and b's). Its mentions: handles
// of 1 to 15 lower-case letters, digits or _, each once, each in the text.
// Its links: each once, and in a UTF-8 text as written there.
#include "fuzz_common.hpp"
#include "text.hpp"
#include "tweet_length.hpp"

#include <algorithm>
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
        auto const handles = mentioned_handles(text);
        for (std::size_t i = 0; i < handles.size(); ++i) {
            auto const& h = handles[i];
            if (h.empty() || h.size() > 15 ||
                h.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_") !=
                    std::string::npos ||
                std::find(handles.begin(), handles.begin() + i, h) !=
                    handles.begin() + i) {
                std::abort();
            }
        }
        auto const links = written_links(text);
        bool const utf8 = valid_utf8(text) == text;
        for (std::size_t i = 0; i < links.size(); ++i) {
            auto const& l = links[i];
            if (l.size() < 4 || (utf8 && text.find(l) == std::string_view::npos) ||
                std::find(links.begin(), links.begin() + i, l) != links.begin() + i) {
                std::abort();
            }
        }
    });
    return 0;
}
