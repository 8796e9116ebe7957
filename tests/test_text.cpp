#include "argv_secrets.hpp"
#include "classify.hpp"
#include "text.hpp"
#include "tweet_length.hpp"
#include "writers.hpp"

#include <catch2/catch.hpp>

#include <cctype>
#include <set>
#include <string>
#include <vector>

using namespace xloop;

namespace {

// The connection string as ps shows it once its secrets are blanked.
std::string blanked(std::string s)
{
    for (auto const& [from, to] : conninfo_secret_spans(s)) {
        s.replace(from, to - from, to - from, '*');
    }
    return s;
}

} // namespace

TEST_CASE("the passwords of a connection string are found as libpq reads them", "[nodb]")
{
    CHECK(blanked("postgresql://bot:pw@db.example/x") ==
          "postgresql://bot:**@db.example/x");
    CHECK(blanked("postgres://bot:p:w%40x@h:5432/x") ==
          "postgres://bot:*******@h:5432/x");
    CHECK(blanked("postgresql://bot@h/x") == "postgresql://bot@h/x");
    CHECK(blanked("postgresql://h:5432/x") == "postgresql://h:5432/x");
    CHECK(blanked("postgresql:///x?host=/run/pg&password=pw&user=u") ==
          "postgresql:///x?host=/run/pg&password=**&user=u");
    CHECK(blanked("postgresql://h/x?pass%77ord=pw") == "postgresql://h/x?pass%77ord=**");
    CHECK(blanked("postgresql://u:a@h/x?sslpassword=k") ==
          "postgresql://u:*@h/x?sslpassword=*");
    CHECK(blanked("host=h password=pw user=u") == "host=h password=** user=u");
    CHECK(blanked("password = 'a b\\'c' dbname=x") == "password = '******' dbname=x");
    CHECK(blanked("dbname=x sslpassword=k\\ y") == "dbname=x sslpassword=****");
    CHECK(blanked("dbname=x user=password") == "dbname=x user=password");
    CHECK(blanked("") == "");
}

TEST_CASE("hide_argv_secrets blanks --db's password and --ping-url's path in place, "
          "and says whether a password was there",
          "[nodb]")
{
    std::vector<std::string> args{"xloop-plan",
                                  "--db",
                                  "host=h password=pw",
                                  "--now",
                                  "password=pw",
                                  "--ping-url=https://hc-ping.com/uuid-1",
                                  "--db=postgresql://u:secret@h/x"};
    std::vector<char*> argv;
    for (auto& a : args) {
        argv.push_back(a.data());
    }
    CHECK(hide_argv_secrets(static_cast<int>(argv.size()), argv.data()));
    CHECK(std::string{argv[2]} == "host=h password=**");
    CHECK(std::string{argv[4]} == "password=pw"); // not --db's
    CHECK(std::string{argv[5]} == "--ping-url=https://hc-ping.com/******");
    CHECK(std::string{argv[6]} == "--db=postgresql://u:******@h/x");

    std::vector<std::string> plain_args{"xloop-plan", "--db", "dbname=x", "--ping-url",
                                        "https://hc-ping.com"};
    std::vector<char*> plain;
    for (auto& a : plain_args) {
        plain.push_back(a.data());
    }
    CHECK_FALSE(hide_argv_secrets(static_cast<int>(plain.size()), plain.data()));
    CHECK(std::string{plain[2]} == "dbname=x");
    CHECK(std::string{plain[4]} == "https://hc-ping.com");
}

