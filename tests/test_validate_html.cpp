#include "validate_job.hpp"

#include <catch2/catch.hpp>

#include <limits>

using namespace xloop;

namespace {
bool contains(std::string const& s, std::string const& part)
{
    return s.find(part) != std::string::npos;
}

// The page of a healthy database (its tables there, one ok check) with the
// series `s` holds.
std::string healthy_page(report_series s)
{
    s.available = true;
    s.days = 3;
    return report_html(s, {{"schema", "ok", "", {}}}, true,
                       *parse_timestamp("2026-11-29T12:00:00Z"), "ex at /tmp/pg:5499");
}
} // namespace

TEST_CASE("the HTML report draws the series it is given", "[nodb]")
{
    report_series s;
    s.available = true;
    s.days = 3;
    s.coverage = {{"11-28", 50}, {"11-29", 100}};
    s.followers = {{"11-28 10:00", 1000}, {"11-29 10:00", 1012}};
    s.posts_by_day["2026-11-29"] = {{"how_to", 2}, {"hot_take", 1}};
    s.weights["hook_type"] = {{"question", 0.7}, {"story", 0.3}};
    s.priorities = {{"0.0", 4}, {"0.1", 1}};
    std::vector<check_result> checks{{"schema", "ok", "all there", {}},
                                     {"v2 coverage", "warn", "75 % <br>", {}}};
    // a run's own clock, to the microsecond, is said to the second
    auto const now = *parse_timestamp("2026-11-29T12:00:00.176199Z");
    auto const html = report_html(s, checks, true, now, "\"a&b\" at /tmp/pg:5499");

    CHECK(contains(html, "<span class=\"READY\">READY</span>"));
    // whose page it is, in the tab and above the checks; the name escaped
    CHECK(contains(html, "<title>xloop readiness: READY · &quot;a&amp;b&quot; at "
                         "/tmp/pg:5499</title>"));
    CHECK(contains(html, "Database &quot;a&amp;b&quot; at /tmp/pg:5499, as of "
                         "2026-11-29T12:00:00Z; windows of 3 days."));
    CHECK(contains(html, "<title>11-29: 100%</title>"));
    CHECK(contains(html, "<title>11-28: 50%</title>"));
    CHECK(contains(html, "<h3>hook_type</h3>"));
    CHECK(contains(html, "<title>question: 0.7</title>"));
    CHECK(contains(html, "<title>0.0: 4</title>"));
    CHECK(contains(html, "75 % &lt;br&gt;")); // messages are escaped
    CHECK_FALSE(contains(html, "75 % <br>"));
    // under the verdict, the checks to read first
    CHECK(contains(html, "<p class=\"to-read\">Read first: warning: v2 coverage.</p>"));
    CHECK_FALSE(contains(report_html(s, {checks[0]}, true, now, "x"), "to-read"));
}

TEST_CASE("the HTML report has no charts where the loop's tables do not exist", "[nodb]")
{
    report_series s; // not available: an empty database
    s.days = 3;
    auto const html =
        report_html(s, {{"schema", "fail", "no tables", {}}}, false,
                    *parse_timestamp("2026-11-29T12:00:00Z"), "ex at h:5432");
    CHECK(contains(html, "NOT READY"));
    CHECK_FALSE(contains(html, "<section>"));
    CHECK_FALSE(contains(html, "<svg"));
}

TEST_CASE("what was learned draws every dimension's intervals on one scale", "[nodb]")
{
    // hook_type's values span [0.0, 1.0]; tone's hardly differ, [0.49, 0.51].
    // On one scale from 0 to 1 tone's bars are 2 % wide, in the middle; on a
    // scale of its own they would fill the row and look as uncertain as
    // hook_type's.
    report_series s;
    policy_report p;
    auto value = [](std::string name, double lo, double hi) {
        learned_value v;
        v.value = std::move(name);
        v.lo = lo;
        v.hi = hi;
        v.mean = (lo + hi) / 2;
        v.posts = 10;
        v.share = 0.5;
        return v;
    };
    p.learned["hook_type"] = {value("question", 0.6, 1.0), value("story", 0.0, 0.4)};
    p.learned["tone"] = {value("calm", 0.49, 0.51), value("bold", 0.49, 0.51)};
    s.policies = p;
    auto const html = healthy_page(s);
    // question: left 60 %, width 40 %; story: left 0 %, width 40 %
    CHECK(contains(html, "left: 60.0%; width: 40.0%"));
    CHECK(contains(html, "left: 0.0%; width: 40.0%"));
    // calm and bold: left 49 %, width 2 %, the mean at 50 %
    CHECK(contains(html, "left: 49.0%; width: 2.0%\"></div><div class=\"mean\" "
                         "style=\"left: 50.0%\""));
    CHECK(contains(html, "The bars of every dimension are on one scale;"));
    CHECK(contains(html, "compare values within a dimension"));
}

TEST_CASE("a day without posts is marked as such in the coverage chart, not as 0 %",
          "[nodb]")
{
    report_series s;
    s.coverage = {{"11-27", std::numeric_limits<double>::quiet_NaN()}, {"11-28", 0.0}};
    auto const html = healthy_page(s);
    CHECK(contains(html, "<title>11-27: none</title>"));
    CHECK(contains(html, "<title>11-28: 0%</title>")); // a real 0 % stays one
    CHECK_FALSE(contains(html, "nan"));
}

