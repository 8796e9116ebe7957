#include "error.hpp"
#include "off_policy.hpp"
#include "plan_job.hpp"
#include "policy_value.hpp"
#include "sampling.hpp"
#include "student_t.hpp"
#include "text.hpp"
#include "timestamp.hpp"

#include <catch2/catch.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <numbers>
#include <optional>
#include <sstream>
#include <tuple>
#include <utility>

using namespace xloop;

namespace {
// Three logged posts: outcomes 1, 0, 2; plan drew them with probabilities
// 0.5, 0.25, 0.5; the evaluated policy would draw them with 0.25, 0.5, 1.
// The reward model predicts 0.5, 0.5, 1.5 for what was drawn and values the
// evaluated policy at 1 on each post.
std::vector<logged_sample> three_posts()
{
    return {{1, 0.5, 0.25, 0.5, 1}, {0, 0.25, 0.5, 0.5, 1}, {2, 0.5, 1.0, 1.5, 1}};
}

// The bootstrap worked the slow way: `rounds` resamples of the posts of a
// and b (the same posts for both), each as many posts drawn with replacement
// from a generator seeded `seed`, as the library draws them; `value` values
// a resample (nullopt: left out). Sorted.
template <typename Value>
std::vector<double> resampled_by_hand(std::vector<logged_sample> const& a,
                                      std::vector<logged_sample> const& b, int rounds,
                                      std::uint64_t seed, Value const& value)
{
    rng slow{seed};
    std::vector<double> values;
    for (int k = 0; k < rounds; ++k) {
        std::vector<logged_sample> ra;
        std::vector<logged_sample> rb;
        for (std::size_t j = 0; j < a.size(); ++j) {
            auto const i = slow.below(a.size());
            ra.push_back(a[i]);
            rb.push_back(b[i]);
        }
        if (std::optional<double> const v = value(ra, rb)) {
            values.push_back(*v);
        }
    }
    std::sort(values.begin(), values.end());
    return values;
}

// Five logged posts (a) and the same posts under a policy drawing each
// logged value with the complementary probability (b).
std::pair<std::vector<logged_sample>, std::vector<logged_sample>> five_posts_mirrored()
{
    std::vector<logged_sample> a{{1, 0.5, 0.5, 0.5, 1},
                                 {0, 0.25, 0.75, 0.5, 1},
                                 {2, 0.5, 0.25, 1.5, 1},
                                 {3, 0.5, 1, 2, 1},
                                 {0.5, 0.25, 0, 1, 1}};
    auto b = a;
    for (auto& x : b) {
        x.target_p = 1 - x.target_p;
    }
    return {a, b};
}

// The q-th percentile of sorted values, linear between ranks.
double percentile_by_hand(std::vector<double> const& sorted, double q)
{
    double const pos = q * static_cast<double>(sorted.size() - 1);
    auto const lo = static_cast<std::size_t>(pos);
    return sorted[lo] + (sorted[lo + 1] - sorted[lo]) * (pos - std::floor(pos));
}
} // namespace

TEST_CASE("IPS, SNIPS and DR of three logged posts, worked by hand", "[nodb]")
{
    auto const s = three_posts();
    std::int64_t clipped = -1;
    auto const w = importance_weights(s, 100, &clipped);
    // w = π/μ = 0.25/0.5, 0.5/0.25, 1/0.5
    REQUIRE(w == std::vector<double>{0.5, 2, 2});
    CHECK(clipped == 0);
    // IPS = (0.5·1 + 2·0 + 2·2) / 3 = 4.5 / 3
    CHECK(*estimate_value(s, w, estimator::ips) == Approx(1.5));
    // SNIPS = 4.5 / (0.5 + 2 + 2)
    CHECK(*estimate_value(s, w, estimator::snips) == Approx(1.0));
    // DR = [(1 + 0.5·(1 − 0.5)) + (1 + 2·(0 − 0.5)) + (1 + 2·(2 − 1.5))] / 3
    //    = (1.25 + 0 + 2) / 3
    CHECK(*estimate_value(s, w, estimator::doubly_robust) == Approx(3.25 / 3));
    // ESS = 4.5² / (0.25 + 4 + 4)
    CHECK(effective_sample_size(w) == Approx(20.25 / 8.25));
}

TEST_CASE("weights above the cap are cut to it and counted", "[nodb]")
{
    auto const s = three_posts();
    std::int64_t clipped = 0;
    auto const w = importance_weights(s, 1.5, &clipped);
    CHECK(w == std::vector<double>{0.5, 1.5, 1.5});
    CHECK(clipped == 2);
    // IPS = (0.5 + 0 + 3) / 3; SNIPS = 3.5 / 3.5
    CHECK(*estimate_value(s, w, estimator::ips) == Approx(3.5 / 3));
    CHECK(*estimate_value(s, w, estimator::snips) == Approx(1.0));
}

TEST_CASE("a policy with no posts or no weight has no estimate", "[nodb]")
{
    CHECK_FALSE(estimate_value({}, {}, estimator::ips));
    std::vector<logged_sample> never{{1, 0.5, 0, 0, 0}, {2, 0.5, 0, 0, 0}};
    auto const w = importance_weights(never, 10);
    CHECK_FALSE(estimate_value(never, w, estimator::snips)); // Σw = 0
    CHECK(*estimate_value(never, w, estimator::ips) == 0);
    rng r{1};
    CHECK_FALSE(estimate_policy({}, estimator::snips, 10, 100, r));
}

TEST_CASE("Student's t, by hand: Cauchy at 1 degree of freedom, closed forms at 2, "
          "the table at 4, the normal in the limit",
          "[nodb]")
{
    // ν = 1: F(t) = 1/2 + atan(t)/π, so t_p = tan(π(p − 1/2))
    CHECK(student_t_cdf(1, 1) == Approx(0.75));
    CHECK(student_t_quantile(0.95, 1) == Approx(std::tan(std::numbers::pi * 0.45)));
    // ν = 2: F(t) = 1/2 + t/(2√(2 + t²)), so t_p = (2p − 1)/√(2p(1 − p))
    CHECK(student_t_cdf(1, 2) == Approx(0.5 + 1 / (2 * std::sqrt(3.0))));
    CHECK(student_t_quantile(0.95, 2) == Approx(0.9 / std::sqrt(2 * 0.95 * 0.05)));
    // the tables: t₀.₉₅ at 4 and 9 degrees of freedom
    CHECK(student_t_quantile(0.95, 4) == Approx(2.131847).epsilon(1e-6));
    CHECK(student_t_quantile(0.95, 9) == Approx(1.833113).epsilon(1e-6));
    // symmetric about 0, and the normal's 1.644854 as ν grows
    CHECK(student_t_quantile(0.05, 4) == Approx(-2.131847).epsilon(1e-6));
    CHECK(student_t_cdf(0, 3.5) == Approx(0.5));
    CHECK(student_t_quantile(0.95, 1e7) == Approx(1.644854).epsilon(1e-6));
    CHECK_THROWS(student_t_quantile(1, 4));
    CHECK_THROWS(student_t_quantile(0.5, 0));
}