TEST_CASE("the openai writer posts where an OpenAI SDK would for its base URL", "[nodb]")
{
    CHECK(chat_completions_url("https://api.openai.com") ==
          "https://api.openai.com/v1/chat/completions");
    CHECK(chat_completions_url("https://api.openai.com/v1/") ==
          "https://api.openai.com/v1/chat/completions");
    CHECK(chat_completions_url("https://openrouter.ai/api/v1") ==
          "https://openrouter.ai/api/v1/chat/completions");
    CHECK(chat_completions_url(
              "https://generativelanguage.googleapis.com/v1beta/openai/") ==
          "https://generativelanguage.googleapis.com/v1beta/openai/chat/completions");
    CHECK(chat_completions_url("https://api.groq.com/openai") ==
          "https://api.groq.com/openai/v1/chat/completions"); // no version: /v1 added
    CHECK(chat_completions_url("http://127.0.0.1:11434/v1") ==
          "http://127.0.0.1:11434/v1/chat/completions");
    CHECK(chat_completions_url("http://llm.example/v2/chat/completions") ==
          "http://llm.example/v2/chat/completions");
    CHECK(chat_completions_url("http://vault.example/vault") ==
          "http://vault.example/vault/v1/chat/completions");
}

TEST_CASE("a reasoning model's <think> block before its answer is not the post", "[nodb]")
{
    CHECK(without_reasoning("<think>\nThey want a hook.\n</think>\n\nWhy do dashboards "
                            "lie?") == "\n\nWhy do dashboards lie?");
    CHECK(split_parts(*without_reasoning(" \n<think>a\n---\nb</think>One\n---\nTwo")) ==
          std::vector<std::string>{"One", "Two"}); // its --- are not thread breaks
    CHECK(without_reasoning("<think></think>Hi") == "Hi");
    // an answer that only mentions the tag, or an empty one, is as it is
    CHECK(without_reasoning("Stop and <think> before you post") ==
          "Stop and <think> before you post");
    CHECK(without_reasoning("") == "");
    // all reasoning: cut off before the post
    CHECK_FALSE(without_reasoning("<think>\nLet me consider the tone").has_value());
}

TEST_CASE("a chat model's label before a part is found, and a part that begins with "
          "the word alone is not",
          "[nodb]")
{
    CHECK(part_label("Tweet 1: Dashboards lie.") == "Tweet 1:");
    CHECK(part_label("**Post 2/3**\nDashboards lie.") == "**Post 2/3**");
    CHECK(part_label("## Part 3 - Tests first") == "## Part 3 -");
    CHECK(part_label("Tweet: Dashboards lie.") == "Tweet:");
    CHECK(part_label("tweet #4) Ship it.") == "tweet #4)");
    CHECK_FALSE(part_label("Post mortems beat blame."));
    CHECK_FALSE(part_label("Part of the job is saying no."));
    CHECK_FALSE(part_label("Tweet 100 times a day and nobody reads it."));
    CHECK_FALSE(part_label("1/ Dashboards lie."));
    CHECK_FALSE(part_label(""));
}

TEST_CASE("the handles X would notify are found as twitter-text finds mentions, an "
          "address or a long word is none",
          "[nodb]")
{
    CHECK(mentioned_handles("RT @Bob: ask (@alice_1) or \xEF\xBC\xA0"
                            "Carol; @bob again") ==
          std::vector<std::string>{"bob", "alice_1", "carol"});
    // an address, a sign after a word or a symbol, a handle past 15, a link
    CHECK(mentioned_handles("mail a@b.co, #@x, 5@y, @sixteen_chars_xx, @x://y, @@z, @")
              .empty());
    CHECK(mentioned_handles("@fifteen_chars_x.") ==
          std::vector<std::string>{"fifteen_chars_x"});
    CHECK(mentioned_handles("no one here").empty());
}

TEST_CASE("a text's links are those written with a scheme or www., without the "
          "punctuation closing them, and a file name or a dotted word is none",
          "[nodb]")
{
    CHECK(
        written_links("Read (https://a.dev/x?y=1), then HTTP://B.IO. And "
                      "\"www.c-d.org/e\"! Again: https://a.dev/x?y=1") ==
        std::vector<std::string>{"https://a.dev/x?y=1", "HTTP://B.IO", "www.c-d.org/e"});
    CHECK(written_links("README.md, Node.js, e.g. www. or www.x, mail a@b.co").empty());
    CHECK(written_links("").empty());
}

