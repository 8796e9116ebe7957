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

TEST_CASE("text is made valid UTF-8 before it is stored", "[nodb]")
{
    CHECK(valid_utf8("plain ascii") == "plain ascii");
    CHECK(valid_utf8("caf\xc3\xa9 \xe2\x80\xa6 \xf0\x9f\x98\x80") ==
          "caf\xc3\xa9 \xe2\x80\xa6 \xf0\x9f\x98\x80");
    // a lone continuation byte, a cut sequence, an overlong form, a surrogate,
    // a NUL: each bad byte becomes U+FFFD
    CHECK(valid_utf8("a\x80z") == "a\xef\xbf\xbdz");
    CHECK(valid_utf8("a\xe2\x80") == "a\xef\xbf\xbd\xef\xbf\xbd");
    CHECK(valid_utf8("\xc0\xaf") == "\xef\xbf\xbd\xef\xbf\xbd");
    CHECK(valid_utf8("\xed\xa0\x80") == "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
    CHECK(valid_utf8(std::string_view{"a\0b", 3}) == "a\xef\xbf\xbd"
                                                     "b");
}
