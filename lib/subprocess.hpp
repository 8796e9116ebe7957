#pragma once

// Runs a program with arguments, feeds it stdin, captures stdout and stderr,
// and kills it after a timeout. No shell is involved.

#include <csignal>
#include <cstddef>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace xloop {

struct process_result {
    int exit_code = -1; // -1 when killed by a signal
    int signal = 0;
    bool timed_out = false;
    bool too_much_output = false; // past max_output_bytes: killed there
    std::string out;
    std::string err;
};

struct process_spec {
    std::vector<std::string> argv;
    std::string input;
    std::map<std::string, std::optional<std::string>> env; // nullopt: unset
    long timeout_ms = 60000;
    std::size_t max_output_bytes = 0; // stdout and stderr together; 0: no limit
    // Send a signal once this returns true (polled every 10 ms; tests of
    // shutdown): at a point of the run, however slow a loaded machine makes
    // the way there (a fixed delay raced a tool slow to start)
    std::function<bool()> signal_when;
    int signal_number = SIGTERM; // the signal it sends
    // A SIGINT/SIGTERM to this process (interrupt.hpp) kills the program and
    // everything it started, and throws interrupted: a run stopped by its
    // supervisor must not wait for a slow writer.
    bool interruptible = false;
};

// Why `program` (a path, or a name looked up on PATH) cannot be run, or
// nothing when it can: to refuse a configured command before any work.
std::optional<std::string> why_not_runnable(std::string const& program);

// Throws xloop::error when the program cannot be started, interrupted when
// an interruptible run is stopped by a signal.
process_result run_process(process_spec const& spec);

// A command with the environment inherited and nothing on its input.
process_result run_command(std::vector<std::string> argv, long timeout_ms = 60000);

} // namespace xloop
