#include "subprocess.hpp"

#include "error.hpp"
#include "interrupt.hpp"

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <string_view>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <utility>

namespace xloop {

namespace {
void close_fd(int& fd)
{
    if (fd >= 0) {
        ::close(fd);
        fd = -1;
    }
}
// The program's path: argv[0] itself when it names a path, else the first
// executable of that name on PATH (as execvp would search it).
std::string resolve_program(std::string const& name)
{
    if (name.find('/') != std::string::npos) {
        return name;
    }
    char const* path = std::getenv("PATH");
    std::string_view dirs = path ? path : "/usr/local/bin:/usr/bin:/bin";
    while (true) {
        auto const colon = dirs.find(':');
        auto const dir = dirs.substr(0, colon);
        auto candidate = (dir.empty() ? std::string{"."} : std::string{dir}) + "/" + name;
        if (::access(candidate.c_str(), X_OK) == 0) {
            return candidate;
        }
        if (colon == std::string_view::npos) {
            return name; // execve fails with ENOENT, reported as usual
        }
        dirs.remove_prefix(colon + 1);
    }
}

// This process's environment as NAME=value strings with `changes` applied
// (nullopt: unset).
std::vector<std::string>
child_environment(std::map<std::string, std::optional<std::string>> const& changes)
{
    std::vector<std::string> out;
    for (char** e = environ; e && *e; ++e) {
        std::string_view const entry{*e};
        auto const name = entry.substr(0, entry.find('='));
        if (!changes.contains(std::string{name})) {
            out.emplace_back(entry);
        }
    }
    for (auto const& [k, v] : changes) {
        if (v) {
            out.push_back(k + "=" + *v);
        }
    }
    return out;
}

} // namespace

std::optional<std::string> why_not_runnable(std::string const& program)
{
    auto const path = resolve_program(program);
    if (program.find('/') == std::string::npos && path == program) {
        return "not found on PATH";
    }
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
        return std::string{std::strerror(errno)};
    }
    if (S_ISDIR(st.st_mode)) {
        return "it is a directory";
    }
    if (::access(path.c_str(), X_OK) != 0) {
        return "it is not executable";
    }
    return std::nullopt;
}

