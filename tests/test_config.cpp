#include "config.hpp"
#include "config_example.hpp"
#include "error.hpp"
#include "http_client.hpp"
#include "text.hpp"

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <cstdlib> // setenv
#include <filesystem>
#include <fstream>
#include <sstream>

#include <unistd.h>

using namespace xloop;

namespace {
std::string error_of(std::string const& yaml)
{
    try {
        parse_config(yaml, "xloop.yaml");
    } catch (config_error const& e) {
        return e.what();
    }
    return "no error";
}

std::string read_text(std::string const& path)
{
    std::ifstream in{path};
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

} // namespace

TEST_CASE("no file means every default", "[nodb]")
{
    auto const c = load_config(std::nullopt);
    CHECK(c.weights.half_life_days == 60);
    CHECK(c.weights.change_window_days == 7);
    CHECK(c.weights.min_age_hours == 24);
    CHECK(c.weights.kappa == 5);
    CHECK(c.weights.epsilon == Approx(0.1));
    CHECK(c.weights.min_posts == 10);
    CHECK(c.replies.half_life_days == 30);
    CHECK(c.replies.min_age_hours == 24);
    CHECK(c.replies.window_days == 90);
    CHECK(c.metrics.attribution_window_hours == 24);
    CHECK(c.metrics.attribution_half_life_hours == 1.5);
    CHECK(c.metrics.fit_reach);
    CHECK(c.metrics.score.follow_midpoint == 25);
    CHECK(c.plan.queue_ahead == 2);
    CHECK(c.plan.writer.kind == "template");
    auto const empty = parse_config("", "empty.yaml");
    CHECK(empty.weights.window_days == 60);
}

TEST_CASE("the example config names every key with its default", "[nodb]")
{
    // Loaded strictly (an unknown or misspelt key would fail), it must equal
    // the built-in defaults: the file documents them, it changes nothing.
    auto example = load_config(std::string{XLOOP_SOURCE_DIR} + "/xloop.example.yaml");
    config defaults;
    example.source_file.clear();
    CHECK(example == defaults);
    CHECK(example.plan.times == std::vector<std::string>{"09:00", "13:00", "18:00"});
}

TEST_CASE("the shipped example config is the one the code writes from its defaults",
          "[nodb]")
{
    auto const shipped = read_text(std::string{XLOOP_SOURCE_DIR} + "/xloop.example.yaml");
    INFO("regenerate: build/bin/xloop-validate --print-default-config > "
         "xloop.example.yaml");
    CHECK(shipped == default_config_yaml());
}

TEST_CASE("the generated example config shows every key the parser reads", "[nodb]")
{
    auto const text = default_config_yaml();
    auto const keys = config_keys();
    REQUIRE(keys.size() > 60);
    CHECK(std::find(keys.begin(), keys.end(), "plan.writer.max_tries") != keys.end());
    auto sorted = keys;
    std::sort(sorted.begin(), sorted.end());
    CHECK(std::adjacent_find(sorted.begin(), sorted.end()) == sorted.end()); // each once
    for (auto const& key : keys) {
        // a key is shown as `leaf:`, or commented out as `# leaf:` where it
        // has no value by default (plan.epsilon, plan.catalogue, plan.templates)
        auto const leaf = key.substr(key.rfind('.') + 1);
        bool const shown = text.find(" " + leaf + ":") != std::string::npos ||
                           text.find("\n" + leaf + ":") != std::string::npos;
        INFO(key);
        CHECK(shown);
    }
    // Loaded strictly, it is the defaults, and every line fits a terminal.
    auto loaded = parse_config(text, "generated.yaml");
    loaded.source_file.clear();
    CHECK(loaded == config{});
    std::size_t start = 0;
    while (start < text.size()) {
        auto const end = text.find('\n', start);
        auto const line = text.substr(start, end - start);
        INFO(line);
        CHECK(characters(line) <= 100); // characters: the comments use σ, ε and −
        start = end + 1;
    }
}

TEST_CASE("values given in the file replace the defaults", "[nodb]")
{
    auto const c = parse_config("weights:\n  kappa: 8\n  dimensions: [topic, tone]\n"
                                "plan:\n  times: ['08:30', '19:00']\n  catalogue:\n"
                                "    content_slot: [myth_busting, how_to]\n",
                                "x.yaml");
    CHECK(c.weights.kappa == 8);
    CHECK(c.weights.dimensions == std::vector<std::string>{"topic", "tone"});
    CHECK(c.plan.times == std::vector<std::string>{"08:30", "19:00"});
    CHECK(c.plan.catalogue.at("content_slot").size() == 2);
    CHECK(c.weights.half_life_days == 60); // untouched keys keep their default
}

TEST_CASE("an unknown key is an error naming the file, line and key, and the key likely "
          "meant",
          "[nodb]")
{
    CHECK(error_of("weights:\n  half_life_days: 14\n  kapa: 5\n") ==
          "xloop.yaml:3: unknown key 'weights.kapa' (did you mean 'weights.kappa'?)");
    CHECK(error_of("wieghts:\n  kappa: 5\n") ==
          "xloop.yaml:1: unknown key 'wieghts' (did you mean 'weights'?)");
    CHECK(error_of("metrics:\n  score:\n    er_weigth: 0.5\n") ==
          "xloop.yaml:3: unknown key 'metrics.score.er_weigth' (did you mean "
          "'metrics.score.er_weight'?)");
    // one edit from "times", seven from "time_choice", which it starts too
    CHECK(error_of("plan:\n  time: ['09:00']\n") ==
          "xloop.yaml:2: unknown key 'plan.time' (did you mean 'plan.times'?)");
    // a key under the wrong section, or none: where that name is
    CHECK(error_of("times: ['09:00']\n") ==
          "xloop.yaml:1: unknown key 'times' (did you mean 'plan.times'?)");
    CHECK(error_of("plan:\n  window_days: 30\n") ==
          "xloop.yaml:2: unknown key 'plan.window_days' (did you mean "
          "'weights.window_days' or 'replies.window_days'?)");
    // a map whose keys are fixed
    CHECK(error_of("weights:\n  target:\n    folows: 1\n") ==
          "xloop.yaml:3: unknown key 'weights.target.folows' (did you mean "
          "'weights.target.follows'?)");
    // the same stem in another unit
    CHECK(error_of("plan:\n  writer:\n    timeout_seconds: 2\n") ==
          "xloop.yaml:3: unknown key 'plan.writer.timeout_seconds' (did you mean "
          "'plan.writer.timeout_ms'?)");
    // nothing near: no guess
    CHECK(error_of("plan:\n  zzzz: 1\n") == "xloop.yaml:2: unknown key 'plan.zzzz'");
}

TEST_CASE("an out-of-range or mistyped value names the key and line", "[nodb]")
{
    CHECK(error_of("weights:\n  target:\n    attributed_follows: 0\n    engagement_rate: "
                   "0\n    follows: 0\n    profile_clicks: 0\n    reach: 0\n") ==
          "xloop.yaml:3: 'weights.target': every component's weight is 0, so the "
          "learners would learn from nothing: give one a weight above 0");
    // one left is a target
    CHECK(error_of("weights:\n  target:\n    attributed_follows: 0\n    engagement_rate: "
                   "0\n    follows: 0\n    profile_clicks: 0\n") == "no error");
    CHECK(error_of("weights:\n  epsilon: 1.5\n") ==
          "xloop.yaml:2: 'weights.epsilon' must be between 0 and 1 (got 1.5)");
    CHECK(error_of("plan:\n  posterior_scale: 0\n") ==
          "xloop.yaml:2: 'plan.posterior_scale' must be between 0.01 and 10 (got 0)");
    CHECK(error_of("weights:\n\n  min_posts: many\n") ==
          "xloop.yaml:3: 'weights.min_posts' must be a number (got 'many')");
    CHECK(error_of("plan:\n  queue_ahead: 2.5\n").find("must be a whole number") !=
          std::string::npos);
    CHECK(error_of("plan:\n  times: ['25:00']\n") ==
          "xloop.yaml:2: 'plan.times': '25:00' is not a time of day (HH:MM)");
    // the minutes are two digits: '13:5' is 13:05 to sscanf, and may have
    // been meant as 13:50
    for (auto const* t : {"13:5", "13:500", " 9:00", "+9:00", "9:-5", "9:0x"}) {
        INFO(t);
        CHECK(error_of(fmt::format("plan:\n  times: ['{}']\n", t)) ==
              fmt::format("xloop.yaml:2: 'plan.times': '{}' is not a time of day (HH:MM)",
                          t));
    }
    // (a minute apart over midnight: a gap of one minute keeps them both)
    CHECK(
        parse_config("plan:\n  times: ['9:00', '23:59', '00:00']\n  min_gap_minutes: 1\n",
                     "x.yaml")
            .plan.times.size() == 3);
    CHECK(error_of("plan:\n  times:\n    - '09:00'\n    - '18:00'\n    - '9:00'\n") ==
          "xloop.yaml:5: 'plan.times': '9:00' is listed twice (as '09:00')");
    // plan writes single posts and threads only; a value is its canonical name
    // ('Data Nerd' is data_nerd), and one with nothing left is not dropped unsaid
    CHECK(error_of("plan:\n  catalogue:\n    topic: [sql, '--']\n") ==
          "xloop.yaml:3: 'plan.catalogue.topic': \"--\" is no name: nothing of it is "
          "left as a value");
    CHECK(error_of("plan:\n  catalogue:\n    decision_type: [single, poll]\n") ==
          "xloop.yaml:3: 'plan.catalogue.decision_type': 'poll' is no decision type plan "
          "writes: single or thread (it queues replies with --replies)");
    CHECK(error_of("plan:\n  catalogue:\n    decision_type: [reply]\n")
              .find("'reply' is no decision type plan writes") != std::string::npos);
    CHECK(error_of("plan:\n  times: ['09:00', '18:00']\n  posts_per_day: 3\n") ==
          "xloop.yaml:3: 'plan.posts_per_day' (3) is more than the 2 daily times of "
          "'plan.times': list more times, or post fewer");
    // 08:00 and 10:00 fit the default gap of 120 minutes; 09:00 does not
    CHECK(
        error_of("plan:\n  times: ['08:00', '09:00', '10:00']\n") ==
        "xloop.yaml:2: 'plan.min_gap_minutes' (120) leaves room for 2 posts a day at "
        "the times of 'plan.times' (08:00, 09:00, 10:00), not 3: space the times, lower "
        "the gap, or set 'plan.posts_per_day'");
    CHECK(
        parse_config("plan:\n  times: ['08:00', '09:00', '10:00']\n  posts_per_day: 2\n",
                     "xloop.yaml")
            .plan.posts_per_day == 2);
    // the default times 09:00, 13:00, 18:00: 4 hours between the first two
    CHECK(
        error_of("plan:\n  min_gap_minutes: 300\n") ==
        "xloop.yaml:2: 'plan.min_gap_minutes' (300) leaves room for 2 posts a day at "
        "the times of 'plan.times' (09:00, 13:00, 18:00), not 3: space the times, lower "
        "the gap, or set 'plan.posts_per_day'");
    CHECK(error_of("plan:\n  times: ['02:30', '01:30']\n") ==
          "xloop.yaml:2: 'plan.min_gap_minutes' (120) leaves room for 1 post a day at "
          "the times of 'plan.times' (02:30, 01:30), not 2: space the times, lower the "
          "gap, or set 'plan.posts_per_day'");
    // days follow each other: 23:30 and 00:30 are an hour apart, and every day
    // would drop one of them
    CHECK(error_of("plan:\n  times: ['23:30', '00:30']\n") ==
          "xloop.yaml:2: 'plan.min_gap_minutes' (120) leaves room for 1 post a day at "
          "the times of 'plan.times' (23:30, 00:30), not 2: space the times, lower the "
          "gap, or set 'plan.posts_per_day'");
    CHECK(times_apart({"23:30", "00:30"}, 60) == 2);
    CHECK(times_apart({"23:30", "00:30"}, 61) == 1);
    // 22:00 and 02:00 are 4 hours apart over midnight: with a 5-hour gap one
    // of them a day, with 00:00 too still one; with 12:00 two (02:00 and 12:00,
    // or 12:00 and 22:00), never all three
    CHECK(times_apart({"22:00", "02:00"}, 300) == 1);
    CHECK(times_apart({"22:00", "00:00", "02:00"}, 300) == 1);
    CHECK(times_apart({"22:00", "02:00", "12:00"}, 300) == 2);
    CHECK(times_apart({"09:00"}, 24 * 60) == 1);
    CHECK(times_apart({"09:00", "13:00", "18:00"}, 0) == 3);
    CHECK(times_apart({"00:00", "08:00", "16:00"}, 8 * 60) == 3);
    CHECK(times_apart({"00:00", "08:00", "16:00"}, 8 * 60 + 1) == 1);
    CHECK(
        error_of("plan:\n  writer:\n    kind: telepathy\n") ==
        "xloop.yaml:3: 'plan.writer.kind' must be one of command, openai, template (got "
        "'telepathy')");
    CHECK(error_of("weights:\n  dimensions: [topic, colour]\n") ==
          "xloop.yaml:2: 'weights.dimensions': unknown value 'colour'");
    CHECK(error_of("weights: 5\n") == "xloop.yaml:1: must be a mapping");
}

TEST_CASE("an empty model or variable name names the key and line", "[nodb]")
{
    CHECK(error_of("plan:\n  writer:\n    model: ''\n") ==
          "xloop.yaml:3: 'plan.writer.model' must not be empty");
    CHECK(error_of("plan:\n  writer:\n    key_env: ' '\n") ==
          "xloop.yaml:3: 'plan.writer.key_env' must not be empty");
    CHECK(error_of("x_api:\n  token_env: ''\n") ==
          "xloop.yaml:2: 'x_api.token_env' must not be empty");
}

TEST_CASE("a base URL that is not http(s) with a host names the key and line", "[nodb]")
{
    // each would have failed every run as an unreachable service (exit 75)
    for (auto const* bad : {"ftp://127.0.0.1:9", "127.0.0.1:9", "http//oops", "https://",
                            "http:///v1", "http://a b"}) {
        CHECK(error_of(fmt::format("x_api:\n  base_url: '{}'\n", bad)) ==
              fmt::format("xloop.yaml:2: 'x_api.base_url' must be an http:// or https:// "
                          "URL with a host (got '{}')",
                          bad));
        CHECK(error_of(fmt::format("plan:\n  writer:\n    base_url: '{}'\n", bad)) ==
              fmt::format("xloop.yaml:3: 'plan.writer.base_url' must be an http:// or "
                          "https:// URL with a host (got '{}')",
                          bad));
    }
    for (auto const* good : {"http://127.0.0.1:8080", "HTTPS://api.x.com",
                             "https://llm.example/v1?x=1", "http://[::1]:9"}) {
        auto const cfg =
            parse_config(fmt::format("x_api:\n  base_url: '{}'\n", good), "xloop.yaml");
        CHECK(cfg.x_api.base_url == good);
    }
}

TEST_CASE(
    "an X API base URL of plain http to another machine is refused: the token would "
    "cross the network unencrypted",
    "[nodb]")
{
    for (auto const* bad :
         {"http://api.x.com", "HTTP://API.X.COM:80/", "http://10.0.0.5:8080"}) {
        INFO(bad);
        CHECK_THAT(
            error_of(fmt::format("x_api:\n  base_url: '{}'\n", bad)),
            Catch::StartsWith("xloop.yaml:2: 'x_api.base_url' is plain http:// to ") &&
                Catch::Contains(": the X credentials would cross the network "
                                "unencrypted; X answers on https://api.x.com"));
    }
    CHECK_THAT(error_of("x_api:\n  base_url: 'http://api.x.com'\n"),
               Catch::Contains("plain http:// to api.x.com:"));
    // this machine's stand-ins, and a model on the network (its key is the
    // operator's to judge), are as given
    for (auto const* good : {"http://127.0.0.1:8080", "http://localhost:9/",
                             "http://[::1]:9", "https://api.x.com"}) {
        INFO(good);
        CHECK(parse_config(fmt::format("x_api:\n  base_url: '{}'\n", good), "xloop.yaml")
                  .x_api.base_url == good);
    }
    CHECK(parse_config("plan:\n  writer:\n    base_url: 'http://192.168.1.5:8000/v1'\n",
                       "xloop.yaml")
              .plan.writer.base_url == "http://192.168.1.5:8000/v1");
    CHECK(cleartext_host("http://user:pw@Example.COM:8080/x?y") == "example.com");
    CHECK(cleartext_host("http://[fe80::1]:9/") == "fe80::1");
    CHECK_FALSE(cleartext_host("http://127.1.2.3/"));
    CHECK_FALSE(cleartext_host("https://example.com/"));
}

TEST_CASE("x_api.username is an X handle, its '@' dropped, and anything else names the "
          "key and line",
          "[nodb]")
{
    CHECK(
        parse_config("x_api:\n  username: '@XLoop_bot'\n", "xloop.yaml").x_api.username ==
        "XLoop_bot");
    CHECK(parse_config("x_api:\n  username: ''\n", "xloop.yaml").x_api.username.empty());
    CHECK_FALSE(parse_config("x_api:\n  non_public_metrics: false\n", "xloop.yaml")
                    .x_api.non_public_metrics);
    for (auto const* bad : {"x loop", "@", "sixteen_letters_", "bot/../me", "émile"}) {
        CHECK(error_of(fmt::format("x_api:\n  username: '{}'\n", bad)) ==
              fmt::format("xloop.yaml:2: 'x_api.username' must be an X handle: 1 to 15 "
                          "letters, digits or '_' (got '{}')",
                          bad));
    }
}

TEST_CASE("a time zone given as an offset, which PostgreSQL reads west of UTC, names "
          "the key and line",
          "[nodb]")
{
    for (auto const* bad : {"UTC+3", "utc-05:00", "GMT+1", "+03:00", "-5", "3"}) {
        auto const e = error_of(fmt::format("plan:\n  timezone: '{}'\n", bad));
        CHECK(e.rfind(fmt::format("xloop.yaml:2: 'plan.timezone' must be a time zone's "
                                  "name, e.g. 'Europe/Moscow' (got '{}'",
                                  bad),
                      0) == 0);
    }
    CHECK_THAT(error_of("weights:\n  timezone: UTC+3\n"),
               Catch::Contains("'weights.timezone' must be a time zone's name"));
    // names, UTC itself and the tz database's own Etc/GMT-3 are names
    for (auto const* good :
         {"UTC", "Europe/Moscow", "Etc/GMT-3", "America/Argentina/Salta"}) {
        CHECK(parse_config(fmt::format("plan:\n  timezone: '{}'\n", good), "xloop.yaml")
                  .plan.timezone == good);
    }
}

TEST_CASE("broken YAML is reported with its line", "[nodb]")
{
    CHECK(error_of("weights:\n  kappa: [1, 2\n").rfind("xloop.yaml:", 0) == 0);
    CHECK(error_of("weights:\n  kappa: [1, 2\n").find("not valid YAML") !=
          std::string::npos);
}

TEST_CASE("YAML nested past the parser's depth is named as such, not a crash", "[nodb]")
{
    // 2000 levels: a stack no run should grow for a config
    auto const e = error_of("plan:\n  times: " + std::string(2000, '[') +
                            std::string(2000, ']') + "\n");
    CHECK(e == "xloop.yaml:2: not valid YAML: lists or mappings nested deeper than "
               "the parser takes");
}

TEST_CASE("aliases of aliases (a billion laughs) are checked once each, not walked "
          "10^12 times",
          "[nodb]")
{
    // twelve lines, each a list of ten of the line before: 10^12 nodes named,
    // 120 written (walking every named one took 31 s at nine lines)
    std::string yaml = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n";
    for (int i = 1; i < 12; ++i) {
        yaml += fmt::format("a{0}: &a{0} [", i);
        for (int j = 0; j < 10; ++j) {
            yaml += fmt::format("{}*a{}", j == 0 ? "" : ", ", i - 1);
        }
        yaml += "]\n";
    }
    CHECK(error_of(yaml).rfind("xloop.yaml:1: unknown key 'a0'", 0) == 0);
    // what an anchor wrote is still checked, once
    CHECK(error_of("weights: &w {kappa: 1, kappa: 2}\nplan: *w\n") ==
          "xloop.yaml:1: duplicate key 'weights.kappa'");
    // and an alias of a value is that value
    auto const cfg =
        parse_config("weights:\n  timezone: &tz Europe/Berlin\nplan:\n  timezone: *tz\n",
                     "xloop.yaml");
    CHECK(cfg.plan.timezone == "Europe/Berlin");
    CHECK(cfg.weights.timezone == "Europe/Berlin");
}

TEST_CASE("a tab in the indentation is named with its line", "[nodb]")
{
    auto const e = error_of("plan:\n  queue_ahead: 4\n\ttimes: ['09:00']\n");
    CHECK(e.find("not valid YAML") != std::string::npos);
    CHECK(e.find("line 3 is indented with a tab") != std::string::npos);
    // a tab inside a value, or broken YAML without one, gets no such hint
    CHECK(error_of("weights:\n  kappa: [1,\t2\n").find("tab") == std::string::npos);
}

TEST_CASE("a missing config file is a configuration error", "[nodb]")
{
    CHECK_THROWS_AS(load_config(std::string{"/nonexistent/xloop.yaml"}), config_error);
}

TEST_CASE("a config file past 1 MiB (a log, /dev/zero) is refused, never read whole",
          "[nodb]")
{
    // /dev/zero has no end: read whole, it took every byte of memory
    CHECK_THROWS_WITH(load_config(std::string{"/dev/zero"}),
                      "config file '/dev/zero' is larger than 1 MiB: not a config file");
    auto const path = std::filesystem::temp_directory_path() /
                      fmt::format("xloop-test-config-{}.yaml", ::getpid());
    // 1 MiB of comments and a key: read
    std::string text = "plan:\n  queue_ahead: 5\n";
    text += "#" + std::string((1 << 20) - text.size() - 2, 'x') + "\n";
    REQUIRE(text.size() == 1 << 20);
    std::ofstream{path, std::ios::binary} << text;
    CHECK(load_config(path.string()).plan.queue_ahead == 5);
    // a byte more: refused
    std::ofstream{path, std::ios::binary | std::ios::app} << "\n";
    CHECK_THROWS_AS(load_config(path.string()), config_error);
    std::filesystem::remove(path);
}

TEST_CASE("a repeated key, an empty list or a fractional count is an error naming the "
          "line and key",
          "[nodb]")
{
    CHECK(error_of("weights:\n  kappa: 5\n  kappa: 6\n") ==
          "xloop.yaml:3: duplicate key 'weights.kappa'");
    CHECK(error_of("plan:\n  times: []\n") ==
          "xloop.yaml:2: 'plan.times' must not be empty");
    CHECK(error_of("metrics:\n  due_ages_hours: []\n") ==
          "xloop.yaml:2: 'metrics.due_ages_hours' must not be empty");
    CHECK(error_of("plan:\n  thread_min_parts: 2.5\n")
              .rfind("xloop.yaml:2: 'plan.thread_min_parts' must be a whole number", 0) ==
          0);
    // a key that is itself a list, or a list where a number belongs
    CHECK(error_of("? [a, b]\n: 1\n") ==
          "xloop.yaml:1: a key at the top level is not a plain name");
    CHECK(error_of("weights:\n  kappa: {a: 1}\n") ==
          "xloop.yaml:2: 'weights.kappa' must be a number");
}

TEST_CASE("a field, dimension or age listed twice is an error naming its line", "[nodb]")
{
    // likes twice was counted twice in every engagement rate
    CHECK(error_of("metrics:\n  engagement_fields:\n    - likes\n    - replies\n    - "
                   "likes\n") ==
          "xloop.yaml:5: 'metrics.engagement_fields' lists 'likes' twice");
    CHECK(error_of("weights:\n  dimensions: [topic, tone, topic]\n") ==
          "xloop.yaml:2: 'weights.dimensions' lists 'topic' twice");
    CHECK(error_of("metrics:\n  due_ages_hours: [1, 24, 24.0]\n") ==
          "xloop.yaml:2: 'metrics.due_ages_hours' lists 24.0 twice");
    // a command's arguments may repeat
    CHECK(parse_config("plan:\n  writer:\n    command: [echo, a, a]\n", "xloop.yaml")
              .plan.writer.command.size() == 3);
}

TEST_CASE("a template with an unknown placeholder or a lone brace, or for no hook "
          "type, is an error naming its line",
          "[nodb]")
{
    CHECK(error_of("plan:\n  templates:\n    question: [\"Why {topic}?\", \"What about "
                   "{nope}?\"]\n") ==
          "xloop.yaml:3: 'plan.templates.question': {nope} is not a placeholder (they "
          "are {topic}, {tone}, {author}, {excerpt}, {i}, {n})");
    CHECK(error_of("plan:\n  templates:\n    question:\n      - \"Unclosed {topic\"\n") ==
          "xloop.yaml:4: 'plan.templates.question': a '{' without its '}' (write {{ for "
          "a brace)");
    CHECK(error_of("plan:\n  templates:\n    nohook: [\"x\"]\n") ==
          "xloop.yaml:3: 'plan.templates.nohook': no hook_type of that name in "
          "plan.catalogue.hook_type (question, statistic, contrarian, story, reveal, "
          "statement); templates are by hook_type, or reply or thread");
    // a hook of the operator's catalogue, named as they like; braces doubled
    auto const c = parse_config("plan:\n  catalogue:\n    hook_type: [hot_list]\n"
                                "  templates:\n    Hot List: [\"{{top}} {topic}\"]\n"
                                "    reply: [\"@{author}\"]\n    thread: [\"{i}/{n}\"]\n",
                                "xloop.yaml");
    CHECK(c.plan.templates.at("Hot List") == std::vector<std::string>{"{{top}} {topic}"});
}

TEST_CASE("a config file that cannot be opened is an error that says why", "[nodb]")
{
    try {
        load_config(std::string{"/nonexistent/xloop.yaml"});
        FAIL("no error");
    } catch (config_error const& e) {
        CHECK(std::string{e.what()} ==
              "cannot read config file '/nonexistent/xloop.yaml': "
              "No such file or directory");
    }
}

TEST_CASE("a directory given as the config file is a configuration error", "[nodb]")
{
    try {
        load_config(std::string{"/tmp"});
        FAIL("no error");
    } catch (config_error const& e) {
        CHECK(std::string{e.what()} == "config file '/tmp' is a directory");
    }
}

TEST_CASE("a secret with a space or a control character is refused by kind and place, "
          "never shown",
          "[nodb]")
{
    struct odd_secret {
        char const* value;
        char const* says;
    };
    for (auto const& [value, says] :
         {odd_secret{"t0ken-s3cret\r",
                     "holds a carriage return (a file with Windows line "
                     "endings?) at its end"},
          odd_secret{" t0ken-s3cret", "holds a space at its start"},
          odd_secret{"t0ken\n-s3cret", "holds a line break inside it"},
          odd_secret{"t0ken-s3cret\x7f", "holds a control character at its end"},
          odd_secret{"\"t0ken-s3cret\"",
                     "holds a quote mark (quotes around the value "
                     "in its file, kept as part of it?) at its start"},
          odd_secret{"t0ken-'s3cret", "holds a quote mark"}}) {
        ::setenv("XLOOP_TEST_SECRET", value, 1);
        std::string msg;
        try {
            secret_from_env("x_api.token_env", "XLOOP_TEST_SECRET",
                            "the X API bearer token");
        } catch (config_error const& e) {
            msg = e.what();
        }
        INFO(msg);
        CHECK_THAT(msg,
                   Catch::StartsWith("x_api.token_env: the environment variable "
                                     "XLOOP_TEST_SECRET ") &&
                       Catch::Contains(says) &&
                       Catch::EndsWith("the X API bearer token never does; remove it") &&
                       !Catch::Contains("s3cret"));
    }
    // pasted with its header's word, as a curl example writes it
    ::setenv("XLOOP_TEST_SECRET", "Bearer AAAAt0ken-s3cret", 1);
    try {
        secret_from_env("x_api.token_env", "XLOOP_TEST_SECRET", "the X API bearer token");
        FAIL("accepted");
    } catch (config_error const& e) {
        CHECK(std::string{e.what()} ==
              "x_api.token_env: the environment variable XLOOP_TEST_SECRET holds a space "
              "inside it: the X API bearer token never does; remove the word 'Bearer ' "
              "before it (the tools write it themselves)");
    }
    ::setenv("XLOOP_TEST_SECRET", "AAAA%2Bt0ken%3Ds3cret", 1);
    CHECK(secret_from_env("x_api.token_env", "XLOOP_TEST_SECRET", "a token") ==
          "AAAA%2Bt0ken%3Ds3cret");
    ::unsetenv("XLOOP_TEST_SECRET");
}
