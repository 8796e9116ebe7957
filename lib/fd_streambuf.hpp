#pragma once

// An input stream buffer over a file descriptor whose reads a signal stops:
// std::ifstream (libstdc++) retries a read that a signal interrupts, so a run
// reading a pipe or a FIFO whose writer is silent never saw SIGTERM.

#include <array>
#include <streambuf>

namespace xloop {

class fd_istreambuf : public std::streambuf {
public:
    // Reads `fd`, which the caller keeps open for the buffer's life.
    explicit fd_istreambuf(int fd) : m_fd(fd) {}

protected:
    // Waits for data, waking every 50 ms to throw interrupted on a signal;
    // a failed read throws too (the stream sets badbit: not the input's end).
    int_type underflow() override;

private:
    int m_fd;
    std::array<char, 65536> m_buffer{};
};

} // namespace xloop
