#include "sampling.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <set>

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

TEST_CASE("reply propensities: the chance of being ranked among the chosen", "[nodb]")
{
    rng r{42};
    // Unknown authors (priority 0.5) draw p̃ uniformly on [0, 1].
    // Scores 1 and 0.8: A wins unless 0.8(1 + U_b) > 1 + U_a, so
    // P(A) = 0.25 + ∫_{0.25}^{1} (1.2 − 0.8u) du = 0.25 + 0.8 − 0.275 = 0.775.
    std::vector<reply_candidate> two{{1.0, 0.5, author_key("a")},
                                     {0.8, 0.5, author_key("b")}};
    auto const p = reply_selection_probabilities(two, 1, 40000, r);
    CHECK(p[0] == Approx(0.775).margin(0.01));
    CHECK(p[1] == Approx(0.225).margin(0.01));
    // Half the score can never win: 0.5(1 + U_b) ≤ 1 ≤ 1 + U_a.
    std::vector<reply_candidate> far{{1.0, 0.5, author_key("a")},
                                     {0.5, 0.5, author_key("b")}};
    auto const q = reply_selection_probabilities(far, 1, 2000, r);
    CHECK(q[0] == 1.0);
    CHECK(q[1] == 0.0);
    // Wanting two, both are chosen, unless they share an author: one a run.
    auto const both = reply_selection_probabilities(two, 2, 100, r);
    CHECK(both[0] == 1.0);
    CHECK(both[1] == 1.0);
    CHECK(both[2] == 0.0); // no such candidate
    CHECK(both.chosen() == 2);
    std::vector<reply_candidate> same{{1.0, 0.5, author_key("a")},
                                      {0.8, 0.5, author_key("a")}};
    auto const s = reply_selection_probabilities(same, 2, 40000, r);
    CHECK(s[0] + s[1] == Approx(1.0));
    CHECK(s[0] == Approx(0.775).margin(0.01));
}

TEST_CASE("a known good author outranks an unknown one at the same opportunity score",
          "[nodb]")
{
    rng r{7};
    // The known one wins when Φ(a + Z) > U, a = Φ⁻¹(0.99) = 2.3263, U uniform:
    // P = E[Φ(a + Z)] = Φ(a / √2) = Φ(1.6449) = 0.95.
    std::vector<reply_candidate> c{{1.0, 0.5, author_key("new")},
                                   {1.0, 0.99, author_key("known")}};
    auto const p = reply_selection_probabilities(c, 1, 20000, r);
    CHECK(p[1] == Approx(0.95).margin(0.01));
    CHECK(p[0] + p[1] == Approx(1.0));
    auto const ranked = rank_replies(c, r);
    REQUIRE(ranked.size() == 2);
    CHECK(ranked[0].score >= ranked[1].score);
    CHECK(ranked[0].score == Approx(1.0 * (1 + ranked[0].drawn)));
}

TEST_CASE("the pruned propensities match a full ranking's frequencies", "[nodb]")
{
    // 60 candidates over 12 authors with spread scores and priorities; the
    // pruned estimate (rounds stop once 2·o cannot reach the top) against the
    // plain definition: rank everything, take the first 3 distinct authors.
    std::vector<reply_candidate> c;
    for (int i = 0; i < 60; ++i) {
        c.push_back({0.2 + 0.8 * ((i * 37) % 60) / 60.0, ((i * 13) % 10) / 10.0,
                     author_key("author" + std::to_string(i % 12))});
    }
    int const rounds = 20000;
    rng r1{11};
    auto const fast = reply_selection_probabilities(c, 3, rounds, r1);
    std::vector<double> slow(c.size(), 0.0);
    rng r2{12};
    for (int k = 0; k < rounds; ++k) {
        std::set<std::uint64_t> authors;
        for (auto const& x : rank_replies(c, r2)) {
            if (authors.size() == 3) {
                break;
            }
            if (authors.insert(c[x.index].author).second) {
                slow[x.index] += 1.0 / rounds;
            }
        }
    }
    double total = 0;
    for (std::size_t i = 0; i < c.size(); ++i) {
        INFO("candidate " << i);
        CHECK(fast[i] == Approx(slow[i]).margin(0.015));
        total += fast[i];
    }
    CHECK(total == Approx(3.0)); // three authors chosen every round
}

TEST_CASE("the normal quantile inverts the cdf to 1e-12", "[nodb]")
{
    for (double p :
         {1e-12, 1e-6, 0.001, 0.02425, 0.1, 0.5, 0.77, 0.97575, 0.999, 1 - 1e-9}) {
        INFO(p);
        CHECK(normal_cdf(normal_quantile(p)) == Approx(p).epsilon(1e-10));
    }
    CHECK(normal_quantile(0.5) == Approx(0.0).margin(1e-15));
    CHECK(normal_quantile(0.975) == Approx(1.959963984540054).epsilon(1e-12));
}

