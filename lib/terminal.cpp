#include "terminal.hpp"

#include <cstdlib>
#include <sys/ioctl.h>
#include <unistd.h>

namespace xloop {

std::size_t output_columns()
{
    winsize w{};
    if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &w) == 0 && w.ws_col > 0) {
        return w.ws_col;
    }
    char const* env = std::getenv("COLUMNS");
    if (env == nullptr) {
        return 0;
    }
    char* end = nullptr;
    auto const n = std::strtoul(env, &end, 10);
    return end != env && *end == '\0' && n <= 10000 ? n : 0;
}

} // namespace xloop
