#include "validate_job.hpp"

#include <catch2/catch.hpp>

#include <sstream>

using namespace xloop;

namespace {

std::vector<std::string> lines_of(std::string const& text)
{
    std::vector<std::string> out;
    std::istringstream in{text};
    for (std::string line; std::getline(in, line);) {
        out.push_back(line);
    }
    return out;
}

std::vector<check_result> two_checks()
{
    return {{"schema", "ok", "every table is there", {}},
            {"job:plan",
             "fail",
             "xloop-plan's last ok run was 24.1 h ago, more than 3 intervals of 1.0 h: "
             "check cron and its mail",
             {}}};
}

} // namespace

TEST_CASE("off a terminal each check is one line, however long its message", "[nodb]")
{
    auto const lines = lines_of(report_table(two_checks(), false, false));
    REQUIRE(lines.size() == 5);
    CHECK(lines[0] == "check           why / what to do");
    CHECK(lines[1] == "schema    ok    every table is there");
    CHECK(lines[2] ==
          "job:plan  fail  xloop-plan's last ok run was 24.1 h ago, more than 3 "
          "intervals of 1.0 h: check cron and its mail");
    CHECK(lines[3].empty());
    CHECK(lines[4] == "verdict: NOT READY (failing: job:plan)");
}

TEST_CASE("on a terminal a long message wraps under its own column, names and statuses "
          "left alone",
          "[nodb]")
{
    // the text column starts at 8 + 2 + 4 + 2 = 16; 60 columns leave 44
    auto const lines = lines_of(report_table(two_checks(), false, false, 60));
    REQUIRE(lines.size() == 7);
    CHECK(lines[1] == "schema    ok    every table is there");
    // "xloop-plan's … ago," is 40 characters, " more" would make 45;
    // "more … cron" 42, " and" would make 46
    CHECK(lines[2] == "job:plan  fail  xloop-plan's last ok run was 24.1 h ago,");
    CHECK(lines[3] == "                more than 3 intervals of 1.0 h: check cron");
    CHECK(lines[4] == "                and its mail");
    CHECK(lines[6] == "verdict: NOT READY (failing: job:plan)");
    for (auto const& line : lines) {
        CHECK(line.size() <= 60);
    }
    // too narrow a column for the text (under 30): the terminal wraps it
    CHECK(lines_of(report_table(two_checks(), false, false, 45)).size() == 5);
}

TEST_CASE("the verdict's line names the failing checks, then those that warn", "[nodb]")
{
    std::vector<check_result> checks{{"schema", "ok", "fine", {}},
                                     {"queue", "warn", "late", {}},
                                     {"weight_map", "fail", "none", {}},
                                     {"clock", "warn", "skewed", {}}};
    auto const last = [](std::string const& table) {
        auto const lines = lines_of(table);
        return lines.back();
    };
    CHECK(last(report_table(checks, false, false)) ==
          "verdict: NOT READY (failing: weight_map; warnings: queue, clock)");
    checks[2].status = "ok";
    checks[3].status = "ok";
    CHECK(last(report_table(checks, true, false)) == "verdict: READY (warning: queue)");
    checks[1].status = "ok";
    CHECK(last(report_table(checks, true, false)) == "verdict: READY");
}
