// A writer's answer (an LLM's or a command's output) of any bytes: no crash;
// every part is non-empty, trimmed, and its text is in the
// answer (CRLF read as LF).
#include "fuzz_common.hpp"
#include "text.hpp"
#include "writers.hpp"

#include <cstdlib>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(std::uint8_t const* data, std::size_t size)
{
    using namespace xloop;
    std::string const answer{reinterpret_cast<char const*>(data), size};
    fuzz::expect_only_xloop_errors([&] {
        auto const text = without_reasoning(answer);
        if (!text) {
            return;
        }
        if (text->size() > answer.size()) {
            std::abort();
        }
        std::string lf = answer;
        for (auto at = lf.find("\r\n"); at != std::string::npos;
             at = lf.find("\r\n", at)) {
            lf.erase(at, 1);
        }
        for (auto const& part : split_parts(*text)) {
            if (part.empty() || part != trim(part) ||
                lf.find(part) == std::string::npos) {
                std::abort();
            }
        }
    });
    return 0;
}