TEST_CASE("a chat model's line to its reader before the post is found, and a post "
          "opening with a colon of its own is not",
          "[nodb]")
{
    CHECK(chat_preamble("Sure! Here's a tweet about SQL:\n\nDashboards lie.") ==
          "Sure! Here's a tweet about SQL:");
    CHECK(chat_preamble("Here is a thread on data quality:\n1/ Tests first.") ==
          "Here is a thread on data quality:");
    CHECK(chat_preamble("Certainly, here are three posts:\nOne.") ==
          "Certainly, here are three posts:");
    CHECK(chat_preamble("Here\u2019s your draft:\nDashboards lie.") ==
          "Here\u2019s your draft:");
    CHECK(chat_preamble("  Of course. Reply:  \r\nAgreed, @amy.") == "Of course. Reply:");
    // the post's own words
    CHECK_FALSE(chat_preamble("Here's the thing about dashboards:\nthey lie."));
    CHECK_FALSE(chat_preamble("Three things I post about:\nSQL, tests, dashboards."));
    CHECK_FALSE(chat_preamble("Sure, dashboards lie. Here's a post:")); // nothing after
    CHECK_FALSE(chat_preamble("Here's a tweet: dashboards lie.\nTrue story."));
    CHECK_FALSE(chat_preamble("Dashboards lie."));
}

TEST_CASE("a code fence around a model's whole answer and quotes around a whole part "
          "are not posted",
          "[nodb]")
{
    CHECK(split_parts("```\nWhy do dashboards lie?\n```") ==
          std::vector<std::string>{"Why do dashboards lie?"});
    CHECK(split_parts("  ```text\nOne\n---\nTwo\n```\n") ==
          std::vector<std::string>{"One", "Two"});
    CHECK(split_parts("\"Why do dashboards lie?\"") ==
          std::vector<std::string>{"Why do dashboards lie?"});
    CHECK(split_parts("“One”\n---\n\"Two\"\n---\nThree") ==
          std::vector<std::string>{"One", "Two", "Three"});
    CHECK(split_parts("\" \"\n---\nTwo") == std::vector<std::string>{"Two"});
    CHECK(split_parts("\"One\n---\nTwo\"") == std::vector<std::string>{"One", "Two"});
    CHECK(split_parts("```\n“One\n---\nTwo”\n```") ==
          std::vector<std::string>{"One", "Two"});
    // quotes that open and close inside the text are the text's own
    CHECK(split_parts("\"Data\" is not \"information\"") ==
          std::vector<std::string>{"\"Data\" is not \"information\""});
    CHECK(split_parts("“Data” and “facts”") ==
          std::vector<std::string>{"“Data” and “facts”"});
    // a fence in the text, or one on a single line, is the text's own
    CHECK(split_parts("Run this:\n```\nselect 1\n```") ==
          std::vector<std::string>{"Run this:\n```\nselect 1\n```"});
    CHECK(split_parts("```select 1```") == std::vector<std::string>{"```select 1```"});
    CHECK(split_parts("```\na\n```\nand\n```\nb\n```") ==
          std::vector<std::string>{"```\na\n```\nand\n```\nb\n```"});
}

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

TEST_CASE("an example in a message is cut at whole UTF-8 characters and keeps its "
          "spaces",
          "[nodb]")
{
    CHECK(example_text("dave", 40) == "dave");
    CHECK(example_text(" dave\n", 40) == " dave\n"); // why it is no handle
    CHECK(example_text("abcdef", 3) == "abc…");
    // 'é' is two bytes: a cut at a byte count would leave half of it (U+FFFD)
    CHECK(example_text("caf\xC3\xA9s", 4) == "caf\xC3\xA9…");
    CHECK(example_text("caf\xC3\xA9", 4) == "caf\xC3\xA9");
    // bytes that are no UTF-8 are replaced first, each one character
    CHECK(example_text("a\xFF\xFEz", 3) == "a\xEF\xBF\xBD\xEF\xBF\xBD…");
}

