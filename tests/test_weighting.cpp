#include "canonical.hpp"
#include "change_test.hpp"
#include "config.hpp"
#include "map_shape.hpp"
#include "netting.hpp"
#include "normal.hpp"
#include "v2_backfill.hpp"
#include "weight_map.hpp"
#include "weighting.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <cmath>
#include <vector>

using namespace xloop;

namespace {

// A group of unweighted rows.
group_stats rows_of(std::vector<double> const& ys)
{
    group_stats s;
    for (double y : ys) {
        s.add(1, y);
    }
    return s;
}

} // namespace

TEST_CASE("names are canonicalised so camelCase, snake_case and words are one arm",
          "[nodb]")
{
    CHECK(canonical_name("dataNerd") == "data_nerd");
    CHECK(canonical_name("data_nerd") == "data_nerd");
    CHECK(canonical_name("Data Nerd") == "data_nerd");
    CHECK(canonical_name("  data-nerd  ") == "data_nerd");
    CHECK(canonical_name("HTTPServer") == "http_server");
    CHECK(canonical_name("myth_busting") == "myth_busting");
    CHECK(canonical_name("top10Tips") == "top10_tips");
    CHECK(canonical_name("   ") == "");
}

TEST_CASE("a name is one arm whatever its case in any script", "[nodb]")
{
    CHECK(canonical_name("Café") == "café");
    CHECK(canonical_name("CAFÉ") == "café");
    CHECK(canonical_name("ÖkoSystem") == "öko_system");
    CHECK(canonical_name("dataÜbersicht") == "data_übersicht");
    CHECK(canonical_name("БольшиеДанные") == "большие_данные");
    CHECK(canonical_name("ΣΟΦΙΑ") == "σοφια");
    CHECK(canonical_name("İstanbul") == "istanbul");
    CHECK(canonical_name("ＡＢＣ") == "ａｂｃ"); // full-width letters fold too
    // no-break and ideographic spaces separate words like a space
    CHECK(canonical_name("Data\u00a0Nerd") == "data_nerd");
    CHECK(canonical_name("data\u3000nerd ") == "data_nerd");
    // scripts without case are kept as they are
    CHECK(canonical_name("データ分析") == "データ分析");
    // bytes that are not UTF-8 are kept, never a letter
    std::string const junk = "\xff\xfe";
    CHECK(canonical_name(junk + "Ab") == junk + "ab");
    CHECK(canonical_name("\xc3(Ab") == "\xc3(ab"); // a lead byte without its tail
    for (auto const* n : {"CAFÉ", "ǅemal", "ÖkoSystem", "\xff\xfeZ", "ϒϒa"}) {
        CHECK(canonical_name(canonical_name(n)) == canonical_name(n));
    }
}

TEST_CASE("recency weight halves every half-life and ignores how often a job runs",
          "[nodb]")
{
    CHECK(recency_weight(0, 14) == 1.0);
    CHECK(recency_weight(14, 14) == 0.5);
    CHECK(recency_weight(28, 14) == 0.25);
    CHECK(recency_weight(7, 14) == Approx(1 / std::sqrt(2.0)));
    CHECK(recency_weight(-3, 14) == 1.0); // posted "after" now counts as new
    // ages from the binary COPY reader's microseconds: 36 hours is 1.5 days
    CHECK(age_days(1'000'000 + 36LL * 3600 * 1'000'000, 1'000'000) == 1.5);
    CHECK(recency_weight(age_days(0, 14LL * 86400 * 1'000'000), 14) == 1.0);
}

TEST_CASE("the window reaches back to hold as many posts as at the configured rate, and "
          "its half-life stretches alike",
          "[nodb]")
{
    // no posts, or all of them within window_days: the window as configured
    CHECK(stretch_window(60, 14, 365, std::nullopt).days == 60);
    CHECK(stretch_window(60, 14, 365, 30.0).days == 60);
    CHECK(stretch_window(60, 14, 365, 30.0).half_life_days == 14);
    // the newest N posts span 150 days: 150 days, half-life 14·150/60 = 35
    CHECK(stretch_window(60, 14, 365, 150.0).days == 150);
    CHECK(stretch_window(60, 14, 365, 150.0).half_life_days == Approx(35).epsilon(1e-12));
    // never further than max_days: 14·365/60
    CHECK(stretch_window(60, 14, 365, 900.0).days == 365);
    CHECK(stretch_window(60, 14, 365, 900.0).half_life_days ==
          Approx(85.166666666667).epsilon(1e-12));
    // a max below window_days does not shorten the window
    CHECK(stretch_window(60, 14, 30, 150.0).days == 60);
    CHECK(stretch_window(60, 14, 365, std::nan("")).days == 60);
}

TEST_CASE("a backfill reaches as far back as the furthest learner reads", "[nodb]")
{
    config cfg; // weights: 60 days, 180 posts, at most 365; replies: 90 days
    // no posts, or few within 60 days: the replies' 90 days are the further
    CHECK(learners_reach_days(cfg, std::nullopt) == 90);
    CHECK(learners_reach_days(cfg, 45.0) == 90);
    // the newest 180 posts span 200 days: build-weights reads 200
    CHECK(learners_reach_days(cfg, 200.0) == 200);
    CHECK(learners_reach_days(cfg, 900.0) == 365);
    // replies read 30 days: the weights' 60 are the further
    cfg.replies.window_days = 30;
    CHECK(learners_reach_days(cfg, 45.0) == 60);
    // weights.window_posts 0: weights read window_days and no further
    cfg.weights.window_posts = 0;
    CHECK(learners_reach_days(cfg, 200.0) == 60);
}

TEST_CASE("the weighted mean divides by the sum of weights, not the count", "[nodb]")
{
    group_stats g;
    g.add(1.0, 1.0);
    g.add(0.5, 0.0);
    // Σw·y / Σw = 1 / 1.5; dividing by the count would give 0.5 (defect 10)
    CHECK(g.weighted_mean() == Approx(2.0 / 3.0).epsilon(1e-12));
    // n_eff = W² / Σw² = 2.25 / 1.25
    CHECK(g.effective_n() == Approx(1.8).epsilon(1e-12));
    // weighted sd: sqrt(Σw·y²/W − m²) = sqrt(2/3 − 4/9) = sqrt(2)/3
    CHECK(g.weighted_sd() == Approx(std::sqrt(2.0) / 3).epsilon(1e-12));
}

