#include "subprocess.hpp"

#include "error.hpp"
#include "interrupt.hpp"
#include "unique_fd.hpp"

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <string_view>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <utility>

namespace xloop {

namespace {
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

namespace {

struct pipe_ends {
    unique_fd read;
    unique_fd write;
};

pipe_ends make_pipe()
{
    int p[2];
    if (pipe2(p, O_CLOEXEC)) {
        throw error{fmt::format("cannot create a pipe: {}", std::strerror(errno))};
    }
    return {unique_fd{p[0]}, unique_fd{p[1]}};
}

long ms_until(std::chrono::steady_clock::time_point t)
{
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               t - std::chrono::steady_clock::now())
        .count();
}

// Forks and execs the program in a process group of its own (a timeout kills
// its children too) with the pipes' ends as its stdin, stdout and stderr;
// returns once the exec succeeded, throws when it failed.
pid_t start_child(process_spec const& spec, int in, int out, int err)
{
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
    auto exec_failed = make_pipe(); // the child's errno when exec fails
    pid_t const pid = fork();
    if (pid < 0) {
        throw error{fmt::format("cannot fork: {}", std::strerror(errno))};
    }
    if (pid == 0) {
        dup2(in, 0);
        dup2(out, 1);
        dup2(err, 2);
        setpgid(0, 0);
        // An ignored SIGPIPE outlives exec: the command gets the default, as
        // from a shell (a `producer | head` in it must end).
        ::signal(SIGPIPE, SIG_DFL);
        execve(program.c_str(), args.data(), envp.data());
        int const e = errno;
        [[maybe_unused]] auto n = write(exec_failed.write.get(), &e, sizeof e);
        _exit(127);
    }
    exec_failed.write.reset();
    // Nothing to read (end of file) once exec closed the child's copy.
    int e = 0;
    if (read(exec_failed.read.get(), &e, sizeof e) == sizeof e) {
        waitpid(pid, nullptr, 0);
        throw error{fmt::format("cannot run '{}': {}", spec.argv[0], std::strerror(e))};
    }
    return pid;
}

// A started child: feeds it its input, collects its output, signals it when
// asked to, and kills it (and what it started) at the deadline.
class child_run {
public:
    child_run(process_spec const& spec, pid_t pid, unique_fd in, unique_fd out,
              unique_fd err)
        : m_spec(spec), m_pid(pid),
          m_deadline(std::chrono::steady_clock::now() +
                     std::chrono::milliseconds(spec.timeout_ms)),
          m_signalled(!spec.signal_when)
    {
        m_fds[0] = std::move(in);
        m_fds[1] = std::move(out);
        m_fds[2] = std::move(err);
        if (spec.input.empty()) {
            m_fds[0].reset();
        } else {
            fcntl(m_fds[0].get(), F_SETFL, O_NONBLOCK);
        }
#ifdef SYS_pidfd_open
        // Readable when the child ends: a program that leaves a background
        // process holding its stdout has still finished. Without one (an old
        // kernel, a seccomp filter) its end is polled.
        m_exit.reset(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
#endif
    }

    process_result wait()
    {
        ::signal(SIGPIPE, SIG_IGN); // a child that exits before reading its input
        while (!m_reaped && (m_fds[1] || m_fds[2]) && step()) {
        }
        for (auto& fd : m_fds) {
            fd.reset();
        }
        if (!m_reaped) {
            reap(0);
        }
        if (m_interrupted) {
            throw_if_interrupted();
        }
        return std::move(m_result);
    }

private:
    // One poll of the pipes: false once the run must end.
    bool step()
    {
        auto const left = ms_until(m_deadline);
        if (left <= 0) {
            m_result.timed_out = true;
            kill_all();
            return false;
        }
        if (m_spec.interruptible && interrupt_requested()) {
            m_interrupted = true;
            kill_all();
            return false;
        }
        // A signal ends the poll (EINTR); the 50 ms cover one that lands
        // between the check above and the poll, and a child's end unseen.
        long wait_ms = std::min(left, signal_if_due());
        if (m_spec.interruptible || !m_exit) {
            wait_ms = std::min(wait_ms, 50L);
        }
        pollfd p[4];
        int which[4];
        nfds_t n = 0;
        for (int i = 0; i < 3; ++i) {
            if (m_fds[i]) {
                p[n] = {m_fds[i].get(), static_cast<short>(i == 0 ? POLLOUT : POLLIN), 0};
                which[n++] = i;
            }
        }
        if (m_exit) {
            p[n] = {m_exit.get(), POLLIN, 0};
            which[n++] = 3;
        }
        if (poll(p, n, static_cast<int>(wait_ms)) < 0) {
            if (errno == EINTR) {
                return true;
            }
            auto const why = std::strerror(errno);
            kill_all();
            reap(0);
            throw error{fmt::format("cannot wait for '{}': {}", m_spec.argv[0], why)};
        }
        for (nfds_t k = 0; k < n; ++k) {
            if (!p[k].revents || which[k] == 3) {
                continue;
            }
            if (which[k] == 0) {
                write_input();
            } else if (!read_output(which[k])) {
                return false;
            }
        }
        if (reap(WNOHANG)) {
            drain();
            return false;
        }
        return true;
    }

    // The time until the signal of a shutdown test is due (sent when it is).
    long signal_if_due()
    {
        long constexpr never = 1L << 30;
        if (m_signalled) {
            return never;
        }
        if (!m_spec.signal_when()) {
            return 10;
        }
        kill(m_pid, m_spec.signal_number);
        m_signalled = true;
        return never;
    }

    void write_input()
    {
        auto const w = write(m_fds[0].get(), m_spec.input.data() + m_written,
                             m_spec.input.size() - m_written);
        if (w > 0) {
            m_written += static_cast<std::size_t>(w);
        }
        if (w < 0 || m_written == m_spec.input.size()) {
            m_fds[0].reset();
        }
    }

    // Reads what is there from stdout (1) or stderr (2): false when the
    // output passed its limit (the child is killed).
    bool read_output(int i)
    {
        char buf[65536];
        auto const r = read(m_fds[i].get(), buf, sizeof buf);
        if (r > 0) {
            (i == 1 ? m_result.out : m_result.err)
                .append(buf, static_cast<std::size_t>(r));
            if (m_spec.max_output_bytes > 0 &&
                m_result.out.size() + m_result.err.size() > m_spec.max_output_bytes) {
                m_result.too_much_output = true;
                kill_all();
                return false;
            }
        } else if (r == 0 || (errno != EINTR && errno != EAGAIN)) {
            m_fds[i].reset();
        }
        return true;
    }

    // After the child's end: what it wrote before it, not waiting for an end
    // of file that a process it left behind may hold off.
    void drain()
    {
        for (int i = 1; i < 3; ++i) {
            if (!m_fds[i]) {
                continue;
            }
            fcntl(m_fds[i].get(), F_SETFL, O_NONBLOCK);
            // What is in the pipe now, no more: a process left behind may go
            // on writing for ever.
            int pending = 0;
            ioctl(m_fds[i].get(), FIONREAD, &pending);
            auto const until = m_result.out.size() + m_result.err.size() +
                               static_cast<std::size_t>(std::max(pending, 0));
            while (m_fds[i] && m_result.out.size() + m_result.err.size() < until) {
                auto const before = m_result.out.size() + m_result.err.size();
                if (!read_output(i)) {
                    return; // past its limit: killed
                }
                if (m_result.out.size() + m_result.err.size() == before) {
                    break; // nothing more now (EAGAIN) or the end
                }
            }
        }
    }

    void kill_all()
    {
        kill(-m_pid, SIGKILL);
    }

    // Collects the child's status once it ended: true when it had.
    bool reap(int options)
    {
        int status = 0;
        pid_t r = 0;
        while ((r = waitpid(m_pid, &status, options)) < 0 && errno == EINTR) {
        }
        if (r != m_pid) {
            return false;
        }
        m_reaped = true;
        if (WIFEXITED(status)) {
            m_result.exit_code = WEXITSTATUS(status);
        } else if (WIFSIGNALED(status)) {
            m_result.signal = WTERMSIG(status);
        }
        return true;
    }

    process_spec const& m_spec;
    pid_t m_pid;
    std::chrono::steady_clock::time_point m_deadline;
    unique_fd m_fds[3]; // the child's stdin, stdout, stderr
    unique_fd m_exit;   // pidfd
    std::size_t m_written = 0;
    bool m_signalled;
    bool m_interrupted = false;
    bool m_reaped = false;
    process_result m_result;
};

} // namespace

process_result run_process(process_spec const& spec)
{
    if (spec.argv.empty()) {
        throw error{"run_process: no program given"};
    }
    auto in = make_pipe();
    auto out = make_pipe();
    auto err = make_pipe();
    pid_t const pid = start_child(spec, in.read.get(), out.write.get(), err.write.get());
    in.read.reset(); // the child's ends, which it has now
    out.write.reset();
    err.write.reset();
    return child_run{spec, pid, std::move(in.write), std::move(out.read),
                     std::move(err.read)}
        .wait();
}

process_result run_command(std::vector<std::string> argv, long timeout_ms)
{
    process_spec spec;
    spec.argv = std::move(argv);
    spec.timeout_ms = timeout_ms;
    return run_process(spec);
}

} // namespace xloop
