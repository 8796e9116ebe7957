#include "ssl_probe.hpp"

#include "interrupt.hpp"
#include "unique_fd.hpp"

#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <memory>

namespace xloop {

namespace {

struct addrinfo_deleter {
    void operator()(addrinfo* a) const noexcept { ::freeaddrinfo(a); }
};

// Whether `events` came within `timeout` (a signal throws interrupted).
bool wait_for(int fd, short events, std::chrono::milliseconds timeout)
{
    return interruptible_poll(fd, events, std::chrono::steady_clock::now() + timeout) ==
           poll_result::ready;
}

bool answers(addrinfo const& a, std::chrono::milliseconds timeout)
{
    unique_fd const s{::socket(a.ai_family, a.ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                               a.ai_protocol)};
    if (!s) {
        return false;
    }
    if (::connect(s.get(), a.ai_addr, a.ai_addrlen) != 0) {
        int err = 0;
        socklen_t len = sizeof err;
        if (errno != EINPROGRESS || !wait_for(s.get(), POLLOUT, timeout) ||
            ::getsockopt(s.get(), SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0) {
            return false;
        }
    }
    // Length 8, then the SSLRequest code 80877103 (1234 << 16 | 5679), big-endian.
    std::array<char, 8> const request{0,    0,   0, 8, 0x04, static_cast<char>(0xd2),
                                      0x16, 0x2f};
    if (::send(s.get(), request.data(), request.size(), MSG_NOSIGNAL) !=
            static_cast<ssize_t>(request.size()) ||
        !wait_for(s.get(), POLLIN, timeout)) {
        return false;
    }
    char answer = 0;
    return ::recv(s.get(), &answer, 1, 0) == 1 && (answer == 'S' || answer == 'N');
}

} // namespace

bool answers_ssl_request(std::string const& host, std::string const& port,
                         std::chrono::milliseconds timeout)
{
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    addrinfo* found = nullptr;
    if (::getaddrinfo(host.c_str(), port.c_str(), &hints, &found) != 0) {
        return false;
    }
    std::unique_ptr<addrinfo, addrinfo_deleter> const list{found};
    for (auto const* a = found; a; a = a->ai_next) {
        if (answers(*a, timeout)) {
            return true;
        }
    }
    return false;
}

} // namespace xloop
