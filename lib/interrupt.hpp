#pragma once

// Whether SIGINT/SIGTERM/SIGHUP asked the run to stop, for every wait and loop of
// the library (a cron job stopped by its supervisor must exit 75 within a
// second, whatever it was waiting for). Set by the tools' signal handler.

#include <atomic>
#include <chrono>
#include <optional>

namespace xloop {

// Set from a signal handler (lock-free, async-signal-safe).
void request_interrupt() noexcept;
bool interrupt_requested() noexcept;

// Whether a signal asked the run to stop more than `grace` ago: a request in
// flight may finish within the grace (its data is kept), not beyond it.
bool interrupted_for_longer_than(std::chrono::milliseconds grace) noexcept;

// Throws interrupted if a signal asked the run to stop.
void throw_if_interrupted();

// Sleeps `d`, waking every 50 ms to throw interrupted on a signal.
void interruptible_sleep(std::chrono::milliseconds d);

enum class poll_result { ready, timed_out, failed };

// Waits for `events` on `fd` until poll says it is ready (or in error: the
// caller's next call on it says which), `deadline` passes (none: no limit),
// or poll itself fails; waking every 50 ms to throw interrupted on a signal.
poll_result
interruptible_poll(int fd, short events,
                   std::optional<std::chrono::steady_clock::time_point> deadline);

// The same without the check for a signal: for a thread of its own, where
// the signal is the waiting thread's to see.
poll_result
uninterrupted_poll(int fd, short events,
                   std::optional<std::chrono::steady_clock::time_point> deadline);

} // namespace xloop
