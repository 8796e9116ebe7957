// The learning target, decaying exploration and the posting calendar
// (DESIGN §5.5, §5.6), with values worked out by hand.

#include "calendar.hpp"
#include "db.hpp"
#include "learning_target.hpp"
#include "sampling.hpp"
#include "weighting.hpp"

#include <catch2/catch.hpp>

#include <cmath>

using namespace xloop;

TEST_CASE("the learning target averages standardised components by weight")
{
    target_scales scales;
    scales[0] = {0.02, 0.01}; // engagement rate
    scales[1] = {7.0, 0.5};   // ln(1 + impressions)
    scales[2] = {1.0, 0.0};   // profile clicks do not vary: left out
    scales[3] = {1.0, 1.0};   // follows
    scales[4] = {5.0, 10.0};  // attributed follows
    auto const c = target_weights({{"engagement_rate", 1},
                                   {"reach", 1},
                                   {"profile_clicks", 0.5},
                                   {"follows", 2},
                                   {"attributed_follows", 1}});
    outcome_components x{0.04, 7.25, 3.0, std::nullopt, 15.0};
    // z: er 2, reach 0.5, follows missing → 0 (weight still counted), attributed 1
    // (1·2 + 1·0.5 + 2·0 + 1·1) / (1 + 1 + 2 + 1) = 3.5 / 5 = 0.7
    CHECK(*learning_target(x, scales, c) == Approx(0.7));
    // a row with no usable component has no target
    CHECK_FALSE(learning_target({}, scales, c));
    // a component weighted 0 is ignored: er alone → z = 2
    CHECK(*learning_target(x, scales, target_weights({{"engagement_rate", 1}})) ==
          Approx(2.0));
}

TEST_CASE("attributed follows count as far as their confidence: a gain measured across a "
          "gap is the mean, not 0 follows")
{
    target_scales scales;
    scales[1] = {7.0, 0.5}; // reach
    scales[4] = {8.0, 4.0}; // attributed follows (the gain)
    auto const c = target_weights({{"reach", 1}, {"attributed_follows", 1}});
    // a gain of 16 at confidence 0.5: z = 0.5·(16 − 8)/4 = 1; reach z = 1;
    // y = (1 + 1)/2 = 1 (gain × confidence, 8, would have made z 0)
    outcome_components half;
    half[1] = 7.5;
    half[4] = 16.0;
    half.attributed_confidence = 0.5;
    CHECK(*learning_target(half, scales, c) == Approx(1.0));
    // confidence 0: the gain is not counted (the mean, z = 0), whatever it
    // is; reach z = −2: y = (−2 + 0)/2 = −1
    outcome_components none;
    none[1] = 6.0;
    none[4] = 40.0;
    none.attributed_confidence = 0;
    CHECK(none.presence(4) == 0);
    CHECK(none.presence(1) == 1);
    CHECK(*learning_target(none, scales, c) == Approx(-1.0));
    // with nothing else, a row of an unmeasured gain has no target
    outcome_components only_gain;
    only_gain[4] = 40.0;
    only_gain.attributed_confidence = 0;
    CHECK_FALSE(learning_target(only_gain, scales, c));
    // the sums weigh it the same way: Σw·y = 2·1 + 1·(−1) = 1, and
    // Σw·y² = 2·1 + 1·1 = 3
    target_sums sums;
    sums.add(2, half);
    sums.add(1, none);
    auto const g = sums.stats(scales, c);
    CHECK(g.sum_wy == Approx(1.0));
    CHECK(g.sum_wy2 == Approx(3.0));
    target_mean_sums means;
    means.add(2, half);
    means.add(1, none);
    CHECK(means.stats(scales, c).sum_wy == Approx(1.0));
    // the scales count a gain where it has any confidence, unweighted:
    // 16 and 4 (40 at confidence 0 left out): mean 10, sd 6
    scale_sums s;
    s.add(half);
    s.add(none);
    outcome_components full;
    full[4] = 4.0;
    s.add(full);
    CHECK(s.scales()[4].mean == Approx(10.0));
    CHECK(s.scales()[4].sd == Approx(6.0));
}

TEST_CASE("exploration shrinks as a dimension gathers evidence")
{
    CHECK(decayed_epsilon(0.1, 30, 0) == Approx(0.1));
    CHECK(decayed_epsilon(0.1, 30, 30) == Approx(0.05));  // 0.1·30/60
    CHECK(decayed_epsilon(0.1, 30, 90) == Approx(0.025)); // 0.1·30/120
    CHECK(decayed_epsilon(0.1, 0, 1000) == Approx(0.1));  // no decay configured
}

