#include "copy_row.hpp"

#include "error.hpp"

#include <bit>
#include <cstring>

namespace xloop {

namespace {

template <typename T>
T read_be(char const* p)
{
    T v;
    std::memcpy(&v, p, sizeof v);
    if constexpr (std::endian::native == std::endian::little) {
        if constexpr (sizeof(T) == 2) {
            v = static_cast<T>(__builtin_bswap16(static_cast<std::uint16_t>(v)));
        } else if constexpr (sizeof(T) == 4) {
            v = static_cast<T>(__builtin_bswap32(static_cast<std::uint32_t>(v)));
        } else {
            v = static_cast<T>(__builtin_bswap64(static_cast<std::uint64_t>(v)));
        }
    }
    return v;
}

[[noreturn]] void truncated()
{
    throw error{"malformed binary COPY data from the server"};
}

} // namespace

std::size_t binary_copy_reader::skip_header(std::string_view m) const
{
    // "PGCOPY\n\377\r\n\0", flags (int32), extension length (int32), extension
    static constexpr char signature[] = "PGCOPY\n\377\r\n";
    if (m.size() < 19 || std::memcmp(m.data(), signature, 11) != 0) {
        truncated();
    }
    auto const ext = static_cast<std::size_t>(read_be<std::int32_t>(m.data() + 15));
    return 19 + ext;
}

std::size_t binary_copy_reader::parse_tuple(std::string_view m, std::size_t pos)
{
    if (pos + 2 > m.size()) {
        truncated();
    }
    auto const fields = read_be<std::int16_t>(m.data() + pos);
    pos += 2;
    if (fields < 0) { // trailer
        m_done = true;
        return m.size();
    }
    m_count = static_cast<std::size_t>(fields);
    if (m_fields.size() < m_count) {
        m_fields.resize(m_count);
    }
    for (std::size_t i = 0; i < m_count; ++i) {
        if (pos + 4 > m.size()) {
            truncated();
        }
        auto const len = read_be<std::int32_t>(m.data() + pos);
        pos += 4;
        if (len < 0) {
            m_fields[i] = {};
            continue;
        }
        if (pos + static_cast<std::size_t>(len) > m.size()) {
            truncated();
        }
        // a non-null view even for an empty value: data() marks NULL
        m_fields[i] = std::string_view{m.data() + pos, static_cast<std::size_t>(len)};
        pos += static_cast<std::size_t>(len);
    }
    return pos;
}

std::int32_t binary_copy_reader::int4(std::size_t i) const
{
    if (m_fields[i].size() != 4) {
        truncated();
    }
    return read_be<std::int32_t>(m_fields[i].data());
}

std::int64_t binary_copy_reader::int8(std::size_t i) const
{
    if (m_fields[i].size() != 8) {
        truncated();
    }
    return read_be<std::int64_t>(m_fields[i].data());
}

double binary_copy_reader::float8(std::size_t i) const
{
    return std::bit_cast<double>(int8(i));
}

} // namespace xloop
