#include "validate_job.hpp"

#include "app.hpp"
#include "config.hpp"
#include "db.hpp"
#include "log.hpp"
#include "policy_value.hpp"
#include "reply_opportunity.hpp"
#include "terminal.hpp"
#include "text.hpp"
#include "validate_checks.hpp"
#include "validate_schema.hpp"

#include <algorithm>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fmt/ranges.h>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sys/stat.h>
#include <tuple>
#include <unistd.h>

namespace xloop {

namespace checks {

check_result make(std::string name, std::string status, std::string message)
{
    return {std::move(name), std::move(status), std::move(message),
            nlohmann::json::object()};
}

void add_warning(check_result& c, std::string_view what)
{
    if (c.status == "ok") {
        c.status = "warn";
    }
    c.message += "; ";
    c.message += what;
}

std::string ago_text(double h)
{
    return h > -1.0 / 60 ? hours_text(h) + " ago" : hours_text(-h) + " in the future";
}

std::string old_text(double h)
{
    return h > -1.0 / 60 ? hours_text(h) + " old"
                         : "dated " + hours_text(-h) + " in the future";
}

double ratio(std::int64_t part, std::int64_t whole)
{
    return whole > 0 ? static_cast<double>(part) / static_cast<double>(whole) : 0.0;
}

job_state const& check_context::job(std::string const& name)
{
    auto it = jobs.find(name);
    if (it == jobs.end()) {
        it = jobs.emplace(name, job_states(db, {name}, now, days).at(name)).first;
    }
    return it->second;
}

std::string check_context::last_days() const
{
    return last_days_text(days);
}

std::string check_context::last_run(std::string const& name)
{
    return last_run_text(name, job(name));
}

std::string const& check_context::own_key()
{
    if (!own) {
        own = account_key(own_handle(db, cfg));
    }
    return *own;
}

} // namespace checks

namespace {

bool nothing_to_count(db_connection& db)
{
    return !db.exec(R"sql(
SELECT to_regclass('xloop.vw_learning') IS NOT NULL
   AND to_regclass('xloop.job_runs') IS NOT NULL
   AND to_regclass('public.outcomes') IS NOT NULL)sql")
                .boolean(0, 0);
}

} // namespace

std::vector<check_result> run_checks(run_context& run, int days)
{
    // In the function: a unity batch's next files never see the checks' names.
    using namespace checks;
    check_context x{run.db(), run.cfg(), run.now(), days, {}};
    std::vector<check_result> out;
    out.push_back(schema_check(x.db, x.cfg, x.has_as_uuid));
    x.schema_complete = schema_complete(out.back());
    // a --now (a simulation, a test) has no clock to compare
    bool const real_clock = !run.options().now_text;
    if (out.back().status == "fail" && nothing_to_count(x.db)) {
        if (real_clock) {
            out.push_back(clock_check(x.db, x.cfg));
        }
        return out;
    }
    // the scheduled jobs at once (the four, unless the config leaves one out:
    // then that one when a check names it)
    std::vector<std::string> names;
    for (auto const& [job, interval] : x.cfg.validate.job_interval_minutes) {
        names.push_back(job);
    }
    x.jobs = job_states(x.db, names, x.now, x.days);
    using check_fn = check_result (*)(check_context&);
    std::pair<char const*, check_fn> const rest[] = {
        {"v2_coverage", v2_coverage_check},
        {"content_slot_coverage", slot_coverage_check},
        {"posted_items", posted_items_check},
        {"queue", queue_check},
        {"vw_learning", learning_view_check},
        {"weight_map", weight_map_check},
        {"reply_priorities", reply_priorities_check},
        {"reply_opportunities", reply_opportunities_check},
        {"idle_transactions", idle_transactions_check}};
    bool const schema_ok = out.front().status != "fail";
    for (auto const& [name, check] : rest) {
        if (schema_ok) {
            out.push_back(check(x));
            continue;
        }
        // A check that trips on what the schema check found (a count held
        // as text: SQLSTATE class 42 or 22) says so and the others still run;
        // statements here run outside a transaction, so the connection stays
        // usable. Anything else (a lost server, a cancel, a missing grant)
        // ends the run, as it would have.
        try {
            out.push_back(check(x));
        } catch (db_error const& e) {
            if ((e.sqlstate().rfind("42", 0) != 0 && e.sqlstate().rfind("22", 0) != 0) ||
                e.sqlstate() == "42501") {
                throw;
            }
            out.push_back(make(name, "fail",
                               fmt::format("cannot be checked until the schema check "
                                           "passes: {}",
                                           e.what())));
        }
    }
    for (auto const& [job, interval] : x.cfg.validate.job_interval_minutes) {
        // replies are optional: judged once xloop-plan --replies has run
        if (job == "plan-replies" && x.job(job).last_status.empty()) {
            continue;
        }
        out.push_back(job_check(x, job, interval));
    }
    if (real_clock) {
        out.push_back(clock_check(x.db, x.cfg));
    }
    return out;
}

nlohmann::json report_json(std::vector<check_result> const& checks, bool ready)
{
    auto list = nlohmann::json::array();
    for (auto const& c : checks) {
        list.push_back({{"name", c.name},
                        {"status", c.status},
                        {"message", c.message},
                        {"numbers", c.numbers}});
    }
    return {{"verdict", ready ? "READY" : "NOT READY"}, {"checks", list}};
}

std::string checks_to_read(std::vector<check_result> const& checks)
{
    std::vector<std::string> failing;
    std::vector<std::string> warning;
    for (auto const& c : checks) {
        if (c.status == "fail") {
            failing.push_back(c.name);
        } else if (c.status == "warn") {
            warning.push_back(c.name);
        }
    }
    std::vector<std::string> parts;
    if (!failing.empty()) {
        parts.push_back(fmt::format("failing: {}", fmt::join(failing, ", ")));
    }
    if (!warning.empty()) {
        parts.push_back(fmt::format("{}: {}",
                                    warning.size() == 1 ? "warning" : "warnings",
                                    fmt::join(warning, ", ")));
    }
    return fmt::format("{}", fmt::join(parts, "; "));
}

std::string report_table(std::vector<check_result> const& checks, bool ready, bool colour,
                         std::size_t columns)
{
    auto paint = [&](std::string const& status) {
        if (!colour) {
            return fmt::format("{:<4}", status);
        }
        char const* code = status == "ok" ? "32" : status == "warn" ? "33" : "31";
        return fmt::format("\033[{}m{:<4}\033[0m", code, status);
    };
    std::size_t width = 5;
    for (auto const& c : checks) {
        width = std::max(width, c.name.size());
    }
    std::string out =
        fmt::format("{:<{}}  {:<4}  {}\n", "check", width, "", "why / what to do");
    // On a terminal the messages wrap under their own column, so that the
    // names and statuses stay a column one reads down.
    for (auto const& c : checks) {
        // a message quotes data (names, ids): escaped, the colours are ours
        out += fmt::format(
            "{:<{}}  {}  {}\n", c.name, width, paint(c.status),
            hanging_lines(escape_line(c.message), width + 2 + 4 + 2, columns));
    }
    std::string const verdict = ready ? "READY" : "NOT READY";
    // the last line, where a mail or a glance at the terminal ends: which
    // checks to read
    auto const to_read = checks_to_read(checks);
    auto said = hanging_lines(verdict + (to_read.empty() ? "" : " (" + to_read + ")"),
                              std::string_view{"verdict: "}.size(), columns);
    if (colour) {
        said.replace(0, verdict.size(),
                     fmt::format("\033[1;{}m{}\033[0m", ready ? "32" : "31", verdict));
    }
    out += fmt::format("\nverdict: {}\n", said);
    return out;
}

// What the logged choices are worth, where the schema has every table, view
// and column it reads: not on a database xloop-migrate has yet to run on,
// such as the original bot's, whose schema check says so. A pending
// migration that adds an index only leaves it as it is.
std::optional<policy_report> policy_value_of(run_context& run, check_result const& schema,
                                             what_if_policy const& what_if)
{
    if (!schema_complete(schema)) {
        return std::nullopt;
    }
    return policy_report_of(run.db(), run.cfg(), run.now(), run.seed(), what_if);
}

namespace {

// A file appears whole or not at all (a web server may be serving the page,
// node_exporter reading the metrics):
// written beside it, then renamed over it; where its folder is not ours to
// write (a page made writable for xloop in /var/www), into the file itself.
// A symbolic link keeps its link (the file it points to is replaced); what is
// no file (/dev/stdout to a pipe, a FIFO, a device) is written into, never
// replaced (as root, a file took /dev/full's place). A path that cannot be a
// file is the command line's fault (64, refused before any work by
// check_output_path); a write that fails (a full disk) is not (75). `option`
// names the file in errors.
void write_whole_file(std::string_view option, std::string const& path,
                      std::string const& text)
{
    struct stat st {};
    bool const no_file = ::stat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode);
    std::string target = path;
    std::error_code ec;
    if (auto const resolved = std::filesystem::weakly_canonical(path, ec);
        !no_file && !ec) {
        target = resolved.string(); // through any symbolic link
    }
    auto const temp = fmt::format("{}.tmp-{}", target, ::getpid());
    std::ofstream out;
    if (!no_file) {
        out.open(temp, std::ios::binary);
    }
    bool const beside = out.is_open();
    if (!beside) {
        out.open(target, std::ios::binary | std::ios::trunc);
    }
    if (!out) {
        throw usage_error{
            fmt::format("{}: cannot write '{}': {}", option, path, std::strerror(errno))};
    }
    out << text;
    out.close();
    if (!out || (beside && std::rename(temp.c_str(), target.c_str()) != 0)) {
        auto const reason = std::strerror(errno);
        if (beside) {
            std::remove(temp.c_str());
        }
        throw temporary_failure{
            fmt::format("{}: cannot write '{}': {}", option, path, reason)};
    }
}

// Whether a file goes to stdout: `--html -`, or a path that is stdout itself
// (/dev/stdout, the file the shell redirected it to), where the table would
// come first and make the page no page.
bool to_stdout(std::string const& path)
{
    if (path == "-") {
        return true;
    }
    struct stat out {};
    struct stat st {};
    return ::fstat(STDOUT_FILENO, &out) == 0 && ::stat(path.c_str(), &st) == 0 &&
           out.st_dev == st.st_dev && out.st_ino == st.st_ino;
}

// A path that cannot be a file is refused before any work: a run that prints
// its table and then fails would tell cron two things.
void check_output_path(std::string_view option, std::string const& path)
{
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec)) {
        throw usage_error{
            fmt::format("{}: cannot write '{}': it is a directory", option, path)};
    }
    auto const folder = std::filesystem::path{path}.parent_path();
    if (!folder.empty() && !std::filesystem::is_directory(folder, ec)) {
        throw usage_error{fmt::format("{}: cannot write '{}': {}", option, path,
                                      std::strerror(ENOENT))};
    }
}

