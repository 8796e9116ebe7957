#include "fd_streambuf.hpp"

#include "error.hpp"
#include "interrupt.hpp"

#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace xloop {

fd_istreambuf::int_type fd_istreambuf::underflow()
{
    if (gptr() < egptr()) {
        return traits_type::to_int_type(*gptr());
    }
    for (;;) {
        if (interruptible_poll(m_fd, POLLIN, std::nullopt) == poll_result::failed) {
            throw error{fmt::format("cannot read: {}", std::strerror(errno))};
        }
        auto const n = ::read(m_fd, m_buffer.data(), m_buffer.size());
        if (n > 0) {
            setg(m_buffer.data(), m_buffer.data(), m_buffer.data() + n);
            return traits_type::to_int_type(*gptr());
        }
        if (n == 0) {
            return traits_type::eof();
        }
        if (errno != EINTR && errno != EAGAIN) {
            throw error{fmt::format("cannot read: {}", std::strerror(errno))};
        }
    }
}

} // namespace xloop