TEST_CASE("control characters are shown as escapes, line breaks, tabs and UTF-8 kept",
          "[nodb]")
{
    CHECK(escape_controls("s3\r") == "s3\\r");
    CHECK(escape_controls("a\x1b[2Jb\x7f\x01") == "a\\x1b[2Jb\\x7f\\x01");
    CHECK(escape_controls("two\nlines\tand café ✓") == "two\nlines\tand café ✓");
    CHECK(escape_controls(std::string_view{"nul\0here", 8}) == "nul\\x00here");
    CHECK(has_stray_controls("a\x1b[2J"));
    CHECK(has_stray_controls("s3\r"));
    CHECK_FALSE(has_stray_controls("two\nlines\tand café ✓"));
}

TEST_CASE("a value in a table cell keeps to its line: a line break shown escaped",
          "[nodb]")
{
    CHECK(
        escape_line("a tweet_author 'evil\n2026-03-11T00:00:00Z xloop-plan info: ok'") ==
        "a tweet_author 'evil\\n2026-03-11T00:00:00Z xloop-plan info: ok'");
    CHECK(escape_line("tab\tand\r\x1b") == "tab\tand\\r\\x1b");
}

TEST_CASE("libpq's messages of several lines read as one", "[nodb]")
{
    // its own texts (PostgreSQL 15), with the trailing line break it ends with
    CHECK(one_line("connection to server at \"127.0.0.1\", port 1 failed: Connection "
                   "refused\n\tIs the server running on that host and accepting TCP/IP "
                   "connections?\n") ==
          "connection to server at \"127.0.0.1\", port 1 failed: Connection refused; Is "
          "the server running on that host and accepting TCP/IP connections?");
    CHECK(one_line("server closed the connection unexpectedly\n\tThis probably means "
                   "the server terminated abnormally\n\tbefore or while processing the "
                   "request.\n") ==
          "server closed the connection unexpectedly; This probably means the server "
          "terminated abnormally before or while processing the request.");
    // a failure per host: each its own clause, never run together
    CHECK(
        one_line("connection to server at \"a\" (10.0.0.1), port 5432 failed: FATAL:  "
                 "28P01: password authentication failed for user \"bot\"\nconnection "
                 "to server at \"b\" (10.0.0.2), port 5432 failed: timeout expired\n") ==
        "connection to server at \"a\" (10.0.0.1), port 5432 failed: FATAL:  28P01: "
        "password authentication failed for user \"bot\"; connection to server at "
        "\"b\" (10.0.0.2), port 5432 failed: timeout expired");
    CHECK(one_line("SSL error: certificate verify failed.\nnext") ==
          "SSL error: certificate verify failed. next");
    CHECK(one_line("one line") == "one line");
}

TEST_CASE("a log message's further lines are indented, so no line of data passes for "
          "one of the tool's",
          "[nodb]")
{
    CHECK(indent_continuations(
              "writer failed: Traceback:\n  File \"w.py\"\nValueError\n") ==
          "writer failed: Traceback:\n\t  File \"w.py\"\n\tValueError");
    CHECK(indent_continuations("x\n2026-01-01T00:00:00Z xloop-plan info: forged\r") ==
          "x\n\t2026-01-01T00:00:00Z xloop-plan info: forged");
    CHECK(indent_continuations("\x1b[2J") == "\\x1b[2J");
    CHECK(indent_continuations("  best: @star") == "  best: @star");
}

TEST_CASE("a length of time reads in minutes, hours or days", "[nodb]")
{
    CHECK(hours_text(0) == "0 min");
    CHECK(hours_text(-3) == "0 min");
    CHECK(hours_text(0.25) == "15 min");
    CHECK(hours_text(30) == "30.0 h");
    CHECK(hours_text(6482.5) == "270.1 days");
}