TEST_CASE("an interval resting on few effective posts is as much wider as Student's t "
          "makes it",
          "[nodb]")
{
    // Hesterberg's expanded percentiles: the tail 1 − Φ(√(n/(n−1))·t₀.₉₅,ₙ₋₁)
    auto const phi = [](double z) { return 0.5 * std::erfc(-z / std::sqrt(2.0)); };
    // 5 posts: t₀.₉₅,₄ = 2.131847, z = √1.25 · 2.131847 = 2.383477
    CHECK(interval_tail(5) == Approx(1 - phi(std::sqrt(1.25) * 2.131847)).epsilon(1e-5));
    CHECK(interval_tail(5) == Approx(0.008575).epsilon(1e-3));
    // 10 posts: t₀.₉₅,₉ = 1.833113, z = √(10/9) · 1.833113 = 1.932271
    CHECK(interval_tail(10) == Approx(0.026663).epsilon(1e-3));
    // many posts: the plain 5th and 95th percentiles
    CHECK(interval_tail(1000) == Approx(0.049758).epsilon(1e-3));
    CHECK(interval_tail(INFINITY) == 0.05);
    // one post or fewer: as two, the widest there is short of the extremes
    CHECK(interval_tail(0.5) == interval_tail(2));
    CHECK(interval_tail(2) < 1e-15);
}

TEST_CASE("the bootstrap interval holds the estimate and narrows with more posts",
          "[nodb]")
{
    rng gen{7};
    auto sample = [&](std::size_t n) {
        std::vector<logged_sample> s;
        for (std::size_t i = 0; i < n; ++i) {
            // logged uniformly over 4 values; the target always draws value 0
            auto const value = gen.below(4);
            double const y = (value == 0 ? 1.0 : 0.0) + 0.5 * gen.normal();
            s.push_back({y, 0.25, value == 0 ? 1.0 : 0.0, 0, 0});
        }
        return s;
    };
    rng r{3};
    auto const small = *estimate_policy(sample(80), estimator::snips, 50, 400, r);
    auto const large = *estimate_policy(sample(2000), estimator::snips, 50, 400, r);
    for (auto const& e : {small, large}) {
        CHECK(e.lo <= e.value);
        CHECK(e.value <= e.hi);
    }
    CHECK(large.hi - large.lo < (small.hi - small.lo) / 2);
    // the truth (1) is inside the large sample's interval, and the posts the
    // target would have drawn are a quarter of them: ESS ≈ n/4
    CHECK(large.lo < 1.0);
    CHECK(large.hi > 1.0);
    CHECK(large.ess == Approx(500).epsilon(0.15));
}

TEST_CASE("the bootstrap values resamples of the posts drawn with replacement", "[nodb]")
{
    // The interval, worked the slow way: each of 300 rounds draws 5 posts
    // with replacement (the same generator, seeded alike), values the
    // resampled posts as a whole, and those values' percentiles at the
    // tails for the estimate's ESS (linear between ranks) bound it. Both
    // dimensions change, so the value is the product of the changes (see
    // below).
    auto const [a, b] = five_posts_mirrored();
    for (auto const e : {estimator::snips, estimator::doubly_robust}) {
        rng r{21};
        auto const got = *estimate_factored({a, b}, e, 2.5, 300, r);
        auto const values = resampled_by_hand(
            a, b, 300, 21, [e](auto const& ra, auto const& rb) -> std::optional<double> {
                double mean = 0;
                for (auto const& x : ra) {
                    mean += x.outcome / 5;
                }
                auto const va = estimate_value(ra, importance_weights(ra, 2.5), e);
                auto const vb = estimate_value(rb, importance_weights(rb, 2.5), e);
                if (!va || !vb) {
                    return std::nullopt;
                }
                return mean > 0 && *va > 0 && *vb > 0
                           ? mean * (*va / mean) * (*vb / mean)
                           : mean + (*va - mean) + (*vb - mean);
            });
        // the smaller ESS of the two dimensions' weights, (Σw)²/Σw²: a's
        // weights 1, 2.5 (3 cut to the cap), 0.5, 2, 0 give 36/11.5; b's 1,
        // 1, 1.5, 0, 2.5 give 36/10.5
        CHECK(got.ess == Approx(36 / 11.5));
        double const tail = interval_tail(36 / 11.5);
        CHECK(tail < 0.005);
        // (no outcome is below 0: neither is the interval, where DR's is)
        CHECK(got.lo == Approx(std::max(0.0, percentile_by_hand(values, tail))));
        CHECK(got.hi == Approx(percentile_by_hand(values, 1 - tail)));
        CHECK(got.lo < got.hi);
    }
}

TEST_CASE("the lift's interval is its resamples' percentiles reflected about it",
          "[nodb]")
{
    // Worked the slow way: each of 300 rounds draws 5 posts with replacement
    // (the same generator, seeded alike) and takes SNIPS_b − SNIPS_a over
    // them; with qα and q₁₋α those differences' percentiles (linear between
    // ranks) at the tails for the smaller ESS, the interval is
    // [2Δ − q₁₋α, 2Δ − qα] about the lift Δ on all posts, not [qα, q₁₋α]: a
    // lift overstated resamples larger still. (SNIPS: the model's columns
    // play no part.)
    auto const [a, b] = five_posts_mirrored();
    auto const snips = [](std::vector<logged_sample> const& s) {
        return *estimate_value(s, importance_weights(s, 100), estimator::snips);
    };
    double const lift = snips(b) - snips(a);
    rng r{21};
    auto const got = *estimate_lift(a, b, estimator::snips, 100, 300, r);
    CHECK(got.value == Approx(lift));
    auto const values = resampled_by_hand(
        a, b, 300, 21, [](auto const& ra, auto const& rb) -> std::optional<double> {
            auto const va =
                estimate_value(ra, importance_weights(ra, 100), estimator::snips);
            auto const vb =
                estimate_value(rb, importance_weights(rb, 100), estimator::snips);
            return va && vb ? std::optional<double>{*vb - *va} : std::nullopt;
        });
    // a's weights 1, 3, 0.5, 2, 0: ESS 6.5²/14.25; b's 1, 1, 1.5, 0, 4:
    // 7.5²/20.25, the smaller
    CHECK(got.ess == Approx(7.5 * 7.5 / 20.25));
    double const tail = interval_tail(7.5 * 7.5 / 20.25);
    CHECK(got.lo == Approx(2 * lift - percentile_by_hand(values, 1 - tail)));
    CHECK(got.hi == Approx(2 * lift - percentile_by_hand(values, tail)));
    // lopsided resamples: reflected, the interval is not the percentiles'
    CHECK(got.lo != Approx(percentile_by_hand(values, tail)));
    // and on under 3 effective posts it is wider than the 5th to 95th
    CHECK(got.hi - got.lo >
          percentile_by_hand(values, 0.95) - percentile_by_hand(values, 0.05) + 0.01);
}

TEST_CASE("a policy's value of outcomes never below 0 is not below 0, interval and all",
          "[nodb]")
{
    // Follows 0, 0, 1; the model predicts 2 for each and 0.5 for the policy.
    // DR = [(0.5 + 2·(0 − 2)) + (0.5 + 2·(0 − 2)) + (0.5 + 0·(1 − 2))] / 3
    //    = (−3.5 − 3.5 + 0.5) / 3 < 0: no mean of follows is; it reads 0.
    std::vector<logged_sample> s{
        {0, 0.5, 1, 2, 0.5}, {0, 0.5, 1, 2, 0.5}, {1, 0.5, 0, 2, 0.5}};
    CHECK(*estimate_value(s, importance_weights(s, 100), estimator::doubly_robust) ==
          Approx(-6.5 / 3));
    rng r{9};
    auto const v = *estimate_policy(s, estimator::doubly_robust, 100, 200, r);
    CHECK(v.value == 0);
    CHECK(v.lo == 0);
    CHECK(v.hi >= 0);
    // An outcome that can be negative (one is) keeps its sign.
    s[2].outcome = -1;
    rng r2{9};
    auto const signed_v = *estimate_policy(s, estimator::doubly_robust, 100, 200, r2);
    CHECK(signed_v.value < 0);
    CHECK(signed_v.lo < 0);
}

