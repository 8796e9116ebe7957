#pragma once

// A TLS server on 127.0.0.1 with a self-signed certificate made at start (an
// EC key, CN=localhost): the certificate no client trusts, as behind a proxy
// that intercepts TLS or at a self-hosted endpoint. It counts handshakes
// begun and answers a request on one that completes with `{}`.

#include <atomic>
#include <thread>

namespace xloop::test {

class tls_server {
public:
    tls_server();
    ~tls_server();
    tls_server(tls_server const&) = delete;
    tls_server& operator=(tls_server const&) = delete;

    int port() const { return m_port; }
    int connections() const { return m_connections.load(); }

private:
    void loop();

    void* m_ctx = nullptr; // SSL_CTX
    int m_listener = -1;
    int m_port = 0;
    std::atomic<int> m_connections{0};
    std::thread m_thread;
};

} // namespace xloop::test
