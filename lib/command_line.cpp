#include "command_line.hpp"

#include "config_example.hpp"
#include "nearest.hpp"
#include "timestamp.hpp"

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <limits>
#include <map>
#include <string_view>
#include <vector>

#ifndef XLOOP_VERSION
#define XLOOP_VERSION "0.0.0"
#endif

namespace xloop {

namespace {

// A whole number in [lo, hi] (CLI::Range reads "abc" as out of range and
// lets 2.5 through to a conversion error), shown in --help as "INT in [lo -
// hi]" (a validator's own description would make it "INT:INT in […]").
void whole_number_in(CLI::Option* option, long lo, long hi)
{
    option->check(CLI::Validator{
        [lo, hi](std::string& value) -> std::string {
            char* end = nullptr;
            errno = 0;
            long const n = std::strtol(value.c_str(), &end, 10);
            if (value.empty() || *end != '\0' || errno != 0) {
                return fmt::format("'{}' is not a whole number", value);
            }
            if (n < lo || n > hi) {
                return fmt::format("{} is not between {} and {}", n, lo, hi);
            }
            return {};
        },
        ""});
    option->type_name(fmt::format("INT in [{} - {}]", lo, hi));
}

// A number of seconds in [0, hi], shown in --help as "SECONDS in [0 - hi]".
void seconds_up_to(CLI::Option* option, double hi)
{
    option->check(CLI::Validator{
        [hi](std::string& value) -> std::string {
            char* end = nullptr;
            errno = 0;
            double const x = std::strtod(value.c_str(), &end);
            if (value.empty() || *end != '\0' || errno != 0 || !std::isfinite(x)) {
                return fmt::format("'{}' is not a number of seconds", value);
            }
            if (x < 0 || x > hi) {
                return fmt::format("{} is not between 0 and {:g} seconds", value, hi);
            }
            return {};
        },
        ""});
    option->type_name(fmt::format("SECONDS in [0 - {:g}]", hi));
}

// A short option of psql (-d, -U, -p, -W: the connection goes in --db) or
// of other tools' habits (-c, -n), as the tool's long one, if it has it.
std::string short_option_meant(std::string const& given,
                               std::vector<std::string> const& options)
{
    static std::map<std::string, std::string, std::less<>> const meant{
        {"-d", "--db"}, {"-U", "--db"},     {"-p", "--db"},
        {"-W", "--db"}, {"-c", "--config"}, {"-n", "--dry-run"}};
    auto const it = meant.find(std::string_view{given}.substr(0, 2));
    if (it == meant.end() ||
        std::find(options.begin(), options.end(), it->second) == options.end()) {
        return {};
    }
    return it->second;
}

// For the arguments a command line did not expect: the tool's own option or
// subcommand each is nearest to, as " (did you mean --replies?)"; else
// nothing.
std::string nearest_options(CLI::App const& cli, std::vector<std::string> const& extras)
{
    std::vector<std::string> options;
    for (auto const* option : cli.get_options()) {
        for (auto const& name : option->get_lnames()) {
            options.push_back("--" + name);
        }
    }
    std::vector<std::string> commands;      // xloop-migrate's "status"
    std::vector<std::string> their_options; // its --check: right after "status"
    for (auto const* sub : cli.get_subcommands({})) {
        commands.push_back(sub->get_name());
        for (auto const* option : sub->get_options()) {
            for (auto const& name : option->get_lnames()) {
                their_options.push_back("--" + name);
            }
        }
    }
    std::vector<std::string> hints;
    for (auto const& extra : extras) {
        if (std::find(their_options.begin(), their_options.end(), extra) !=
            their_options.end()) {
            continue;
        }
        auto const best = extra.rfind("--", 0) == 0
                              ? nearest_name(extra.substr(0, extra.find('=')), options)
                          : extra.rfind('-', 0) == 0 ? short_option_meant(extra, options)
                                                     : nearest_name(extra, commands);
        if (!best.empty() && std::find(hints.begin(), hints.end(), best) == hints.end()) {
            hints.push_back(best);
        }
    }
    return hints.empty() ? std::string{}
                         : fmt::format(" (did you mean {}?)", fmt::join(hints, ", "));
}

// The footer of --help (and of each man page): what a CI script branches on,
// validate's and migrate status --check's 1 among them.
std::string exit_codes_help(std::string const& job)
{
    auto const one = job == "validate" ? "1 NOT READY (a check failed), "
                     : job == "migrate"
                         ? "1 status --check: a migration pending or edited, "
                         : "";
    return fmt::format(
        "Exit codes: 0 ok or nothing to do, {}64 usage, 65 bad input data, 69 remote "
        "service refused, 70 internal error, 75 temporary (database unreachable, "
        "lock held, rate limited), 78 bad configuration.",
        one);
}

} // namespace

app::app(std::string job, std::string description)
    : m_job(std::move(job)),
      m_cli(std::make_unique<CLI::App>(std::move(description), "xloop-" + m_job))
{
    auto& o = m_opts;
    m_cli->set_version_flag("--version", "xloop-" + m_job + " " XLOOP_VERSION);
    m_cli->add_option("--db", o.db,
                      "PostgreSQL connection string (URI or key=value); default: "
                      "DATABASE_URL, then libpq's PG* variables (a password belongs "
                      "there or in ~/.pgpass: ps shows arguments to every user)");
    m_cli->add_option("--config", o.config_file,
                      "YAML config file (default: XLOOP_CONFIG)");
    m_cli->add_option("--now", o.now_text,
                      "Use this time as now, ISO 8601, e.g. 2026-03-02T12:00:00Z "
                      "(default: XLOOP_NOW, then the clock)");
    m_cli
        ->add_option("--seed", o.seed,
                     "Seed for every random draw (default: random; "
                     "recorded in xloop.job_runs)")
        ->check(CLI::Validator{
            [](std::string& value) -> std::string {
                char* end = nullptr;
                errno = 0;
                std::strtoull(value.c_str(), &end, 10);
                if (value.empty() || value[0] == '-' || *end != '\0' || errno != 0) {
                    return fmt::format("'{}' is not a whole number from 0 to {}", value,
                                       std::numeric_limits<std::uint64_t>::max());
                }
                return {};
            },
            ""});
    m_cli->add_flag("--dry-run", o.dry_run, "Compute everything, write nothing");
    m_cli->add_flag("--json", o.json, "Print one JSON summary object on stdout");
    m_cli->add_option("--log-format", o.log_format, "Log lines on stderr: text or json")
        ->check(CLI::IsMember({"text", "json"}));
    m_cli->add_flag("-q,--quiet", o.quiet, "Only warnings and errors on stderr");
    m_cli->add_flag("-v,--verbose", o.verbose, "Debug output on stderr");
    m_cli->add_flag("--log-sql", o.log_sql,
                    "Log each SQL statement (never its parameters) and its duration");
    m_cli->add_option(
        "--ping-url", o.ping_url,
        "Heartbeat URL (healthchecks.io style): URL/start, URL, URL/<exit code>");
    m_cli->add_flag_callback(
        "--print-default-config",
        [] {
            std::cout << default_config_yaml();
            throw CLI::Success{};
        },
        "Print the configuration file with every key at its default, and exit");
    m_cli->footer(exit_codes_help(m_job));
}

app::~app() = default;

std::optional<int> app::parse(int argc, char** argv)
{
    try {
        m_cli->parse(argc, argv);
    } catch (CLI::ParseError const& e) {
        if (e.get_exit_code() == 0) {
            return m_cli->exit(e); // --help, --version
        }
        auto const hint = dynamic_cast<CLI::ExtrasError const*>(&e)
                              ? nearest_options(*m_cli, m_cli->remaining())
                              : std::string{};
        std::fprintf(stderr, "xloop-%s: %s%s\nRun with --help for usage.\n",
                     m_job.c_str(), e.what(), hint.c_str());
        return static_cast<int>(exit_code::usage);
    }

    return std::nullopt;
}

void add_options(app& app, migrate_options& o)
{
    auto& cli = app.cli();
    cli.add_option("--dir", o.dir,
                   "Read migrations from DIR instead of the embedded ones");
    seconds_up_to(
        cli.add_option(
            "--lock-timeout", o.lock_timeout_s,
            "Seconds to wait for another xloop-migrate to finish, or for tables "
            "other sessions hold (tried again every few seconds), then exit 75"),
        86400);
    cli.add_flag("--allow-out-of-order", o.allow_out_of_order,
                 "Apply pending migrations numbered below the newest applied one");
    cli.add_option("--to", o.up_to,
                   "Apply migrations up to and including this version only");
    auto* status = cli.add_subcommand(
        "status", "List applied, pending, edited and unknown migrations (read-only)");
    status->add_flag("--check", o.check,
                     "Exit 1 when anything is pending or edited (for CI)");
    status->fallthrough(); // common options may follow the subcommand
    status->callback([&o] { o.status = true; });
}

void add_options(app& app, plan_options& o)
{
    whole_number_in(
        app.cli().add_option(
            "--replies", o.replies,
            "Fill the reply queue up to N replies not yet posted, instead of posts"),
        1, 1000);
}

void add_options(app& app, scrape_options& o)
{
    auto& cli = app.cli();
    auto* source = cli.add_option("--source", o.source,
                                  "x-api (the default without --input) or file");
    source->check(CLI::IsMember({"x-api", "file"}));
    cli.add_option("--input", o.input,
                   "File source: JSON Lines, or X's analytics export (CSV); - for stdin");
    cli.add_option("--observed-at", o.observed_at,
                   "X's analytics export: when it was downloaded, ISO 8601 (default: "
                   "now)");
    cli.add_flag(
        "--skip-bad", o.skip_bad,
        "File source: write the good lines and list the bad ones (default: a bad "
        "line stops the run before anything is written, exit 65)");
    whole_number_in(
        cli.add_option("--max-posts", o.max_posts, "Cap on posts asked for in one run"),
        1, 1000000);
    cli.add_flag("--backfill", o.backfill,
                 "Also score (v2) the stored outcomes of posts as far back as "
                 "build-weights and learn-replies read, not only the last "
                 "metrics.max_age_days, and with the X API ask X whom each reply of "
                 "replies.window_days that names no account answers, not only the due "
                 "ones (the first run on a database does both on its own)");
    cli.final_callback([&o, source] {
        if (o.input && source->count() == 0) {
            o.source = "file"; // --input alone means the file source
        }
        if (o.source == "x-api" && o.input) {
            throw CLI::ValidationError{"--input is for --source file"};
        }
        if (o.observed_at && !o.input) {
            throw CLI::ValidationError{"--observed-at is for --input FILE, X's analytics "
                                       "export"};
        }
        if (o.observed_at && !parse_timestamp(*o.observed_at)) {
            throw CLI::ValidationError{
                fmt::format("--observed-at: not an ISO 8601 time of the years 1900 to "
                            "2199 (got '{}')",
                            *o.observed_at)};
        }
        if (o.source == "file" && !o.input) {
            throw CLI::ValidationError{
                "--source file needs --input FILE (or - for stdin)"};
        }
    });
}

void app::default_seed(std::uint64_t seed, std::string const& why)
{
    m_default_seed = seed;
    m_cli->get_option("--seed")->description(
        fmt::format("Seed for every random draw (default: {}, {}; recorded in "
                    "xloop.job_runs)",
                    seed, why));
}

void add_options(app& app, validate_options& o)
{
    app.default_seed(1, "so the same data gives the same report");
    whole_number_in(
        app.cli().add_option("--days", o.days,
                             "Window of the coverage checks (default validate.days, 3)"),
        1, 365);
    app.cli().add_option("--html", o.html_file,
                         "Also write the report as an HTML page (-: on stdout, "
                         "instead of the table)");
    app.cli().add_option("--prometheus", o.prometheus_file,
                         "Also write the checks as Prometheus metrics, for "
                         "node_exporter's textfile collector (written whole, as --html "
                         "is; -: on stdout, instead of the table)");
    app.cli()
        .add_option("--what-if", o.what_if,
                    "DIMENSION=VALUE[,VALUE...]: also value the policy that draws "
                    "DIMENSION among these values alike (every other as the map's "
                    "policy) against the map's, from the logged draws; repeat for more "
                    "dimensions")
        ->expected(1)
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
    app.cli().add_flag("--checks", o.checks_only,
                       "Only the checks and the verdict (not what was learned and what "
                       "it is worth: faster, for a glance or a CI script)");
}

} // namespace xloop