TEST_CASE("shrinkage pulls a group toward the global mean with kappa pseudo-posts",
          "[nodb]")
{
    group_stats g;
    g.add(1.0, 1.0);
    g.add(0.5, 0.0);
    auto const p = shrink_toward(g, 0.2, 5, 0.3);
    // μ̂ = (Σw·y + κ·μ₀) / (W + κ) = (1 + 5·0.2) / 6.5 = 0.30769…
    CHECK(p.shrunk_mean == Approx(2.0 / 6.5).epsilon(1e-12));
    // s = σ / sqrt(W + κ) = 0.3 / sqrt(6.5) = 0.117670…
    CHECK(p.sd == Approx(0.3 / std::sqrt(6.5)).epsilon(1e-12));
    CHECK(p.n == 2);
    CHECK(p.mean == Approx(2.0 / 3.0));
    // no data at all: the prior itself
    auto const none = shrink_toward(group_stats{}, 0.2, 5, 0.3);
    CHECK(none.shrunk_mean == Approx(0.2));
    CHECK(none.sd == Approx(0.3 / std::sqrt(5.0)));
    // σ = 0 is floored, so identical scores never look infinitely certain
    CHECK(shrink_toward(g, 0.2, 5, 0.0).sd == Approx(min_sd / std::sqrt(6.5)));
}

TEST_CASE("P(best) of normal arms matches closed forms", "[nodb]")
{
    // two arms: P(B > A) for N(1,1) vs N(0,1) is Φ(1/√2) = 0.760250
    auto const two = probability_best({{0, 1}, {1, 1}});
    CHECK(two[1] == Approx(0.7602499389).margin(1e-7));
    CHECK(two[0] + two[1] == Approx(1.0).margin(1e-12));
    // identical arms share equally
    auto const three = probability_best({{0.3, 0.1}, {0.3, 0.1}, {0.3, 0.1}});
    for (double p : three) {
        CHECK(p == Approx(1.0 / 3).margin(1e-9));
    }
    // very different widths: N(0, 0.001) vs N(0, 1): each wins half the time
    auto const wide = probability_best({{0, 0.001}, {0, 1}});
    CHECK(wide[0] == Approx(0.5).margin(1e-6));
    CHECK(probability_best({{5, 1}}) == std::vector<double>{1.0});
}

TEST_CASE("P(best) stays exact for an arm 10^6 times narrower than another, and finite "
          "for any finite arms",
          "[nodb]")
{
    // N(0.5, 1e-6) against N(0, 0.5): A wins when B falls below 0.5, Φ(1) =
    // 0.841345 (one grid for both gave 0.0001, its step wider than A).
    for (double const narrow : {1e-4, 1e-5, 1e-6}) {
        auto const p = probability_best({{0.5, narrow}, {0, 0.5}});
        CHECK(p[0] == Approx(0.841345).margin(1e-5));
    }
    // Means and sds at the ends of a double: numbers that sum to 1, not NaN.
    for (double const big : {1e150, 1e300, 1.7e308}) {
        auto const p = probability_best({{0, 1e-6}, {big, big}, {-big, 1}, {0, 1}});
        double sum = 0;
        for (double const v : p) {
            CHECK(v >= 0);
            CHECK(v <= 1);
            sum += v;
        }
        CHECK(sum == Approx(1.0).margin(1e-9));
    }
}

TEST_CASE("P(best) of a thousand values is as exact as of three", "[nodb]")
{
    // A free-text topic gives a dimension thousands of values (an arm's own
    // grid each took 8 minutes for 1000). Identical arms share equally.
    std::vector<normal_belief> same(1000, {0.3, 0.05});
    for (double const p : probability_best(same)) {
        CHECK(p == Approx(0.001).margin(1e-9));
    }
    // 998 arms far below two: N(1,1) vs N(0,1) as alone, Φ(1/√2) = 0.760250.
    std::vector<normal_belief> two_and_many(998, {-100, 1});
    two_and_many.push_back({0, 1});
    two_and_many.push_back({1, 1});
    auto const p = probability_best(two_and_many);
    CHECK(p[999] == Approx(0.7602499389).margin(1e-7));
    CHECK(p[998] == Approx(1 - 0.7602499389).margin(1e-7));
    CHECK(p[0] < 1e-100);
}

TEST_CASE("a value narrower than the doubles near its mean can hold is a point mass",
          "[nodb]")
{
    // N(−0.5, 1e-14) against N(0, 1) and N(−1, 1): it wins when both fall
    // below −0.5, Φ(−0.5)·Φ(0.5) = 0.308538 · 0.691462 = 0.213342; the same
    // as an arm 10⁸ times wider that the grid resolves.
    for (double const sd : {1e-14, 1e-6}) {
        auto const p = probability_best({{0, 1}, {-0.5, sd}, {-1, 1}});
        CHECK(p[1] == Approx(0.213342).margin(1e-5));
        CHECK(p[0] + p[1] + p[2] == Approx(1.0).margin(1e-12));
    }
    // Two point masses at one mean below N(0.5, 1): they win when it falls
    // below 0, Φ(−0.5) = 0.308538, and tie: half of that each.
    auto const tie = probability_best({{0.5, 1}, {0, 1e-20}, {0, 1e-20}});
    CHECK(tie[0] == Approx(0.691462).margin(1e-6));
    CHECK(tie[1] == Approx(0.154269).margin(1e-6));
    CHECK(tie[2] == Approx(0.154269).margin(1e-6));
}

TEST_CASE("a value with one post cannot outrank a value with thirty good posts", "[nodb]")
{
    dimension_stats stats;
    auto& slot = stats["content_slot"];
    slot["one_hit"].add(1, 0.6);
    for (int i = 0; i < 30; ++i) {
        slot["steady"].add(1, 0.5);
    }
    for (int i = 0; i < 69; ++i) {
        slot["meh"].add(1, 0.1);
    }
    auto const map = compute_weight_map(stats, 5, 0.1);
    auto const& d = map.at("content_slot");
    // μ₀ = (0.6 + 15 + 6.9) / 100 = 0.225
    CHECK(d.prior_mean == Approx(0.225).epsilon(1e-12));
    // σ² = (0.36 + 7.5 + 0.69)/100 − 0.225² = 0.034875
    CHECK(d.sigma == Approx(std::sqrt(0.034875)).epsilon(1e-12));
    auto const& one = d.arms.at("one_hit");
    auto const& steady = d.arms.at("steady");
    // μ̂ one_hit = (0.6 + 5·0.225) / 6 = 0.2875 — although its raw mean is 0.6
    CHECK(one.post.shrunk_mean == Approx(0.2875).epsilon(1e-12));
    // μ̂ steady = (15 + 1.125) / 35 = 0.460714…
    CHECK(steady.post.shrunk_mean == Approx(16.125 / 35).epsilon(1e-12));
    // P(one_hit best) ≈ Φ((0.2875 − 0.4607) / sqrt(σ²/6 + σ²/35)) = Φ(−2.099) ≈ 0.0179
    CHECK(one.p_best == Approx(0.0179).margin(0.002));
    CHECK(steady.weight > one.weight);
    CHECK(steady.weight > d.arms.at("meh").weight);
}

