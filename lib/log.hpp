#pragma once

// Human log lines on stderr, as text or one JSON object per line.

#include <fmt/format.h>

#include <string>
#include <string_view>

namespace xloop::log {

enum class level { debug = 0, info = 1, warn = 2, error = 3 };
enum class format { text, json };

void configure(std::string tool, format f, level threshold);
void write(level l, std::string_view message);
bool enabled(level l);

template <typename... Args>
void debug(fmt::format_string<Args...> f, Args&&... args)
{
    if (enabled(level::debug)) {
        write(level::debug, fmt::format(f, std::forward<Args>(args)...));
    }
}
template <typename... Args>
void info(fmt::format_string<Args...> f, Args&&... args)
{
    if (enabled(level::info)) {
        write(level::info, fmt::format(f, std::forward<Args>(args)...));
    }
}
template <typename... Args>
void warn(fmt::format_string<Args...> f, Args&&... args)
{
    if (enabled(level::warn)) {
        write(level::warn, fmt::format(f, std::forward<Args>(args)...));
    }
}
template <typename... Args>
void error(fmt::format_string<Args...> f, Args&&... args)
{
    write(level::error, fmt::format(f, std::forward<Args>(args)...));
}

} // namespace xloop::log
