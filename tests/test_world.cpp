// The simulator's world model (sim/world.hpp): world files are checked as
// strictly as the config, and the expected values the learning benchmark
// scores against are worked out by hand here.

#include "error.hpp"
#include "test_db_fixture.hpp"
#include "world.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <fstream>
#include <map>

using namespace xloop;
using namespace xloop::sim;

namespace {

std::filesystem::path write_world(std::string const& text)
{
    static int n = 0;
    auto const p = std::filesystem::temp_directory_path() /
                   ("xloop-test-world-" + std::to_string(::getpid()) + "-" +
                    std::to_string(++n) + ".yaml");
    std::ofstream{p} << text;
    return p;
}

std::string error_of(std::string const& text)
{
    auto const p = write_world(text);
    try {
        load_world(p);
    } catch (config_error const& e) {
        std::filesystem::remove(p);
        return e.what();
    }
    std::filesystem::remove(p);
    return "no error";
}

} // namespace

TEST_CASE("every shipped world and every held-out world of the benchmark loads",
          "[world]")
{
    std::map<std::string, int> n;
    for (std::string const dir : {"/sim/worlds", "/bench/learning/worlds"}) {
        for (auto const& f :
             std::filesystem::directory_iterator{XLOOP_SOURCE_DIR + dir}) {
            INFO(f.path());
            auto const w = load_world(f.path());
            CHECK(w.name == f.path().stem().string());
            CHECK_FALSE(w.effects.empty());
            CHECK(oracle_follows(w, 0) > uniform_follows(w, 0));
            ++n[dir];
        }
    }
    CHECK(n["/sim/worlds"] >= 4);
    CHECK(n["/bench/learning/worlds"] >= 4);
}

TEST_CASE("a world file's mistakes are errors naming file, line and key", "[world]")
{
    CHECK_THAT(error_of("effects:\n  content_slot:\n    how_too: {follows: 1.5}\n"),
               Catch::Contains(":3:") &&
                   Catch::EndsWith("'effects.content_slot.how_too': not a value plan "
                                   "draws (did you mean 'how_to'?)"));
    CHECK_THAT(
        error_of("effects:\n  colour: {red: {follows: 1.5}}\n"),
        Catch::Contains(":2:") &&
            Catch::EndsWith("'effects.colour': not a dimension the planner draws"));
    CHECK_THAT(error_of("effects:\n  hook: {question: {follows: 1.5}}\n"),
               Catch::EndsWith("not a dimension the planner draws (did you mean "
                               "'hook_type'?)"));
    CHECK_THAT(error_of("noise: {reach_sigma: 0.5, sigma: 1}\n"),
               Catch::Contains("unknown key 'noise.sigma'"));
    CHECK_THAT(error_of("noise: {reach_sigmaa: 0.5}\n"),
               Catch::EndsWith("unknown key 'noise.reach_sigmaa' (did you mean "
                               "'noise.reach_sigma'?)"));
    CHECK_THAT(error_of("posts_per_day: 2.5\n"), Catch::Contains("must be an integer"));
    CHECK_THAT(error_of("posts_per_day: 4\ntimes: [\"08:00\", \"12:00\"]\n"),
               Catch::Contains("more than the 2 times"));
    // 08:00, 09:00 and 10:00 fit twice at the simulator's 90 minutes apart
    CHECK_THAT(
        error_of("posts_per_day: 3\ntimes: [\"08:00\", \"09:00\", \"10:00\"]\n"),
        Catch::Contains("posts_per_day (3) needs that many times 90 minutes apart") &&
            Catch::Contains("these times give 2"));
    // times parsed as plan.times are (12:99 was taken for 12:00)
    CHECK_THAT(error_of("times: [\"12:99\"]\n"),
               Catch::Contains("'times': '12:99' is not \"HH:MM\""));
    CHECK_THAT(error_of("change: {day: 30}\n"), Catch::Contains("needs both"));
    CHECK_THAT(error_of("poster_every_minutes: 7\n"),
               Catch::Contains(":1:") && Catch::Contains("must divide 60, not 7"));
    CHECK_THAT(error_of("replies: {accounts: 5, effects: {account_9: {follows: 1.5}}}\n"),
               Catch::Contains("account_1 … account_5"));
}

TEST_CASE("a world whose best value is worth more than twice the median is refused",
          "[world]")
{
    // Six slots: how_to at 2.1 against a median of 1 (reach x follows).
    CHECK_THAT(
        error_of("effects:\n  content_slot:\n    how_to: {reach: 1.5, follows: 1.4}\n"),
        Catch::Contains(":2:") && Catch::Contains("'content_slot'") &&
            Catch::Contains("follows effect is 2.10"));
    // 2.0 exactly is allowed.
    CHECK(error_of("effects:\n  content_slot:\n    how_to: {follows: 2}\n") ==
          "no error");
}

