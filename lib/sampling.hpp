#pragma once

// Seeded randomness and Thompson sampling with an exploration floor
// (DESIGN §5.5). Pure: the caller owns the generator and its seed.

#include "normal.hpp"

#include <bit>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace xloop {

// xoshiro256** seeded through splitmix64: the same seed gives the same
// stream on every platform (std:: distributions do not promise that).
// next, uniform and below are inline: validate's bootstrap draws 10⁷ of them.
class rng {
public:
    explicit rng(std::uint64_t seed);

    std::uint64_t next()
    {
        std::uint64_t const result = std::rotl(m_s[1] * 5, 7) * 9;
        std::uint64_t const t = m_s[1] << 17;
        m_s[2] ^= m_s[0];
        m_s[3] ^= m_s[1];
        m_s[1] ^= m_s[2];
        m_s[0] ^= m_s[3];
        m_s[2] ^= t;
        m_s[3] = std::rotl(m_s[3], 45);
        return result;
    }

    // [0, 1)
    double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

    // N(0, 1), Box–Muller
    double normal();

    // uniform in [0, n)
    std::size_t below(std::size_t n)
    {
        return static_cast<std::size_t>(uniform() * static_cast<double>(n));
    }

private:
    std::uint64_t m_s[4];
};

// Which of two halves a post falls in for cross-fitting (build-weights learns
// a map from each half, validate values each half's posts under the map of
// the other): a hash of its posting time in microseconds since the Unix
// epoch, which both tools read whatever type the original bot gave its ids.
int cross_fit_fold(std::int64_t posted_unix_micros);

// How plan draws from a weight map: ε where the map has none for a dimension
// (weights.epsilon), the operator's ε for every dimension (plan.epsilon),
// and the factor on each learned value's posterior sd (plan.posterior_scale).
struct draw_rule {
    double epsilon = 0.1;
    std::optional<double> override_epsilon;
    double posterior_scale = 1.0;
};

// One draw among `arms`: with probability ε uniformly, otherwise the arm with
// the largest sample from its belief. Returns the index.
std::size_t thompson_draw(std::vector<normal_belief> const& arms, double epsilon, rng& r);

// The probability that thompson_draw picks each arm: ε/K + (1 − ε)·P(best),
// P(best) computed exactly (the chance that an arm's sample is the largest).
// These are the propensities stored with each draw.
std::vector<double> selection_probabilities(std::vector<normal_belief> const& arms,
                                            double epsilon);

// Φ⁻¹: a rational approximation refined by a Halley step (|error| ~1e-15);
// p clamped into (0, 1).
double normal_quantile(double p);

// A pending reply opportunity as xloop-plan ranks it: 24 bytes, since plan
// holds one per open opportunity (10⁶ of them in 24 MB).
struct reply_candidate {
    double opportunity_score = 0;
    double priority = 0.5;    // the author's priority_score
    std::uint64_t author = 0; // author_key() of the author's name
};

// A 64-bit key for an author's name (lower case, without '@'); two names
// sharing one (about 1 in 10¹³ for 10³ authors) would only count as one
// author for the one-reply-per-author rule.
std::uint64_t author_key(std::string_view author);

struct ranked_reply {
    std::size_t index; // into the candidates
    double drawn;      // p̃, the Thompson draw of the author's priority
    double score;      // opportunity_score × (1 + p̃)
};

// The candidates ranked by opportunity_score × (1 + p̃), p̃ = Φ(Φ⁻¹(p) + N(0,1))
// a draw of the author's priority (uniform on [0, 1] for an unknown account,
// 0.5), best first; ties go to the larger opportunity, then the earlier
// candidate. A non-finite score or priority ranks as none (0, 0.5).
//
// Lazy and exact: a score lies in [o, 2o], so candidates are visited by
// opportunity, largest first, and the best one seen is final once it beats
// twice the next opportunity. Taking the first few of 10⁶ draws a few of them.
class reply_ranking {
public:
    // Keeps a reference to `candidates` and `r`; both must outlive it.
    reply_ranking(std::vector<reply_candidate> const& candidates, rng& r);
    // The next best, or nothing when every candidate has been given.
    std::optional<ranked_reply> next();

private:
    std::vector<reply_candidate> const& m_candidates;
    rng& m_rng;
    std::vector<std::uint32_t> m_order; // by opportunity, largest first
    std::size_t m_visited = 0;          // m_order[0, m_visited) are drawn
    std::vector<ranked_reply> m_heap;   // drawn, not yet given
};

// The original bot's choice, the baseline validate values the learned
// priorities against: the `wanted` candidates of highest opportunity score,
// one per author (of equal scores the first). Their indices, best first.
std::vector<std::size_t>
top_by_opportunity(std::vector<reply_candidate> const& candidates, int wanted);

// Every candidate in reply_ranking's order.
std::vector<ranked_reply> rank_replies(std::vector<reply_candidate> const& candidates,
                                       rng& r);

// Each candidate's chance of being chosen, by index. Only candidates chosen
// in some round are held (at most wanted × rounds of them), not one number
// per candidate: 10⁶ open opportunities would cost 8 MB for zeros.
class reply_propensities {
public:
    reply_propensities() = default;
    explicit reply_propensities(std::vector<std::pair<std::size_t, double>> p);

    // 0 for a candidate never chosen.
    double operator[](std::size_t candidate) const;

    // How many candidates have a chance above 0.
    std::size_t chosen() const noexcept { return m_p.size(); }

private:
    std::vector<std::pair<std::size_t, double>> m_p; // by candidate
};

// The chance that each candidate is among the first `wanted` of such a
// ranking taken one per author: the propensity of a reply, estimated by
// ranking `rounds` times. (A writer failure, which skips a candidate, is not
// modelled.)
// `check` runs every 65 536 candidates visited (e.g. to stop on SIGTERM).
reply_propensities
reply_selection_probabilities(std::vector<reply_candidate> const& candidates, int wanted,
                              int rounds, rng& r,
                              std::function<void()> const& check = {});

} // namespace xloop
