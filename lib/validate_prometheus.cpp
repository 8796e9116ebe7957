// The validate checks as Prometheus metrics, in the text format node_exporter's
// textfile collector reads: a status per check and every number the check
// reports (as in --json), so an operator alerts on them beside the rest of the
// machine. No sample carries a timestamp: the collector refuses them.

#include "validate_job.hpp"

#include <fmt/format.h>

#include <cmath>

namespace xloop {

namespace {

// A label value: backslash, double quote and line feed escaped.
std::string label_value(std::string_view s)
{
    std::string out;
    for (char const c : s) {
        if (c == '\\' || c == '"') {
            out += '\\';
            out += c;
        } else if (c == '\n') {
            out += "\\n";
        } else {
            out += c;
        }
    }
    return out;
}

std::string sample_value(double v)
{
    if (std::isnan(v)) {
        return "NaN";
    }
    if (std::isinf(v)) {
        return v > 0 ? "+Inf" : "-Inf";
    }
    return fmt::format("{}", v);
}

// The numbers of one check, nested objects' keys joined by '.'; a list counts
// its items; text (a last status) and null (nothing to say) are no number.
void add_numbers(std::string& out, std::string const& check,
                 nlohmann::json const& numbers, std::string const& prefix)
{
    for (auto const& [key, v] : numbers.items()) {
        auto const name = prefix + key;
        std::string value;
        if (v.is_object()) {
            add_numbers(out, check, v, name + ".");
            continue;
        }
        if (v.is_array()) {
            value = fmt::format("{}", v.size());
        } else if (v.is_boolean()) {
            value = v.get<bool>() ? "1" : "0";
        } else if (v.is_number_integer()) {
            value = v.dump();
        } else if (v.is_number()) {
            value = sample_value(v.get<double>());
        } else {
            continue;
        }
        out += fmt::format("xloop_check_value{{check=\"{}\",number=\"{}\"}} {}\n",
                           label_value(check), label_value(name), value);
    }
}

} // namespace

std::string report_prometheus(std::vector<check_result> const& checks, bool ready,
                              timestamp now)
{
    std::string out =
        "# HELP xloop_ready 1 when xloop-validate's verdict is READY, 0 when NOT READY\n"
        "# TYPE xloop_ready gauge\n";
    out += fmt::format("xloop_ready {}\n", ready ? 1 : 0);
    out += "# HELP xloop_validate_time_seconds When xloop-validate ran (its now), in "
           "seconds since the epoch: a file that stops moving is a validate that stopped "
           "running\n"
           "# TYPE xloop_validate_time_seconds gauge\n";
    out += fmt::format(
        "xloop_validate_time_seconds {}\n",
        sample_value(std::chrono::duration<double>(now.time_since_epoch()).count()));
    out += "# HELP xloop_check_status Each check's status: 0 ok, 1 warn, 2 fail\n"
           "# TYPE xloop_check_status gauge\n";
    for (auto const& c : checks) {
        int const status = c.status == "ok" ? 0 : c.status == "warn" ? 1 : 2;
        out += fmt::format("xloop_check_status{{check=\"{}\"}} {}\n", label_value(c.name),
                           status);
    }
    out += "# HELP xloop_check_value Each check's numbers, as xloop-validate --json "
           "gives them (a list: how many items it has)\n"
           "# TYPE xloop_check_value gauge\n";
    for (auto const& c : checks) {
        add_numbers(out, c.name, c.numbers, "");
    }
    return out;
}

} // namespace xloop
