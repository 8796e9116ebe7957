#pragma once

// Points in time as UTC microseconds. Tools take "now" from --now/XLOOP_NOW or
// the clock once, at start, and pass it everywhere (DESIGN §4).

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace xloop {

using timestamp = std::chrono::sys_time<std::chrono::microseconds>;

// ISO 8601: "2026-03-02T12:00:00Z", "2026-03-02 12:00:00.5+01:00",
// "2026-03-02" (midnight UTC). A time without offset is UTC. Years outside
// [1900, 2199] are refused: nothing of this loop happens then, and beyond
// 2262 formatting would overflow.
std::optional<timestamp> parse_timestamp(std::string_view text);

// The first instant after that range, for SQL: a stored time at or after it
// (infinity included) is none the tools take; a queued item there is never due.
constexpr char const* readable_times_end = "2200-01-01T00:00:00Z";

// "2026-03-02T12:00:00Z", with ".ffffff" only when there are microseconds.
std::string format_timestamp(timestamp t);

// format_timestamp to the second, for a reader: a run's clock's microseconds
// say nothing to one.
std::string format_seconds(timestamp t);

// A time as PostgreSQL printed it, written as format_timestamp writes it; or
// as printed where it is none parse_timestamp takes ("infinity", year 1850:
// another program's values), so a message can still name it.
std::string stored_timestamp_text(std::string_view text);

timestamp clock_now();

// Fractional days and hours as durations (config values are doubles).
inline std::chrono::microseconds fractional_days(double d)
{
    return std::chrono::duration_cast<std::chrono::microseconds>(
        std::chrono::duration<double, std::ratio<86400>>(d));
}
inline std::chrono::microseconds fractional_hours(double h)
{
    return std::chrono::duration_cast<std::chrono::microseconds>(
        std::chrono::duration<double, std::ratio<3600>>(h));
}

// Days/hours between two timestamps, as doubles (for recency weights).
inline double days_between(timestamp earlier, timestamp later)
{
    return std::chrono::duration<double, std::ratio<86400>>(later - earlier).count();
}
inline double hours_between(timestamp earlier, timestamp later)
{
    return std::chrono::duration<double, std::ratio<3600>>(later - earlier).count();
}

// Whole seconds since the Unix epoch (as HTTP headers give times).
inline long long epoch_seconds(timestamp t)
{
    return std::chrono::floor<std::chrono::seconds>(t).time_since_epoch().count();
}

} // namespace xloop
