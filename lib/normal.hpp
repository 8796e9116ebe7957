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
// ∫ φ(z) · Π_{j≠k} Φ((mean_k + sd_k·z − mean_j)/sd_j) dz, by Simpson's rule
// on each arm's own grid over z in [−9, 9], fine enough for the narrowest
// arm. Deterministic; the result sums to 1 and is finite for any finite
// arms (means beyond ±1e100 and sds outside [1e-100, 1e100] are taken as
// those bounds).
std::vector<double> probability_best(std::vector<normal_belief> const& arms);

} // namespace xloop
