#include "copy_row.hpp"

namespace xloop
{

std::size_t copy_row_reader::parse(std::string_view row)
{
    m_count = 0;
    std::size_t start = 0;
    while (true) {
        auto const tab = row.find('\t', start);
        auto const raw =
            row.substr(start, tab == std::string_view::npos ? row.npos : tab - start);
        if (m_fields.size() <= m_count) {
            m_fields.resize(m_count + 1);
            m_null.resize(m_count + 1);
            m_buffers.resize(m_count + 1);
        }
        m_null[m_count] = raw == "\\N";
        if (raw.find('\\') == std::string_view::npos || m_null[m_count]) {
            m_fields[m_count] = raw;
        } else {
            auto& buf = m_buffers[m_count];
            buf.clear();
            for (std::size_t i = 0; i < raw.size(); ++i) {
                char c = raw[i];
                if (c == '\\' && i + 1 < raw.size()) {
                    c = raw[++i];
                    c = c == 't' ? '\t' : c == 'n' ? '\n' : c == 'r' ? '\r' : c;
                }
                buf += c;
            }
            m_fields[m_count] = buf;
        }
        ++m_count;
        if (tab == std::string_view::npos) {
            return m_count;
        }
        start = tab + 1;
    }
}

} // namespace xloop