TEST_CASE("the lift of a policy over itself is zero, interval and all", "[nodb]")
{
    auto const s = three_posts();
    rng r{5};
    auto const lift = *estimate_lift(s, s, estimator::snips, 100, 200, r);
    CHECK(lift.value == 0);
    CHECK(lift.lo == 0);
    CHECK(lift.hi == 0);
}

TEST_CASE("the lift of a better policy is positive on the same posts", "[nodb]")
{
    // logged uniformly over two values; value 1 pays 1, value 0 pays 0
    std::vector<logged_sample> uniform;
    std::vector<logged_sample> best;
    rng gen{11};
    for (int i = 0; i < 400; ++i) {
        auto const v = gen.below(2);
        double const y = static_cast<double>(v);
        uniform.push_back({y, 0.5, 0.5, 0, 0});
        best.push_back({y, 0.5, v == 1 ? 1.0 : 0.0, 0, 0});
    }
    rng r{13};
    auto const lift = *estimate_lift(uniform, best, estimator::snips, 100, 400, r);
    // uniform earns 0.5, always-1 earns 1: a lift of 0.5
    CHECK(lift.value == Approx(0.5).margin(0.08));
    CHECK(lift.lo > 0.3);
    CHECK(lift.hi < 0.7);
}

TEST_CASE("a policy changed dimension by dimension is valued by the product of the "
          "changes",
          "[nodb]")
{
    // Outcomes 1, 0, 2 (mean 1), each dimension logged with probability ½.
    // Dimension A's new policy draws the first two posts' values with ½ and
    // never the third's: w = 1, 1, 0, SNIPS_A = (1 + 0) / 2 = 0.5.
    // Dimension B's draws them with 1, 0, ½: w = 2, 0, 1,
    // SNIPS_B = (2·1 + 1·2) / 3 = 4/3.
    // V = 1 · (0.5 / 1) · ((4/3) / 1) = 2/3 (the sum of the changes would
    // say 1 + (0.5 − 1) + (4/3 − 1) = 5/6).
    std::vector<logged_sample> a{
        {1, 0.5, 0.5, 0, 0}, {0, 0.5, 0.5, 0, 0}, {2, 0.5, 0, 0, 0}};
    std::vector<logged_sample> b{
        {1, 0.5, 1, 0, 0}, {0, 0.5, 0, 0, 0}, {2, 0.5, 0.5, 0, 0}};
    rng r{17};
    auto const v = *estimate_factored({a, b}, estimator::snips, 100, 200, r);
    CHECK(v.value == Approx(2.0 / 3.0));
    // ESS: A 2² / 2 = 2, B 3² / 5 = 1.8; the smaller counts
    CHECK(v.ess == Approx(1.8));
    CHECK(v.lo <= v.value);
    CHECK(v.value <= v.hi);
    // The same policy in both: no lift; against the logged one (w = 1) the
    // lift is V − 1.
    auto const none =
        *estimate_factored_lift({a, b}, {a, b}, estimator::snips, 100, 50, r);
    CHECK(none.value == 0);
    std::vector<logged_sample> same{
        {1, 0.5, 0.5, 0, 0}, {0, 0.5, 0.5, 0, 0}, {2, 0.5, 0.5, 0, 0}};
    auto const lift =
        *estimate_factored_lift({same, same}, {a, b}, estimator::snips, 100, 50, r);
    CHECK(lift.value == Approx(2.0 / 3.0 - 1));
    // Outcomes that are not all positive (−1, 0, 4: mean 1) have no product
    // to speak of: the changes add up. A: (−1 + 0) / 2 = −0.5, B:
    // (2·(−1) + 1·4) / 3 = 2/3; V = 1 + (−0.5 − 1) + (2/3 − 1) = −5/6.
    for (auto* s : {&a, &b}) {
        (*s)[0].outcome = -1;
        (*s)[2].outcome = 4;
    }
    auto const signed_v = *estimate_factored({a, b}, estimator::snips, 100, 50, r);
    CHECK(signed_v.value == Approx(-5.0 / 6.0));
}

TEST_CASE("what was learned: each value's interval, posts, share and weight, best first",
          "[nodb]")
{
    auto const posteriors = nlohmann::json::parse(R"({
        "_prior": {"hook_type": {"mean": 0, "sd": 0.2}},
        "hook_type": {
            "story":    {"mean": 0.1, "shrunk_mean": 0.05, "sd": 0.1, "n": 2},
            "question": {"mean": 0.5, "shrunk_mean": 0.4, "sd": 0.2, "n": 12}}})");
    auto const weights = nlohmann::json::parse(R"({"hook_type": {"question": 0.9,
                                                                  "story": 0.1}})");
    // three planned posts: two with question, one with story; one adopted
    // post without draws does not count towards the shares
    std::vector<logged_post> posts(4);
    posts[0].draws["hook_type"] = {"question", 0.5, 2};
    posts[1].draws["hook_type"] = {"question", 0.5, 2};
    posts[2].draws["hook_type"] = {"story", 0.5, 2};
    auto const learned = learned_values(posteriors, weights, posts);
    REQUIRE(learned.size() == 1);
    auto const& v = learned.at("hook_type");
    REQUIRE(v.size() == 2);
    CHECK(v[0].value == "question"); // the higher shrunk mean first
    CHECK(v[0].mean == Approx(0.4));
    CHECK(v[0].lo == Approx(0.4 - 1.645 * 0.2));
    CHECK(v[0].hi == Approx(0.4 + 1.645 * 0.2));
    CHECK(v[0].posts == 12);
    CHECK(v[0].share == Approx(2.0 / 3.0));
    CHECK(v[0].weight == Approx(0.9));
    CHECK_FALSE(v[0].too_few);
    CHECK(v[1].value == "story");
    CHECK(v[1].too_few); // 2 posts say little
    CHECK(v[1].share == Approx(1.0 / 3.0));
    // no map: nothing learned
    CHECK(learned_values(nullptr, nullptr, posts).empty());
}

