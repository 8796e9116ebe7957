#include "off_policy.hpp"

#include "sampling.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace xloop {

std::vector<double> importance_weights(std::vector<logged_sample> const& s, double cap,
                                       std::int64_t* clipped)
{
    std::vector<double> w;
    w.reserve(s.size());
    std::int64_t cut = 0;
    for (auto const& x : s) {
        double const raw = x.logging_p > 0 ? x.target_p / x.logging_p : 0.0;
        cut += raw > cap ? 1 : 0;
        w.push_back(std::min(raw, cap));
    }
    if (clipped) {
        *clipped = cut;
    }
    return w;
}

double effective_sample_size(std::vector<double> const& w)
{
    double sum = 0;
    double sum2 = 0;
    for (double v : w) {
        sum += v;
        sum2 += v * v;
    }
    return sum2 > 0 ? sum * sum / sum2 : 0.0;
}

std::optional<double> estimate_value(std::vector<logged_sample> const& s,
                                     std::vector<double> const& w, estimator e,
                                     std::vector<std::size_t> const& index)
{
    std::size_t const n = index.empty() ? s.size() : index.size();
    if (n == 0) {
        return std::nullopt;
    }
    double num = 0;
    double den = 0;
    for (std::size_t k = 0; k < n; ++k) {
        std::size_t const i = index.empty() ? k : index[k];
        auto const& x = s[i];
        switch (e) {
        case estimator::ips:
        case estimator::snips:
            num += w[i] * x.outcome;
            den += w[i];
            break;
        case estimator::doubly_robust:
            num += x.model_of_target + w[i] * (x.outcome - x.model);
            break;
        }
    }
    if (e == estimator::snips) {
        return den > 0 ? std::optional{num / den} : std::nullopt;
    }
    return num / static_cast<double>(n);
}

namespace {

// The 5th and 95th percentiles of the bootstrap values (linear between ranks).
std::pair<double, double> interval_90(std::vector<double> v)
{
    if (v.empty()) {
        return {NAN, NAN};
    }
    std::sort(v.begin(), v.end());
    auto const at = [&](double q) {
        double const pos = q * static_cast<double>(v.size() - 1);
        auto const lo = static_cast<std::size_t>(std::floor(pos));
        auto const hi = std::min(lo + 1, v.size() - 1);
        return v[lo] + (v[hi] - v[lo]) * (pos - static_cast<double>(lo));
    };
    return {at(0.05), at(0.95)};
}

std::vector<std::size_t> resample(std::size_t n, rng& r)
{
    std::vector<std::size_t> idx(n);
    for (auto& i : idx) {
        i = r.below(n);
    }
    return idx;
}

struct factored_weights {
    std::vector<std::vector<double>> w;
    double ess = 0;
    std::int64_t clipped = 0;
};

factored_weights weights_of(std::vector<std::vector<logged_sample>> const& dims,
                            double cap)
{
    factored_weights f;
    f.ess = dims.empty() ? 0 : std::numeric_limits<double>::infinity();
    for (auto const& d : dims) {
        std::int64_t cut = 0;
        f.w.push_back(importance_weights(d, cap, &cut));
        f.clipped += cut;
        f.ess = std::min(f.ess, effective_sample_size(f.w.back()));
    }
    return f;
}

std::optional<double> factored_value(std::vector<std::vector<logged_sample>> const& dims,
                                     factored_weights const& f, estimator e,
                                     std::vector<std::size_t> const& index)
{
    if (dims.empty() || dims[0].empty()) {
        return std::nullopt;
    }
    std::vector<double> const ones(dims[0].size(), 1.0);
    auto const mean = estimate_value(dims[0], ones, estimator::ips, index);
    if (!mean) {
        return std::nullopt;
    }
    double sum = *mean;     // ȳ + Σ (V_d − ȳ)
    double product = *mean; // ȳ · Π V_d/ȳ
    bool positive = *mean > 0;
    for (std::size_t d = 0; d < dims.size(); ++d) {
        auto const vd = estimate_value(dims[d], f.w[d], e, index);
        if (!vd) {
            return std::nullopt;
        }
        sum += *vd - *mean;
        positive = positive && *vd > 0;
        product *= positive ? *vd / *mean : 1.0;
    }
    return positive ? product : sum;
}

} // namespace

std::optional<policy_estimate>
estimate_factored(std::vector<std::vector<logged_sample>> const& dims, estimator e,
                  double cap, int rounds, rng& r)
{
    auto const f = weights_of(dims, cap);
    auto const value = factored_value(dims, f, e, {});
    if (!value) {
        return std::nullopt;
    }
    policy_estimate out;
    out.value = *value;
    out.n = static_cast<std::int64_t>(dims[0].size());
    out.ess = f.ess;
    out.clipped = f.clipped;
    std::vector<double> boot;
    for (int b = 0; b < rounds; ++b) {
        if (auto const v = factored_value(dims, f, e, resample(dims[0].size(), r))) {
            boot.push_back(*v);
        }
    }
    std::tie(out.lo, out.hi) = interval_90(std::move(boot));
    return out;
}

std::optional<policy_estimate>
estimate_factored_lift(std::vector<std::vector<logged_sample>> const& a,
                       std::vector<std::vector<logged_sample>> const& b, estimator e,
                       double cap, int rounds, rng& r)
{
    auto const fa = weights_of(a, cap);
    auto const fb = weights_of(b, cap);
    auto const va = factored_value(a, fa, e, {});
    auto const vb = factored_value(b, fb, e, {});
    if (!va || !vb || a[0].size() != b[0].size()) {
        return std::nullopt;
    }
    policy_estimate out;
    out.value = *vb - *va;
    out.n = static_cast<std::int64_t>(a[0].size());
    out.ess = std::min(fa.ess, fb.ess);
    out.clipped = fa.clipped + fb.clipped;
    std::vector<double> boot;
    for (int k = 0; k < rounds; ++k) {
        auto const idx = resample(a[0].size(), r);
        auto const x = factored_value(a, fa, e, idx);
        auto const y = factored_value(b, fb, e, idx);
        if (x && y) {
            boot.push_back(*y - *x);
        }
    }
    std::tie(out.lo, out.hi) = interval_90(std::move(boot));
    return out;
}

// One policy's estimate is the factored one over a single dimension:
// V = ȳ·V_1/ȳ = V_1.
std::optional<policy_estimate> estimate_policy(std::vector<logged_sample> const& s,
                                               estimator e, double cap, int rounds,
                                               rng& r)
{
    return estimate_factored({s}, e, cap, rounds, r);
}

std::optional<policy_estimate> estimate_lift(std::vector<logged_sample> const& a,
                                             std::vector<logged_sample> const& b,
                                             estimator e, double cap, int rounds, rng& r)
{
    return estimate_factored_lift({a}, {b}, e, cap, rounds, r);
}

} // namespace xloop
