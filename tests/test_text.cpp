#include "text.hpp"

#include <catch2/catch.hpp>

using namespace xloop;

TEST_CASE("an excerpt cuts whole UTF-8 characters and keeps one line", "[nodb]")
{
    CHECK(excerpt("short", 10) == "short");
    CHECK(excerpt("exactly10!", 10) == "exactly10!");
    CHECK(excerpt("eleven chars", 11) == "eleven char…");
    // "é" and "…" are 2 and 3 bytes: counted as one character each, never split
    CHECK(excerpt("café…latte", 5) == "café……");
    CHECK(excerpt("a\nb", 5) == "a b");
    CHECK(excerpt("  padded  ", 20) == "padded");
}
