#pragma once

// Reads binary COPY output without copying: fixed-width big-endian fields and
// raw text, no per-row parsing of text formats.

#include <cstdint>
#include <limits>
#include <string_view>
#include <vector>

namespace xloop {

// Reads COPY … (FORMAT binary) output message by message: skips the header,
// stops at the trailer, and exposes each tuple's fields without copying.
class binary_copy_reader {
public:
    // Parses one CopyData message; calls `on_tuple` for each tuple in it.
    template <typename F>
    void feed(std::string_view message, F&& on_tuple)
    {
        std::size_t pos = 0;
        if (!m_header_done) {
            pos = skip_header(message);
            m_header_done = true;
        }
        while (pos < message.size()) {
            pos = parse_tuple(message, pos);
            if (m_done) {
                return;
            }
            on_tuple(*this);
        }
    }

    std::size_t size() const noexcept { return m_count; }
    bool is_null(std::size_t i) const { return m_fields[i].data() == nullptr; }
    std::string_view text(std::size_t i) const { return m_fields[i]; }
    std::int32_t int4(std::size_t i) const;
    std::int64_t int8(std::size_t i) const;
    double float8(std::size_t i) const;
    bool boolean(std::size_t i) const
    {
        return m_fields[i].size() == 1 && m_fields[i][0] != 0;
    }
    // timestamptz: microseconds since 2000-01-01 UTC, as Unix microseconds;
    // ±infinity (the int64 limits) stay at the limits rather than overflow
    std::int64_t timestamptz_unix_micros(std::size_t i) const
    {
        using limits = std::numeric_limits<std::int64_t>;
        constexpr std::int64_t offset = 946684800LL * 1000000;
        auto const v = int8(i);
        if (v == limits::min()) {
            return v;
        }
        return v > limits::max() - offset ? limits::max() : v + offset;
    }

private:
    std::size_t skip_header(std::string_view message) const;
    std::size_t parse_tuple(std::string_view message, std::size_t pos);

    std::vector<std::string_view> m_fields;
    std::size_t m_count = 0;
    bool m_header_done = false;
    bool m_done = false;
};

} // namespace xloop
