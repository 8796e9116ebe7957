#pragma once

// xloop-validate: the loop's readiness report (DESIGN §7). Every number is a
// SQL aggregate over all rows: no row limits, no sampling (defect 6).

#include <nlohmann/json.hpp>

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
};

std::vector<check_result> run_checks(run_context& run, int days);
nlohmann::json report_json(std::vector<check_result> const& checks, bool ready);
std::string report_table(std::vector<check_result> const& checks, bool ready,
                         bool colour);
std::string report_html(db_connection& db, run_context const& run,
                        std::vector<check_result> const& checks, bool ready, int days);

void run_validate(run_context& run, validate_options const& opts);

} // namespace xloop