TEST_CASE("a learned dimension plan does not draw has no share, and says so", "[nodb]")
{
    // structure_type follows decision_type: the map learns it, plan never
    // draws it, so "0 % of recent posts" would be false
    auto const posteriors = nlohmann::json::parse(R"({
        "hook_type": {"question": {"shrunk_mean": 0.4, "sd": 0.2, "n": 12}},
        "structure_type": {"thread": {"shrunk_mean": 0.7, "sd": 0.1, "n": 33},
                           "single": {"shrunk_mean": 0.4, "sd": 0.1, "n": 6}}})");
    std::vector<logged_post> posts(2);
    posts[0].draws["hook_type"] = {"question", 0.5, 2};
    posts[1].draws["hook_type"] = {"story", 0.5, 2};
    policy_report r;
    r.learned = learned_values(posteriors, nullptr, posts);
    auto const& structure = r.learned.at("structure_type");
    CHECK_FALSE(structure[0].share.has_value());
    CHECK_FALSE(drawn(structure));
    CHECK(share_text(structure[0]) == "-");
    auto const& hook = r.learned.at("hook_type");
    CHECK(drawn(hook));
    CHECK(share_text(hook[0]) == "50 %"); // one of two planned posts
    auto const table = policy_report_table(r);
    CHECK(table.find("  structure_type (plan does not draw it)\n") != std::string::npos);
    CHECK(table.find("  hook_type\n") != std::string::npos);
    CHECK(policy_report_json(r)["learned"]["structure_type"][0]["share"].is_null());
}

TEST_CASE("before plan drew any post (an adopted database) no value has a share, and "
          "the table says why instead of calling every dimension undrawn",
          "[nodb]")
{
    // thousands of the original bot's posts, none drawn: "0 %" beside every
    // value read as values plan shuns
    auto const posteriors = nlohmann::json::parse(R"({
        "hook_type": {"question": {"shrunk_mean": 0.4, "sd": 0.2, "n": 1200}},
        "tone": {"calm": {"shrunk_mean": 0.1, "sd": 0.1, "n": 800}}})");
    policy_report r;
    r.learned = learned_values(posteriors, nullptr, std::vector<logged_post>(3));
    CHECK_FALSE(r.learned.at("hook_type")[0].share.has_value());
    CHECK(share_text(r.learned.at("tone")[0]) == "-");
    CHECK_FALSE(any_drawn(r));
    auto const table = policy_report_table(r);
    CHECK_THAT(table, Catch::Contains("share of recent posts (none yet: no post with "
                                      "outcomes was drawn by xloop-plan)"));
    CHECK(table.find("plan does not draw it") == std::string::npos);
    CHECK(table.find("  hook_type\n") != std::string::npos);
}

TEST_CASE("the replies' own value is counted in replies, with no share of posts",
          "[nodb]")
{
    // 'reply' is learned from replies and never drawn for a post: "90 posts,
    // 0 %" read as a value plan shuns
    auto const posteriors = nlohmann::json::parse(R"({
        "content_slot": {"how_to": {"shrunk_mean": 0.6, "sd": 0.1, "n": 10},
                         "reply": {"shrunk_mean": -0.1, "sd": 0.05, "n": 90}}})");
    std::vector<logged_post> posts(4);
    for (auto& p : posts) {
        p.draws["content_slot"] = {"how_to", 0.5, 2};
    }
    policy_report r;
    r.learned = learned_values(posteriors, nullptr, posts);
    auto const& slot = r.learned.at("content_slot");
    REQUIRE(slot.size() == 2);
    CHECK(slot[0].share == Approx(1.0)); // how_to: all four planned posts
    CHECK(slot[1].replies);
    CHECK_FALSE(slot[1].share.has_value());
    auto const table = policy_report_table(r);
    CHECK(table.find("   10 posts  100 %  weight") != std::string::npos);
    CHECK(table.find("   90 replies    -  weight") != std::string::npos);
    CHECK(table.find("  content_slot\n") != std::string::npos); // still drawn
}

TEST_CASE("validate says which dimensions the map learned from their recent days only",
          "[nodb]")
{
    // build-weights marks a dimension whose values rank otherwise lately;
    // a map without the mark, or with a malformed one, has none
    auto const posteriors = nlohmann::json::parse(R"({
        "_prior": {
            "content_slot": {"mean": 0, "sd": 0.2,
                             "changed": {"statistic": 30, "threshold": 20,
                                         "learned_from_days": 21}},
            "hook_type": {"mean": 0, "sd": 0.2},
            "tone": {"mean": 0, "sd": 0.2, "changed": {"learned_from_days": "x"}}},
        "content_slot": {"how_to": {"mean": 0.1, "sd": 0.1, "n": 9},
                         "case_study": {"mean": 0.5, "sd": 0.1, "n": 12}},
        "hook_type": {"question": {"mean": 0.5, "sd": 0.2, "n": 12}}})");
    auto const recent = recent_only_dimensions(posteriors);
    CHECK(recent == std::map<std::string, double>{{"content_slot", 21}});
    CHECK(recent_only_dimensions(nullptr).empty());
    CHECK(recent_only_dimensions(nlohmann::json::parse(R"({"_prior": 3})")).empty());

    policy_report r;
    r.learned = learned_values(posteriors, nullptr, {});
    r.recent_only = recent;
    auto const table = policy_report_table(r);
    CHECK_THAT(table,
               Catch::Contains("  content_slot (learned from the last 21 days only: "
                               "its values rank otherwise than before)\n"));
    CHECK_THAT(table, Catch::Contains("  hook_type\n"));
    CHECK(policy_report_json(r)["learned_recent_only_days"] ==
          nlohmann::json{{"content_slot", 21}});
}

TEST_CASE("validate says which dimensions' values the map does not tell apart", "[nodb]")
{
    // topic: every shrunk component at the cap, so each value is the
    // dimension's mean; tone: reach tells its values apart; hook_type: no
    // kappa recorded (a map from before it was), nothing claimed. A
    // distrusted engagement rate counts nothing, the other components decide:
    // cta_type's are at the cap; decision_type's engagement rate is trusted
    // in part and not at the cap; structure_type has only a distrusted
    // component: nothing to say
    auto const posteriors = nlohmann::json::parse(R"({
        "_prior": {
            "cta_type": {"mean": 0.1, "sd": 0.004, "engagement_rate_trust": 0.0,
                         "kappa": {"reach": 1000000000.0, "engagement_rate": 13.9}},
            "decision_type": {"mean": 0.1, "sd": 0.004, "engagement_rate_trust": 0.4,
                              "kappa": {"reach": 1000000000.0, "engagement_rate": 13.9}},
            "structure_type": {"mean": 0.1, "sd": 0.004, "engagement_rate_trust": 0,
                               "kappa": {"engagement_rate": 13.9}},
            "topic": {"mean": 0.2, "sd": 0.004,
                      "kappa": {"reach": 1000000000.0, "engagement_rate": 1000000000.0}},
            "tone": {"mean": 0.2, "sd": 0.2,
                     "kappa": {"reach": 5.0, "engagement_rate": 1000000000.0}},
            "hook_type": {"mean": 0, "sd": 0.2},
            "generator_name": {"mean": 0, "sd": 0.2, "kappa": {"reach": "x"}}},
        "topic": {"sql": {"mean": 0.2, "sd": 0.004, "n": 2},
                  "metrics": {"mean": 0.2, "sd": 0.004, "n": 6}},
        "tone": {"calm": {"mean": 0.4, "sd": 0.1, "n": 5}},
        "hook_type": {"question": {"mean": 0.5, "sd": 0.2, "n": 12}}})");
    auto const flat = no_spread_dimensions(posteriors);
    CHECK(flat == std::set<std::string>{"cta_type", "topic"});
    CHECK(no_spread_dimensions(nullptr).empty());

    policy_report r;
    r.learned = learned_values(posteriors, nullptr, {});
    r.no_spread = {"topic"};
    r.recent_only = {{"topic", 21}};
    auto const table = policy_report_table(r);
    CHECK_THAT(table, Catch::Contains("  topic (learned from the last 21 days only: its "
                                      "values rank otherwise than before; its values "
                                      "differ no more than noise yet: each is the "
                                      "dimension's mean)\n"));
    CHECK_THAT(table, Catch::Contains("  tone\n"));
    CHECK(policy_report_json(r)["learned_no_spread"] == nlohmann::json{"topic"});
    // a dimension with replies: they keep their own mean, the posts' are pooled
    learned_value single, reply;
    single.value = "single";
    reply.value = "reply";
    reply.replies = true;
    r.learned["decision_type"] = {single, reply};
    r.no_spread = {"decision_type"};
    CHECK_THAT(policy_report_table(r),
               Catch::Contains("  decision_type (its posts' values differ no more than "
                               "noise yet: each is their mean)\n"));
}

