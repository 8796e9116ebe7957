#pragma once

// The standard normal distribution and the probability that each of several
// independent Normal posteriors is the largest. Pure functions.

#include <vector>

namespace xloop {

double normal_pdf(double z);
double normal_cdf(double z); // Φ

struct normal_belief {
    double mean = 0;
    double sd = 1;
};

// P(arm k has the largest value), for independent N(mean_k, sd_k²):
// ∫ φ_k(x) · Π_{j≠k} Φ_j(x) dx, by Simpson's rule on a grid fine enough for
// the narrowest arm. Deterministic; the result sums to 1.
std::vector<double> probability_best(std::vector<normal_belief> const& arms);

} // namespace xloop
