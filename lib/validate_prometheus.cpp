// The validate checks as Prometheus metrics, in the text format node_exporter's
// textfile collector reads: a status per check and every number the check
// reports (as in --json), so an operator alerts on them beside the rest of the
// machine; with them, what the loop's choices are worth. No sample carries a
// timestamp: the collector refuses them. Every sample is labelled with the
// database (`database="…"`): one machine's collector reading two accounts'
// files refuses the same series twice.

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
void add_numbers(std::string& out, std::string const& db, std::string const& check,
                 nlohmann::json const& numbers, std::string const& prefix)
{
    for (auto const& [key, v] : numbers.items()) {
        auto const name = prefix + key;
        std::string value;
        if (v.is_object()) {
            add_numbers(out, db, check, v, name + ".");
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
        out += fmt::format("xloop_check_value{{{},check=\"{}\",number=\"{}\"}} {}\n", db,
                           label_value(check), label_value(name), value);
    }
}

// An estimate and its 90 % interval, as three samples told apart by `bound`.
void add_estimate(std::string& out, std::string_view metric, std::string const& labels,
                  std::optional<policy_estimate> const& e)
{
    if (!e) {
        return;
    }
    for (auto const& [bound, v] :
         {std::pair{"estimate", e->value}, {"low_90", e->lo}, {"high_90", e->hi}}) {
        out += fmt::format("{}{{{},bound=\"{}\"}} {}\n", metric, labels, bound,
                           sample_value(v));
    }
}

// One comparison's policies and lift (`lift` names it), where it has them.
void add_comparison(std::string& values, std::string& lifts, std::string const& db,
                    std::string_view of, policy_comparison const& r,
                    std::string_view lift)
{
    for (auto const& row : r.rows) {
        auto const labels = fmt::format("{},of=\"{}\",policy=\"{}\"", db, of, row.policy);
        add_estimate(values, "xloop_policy_value",
                     labels + ",outcome=\"score\",estimator=\"snips\"", row.snips);
        add_estimate(values, "xloop_policy_value",
                     labels + ",outcome=\"score\",estimator=\"dr\"", row.dr);
        add_estimate(values, "xloop_policy_value",
                     labels + ",outcome=\"follows\",estimator=\"snips\"",
                     row.follows_snips);
        add_estimate(values, "xloop_policy_value",
                     labels + ",outcome=\"follows\",estimator=\"dr\"", row.follows_dr);
    }
    auto const labels = fmt::format("{},of=\"{}\",lift=\"{}\"", db, of, lift);
    add_estimate(lifts, "xloop_policy_lift",
                 labels + ",outcome=\"score\",estimator=\"snips\"", r.lift);
    add_estimate(lifts, "xloop_policy_lift",
                 labels + ",outcome=\"follows\",estimator=\"snips\"", r.lift_follows);
    add_estimate(lifts, "xloop_policy_lift",
                 labels + ",outcome=\"follows\",estimator=\"dr\"", r.lift_follows_dr);
}

} // namespace

std::string report_prometheus(std::vector<check_result> const& checks, bool ready,
                              timestamp now, std::string_view database,
                              std::optional<policy_report> const& policies)
{
    auto const db = fmt::format("database=\"{}\"", label_value(database));
    std::string out =
        "# HELP xloop_ready 1 when xloop-validate's verdict is READY, 0 when NOT READY\n"
        "# TYPE xloop_ready gauge\n";
    out += fmt::format("xloop_ready{{{}}} {}\n", db, ready ? 1 : 0);
    out += "# HELP xloop_validate_time_seconds When xloop-validate ran (its now), in "
           "seconds since the epoch: a file that stops moving is a validate that stopped "
           "running\n"
           "# TYPE xloop_validate_time_seconds gauge\n";
    out += fmt::format(
        "xloop_validate_time_seconds{{{}}} {}\n", db,
        sample_value(std::chrono::duration<double>(now.time_since_epoch()).count()));
    out += "# HELP xloop_check_status Each check's status: 0 ok, 1 warn, 2 fail\n"
           "# TYPE xloop_check_status gauge\n";
    for (auto const& c : checks) {
        int const status = c.status == "ok" ? 0 : c.status == "warn" ? 1 : 2;
        out += fmt::format("xloop_check_status{{{},check=\"{}\"}} {}\n", db,
                           label_value(c.name), status);
    }
    out += "# HELP xloop_check_value Each check's numbers, as xloop-validate --json "
           "gives them (a list: how many items it has)\n"
           "# TYPE xloop_check_value gauge\n";
    for (auto const& c : checks) {
        add_numbers(out, db, c.name, c.numbers, "");
    }
    if (!policies) {
        return out;
    }
    std::string values;
    std::string lifts;
    add_comparison(values, lifts, db, "posts", *policies, "map_over_uniform");
    add_comparison(values, lifts, db, "replies", policies->replies,
                   "learned_over_opportunity");
    if (policies->what_if_comparison) {
        add_comparison(values, lifts, db, "what_if", *policies->what_if_comparison,
                       "what_if_over_map");
    }
    out += "# HELP xloop_policy_value What each policy is worth, mean outcome per post "
           "or reply, estimated from the propensities plan logged (what validate prints "
           "as what the choices are worth), with its 90 % interval\n"
           "# TYPE xloop_policy_value gauge\n";
    out += values;
    out += "# HELP xloop_policy_lift The lift of the learned policy over the baseline "
           "(posts: the map's over uniform draws; replies: the learned priorities over "
           "opportunity score alone), with its 90 % interval\n"
           "# TYPE xloop_policy_lift gauge\n";
    out += lifts;
    return out;
}

} // namespace xloop
