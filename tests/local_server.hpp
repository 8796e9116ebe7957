#pragma once

// The fake servers of the tests and the simulator (X API, LLM endpoint,
// pings): cpp-httplib on 127.0.0.1, listening on a thread of their own.

#include <httplib.h>

#include <chrono>
#include <thread>

namespace xloop {

// Binds `server` to a port of 127.0.0.1 the OS chooses and returns it. Each
// answer leaves at once (TCP_NODELAY, as real servers do): on a kept-alive
// connection cpp-httplib's header and body writes otherwise wait out the
// client's delayed ACK, 40 ms a request.
inline int bind_loopback(httplib::Server& server)
{
    server.set_tcp_nodelay(true);
    return server.bind_to_any_port("127.0.0.1");
}

// Runs `server` (bound already) on a new thread and returns once its loop
// runs: a stop() before that is lost, and the join after it would wait for
// ever (a test that fails before its first request would hang, not fail).
inline std::thread start_listening(httplib::Server& server)
{
    std::thread t{[&server] { server.listen_after_bind(); }};
    for (int i = 0; i < 5000 && !server.is_running(); ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds{1});
    }
    return t;
}

} // namespace xloop
