#pragma once

// A blocking library call no signal cuts short (getaddrinfo, libpq's start of
// a connection, which looks its host up) run on a thread of its own, so the
// run's wait for it still ends on a signal or a deadline.

#include "interrupt.hpp"

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

namespace xloop {

// `work`'s result, waited for waking every 50 ms; nothing when a signal came
// or `deadline` passed first. The thread is then left to finish alone and
// hands its result to `discard` (a connection to close).
template <typename T>
std::optional<T>
run_off_thread(std::function<T()> work, std::function<void(T)> discard = {},
               std::optional<std::chrono::steady_clock::time_point> deadline = {})
{
    struct shared {
        std::mutex m;
        std::condition_variable done;
        std::optional<T> result;
        bool abandoned = false;
    };
    auto const s = std::make_shared<shared>();
    std::thread{[s, work = std::move(work), discard = std::move(discard)] {
        T r = work();
        std::lock_guard<std::mutex> lock{s->m};
        if (s->abandoned) {
            if (discard) {
                discard(std::move(r));
            }
            return;
        }
        s->result = std::move(r);
        s->done.notify_one();
    }}.detach();
    std::unique_lock<std::mutex> lock{s->m};
    while (!s->result) {
        if (interrupt_requested() ||
            (deadline && std::chrono::steady_clock::now() >= *deadline)) {
            s->abandoned = true;
            return std::nullopt;
        }
        s->done.wait_for(lock, std::chrono::milliseconds{50});
    }
    return std::move(s->result);
}

} // namespace xloop
