#include "sampling.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace xloop {

namespace {
std::uint64_t splitmix64(std::uint64_t& x)
{
    std::uint64_t z = (x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}
std::uint64_t rotl(std::uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}
} // namespace

rng::rng(std::uint64_t seed)
{
    for (auto& s : m_s) {
        s = splitmix64(seed);
    }
}

std::uint64_t rng::next()
{
    std::uint64_t const result = rotl(m_s[1] * 5, 7) * 9;
    std::uint64_t const t = m_s[1] << 17;
    m_s[2] ^= m_s[0];
    m_s[3] ^= m_s[1];
    m_s[1] ^= m_s[2];
    m_s[0] ^= m_s[3];
    m_s[2] ^= t;
    m_s[3] = rotl(m_s[3], 45);
    return result;
}

double rng::uniform()
{
    return static_cast<double>(next() >> 11) * 0x1.0p-53;
}

double rng::normal()
{
    double u1 = uniform();
    while (u1 <= 0) {
        u1 = uniform();
    }
    double const u2 = uniform();
    return std::sqrt(-2 * std::log(u1)) * std::cos(2 * std::numbers::pi * u2);
}

std::size_t rng::below(std::size_t n)
{
    return static_cast<std::size_t>(uniform() * static_cast<double>(n));
}

std::size_t thompson_draw(std::vector<normal_belief> const& arms, double epsilon, rng& r)
{
    if (arms.size() <= 1) {
        return 0;
    }
    if (r.uniform() < epsilon) {
        return r.below(arms.size());
    }
    std::size_t best = 0;
    double best_value = -INFINITY;
    for (std::size_t i = 0; i < arms.size(); ++i) {
        double const v = arms[i].mean + arms[i].sd * r.normal();
        if (v > best_value) {
            best_value = v;
            best = i;
        }
    }
    return best;
}

std::vector<double> selection_probabilities(std::vector<normal_belief> const& arms,
                                            double epsilon)
{
    auto p = probability_best(arms);
    double const k = static_cast<double>(arms.size());
    for (auto& v : p) {
        v = epsilon / k + (1 - epsilon) * v;
    }
    return p;
}

double normal_quantile(double p)
{
    p = std::clamp(p, 1e-15, 1 - 1e-15);
    double lo = -40;
    double hi = 40;
    for (int i = 0; i < 200 && hi - lo > 1e-13; ++i) {
        double const mid = (lo + hi) / 2;
        (normal_cdf(mid) < p ? lo : hi) = mid;
    }
    return (lo + hi) / 2;
}

std::vector<ranked_reply> rank_replies(std::vector<reply_candidate> const& candidates,
                                       rng& r)
{
    std::vector<ranked_reply> ranked;
    ranked.reserve(candidates.size());
    for (std::size_t i = 0; i < candidates.size(); ++i) {
        double const p = std::clamp(candidates[i].priority, 0.0, 1.0);
        double const drawn = normal_cdf(normal_quantile(p) + r.normal());
        ranked.push_back(
            {i, drawn, std::max(candidates[i].opportunity_score, 0.0) * (1 + drawn)});
    }
    std::stable_sort(ranked.begin(), ranked.end(),
                     [](auto const& a, auto const& b) { return a.score > b.score; });
    return ranked;
}

std::vector<double>
reply_selection_probabilities(std::vector<reply_candidate> const& candidates, int wanted,
                              int rounds, rng& r)
{
    std::vector<double> chosen(candidates.size(), 0.0);
    std::vector<std::string const*> authors;
    for (int k = 0; k < rounds; ++k) {
        authors.clear();
        for (auto const& c : rank_replies(candidates, r)) {
            if (static_cast<int>(authors.size()) >= wanted) {
                break;
            }
            auto const& author = candidates[c.index].author;
            if (std::none_of(authors.begin(), authors.end(),
                             [&](auto const* a) { return *a == author; })) {
                authors.push_back(&author);
                chosen[c.index] += 1;
            }
        }
    }
    for (auto& x : chosen) {
        x /= std::max(rounds, 1);
    }
    return chosen;
}

} // namespace xloop
