#include "host_lookup.hpp"

#include "interrupt.hpp"

#include <netdb.h>
#include <sys/socket.h>

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

namespace xloop {

namespace {

// getaddrinfo's answer, handed from the thread that waits for it.
struct pending_lookup {
    std::mutex m;
    std::condition_variable done;
    std::optional<int> rc;
};

} // namespace

host_lookup look_up_host(std::string const& name)
{
    // A resolver that does not answer holds getaddrinfo for its timeouts (5 s
    // a server, twice): on a thread of its own, so a signal is not kept
    // waiting. Left to finish alone when one comes; the state is shared.
    auto const state = std::make_shared<pending_lookup>();
    std::thread{[state, name] {
        addrinfo hints{};
        hints.ai_family = AF_UNSPEC;
        hints.ai_socktype = SOCK_STREAM;
        addrinfo* found = nullptr;
        int const rc = ::getaddrinfo(name.c_str(), nullptr, &hints, &found);
        if (found) {
            ::freeaddrinfo(found);
        }
        std::lock_guard<std::mutex> lock{state->m};
        state->rc = rc;
        state->done.notify_one();
    }}.detach();
    std::unique_lock<std::mutex> lock{state->m};
    while (!state->rc) {
        if (interrupt_requested()) {
            return host_lookup::failing_for_now; // the run is stopping: no answer yet
        }
        state->done.wait_for(lock, std::chrono::milliseconds{50});
    }
    int const rc = *state->rc;
    return rc == 0            ? host_lookup::found
           : rc == EAI_NONAME ? host_lookup::missing
           : rc == EAI_AGAIN  ? host_lookup::failing_for_now
                              : host_lookup::failed;
}

} // namespace xloop