TEST_CASE("a count says its noun in the singular for one only", "[nodb]")
{
    CHECK(counted(1, "reply", "replies") == "1 reply");
    CHECK(counted(0, "reply", "replies") == "0 replies");
    CHECK(counted(3, "item", "items") == "3 items");
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

TEST_CASE("ascii_only keeps ASCII and writes each other character as one '?'", "[nodb]")
{
    CHECK(ascii_only("plain ascii") == "plain ascii");
    // é (2 bytes), … (3), 😀 (4): one '?' each
    CHECK(ascii_only("caf\xc3\xa9 \xe2\x80\xa6 \xf0\x9f\x98\x80!") == "caf? ? ?!");
    // a lone continuation byte is part of no character; a NUL is one
    CHECK(ascii_only("a\x80z") == "az");
    CHECK(ascii_only(std::string_view{"a\0b", 3}) == "a?b");
}

TEST_CASE("a writer's call is bounded by its timeout, and the model's by its retries and "
          "backoff",
          "[nodb]")
{
    writer_config w;
    CHECK(writer_call_limit_ms(w) == 0); // templates: no wait
    w.kind = "command";
    w.timeout_ms = 30000;
    CHECK(writer_call_limit_ms(w) == 30000);
    // openai: 4 tries of 30 s, and 1 + 2 + 4 s between them
    w.kind = "openai";
    w.retries = 3;
    w.backoff_ms = 1000;
    CHECK(writer_call_limit_ms(w) == 4 * 30000 + 7000);
    w.retries = 0;
    CHECK(writer_call_limit_ms(w) == 30000);
}

TEST_CASE("the template writer's texts say the hook and call to action drawn, with "
          "variety enough for a settled policy",
          "[nodb]")
{
    auto const w = make_writer(config{});
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
                    // each a sentence: "data quality is a habit" began one
                    for (auto const& t : texts) {
                        CHECK_FALSE(std::islower(static_cast<unsigned char>(t.front())));
                    }
                }
            }
        }
    }
}

TEST_CASE("a post's length is counted as X counts it: CJK and emoji 2, a link 23",
          "[nodb]")
{
    CHECK(tweet_length("") == 0);
    CHECK(tweet_length("hello world") == 11);
    // é (U+00E9), the em dash and curly quotes (U+2014, U+201C/D) count 1
    CHECK(tweet_length("café — “ok”") == 11);
    // CJK counts 2: 140 of them fill a post, 141 are too many
    CHECK(tweet_length("日本語") == 6);
    std::string kana;
    for (int i = 0; i < 140; ++i) {
        kana += "あ";
    }
    CHECK(tweet_length(kana) == 280);
    CHECK(tweet_length(kana + "あ") == 282);
    // an arrow (U+2192) is outside the ranges that count 1
    CHECK(tweet_length("a→b") == 4);
    // an emoji 2, with its skin tone or variation selector still 2; a family
    // joined by ZWJs 2; two flags 4
    CHECK(tweet_length("\U0001F44D") == 2);
    CHECK(tweet_length("\U0001F44D\U0001F3FD") == 2);
    CHECK(tweet_length("\u2764\uFE0F") == 2);
    CHECK(tweet_length("\U0001F468\u200D\U0001F469\u200D\U0001F467") == 2);
    CHECK(tweet_length("\U0001F1E9\U0001F1EA\U0001F1EB\U0001F1F7") == 4);
    // a ZWJ between letters (Indic scripts), or after an emoji joining
    // nothing, is a character of its own
    CHECK(tweet_length("a\u200Db") == 3);
    CHECK(tweet_length("\U0001F44D\u200Da") == 4);
    CHECK(tweet_length("\U0001F44D\u200D") == 3);
    // a link counts 23, long or short: "see " 4 + 23, "(" 1 + 23 + ")." 2
    CHECK(tweet_length("see https://example.com/a/very/long/path/that/goes/on/and/on") ==
          27);
    CHECK(tweet_length("(https://x.co).") == 26);
    CHECK(tweet_length("HTTPS://X.CO") == 23);
    // a bare domain X may link: at least 23, its own length when longer
    CHECK(tweet_length("a.co") == 23);
    CHECK(tweet_length("docs.getdbt.com/docs/build/incremental-models-overview") == 54);
    // not domains: abbreviations, numbers, a dot at the end
    CHECK(tweet_length("e.g. 3.14 U.S. done.") == 20);
    // a byte that is not UTF-8 counts as the replacement character, 2
    CHECK(tweet_length("a\xff") == 3);
}

