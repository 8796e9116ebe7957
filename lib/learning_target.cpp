#include "learning_target.hpp"

#include <algorithm>
#include <cmath>

namespace xloop {

std::array<double, target_component_count>
target_weights(std::map<std::string, double> const& configured)
{
    std::array<double, target_component_count> c{};
    for (std::size_t k = 0; k < target_component_count; ++k) {
        auto const it = configured.find(target_component_names[k]);
        c[k] = it == configured.end() ? 0.0 : it->second;
    }
    return c;
}

double outcome_components::presence(std::size_t k) const
{
    if (!x[k] || !std::isfinite(*x[k])) {
        return 0;
    }
    if (k != attributed_follows_component || !std::isfinite(attributed_confidence)) {
        return 1;
    }
    return std::clamp(attributed_confidence, 0.0, 1.0);
}

namespace {

bool score_only(std::array<double, target_component_count> const& c)
{
    return c.back() > 0 &&
           std::all_of(c.begin(), c.end() - 1, [](double w) { return w <= 0; });
}

} // namespace

std::optional<double> learning_target(outcome_components const& x,
                                      target_scales const& scales,
                                      std::array<double, target_component_count> const& c)
{
    constexpr std::size_t score = target_component_count - 1;
    if (score_only(c)) {
        return x[score] && std::isfinite(*x[score]) ? x[score] : std::nullopt;
    }
    if (!has_target_component(x, c)) {
        return std::nullopt;
    }
    double sum = 0;
    double weight = 0;
    for (std::size_t k = 0; k < target_component_count; ++k) {
        if (c[k] <= 0 || !(scales[k].sd > 0)) {
            continue;
        }
        weight += c[k]; // a missing value counts as the mean: z = 0
        if (double const p = x.presence(k); p > 0) {
            sum += c[k] * p * (*x[k] - scales[k].mean) / scales[k].sd;
        }
    }
    return weight > 0 ? sum / weight : 0.0; // nothing varies: every row is average
}

bool has_target_component(outcome_components const& x,
                          std::array<double, target_component_count> const& c)
{
    for (std::size_t k = 0; k < target_component_count; ++k) {
        if (c[k] > 0 && x.presence(k) > 0) {
            return true;
        }
    }
    return false;
}

void scale_sums::add(outcome_components const& x)
{
    for (std::size_t k = 0; k < target_component_count; ++k) {
        if (x.presence(k) > 0) {
            // sums of x − (the first x): a constant sums to exactly 0
            if (m_n[k] == 0) {
                m_shift[k] = *x[k];
            }
            double const d = *x[k] - m_shift[k];
            m_n[k] += 1;
            m_sum[k] += d;
            m_sum2[k] += d * d;
        }
    }
}

component_scale make_scale(double mean, double sd)
{
    return {mean, sd > 1e-9 * std::abs(mean) ? sd : 0.0};
}

target_scales scale_sums::scales() const
{
    target_scales out;
    for (std::size_t k = 0; k < target_component_count; ++k) {
        if (m_n[k] > 0) {
            double const d = m_sum[k] / m_n[k];
            out[k] = make_scale(m_shift[k] + d,
                                std::sqrt(std::max(m_sum2[k] / m_n[k] - d * d, 0.0)));
        }
    }
    return out;
}

void target_sums::add(double w, outcome_components const& x)
{
    m_first.add(w, x);
    std::array<double, K> px{}; // p·x
    std::array<double, K> p{};
    for (std::size_t k = 0; k < K; ++k) {
        p[k] = x.presence(k);
        if (p[k] > 0) {
            px[k] = p[k] * *x[k];
        }
    }
    for (std::size_t j = 0; j < K; ++j) {
        for (std::size_t k = 0; k < K && p[j] != 0; ++k) {
            if (p[k] == 0) {
                continue;
            }
            m_sxp[j][k] += w * px[j] * p[k];
            if (k <= j) {
                m_sxx[pair(j, k)] += w * px[j] * px[k];
                m_spp[pair(j, k)] += w * p[j] * p[k];
            }
        }
    }
}

void target_sums::merge(target_sums const& o)
{
    m_first.merge(o.m_first);
    for (std::size_t j = 0; j < K; ++j) {
        for (std::size_t k = 0; k < K; ++k) {
            m_sxp[j][k] += o.m_sxp[j][k];
        }
    }
    for (std::size_t i = 0; i < pairs; ++i) {
        m_sxx[i] += o.m_sxx[i];
        m_spp[i] += o.m_spp[i];
    }
}

namespace {

// y = Σ a_k·p_k·(x_k − μ_k): a_k = c_k/(σ_k·C), C the weight of the
// components that vary; the score alone is taken as it is.
struct linear_target {
    std::array<double, target_component_count> a{}, mu{};
};

linear_target linear_form(target_scales const& scales,
                          std::array<double, target_component_count> const& c)
{
    constexpr std::size_t K = target_component_count;
    linear_target t;
    if (score_only(c)) {
        t.a[K - 1] = 1;
        return t;
    }
    double total = 0;
    for (std::size_t k = 0; k < K; ++k) {
        if (c[k] > 0 && scales[k].sd > 0) {
            total += c[k];
        }
    }
    for (std::size_t k = 0; k < K; ++k) {
        if (c[k] > 0 && scales[k].sd > 0 && total > 0) {
            t.a[k] = c[k] / (scales[k].sd * total);
            t.mu[k] = scales[k].mean;
        }
    }
    return t;
}

} // namespace

double target_sums::cross(std::size_t j, std::size_t k, double mu_j, double mu_k) const
{
    // Σw·p_j·p_k·(x_j − μ_j)·(x_k − μ_k)
    return m_sxx[pair(j, k)] - mu_k * m_sxp[j][k] - mu_j * m_sxp[k][j] +
           mu_j * mu_k * m_spp[pair(j, k)];
}

group_stats target_sums::stats(target_scales const& scales,
                               std::array<double, target_component_count> const& c) const
{
    auto const [a, mu] = linear_form(scales, c);
    auto g = m_first.stats(scales, c);
    for (std::size_t j = 0; j < K; ++j) {
        for (std::size_t k = 0; k < K && a[j] != 0; ++k) {
            if (a[k] != 0) {
                g.sum_wy2 += a[j] * a[k] * cross(j, k, mu[j], mu[k]);
            }
        }
    }
    return g;
}

void target_mean_sums::add(double w, outcome_components const& x)
{
    ++m_n;
    m_w += w;
    m_w2 += w * w;
    for (std::size_t k = 0; k < K; ++k) {
        if (double const p = x.presence(k); p > 0) {
            m_sx[k] += w * p * *x[k];
            m_sp[k] += w * p;
        }
    }
}

void target_mean_sums::merge(target_mean_sums const& o)
{
    m_n += o.m_n;
    m_w += o.m_w;
    m_w2 += o.m_w2;
    for (std::size_t k = 0; k < K; ++k) {
        m_sx[k] += o.m_sx[k];
        m_sp[k] += o.m_sp[k];
    }
}

group_stats
target_mean_sums::stats(target_scales const& scales,
                        std::array<double, target_component_count> const& c) const
{
    auto const [a, mu] = linear_form(scales, c);
    group_stats g;
    g.n = m_n;
    g.sum_w = m_w;
    g.sum_w2 = m_w2;
    for (std::size_t k = 0; k < K; ++k) {
        g.sum_wy += a[k] * (m_sx[k] - mu[k] * m_sp[k]);
    }
    return g;
}

std::vector<group_stats> target_mean_sums::component_stats(
    target_scales const& scales,
    std::array<double, target_component_count> const& c) const
{
    auto const [a, mu] = linear_form(scales, c);
    std::vector<group_stats> out(K);
    for (std::size_t k = 0; k < K; ++k) {
        auto& g = out[k];
        g.n = m_n;
        g.sum_w = m_w;
        g.sum_w2 = m_w2;
        g.sum_wy = a[k] * (m_sx[k] - mu[k] * m_sp[k]);
    }
    return out;
}

std::vector<group_stats>
target_sums::component_stats(target_scales const& scales,
                             std::array<double, target_component_count> const& c) const
{
    auto const [a, mu] = linear_form(scales, c);
    auto out = m_first.component_stats(scales, c);
    for (std::size_t k = 0; k < K; ++k) {
        if (a[k] != 0) {
            out[k].sum_wy2 = a[k] * a[k] * cross(k, k, mu[k], mu[k]);
        }
    }
    return out;
}

} // namespace xloop
