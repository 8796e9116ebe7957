#pragma once

// Recency weights and shrinkage toward a global mean (DESIGN §5.2), shared by
// the weight maps and the reply priorities. Pure: no I/O, no clock.

#include <algorithm>
#include <cstdint>
#include <optional>

namespace xloop {

// w = 2^(−age/h). Decay depends on the observation's age at `now`, never on
// how often a job runs (defect 12). Future observations count as age 0.
double recency_weight(double age_days, double half_life_days);

// How far back a learner reaches, and its half-life there.
struct learning_window {
    double days = 0;
    double half_life_days = 0;
};

// `window_days`, or further, up to `max_days`, to `reach_days`: the age of
// the oldest of the account's newest N posts (nullopt: no posts). The
// half-life stretches by the same factor, so an account that posts once a
// day learns from as many posts, weighted alike, as one that posts three
// times in `window_days`; one with fewer posts than N in all learns from all
// of them.
learning_window stretch_window(double window_days, double half_life_days, double max_days,
                               std::optional<double> reach_days);

// The age in days at `now` of something observed at `then` (both microseconds
// since the Unix epoch, as the binary COPY reader gives timestamps).
inline double age_days(std::int64_t now_unix_micros, std::int64_t then_unix_micros)
{
    return static_cast<double>(now_unix_micros - then_unix_micros) / 86400e6;
}

// Running sums of one group's weighted observations.
struct group_stats {
    std::int64_t n = 0;
    double sum_w = 0;   // W
    double sum_w2 = 0;  // Σw²
    double sum_wy = 0;  // Σw·y
    double sum_wy2 = 0; // Σw·y²

    void add(double w, double y)
    {
        ++n;
        sum_w += w;
        sum_w2 += w * w;
        sum_wy += w * y;
        sum_wy2 += w * y * y;
    }
    void merge(group_stats const& o)
    {
        n += o.n;
        sum_w += o.sum_w;
        sum_w2 += o.sum_w2;
        sum_wy += o.sum_wy;
        sum_wy2 += o.sum_wy2;
    }

    // m = Σw·y / W: divides by the sum of weights, not the count (defect 10).
    double weighted_mean() const { return sum_w > 0 ? sum_wy / sum_w : 0; }
    // n_eff = W² / Σw²
    double effective_n() const { return sum_w2 > 0 ? sum_w * sum_w / sum_w2 : 0; }
    // Weighted sd around the weighted mean: sqrt(Σw·y²/W − m²).
    double weighted_sd() const;
};

// The noise variance pooled over groups with different means (recency
// weighted): σ² = Σ w·(y − m_g)² / Σ (W_g − S_g/W_g).
struct pooled_within {
    double sum = 0;
    double df = 0;

    void add(group_stats const& g)
    {
        if (g.sum_w > 0) {
            double const m = g.weighted_mean();
            sum += g.sum_wy2 - g.sum_w * m * m;
            df += g.sum_w - g.sum_w2 / g.sum_w;
        }
    }
    double variance() const { return df > 0 ? std::max(sum, 0.0) / df : 0.0; }
};

// The smallest sd used, so that a group of identical scores does not look
// infinitely certain. Scores live in [0, 1]; 0.01 is a hundredth of the range.
inline constexpr double min_sd = 0.01;

struct posterior {
    double mean = 0;        // weighted mean m
    double shrunk_mean = 0; // μ̂
    double sd = 0;          // s
    std::int64_t n = 0;
    double n_eff = 0;
    double weight_sum = 0; // W
};

// μ̂ = (Σw·y + κ·μ₀) / (W + κ);  s = σ / sqrt(W + κ), σ floored at min_sd.
posterior shrink_toward(group_stats const& g, double mu0, double kappa, double sigma);

// The exploration floor of a dimension whose values hold `effective_posts`
// (Σ n_eff): ε·D/(D + N). It halves once N reaches D, so exploration ends as
// evidence grows (DESIGN §5.6); D = 0 keeps ε fixed.
double decayed_epsilon(double epsilon, double decay_posts, double effective_posts);

} // namespace xloop
