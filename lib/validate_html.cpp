// The validate report as one self-contained HTML page: inline CSS, charts as
// inline SVG, no external resource of any kind. Well-formed as XML too.

#include "validate_job.hpp"

#include "app.hpp"
#include "text.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

namespace xloop {

namespace {

// "the newest …" at the start of a sentence
std::string upper_first(std::string s)
{
    if (!s.empty() && s[0] >= 'a' && s[0] <= 'z') {
        s[0] = static_cast<char>(s[0] - 'a' + 'A');
    }
    return s;
}

std::string esc(std::string_view s)
{
    std::string out;
    for (char const c : s) {
        switch (c) {
        case '&':
            out += "&amp;";
            break;
        case '<':
            out += "&lt;";
            break;
        case '>':
            out += "&gt;";
            break;
        case '"':
            out += "&quot;";
            break;
        default:
            out += c;
        }
    }
    return out;
}

char const* palette(std::size_t i)
{
    static char const* colours[] = {"#4e79a7", "#f28e2b", "#e15759", "#76b7b2",
                                    "#59a14f", "#edc948", "#b07aa1", "#ff9da7",
                                    "#9c755f", "#bab0ac"};
    return colours[i % 10];
}

constexpr int chart_w = 640;
constexpr int chart_h = 200;
constexpr int pad = 30;

std::string svg_open(std::string const& title, int h = chart_h)
{
    return fmt::format(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" width=\"{}\" "
        "height=\"{}\" viewBox=\"0 0 {} {}\"><title>{}</title>",
        chart_w, h, chart_w, h, esc(title));
}

std::string empty_chart(std::string const& title)
{
    return svg_open(title, 60) +
           fmt::format("<text x=\"{}\" y=\"35\" class=\"muted\">no data</text></svg>",
                       pad);
}

// Vertical bars with a label under each.
std::string bar_chart(std::string const& title,
                      std::vector<std::pair<std::string, double>> const& bars,
                      double max_value, char const* unit)
{
    if (bars.empty()) {
        return empty_chart(title);
    }
    std::string s = svg_open(title);
    double const top = max_value > 0 ? max_value : 1;
    double const slot =
        static_cast<double>(chart_w - 2 * pad) / static_cast<double>(bars.size());
    for (std::size_t i = 0; i < bars.size(); ++i) {
        auto const& [label, value] = bars[i];
        double const x = pad + slot * static_cast<double>(i);
        if (std::isfinite(value)) {
            double const h = (chart_h - 2 * pad) * std::clamp(value / top, 0.0, 1.0);
            s += fmt::format(
                "<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\" "
                "fill=\"{}\"><title>{}: {:.3g}{}</title></rect>",
                x + 1, chart_h - pad - h, std::max(slot - 2, 1.0), h, palette(0),
                esc(label), value, unit);
        } else {
            // nothing to measure (no outcomes that day): a grey mark, not a
            // zero that reads as a failure
            s += fmt::format("<rect x=\"{:.1f}\" y=\"{}\" width=\"{:.1f}\" height=\"2\" "
                             "fill=\"#bbb\"><title>{}: none</title></rect>",
                             x + 1, chart_h - pad - 2, std::max(slot - 2, 1.0),
                             esc(label));
        }
        if (bars.size() <= 16 || i % (bars.size() / 8 + 1) == 0) {
            s += fmt::format("<text x=\"{:.1f}\" y=\"{}\" class=\"axis\">{}</text>",
                             x + 1, chart_h - pad + 14, esc(label));
        }
    }
    s += fmt::format("<text x=\"2\" y=\"{}\" class=\"axis\">{:.3g}{}</text>", pad - 6,
                     top, unit);
    s += fmt::format(
        "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" class=\"base\"/></svg>", pad,
        chart_h - pad, chart_w - pad, chart_h - pad);
    return s;
}

std::string line_chart(std::string const& title,
                       std::vector<std::pair<std::string, double>> const& points)
{
    if (points.size() < 2) {
        return empty_chart(title);
    }
    auto const [lo_it, hi_it] = std::minmax_element(
        points.begin(), points.end(),
        [](auto const& a, auto const& b) { return a.second < b.second; });
    double const lo = lo_it->second;
    double const hi = std::max(hi_it->second, lo + 1);
    std::string path;
    for (std::size_t i = 0; i < points.size(); ++i) {
        double const x = pad + (chart_w - 2.0 * pad) * static_cast<double>(i) /
                                   static_cast<double>(points.size() - 1);
        double const y =
            chart_h - pad - (chart_h - 2.0 * pad) * (points[i].second - lo) / (hi - lo);
        path += fmt::format("{}{:.1f},{:.1f}", i ? " L" : "M", x, y);
    }
    std::string s = svg_open(title);
    s += fmt::format("<path d=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"2\"/>",
                     path, palette(0));
    s += fmt::format("<text x=\"2\" y=\"{}\" class=\"axis\">{:.0f}</text>", pad - 6, hi);
    s += fmt::format("<text x=\"2\" y=\"{}\" class=\"axis\">{:.0f}</text>",
                     chart_h - pad + 14, lo);
    s += fmt::format("<text x=\"{}\" y=\"{}\" class=\"axis\">{}</text>", pad, chart_h - 4,
                     esc(points.front().first));
    s += fmt::format(
        "<text x=\"{}\" y=\"{}\" class=\"axis\" text-anchor=\"end\">{}</text></svg>",
        chart_w - pad, chart_h - 4, esc(points.back().first));
    return s;
}

std::string
stacked_chart(std::string const& title,
              std::map<std::string, std::map<std::string, double>> const& by_day)
{
    if (by_day.empty()) {
        return empty_chart(title);
    }
    std::map<std::string, std::size_t> series;
    double top = 1;
    for (auto const& [day, parts] : by_day) {
        double total = 0;
        for (auto const& [name, v] : parts) {
            series.emplace(name, series.size());
            total += v;
        }
        top = std::max(top, total);
    }
    int const legend = 16 * static_cast<int>((series.size() + 3) / 4);
    std::string s = svg_open(title, chart_h + legend);
    double const slot = (chart_w - 2.0 * pad) / static_cast<double>(by_day.size());
    std::size_t i = 0;
    for (auto const& [day, parts] : by_day) {
        double y = chart_h - pad;
        double const x = pad + slot * static_cast<double>(i++);
        for (auto const& [name, v] : parts) {
            double const h = (chart_h - 2.0 * pad) * v / top;
            y -= h;
            s += fmt::format(
                "<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\" "
                "fill=\"{}\"><title>{} {}: {:.0f}</title></rect>",
                x + 1, y, std::max(slot - 2, 1.0), h, palette(series[name]), esc(day),
                esc(name), v);
        }
        s += fmt::format("<text x=\"{:.1f}\" y=\"{}\" class=\"axis\">{}</text>", x + 1,
                         chart_h - pad + 14, esc(day.substr(5)));
    }
    s += fmt::format("<text x=\"2\" y=\"{}\" class=\"axis\">{:.0f}</text>", pad - 6, top);
    for (auto const& [name, idx] : series) {
        int const lx = pad + static_cast<int>(idx % 4) * 150;
        int const ly = chart_h + 12 + 16 * static_cast<int>(idx / 4);
        s +=
            fmt::format("<rect x=\"{}\" y=\"{}\" width=\"10\" height=\"10\" fill=\"{}\"/>"
                        "<text x=\"{}\" y=\"{}\" class=\"axis\">{}</text>",
                        lx, ly - 9, palette(idx), lx + 14, ly, esc(name));
    }
    return s + "</svg>";
}

// "0.017 (90 %: 0.002 … 0.028)"
std::string lift_text(policy_estimate const& e)
{
    return fmt::format("{:.3f} (90 %: {:.3f} … {:.3f})", at_3dp(e.value), at_3dp(e.lo),
                       at_3dp(e.hi));
}

std::string estimate_cell(std::optional<policy_estimate> const& e)
{
    return e ? fmt::format("<td>{:.3f}</td><td class=\"ci\">{:.3f} … {:.3f}</td>",
                           at_3dp(e->value), at_3dp(e->lo), at_3dp(e->hi))
             : "<td>–</td><td></td>";
}

// What was learned: per dimension, its values sorted best first, each with
// its 90 % interval drawn as a bar (HTML and CSS, no script), its posts,
// share and weight. One scale for every dimension: all are in the learning
// target's units, and a scale of its own would stretch a dimension whose
// values hardly differ into bars as wide as one whose values differ a lot.
std::string learned_html(policy_report const& report)
{
    std::string s = fmt::format(
        "<section><h2>What was learned</h2><p>The active map: each value's "
        "shrunk mean of the learning target with its 90 % interval, the posts "
        "it rests on, its share of recent posts{} and its weight; grey where too "
        "few posts say anything. The bars of every dimension are on one scale; "
        "compare values within a dimension: each dimension's means are net of the "
        "other dimensions' values, so their levels differ.</p>",
        any_drawn(report) ? ""
                          : " (none yet: no post with outcomes was drawn by xloop-plan)");
    double lo = std::numeric_limits<double>::infinity();
    double hi = -lo;
    std::map<std::string, shown_values> shown;
    for (auto const& [dim, values] : report.learned) {
        auto const& s = shown[dim] = values_to_show(values);
        for (auto const* v : s.values) {
            lo = std::min(lo, v->lo);
            hi = std::max(hi, v->hi);
        }
    }
    double const span = hi > lo ? hi - lo : 1;
    auto const pct = [&](double x) { return 100 * (x - lo) / span; };
    for (auto const& [dim, values] : report.learned) {
        if (values.empty()) {
            continue;
        }
        s += "<h3>" + esc(dim) + "</h3>";
        for (auto const& note : dimension_notes(report, dim)) {
            s += "<p>" + esc(note) + ".</p>";
        }
        s += "<div class=\"wide\"><table class=\"learned\"><tr><th>value</th>"
             "<th>mean</th><th>90 % interval</th><th></th><th>posts</th><th>share</th>"
             "<th>weight</th></tr>\n";
        auto const& dim_shown = shown.at(dim);
        for (auto const* v : dim_shown.values) {
            s += fmt::format(
                "<tr class=\"{}\"><td title=\"{}\">{}</td><td>{:+.3f}</td><td>{:+.3f} … "
                "{:+.3f}</td>"
                "<td class=\"bar\"><div class=\"interval\" style=\"left: {:.1f}%; width: "
                "{:.1f}%\"></div><div class=\"mean\" style=\"left: {:.1f}%\"></div></td>"
                "<td>{}</td><td>{}</td><td>{:.3f}</td></tr>\n",
                v->too_few ? "few" : "enough", esc(v->value), esc(excerpt(v->value, 40)),
                at_3dp(v->mean), at_3dp(v->lo), at_3dp(v->hi), pct(v->lo),
                std::max(pct(v->hi) - pct(v->lo), 0.5), pct(v->mean), v->posts,
                share_text(*v), v->weight);
        }
        s += "</table></div>";
        if (dim_shown.hidden > 0) {
            s += "<p>" + esc(hidden_values_text(dim_shown)) + ".</p>";
        }
    }
    return s + "</section>";
}

// One comparison: one row per policy, the lift under it.
std::string comparison_html(policy_comparison const& r, std::string const& lift,
                            std::string const& per)
{
    if (!r.note.empty()) {
        return "<p>" + esc(r.note) + "</p>";
    }
    std::string s =
        "<div class=\"wide\"><table><tr><th>policy</th><th>SNIPS</th><th>90&#160;%</th>"
        "<th>DR</th><th>90&#160;%</th>"
        "<th>follows (SNIPS)</th><th>90&#160;%</th><th>follows "
        "(DR)</th><th>90&#160;%</th>"
        "<th>effective " +
        (per == "reply" ? std::string{"replies"} : per + "s") + "</th></tr>\n";
    for (auto const& row : r.rows) {
        if (!row.note.empty()) {
            s += fmt::format("<tr><td>{}</td><td colspan=\"9\">{}</td></tr>\n",
                             esc(row.policy), esc(row.note));
            continue;
        }
        s += "<tr><td>" + esc(row.policy) + "</td>" + estimate_cell(row.snips) +
             estimate_cell(row.dr) + estimate_cell(row.follows_snips) +
             estimate_cell(row.follows_dr) +
             fmt::format("<td>{:.0f}</td></tr>\n", row.snips ? row.snips->ess : 0.0);
    }
    s += "</table></div>";
    if (r.lift) {
        s += fmt::format(
            "<p>Lift of {}: {}{}.</p>", esc(lift), lift_text(*r.lift),
            r.lift_follows
                ? fmt::format("; in follows a {} {}{}", per, lift_text(*r.lift_follows),
                              r.lift_follows_dr ? ", DR " + lift_text(*r.lift_follows_dr)
                                                : std::string{})
                : "");
    }
    return s;
}

// What the logged choices are worth: posts, then replies.
std::string policies_html(policy_report const& r)
{
    return fmt::format(
               "<section><h2>What the choices are worth</h2><p>{}, "
               "{} with the propensities plan stores; mean primary_objective_score per "
               "post by self-normalised inverse propensity scoring (SNIPS) and doubly "
               "robust (DR), 90 % bootstrap intervals.</p>",
               esc(upper_first(valued_text(r, "posts"))), r.with_propensities) +
           comparison_html(r, "the map's policy over uniform draws", "post") +
           (r.rows.empty()
                ? ""
                : "<p>The map's policy: " + esc(map_policy_note(r)) + ".</p>") +
           (r.what_if_comparison
                ? fmt::format("<h3>What if {}</h3><p>Every other dimension as the map's "
                              "policy, valued on the same posts.</p>",
                              esc(what_if_text(r.what_if))) +
                      comparison_html(*r.what_if_comparison,
                                      "the what-if over the map's policy", "post") +
                      (r.what_if_comparison->lift
                           ? "<p>" + esc(upper_first(what_if_caution)) + ".</p>"
                           : "")
                : "") +
           fmt::format("<h3>Replies</h3><p>{}, {} with "
                       "propensities: the learned priorities against opportunity score "
                       "alone.</p>",
                       esc(upper_first(valued_text(r.replies, "replies"))),
                       r.replies.with_propensities) +
           comparison_html(r.replies,
                           "the learned priorities over opportunity score alone",
                           "reply") +
           "</section>";
}

// The charts under the checks, from the series read by read_report_series().
std::string charts_html(report_series const& series)
{
    if (!series.available) {
        return {};
    }
    std::string charts;
    if (series.policies) {
        charts += learned_html(*series.policies) + policies_html(*series.policies);
    }
    charts += "<section><h2>v2 coverage of posts per day</h2><p>Posts and replies by the "
              "day they were posted: the share with a v2 score (a post is scored when "
              "scrape-metrics first collects it); grey: nothing posted that day.</p>" +
              bar_chart("v2 coverage per day", series.coverage, 100, "%") + "</section>";
    charts += "<section><h2>Followers, last 30 days</h2>" +
              line_chart("follower count over time", series.followers) + "</section>";
    charts += "<section><h2>Items per day by content_slot</h2><p>Posts and replies by "
              "the day they were created (xloop-plan queues them), posted or still "
              "queued.</p>" +
              stacked_chart("items per day by content slot", series.posts_by_day) +
              "</section>";
    charts += "<section><h2>Active weight map</h2>";
    if (series.weights.empty()) {
        charts += empty_chart("active weight map");
    }
    for (auto const& [dim, weights] : series.weights) {
        double top = 0;
        for (auto const& w : weights) {
            top = std::max(top, w.second);
        }
        charts += "<h3>" + esc(dim) + "</h3>" +
                  bar_chart("weights of " + dim, weights, top, "");
    }
    charts += "</section>";
    double top = 1;
    for (auto const& p : series.priorities) {
        top = std::max(top, p.second);
    }
    charts += "<section><h2>Reply priorities</h2>" +
              bar_chart("distribution of reply priorities", series.priorities, top, "") +
              "</section>";
    return charts;
}

} // namespace

int report_span_days(int days)
{
    return std::max(days, 14);
}

namespace {

// A check's name may break after its '_' and ':' on a narrow screen
// ("content_slot_coverage", "job:scrape-metrics"), never inside a word.
std::string name_breaks(std::string const& escaped)
{
    std::string out;
    for (char const ch : escaped) {
        out += ch;
        if (ch == '_' || ch == ':') {
            out += "<wbr/>";
        }
    }
    return out;
}

} // namespace

std::string report_html(report_series const& series,
                        std::vector<check_result> const& checks, bool ready,
                        timestamp now, std::string_view place)
{
    auto const charts = charts_html(series);
    auto const days = series.days;
    auto const to_read = checks_to_read(checks);
    std::string rows;
    for (auto const& c : checks) {
        rows += fmt::format("<tr class=\"{}\"><td class=\"name\">{}</td><td "
                            "class=\"status\">{}</td><td "
                            "class=\"why\">{}</td></tr>\n",
                            c.status, name_breaks(esc(c.name)), c.status, esc(c.message));
    }
    return fmt::format(
        R"html(<!DOCTYPE html>
<html xmlns="http://www.w3.org/1999/xhtml" lang="en">
<head>
<meta charset="utf-8"/>
<meta name="viewport" content="width=device-width, initial-scale=1"/>
<title>xloop readiness: {verdict} · {place}</title>
<style>
body {{ font: 14px/1.4 system-ui, sans-serif; margin: 2em; color: #222; }}
h1 .READY {{ color: #2e7d32; }} h1 .NOT {{ color: #c62828; }}
table {{ border-collapse: collapse; margin-bottom: 2em; }}
td, th {{ padding: 4px 10px; border-bottom: 1px solid #ddd; text-align: left; }}
/* a phone's width: the checks wrap, charts shrink, a wide table scrolls in itself */
td.why {{ overflow-wrap: anywhere; }}
/* an interval is read whole: "0.133 … 0.171" on one line */
td.ci {{ white-space: nowrap; }}
svg {{ max-width: 100%; height: auto; }}
.wide {{ overflow-x: auto; margin-bottom: 2em; }} .wide table {{ margin-bottom: 0; }}
@media (max-width: 600px) {{ body {{ margin: 1em; }} td, th {{ padding: 4px 6px; }} }}
/* wider, a check's name on one line: the messages have the room to give
   (Chromium breaks at a <wbr/> even in nowrap) */
@media (min-width: 601px) {{ td.name {{ white-space: nowrap; }} td.name wbr {{ display: none; }} }}
tr.ok .status {{ color: #2e7d32; }} tr.warn .status {{ color: #b26a00; }}
tr.fail .status {{ color: #c62828; font-weight: bold; }}
section {{ margin-bottom: 2em; }}
.axis {{ font-size: 10px; fill: #555; }} .muted {{ fill: #999; }}
.base {{ stroke: #999; }}
td.bar {{ position: relative; width: 240px; }}
/* fixed columns: every dimension's bars start at the same place */
table.learned {{ table-layout: fixed; width: 900px; }}
table.learned th:nth-child(1) {{ width: 170px; }} table.learned th:nth-child(2) {{ width: 60px; }}
table.learned th:nth-child(3) {{ width: 130px; }} table.learned th:nth-child(4) {{ width: 240px; }}
table.learned th:nth-child(5) {{ width: 50px; }} table.learned th:nth-child(6) {{ width: 50px; }}
table.learned th:nth-child(7) {{ width: 60px; }}
table.learned td:first-child {{ overflow-wrap: anywhere; }}
td.bar .interval {{ position: absolute; top: 8px; height: 6px; background: #90caf9; }}
td.bar .mean {{ position: absolute; top: 4px; width: 2px; height: 14px; background: #0d47a1; }}
tr.few td {{ color: #999; }} tr.few .interval {{ background: #ddd; }}
</style>
</head>
<body>
<h1>xloop: <span class="{verdict_class}">{verdict}</span></h1>
{to_read}<p>Database {place}, as of {now}; windows of {days} days.</p>
<table>
<tr><th>check</th><th>status</th><th>why / what to do</th></tr>
{rows}</table>
{charts}
</body>
</html>
)html",
        fmt::arg("verdict", ready ? "READY" : "NOT READY"),
        fmt::arg("verdict_class", ready ? "READY" : "NOT"),
        fmt::arg("to_read",
                 to_read.empty()
                     ? ""
                     : fmt::format("<p class=\"to-read\">Read first: {}.</p>\n",
                                   esc(to_read))),
        fmt::arg("place", esc(place)), fmt::arg("now", format_seconds(now)),
        fmt::arg("days", days), fmt::arg("rows", rows), fmt::arg("charts", charts));
}

} // namespace xloop