// Where the report's files go: each option's path, and whether it is stdout
// (at most one output may be: it replaces the table).
struct report_outputs {
    bool page_out = false;
    bool metrics_out = false;

    report_outputs(validate_options const& opts, bool json)
    {
        std::vector<std::string> on_stdout;
        if (json) {
            on_stdout.emplace_back("--json");
        }
        std::string last;
        for (auto const& [option, path, out] :
             {std::tuple{"--html", &opts.html_file, &page_out},
              std::tuple{"--prometheus", &opts.prometheus_file, &metrics_out}}) {
            if (!*path) {
                continue;
            }
            *out = to_stdout(**path);
            if (*out) {
                on_stdout.push_back(fmt::format("{} {}", option, **path));
                last = option;
            } else {
                check_output_path(option, **path);
            }
        }
        if (on_stdout.size() > 1) {
            throw usage_error{fmt::format("{} both write to stdout: give {} a file",
                                          fmt::join(on_stdout, " and "), last)};
        }
    }

    bool table() const { return !page_out && !metrics_out; }
};

// An output as asked: on stdout in place of the table (checked at exit, as
// the table would be), or written whole to its file.
void deliver(std::string_view option, std::string const& path, bool on_stdout,
             std::string const& text)
{
    if (on_stdout) {
        std::cout << text << std::flush;
        return;
    }
    write_whole_file(option, path, text);
    log::info("wrote {}", path);
}

} // namespace

