#include "normal.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <set>

namespace xloop {

double normal_pdf(double z)
{
    return std::exp(-0.5 * z * z) / std::sqrt(2 * std::numbers::pi);
}

double normal_cdf(double z)
{
    return 0.5 * std::erfc(-z / std::numbers::sqrt2);
}

namespace {

// An arm in the units of the integration: its mean less the largest mean,
// and the part of the line where its density is above 1e-19 of its peak.
struct arm_window {
    double mean;
    double sd;
    double lo;
    double hi;
    // Narrower than the doubles near its mean can resolve: a point mass, which
    // is its limit (it wins when every other arm falls below its mean).
    bool point;
};

// log Φ((x − mean)/sd), −∞ where Φ underflows; a point mass is a step, taken
// on the side of it where `piece_mid` lies.
double log_cdf(arm_window const& a, double x, double piece_mid)
{
    if (a.point) {
        return piece_mid > a.mean ? 0.0 : -INFINITY;
    }
    return std::log(normal_cdf((x - a.mean) / a.sd));
}

// Simpson's step: 1/20 of the narrowest sd where the density is integrated,
// 400 steps across an arm's own window.
constexpr double step_per_sd = 0.045;

// The arms with their means less the largest (within ±1e100 and sds within
// [1e-100, 1e100], no difference or ratio of two arms' numbers overflows; a
// map edited by hand may hold any finite number).
std::vector<arm_window> windows_of(std::vector<normal_belief> const& given)
{
    auto const mean_of = [](normal_belief const& a) {
        return std::isfinite(a.mean) ? std::clamp(a.mean, -1e100, 1e100) : 0.0;
    };
    double top = -1e100;
    for (auto const& a : given) {
        top = std::max(top, mean_of(a));
    }
    std::vector<arm_window> arms;
    for (auto const& a : given) {
        double const mean = mean_of(a) - top;
        double const sd = std::isfinite(a.sd) ? std::clamp(a.sd, 1e-100, 1e100) : 1.0;
        bool const point = sd < 1e-12 * std::abs(mean);
        double const half = point ? 0.0 : 9 * sd;
        arms.push_back({mean, sd, mean - half, mean + half, point});
    }
    return arms;
}

// Every window's ends in order; from each to the next the same windows hold
// the line, and `narrowest` is the sd of the narrowest of them (∞ where none
// does); `at_point`: a point mass sits there, and no piece may straddle it.
struct grid_cuts {
    std::vector<double> at;
    std::vector<double> narrowest;
    std::vector<bool> at_point;
};

grid_cuts cuts_of(std::vector<arm_window> const& arms)
{
    grid_cuts g;
    for (auto const& a : arms) {
        g.at.push_back(a.lo);
        g.at.push_back(a.hi);
    }
    std::sort(g.at.begin(), g.at.end());
    g.at.erase(std::unique(g.at.begin(), g.at.end()), g.at.end());
    std::size_t const k = arms.size();
    std::vector<std::size_t> by_lo(k);
    std::vector<std::size_t> by_hi(k);
    for (std::size_t i = 0; i < k; ++i) {
        by_lo[i] = by_hi[i] = i;
    }
    std::sort(by_lo.begin(), by_lo.end(),
              [&](auto l, auto r) { return arms[l].lo < arms[r].lo; });
    std::sort(by_hi.begin(), by_hi.end(),
              [&](auto l, auto r) { return arms[l].hi < arms[r].hi; });
    g.narrowest.assign(g.at.size(), INFINITY);
    g.at_point.assign(g.at.size(), false);
    std::multiset<double> open; // the sds of the windows holding the line
    std::size_t l = 0;
    std::size_t h = 0;
    for (std::size_t c = 0; c < g.at.size(); ++c) {
        for (; h < k && arms[by_hi[h]].hi <= g.at[c]; ++h) {
            if (!arms[by_hi[h]].point) {
                open.erase(open.find(arms[by_hi[h]].sd));
            }
        }
        for (; l < k && arms[by_lo[l]].lo <= g.at[c]; ++l) {
            if (arms[by_lo[l]].point) {
                g.at_point[c] = true;
            } else {
                open.insert(arms[by_lo[l]].sd);
            }
        }
        g.narrowest[c] = open.empty() ? INFINITY : *open.begin();
    }
    return g;
}

// Adds to p[j] the integral over [from, to] of φ_j(x) Π_{i≠j} Φ_i(x) for
// each arm j whose window meets it, by Simpson's rule at steps of `finest`
// sds at most. The product is summed in logs once per point for all arms.
void integrate_piece(std::vector<arm_window> const& arms, double from, double to,
                     double finest, std::vector<double>& p)
{
    std::vector<std::size_t> in_play; // arms whose Φ is not 1 here
    std::vector<std::size_t> holding; // of those, the ones whose density is here
    for (std::size_t i = 0; i < arms.size(); ++i) {
        if (from < arms[i].hi) { // else Φ_i is 1 − 1e-19 or more (1 for a point mass)
            if (!arms[i].point && arms[i].lo < to) {
                holding.push_back(in_play.size());
            }
            in_play.push_back(i);
        }
    }
    std::vector<double> log_phi(in_play.size());
    auto const n =
        2 * static_cast<std::size_t>(std::clamp(
                std::ceil((to - from) / (2 * step_per_sd * finest)), 1.0, 200.0));
    double const h = (to - from) / static_cast<double>(n);
    double const mid = from + (to - from) / 2;
    for (std::size_t s = 0; s <= n; ++s) {
        double const x = s == n ? to : from + h * static_cast<double>(s);
        double log_all = 0;
        int zeros = 0;
        for (std::size_t t = 0; t < in_play.size(); ++t) {
            log_phi[t] = log_cdf(arms[in_play[t]], x, mid);
            if (std::isinf(log_phi[t])) {
                ++zeros;
            } else {
                log_all += log_phi[t];
            }
        }
        double const weight = ((s == 0 || s == n) ? 1 : (s % 2 ? 4 : 2)) * h / 3;
        for (auto const t : holding) {
            bool const self_zero = std::isinf(log_phi[t]);
            if (zeros > (self_zero ? 1 : 0)) {
                continue; // another arm is surely above here
            }
            auto const& a = arms[in_play[t]];
            p[in_play[t]] += weight / a.sd * normal_pdf((x - a.mean) / a.sd) *
                             std::exp(log_all - (self_zero ? 0.0 : log_phi[t]));
        }
    }
}

// A point mass wins when every other arm is below its mean; equal means tie
// at Φ(0) = ½ each.
double point_mass_best(std::vector<arm_window> const& arms, std::size_t j)
{
    double prod = 1;
    for (std::size_t i = 0; i < arms.size() && prod > 0; ++i) {
        if (i == j) {
            continue;
        }
        if (arms[i].point) {
            prod *= arms[i].mean < arms[j].mean
                        ? 1.0
                        : (arms[i].mean == arms[j].mean ? 0.5 : 0.0);
        } else {
            prod *= normal_cdf((arms[j].mean - arms[i].mean) / arms[i].sd);
        }
    }
    return prod;
}

} // namespace

std::vector<double> probability_best(std::vector<normal_belief> const& given)
{
    std::size_t const k = given.size();
    if (k == 0) {
        return {};
    }
    if (k == 1) {
        return {1.0};
    }
    auto const arms = windows_of(given);
    auto const cuts = cuts_of(arms);
    // One grid for all arms, as fine at each place as the narrowest arm whose
    // window holds it needs (an arm's own grid each, against every other
    // arm, took 8 minutes for 1000 values); neighbouring stretches shorter
    // than a step are one piece.
    std::vector<double> p(k, 0.0);
    for (std::size_t c = 0; c + 1 < cuts.at.size();) {
        if (cuts.narrowest[c] == INFINITY) {
            ++c;
            continue; // no arm's density is here
        }
        double finest = cuts.narrowest[c];
        std::size_t e = c + 1; // the piece ends at cuts.at[e]
        while (e + 1 < cuts.at.size() && !cuts.at_point[e] &&
               cuts.narrowest[e] != INFINITY &&
               cuts.at[e + 1] - cuts.at[c] <=
                   2 * step_per_sd * std::min(finest, cuts.narrowest[e])) {
            finest = std::min(finest, cuts.narrowest[e]);
            ++e;
        }
        integrate_piece(arms, cuts.at[c], cuts.at[e], finest, p);
        c = e;
    }
    for (std::size_t j = 0; j < k; ++j) {
        if (arms[j].point) {
            p[j] = point_mass_best(arms, j);
        }
    }
    double total = 0;
    for (double const v : p) {
        total += v;
    }
    if (!(total > 0) || !std::isfinite(total)) {
        return std::vector<double>(k, 1.0 / static_cast<double>(k));
    }
    for (auto& v : p) {
        v /= total;
    }
    return p;
}

} // namespace xloop