namespace {
std::vector<calendar_slot> day_of(std::string const& day, std::vector<int> hours)
{
    std::vector<calendar_slot> out;
    for (int h : hours) {
        auto const at = *parse_timestamp(fmt::format("{}T{:02d}:00:00Z", day, h));
        out.push_back({{at, at}, fmt::format("{:02d}", h), day}); // in UTC
    }
    return out;
}
std::vector<std::string> hours_of(std::vector<calendar_slot> const& slots)
{
    std::vector<std::string> out;
    for (auto const& s : slots) {
        out.push_back(s.hour);
    }
    return out;
}
} // namespace

std::vector<std::string> hours_at(std::vector<calendar_slot> const& slots,
                                  std::vector<std::size_t> const& indices)
{
    std::vector<std::string> out;
    for (auto i : indices) {
        out.push_back(slots[i].hour);
    }
    return out;
}

TEST_CASE("every configured time gets a post unless posts_per_day asks for fewer")
{
    auto const gap = std::chrono::minutes{90};
    SECTION("three times, no posts_per_day: every time of the day, the earliest first")
    {
        auto occ = day_of("2026-03-01", {9, 13, 18});
        auto const next = day_of("2026-03-02", {9, 13, 18});
        occ.insert(occ.end(), next.begin(), next.end());
        auto const day = next_post_day(occ, std::nullopt, gap, 0, 3, {});
        CHECK(hours_of(day.slots) == std::vector<std::string>{"09", "13", "18"});
        CHECK(day.room == 3);
        // all three get a post whatever post_hour says
        CHECK(best_times(day.slots, day.room, gap, {5, 0, 1}) ==
              std::vector<std::size_t>{0, 1, 2});
        // after 13:00 the next is 18:00 the same day, never tomorrow's 09:00
        auto const rest = next_post_day(occ, occ[1], gap, 0, 3, {{"2026-03-01", 2}});
        CHECK(hours_of(rest.slots) == std::vector<std::string>{"18"});
        CHECK(rest.room == 1);
    }
    SECTION("eight times, three posts a day: the day's free times and its room")
    {
        auto occ = day_of("2026-03-01", {8, 10, 12, 14, 16, 18, 20, 22});
        auto const next = day_of("2026-03-02", {8, 10, 12, 14, 16, 18, 20, 22});
        occ.insert(occ.end(), next.begin(), next.end());
        CHECK(next_post_day(occ, std::nullopt, gap, 3, 8, {}).slots.size() == 8);
        // one at 18:00, two to go: 20:00 and 22:00 are all that is left
        auto const rest = next_post_day(occ, occ[5], gap, 3, 8, {{"2026-03-01", 1}});
        CHECK(hours_of(rest.slots) == std::vector<std::string>{"20", "22"});
        CHECK(rest.room == 2);
        // the day is full: tomorrow, all eight times again
        auto const full = next_post_day(occ, occ[7], gap, 3, 8, {{"2026-03-01", 3}});
        CHECK(full.slots.front().day == "2026-03-02");
        CHECK(full.room == 3);
        // no occurrence left with room: nothing
        CHECK(next_post_day(occ, occ[15], gap, 3, 8, {{"2026-03-02", 3}}).slots.empty());
    }
}

TEST_CASE("with no minimum gap, the time of the last post is not free again")
{
    // plan.min_gap_minutes: 0 allows two times a minute apart, never one
    // instant for two posts
    auto const none = std::chrono::minutes{0};
    auto occ = day_of("2026-03-01", {2, 9});
    auto const next = day_of("2026-03-02", {2, 9});
    occ.insert(occ.end(), next.begin(), next.end());
    // 02:00 on the 2nd taken, one post to go that day: 09:00 alone
    auto const rest = next_post_day(occ, occ[2], none, 0, 2, {{"2026-03-02", 1}});
    CHECK(hours_of(rest.slots) == std::vector<std::string>{"09"});
    CHECK(rest.room == 1);
}

TEST_CASE("a day's posts take the times whose values sum highest, gap apart")
{
    auto const occ = day_of("2026-03-01", {8, 10, 12, 14, 16, 18, 20, 22});
    SECTION("times 2 h apart, a 90-minute gap: any three, so the three best")
    {
        CHECK(hours_at(occ, best_times(occ, 3, std::chrono::minutes{90},
                                       {0, 1, 10, 2, 3, 9, 4, 8})) ==
              std::vector<std::string>{"12", "18", "22"});
    }
    SECTION("a 150-minute gap: no two neighbours")
    {
        // 12:00 + 14:00 + 18:00 = 27 is not allowed; 12 + 16 (+ one at 0) = 18
        // beats 14 + any two others (9 + 0 + 0); of the zeros the earliest: 08:00
        CHECK(hours_at(occ, best_times(occ, 3, std::chrono::minutes{150},
                                       {0, 0, 10, 9, 8, 0, 0, 0})) ==
              std::vector<std::string>{"08", "12", "16"});
    }
    SECTION("a 5-hour gap: only three fit, whatever the room")
    {
        CHECK(hours_at(occ, best_times(occ, 4, std::chrono::hours{5},
                                       {1, 1, 1, 1, 1, 1, 1, 1})) ==
              std::vector<std::string>{"08", "14", "20"});
    }
}