TEST_CASE("uniform and oracle follows are the catalogue's means and bests", "[world]")
{
    auto const p = write_world(
        "posts_per_day: 2\n"
        "times: [\"08:00\", \"12:00\", \"18:00\"]\n"
        "base: {impressions: 1000, engagement_rate: 0.02, follows_per_1000: 5}\n"
        "effects:\n"
        "  decision_type:\n    thread: {reach: 1.2, follows: 1.5}\n"
        "  post_hour:\n    \"18\": {reach: 1.5}\n    \"08\": {reach: 0.9}\n");
    auto const w = load_world(p);
    std::filesystem::remove(p);
    // Base: 1000 impressions x 5/1000 = 5 follows. decision_type: single 1,
    // thread 1.2 x 1.5 = 1.8, mean 1.4, best 1.8. post_hour over 08, 12, 18:
    // 0.9, 1, 1.5, mean 3.4/3; the oracle's two posts a day take 18 and 12:
    // mean 1.25.
    CHECK(uniform_follows(w, 0) == Approx(5 * 1.4 * 3.4 / 3));
    CHECK(oracle_follows(w, 0) == Approx(5 * 1.8 * 1.25));
    auto const e =
        expected_post(w, {{"decision_type", "thread"}, {"post_hour", "18"}}, 0);
    CHECK(e.impressions == Approx(1000 * 1.2 * 1.5));
    CHECK(e.follows == Approx(1800 / 1000.0 * 5 * 1.5));
    CHECK(e.engagement_rate == Approx(0.02));
    auto const best = best_values(w, 0);
    CHECK(best.at("decision_type") == "thread");
    CHECK(best.at("post_hour") == "18");
}

TEST_CASE("a poster on its own cron posts a time at its next run, and the world's hours "
          "are the ones its posts go out at",
          "[world]")
{
    auto const p = write_world("posts_per_day: 2\n"
                               "times: [\"07:45\", \"17:45\", \"23:45\"]\n"
                               "poster_every_minutes: 30\n"
                               "effects:\n  post_hour:\n    \"18\": {reach: 1.5}\n");
    auto const w = load_world(p);
    std::filesystem::remove(p);
    CHECK(posted_hour(w, "17:45") == "18");
    CHECK(posted_hour(w, "17:30") == "17"); // a run at :30
    CHECK(posted_hour(w, "23:45") == "00"); // the next day's first run
    CHECK(world_catalogue(w).at("post_hour") ==
          std::vector<std::string>{"08", "18", "00"});
    CHECK(best_values(w, 0).at("post_hour") == "18");
    // 18's 1.5 counts for the oracle's two posts a day: 18 and one at 1
    CHECK(oracle_follows(w, 0) / uniform_follows(w, 0) == Approx(1.25 / (3.5 / 3)));
}

TEST_CASE("a world's half-life front-loads a post's reach and follows, and without it "
          "follows come evenly over the first day",
          "[world]")
{
    auto const p = write_world("half_life_hours: 2\n");
    auto const w = load_world(p);
    std::filesystem::remove(p);
    CHECK(grown_share(w, 2, true) == Approx(0.5));
    CHECK(grown_share(w, 4, false) == Approx(0.75));
    CHECK(grown_share(w, 0, true) == 0);
    world_spec const even;
    CHECK(grown_share(even, 6, true) == Approx(0.25));
    CHECK(grown_share(even, 30, true) == 1);
    CHECK(grown_share(even, 8, false) == Approx(1 - std::exp(-1.0)));
    CHECK_THAT(error_of("half_life_hours: 0\n"), Catch::Contains("half_life_hours"));
}

TEST_CASE("a world's change takes effect on its day", "[world]")
{
    auto const w = load_world(XLOOP_SOURCE_DIR "/sim/worlds/drift.yaml");
    REQUIRE(w.change_day == 30);
    CHECK(best_values(w, 29.9).at("content_slot") == "how_to");
    CHECK(best_values(w, 30).at("content_slot") == "case_study");
    // Dimensions the change does not name keep their effects.
    CHECK(best_values(w, 45).at("hook_type") == "question");
}

TEST_CASE("the world's noise has mean one and is the same for the same post", "[world]")
{
    world_spec w; // defaults: reach sigma 0.6
    expectation const e{1000, 0.03, 4};
    double sum = 0;
    int const n = 20000;
    for (int i = 0; i < n; ++i) {
        sum += realised(w, e, 7, std::to_string(i)).impressions;
    }
    CHECK(sum / n == Approx(1000).epsilon(0.03));
    CHECK(realised(w, e, 7, "42").follows == realised(w, e, 7, "42").follows);
    CHECK(realised(w, e, 7, "42").follows != realised(w, e, 8, "42").follows);
    // Drift: the mean per day, and a day's share of it within the day.
    world_spec calm;
    calm.drift_per_day = 3;
    calm.drift_sd_per_day = 0;
    CHECK(drift(calm, 1, 10) == Approx(30));
    CHECK(drift(calm, 1, 2.5) == Approx(7.5));
}
