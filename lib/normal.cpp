#include "normal.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace xloop {

double normal_pdf(double z)
{
    return std::exp(-0.5 * z * z) / std::sqrt(2 * std::numbers::pi);
}

double normal_cdf(double z)
{
    return 0.5 * std::erfc(-z / std::numbers::sqrt2);
}

std::vector<double> probability_best(std::vector<normal_belief> const& arms)
{
    std::size_t const k = arms.size();
    if (k == 0) {
        return {};
    }
    if (k == 1) {
        return {1.0};
    }
    double lo = arms[0].mean;
    double hi = arms[0].mean;
    double narrowest = arms[0].sd;
    for (auto const& a : arms) {
        lo = std::min(lo, a.mean - 9 * a.sd);
        hi = std::max(hi, a.mean + 9 * a.sd);
        narrowest = std::min(narrowest, a.sd);
    }
    // At least 20 grid steps across the narrowest sd; an even number for Simpson.
    auto steps = static_cast<std::size_t>(std::ceil((hi - lo) / (narrowest / 20)));
    steps = std::clamp<std::size_t>(steps, 2000, 400000);
    steps += steps % 2;
    double const dx = (hi - lo) / static_cast<double>(steps);

    std::vector<double> p(k, 0.0);
    std::vector<double> cdf(k);
    std::vector<double> prefix(k + 1);
    std::vector<double> suffix(k + 1);
    for (std::size_t i = 0; i <= steps; ++i) {
        double const x = lo + dx * static_cast<double>(i);
        double const simpson = (i == 0 || i == steps) ? 1 : (i % 2 ? 4 : 2);
        for (std::size_t j = 0; j < k; ++j) {
            cdf[j] = normal_cdf((x - arms[j].mean) / arms[j].sd);
        }
        // Products of all other arms' Φ without dividing (Φ may be 0).
        prefix[0] = 1;
        for (std::size_t j = 0; j < k; ++j) {
            prefix[j + 1] = prefix[j] * cdf[j];
        }
        suffix[k] = 1;
        for (std::size_t j = k; j-- > 0;) {
            suffix[j] = suffix[j + 1] * cdf[j];
        }
        for (std::size_t j = 0; j < k; ++j) {
            double const pdf = normal_pdf((x - arms[j].mean) / arms[j].sd) / arms[j].sd;
            p[j] += simpson * pdf * prefix[j] * suffix[j + 1];
        }
    }
    double total = 0;
    for (auto& v : p) {
        v *= dx / 3;
        total += v;
    }
    for (auto& v : p) {
        v /= total;
    }
    return p;
}

} // namespace xloop