TEST_CASE("a number that rounds to zero prints 0.000, never -0.000", "[nodb]")
{
    CHECK(fmt::format("{:.3f}", -0.0004) == "-0.000"); // why at_3dp is there
    CHECK(fmt::format("{:.3f} {:.3f} {:+.3f}", at_3dp(-0.0004), at_3dp(0.0004),
                      at_3dp(-0.0004)) == "0.000 0.000 +0.000");
    CHECK(fmt::format("{:.3f}", at_3dp(-0.0006)) == "-0.001");
    policy_report r;
    r.posts = r.with_propensities = 30;
    policy_row row;
    row.policy = "map";
    row.snips = policy_estimate{0.1, 0.05, 0.2, 30, 0, 30};
    row.follows_dr = policy_estimate{1.654, -0.0000123, 3.326, 30, 0, 30};
    r.rows = {row};
    r.lift = policy_estimate{0.017, 0.005, 0.026, 30, 0, 30};
    r.lift_follows = policy_estimate{1.762, 0.58, 2.772, 30, 0, 30};
    r.lift_follows_dr = policy_estimate{1.654, -0.0002, 3.326, 30, 0, 30};
    auto const table = policy_report_table(r);
    CHECK_THAT(table, Catch::Contains("1.654 [0.000, 3.326]"));
    CHECK_THAT(table, Catch::Contains("DR 1.654 [0.000, 3.326])"));
    CHECK_THAT(table, !Catch::Contains("-0.000"));
}

TEST_CASE("on a terminal too narrow for the four estimates side by side the follows go "
          "under the score and the prose wraps under its column",
          "[nodb]")
{
    policy_report r;
    r.posts = r.with_propensities = 87;
    policy_row logged;
    logged.policy = "logged";
    logged.snips = policy_estimate{0.151, 0.133, 0.171, 87, 0, 87};
    logged.dr = policy_estimate{0.152, 0.132, 0.168, 87, 0, 87};
    logged.follows_snips = policy_estimate{10.316, 8.806, 11.823, 87, 0, 87};
    logged.follows_dr = policy_estimate{10.317, 8.793, 11.984, 87, 0, 87};
    policy_row uniform;
    uniform.policy = "uniform";
    uniform.note = "effective sample 3.4 posts, below 5: the logged draws cannot say";
    r.rows = {logged, uniform};
    r.lift = policy_estimate{0.017, 0.005, 0.026, 30, 0, 30};
    r.lift_follows = policy_estimate{1.762, 0.58, 2.772, 30, 0, 30};
    auto const posteriors = nlohmann::json::parse(R"({
        "post_hour": {"18": {"shrunk_mean": 0.19, "sd": 0.07, "n": 23},
                      "09": {"shrunk_mean": 0.01, "sd": 0.1, "n": 12},
                      "12": {"shrunk_mean": 0.04, "sd": 0.08, "n": 1}},
        "topic": {"analytics_engineering": {"shrunk_mean": 0.034, "sd": 0.034, "n": 14},
                  "sql": {"shrunk_mean": 0.045, "sd": 0.037, "n": 6}}})");
    std::vector<logged_post> posts(4);
    for (std::size_t i = 0; i < posts.size(); ++i) {
        posts[i].draws["post_hour"] = {i == 0 ? "09" : "18", 0.5, 2};
        posts[i].draws["topic"] = {i == 0 ? "sql" : "analytics_engineering", 0.5, 2};
    }
    r.learned = learned_values(posteriors, nullptr, posts);

    // no terminal (a file, a pipe, cron's mail): one line a row
    auto const plain = policy_report_table(r);
    CHECK_THAT(plain, Catch::Contains("score (SNIPS)            score (DR)               "
                                      "follows (SNIPS)          follows (DR)             "
                                      "ESS\n"));
    CHECK_THAT(plain,
               Catch::Contains("  logged   0.151 [0.133, 0.171]     0.152 [0.132, "
                               "0.168]     10.316 [8.806, 11.823]   10.317 [8.793, "
                               "11.984]   87\n"));
    // a wide terminal: side by side too
    CHECK(policy_report_table(r, 200).find("score (DR)               follows (SNIPS)") !=
          std::string::npos);

    auto const narrow = policy_report_table(r, 80);
    std::size_t longest = 0;
    std::istringstream lines{narrow};
    for (std::string line; std::getline(lines, line);) {
        longest = std::max(longest, line.size());
        CHECK(line.find_last_not_of(' ') + 1 == line.size()); // no trailing blanks
    }
    CHECK(longest <= 80);
    // the learned values' names in a column as wide as the longest
    CHECK_THAT(plain, Catch::Contains("    18                       +0.190 [+0.075, "
                                      "+0.305]    23 posts   75 %  weight"));
    CHECK_THAT(narrow, Catch::Contains("    18       +0.190 [+0.075, +0.305]    23 posts "
                                       "  75 %  weight"));
    // a 21-letter topic's row: its counts, words and shares close up to fit
    CHECK_THAT(plain,
               Catch::Contains("    analytics_engineering    +0.034 [-0.022, +0.090] "
                               "   14 posts   75 %  weight"));
    CHECK_THAT(narrow,
               Catch::Contains("    analytics_engineering  +0.034 [-0.022, +0.090]  "
                               "14 posts  75 %  weight 0.000\n"));
    CHECK_THAT(narrow,
               Catch::Contains("    sql                    +0.045 [-0.016, +0.106]   "
                               "6 posts  25 %  weight 0.000\n"));
    // a mail's 78 columns: then its name is cut, as past 23 characters
    auto const mail = policy_report_table(r, 78);
    std::istringstream mail_lines{mail};
    for (std::string line; std::getline(mail_lines, line);) {
        INFO(line);
        CHECK(characters(line) <= 78);
    }
    CHECK_THAT(mail, Catch::Contains("    analytics_engineer…  +0.034 [-0.022, +0.090]  "
                                     "14 posts  75 %  weight 0.000\n"));
    CHECK_THAT(mail, Catch::Contains("    sql                  +0.045 [-0.016, +0.106]   "
                                     "6 posts  25 %  weight 0.000\n"));
    // a value too few posts to say anything of: said on a line of its own,
    // under the numbers, where the row has no room left
    CHECK_THAT(plain, Catch::Contains("weight 0.000  (too few posts to say)\n"));
    CHECK_THAT(narrow, Catch::Contains("weight 0.000\n             (too few posts to "
                                       "say)\n"));
    CHECK_THAT(narrow,
               Catch::Contains("  policy   score (SNIPS)            score (DR)       "
                               "        ESS\n"
                               "  logged   0.151 [0.133, 0.171]     0.152 [0.132, "
                               "0.168]     87\n"
                               "  uniform  effective sample 3.4 posts, below 5: the "
                               "logged draws cannot say\n"
                               "  policy   follows (SNIPS)          follows (DR)\n"
                               "  logged   10.316 [8.806, 11.823]   10.317 [8.793, "
                               "11.984]\n"));
    // the uniform row's note is said once, in the score's block
    CHECK(narrow.find("effective sample") == narrow.rfind("effective sample"));
    // the heading and the lift wrap, their further lines indented
    CHECK_THAT(narrow, Catch::Contains("What the choices are worth (87 posts with "
                                       "outcomes, 87 with propensities; mean\n  "));
    CHECK_THAT(narrow,
               Catch::Contains("  lift of the map's policy over uniform: 0.017 "
                               "[0.005, 0.026] (1.762 [0.580,\n    2.772] follows "
                               "a post)\n"));
}