// Long on purpose: one fork/exec and one poll loop over the child's three
// pipes, whose descriptors, deadline and kill must be handled on every path
// in one place (split up, each piece would need all of that state).
process_result run_process(process_spec const& spec)
{
    if (spec.argv.empty()) {
        throw error{"run_process: no program given"};
    }
    // Everything the child needs is made before the fork: between fork and
    // exec a child of a threaded parent may only make async-signal-safe
    // calls (a setenv or a malloc there deadlocked when another thread, the
    // fake X API's, held the allocator's lock at the fork).
    auto const program = resolve_program(spec.argv.front());
    std::vector<std::string> env = child_environment(spec.env);
    std::vector<char*> args;
    for (auto const& a : spec.argv) {
        args.push_back(const_cast<char*>(a.c_str()));
    }
    args.push_back(nullptr);
    std::vector<char*> envp;
    for (auto& e : env) {
        envp.push_back(e.data());
    }
    envp.push_back(nullptr);
    int in[2];
    int out[2];
    int err[2];
    int exec_err[2]; // reports an exec failure from the child
    if (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC) || pipe2(err, O_CLOEXEC) ||
        pipe2(exec_err, O_CLOEXEC)) {
        throw error{fmt::format("cannot create pipes: {}", std::strerror(errno))};
    }
    pid_t const pid = fork();
    if (pid < 0) {
        throw error{fmt::format("cannot fork: {}", std::strerror(errno))};
    }
    if (pid == 0) {
        dup2(in[0], 0);
        dup2(out[1], 1);
        dup2(err[1], 2);
        setpgid(0, 0); // own process group: a timeout kills its children too
        // An ignored SIGPIPE outlives exec: the command gets the default, as
        // from a shell (a `producer | head` in it must end).
        ::signal(SIGPIPE, SIG_DFL);
        execve(program.c_str(), args.data(), envp.data());
        int const e = errno;
        [[maybe_unused]] auto n = write(exec_err[1], &e, sizeof e);
        _exit(127);
    }
    ::close(in[0]);
    ::close(out[1]);
    ::close(err[1]);
    ::close(exec_err[1]);
    int e = 0;
    if (read(exec_err[0], &e, sizeof e) == sizeof e) {
        ::close(exec_err[0]);
        ::close(in[1]);
        ::close(out[0]);
        ::close(err[0]);
        waitpid(pid, nullptr, 0);
        throw error{fmt::format("cannot run '{}': {}", spec.argv[0], std::strerror(e))};
    }
    ::close(exec_err[0]);

    process_result result;
    int fds[3] = {in[1], out[0], err[0]};
    fcntl(fds[0], F_SETFL, O_NONBLOCK);
    std::size_t written = 0;
    if (spec.input.empty()) {
        close_fd(fds[0]);
    }
    auto const started = std::chrono::steady_clock::now();
    auto const deadline = started + std::chrono::milliseconds(spec.timeout_ms);
    bool signalled = spec.signal_after_ms < 0 && !spec.signal_when;
    bool interrupted = false;
    ::signal(SIGPIPE, SIG_IGN); // a child that exits before reading its input
    while (fds[1] >= 0 || fds[2] >= 0) {
        auto const left = std::chrono::duration_cast<std::chrono::milliseconds>(
                              deadline - std::chrono::steady_clock::now())
                              .count();
        if (left <= 0) {
            result.timed_out = true;
            kill(-pid, SIGKILL);
            break;
        }
        if (spec.interruptible && interrupt_requested()) {
            interrupted = true;
            kill(-pid, SIGKILL);
            break;
        }
        // A signal ends the poll (EINTR); the 50 ms cover one that lands
        // between the check above and the poll.
        long wait_ms = spec.interruptible ? std::min(left, 50L) : left;
        if (!signalled && spec.signal_when) {
            if (spec.signal_when()) {
                kill(pid, spec.signal_number);
                signalled = true;
            } else {
                wait_ms = std::min(wait_ms, 10L);
            }
        } else if (!signalled) {
            auto const due = started + std::chrono::milliseconds(spec.signal_after_ms);
            auto const until = std::chrono::duration_cast<std::chrono::milliseconds>(
                                   due - std::chrono::steady_clock::now())
                                   .count();
            if (until <= 0) {
                kill(pid, spec.signal_number);
                signalled = true;
            } else {
                wait_ms = std::min(wait_ms, static_cast<long>(until));
            }
        }
        pollfd p[3];
        int n = 0;
        int idx[3];
        for (int i = 0; i < 3; ++i) {
            if (fds[i] >= 0) {
                p[n] = {fds[i], static_cast<short>(i == 0 ? POLLOUT : POLLIN), 0};
                idx[n++] = i;
            }
        }
        if (poll(p, static_cast<nfds_t>(n), static_cast<int>(wait_ms)) < 0) {
            if (errno == EINTR) {
                continue;
            }
            break;
        }
        for (int k = 0; k < n; ++k) {
            int const i = idx[k];
            if (!p[k].revents) {
                continue;
            }
            if (i == 0) {
                auto const w = write(fds[0], spec.input.data() + written,
                                     spec.input.size() - written);
                if (w > 0) {
                    written += static_cast<std::size_t>(w);
                }
                if (w < 0 || written == spec.input.size()) {
                    close_fd(fds[0]);
                }
            } else {
                char buf[65536];
                auto const r = read(fds[i], buf, sizeof buf);
                if (r > 0) {
                    (i == 1 ? result.out : result.err)
                        .append(buf, static_cast<std::size_t>(r));
                    if (spec.max_output_bytes > 0 &&
                        result.out.size() + result.err.size() > spec.max_output_bytes) {
                        result.too_much_output = true;
                        kill(-pid, SIGKILL);
                        close_fd(fds[1]);
                        close_fd(fds[2]);
                    }
                } else if (r == 0 || errno != EINTR) {
                    close_fd(fds[i]);
                }
            }
        }
    }
    for (auto& fd : fds) {
        close_fd(fd);
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (WIFEXITED(status)) {
        result.exit_code = WEXITSTATUS(status);
    } else if (WIFSIGNALED(status)) {
        result.signal = WTERMSIG(status);
    }
    if (interrupted) {
        throw_if_interrupted();
    }
    return result;
}

process_result run_command(std::vector<std::string> argv, long timeout_ms)
{
    process_spec spec;
    spec.argv = std::move(argv);
    spec.timeout_ms = timeout_ms;
    return run_process(spec);
}

} // namespace xloop