TEST_CASE("every value keeps the epsilon floor and each dimension sums to one", "[nodb]")
{
    dimension_stats stats;
    for (int i = 0; i < 50; ++i) {
        stats["tone"]["calm"].add(1, 0.9);
        stats["tone"]["bold"].add(1, 0.1);
        stats["tone"]["dry"].add(1, 0.1);
        stats["tone"]["loud"].add(1, 0.1);
        stats["hook_type"]["question"].add(1, 0.5);
    }
    auto const map = compute_weight_map(stats, 5, 0.1);
    for (auto const& [dimension, dim] : map) {
        double sum = 0;
        for (auto const& [value, arm] : dim.arms) {
            sum += arm.weight;
            // ε/K = 0.1/4 for tone
            CHECK(arm.weight >= 0.1 / static_cast<double>(dim.arms.size()) - 1e-12);
        }
        CHECK(sum == Approx(1.0).margin(1e-9));
    }
    // calm is clearly best: (1 − ε)·≈1 + ε/4 = 0.925
    CHECK(map.at("tone").arms.at("calm").weight == Approx(0.925).margin(1e-6));
    CHECK(map.at("tone").arms.at("dry").weight == Approx(0.025).margin(1e-6));
    // a dimension with one value: all of it
    CHECK(map.at("hook_type").arms.at("question").weight == Approx(1.0));
}

TEST_CASE("a map with a weight that is not finite, or not summing to one, is refused",
          "[nodb]")
{
    dimension_stats stats;
    stats["content_slot"]["a"].add(1, 0.2);
    stats["content_slot"]["b"].add(1, 0.4);
    auto map = compute_weight_map(stats, 5, 0.1);
    CHECK_FALSE(map_defect(map).has_value());
    map["content_slot"].arms["a"].weight = std::nan("");
    REQUIRE(map_defect(map).has_value());
    CHECK(map_defect(map)->find("content_slot = 'a'") != std::string::npos);
    map["content_slot"].arms["a"].weight = 0.5;
    map["content_slot"].arms["b"].weight = 0.4; // 0.9 in all
    REQUIRE(map_defect(map).has_value());
    CHECK(map_defect(map)->find("sum to 0.9") != std::string::npos);
    map["content_slot"].arms["b"].weight = 0.5;
    CHECK_FALSE(map_defect(map).has_value());
}

TEST_CASE(
    "a stored map plan cannot draw from is named with the reason, down to the value",
    "[nodb]")
{
    auto reason = [](char const* posteriors) {
        return unusable_map_reason(nlohmann::json::parse(posteriors)).value_or("usable");
    };
    auto const prior = R"("_prior": {"tone": {"mean": 0.1, "sd": 0.05, "kappa": 5}})";
    CHECK(reason((std::string{"{"} + prior +
                  R"(, "tone": {"calm": {"shrunk_mean": 0.2, )"
                  R"("sd": 0.01}, "bold": {"mean": 0.1, "sd": 0.02}}})")
                     .c_str()) == "usable");
    CHECK(reason("{}") == "it has no posteriors");
    CHECK(reason("[]") == "it has no posteriors");
    CHECK(reason(R"({"tone": {"calm": {"mean": 0.2, "sd": 0.01}}})") ==
          "its posteriors have no \"_prior\" (not written by xloop-build-weights)");
    CHECK(reason((std::string{"{"} + prior + R"(, "tone": [0.2, 0.01]})").c_str()) ==
          "posteriors.tone is not an object");
    // a mean without an sd, an sd that is a string or null
    CHECK(reason((std::string{"{"} + prior + R"(, "tone": {"calm": {"mean": 0.2}}})")
                     .c_str()) == "posteriors.tone.calm has no finite mean and sd");
    CHECK(reason((std::string{"{"} + prior +
                  R"(, "tone": {"calm": {"mean": 0.2, "sd": "0.01"}}})")
                     .c_str()) == "posteriors.tone.calm has no finite mean and sd");
    CHECK(reason(R"({"_prior": {"tone": {"mean": 0.1, "sd": null}}})") ==
          "posteriors._prior.tone has no finite mean and sd");
    // a prior's σ as text, an ε beyond a probability (plan exited 70 on the first)
    auto const bad_prior = "posteriors._prior.tone has a sigma or epsilon that is not a "
                           "number (epsilon: from 0 to 1)";
    CHECK(reason(R"({"_prior": {"tone": {"mean": 0.1, "sd": 0.05, "sigma": "0.5"}}})") ==
          bad_prior);
    CHECK(reason(R"({"_prior": {"tone": {"mean": 0.1, "sd": 0.05, "epsilon": 1.5}}})") ==
          bad_prior);
    CHECK(reason(R"({"_prior": {"tone": {"mean": 0.1, "sd": 0.05, "epsilon": 1}}})") ==
          "usable");
}

TEST_CASE("values that differ no more than noise are shrunk all the way to their mean",
          "[nodb]")
{
    // A: 1, 3 and B: 5, 7 (weight 1 each). W_v = S_v = 2, m = 2 and 6, μ₀ = 4,
    // W = S = 4. σ² = (1 + 1 + 1 + 1)/((2 − 1) + (2 − 1)) = 2; the noise in the
    // between sum σ²·(1 + 1 − 1) = 2. Between: 2·4 + 2·4 = 16; the spread's
    // weight W − ΣW_v²/W = 4 − 8/4 = 2. τ² = (16 − 2)/2 = 7, κ = σ²/τ² = 2/7.
    // Each value: y = m ± 1, the second post at weight `w2`.
    auto const values = [](double w2) {
        group_stats a, b;
        a.add(1, 1);
        a.add(w2, 3);
        b.add(1, 5);
        b.add(w2, 7);
        return std::vector<group_stats>{a, b};
    };
    auto const [a, b] = std::pair{values(1)[0], values(1)[1]};
    CHECK(empirical_kappa({a, b}, 0.1) == Approx(2.0 / 7));
    // Recency weights make a mean noisier than its weight says. At w2 = 1/4:
    // W_v = 1.25, S_v = 1.0625, means 1.4 and 5.4, μ₀ = 3.4. Within: 1·0.16 +
    // 0.25·2.56 = 0.8 each, over Σ(W_v − S_v/W_v) = 2·(1.25 − 0.85) = 0.8: σ² =
    // 2. The between sum's noise σ²·(Σ S_v/W_v − S/W) = 2·(1.7 − 0.85) = 1.7
    // (unit weights would say σ²·(V − 1) = 2). Between: 1.25·4 + 1.25·4 = 10;
    // spread weight 2.5 − 3.125/2.5 = 1.25. τ² = (10 − 1.7)/1.25 = 6.64.
    CHECK(empirical_kappa(values(0.25), 0.01) == Approx(2 / 6.64));
    CHECK(empirical_kappa({a, b}, 5) == 5); // never below the floor
    // B as A: no spread beyond the noise; κ is as good as infinite
    CHECK(empirical_kappa({a, a}, 5) == 1e9);
    // one value: nothing to compare, the floor
    CHECK(empirical_kappa({a}, 5) == 5);
    CHECK(empirical_kappa({a, group_stats{}}, 5) == 5);
}