TEST_CASE("replies: the learned priorities against opportunity score alone, by hand",
          "[nodb]")
{
    // Three replies as they ran, with the propensity plan drew each with and
    // whether opportunity score alone would have taken it; a fourth planned
    // before baseline_p was logged is left out.
    std::vector<logged_reply> const replies{
        {0.5, 1.0, 0.2, 1.0, {}},
        {0.25, 0.0, 0.6, 3.0, {}},
        {1.0, 1.0, 0.4, 2.0, {}},
        {0.5, std::nullopt, 0.9, 9.0, {}},
    };
    auto const r = evaluate_replies(replies, {3, 1.5}, 7);
    CHECK(r.posts == 4);
    CHECK(r.with_propensities == 3);
    REQUIRE(r.note.empty());
    REQUIRE(r.rows.size() == 2);
    // learned, as it ran: (0.2 + 0.6 + 0.4)/3 = 0.4; follows (1 + 3 + 2)/3 = 2
    CHECK(r.rows[0].policy == "learned");
    CHECK(r.rows[0].snips->value == Approx(0.4));
    CHECK(r.rows[0].follows_snips->value == Approx(2.0));
    // opportunity alone: w = 1/0.5, 0/0.25, 1/1 = 2, 0, 1;
    // SNIPS (2·0.2 + 1·0.4)/3 = 0.26667, follows (2·1 + 1·2)/3 = 1.3333;
    // ESS (2 + 0 + 1)²/(4 + 0 + 1) = 1.8
    CHECK(r.rows[1].policy == "opportunity");
    CHECK(r.rows[1].snips->value == Approx(0.8 / 3));
    CHECK(r.rows[1].follows_snips->value == Approx(4.0 / 3));
    CHECK(r.rows[1].snips->ess == Approx(1.8));
    // the lift of the learned priorities: 0.4 − 0.26667, 2 − 1.3333
    REQUIRE(r.lift);
    CHECK(r.lift->value == Approx(0.4 - 0.8 / 3));
    CHECK(r.lift->lo <= r.lift->value);
    CHECK(r.lift->hi >= r.lift->value);
    CHECK(r.lift_follows->value == Approx(2.0 / 3));
    // an effective sample below the floor: no number for the baseline, no lift
    auto const thin = evaluate_replies(replies, {3, 2}, 7);
    CHECK(thin.rows[1].note.find("effective sample 1.8 replies, below 2") !=
          std::string::npos);
    CHECK_FALSE(thin.lift);
    // too few replies with propensities: says so
    auto const few = evaluate_replies(replies, {4, 1}, 7);
    CHECK(few.note.find("3 of 4 replies have the propensities") != std::string::npos);
    CHECK(few.rows.empty());
}

TEST_CASE("a reply whose follows were never measured counts in the score, not in "
          "the follows",
          "[nodb]")
{
    // The three replies above and one posted while cron was down (no
    // snapshot near it: its follows unknown, stored 0).
    std::vector<logged_reply> const replies{
        {0.5, 1.0, 0.2, 1.0, {}},
        {0.25, 0.0, 0.6, 3.0, {}},
        {1.0, 1.0, 0.4, 2.0, {}},
        {1.0, 1.0, 0.8, 0.0, {}, true},
    };
    auto const r = evaluate_replies(replies, {3, 1.5}, 7);
    REQUIRE(r.rows.size() == 2);
    // score (0.2 + 0.6 + 0.4 + 0.8)/4; follows (1 + 3 + 2)/3, not 6/4
    CHECK(r.rows[0].snips->value == Approx(0.5));
    CHECK(r.rows[0].follows_snips->value == Approx(2.0));
    // opportunity alone, w = 2, 0, 1 (and 1 for the fourth's score):
    // follows (2·1 + 1·2)/3
    CHECK(r.rows[1].snips->value == Approx((0.4 + 0.4 + 0.8) / 4));
    CHECK(r.rows[1].follows_snips->value == Approx(4.0 / 3));
}

TEST_CASE("too few logged posts or replies are said in words, never \"0 of 0\"", "[nodb]")
{
    auto const none = evaluate_replies({}, {20, 10}, 7);
    CHECK(none.note == "no replies with outcomes yet: nothing to estimate");
    CHECK(none.rows.empty());
    std::vector<logged_reply> const one{{0.5, 1.0, 0.2, 1.0, {}}};
    CHECK(evaluate_replies(one, {20, 10}, 7).note ==
          "only 1 reply, with the propensities plan stores, fewer than 20: too few to "
          "estimate what opportunity score alone would have earned");
    std::vector<logged_reply> const two{{0.5, 1.0, 0.2, 1.0, {}},
                                        {0.5, 1.0, 0.3, 1.0, {}}};
    CHECK(
        evaluate_replies(two, {20, 10}, 7)
            .note.starts_with(
                "only 2 replies, all with the propensities plan stores, fewer than 20"));
    auto const posts =
        evaluate_policies({}, {}, nullptr, nullptr, {0.1, 0.0}, {20, 10}, 7);
    CHECK(posts.note == "no posts with outcomes yet: nothing to estimate");
}

namespace {
// A map that draws `best` for hook_type (P(best) ≈ 1: means 1 and 0, sd 0.01).
nlohmann::json map_preferring(std::string const& best)
{
    std::string const other = best == "question" ? "story" : "question";
    return {{"_prior", {{"hook_type", {{"mean", 0.5}, {"sd", 0.5}, {"sigma", 0.5}}}}},
            {"hook_type",
             {{best, {{"shrunk_mean", 1.0}, {"sd", 0.01}, {"n", 10}}},
              {other, {{"shrunk_mean", 0.0}, {"sd", 0.01}, {"n", 10}}}}}};
}

// The first posting time from `from` on, minute by minute, in half `fold`.
timestamp in_fold(int fold, timestamp from)
{
    while (cross_fit_fold(from.time_since_epoch().count()) != fold) {
        from += std::chrono::minutes{1};
    }
    return from;
}
} // namespace

