#pragma once

// A TCP proxy on 127.0.0.1 in front of the test cluster (PGHOST, PGPORT): a
// database that goes away and comes back as a restart makes it, its clients'
// connections cut and new ones refused for a while, without stopping the
// cluster the other tests share.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

namespace xloop::test {

class tcp_proxy {
public:
    tcp_proxy();
    ~tcp_proxy();
    tcp_proxy(tcp_proxy const&) = delete;
    tcp_proxy& operator=(tcp_proxy const&) = delete;

    // A connection string for `dbname` through the proxy.
    std::string conninfo(std::string const& dbname) const;

    // Whether the proxy reaches the cluster over TCP (PGHOST a host, not a
    // socket directory).
    static bool upstream_is_tcp();

    // Cuts every connection and refuses new ones (connection refused) for
    // `down`, then accepts again. Returns once the cut is made.
    void restart(std::chrono::milliseconds down);

private:
    void loop();
    bool listen_again();

    int m_port = 0;
    int m_listener = -1;
    int m_wake[2] = {-1, -1};
    std::mutex m_mutex;
    std::condition_variable m_cut;
    std::chrono::steady_clock::time_point m_down_until{};
    bool m_cut_pending = false;
    std::atomic<bool> m_stop{false};
    std::thread m_thread;
};

} // namespace xloop::test
