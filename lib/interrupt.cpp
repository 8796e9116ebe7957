#include "interrupt.hpp"

#include "error.hpp"

#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>

namespace xloop {

namespace {
std::atomic<bool> g_interrupted{false};
std::atomic<std::int64_t> g_since_ns{0}; // steady clock, when it was asked
static_assert(std::atomic<bool>::is_always_lock_free);
static_assert(std::atomic<std::int64_t>::is_always_lock_free);

std::int64_t steady_ns() noexcept
{
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}
} // namespace

void request_interrupt() noexcept
{
    if (!g_interrupted.exchange(true)) {
        g_since_ns = steady_ns(); // clock_gettime: async-signal-safe
    }
}

bool interrupted_for_longer_than(std::chrono::milliseconds grace) noexcept
{
    return g_interrupted &&
           steady_ns() - g_since_ns.load() > std::chrono::nanoseconds{grace}.count();
}

bool interrupt_requested() noexcept
{
    return g_interrupted;
}

void throw_if_interrupted()
{
    if (g_interrupted) {
        throw interrupted{"interrupted by a signal"};
    }
}

void interruptible_sleep(std::chrono::milliseconds d)
{
    // poll ignores a negative descriptor: a wait for the deadline alone
    interruptible_poll(-1, 0, std::chrono::steady_clock::now() + d);
}

namespace {

// poll in slices of 50 ms, the interrupt flag checked before each where
// `interruptible`.
poll_result poll_in_slices(int fd, short events,
                           std::optional<std::chrono::steady_clock::time_point> deadline,
                           bool interruptible)
{
    for (;;) {
        if (interruptible) {
            throw_if_interrupted();
        }
        auto slice = std::chrono::milliseconds{50};
        if (deadline) {
            auto const left = std::chrono::duration_cast<std::chrono::milliseconds>(
                *deadline - std::chrono::steady_clock::now());
            if (left.count() <= 0) {
                return poll_result::timed_out;
            }
            slice = std::min(left, slice);
        }
        pollfd p{fd, events, 0};
        int const rc = ::poll(&p, 1, static_cast<int>(slice.count()));
        if (rc > 0) {
            return poll_result::ready;
        }
        if (rc < 0 && errno != EINTR) {
            return poll_result::failed;
        }
    }
}

} // namespace

poll_result
interruptible_poll(int fd, short events,
                   std::optional<std::chrono::steady_clock::time_point> deadline)
{
    return poll_in_slices(fd, events, deadline, true);
}

poll_result
uninterrupted_poll(int fd, short events,
                   std::optional<std::chrono::steady_clock::time_point> deadline)
{
    return poll_in_slices(fd, events, deadline, false);
}

} // namespace xloop