TEST_CASE("the replies' table counts effective replies", "[nodb]")
{
    report_series s;
    policy_report p;
    p.rows.push_back({});
    p.replies.rows.push_back({});
    s.policies = p;
    auto const html = healthy_page(s);
    CHECK(contains(html, "<th>effective posts</th>"));
    CHECK(contains(html, "<th>effective replies</th>"));
    CHECK_FALSE(contains(html, "replys"));
}

TEST_CASE("each policy's estimates and the lift are printed with their intervals, and a "
          "policy without one says why",
          "[nodb]")
{
    auto estimate = [](double value, double lo, double hi) {
        policy_estimate e;
        e.value = value;
        e.lo = lo;
        e.hi = hi;
        e.ess = 40.4;
        return e;
    };
    report_series s;
    policy_report p;
    policy_row logged{"logged",
                      estimate(0.115, 0.106, 0.124),
                      estimate(0.1154, 0.1, 0.13),
                      estimate(7.022, 6.145, 7.941),
                      std::nullopt,
                      ""};
    policy_row uniform{"uniform", {}, {}, {}, {}, "too few posts <3> & no propensities"};
    p.rows = {logged, uniform};
    p.lift = estimate(0.021, -0.012, 0.06);
    p.lift_follows = estimate(1.4664, -1.855, 5.282);
    p.lift_follows_dr = estimate(-0.062, -5.412, 4.332);
    p.replies.note = "no replies with outcomes";
    s.policies = p;
    auto const html = healthy_page(s);
    CHECK(contains(html, "<tr><td>logged</td><td>0.115</td><td class=\"ci\">0.106 … "
                         "0.124</td><td>0.115</td><td class=\"ci\">0.100 … 0.130</td>"
                         "<td>7.022</td>"
                         "<td class=\"ci\">6.145 … 7.941</td><td>–</td><td></td>"
                         "<td>40</td></tr>"));
    CHECK(contains(html, "<tr><td>uniform</td><td colspan=\"9\">too few posts &lt;3&gt; "
                         "&amp; no propensities</td></tr>"));
    CHECK(contains(html, "<p>Lift of the map's policy over uniform draws: 0.021 (90 %: "
                         "-0.012 … 0.060); in follows a post 1.466 (90 %: -1.855 … "
                         "5.282), DR -0.062 (90 %: -5.412 … 4.332).</p>"));
    CHECK(contains(html, "<p>no replies with outcomes</p>"));
    // without follows, the lift is the score's alone
    p.lift_follows.reset();
    p.lift_follows_dr.reset();
    s.policies = p;
    CHECK(contains(healthy_page(s),
                   "<p>Lift of the map's policy over uniform draws: 0.021 "
                   "(90 %: -0.012 … 0.060).</p>"));
}

TEST_CASE("text from the database is escaped in the page: <, >, & and quotes", "[nodb]")
{
    report_series s;
    s.weights["tone\" onmouseover=\"x"] = {{"<script>&", 1.0}};
    auto const html = healthy_page(s);
    CHECK(contains(html, "tone&quot; onmouseover=&quot;x"));
    CHECK(contains(html, "&lt;script&gt;&amp;"));
    CHECK_FALSE(contains(html, "<script>"));
    CHECK_FALSE(contains(html, "\" onmouseover"));
}

TEST_CASE("the clock check is ok within a minute, warns past it, fails past "
          "metrics.max_clock_skew_minutes, by what the reading shows at least",
          "[nodb]")
{
    // offset: the server's clock minus this machine's; uncertainty: half the
    // round trip of the reading
    auto const ok = clock_check_of(30, 0.01, 10);
    CHECK(ok.name == "clock");
    CHECK(ok.status == "ok");
    CHECK(ok.message == "this machine's clock and the database server's agree (30.0 s "
                        "apart)");
    CHECK(ok.numbers["offset_seconds"] == 30.0);
    CHECK(ok.numbers["uncertainty_seconds"] == 0.01);
    // 61 s read over a 4 s round trip shows at least 59 s: ok
    CHECK(clock_check_of(61, 2, 10).status == "ok");
    auto const behind = clock_check_of(90, 0.01, 10);
    CHECK(behind.status == "warn");
    CHECK(contains(behind.message, "this machine's clock is 90.0 s behind the database "
                                   "server's: "));
    CHECK(contains(behind.message, "sync both clocks"));
    auto const ahead = clock_check_of(-90, 0.01, 10);
    CHECK(ahead.status == "warn");
    CHECK(contains(ahead.message, "is 90.0 s ahead of the database server's"));
    // 700 s = 11.7 min: past 10 minutes, not past 15
    auto const far = clock_check_of(700, 0.01, 10);
    CHECK(far.status == "fail");
    CHECK(contains(far.message, "is 12 min behind the database server's, more than "
                                "metrics.max_clock_skew_minutes (10)"));
    CHECK(clock_check_of(700, 0.01, 15).status == "warn");
    // a skew of 0 allowed: past the minute is a failure
    CHECK(clock_check_of(61, 0, 0).status == "fail");
    CHECK(clock_check_of(59, 0, 0).status == "ok");
    CHECK(clock_check_of(90.0004, 0, 10).numbers["offset_seconds"] == 90.0);
}
