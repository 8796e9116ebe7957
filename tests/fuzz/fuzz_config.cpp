// The YAML config: any text is a config or a config_error naming the file.
#include "config.hpp"
#include "fuzz_common.hpp"

extern "C" int LLVMFuzzerTestOneInput(std::uint8_t const* data, std::size_t size)
{
    using namespace xloop;
    std::string const text{reinterpret_cast<char const*>(data), size};
    fuzz::expect_only_xloop_errors([&] { (void)parse_config(text, "fuzz.yaml"); });
    return 0;
}
