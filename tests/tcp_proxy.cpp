#include "tcp_proxy.hpp"

#include <fmt/format.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <vector>

namespace xloop::test {

namespace {

std::string env_or(char const* name, char const* fallback)
{
    char const* v = std::getenv(name);
    return v && *v ? v : fallback;
}

// A new connection to the cluster the PG* variables name, or -1.
int connect_upstream()
{
    auto const host = env_or("PGHOST", "/var/run/postgresql");
    auto const port = env_or("PGPORT", "5432");
    if (host[0] == '/') {
        sockaddr_un a{};
        a.sun_family = AF_UNIX;
        auto const path = fmt::format("{}/.s.PGSQL.{}", host, port);
        std::strncpy(a.sun_path, path.c_str(), sizeof a.sun_path - 1);
        int const s = ::socket(AF_UNIX, SOCK_STREAM, 0);
        if (::connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
            ::close(s);
            return -1;
        }
        return s;
    }
    addrinfo hints{};
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    if (::getaddrinfo(host.c_str(), port.c_str(), &hints, &found) != 0) {
        return -1;
    }
    int s = -1;
    for (auto* a = found; a && s < 0; a = a->ai_next) {
        s = ::socket(a->ai_family, a->ai_socktype, a->ai_protocol);
        if (s >= 0 && ::connect(s, a->ai_addr, a->ai_addrlen) != 0) {
            ::close(s);
            s = -1;
        }
    }
    ::freeaddrinfo(found);
    return s;
}

bool write_all(int fd, char const* data, ssize_t n)
{
    while (n > 0) {
        ssize_t const w = ::write(fd, data, static_cast<std::size_t>(n));
        if (w <= 0) {
            return false;
        }
        data += w;
        n -= w;
    }
    return true;
}

struct link {
    int client;
    int server;
};

void close_link(link const& l)
{
    // A reset, as a server process killed by a restart leaves its client.
    ::shutdown(l.client, SHUT_RDWR);
    ::close(l.client);
    ::close(l.server);
}

} // namespace

tcp_proxy::tcp_proxy()
{
    if (::pipe2(m_wake, O_CLOEXEC | O_NONBLOCK) != 0 || !listen_again()) {
        throw std::runtime_error{"tcp_proxy: cannot listen on 127.0.0.1"};
    }
    m_thread = std::thread{[this] { loop(); }};
}

tcp_proxy::~tcp_proxy()
{
    m_stop = true;
    (void)!::write(m_wake[1], "x", 1);
    m_thread.join();
    if (m_listener >= 0) {
        ::close(m_listener);
    }
    ::close(m_wake[0]);
    ::close(m_wake[1]);
}

bool tcp_proxy::upstream_is_tcp()
{
    return env_or("PGHOST", "/")[0] != '/';
}

std::string tcp_proxy::conninfo(std::string const& dbname) const
{
    return fmt::format("host=127.0.0.1 port={} dbname={}", m_port, dbname);
}

bool tcp_proxy::listen_again()
{
    int const s = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int const on = 1;
    ::setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<std::uint16_t>(m_port)); // 0 the first time
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
        ::listen(s, 16) != 0) {
        ::close(s);
        return false;
    }
    socklen_t len = sizeof a;
    ::getsockname(s, reinterpret_cast<sockaddr*>(&a), &len);
    m_port = ntohs(a.sin_port);
    m_listener = s;
    return true;
}

void tcp_proxy::restart(std::chrono::milliseconds down)
{
    std::unique_lock<std::mutex> lock{m_mutex};
    m_down_until = std::chrono::steady_clock::now() + down;
    m_cut_pending = true;
    (void)!::write(m_wake[1], "x", 1);
    // The loop cuts within its next poll; the caller goes on only after that.
    m_cut.wait(lock, [this] { return !m_cut_pending; });
}

// One thread: accept, pair each client with a connection upstream, copy
// bytes both ways; a restart closes everything and listens again later.
void tcp_proxy::loop()
{
    std::vector<link> links;
    while (!m_stop) {
        {
            std::lock_guard<std::mutex> g{m_mutex};
            if (m_cut_pending) {
                for (auto const& l : links) {
                    close_link(l);
                }
                links.clear();
                ::close(m_listener);
                m_listener = -1;
                m_cut_pending = false;
                m_cut.notify_all();
            }
            if (m_listener < 0 && std::chrono::steady_clock::now() >= m_down_until) {
                listen_again();
            }
        }
        std::vector<pollfd> fds{{m_wake[0], POLLIN, 0}};
        if (m_listener >= 0) {
            fds.push_back({m_listener, POLLIN, 0});
        }
        std::size_t const first_link = fds.size();
        for (auto const& l : links) {
            fds.push_back({l.client, POLLIN, 0});
            fds.push_back({l.server, POLLIN, 0});
        }
        if (::poll(fds.data(), fds.size(), 20) <= 0) {
            continue;
        }
        char buf[65536];
        while (::read(m_wake[0], buf, sizeof buf) > 0) {
        }
        std::vector<link> kept;
        for (std::size_t i = 0; i < links.size(); ++i) {
            auto const& l = links[i];
            bool open = true;
            for (int side = 0; side < 2 && open; ++side) {
                auto const& p = fds[first_link + 2 * i + static_cast<std::size_t>(side)];
                if (!(p.revents & (POLLIN | POLLHUP | POLLERR))) {
                    continue;
                }
                ssize_t const n = ::read(p.fd, buf, sizeof buf);
                open = n > 0 && write_all(side == 0 ? l.server : l.client, buf, n);
            }
            if (open) {
                kept.push_back(l);
            } else {
                close_link(l);
            }
        }
        links = std::move(kept);
        if (m_listener >= 0 && (fds[1].revents & POLLIN)) {
            int const c = ::accept4(m_listener, nullptr, nullptr, SOCK_CLOEXEC);
            if (c >= 0) {
                int const s = connect_upstream();
                if (s < 0) {
                    ::close(c);
                } else {
                    links.push_back({c, s});
                }
            }
        }
    }
    for (auto const& l : links) {
        close_link(l);
    }
}

} // namespace xloop::test