TEST_CASE("the map's policy values each half of the posts as learned from the other half",
          "[nodb]")
{
    // Four posts, hook_type drawn with ½ each time: in half 0 question (1)
    // and story (3), in half 1 question (2) and story (0). The map learned
    // without half 0 draws story, the one without half 1 question:
    // w = 0, 2 | 2, 0, SNIPS = (2·3 + 2·2) / 4 = 2.5. The active map (question
    // everywhere) on the same posts: w = 2, 0, 2, 0, (2·1 + 2·2) / 4 = 1.5.
    std::map<std::string, std::vector<std::string>> const catalogue{
        {"hook_type", {"question", "story"}}};
    auto t = parse_timestamp("2026-03-01T00:00:00Z").value();
    std::vector<logged_post> posts;
    for (auto const& [fold, hook, y] : std::vector<std::tuple<int, char const*, double>>{
             {0, "question", 1}, {0, "story", 3}, {1, "question", 2}, {1, "story", 0}}) {
        t = in_fold(fold, t + std::chrono::minutes{1});
        logged_post p;
        p.draws["hook_type"] = {hook, 0.5, 2};
        p.score = y;
        p.posted_at = t;
        posts.push_back(p);
        REQUIRE(fold_of(posts.back()) == fold);
    }
    auto const active = map_preferring("question");
    nlohmann::json const cross_fit = {map_preferring("story"),
                                      map_preferring("question")};
    evidence_floor const floor{3, 1};
    auto const r =
        evaluate_policies(posts, catalogue, active, cross_fit, {0.1, 0.0}, floor, 7);
    CHECK(r.cross_fitted);
    REQUIRE(r.rows.size() == 3);
    CHECK(r.rows[0].snips->value == Approx(1.5)); // as logged: the mean
    CHECK(r.rows[2].policy == "map");
    CHECK(r.rows[2].snips->value == Approx(2.5));
    // Without the pair (a map from before 0012), the active map on its own posts.
    auto const old =
        evaluate_policies(posts, catalogue, active, nullptr, {0.1, 0.0}, floor, 7);
    CHECK_FALSE(old.cross_fitted);
    CHECK(old.rows[2].snips->value == Approx(1.5));
    // A pair with a half missing (no rows in it) is no pair.
    CHECK_FALSE(
        map_policies_of(catalogue, active, {nullptr, map_preferring("story")}, {0.1, 0.0})
            .cross_fitted);
}

TEST_CASE("a map another program or a hand left active is valued as plan draws from it, "
          "never read past a missing or textual number",
          "[nodb]")
{
    // story's arm has no sd: plan cannot use the map (validate's weight_map
    // check says so) and draws uniformly; validate read past the end of the
    // arm for its "sd" (undefined behaviour, found by fuzz_weight_map).
    auto const map = nlohmann::json::parse(R"({
        "_prior": {"hook_type": {"mean": 0.5, "sd": 0.1, "sigma": 0.5, "epsilon": 0}},
        "hook_type": {"story": {"shrunk_mean": 0.9, "s`": 0.2, "n": 10},
                      "question": {"shrunk_mean": "0.5", "mean": 0.4, "sd": 0.2,
                                   "n": "ten"}}})");
    std::map<std::string, std::vector<std::string>> const catalogue = {
        {"hook_type", {"story", "question"}}};
    auto const policies = map_policies_of(catalogue, map, nullptr, {0.1, {}, 1.0});
    CHECK(policies.of_fold[0].at("hook_type").at("story") == Approx(0.5));
    CHECK(policies.of_fold[1].at("hook_type").at("question") == Approx(0.5));
    CHECK_FALSE(arms_of(map, "hook_type", {"story", "question"}, {0.1, {}, 1.0}));
    // What validate lists: question by its raw mean (the shrunk one is text),
    // with no count; story, without an sd, not at all.
    auto const learned = learned_values(map, map, {});
    REQUIRE(learned.at("hook_type").size() == 1);
    CHECK(learned.at("hook_type")[0].value == "question");
    CHECK(learned.at("hook_type")[0].mean == Approx(0.4));
    CHECK(learned.at("hook_type")[0].posts == 0);
}

TEST_CASE("plan.posterior_scale narrows the learned values' posteriors, and the policy "
          "valued is the one plan draws with it",
          "[nodb]")
{
    nlohmann::json const map = {
        {"_prior",
         {{"hook_type", {{"mean", 0.5}, {"sd", 0.1}, {"sigma", 0.5}, {"epsilon", 0}}}}},
        {"hook_type",
         {{"story", {{"shrunk_mean", 0.6}, {"sd", 0.2}, {"n", 10}}},
          {"question", {{"shrunk_mean", 0.5}, {"sd", 0.2}, {"n", 10}}}}}};
    auto const arms =
        arms_of(map, "hook_type", {"story", "question", "reveal"}, {0.1, {}, 0.5});
    REQUIRE(arms);
    REQUIRE(arms->arms.size() == 3);
    CHECK(arms->arms[0].sd == Approx(0.1)); // 0.2 · 0.5
    CHECK(arms->arms[1].sd == Approx(0.1));
    CHECK(arms->arms[2].sd == Approx(0.5)); // never posted: one post's spread, unscaled
    CHECK(arms->epsilon == 0);              // the map's own ε
    // Two values: P(story best) = Φ(0.1 / √(s² + s²)): s = 0.2 gives Φ(0.3536) =
    // 0.6382, s = 0.1 gives Φ(0.7071) = 0.7602.
    auto const as_is =
        map_policy("hook_type", {"story", "question"}, map, {0.1, {}, 1.0});
    auto const narrow =
        map_policy("hook_type", {"story", "question"}, map, {0.1, {}, 0.5});
    CHECK(as_is.at("story") == Approx(0.6382).margin(1e-4));
    CHECK(narrow.at("story") == Approx(0.7602).margin(1e-4));
    CHECK(narrow.at("question") == Approx(1 - 0.7602).margin(1e-4));
}

TEST_CASE("a dimension of thousands of values shows the twelve that say most, best "
          "first, and counts the rest",
          "[nodb]")
{
    // 30 values, best first by mean: v00 … v29; v00–v04 rest on one post
    // each, v05–v29 on 10 + i; v27 was drawn by plan lately though it ranks
    // low; everything else has no share.
    std::vector<learned_value> values;
    for (int i = 0; i < 30; ++i) {
        learned_value v;
        v.value = fmt::format("v{:02d}", i);
        v.mean = 1.0 - 0.01 * i;
        v.posts = i < 5 ? 1 : 10 + i;
        v.too_few = v.posts < min_learned_posts;
        v.share = i == 27 ? std::optional{0.4} : std::optional{0.0};
        values.push_back(v);
    }
    auto const shown = values_to_show(values);
    std::vector<std::string> names;
    for (auto const* v : shown.values) {
        names.push_back(v->value);
    }
    // v27 (drawn), then the 11 with the most posts among those with enough
    // (v18 … v29 less v27, i.e. v18–v26, v28, v29), in the order of the means
    CHECK(names == std::vector<std::string>{"v18", "v19", "v20", "v21", "v22", "v23",
                                            "v24", "v25", "v26", "v27", "v28", "v29"});
    CHECK(shown.hidden == 18);
    CHECK(shown.hidden_too_few == 5);
    CHECK(hidden_values_text(shown) ==
          "… and 18 more values (5 with too few posts to say); --json lists every one");
    // twelve or fewer: all of them, nothing said
    values.resize(12);
    auto const all = values_to_show(values);
    CHECK(all.values.size() == 12);
    CHECK(all.values.front()->value == "v00");
    CHECK(hidden_values_text(all).empty());
}