TEST_CASE("post_hour sends a day's posts to its best times, not only the best one")
{
    auto const gap = std::chrono::minutes{90};
    auto const occ = day_of("2026-03-01", {8, 10, 12, 14, 16, 18, 20, 22});
    // 12:00, 18:00 and 22:00 clearly best; 12:00 the best of them
    std::vector<normal_belief> arms(8, normal_belief{0, 0.01});
    arms[2].mean = 10;
    arms[5].mean = 9;
    arms[7].mean = 8;
    SECTION("settled beliefs, no exploration: 12:00, then 18:00, then 22:00")
    {
        rng r{7};
        post_day day{occ, 3};
        auto const first = draw_post_time(day, gap, &arms, 0, r);
        CHECK(occ[first.index].hour == "12");
        CHECK(first.propensity == Approx(1.0));
        // the next post's day: after 12:00, two to go
        post_day rest{{occ.begin() + 3, occ.end()}, 2};
        std::vector<normal_belief> rest_arms{arms.begin() + 3, arms.end()};
        auto const second = draw_post_time(rest, gap, &rest_arms, 0, r);
        CHECK(rest.slots[second.index].hour == "18");
    }
    SECTION("with ε = 0.3 a random set is drawn: P(12:00) = 0.7 + 0.3·C(5,2)/C(8,3)")
    {
        // a random three of eight has 12:00 as its earliest when it holds 12:00
        // and two of the five later times: 10 of 56 sets
        double const expected = 0.7 + 0.3 * 10.0 / 56.0; // 0.7536
        rng r{11};
        int twelve = 0;
        double propensity = 0;
        for (int i = 0; i < 400; ++i) {
            auto const t = draw_post_time({occ, 3}, gap, &arms, 0.3, r, 4000);
            if (occ[t.index].hour == "12") {
                ++twelve;
                propensity = t.propensity;
            }
        }
        CHECK(propensity == Approx(expected).margin(0.02));
        CHECK(twelve / 400.0 == Approx(expected).margin(0.07));
    }
    SECTION("without a map every time's chance comes from a random set")
    {
        // 08:00 is the earliest of a random three in C(7,2) = 21 of 56 sets
        rng r{3};
        double propensity = 0;
        for (int i = 0; i < 200 && propensity == 0; ++i) {
            auto const t = draw_post_time({occ, 3}, gap, nullptr, 0, r, 4000);
            if (t.index == 0) {
                propensity = t.propensity;
            }
        }
        CHECK(propensity == Approx(21.0 / 56.0).margin(0.02));
    }
}

TEST_CASE("a text array parameter quotes and escapes every element")
{
    CHECK(*to_param(std::vector<std::string>{"09:00", "a\"b", "c\\d", ""}) ==
          R"({"09:00","a\"b","c\\d",""})");
    CHECK(*to_param(std::vector<double>{1, 6, 2.5}) == "{1,6,2.5}");
}

TEST_CASE("a quoted literal doubles quotes and escapes backslashes")
{
    CHECK(quote_literal("2026-03-02T12:00:00Z") == "'2026-03-02T12:00:00Z'");
    CHECK(quote_literal("it's") == "'it''s'");
    CHECK(quote_literal("a\\b") == "E'a\\\\b'");
}