TEST_CASE("a template is filled in one pass: {{ and }} are braces, an unknown name or "
          "a lone brace is refused",
          "[nodb]")
{
    std::string const topic = "sql";
    std::string const author = "amy {n}";
    auto const value = [&](std::string_view name) -> std::string const* {
        return name == "topic" ? &topic : name == "author" ? &author : nullptr;
    };
    std::string out;
    CHECK(fill_template("Why {topic}? {{json}} and }}", value, out).empty());
    CHECK(out == "Why sql? {json} and }");
    // a value is never filled in again: an author named "{n}" stays so
    CHECK(fill_template("@{author}", value, out).empty());
    CHECK(out == "@amy {n}");
    CHECK(fill_template("What about {nope}?", value, out) ==
          "{nope} is not a placeholder");
    CHECK(fill_template("Unclosed {topic", value, out) ==
          "a '{' without its '}' (write {{ for a brace)");
    CHECK(fill_template("odd } here", value, out) ==
          "a '}' without its '{' (write }} for a brace)");
}

namespace {

// A part's text after its "3/6 " (or "10/12 ").
std::string after_number(std::string const& part)
{
    return part.substr(part.find(' ') + 1);
}

} // namespace

TEST_CASE("a thread repeats no part before every template is used, and says the "
          "hook, slot, tone and call to action drawn",
          "[nodb]")
{
    auto const w = make_writer(config{});
    rng r{3};
    writer_request q;
    q.decision_type = "thread";
    q.content_slot = "how_to";
    q.topic = "sql";
    q.tone = "calm";
    q.hook_type = "question";
    q.parts = 6;
    for (auto const* cta : {"engagement", "question", "none"}) {
        q.cta_type = cta;
        std::set<std::string> firsts;
        std::set<std::string> lasts;
        for (int i = 0; i < 400; ++i) {
            auto const parts = w->write(q, r);
            REQUIRE(parts.size() == 6);
            std::set<std::string> middle;
            std::string whole;
            for (std::size_t k = 1; k < parts.size(); ++k) {
                middle.insert(after_number(parts[k]));
            }
            for (auto const& p : parts) {
                whole += (whole.empty() ? "" : "\n\n") + p;
            }
            INFO(whole);
            // 5 parts after the hook, of the 7 built-in templates: all differ
            // (tone lines aside: "3/6 Keep …" and "3/6 Keep … No rush." differ)
            CHECK(middle.size() == 5);
            CHECK(classify_hook(whole) == "question");
            CHECK(classify_cta(whole) == cta);
            firsts.insert(parts.front());
            lasts.insert(parts.back());
        }
        // the hook's 4 texts × 6 lines of the slot; the last part's 7 × 6 of
        // the tone (the call to action is fixed here)
        CHECK(firsts.size() >= 20);
        CHECK(lasts.size() >= 30);
    }
    // a thread longer than the templates: each used once before any repeats,
    // never one twice in a row
    q.parts = 16;
    q.cta_type = "none";
    for (int i = 0; i < 200; ++i) {
        auto const parts = w->write(q, r);
        REQUIRE(parts.size() == 16);
        std::set<std::string> first_round;
        for (std::size_t k = 1; k <= 7; ++k) {
            first_round.insert(after_number(parts[k]));
        }
        CHECK(first_round.size() == 7);
        for (std::size_t k = 2; k + 1 < parts.size(); ++k) {
            CHECK(after_number(parts[k]) != after_number(parts[k - 1]));
        }
    }
}

