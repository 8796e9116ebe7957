#include "sampling.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <string_view>
#include <unordered_map>

namespace xloop {

namespace {
std::uint64_t splitmix64(std::uint64_t& x)
{
    std::uint64_t z = (x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}
} // namespace

rng::rng(std::uint64_t seed)
{
    for (auto& s : m_s) {
        s = splitmix64(seed);
    }
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
    // Acklam's rational approximation (relative error < 1.2e-9), then one
    // Halley step on Φ, which brings it to about 1e-15: no bisection.
    p = std::clamp(p, 1e-15, 1 - 1e-15);
    static constexpr double a[] = {-3.969683028665376e+01, 2.209460984245205e+02,
                                   -2.759285104469687e+02, 1.383577518672690e+02,
                                   -3.066479806614716e+01, 2.506628277459239e+00};
    static constexpr double b[] = {-5.447609879822406e+01, 1.615858368580409e+02,
                                   -1.556989798598866e+02, 6.680131188771972e+01,
                                   -1.328068155288572e+01};
    static constexpr double c[] = {-7.784894002430293e-03, -3.223964580411365e-01,
                                   -2.400758277161838e+00, -2.549732539343734e+00,
                                   4.374664141464968e+00,  2.938163982698783e+00};
    static constexpr double d[] = {7.784695709041462e-03, 3.224671290700398e-01,
                                   2.445134137142996e+00, 3.754408661907416e+00};
    constexpr double low = 0.02425;
    double x = 0;
    if (p < low) {
        double const q = std::sqrt(-2 * std::log(p));
        x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
            ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
    } else if (p <= 1 - low) {
        double const q = p - 0.5;
        double const r = q * q;
        x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
            (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
    } else {
        double const q = std::sqrt(-2 * std::log1p(-p));
        x = -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
            ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
    }
    double const e = normal_cdf(x) - p;
    double const u = e * std::sqrt(2 * std::numbers::pi) * std::exp(x * x / 2);
    return x - u / (1 + x * u / 2);
}

namespace {

// A non-finite score or priority ranks as none at all.
double opportunity_of(reply_candidate const& c)
{
    return std::isfinite(c.opportunity_score) ? std::max(c.opportunity_score, 0.0) : 0.0;
}

double quantile_of(reply_candidate const& c)
{
    return normal_quantile(std::isfinite(c.priority) ? std::clamp(c.priority, 0.0, 1.0)
                                                     : 0.5);
}

// Candidate indices by opportunity, largest first, ties by index.
std::vector<std::uint32_t> by_opportunity(std::vector<reply_candidate> const& candidates)
{
    std::vector<std::uint32_t> order(candidates.size());
    for (std::size_t i = 0; i < order.size(); ++i) {
        order[i] = static_cast<std::uint32_t>(i);
    }
    std::sort(order.begin(), order.end(), [&](std::uint32_t a, std::uint32_t b) {
        double const oa = opportunity_of(candidates[a]);
        double const ob = opportunity_of(candidates[b]);
        return oa > ob || (oa == ob && a < b);
    });
    return order;
}

} // namespace

int cross_fit_fold(std::int64_t posted_unix_micros)
{
    auto x = static_cast<std::uint64_t>(posted_unix_micros);
    return static_cast<int>(splitmix64(x) & 1);
}

std::uint64_t author_key(std::string_view author)
{
    // FNV-1a, then a splitmix64 finaliser to spread the bits.
    std::uint64_t h = 0xcbf29ce484222325ull;
    for (unsigned char const ch : author) {
        h = (h ^ ch) * 0x100000001b3ull;
    }
    return splitmix64(h);
}

reply_ranking::reply_ranking(std::vector<reply_candidate> const& candidates, rng& r)
    : m_candidates(candidates), m_rng(r), m_order(by_opportunity(candidates))
{}

std::optional<ranked_reply> reply_ranking::next()
{
    // In the heap, index is the place in the visiting order: one is worse
    // when it scores lower, or the same with a later place.
    auto const worse = [](ranked_reply const& a, ranked_reply const& b) {
        return a.score < b.score || (a.score == b.score && a.index > b.index);
    };
    while (m_visited < m_order.size()) {
        double const bound = 2 * opportunity_of(m_candidates[m_order[m_visited]]);
        if (!m_heap.empty() && m_heap.front().score >= bound) {
            break; // no candidate not yet drawn can beat it
        }
        auto const& c = m_candidates[m_order[m_visited]];
        double const drawn = normal_cdf(quantile_of(c) + m_rng.normal());
        m_heap.push_back({m_visited++, drawn, opportunity_of(c) * (1 + drawn)});
        std::push_heap(m_heap.begin(), m_heap.end(), worse);
    }
    if (m_heap.empty()) {
        return std::nullopt;
    }
    std::pop_heap(m_heap.begin(), m_heap.end(), worse);
    auto best = m_heap.back();
    m_heap.pop_back();
    best.index = m_order[best.index];
    return best;
}

std::vector<std::size_t>
top_by_opportunity(std::vector<reply_candidate> const& candidates, int wanted)
{
    // One pass; `best` holds at most `wanted` authors' best candidates.
    std::vector<std::size_t> best;
    auto const worse = [&](std::size_t a, std::size_t b) { // a ranks below b
        double const x = opportunity_of(candidates[a]);
        double const y = opportunity_of(candidates[b]);
        return x != y ? x < y : a > b;
    };
    for (std::size_t i = 0; i < candidates.size() && wanted > 0; ++i) {
        auto const same = std::find_if(best.begin(), best.end(), [&](std::size_t j) {
            return candidates[j].author == candidates[i].author;
        });
        if (same != best.end()) {
            if (worse(*same, i)) {
                *same = i;
            }
            continue;
        }
        if (best.size() < static_cast<std::size_t>(wanted)) {
            best.push_back(i);
            continue;
        }
        auto const last = std::min_element(best.begin(), best.end(), worse);
        if (worse(*last, i)) {
            *last = i;
        }
    }
    std::sort(best.begin(), best.end(),
              [&](std::size_t a, std::size_t b) { return worse(b, a); });
    return best;
}

std::vector<ranked_reply> rank_replies(std::vector<reply_candidate> const& candidates,
                                       rng& r)
{
    std::vector<ranked_reply> ranked;
    ranked.reserve(candidates.size());
    reply_ranking ranking{candidates, r};
    while (auto const next = ranking.next()) {
        ranked.push_back(*next);
    }
    return ranked;
}

namespace {

// The best candidate of each of the k best authors of one round, best first,
// ranked as reply_ranking ranks: higher score first, then the earlier place
// in the visiting order.
class author_top {
public:
    struct entry {
        double score;
        std::size_t index; // the place in the visiting order
        std::uint64_t author;
    };

    explicit author_top(std::size_t k) : m_k(k) {}

    void clear() { m_top.clear(); }
    bool full() const noexcept { return m_top.size() == m_k; }
    double last_score() const { return m_top.back().score; }
    std::vector<entry> const& entries() const noexcept { return m_top; }

    void offer(entry const& b)
    {
        auto const same = std::find_if(m_top.begin(), m_top.end(), [&](entry const& t) {
            return t.author == b.author;
        });
        if (same != m_top.end()) {
            if (!before(b, *same)) {
                return;
            }
            m_top.erase(same);
        } else if (full() && !before(b, m_top.back())) {
            return;
        }
        m_top.insert(std::upper_bound(m_top.begin(), m_top.end(), b, before), b);
        if (m_top.size() > m_k) {
            m_top.pop_back();
        }
    }

private:
    static bool before(entry const& a, entry const& b)
    {
        return a.score > b.score || (a.score == b.score && a.index < b.index);
    }

    std::size_t m_k;
    std::vector<entry> m_top;
};

} // namespace

reply_propensities::reply_propensities(std::vector<std::pair<std::size_t, double>> p)
    : m_p(std::move(p))
{
    std::sort(m_p.begin(), m_p.end());
}

double reply_propensities::operator[](std::size_t candidate) const
{
    auto const it = std::lower_bound(m_p.begin(), m_p.end(), candidate,
                                     [](std::pair<std::size_t, double> const& e,
                                        std::size_t c) { return e.first < c; });
    return it != m_p.end() && it->first == candidate ? it->second : 0.0;
}

reply_propensities
reply_selection_probabilities(std::vector<reply_candidate> const& candidates, int wanted,
                              int rounds, rng& r, std::function<void()> const& check)
{
    std::size_t const n = candidates.size();
    if (n == 0 || wanted <= 0 || rounds <= 0) {
        return {};
    }
    // Candidates by opportunity, largest first: a score lies in [o, 2o], so
    // once 2o falls below the wanted-th best author's score no later
    // candidate can enter, and the round stops there. Φ⁻¹ of the priorities
    // is computed once, for the prefix the rounds reach.
    auto const order = by_opportunity(candidates);
    std::vector<double> quantile; // of order[0, quantile.size())
    author_top top{static_cast<std::size_t>(wanted)};
    std::uint32_t visits = 0;
    std::unordered_map<std::size_t, int> times; // a candidate's rounds among the chosen
    for (int k = 0; k < rounds; ++k) {
        top.clear();
        for (std::size_t pos = 0; pos < n; ++pos) {
            // Every 2¹⁶ candidates: a round over 10⁶ equal scores visits all.
            if (check && (++visits & 0xffff) == 0) {
                check();
            }
            auto const i = order[pos];
            auto const& c = candidates[i];
            double const o = opportunity_of(c);
            if (top.full() && 2 * o < top.last_score()) {
                break;
            }
            if (pos == quantile.size()) {
                quantile.push_back(quantile_of(c));
            }
            top.offer({o * (1 + normal_cdf(quantile[pos] + r.normal())), pos, c.author});
        }
        for (auto const& t : top.entries()) {
            ++times[order[t.index]];
        }
    }
    std::vector<std::pair<std::size_t, double>> chosen;
    chosen.reserve(times.size());
    for (auto const& [i, t] : times) {
        chosen.emplace_back(i, static_cast<double>(t) / rounds);
    }
    return reply_propensities{std::move(chosen)};
}

} // namespace xloop