namespace {
// The three posts of validate's hand-worked test, six times over, one after
// the other (so that each half of them, by time, holds every value three
// times; every weighted mean is the three posts'): scores 0.6, 0.2, 0.4,
// content_slot drawn ½ each, hook_type question with 0.8, story 0.2.
std::vector<logged_post> three_logged_posts(int times = 6)
{
    auto t = parse_timestamp("2026-03-01T00:00:00Z").value();
    std::vector<logged_post> posts;
    for (int k = 0; k < times; ++k) {
        for (auto const& [slot, hook, p, y] :
             std::vector<std::tuple<char const*, char const*, double, double>>{
                 {"how_to", "question", 0.8, 0.6},
                 {"hot_take", "story", 0.2, 0.2},
                 {"how_to", "story", 0.2, 0.4}}) {
            logged_post post;
            post.draws["content_slot"] = {slot, 0.5, 2};
            post.draws["hook_type"] = {hook, p, 2};
            post.score = y;
            post.posted_at = t += std::chrono::hours{1};
            posts.push_back(post);
        }
    }
    return posts;
}
} // namespace

TEST_CASE("a what-if policy is valued on the logged posts against the map's, by weights "
          "worked by hand",
          "[nodb]")
{
    std::map<std::string, std::vector<std::string>> const catalogue{
        {"content_slot", {"how_to", "hot_take"}}, {"hook_type", {"question", "story"}}};
    evidence_floor const floor{3, 1};
    // No map: the map's policy is uniform. Per dimension (outcomes all
    // positive, so the changes multiply, V = mean · Π SNIPS_d / mean, mean
    // 0.4): content_slot π = ½ = μ, w = 1: no change; hook_type π = ½,
    // w = 0.625, 2.5, 2.5: SNIPS = 1.875 / 5.625 = 1/3, V = 1/3.
    // What if hook_type question: π = 1, 0, 0, w = 1.25, 0, 0: SNIPS = 0.6,
    // content_slot as the map's (no change): V = 0.6, ESS 6 (six posts of
    // weight 1.25).
    auto const hook =
        evaluate_policies(three_logged_posts(), catalogue, nullptr, nullptr, {0.1, 0.0},
                          floor, 7, {{"hook_type", {"question"}}});
    REQUIRE(hook.what_if_comparison);
    auto const& c = *hook.what_if_comparison;
    REQUIRE(c.rows.size() == 2);
    CHECK(c.rows[0].policy == "map");
    CHECK(c.rows[0].snips->value == Approx(1.0 / 3));
    CHECK(c.rows[1].policy == "what-if");
    CHECK(c.rows[1].snips->value == Approx(0.6));
    CHECK(c.rows[1].snips->ess == Approx(6));
    CHECK(c.lift->value == Approx(0.6 - 1.0 / 3));
    // the others as they are without it
    auto const plain = evaluate_policies(three_logged_posts(), catalogue, nullptr,
                                         nullptr, {0.1, 0.0}, floor, 7);
    CHECK_FALSE(plain.what_if_comparison);
    REQUIRE(plain.rows.size() == 3);
    for (std::size_t i = 0; i < 3; ++i) {
        CHECK(hook.rows[i].snips->value == plain.rows[i].snips->value);
        CHECK(hook.rows[i].snips->lo == plain.rows[i].snips->lo);
    }
    // What if content_slot how_to: w = 2, 0, 2, SNIPS = (1.2 + 0.8) / 4 = 0.5;
    // hook_type as the map's (1/3): V = 0.4 · (0.5 / 0.4) · ((1/3) / 0.4).
    auto const slot =
        evaluate_policies(three_logged_posts(), catalogue, nullptr, nullptr, {0.1, 0.0},
                          floor, 7, {{"content_slot", {"how_to"}}});
    CHECK(slot.what_if_comparison->rows[1].snips->value == Approx(0.5 * (1.0 / 3) / 0.4));
    // Both values of a dimension: the map's own (uniform) policy, no lift.
    auto const both =
        evaluate_policies(three_logged_posts(), catalogue, nullptr, nullptr, {0.1, 0.0},
                          floor, 7, {{"hook_type", {"question", "story"}}});
    CHECK(both.what_if_comparison->lift->value == Approx(0).margin(1e-12));
    // A value the newer half of the posts never drew: the older half alone
    // cannot say what it would earn now.
    auto early = three_logged_posts();
    for (std::size_t i = early.size() / 2; i < early.size(); ++i) {
        early[i].draws["hook_type"] = {"story", 0.2, 2};
    }
    auto const gone = evaluate_policies(early, catalogue, nullptr, nullptr, {0.1, 0.0},
                                        floor, 7, {{"hook_type", {"question"}}});
    CHECK_FALSE(gone.what_if_comparison->rows[1].snips);
    CHECK_FALSE(gone.what_if_comparison->lift);
    CHECK(gone.what_if_comparison->rows[1].note ==
          "the newer half of the posts drew hook_type question 0 times, fewer than 3: "
          "too seldom to say what it would earn");
    // Below the floor of posts, it says why, as the others do.
    auto const few =
        evaluate_policies(three_logged_posts(), catalogue, nullptr, nullptr, {0.1, 0.0},
                          {20, 1}, 7, {{"hook_type", {"story"}}});
    REQUIRE(few.what_if_comparison);
    CHECK(few.what_if_comparison->rows.empty());
    CHECK(few.what_if_comparison->note == few.note);
}

TEST_CASE("validate --what-if names dimensions and values of the catalogue, as canonical "
          "names, and refuses any other naming it",
          "[nodb]")
{
    std::map<std::string, std::vector<std::string>> const catalogue{
        {"content_slot", {"how_to", "hot_take", "tool_tip"}},
        {"hook_type", {"question", "story"}}};
    auto const p = parse_what_if(
        {"Content Slot=Tool Tip,how_to,tool_tip", "hook_type=story"}, catalogue);
    CHECK(p == what_if_policy{{"content_slot", {"tool_tip", "how_to"}},
                              {"hook_type", {"story"}}});
    CHECK(what_if_text(p) == "content_slot in tool_tip, how_to; hook_type story");
    auto const refused = [&](std::string const& arg) {
        try {
            parse_what_if({arg}, catalogue);
        } catch (usage_error const& e) {
            return std::string{e.what()};
        }
        return std::string{"accepted"};
    };
    CHECK(refused("content_slot") == "--what-if 'content_slot': give "
                                     "DIMENSION=VALUE[,VALUE…], e.g. "
                                     "content_slot=how_to,tool_tip");
    CHECK(refused("tone=calm") ==
          "--what-if 'tone=calm': plan.catalogue has no dimension 'tone' (content_slot, "
          "hook_type)");
    CHECK(refused("post_hour=18") ==
          "--what-if 'post_hour=18': post_hour cannot be asked about: plan draws each "
          "day's times among its free ones, not from plan.catalogue");
    CHECK(refused("hook_type=question,rant") ==
          "--what-if 'hook_type=question,rant': hook_type has no value 'rant' in "
          "plan.catalogue (question, story)");
    CHECK(refused("hook_type=") == "--what-if 'hook_type=': hook_type has no value '' in "
                                   "plan.catalogue (question, story)");
    CHECK_THROWS_WITH(
        parse_what_if({"hook_type=story", "Hook Type=question"}, catalogue),
        "--what-if 'Hook Type=question': hook_type is given twice: list its "
        "values in one --what-if");
}
