#include "classify.hpp"
#include "text.hpp"
#include "writers.hpp"

#include <catch2/catch.hpp>

#include <set>

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

TEST_CASE("the template writer's texts say the hook and call to action drawn, with "
          "variety enough for a settled policy",
          "[nodb]")
{
    auto const w = make_writer(plan_config{});
    rng r{7};
    for (auto const* hook :
         {"question", "statistic", "contrarian", "story", "reveal", "statement"}) {
        for (auto const* slot : {"myth_busting", "how_to", "hot_take", "data_story",
                                 "tool_tip", "case_study"}) {
            for (auto const* tone : {"calm", "bold", "curious", "friendly"}) {
                for (auto const* cta : {"engagement", "question", "none"}) {
                    writer_request q;
                    q.decision_type = "single";
                    q.content_slot = slot;
                    q.topic = "data_quality";
                    q.tone = tone;
                    q.hook_type = hook;
                    q.cta_type = cta;
                    std::set<std::string> texts;
                    for (int i = 0; i < 400; ++i) {
                        auto const parts = w->write(q, r);
                        REQUIRE(parts.size() == 1);
                        INFO(parts[0]);
                        CHECK(classify_hook(parts[0]) == hook);
                        CHECK(classify_cta(parts[0]) == cta);
                        texts.insert(parts[0]);
                    }
                    // the same attributes drawn again and again: 4 templates ×
                    // 6 slot lines × 6 tone lines = 144 texts, drawn evenly
                    CHECK(texts.size() >= 120);
                }
            }
        }
    }
}
