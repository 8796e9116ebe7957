// The binary COPY reader, on messages the server would never send: every
// field read stays inside the message, or the reader throws.
#include "copy_row.hpp"
#include "fuzz_common.hpp"

extern "C" int LLVMFuzzerTestOneInput(std::uint8_t const* data, std::size_t size)
{
    using namespace xloop;
    std::string_view const all{reinterpret_cast<char const*>(data), size};
    fuzz::expect_only_xloop_errors([&] {
        binary_copy_reader r;
        // split into messages at '|' bytes of the input: several CopyData
        std::size_t start = 0;
        while (start <= all.size()) {
            auto end = all.find('|', start);
            if (end == std::string_view::npos) {
                end = all.size();
            }
            r.feed(all.substr(start, end - start), [](binary_copy_reader const& row) {
                for (std::size_t i = 0; i < row.size(); ++i) {
                    if (row.is_null(i)) {
                        continue;
                    }
                    auto const t = row.text(i);
                    volatile char sink = t.empty() ? 0 : t.back();
                    (void)sink;
                    if (t.size() == 4) {
                        (void)row.int4(i);
                    } else if (t.size() == 8) {
                        (void)row.int8(i);
                        (void)row.float8(i);
                    } else if (t.size() == 1) {
                        (void)row.boolean(i);
                    }
                }
            });
            start = end + 1;
        }
    });
    return 0;
}
