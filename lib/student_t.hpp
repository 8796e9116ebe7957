#pragma once

// Student's t distribution, for intervals that rest on few effective
// observations. Pure functions.

namespace xloop {

// P(T ≤ t) for T with `nu` > 0 degrees of freedom (not necessarily whole).
double student_t_cdf(double t, double nu);

// The t with P(T ≤ t) = p, for 0 < p < 1 and `nu` > 0.
double student_t_quantile(double p, double nu);

} // namespace xloop
