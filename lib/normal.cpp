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
    // Within these no difference or ratio of two arms' numbers overflows; a
    // map edited by hand may hold any finite number.
    auto const mean_of = [](normal_belief const& a) {
        return std::isfinite(a.mean) ? std::clamp(a.mean, -1e100, 1e100) : 0.0;
    };
    double top = -1e100;
    for (auto const& a : given) {
        top = std::max(top, mean_of(a));
    }
    std::vector<arm_window> arms;
    std::vector<double> cuts;
    for (auto const& a : given) {
        double const mean = mean_of(a) - top;
        double const sd = std::isfinite(a.sd) ? std::clamp(a.sd, 1e-100, 1e100) : 1.0;
        bool const point = sd < 1e-12 * std::abs(mean);
        double const half = point ? 0.0 : 9 * sd;
        arms.push_back({mean, sd, mean - half, mean + half, point});
        cuts.push_back(mean - half);
        cuts.push_back(mean + half);
    }
    std::sort(cuts.begin(), cuts.end());
    cuts.erase(std::unique(cuts.begin(), cuts.end()), cuts.end());

    // From each cut to the next the same windows hold the line: the sd of
    // the narrowest of them (∞ where none does), by a sweep; and the cuts
    // where a point mass sits, which no piece of the grid may straddle.
    std::vector<std::size_t> by_lo(k), by_hi(k);
    for (std::size_t i = 0; i < k; ++i) {
        by_lo[i] = by_hi[i] = i;
    }
    std::sort(by_lo.begin(), by_lo.end(),
              [&](auto l, auto r) { return arms[l].lo < arms[r].lo; });
    std::sort(by_hi.begin(), by_hi.end(),
              [&](auto l, auto r) { return arms[l].hi < arms[r].hi; });
    std::vector<double> narrowest(cuts.size(), INFINITY);
    std::vector<bool> at_point(cuts.size(), false);
    {
        std::multiset<double> open;
        std::size_t l = 0;
        std::size_t h = 0;
        for (std::size_t c = 0; c < cuts.size(); ++c) {
            for (; h < k && arms[by_hi[h]].hi <= cuts[c]; ++h) {
                if (!arms[by_hi[h]].point) {
                    open.erase(open.find(arms[by_hi[h]].sd));
                }
            }
            for (; l < k && arms[by_lo[l]].lo <= cuts[c]; ++l) {
                if (arms[by_lo[l]].point) {
                    at_point[c] = true;
                } else {
                    open.insert(arms[by_lo[l]].sd);
                }
            }
            narrowest[c] = open.empty() ? INFINITY : *open.begin();
        }
    }

    // P(arm j is best) = ∫ φ_j(x) Π_{i≠j} Φ_i(x) dx, by Simpson's rule on one
    // grid for all arms, as fine at each place as the narrowest arm whose
    // window holds it needs; neighbouring stretches shorter than a step are
    // one piece. The product is summed in logs once per point, so k arms
    // cost k times the points, not k² times (an arm's own grid each took 8
    // minutes for 1000 values).
    std::vector<double> p(k, 0.0);
    std::vector<std::size_t> in_play; // arms whose Φ is not 1 in the piece
    std::vector<std::size_t> holding; // of those, the ones whose density is there
    std::vector<double> log_phi;      // log Φ of each arm in play at a point
    for (std::size_t c = 0; c + 1 < cuts.size();) {
        if (narrowest[c] == INFINITY) {
            ++c;
            continue; // no arm's density is here
        }
        double const from = cuts[c];
        double finest = narrowest[c];
        std::size_t e = c + 1; // the piece ends at cuts[e]
        while (e + 1 < cuts.size() && !at_point[e] && narrowest[e] != INFINITY &&
               cuts[e + 1] - from <= 2 * step_per_sd * std::min(finest, narrowest[e])) {
            finest = std::min(finest, narrowest[e]);
            ++e;
        }
        double const to = cuts[e];
        c = e;
        in_play.clear();
        holding.clear();
        for (std::size_t i = 0; i < k; ++i) {
            if (from < arms[i].hi) { // else Φ_i is 1 − 1e-19 or more (1 for a point mass)
                if (!arms[i].point && arms[i].lo < to) {
                    holding.push_back(in_play.size());
                }
                in_play.push_back(i);
            }
        }
        log_phi.resize(in_play.size());
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
    // A point mass wins when every other arm is below its mean; equal means
    // tie at Φ(0) = ½ each.
    for (std::size_t j = 0; j < k; ++j) {
        if (!arms[j].point) {
            continue;
        }
        double prod = 1;
        for (std::size_t i = 0; i < k && prod > 0; ++i) {
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
        p[j] = prod;
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
