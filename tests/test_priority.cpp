#include "priority.hpp"

#include <catch2/catch.hpp>

#include <cmath>

using namespace xloop;

namespace {
group_stats replies(int n, double score)
{
    group_stats g;
    for (int i = 0; i < n; ++i) {
        g.add(1.0, score);
    }
    return g;
}
} // namespace

TEST_CASE("an account with one great reply ranks below one with ten at the same mean",
          "[nodb]")
{
    // μ₀ = 0.3, σ = 0.2, κ = 5
    auto const one = reply_priority(replies(1, 0.8), 0.3, 0.2, 5);
    // μ̂ = (0.8 + 5·0.3) / 6 = 0.38333; s = 0.2/√6 = 0.081650; Φ(1.02062) = 0.846283
    CHECK(one.reply_performance_score == Approx(2.3 / 6).epsilon(1e-12));
    CHECK(one.sd == Approx(0.2 / std::sqrt(6.0)).epsilon(1e-12));
    CHECK(one.priority_score == Approx(0.846283).margin(1e-6));
    auto const ten = reply_priority(replies(10, 0.8), 0.3, 0.2, 5);
    // μ̂ = (8 + 1.5) / 15 = 0.63333; s = 0.2/√15; Φ(6.455) ≈ 1 − 5.4e-11
    CHECK(ten.reply_performance_score == Approx(9.5 / 15).epsilon(1e-12));
    CHECK(ten.priority_score == Approx(1.0).margin(1e-9));
    CHECK(ten.priority_score > one.priority_score);
}

TEST_CASE("an account with no evidence sits at exactly 0.5", "[nodb]")
{
    auto const none = reply_priority(group_stats{}, 0.3, 0.2, 5);
    CHECK(none.priority_score == 0.5);
    CHECK(none.reply_performance_score == Approx(0.3));
    // replies exactly at the global mean are no evidence either way
    CHECK(reply_priority(replies(20, 0.3), 0.3, 0.2, 5).priority_score == Approx(0.5));
}

TEST_CASE("consistently weak replies push the priority toward 0", "[nodb]")
{
    // μ̂ = (1 + 1.5) / 15 = 0.16667; z = −0.13333 / (0.2/√15) = −2.582; Φ = 0.0049116
    auto const weak = reply_priority(replies(10, 0.1), 0.3, 0.2, 5);
    CHECK(weak.priority_score == Approx(0.0049116).margin(1e-6));
}

TEST_CASE("priorities stay within 0 and 1 at the extremes", "[nodb]")
{
    for (double y : {0.0, 1.0}) {
        for (int n : {1, 1000, 100000}) {
            auto const p = reply_priority(replies(n, y), 0.5, 0.0, 5);
            CHECK(p.priority_score >= 0.0);
            CHECK(p.priority_score <= 1.0);
        }
    }
}

TEST_CASE("the reply frontier finds the latest reply above any threshold", "[nodb]")
{
    auto const t0 = *parse_timestamp("2026-03-01T00:00:00Z");
    auto const day = std::chrono::hours{24};
    reply_frontier f;
    f.add(t0 + day, 0.5);
    f.add(t0 + 2 * day, 0.2);
    f.add(t0, 0.9);
    f.add(t0, 0.4); // dominated by (t0 + 1d, 0.5): newer and better
    CHECK(f.size() == 3);
    CHECK(f.latest_above(0.1) == t0 + 2 * day);
    CHECK(f.latest_above(0.4) == t0 + day);
    CHECK(f.latest_above(0.6) == t0);
    CHECK_FALSE(f.latest_above(0.95));
    f.add(t0 + 3 * day, 0.95); // dominates everything
    CHECK(f.size() == 1);
    CHECK(f.latest_above(0.0) == t0 + 3 * day);
}