TEST_CASE("a dimension is learned from the bands since its change: the best split, then "
          "the best within its recent side",
          "[nodb]")
{
    auto const test = [](double z, bool changed) {
        change_test t;
        t.z = z;
        t.changed = changed;
        return t;
    };
    using tests = std::map<std::pair<std::size_t, std::size_t>, change_test>;
    // Four bands. Of the splits of the whole ({j, 4}) 1 and 2 are changed, 2
    // the more clearly (z 6 against 4; 3's z of 9 is not a change); within
    // bands [0, 2), split 1 is changed too: the recent side of 2 reached back
    // over the change, and the dimension learns from band 0 alone.
    tests t{{{1, 4}, test(4, true)},
            {{2, 4}, test(6, true)},
            {{3, 4}, test(9, false)},
            {{1, 2}, test(3, true)},
            {{1, 3}, test(8, true)}};
    auto const found = segment_change(t, 4);
    REQUIRE(found);
    CHECK(found->bands == 1);
    CHECK(found->test.z == 3);
    // Within [0, 2) nothing changed: bands 0 and 1.
    t[{1, 2}] = test(3, false);
    REQUIRE(segment_change(t, 4));
    CHECK(segment_change(t, 4)->bands == 2);
    CHECK(segment_change(t, 4)->test.z == 6);
    // No split of the whole changed: all bands, whatever their parts say.
    for (auto j : {1, 2, 3}) {
        t[{static_cast<std::size_t>(j), 4}].changed = false;
    }
    CHECK_FALSE(segment_change(t, 4));
    // One band: nothing to split.
    CHECK_FALSE(segment_change({}, 1));
}

TEST_CASE("a change in the ranking of a dimension's values is told from noise and from a "
          "change of level",
          "[nodb]")
{
    auto const g = [](double y1, double y2) {
        group_stats s;
        s.add(1, y1);
        s.add(1, y2);
        return s;
    };
    // Recent A: 1, 3 (m 2), B: 0, 2 (m 1); older A: 0, 2 (m 1), B: 1, 3 (m 2).
    // Each cell has Σ(y − m)² = 2 over W − S/W = 1: σ² = 8/4 = 2. Δ_A = 1,
    // Δ_B = −1, h = 1/(2/4 + 2/4) = 1 each, Δ̄ = 0: T = (1 + 1)/2 = 1. One
    // degree of freedom: at p = 0.001, z = 3.0902, c = 2/9, the threshold is
    // (1 − c + z·√c)³ = 11.157 (the exact quantile: 10.83).
    auto const noise = test_change({{g(1, 3), g(0, 2)}, {g(0, 2), g(1, 3)}}, 0.001);
    CHECK(noise.values == 2);
    CHECK(noise.statistic == Approx(1));
    CHECK(noise.threshold == Approx(11.157245).epsilon(1e-5));
    // on the normal scale: ((T/1)^⅓ − (1 − c))/√c = (2/9)/√(2/9) = 0.4714
    CHECK(noise.z == Approx(0.4714045).epsilon(1e-6));
    CHECK_FALSE(noise.changed);
    // Recent A: 11, 13 (m 12): Δ_A = 11, Δ_B = −1, Δ̄ = 5, T = (36 + 36)/2.
    auto const flipped = test_change({{g(11, 13), g(0, 2)}, {g(0, 2), g(1, 3)}}, 0.001);
    CHECK(flipped.statistic == Approx(36));
    // (3.30193 − 0.77778)/0.47140 = 5.3545
    CHECK(flipped.z == Approx(5.3545296).epsilon(1e-6));
    CHECK(flipped.changed);
    // Every value up by 1 in the recent posts: the level moved, not the
    // ranking.
    auto const level = test_change({{g(11, 13), g(1, 3)}, {g(10, 12), g(0, 2)}}, 0.001);
    CHECK(level.statistic == Approx(0).margin(1e-12));
    CHECK_FALSE(level.changed);
    // A value without older posts cannot be compared: one left, no test.
    auto const one = test_change({{g(11, 13), group_stats{}}, {g(0, 2), g(1, 3)}}, 0.001);
    CHECK(one.values == 1);
    CHECK_FALSE(one.changed);
}

TEST_CASE("replies' change is measured within each account, so replying to better "
          "accounts is not a change of the ranking",
          "[nodb]")
{
    // Account A: recent 1, 3 (m 2), older 0, 2 (m 1): Δ 1, h = 1/(2/4 + 2/4)
    // = 1. Account B: recent 11, 12, 13 (m 12), older 10: Δ 2, h = 1/(3/9 +
    // 1/1) = 0.75. Account C has no older replies: left out.
    // Δ = (1·1 + 0.75·2)/1.75 = 1.428571, h = 1.75.
    auto const m = matched_change({{rows_of({1, 3}), rows_of({0, 2})},
                                   {rows_of({11, 12, 13}), rows_of({10})},
                                   {rows_of({5}), group_stats{}}});
    CHECK(m.h == Approx(1.75));
    CHECK(m.delta == Approx(2.5 / 1.75));
    CHECK(matched_change({{rows_of({5}), group_stats{}}}).h == 0);

    // A post value P: recent 1, 3, older 0, 2 (Δ 1, h 1). Replies went from
    // account A (older 0, 2) to account B (recent 11, 13): unmatched Δ 11,
    // Δ̄ = 6, σ² = 8/4 = 2, T = (25 + 25)/2 = 25, above 11.157: a change.
    std::vector<std::pair<group_stats, group_stats>> const values{
        {rows_of({1, 3}), rows_of({0, 2})}, {rows_of({11, 13}), rows_of({0, 2})}};
    auto const unmatched = test_change(values, 0.001);
    CHECK(unmatched.statistic == Approx(25));
    CHECK(unmatched.changed);
    // Each account against itself moved by 1, as P did (Δ 1, h 2): Δ̄ = 1,
    // T = 0.
    auto const matched = test_change(values, 0.001, {std::nullopt, value_change{2, 1}});
    CHECK(matched.values == 2);
    CHECK(matched.statistic == Approx(0).margin(1e-12));
    CHECK_FALSE(matched.changed);
    // no account replied to in both periods: replies cannot be compared
    auto const none = test_change(values, 0.001, {std::nullopt, value_change{}});
    CHECK(none.values == 1);
    CHECK_FALSE(none.changed);
}

