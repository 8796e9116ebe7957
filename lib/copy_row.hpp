#pragma once

// Reads the fields of one COPY text-format row without allocating per row:
// fields are views into the row, unescaped into reused buffers only when they
// hold a backslash.

#include <string>
#include <string_view>
#include <vector>

namespace xloop
{

class copy_row_reader
{
public:
    // Returns the number of fields.
    std::size_t parse(std::string_view row);
    std::string_view field(std::size_t i) const { return m_fields[i]; }
    bool is_null(std::size_t i) const { return m_null[i]; }
    std::size_t size() const noexcept { return m_count; }

private:
    std::vector<std::string_view> m_fields;
    std::vector<char> m_null;
    std::vector<std::string> m_buffers;
    std::size_t m_count = 0;
};

} // namespace xloop
