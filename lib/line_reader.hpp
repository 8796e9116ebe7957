#pragma once

// Lines of a stream read in chunks, each kept to a limit: an input that is not
// line-shaped (an array of 10^6 records on one line, /dev/zero) is refused at
// its first MiB, never held whole (it took 1.4 GB for 175 MB).

#include <cstddef>
#include <istream>
#include <string>
#include <string_view>

namespace xloop {

enum class line_state { line, too_long, end, failed };

class line_reader {
public:
    line_reader(std::istream& in, std::size_t max_bytes) : m_in(in), m_max(max_bytes) {}

    // The next line, without its newline, in `text` (valid until the next
    // call): a view of the chunk where the line fits in one (most do).
    // too_long for a line past the limit (the rest of it is skipped when the
    // next is asked for); failed for a read that failed (EIO), not the end.
    line_state next(std::string_view& text);

private:
    std::istream& m_in;
    std::size_t m_max;
    char m_chunk[8192];
    std::string m_long;               // a line longer than a chunk
    bool m_rest_of_long_line = false; // a line past the limit not read to its end
};

} // namespace xloop