TEST_CASE("a component that does not tell a dimension's values apart adds no noise to "
          "them",
          "[nodb]")
{
    // Component 0 tells A from B (1, 1 against 0, 0); component 1 is noise
    // (−1, 1 in both). As one target (y = 0, 2 and 1, −1) the values' means
    // are the same, but the noise widens both posteriors.
    component_stats stats;
    stats["hook_type"]["a"] = {rows_of({1, 1}), rows_of({-1, 1})};
    stats["hook_type"]["b"] = {rows_of({0, 0}), rows_of({1, -1})};
    auto const map = compute_weight_map(stats, 1, 0);
    auto const& d = map.at("hook_type");
    // component 0: σ² = 0 within, τ² = (2·0.25 + 2·0.25)/2 = 0.5: κ = 0, the
    // floor 1. μ̂_A = (2 + 0.5)/(2 + 1) = 5/6, μ̂_B = 0.5/3 = 1/6.
    CHECK(d.kappa[0] == 1);
    // component 1: no spread: κ = 1e9, both at its mean 0
    CHECK(d.kappa[1] == 1e9);
    CHECK(d.arms.at("a").post.shrunk_mean == Approx(5.0 / 6));
    CHECK(d.arms.at("b").post.shrunk_mean == Approx(1.0 / 6));
    CHECK(d.arms.at("a").post.mean == Approx(1.0)); // raw: 1 + 0
    // sd: component 0's σ = 0.5 over the dimension, √(0.25/3); component 1's
    // 1/(2 + 1e9) is nothing
    CHECK(d.arms.at("a").post.sd == Approx(std::sqrt(0.25 / 3)).epsilon(1e-6));
    // P(A best) = Φ((5/6 − 1/6)/√(2·0.25/3)) = Φ(1.63299) = 0.94877
    CHECK(d.arms.at("a").p_best == Approx(0.94877).margin(1e-4));
    // the same rows as one target: y = 0, 2 (A) and 1, −1 (B): means 1 and 0,
    // μ₀ = 0.5, σ² = (1 + 1 + 1 + 1)/2 = 2, between 2·0.25 + 2·0.25 = 1, less
    // than the noise σ²·(1 + 1 − 1) = 2: τ² = 0, the noise hides the
    // difference and both stay at μ₀
    dimension_stats one;
    one["hook_type"]["a"].add(1, 0);
    one["hook_type"]["a"].add(1, 2);
    one["hook_type"]["b"].add(1, 1);
    one["hook_type"]["b"].add(1, -1);
    auto const whole = compute_weight_map(one, 1, 0).at("hook_type");
    CHECK(whole.kappa[0] == 1e9);
    CHECK(whole.arms.at("a").post.shrunk_mean == Approx(0.5).margin(1e-8));
    CHECK(whole.arms.at("a").p_best == Approx(0.5).margin(1e-3));
}

TEST_CASE("replies' noise is pooled apart from the posts', so many quiet replies do "
          "not make the posts' noise look small",
          "[nodb]")
{
    group_stats quiet; // 50 replies at ± 0.1: Σ(y − m)² = 0.5 over 49
    for (int i = 0; i < 50; ++i) {
        quiet.add(1, i % 2 ? 0.1 : -0.1);
    }
    // Posts A and B: recent 5, 1 (m 3), older 2, −2 (m 0): Δ 3, h 1, each
    // cell Σ(y − m)² = 8 over 1. Replies did not move.
    std::vector<std::pair<group_stats, group_stats>> const values{
        {rows_of({5, 1}), rows_of({2, -2})},
        {rows_of({5, 1}), rows_of({2, -2})},
        {quiet, quiet}};
    // As one population: σ² = (32 + 1)/(4 + 98) = 0.32353, replies' h =
    // 1/(50/2500 · 2) = 25, Δ̄ = 6/27, T = (2·(3 − Δ̄)² + 25·Δ̄²)/σ² = 51.515,
    // beyond 13.8 (2 degrees of freedom): the posts' noise looks small.
    auto const one = test_change(values, 0.001);
    CHECK(one.statistic == Approx(51.51515).epsilon(1e-5));
    CHECK(one.changed);
    // Replies compared account by account (Δ 0, h 50) and pooled on their
    // own (σ² = 1/98): posts' σ² = 32/4 = 8, their precision 1/8, replies'
    // 50·98 = 4900; Δ̄ = 0.75/4900.25, T = 2·(3 − Δ̄)²/8 + 4900·Δ̄² = 2.24989:
    // a move of 3 against a noise of √8 per post is not a change.
    auto const apart =
        test_change(values, 0.001, {std::nullopt, std::nullopt, value_change{50, 0}});
    CHECK(apart.statistic == Approx(2.249885).epsilon(1e-5));
    CHECK_FALSE(apart.changed);
}

