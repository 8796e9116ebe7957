#include "log.hpp"

#include "json_text.hpp"
#include "text.hpp"
#include "timestamp.hpp"

#include <nlohmann/json.hpp>

#include <cstdio>

namespace xloop::log {

namespace {
std::string g_tool = "xloop";
format g_format = format::text;
level g_threshold = level::info;

char const* name(level l)
{
    switch (l) {
    case level::debug:
        return "debug";
    case level::info:
        return "info";
    case level::warn:
        return "warn";
    case level::error:
        return "error";
    }
    return "?";
}
} // namespace

void configure(std::string tool, format f, level threshold)
{
    g_tool = std::move(tool);
    g_format = f;
    g_threshold = threshold;
}

bool enabled(level l)
{
    return l >= g_threshold;
}

void write(level l, std::string_view message)
{
    if (!enabled(l)) {
        return;
    }
    // Log lines carry the wall clock, not --now: they say when things happened.
    auto const now = format_timestamp(clock_now());
    std::string line;
    if (g_format == format::json) {
        nlohmann::json j = {{"ts", now},
                            {"level", name(l)},
                            {"tool", g_tool},
                            {"msg", std::string{message}}};
        line = json_text(j);
    } else {
        line = fmt::format("{} {} {}: {}", now, g_tool, name(l),
                           indent_continuations(message));
    }
    line += '\n';
    std::fwrite(line.data(), 1, line.size(), stderr);
}

} // namespace xloop::log
