#include "timestamp.hpp"

#include <catch2/catch.hpp>

using namespace xloop;
using namespace std::chrono;

TEST_CASE("ISO 8601 times parse to UTC", "[nodb]")
{
    auto const base = parse_timestamp("2026-03-02T12:00:00Z");
    REQUIRE(base);
    CHECK(format_timestamp(*base) == "2026-03-02T12:00:00Z");
    CHECK(parse_timestamp("2026-03-02 12:00:00") == base);
    CHECK(parse_timestamp("2026-03-02T13:30:00+01:30") == base);
    CHECK(parse_timestamp("2026-03-02T07:00-05:00") == base);
    CHECK(parse_timestamp("2026-03-02") == *base - hours{12});
    CHECK(format_timestamp(*parse_timestamp("2026-03-02T12:00:00.25Z")) ==
          "2026-03-02T12:00:00.250000Z");
}

TEST_CASE("malformed times are rejected", "[nodb]")
{
    CHECK_FALSE(parse_timestamp("yesterday"));
    CHECK_FALSE(parse_timestamp("2026-02-30T00:00:00Z"));
    CHECK_FALSE(parse_timestamp("2026-03-02T25:00:00Z"));
    CHECK_FALSE(parse_timestamp("2026-03-02T12:00:00Zjunk"));
    CHECK_FALSE(parse_timestamp(""));
}

TEST_CASE("ages in days and hours are exact differences", "[nodb]")
{
    auto const a = *parse_timestamp("2026-03-01T00:00:00Z");
    auto const b = *parse_timestamp("2026-03-02T12:00:00Z");
    CHECK(days_between(a, b) == 1.5);
    CHECK(hours_between(a, b) == 36.0);
}

TEST_CASE("times outside the years 1900 to 2199 are refused, not overflowed", "[nodb]")
{
    CHECK_FALSE(parse_timestamp("2518-01-02T12:00:00Z"));
    CHECK_FALSE(parse_timestamp("0000-01-02T12:00:00Z"));
    CHECK_FALSE(parse_timestamp("1899-12-31T23:59:59Z"));
    CHECK_FALSE(parse_timestamp("2200-01-01T00:00:00Z"));
    CHECK_FALSE(parse_timestamp(readable_times_end)); // what the SQL bounds say
    REQUIRE(parse_timestamp("1900-01-01T00:00:00Z"));
    REQUIRE(parse_timestamp("2199-12-31T23:59:59Z"));
    CHECK(format_timestamp(*parse_timestamp("2199-12-31T23:59:59Z")) ==
          "2199-12-31T23:59:59Z");
}

TEST_CASE("a stored time is written as the tools write times, or as stored where it is "
          "none they hold",
          "[nodb]")
{
    CHECK(stored_timestamp_text("2026-03-02 12:00:00+00") == "2026-03-02T12:00:00Z");
    CHECK(stored_timestamp_text("2026-03-02 13:00:00.25+01") ==
          "2026-03-02T12:00:00.250000Z");
    CHECK(stored_timestamp_text("infinity") == "infinity");
    CHECK(stored_timestamp_text("-infinity") == "-infinity");
    CHECK(stored_timestamp_text("1850-01-01 00:00:00+00") == "1850-01-01 00:00:00+00");
}