TEST_CASE("replies' own value keeps its mean and does not pull the posts' values "
          "toward it",
          "[nodb]")
{
    // posts: a = 1, 3 (mean 2), b = 0, 2 (mean 1); six replies: −5, −3, …
    // (mean −4)
    dimension_stats stats;
    stats["content_slot"]["a"].add(1, 1);
    stats["content_slot"]["a"].add(1, 3);
    stats["content_slot"]["b"].add(1, 0);
    stats["content_slot"]["b"].add(1, 2);
    for (int i = 0; i < 3; ++i) {
        stats["content_slot"]["reply"].add(1, -5);
        stats["content_slot"]["reply"].add(1, -3);
    }
    // apart: the prior is the posts' alone: μ₀ = 1.5, σ² = (2 + 2)/2 = 2,
    // between 2·0.25 + 2·0.25 = 1 below the noise 2·(1 + 1 − 1) = 2: τ² = 0,
    // both at 1.5; reply at its own −4
    auto const apart = compute_weight_map(stats, 1, 0, 0, {"reply"}).at("content_slot");
    CHECK(apart.kappa[0] == 1e9);
    CHECK(apart.prior_mean == Approx(1.5));
    CHECK(apart.arms.at("a").post.shrunk_mean == Approx(1.5).margin(1e-6));
    CHECK(apart.arms.at("reply").post.shrunk_mean == Approx(-4));
    // together: μ₀ = (4 + 2 − 24)/10 = −1.8, the replies' gap is a spread
    // (τ² = (73.6 − 20/7)/5.6 = 12.6, κ = (10/7)/12.6 = 0.11, the floor 1):
    // a = (4 − 1.8)/3 = 0.7333, pulled far below both posts' means
    auto const together = compute_weight_map(stats, 1, 0).at("content_slot");
    CHECK(together.kappa[0] == 1);
    CHECK(together.arms.at("a").post.shrunk_mean == Approx(2.2 / 3));
    CHECK(together.arms.at("b").post.shrunk_mean == Approx(0.2 / 3));
}

TEST_CASE("an engagement rate that ranks a dimension's values against follows loses its "
          "say there",
          "[nodb]")
{
    // Component 0 is the proxy (the engagement rate): A 1, 1 against B 0, 0.
    // Component 1 (follows) ranks them the other way: A −1, 0; B 0, 1.
    component_stats stats;
    auto const& a = stats["cta_type"]["a"] = {rows_of({1, 1}), rows_of({-1, 0})};
    auto const& b = stats["cta_type"]["b"] = {rows_of({0, 0}), rows_of({0, 1})};
    // e = 1, 0 (ē 0.5); u = −0.5, 0.5 (ū 0); C = 2·0.5·(−0.5) + 2·(−0.5)·0.5 = −1.
    // Follows' pooled variance: (0.25 + 0.25)·2 / (1 + 1) = 0.5; Var C =
    // 0.5·(2·0.25 + 2·0.25) = 0.5: z = −1/√0.5 = −1.41421, more likely
    // against than with the rest: trust 0.
    CHECK(proxy_agreement({&a, &b}, 0) == 0);
    // the same follows the other way round: 2·Φ(1.41421) − 1 = 0.842701
    std::vector<group_stats> const a_agrees{rows_of({1, 1}), rows_of({0, 1})};
    std::vector<group_stats> const b_agrees{rows_of({0, 0}), rows_of({-1, 0})};
    CHECK(proxy_agreement({&a_agrees, &b_agrees}, 0) == Approx(0.842701).margin(1e-6));
    // follows with the same mean for both: no evidence either way, no say
    std::vector<group_stats> const a_even{rows_of({1, 1}), rows_of({-1, 1})};
    std::vector<group_stats> const b_even{rows_of({0, 0}), rows_of({1, -1})};
    CHECK(proxy_agreement({&a_even, &b_even}, 0) == Approx(0).margin(1e-9));
    // a proxy that does not tell the values apart is not doubted
    std::vector<group_stats> const same{rows_of({0, 0}), rows_of({-1, 0})};
    CHECK(proxy_agreement({&same, &b}, 0) == 1);

    // Shrunk means: the proxy's κ is the floor 1 (no noise within), A 5/6,
    // B 1/6; follows' τ² = (1 − 0.5·(1 + 1 − 1))/(4 − 2) = 0.25, κ = 2: A
    // −1/4, B 1/4. As configured the proxy wins: A 7/12 against B 5/12.
    auto const plain = compute_weight_map(stats, 1, 0).at("cta_type");
    CHECK(plain.arms.at("a").post.shrunk_mean == Approx(7.0 / 12));
    CHECK(plain.arms.at("a").p_best > 0.5);
    // With no trust the proxy's part is gone: A −1/4, B 1/4, and follows
    // decide: P(B best) = Φ(0.5/√(2·0.5/4)) = Φ(1) (follows' σ = √0.5 over
    // 2 + 2 rows each).
    auto const map = compute_weight_map(stats, 1, 0, 0, {}, 0).at("cta_type");
    CHECK(map.proxy_trust == 0);
    CHECK(map.arms.at("a").post.shrunk_mean == Approx(-0.25).epsilon(1e-9));
    CHECK(map.arms.at("b").post.shrunk_mean == Approx(0.25).epsilon(1e-9));
    CHECK(map.arms.at("b").p_best == Approx(0.841345).margin(1e-5));
    CHECK(map.arms.at("a").post.sd == Approx(std::sqrt(0.5 / 4)).epsilon(1e-9));
    // where the proxy agrees it keeps 0.842701 of its part: A 0.842701·5/6 +
    // 1/4 (follows now A 0, 1 and B −1, 0: shrunk ±1/4)
    component_stats agree;
    agree["cta_type"]["a"] = a_agrees;
    agree["cta_type"]["b"] = b_agrees;
    auto const kept = compute_weight_map(agree, 1, 0, 0, {}, 0).at("cta_type");
    CHECK(kept.arms.at("a").post.shrunk_mean ==
          Approx(0.842701 * 5 / 6 + 0.25).epsilon(1e-6));
}

TEST_CASE("a value the loop posted mostly early is compared within its weeks, not "
          "against the later, better posts",
          "[nodb]")
{
    // Week 0: A once (0), B three times (0, 0, 0); week 1, when the other
    // dimensions had improved: A three times (2, 2, 2), B once (1). Raw
    // means: A 1.5, B 0.25. Fitted y = α_t + β_v (least squares, by hand):
    // with d = β_B − β_A, ∂/∂α₀: 4α₀ + 3d = 0, ∂/∂α₁: 4α₁ = 7 − d,
    // ∂/∂d: 3(α₀ + d) + (α₁ + d − 1) = 0, so d = −0.5 (A better by 0.5,
    // which both weeks say), α₀ = 0.375, α₁ = 1.875; α weighted to mean 0 over
    // the rows: −0.75 and 0.75. A's rows net of them: 0.75, 1.25 ×3 (mean
    // 1.125, Σy² 5.25); B's: 0.75 ×3, 0.25 (mean 0.625).
    period_cells cells;
    cells["a"][0] = {rows_of({0})};
    cells["b"][0] = {rows_of({0, 0, 0})};
    cells["a"][1] = {rows_of({2, 2, 2})};
    cells["b"][1] = {rows_of({1})};
    auto const net = net_of_periods(cells);
    REQUIRE(net.at("a").size() == 1);
    auto const& a = net.at("a")[0];
    auto const& b = net.at("b")[0];
    CHECK(a.n == 4);
    CHECK(a.sum_w == 4);
    CHECK(a.weighted_mean() == Approx(1.125).epsilon(1e-9));
    CHECK(b.weighted_mean() == Approx(0.625).epsilon(1e-9));
    CHECK(a.sum_wy2 == Approx(5.25).epsilon(1e-9));
    // one week only: nothing to net out
    period_cells one;
    one["a"][3] = {rows_of({2, 4})};
    one["b"][3] = {rows_of({1})};
    CHECK(net_of_periods(one).at("a")[0].weighted_mean() == Approx(3));
    CHECK(net_of_periods(one).at("b")[0].sum_wy2 == Approx(1));
}