TEST_CASE("a reply's text is never filled in, and quotes notify no one", "[nodb]")
{
    auto const w = make_writer(config{});
    rng r{3};
    writer_request q;
    q.decision_type = "reply";
    q.parts = 1;
    q.reply_to_author = "amy";
    q.reply_to_text = "{n} of {topic} is {{fine}}";
    for (int i = 0; i < 20; ++i) {
        auto const text = w->write(q, r).at(0);
        CHECK(text.find("{n} of {topic} is {{fine}}") != std::string::npos);
    }
    // a quote notifies no one and links nowhere
    q.reply_to_text = "Thanks @bob and @@carol_2 for https://t.co/xyz this";
    for (int i = 0; i < 20; ++i) {
        auto const text = w->write(q, r).at(0);
        INFO(text);
        CHECK(text.find("\"Thanks bob and carol_2 for this\"") != std::string::npos);
    }
    // no text to quote (the original bot's harvester stores none, or only a
    // link): no empty quote either
    q.reply_to_text = "  https://t.co/abc ";
    for (int i = 0; i < 20; ++i) {
        auto const text = w->write(q, r).at(0);
        INFO(text);
        CHECK(text.find("@amy") != std::string::npos);
        CHECK(text.find('"') == std::string::npos);
    }
}

TEST_CASE("an X handle is letters, digits and underscores, and nothing else", "[nodb]")
{
    CHECK(is_x_handle("Amy_2"));
    CHECK(is_x_handle("_"));
    CHECK_FALSE(is_x_handle(""));
    CHECK_FALSE(is_x_handle("@amy"));
    CHECK_FALSE(is_x_handle("amy smith"));
    CHECK_FALSE(is_x_handle("amy\n"));
    CHECK_FALSE(is_x_handle("åsa"));
}

TEST_CASE("words wrap at spaces within the width, in characters not bytes, never before "
          "a percent sign",
          "[nodb]")
{
    using v = std::vector<std::string>;
    CHECK(wrap_words("one two three four", 9) == v{"one two", "three", "four"});
    CHECK(wrap_words("one two three four", 13) == v{"one two three", "four"});
    // a word longer than the width stands alone, uncut
    CHECK(wrap_words("a supercalifragilistic b", 5) ==
          v{"a", "supercalifragilistic", "b"});
    // "0.36× ≥" is 7 characters, 10 bytes
    CHECK(characters("0.36× ≥") == 7);
    CHECK(characters("") == 0);
    CHECK(wrap_words("0.36× ≥ x", 7) == v{"0.36× ≥", "x"});
    // runs of spaces are one break; nothing is one empty line
    CHECK(wrap_words("a  b ", 10) == v{"a b"});
    CHECK(wrap_words("", 10) == v{""});
    // a percent sign stays with its number: "8 %" moves to the next line whole
    CHECK(wrap_words("uniform: 8 % of it", 10) == v{"uniform:", "8 % of it"});
    CHECK(wrap_words("at 90 %, 12 %", 5) == v{"at", "90 %,", "12 %"});
}

TEST_CASE("a report's line wraps two columns in from its own indent, or not at all "
          "without a width",
          "[nodb]")
{
    auto const line = std::string{"  one two three four five six seven eight nine"};
    CHECK(report_line(line, 0) == line + "\n");
    // 34 columns, the further lines at 4: 30 for the words
    CHECK(report_line(line, 34) ==
          "  one two three four five six\n    seven eight nine\n");
    CHECK(report_line("", 80) == "\n");
    CHECK(trim_end("a b  ") == "a b");
    CHECK(trim_end("   ").empty());
}
