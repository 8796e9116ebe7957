#include "validate_job.hpp"

#include <catch2/catch.hpp>

#include <limits>

using namespace xloop;

TEST_CASE("the checks as Prometheus metrics: the verdict, when, each status and each "
          "number",
          "[nodb]")
{
    std::vector<check_result> checks{
        {"schema", "ok", "", {{"missing", {"a", "b"}}, {"pending_migrations", 0}}},
        {"job:plan",
         "fail",
         "",
         {{"last_ok_hours_ago", 4.5},
          {"last_status", "failed"}, // text: no number
          {"never", nullptr},        // nothing to say: no number
          {"by", {{"hour", 2}}},
          {"late", true}}},
        {"weird \"name\" \\ here", "warn", "", {}}};
    // 2026-03-02T12:00:00Z is 1772452800 s after the epoch
    auto const text = report_prometheus(
        checks, false, *parse_timestamp("2026-03-02T12:00:00.5Z"), "bot \"prod\"");
    CHECK(
        text ==
        "# HELP xloop_ready 1 when xloop-validate's verdict is READY, 0 when NOT READY\n"
        "# TYPE xloop_ready gauge\n"
        "xloop_ready{database=\"bot \\\"prod\\\"\"} 0\n"
        "# HELP xloop_validate_time_seconds When xloop-validate ran (its now), in "
        "seconds since the epoch: a file that stops moving is a validate that stopped "
        "running\n"
        "# TYPE xloop_validate_time_seconds gauge\n"
        "xloop_validate_time_seconds{database=\"bot \\\"prod\\\"\"} 1772452800.5\n"
        "# HELP xloop_check_status Each check's status: 0 ok, 1 warn, 2 fail\n"
        "# TYPE xloop_check_status gauge\n"
        "xloop_check_status{database=\"bot \\\"prod\\\"\",check=\"schema\"} 0\n"
        "xloop_check_status{database=\"bot \\\"prod\\\"\",check=\"job:plan\"} 2\n"
        "xloop_check_status{database=\"bot \\\"prod\\\"\",check=\"weird \\\"name\\\" "
        "\\\\ here\"} 1\n"
        "# HELP xloop_check_value Each check's numbers, as xloop-validate --json gives "
        "them (a list: how many items it has)\n"
        "# TYPE xloop_check_value gauge\n"
        "xloop_check_value{database=\"bot "
        "\\\"prod\\\"\",check=\"schema\",number=\"missing\"} 2\n"
        "xloop_check_value{database=\"bot "
        "\\\"prod\\\"\",check=\"schema\",number=\"pending_migrations\"} 0\n"
        "xloop_check_value{database=\"bot "
        "\\\"prod\\\"\",check=\"job:plan\",number=\"by.hour\"} 2\n"
        "xloop_check_value{database=\"bot "
        "\\\"prod\\\"\",check=\"job:plan\",number=\"last_ok_hours_ago\"} 4.5\n"
        "xloop_check_value{database=\"bot "
        "\\\"prod\\\"\",check=\"job:plan\",number=\"late\"} 1\n");
}

TEST_CASE("a non-finite number is written as Prometheus spells it", "[nodb]")
{
    double const inf = std::numeric_limits<double>::infinity();
    std::vector<check_result> checks{
        {"c",
         "ok",
         "",
         {{"a", inf}, {"b", -inf}, {"n", std::numeric_limits<double>::quiet_NaN()}}}};
    auto const text =
        report_prometheus(checks, true, *parse_timestamp("2026-03-02"), "x");
    CHECK(text.find("xloop_ready{database=\"x\"} 1\n") != std::string::npos);
    CHECK(text.find("{database=\"x\",check=\"c\",number=\"a\"} +Inf\n") !=
          std::string::npos);
    CHECK(text.find("{database=\"x\",check=\"c\",number=\"b\"} -Inf\n") !=
          std::string::npos);
    CHECK(text.find("{database=\"x\",check=\"c\",number=\"n\"} NaN\n") !=
          std::string::npos);
}

TEST_CASE("with what the choices are worth, each estimate and lift is three samples: the "
          "estimate and its 90 % interval",
          "[nodb]")
{
    policy_report p;
    p.rows = {{"logged", policy_estimate{0.4, 0.3, 0.5}, {}, {}, {}, ""},
              {"uniform", {}, {}, {}, {}, "too few"}}; // no estimate: no sample
    p.lift = policy_estimate{0.25, -0.5, 1};
    p.replies.rows = {{"learned", {}, {}, policy_estimate{2, 1, 3}, {}, ""}};
    auto const text =
        report_prometheus({}, true, *parse_timestamp("2026-03-02T12:00:00Z"), "x", p);
    auto const from = text.find("# HELP xloop_policy_value ");
    REQUIRE(from != std::string::npos);
    auto const policies = text.substr(from);
    auto const lift = policies.find("# HELP xloop_policy_lift ");
    REQUIRE(lift != std::string::npos);
    auto const lines = [](std::string const& s) {
        std::string out;
        for (std::size_t at = 0, end; at < s.size(); at = end + 1) {
            end = s.find('\n', at);
            if (s.compare(at, 1, "#") != 0) {
                out += s.substr(at, end - at + 1);
            }
        }
        return out;
    };
    CHECK(lines(policies.substr(0, lift)) ==
          "xloop_policy_value{database=\"x\",of=\"posts\",policy=\"logged\",outcome="
          "\"score\","
          "estimator=\"snips\",bound=\"estimate\"} 0.4\n"
          "xloop_policy_value{database=\"x\",of=\"posts\",policy=\"logged\",outcome="
          "\"score\","
          "estimator=\"snips\",bound=\"low_90\"} 0.3\n"
          "xloop_policy_value{database=\"x\",of=\"posts\",policy=\"logged\",outcome="
          "\"score\","
          "estimator=\"snips\",bound=\"high_90\"} 0.5\n"
          "xloop_policy_value{database=\"x\",of=\"replies\",policy=\"learned\",outcome="
          "\"follows\","
          "estimator=\"snips\",bound=\"estimate\"} 2\n"
          "xloop_policy_value{database=\"x\",of=\"replies\",policy=\"learned\",outcome="
          "\"follows\","
          "estimator=\"snips\",bound=\"low_90\"} 1\n"
          "xloop_policy_value{database=\"x\",of=\"replies\",policy=\"learned\",outcome="
          "\"follows\","
          "estimator=\"snips\",bound=\"high_90\"} 3\n");
    CHECK(lines(policies.substr(lift)) == "xloop_policy_lift{database=\"x\",of=\"posts\","
                                          "lift=\"map_over_uniform\",outcome=\"score\","
                                          "estimator=\"snips\",bound=\"estimate\"} 0.25\n"
                                          "xloop_policy_lift{database=\"x\",of=\"posts\","
                                          "lift=\"map_over_uniform\",outcome=\"score\","
                                          "estimator=\"snips\",bound=\"low_90\"} -0.5\n"
                                          "xloop_policy_lift{database=\"x\",of=\"posts\","
                                          "lift=\"map_over_uniform\",outcome=\"score\","
                                          "estimator=\"snips\",bound=\"high_90\"} 1\n");
    // without them, neither family
    CHECK(report_prometheus({}, true, *parse_timestamp("2026-03-02"), "x")
              .find("xloop_policy") == std::string::npos);
}