TEST_CASE("one pass of sums gives the same moments as the targets row by row")
{
    // Rows with gaps, recency weights and a component that never varies; the
    // group's Σw·y and Σw·y² from the sums against adding each row's y.
    rng r{5};
    auto const c = target_weights({{"engagement_rate", 1},
                                   {"reach", 1},
                                   {"profile_clicks", 0.5},
                                   {"follows", 2},
                                   {"attributed_follows", 1}});
    std::vector<std::pair<double, outcome_components>> rows;
    scale_sums all;
    for (int i = 0; i < 200; ++i) {
        outcome_components x;
        x[0] = 0.01 + 0.05 * r.uniform();
        x[1] = 6 + r.normal();
        if (i % 3 != 0) {
            x[2] = 2.0; // never varies: left out
        }
        if (i % 4 == 0) {
            x[3] = std::floor(5 * r.uniform());
        }
        if (i % 5 != 0) {
            x[4] = 10 * r.normal();
            // attributed follows at every confidence, 0 on some rows
            x.attributed_confidence = i % 7 == 0 ? 0.0 : r.uniform();
        }
        x[5] = r.uniform(); // the score: weight 0 here
        all.add(x);
        rows.emplace_back(std::exp2(-i / 50.0), x);
    }
    auto const scales = all.scales();
    CHECK(scales[2].sd == 0);
    target_sums sums;
    group_stats direct;
    for (auto const& [w, x] : rows) {
        if (auto const y = learning_target(x, scales, c)) {
            direct.add(w, *y);
            sums.add(w, x);
        }
    }
    auto const g = sums.stats(scales, c);
    CHECK(g.n == direct.n);
    CHECK(g.sum_w == Approx(direct.sum_w));
    CHECK(g.sum_wy == Approx(direct.sum_wy).margin(1e-9));
    CHECK(g.sum_wy2 == Approx(direct.sum_wy2));
    // split by component: the same rows, parts whose y's add up to the target
    auto const parts = sums.component_stats(scales, c);
    REQUIRE(parts.size() == target_component_count);
    double sum_wy = 0;
    for (auto const& part : parts) {
        CHECK(part.n == direct.n);
        CHECK(part.sum_w == Approx(direct.sum_w));
        sum_wy += part.sum_wy;
    }
    CHECK(sum_wy == Approx(direct.sum_wy).margin(1e-9));
    CHECK(parts[2].sum_wy == 0); // never varies
    CHECK(parts[5].sum_wy == 0); // not weighed
    // one part alone: the target of that component's weight only
    target_sums s1;
    group_stats reach_only;
    auto const only_reach = target_weights({{"reach", 1}});
    for (auto const& [w, x] : rows) {
        s1.add(w, x);
        reach_only.add(w, *learning_target(x, scales, only_reach));
    }
    // c_reach/C = 1/5 of the reach-only target (C = 1 + 1 + 2 + 1: profile
    // clicks do not vary)
    CHECK(parts[1].sum_wy * 5 == Approx(reach_only.sum_wy).margin(1e-9));
    CHECK(parts[1].sum_wy2 * 25 == Approx(reach_only.sum_wy2));
    // the score alone is taken as it is
    auto const score = target_weights({{"primary_objective_score", 1}});
    target_sums s2;
    group_stats d2;
    for (auto const& [w, x] : rows) {
        s2.add(w, x);
        d2.add(w, *x[5]);
    }
    CHECK(s2.stats(scales, score).sum_wy == Approx(d2.sum_wy));
    CHECK(s2.stats(scales, score).sum_wy2 == Approx(d2.sum_wy2));
}

TEST_CASE("the mean sums of a stratum give its weights and Σw·y as the targets would")
{
    target_scales scales;
    scales[0] = {0.02, 0.01}; // engagement rate
    scales[1] = {5.0, 1.0};   // reach
    auto const c = target_weights({{"engagement_rate", 1}, {"reach", 1}});
    // Row 1 (w 1): z 1 and 1, y = 1. Row 2 (w 0.5): z −1, reach missing (0),
    // y = −0.5. Σw·y = 1 − 0.25 = 0.75; W = 1.5, Σw² = 1.25.
    target_mean_sums m;
    m.add(1, {0.03, 6.0});
    m.add(0.5, {0.01, std::nullopt});
    auto const g = m.stats(scales, c);
    CHECK(g.n == 2);
    CHECK(g.sum_w == Approx(1.5));
    CHECK(g.sum_w2 == Approx(1.25));
    CHECK(g.sum_wy == Approx(0.75));
    // merged with an empty stratum: the same
    target_mean_sums merged;
    merged.merge(m);
    merged.merge(target_mean_sums{});
    CHECK(merged.stats(scales, c).sum_wy == Approx(0.75));
}

TEST_CASE(
    "a component that is the same on every row has no spread, whatever the rounding")
{
    // 0.01 a thousand times, and 7.6: E[x²] − mean² is rounding noise (about
    // 1e-18 and 1e-14), not 0; dividing by its root turned that noise into
    // targets that changed from run to run.
    scale_sums s;
    for (int i = 0; i < 1000; ++i) {
        outcome_components x;
        x[0] = 0.01;
        x[1] = 7.6;
        x[2] = i % 2 ? 1.0 : 3.0; // this one varies: mean 2, sd 1
        s.add(x);
    }
    auto const scales = s.scales();
    CHECK(scales[0].mean == Approx(0.01));
    CHECK(scales[0].sd == 0);
    CHECK(scales[1].sd == 0);
    CHECK(scales[2].mean == Approx(2));
    CHECK(scales[2].sd == Approx(1));
    // as the server's stddev_pop gives it after summing in another order
    CHECK(make_scale(0.01, 3.4825843542642276e-14).sd == 0);
    CHECK(make_scale(0.01, 0.002).sd == 0.002);
    CHECK(make_scale(0, 0.5).sd == 0.5); // a mean of 0 with a spread is a spread
}
