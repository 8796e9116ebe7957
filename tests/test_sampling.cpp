#include "sampling.hpp"

#include <catch2/catch.hpp>

#include <cmath>

using namespace xloop;

TEST_CASE("the same seed gives the same stream", "[nodb]")
{
    rng a{42};
    rng b{42};
    rng c{43};
    for (int i = 0; i < 100; ++i) {
        auto const x = a.next();
        CHECK(x == b.next());
        CHECK(x != c.next());
    }
}

TEST_CASE("a map that strongly prefers one slot wins most draws, and epsilon keeps the "
          "rest alive",
          "[nodb]")
{
    // how_to is clearly best; the other five are clearly worse
    std::vector<normal_belief> arms{{0.9, 0.01}, {0.1, 0.01}, {0.1, 0.01},
                                    {0.1, 0.01}, {0.1, 0.01}, {0.1, 0.01}};
    rng r{2026};
    std::vector<int> counts(arms.size(), 0);
    for (int i = 0; i < 500; ++i) {
        ++counts[thompson_draw(arms, 0.1, r)];
    }
    // expected share of how_to: ε/K + (1 − ε) = 0.1/6 + 0.9 = 0.9167
    CHECK(counts[0] >= 400);
    for (std::size_t i = 1; i < arms.size(); ++i) {
        INFO("slot " << i);
        CHECK(counts[i] > 0); // ε/K = 1.7 % each: every slot still appears
    }
    auto const p = selection_probabilities(arms, 0.1);
    CHECK(p[0] == Approx(0.1 / 6 + 0.9).margin(1e-9));
    CHECK(p[1] == Approx(0.1 / 6).margin(1e-9));
}

TEST_CASE("without a preference draws are uniform (chi-square at a fixed seed)", "[nodb]")
{
    rng r{7};
    int const k = 6;
    int const n = 6000;
    std::vector<int> counts(k, 0);
    for (int i = 0; i < n; ++i) {
        ++counts[r.below(k)];
    }
    double chi2 = 0;
    double const expected = static_cast<double>(n) / k;
    for (int c : counts) {
        chi2 += (c - expected) * (c - expected) / expected;
    }
    CHECK(chi2 < 11.07); // 95 % point of χ² with 5 degrees of freedom
    // Thompson with identical beliefs is uniform too
    std::vector<normal_belief> same(k, {0.3, 0.05});
    std::vector<int> ts(k, 0);
    for (int i = 0; i < n; ++i) {
        ++ts[thompson_draw(same, 0.1, r)];
    }
    double chi2_ts = 0;
    for (int c : ts) {
        chi2_ts += (c - expected) * (c - expected) / expected;
    }
    CHECK(chi2_ts < 11.07);
}

TEST_CASE("stored propensities equal the sampling frequencies", "[nodb]")
{
    std::vector<normal_belief> arms{{0.30, 0.05}, {0.35, 0.08}, {0.25, 0.02}};
    auto const p = selection_probabilities(arms, 0.1);
    rng r{99};
    int const n = 40000;
    std::vector<int> counts(3, 0);
    for (int i = 0; i < n; ++i) {
        ++counts[thompson_draw(arms, 0.1, r)];
    }
    for (std::size_t i = 0; i < 3; ++i) {
        // binomial sd at n = 40000 is at most 0.0025: 4 sd
        CHECK(static_cast<double>(counts[i]) / n == Approx(p[i]).margin(0.01));
    }
}

TEST_CASE("the normal quantile inverts the CDF", "[nodb]")
{
    for (double z : {-3.0, -1.0, 0.0, 0.5, 2.33}) {
        CHECK(normal_quantile(normal_cdf(z)) == Approx(z).margin(1e-9));
    }
    CHECK(normal_quantile(0.5) == Approx(0.0).margin(1e-12));
    CHECK(std::isfinite(normal_quantile(0.0)));
    CHECK(std::isfinite(normal_quantile(1.0)));
}
