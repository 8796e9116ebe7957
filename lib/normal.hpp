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
// ∫ φ_k(x) · Π_{j≠k} Φ_j(x) dx, by Simpson's rule on one grid for all arms,
// as fine at each place as the narrowest arm there needs (each arm's
// density integrated over its mean ± 9 sd); cost grows with the number of
// arms, not its square. An arm too narrow for the doubles near its mean is
// its limit, a point mass. Deterministic; the result sums to 1 and is finite
// for any finite arms (means beyond ±1e100 and sds outside [1e-100, 1e100]
// are taken as those bounds).
std::vector<double> probability_best(std::vector<normal_belief> const& arms);

} // namespace xloop
