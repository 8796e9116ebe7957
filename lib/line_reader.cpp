#include "line_reader.hpp"

#include <limits>

namespace xloop {

line_state line_reader::next(std::string_view& text)
{
    m_long.clear();
    if (m_rest_of_long_line) {
        // a line past the limit is skipped only when asked for the
        // next: refused, the read stops at its first MiB (/dev/zero's
        // first line has no end)
        m_rest_of_long_line = false;
        m_in.clear();
        m_in.ignore(std::numeric_limits<std::streamsize>::max(), '\n');
    }
    bool started = false;
    for (;;) {
        m_in.getline(m_chunk, sizeof m_chunk);
        auto const got = static_cast<std::size_t>(m_in.gcount());
        bool const full = m_in.fail() && !m_in.eof() && got == sizeof m_chunk - 1;
        if (m_in.bad()) { // a read that failed (EIO, EISDIR), not the end
            return line_state::failed;
        }
        if (m_in.fail() && !full) { // nothing more: the input's end
            text = m_long;
            return started ? line_state::line : line_state::end;
        }
        // gcount counts a newline, which is not stored
        std::string_view const part{m_chunk, full || m_in.eof() ? got : got - 1};
        if (!full && !started) {
            text = part;
            return line_state::line;
        }
        m_long.append(part);
        if (m_long.size() > m_max) {
            m_rest_of_long_line = full;
            return line_state::too_long;
        }
        if (!full) {
            text = m_long;
            return line_state::line;
        }
        m_in.clear();
        started = true;
    }
}

} // namespace xloop