TEST_CASE("a non-finite opportunity score or priority ranks as none", "[nodb]")
{
    rng r{3};
    std::vector<reply_candidate> c{{std::nan(""), 0.5, author_key("a")},
                                   {INFINITY, 0.5, author_key("b")},
                                   {0.5, std::nan(""), author_key("c")}};
    auto const ranked = rank_replies(c, r);
    CHECK(ranked.front().index == 2); // the only finite score, at priority 0.5
    CHECK(ranked[1].score == 0);
}

TEST_CASE("the lazy reply ranking gives every candidate once, best score first", "[nodb]")
{
    // Opportunities spread over two orders of magnitude, so the lazy walk
    // has to interleave candidates drawn early with ones drawn late.
    std::vector<reply_candidate> c;
    for (int i = 0; i < 500; ++i) {
        c.push_back({0.01 + ((i * 7919) % 500) / 5.0, ((i * 31) % 100) / 100.0,
                     author_key("a" + std::to_string(i % 50))});
    }
    rng r{5};
    auto const ranked = rank_replies(c, r);
    REQUIRE(ranked.size() == c.size());
    std::set<std::size_t> seen;
    for (std::size_t k = 0; k < ranked.size(); ++k) {
        INFO("rank " << k);
        seen.insert(ranked[k].index);
        CHECK(ranked[k].score ==
              Approx(c[ranked[k].index].opportunity_score * (1 + ranked[k].drawn)));
        CHECK(ranked[k].drawn >= 0);
        CHECK(ranked[k].drawn <= 1);
        if (k > 0) {
            CHECK(ranked[k - 1].score >= ranked[k].score);
        }
    }
    CHECK(seen.size() == c.size());
    // Taking the first few draws only the candidates that could still win:
    // those with 2·o above the third score.
    rng r2{5};
    reply_ranking lazy{c, r2};
    double third = 0;
    for (int k = 0; k < 3; ++k) {
        third = lazy.next()->score;
    }
    rng r3{5};
    int could_win = 0;
    for (auto const& x : c) {
        could_win += 2 * x.opportunity_score > third ? 1 : 0;
    }
    for (int k = 0; k < could_win; ++k) {
        r3.normal();
    }
    CHECK(r2.normal() == r3.normal()); // the same number of draws so far
}

TEST_CASE("an author's key is the same for the same name and differs between names",
          "[nodb]")
{
    CHECK(author_key("alice") == author_key("alice"));
    CHECK(author_key("alice") != author_key("alicf"));
    CHECK(author_key("") != author_key("a"));
    std::set<std::uint64_t> keys;
    for (int i = 0; i < 100000; ++i) {
        keys.insert(author_key("user" + std::to_string(i)));
    }
    CHECK(keys.size() == 100000);
}

TEST_CASE("opportunity score alone takes the best of each author, the first of equals",
          "[nodb]")
{
    auto const a = author_key("a"), b = author_key("b"), c = author_key("c");
    std::vector<reply_candidate> const cands{
        {0.5, 0.9, a}, // 0
        {0.7, 0.1, b}, // 1
        {0.9, 0.1, a}, // 2: a's best
        {0.7, 0.9, c}, // 3: as good as 1, later
        {NAN, 0.9, c}, // 4: counts as 0
        {0.2, 0.5, b}, // 5
    };
    CHECK(top_by_opportunity(cands, 1) == std::vector<std::size_t>{2});
    CHECK(top_by_opportunity(cands, 2) == std::vector<std::size_t>{2, 1});
    CHECK(top_by_opportunity(cands, 3) == std::vector<std::size_t>{2, 1, 3});
    CHECK(top_by_opportunity(cands, 5) == std::vector<std::size_t>{2, 1, 3});
    CHECK(top_by_opportunity(cands, 0).empty());
    CHECK(top_by_opportunity({}, 3).empty());
}

TEST_CASE("posts fall into two halves of about equal size, each by its posting time",
          "[nodb]")
{
    // 40 days of posts, one an hour, at whole hours: the hash must not
    // depend on the low bits alone (all zero here).
    std::int64_t const start = 1'772'323'200'000'000; // 2026-03-01, µs
    int in_first = 0;
    for (int h = 0; h < 960; ++h) {
        std::int64_t const t = start + h * 3'600'000'000LL;
        CHECK(cross_fit_fold(t) == cross_fit_fold(t)); // the same post, the same half
        in_first += cross_fit_fold(t) == 0 ? 1 : 0;
    }
    // Binomial(960, ½): sd 15.5; 400–560 is more than 5 sd either way.
    CHECK(in_first > 400);
    CHECK(in_first < 560);
}