namespace {

// Hook a1 worth 1 over a2, slot b1 2 over b2 (y = their sum, no noise), a1
// with b1 twice of three times and a2 once: (a1,b1) 3, 3; (a1,b2) 1; (a2,b2)
// 0, 0; (a2,b1) 2.
companion_cells hooks_and_slots()
{
    companion_cells c;
    c.cells["hook"]["a1"][0] = {rows_of({3, 3, 1})};
    c.cells["hook"]["a2"][0] = {rows_of({0, 0, 2})};
    c.cells["slot"]["b1"][0] = {rows_of({3, 3, 2})};
    c.cells["slot"]["b2"][0] = {rows_of({1, 0, 0})};
    c.periods[0] = {rows_of({3, 3, 1, 0, 0, 2})};
    value_id const a1{"hook", "a1"}, a2{"hook", "a2"}, b1{"slot", "b1"}, b2{"slot", "b2"};
    c.pairs[{a1, b1}] = 2;
    c.pairs[{a1, b2}] = 1;
    c.pairs[{a2, b1}] = 1;
    c.pairs[{a2, b2}] = 2;
    return c;
}

} // namespace

TEST_CASE("a value posted mostly beside another dimension's best value is not "
          "credited with that value's effect",
          "[nodb]")
{
    // Hook a1 is worth 1 over a2, slot b1 2 over b2 (y = their sum, no
    // noise), but a1 came with b1 twice of three times and a2 once:
    // (a1,b1) 3, 3; (a1,b2) 1; (a2,b2) 0, 0; (a2,b1) 2. Raw means: a1 7/3,
    // a2 2/3 (a1 better by 5/3), b1 8/3, b2 1/3 (7/3). The fit (κ 0) is
    // exact: μ 1.5, β centred on the rows: a1 +0.5, a2 −0.5, b1 +1, b2 −1.
    // a1 net of its companions: (7 − (2·1 + 1·(−1)))/3 = 2; a2: (2 − (1·1 +
    // 2·(−1)))/3 = 1; b1: (8 − (2·0.5 + 1·(−0.5)))/3 = 2.5; b2: (1 − (1·0.5
    // + 2·(−0.5)))/3 = 0.5. a1's spread around its mean, 19 − 7²/3 = 8/3, is
    // all its companions' (b1 twice at +1, b2 once at −1: 3 − 1²/3 = 8/3):
    // its rows net of them are 2, 2, 2, so Σy² = 3·2² = 12.
    auto c = hooks_and_slots();
    value_id const a1{"hook", "a1"}, a2{"hook", "a2"}, b1{"slot", "b1"}, b2{"slot", "b2"};
    // the hooks beside a dimension's two values x, y as beside b1, b2
    auto const hooks_beside = [&](value_id const& x, value_id const& y) {
        c.pairs[{a1, x}] = 2;
        c.pairs[{a1, y}] = 1;
        c.pairs[{a2, x}] = 1;
        c.pairs[{a2, y}] = 2;
    };
    auto const net = net_of_companions(c, 0);
    CHECK(net.at("hook").at("a1")[0].weighted_mean() == Approx(2).epsilon(1e-8));
    CHECK(net.at("hook").at("a2")[0].weighted_mean() == Approx(1).epsilon(1e-8));
    CHECK(net.at("slot").at("b1")[0].weighted_mean() == Approx(2.5).epsilon(1e-8));
    CHECK(net.at("slot").at("b2")[0].weighted_mean() == Approx(0.5).epsilon(1e-8));
    CHECK(net.at("hook").at("a1")[0].sum_w == 3);
    CHECK(net.at("hook").at("a1")[0].sum_wy2 == Approx(12).epsilon(1e-8));
    // A ridge of κ = 3 pseudo-posts pulls each β toward 0, each dimension's
    // β weighted to mean 0 (a2 = −a1 = −x, b2 = −b1 = −z; μ = 9/6): given
    // z, a1's rows less μ and their slots leave 7 − 4.5 − (2z − z) = 2.5 − z,
    // so x = (2.5 − z)/(3 + 3); given x, z = (8 − 4.5 − x)/6. Then x =
    // 11.5/35, z = 111/210, and a1 = (7 − z)/3 = 1359/630, a2 = (2 + z)/3 =
    // 531/630: a1 leads by 1.31, between the fit's 1 and the raw 5/3.
    auto const ridged = net_of_companions(c, 3);
    CHECK(ridged.at("hook").at("a1")[0].weighted_mean() ==
          Approx(1359.0 / 630).epsilon(1e-8));
    CHECK(ridged.at("hook").at("a2")[0].weighted_mean() ==
          Approx(531.0 / 630).epsilon(1e-8));
    // A structure derived from the slot (s1 where b1) is the slot over
    // again (Cramér's V 1): not fitted, so b1 keeps its whole effect, and
    // the structure is netted of the hook alone, as the slot is.
    c.cells["structure"]["s1"][0] = {rows_of({3, 3, 2})};
    c.cells["structure"]["s2"][0] = {rows_of({1, 0, 0})};
    value_id const s1{"structure", "s1"}, s2{"structure", "s2"};
    hooks_beside(s1, s2);
    c.pairs[{b1, s1}] = 3;
    c.pairs[{b2, s2}] = 3;
    auto const derived = net_of_companions(c, 0);
    CHECK(derived.at("hook").at("a1")[0].weighted_mean() == Approx(2).epsilon(1e-8));
    CHECK(derived.at("slot").at("b1")[0].weighted_mean() == Approx(2.5).epsilon(1e-8));
    CHECK(derived.at("structure").at("s1")[0].weighted_mean() ==
          Approx(2.5).epsilon(1e-8));
    CHECK(derived.at("structure").at("s2")[0].weighted_mean() ==
          Approx(0.5).epsilon(1e-8));
    // without the pairs: net of the periods only, the raw means here
    c.pairs.clear();
    CHECK(net_of_companions(c, 0).at("hook").at("a1")[0].weighted_mean() ==
          Approx(7.0 / 3));
}

