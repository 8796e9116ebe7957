#pragma once

// xloop-validate: the loop's readiness report (DESIGN §7). Every number is a
// SQL aggregate over all rows: no row limits, no sampling (defect 6).

#include "policy_value.hpp"
#include "timestamp.hpp"

#include <nlohmann/json.hpp>

#include <map>
#include <utility>

#include <optional>
#include <string>
#include <vector>

namespace xloop {

class db_connection;
class run_context;

struct check_result {
    std::string name;
    std::string status;  // ok | warn | fail
    std::string message; // why, and what to do
    nlohmann::json numbers = nlohmann::json::object();
};

struct validate_options {
    std::optional<int> days; // overrides validate.days
    std::optional<std::string> html_file;
    std::optional<std::string> prometheus_file;
    // only the checks and the verdict: neither what was learned nor what it
    // is worth (which read the window's posts and bootstrap their estimates)
    bool checks_only = false;
    // --what-if DIMENSION=VALUE,…: a policy to value against the map's
    std::vector<std::string> what_if;
};

std::vector<check_result> run_checks(run_context& run, int days);
// Whether this machine's clock agrees with the database server's: the tools
// stamp what they write with this machine's time, another program writing to
// the database (the bot's poster, a harvester) with the server's now().
// `offset_s` is the server's clock minus this machine's, `uncertainty_s` half
// the round trip that measured it; warn past a minute, fail past
// metrics.max_clock_skew_minutes (`max_skew_minutes`), the skew scrape-metrics
// allows a metrics file's times before it refuses their records.
check_result clock_check_of(double offset_s, double uncertainty_s,
                            double max_skew_minutes);
nlohmann::json report_json(std::vector<check_result> const& checks, bool ready);
// The checks as Prometheus metrics (text format, for node_exporter's textfile
// collector): xloop_ready, xloop_validate_time_seconds, xloop_check_status
// (0 ok, 1 warn, 2 fail) and xloop_check_value, each check's numbers; with
// `policies`, xloop_policy_value and xloop_policy_lift, where estimated. Each
// sample labelled database="`database`" (the database's name).
std::string report_prometheus(std::vector<check_result> const& checks, bool ready,
                              timestamp now, std::string_view database,
                              std::optional<policy_report> const& policies = {});
// The checks to read first: "failing: a, b; warning: c", "" when all are ok.
std::string checks_to_read(std::vector<check_result> const& checks);
// The checks as a table, one line a check; with `columns` (a terminal's
// width; 0: none) each message wrapped under its own column.
std::string report_table(std::vector<check_result> const& checks, bool ready, bool colour,
                         std::size_t columns = 0);
// What validate's HTML page shows besides the checks: (label, value) series.
struct report_series {
    bool available = false; // the loop's tables exist
    int days = 0;           // the window of the checks
    // per day of posting: % of posts with v2 (NaN: nothing posted that day)
    std::vector<std::pair<std::string, double>> coverage;
    // per hour, the last 30 days
    std::vector<std::pair<std::string, double>> followers;
    // day, slot: posts
    std::map<std::string, std::map<std::string, double>> posts_by_day;
    // the active map's weights, descending
    std::map<std::string, std::vector<std::pair<std::string, double>>> weights;
    // accounts per 0.1 of priority
    std::vector<std::pair<std::string, double>> priorities;
    // what the logged choices are worth
    std::optional<policy_report> policies;
};

// The days the charts cover: the checks' window, at least two weeks.
int report_span_days(int days);
report_series read_report_series(db_connection& db, timestamp now, int days);
// The page: draws, reads nothing. `place` names the database (place_text).
std::string report_html(report_series const& series,
                        std::vector<check_result> const& checks, bool ready,
                        timestamp now, std::string_view place);

void run_validate(run_context& run, validate_options const& opts);

} // namespace xloop
