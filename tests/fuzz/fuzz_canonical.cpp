// The names and texts build-weights groups by, from any bytes a table holds:
// a canonical name is its own canonical name (else one value would split into
// two arms as it is read again), and a text's hook and call to action are
// among the documented ones.
#include "canonical.hpp"
#include "classify.hpp"
#include "fuzz_common.hpp"

#include <cstdlib>
#include <set>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(std::uint8_t const* data, std::size_t size)
{
    using namespace xloop;
    std::string_view const text{reinterpret_cast<char const*>(data), size};
    static std::set<std::string> const hooks = {"question", "statistic", "contrarian",
                                                "story",    "reveal",    "statement"};
    static std::set<std::string> const ctas = {"link", "engagement", "question", "none"};
    fuzz::expect_only_xloop_errors([&] {
        auto const once = canonical_name(text);
        if (canonical_name(once) != once) {
            std::abort();
        }
        if (!hooks.count(classify_hook(text)) || !ctas.count(classify_cta(text))) {
            std::abort();
        }
    });
    return 0;
}