TEST_CASE("a value's companions in other rows are valued at the whole fit's effects",
          "[nodb]")
{
    // The fit of the case above (κ 0, exact): β a1 +0.5, a2 −0.5, b1 +1,
    // b2 −1.
    auto fit = hooks_and_slots();
    value_id const a1{"hook", "a1"}, a2{"hook", "a2"}, b1{"slot", "b1"}, b2{"slot", "b2"};
    // Other rows (a later period): a1 four times, each beside b1; a2 twice,
    // beside b2; a3, which the fit never saw, once beside b1.
    companion_cells later;
    later.cells["hook"]["a1"][1] = {rows_of({3, 3, 3, 3})};
    later.cells["hook"]["a2"][1] = {rows_of({0, 0})};
    later.cells["hook"]["a3"][1] = {rows_of({2})};
    later.cells["slot"]["b1"][1] = {rows_of({3, 3, 3, 3, 2})};
    later.cells["slot"]["b2"][1] = {rows_of({0, 0})};
    later.periods[1] = {rows_of({3, 3, 3, 3, 0, 0, 2})};
    value_id const a3{"hook", "a3"};
    later.pairs[{a1, b1}] = 4;
    later.pairs[{a2, b2}] = 2;
    later.pairs[{a3, b1}] = 1;
    auto const parts = companions_part(fit, {&fit, &later}, 0);
    REQUIRE(parts.size() == 2);
    // In the fit's own rows: a1 (2·1 + 1·(−1))/3 = 1/3, so 7/3 − 1/3 = 2,
    // net_of_companions' mean; b1 (2·0.5 + 1·(−0.5))/3 = 1/6.
    CHECK(parts[0].at("hook").at("a1")[0] == Approx(1.0 / 3).epsilon(1e-8));
    CHECK(parts[0].at("slot").at("b1")[0] == Approx(1.0 / 6).epsilon(1e-8));
    // In the later rows: a1 4·1/4 = 1 (its mean 3 is 2 net of b1, as
    // before), a2 2·(−1)/2 = −1 (0 → 1); b1 (4·0.5)/5 = 0.4, a3 beside it
    // counting nothing; b2 2·(−0.5)/2 = −0.5. a3 has no part.
    CHECK(parts[1].at("hook").at("a1")[0] == Approx(1).epsilon(1e-8));
    CHECK(parts[1].at("hook").at("a2")[0] == Approx(-1).epsilon(1e-8));
    CHECK(parts[1].at("slot").at("b1")[0] == Approx(0.4).epsilon(1e-8));
    CHECK(parts[1].at("slot").at("b2")[0] == Approx(-0.5).epsilon(1e-8));
    CHECK_FALSE(parts[1].at("hook").contains("a3"));
    // Without the fit's pairs there is nothing to value the companions by.
    fit.pairs.clear();
    auto const none = companions_part(fit, {&later}, 0);
    REQUIRE(none.size() == 1);
    CHECK(none[0].empty());
}

TEST_CASE("a map's numbers are stored to 10 decimals, and above 1 to 10 significant "
          "digits, so sums in another order give the same bytes",
          "[nodb]")
{
    CHECK(stored_number(0.12345678901234) == 0.123456789);
    CHECK(stored_number(0.12345678906) == 0.1234567891);
    // a prior strength of ~124: two sums of the same terms in another order
    // (1e-13 apart) straddled the 10th decimal and were stored apart
    CHECK(stored_number(123.81724904925) == 123.817249);
    CHECK(stored_number(123.81724904925 + 1e-13) ==
          stored_number(123.81724904925 - 1e-13));
    CHECK(stored_number(123.8172494) == 123.8172494);
    CHECK(stored_number(1e9) == 1e9); // kappa_no_spread
    CHECK(stored_number(1234567890123.4) == 1234567890000.0);
    CHECK(stored_number(-2.000000000049) == -2.0);
    CHECK(stored_number(5.0) == 5.0);
    CHECK(std::isnan(stored_number(std::nan(""))));
}

TEST_CASE("a value the map holds likely best that plan's catalogue does not list is "
          "found, per dimension plan draws",
          "[nodb]")
{
    auto const posteriors = nlohmann::json::parse(R"({
        "_prior": {"hook_type": {"mean": 0, "sd": 0.1}},
        "hook_type": {"stat": {"p_best": 0.7, "n": 40},
                      "question": {"p_best": 0.3, "n": 10}},
        "generator_name": {"storyteller": {"p_best": 0.45, "n": 50},
                           "data_nerd": {"p_best": 0.35, "n": 50},
                           "rare": {"p_best": 0.2, "n": 1}},
        "content_slot": {"reply": {"p_best": 0.9, "n": 90},
                         "case_study": {"p_best": 0.06, "n": 5},
                         "how_to": {"p_best": 0.04, "n": 9}},
        "tone": {"calm": {"p_best": 0.8, "n": 2}, "bold": {"p_best": 0.2, "n": 9}},
        "structure_type": {"thread": {"p_best": 0.99, "n": 30}}})");
    std::map<std::string, std::vector<std::string>> const catalogue{
        {"hook_type", {"question", "story"}},
        {"generator_name", {"data_nerd"}},
        {"content_slot", {"how_to"}},
        {"tone", {"bold"}}};
    auto const undrawn = undrawn_best_values(posteriors, catalogue, 0.5, 3);
    // hook_type's 'stat' alone: storyteller leads with P(best) 0.45 < 0.5;
    // 'reply' is no post's value, so case_study leads content_slot, at 0.06;
    // calm rests on 2 posts; structure_type is not drawn by plan
    REQUIRE(undrawn.size() == 1);
    CHECK(undrawn[0].dimension == "hook_type");
    CHECK(undrawn[0].value == "stat");
    CHECK(undrawn[0].p_best == 0.7);
    CHECK(undrawn[0].posts == 40);
    // listed in the catalogue: nothing
    auto listed = catalogue;
    listed["hook_type"].push_back("stat");
    CHECK(undrawn_best_values(posteriors, listed, 0.5, 3).empty());
    // a lower bar finds the others
    CHECK(undrawn_best_values(posteriors, catalogue, 0.05, 1).size() == 4);
}
