#include "timestamp.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <cctype>

namespace xloop {

namespace {

bool read_digits(std::string_view s, std::size_t& pos, int count, int& out)
{
    if (pos + static_cast<std::size_t>(count) > s.size()) {
        return false;
    }
    out = 0;
    for (int i = 0; i < count; ++i) {
        char const c = s[pos + static_cast<std::size_t>(i)];
        if (!std::isdigit(static_cast<unsigned char>(c))) {
            return false;
        }
        out = out * 10 + (c - '0');
    }
    pos += static_cast<std::size_t>(count);
    return true;
}

bool expect(std::string_view s, std::size_t& pos, char c)
{
    if (pos < s.size() && s[pos] == c) {
        ++pos;
        return true;
    }
    return false;
}

} // namespace

// Long on purpose: one left-to-right scan of the ISO 8601 forms accepted
// (date, time, fraction, zone), each field checked for range where it is
// read, so that a bad value is refused at the character that makes it bad.
std::optional<timestamp> parse_timestamp(std::string_view s)
{
    using namespace std::chrono;
    std::size_t pos = 0;
    int y = 0;
    int mo = 0;
    int d = 0;
    if (!read_digits(s, pos, 4, y) || !expect(s, pos, '-') ||
        !read_digits(s, pos, 2, mo) || !expect(s, pos, '-') ||
        !read_digits(s, pos, 2, d)) {
        return std::nullopt;
    }
    year_month_day const ymd{year{y}, month{static_cast<unsigned>(mo)},
                             day{static_cast<unsigned>(d)}};
    if (!ymd.ok() || y < 1900 || y > 2199) {
        return std::nullopt;
    }
    int h = 0;
    int mi = 0;
    int sec = 0;
    long micros = 0;
    int offset_minutes = 0;
    if (pos < s.size()) {
        if (s[pos] != 'T' && s[pos] != 't' && s[pos] != ' ') {
            return std::nullopt;
        }
        ++pos;
        if (!read_digits(s, pos, 2, h) || !expect(s, pos, ':') ||
            !read_digits(s, pos, 2, mi)) {
            return std::nullopt;
        }
        if (expect(s, pos, ':') && !read_digits(s, pos, 2, sec)) {
            return std::nullopt;
        }
        if (expect(s, pos, '.')) {
            int digits = 0;
            while (pos < s.size() && std::isdigit(static_cast<unsigned char>(s[pos]))) {
                if (digits < 6) {
                    micros = micros * 10 + (s[pos] - '0');
                }
                ++digits;
                ++pos;
            }
            if (digits == 0) {
                return std::nullopt;
            }
            for (int i = digits; i < 6; ++i) {
                micros *= 10;
            }
        }
        if (h > 23 || mi > 59 || sec > 60) {
            return std::nullopt;
        }
        if (pos < s.size()) {
            char const sign = s[pos];
            if (sign == 'Z' || sign == 'z') {
                ++pos;
            } else if (sign == '+' || sign == '-') {
                ++pos;
                int oh = 0;
                int om = 0;
                if (!read_digits(s, pos, 2, oh)) {
                    return std::nullopt;
                }
                expect(s, pos, ':');
                if (pos < s.size() && !read_digits(s, pos, 2, om)) {
                    return std::nullopt;
                }
                offset_minutes = (oh * 60 + om) * (sign == '-' ? -1 : 1);
            } else {
                return std::nullopt;
            }
        }
    }
    if (pos != s.size()) {
        return std::nullopt;
    }
    return timestamp{sys_days{ymd}} + hours{h} + minutes{mi} + seconds{sec} +
           microseconds{micros} - minutes{offset_minutes};
}

std::string format_seconds(timestamp t)
{
    return format_timestamp(std::chrono::floor<std::chrono::seconds>(t));
}

std::string format_timestamp(timestamp t)
{
    using namespace std::chrono;
    auto const secs = floor<seconds>(t);
    auto const micros = (t - secs).count();
    if (micros == 0) {
        return fmt::format("{:%FT%T}Z", secs);
    }
    return fmt::format("{:%FT%T}.{:06d}Z", secs, micros);
}

std::string stored_timestamp_text(std::string_view text)
{
    auto const t = parse_timestamp(text);
    return t ? format_timestamp(*t) : std::string{text};
}

timestamp clock_now()
{
    return std::chrono::floor<std::chrono::microseconds>(
        std::chrono::system_clock::now());
}

} // namespace xloop
