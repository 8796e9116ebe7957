// The migration splitter: statements cover the script in order, and every
// position maps to a line inside the script.
#include "fuzz_common.hpp"
#include "sql_split.hpp"

#include <algorithm>
#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(std::uint8_t const* data, std::size_t size)
{
    using namespace xloop;
    std::string_view const script{reinterpret_cast<char const*>(data), size};
    fuzz::expect_only_xloop_errors([&] {
        auto const lines = 1 + std::count(script.begin(), script.end(), '\n');
        for (auto const& s : split_sql(script)) {
            for (int pos : {0, 1, 2, static_cast<int>(s.text.size()),
                            static_cast<int>(s.text.size()) + 5}) {
                auto const line = line_of_position(s, pos);
                if (line < 1 || line > lines) {
                    std::abort();
                }
            }
        }
    });
    return 0;
}
