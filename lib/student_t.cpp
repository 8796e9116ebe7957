#include "student_t.hpp"

#include <cmath>
#include <stdexcept>

namespace xloop {

namespace {

// The continued fraction of the regularised incomplete beta function
// (modified Lentz), converging for x < (a + 1)/(a + b + 2).
double beta_fraction(double a, double b, double x)
{
    constexpr double tiny = 1e-300;
    auto const guard = [](double v) { return std::abs(v) < tiny ? tiny : v; };
    double c = 1;
    double d = 1 / guard(1 - (a + b) * x / (a + 1));
    double h = d;
    for (int m = 1; m <= 300; ++m) {
        double const m2 = 2.0 * m;
        double aa = m * (b - m) * x / ((a - 1 + m2) * (a + m2));
        d = 1 / guard(1 + aa * d);
        c = guard(1 + aa / c);
        h *= d * c;
        aa = -(a + m) * (a + b + m) * x / ((a + m2) * (a + 1 + m2));
        d = 1 / guard(1 + aa * d);
        c = guard(1 + aa / c);
        double const step = d * c;
        h *= step;
        if (std::abs(step - 1) < 1e-15) {
            break;
        }
    }
    return h;
}

// I_x(a, b).
double incomplete_beta(double a, double b, double x)
{
    if (x <= 0) {
        return 0;
    }
    if (x >= 1) {
        return 1;
    }
    double const front = std::exp(std::lgamma(a + b) - std::lgamma(a) - std::lgamma(b) +
                                  a * std::log(x) + b * std::log1p(-x));
    return x < (a + 1) / (a + b + 2) ? front * beta_fraction(a, b, x) / a
                                     : 1 - front * beta_fraction(b, a, 1 - x) / b;
}

} // namespace

double student_t_cdf(double t, double nu)
{
    // P(|T| > |t|) = I_{ν/(ν+t²)}(ν/2, 1/2)
    double const tail = 0.5 * incomplete_beta(nu / 2, 0.5, nu / (nu + t * t));
    return t > 0 ? 1 - tail : tail;
}

double student_t_quantile(double p, double nu)
{
    if (!(p > 0 && p < 1 && nu > 0)) {
        throw std::invalid_argument{"student_t_quantile: p in (0, 1), nu > 0"};
    }
    // The cdf rises monotonically: bisection to the doubles' resolution.
    // Even at ν = 1 (Cauchy) p = 1e-9 lies within ±4e8.
    double lo = -1e12;
    double hi = 1e12;
    for (int i = 0; i < 200; ++i) {
        double const mid = lo + (hi - lo) / 2;
        if (mid == lo || mid == hi) {
            break;
        }
        if (student_t_cdf(mid, nu) < p) {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    return lo + (hi - lo) / 2;
}

} // namespace xloop