void run_validate(run_context& run, validate_options const& opts)
{
    run.reads_only();
    report_outputs const to{opts, run.options().json};
    if (opts.checks_only && !opts.what_if.empty()) {
        throw usage_error{"--what-if values choices, which --checks leaves out: give one "
                          "of them"};
    }
    auto const what_if = parse_what_if(opts.what_if, plan_catalogue(run.cfg().plan));
    int const days = opts.days.value_or(run.cfg().validate.days);
    auto const checks = run_checks(run, days);
    bool const ready = std::none_of(checks.begin(), checks.end(),
                                    [](auto const& c) { return c.status == "fail"; });
    auto const report = report_json(checks, ready);
    for (auto const& [k, val] : report.items()) {
        run.summary()[k] = val;
    }
    run.summary()["days"] = days;
    run.detail()["verdict"] = report["verdict"];
    run.rows_out = static_cast<std::int64_t>(checks.size());
    auto const policies =
        opts.checks_only ? std::nullopt : policy_value_of(run, checks.front(), what_if);
    if (policies) {
        run.summary()["policy_value"] = policy_report_json(*policies);
    }
    // which database and when, first: an operator with more than one (or a
    // cron environment not their shell's) reads whose health this is
    auto const place = place_text(run.db().place());
    if (!run.options().json && to.table()) {
        bool const terminal = isatty(STDOUT_FILENO) != 0;
        auto const columns = output_columns();
        std::cout << fmt::format("database {}, {}\n\n", place, format_seconds(run.now()));
        if (policies) {
            std::cout << escape_controls(policy_report_table(*policies, columns)) << '\n';
        }
        std::cout << report_table(checks, ready, terminal, columns) << std::flush;
    }
    if (opts.prometheus_file) {
        deliver(
            "--prometheus", *opts.prometheus_file, to.metrics_out,
            report_prometheus(checks, ready, run.now(), run.db().place().name, policies));
    }
    if (opts.html_file) {
        // the charts read the columns a failed schema check names
        report_series series;
        series.days = days;
        if (schema_complete(checks.front())) {
            series = read_report_series(run.db(), run.now(), days);
        }
        series.policies = policies;
        deliver("--html", *opts.html_file, to.page_out,
                report_html(series, checks, ready, run.now(), place));
    }
    if (!ready) {
        run.success_code = exit_code::not_ready;
    }
}

} // namespace xloop
