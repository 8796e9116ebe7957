#include "weight_map.hpp"

#include "normal.hpp"
#include "sampling.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <functional>
#include <vector>

namespace xloop {

double empirical_kappa(std::vector<group_stats> const& values, double kappa_floor)
{
    // W, S = Σw², Σw·y over all values; per value W_v, S_v, m_v
    double w = 0, s2 = 0, wy = 0, w_sq = 0, noise_df = 0;
    pooled_within within;
    std::size_t v = 0;
    for (auto const& g : values) {
        if (g.sum_w > 0) {
            w += g.sum_w;
            s2 += g.sum_w2;
            wy += g.sum_wy;
            w_sq += g.sum_w * g.sum_w;
            within.add(g);
            noise_df += g.sum_w2 / g.sum_w;
            ++v;
        }
    }
    if (v < 2 || w <= 0 || within.df <= 0) {
        return kappa_floor;
    }
    double const mu0 = wy / w;
    double between = 0;
    for (auto const& g : values) {
        if (g.sum_w > 0) {
            double const d = g.weighted_mean() - mu0;
            between += g.sum_w * d * d;
        }
    }
    // E[Σw·(y − m_v)²] = σ²·Σ(W_v − S_v/W_v); without a spread
    // E[between] = σ²·(Σ S_v/W_v − S/W)
    double const sigma2 = within.variance();
    double const noise = sigma2 * (noise_df - s2 / w);
    double const spread_weight = w - w_sq / w;
    double const tau2 =
        spread_weight > 0 ? std::max(0.0, (between - noise) / spread_weight) : 0.0;
    if (!(tau2 > 0)) {
        return kappa_no_spread;
    }
    return std::clamp(sigma2 / tau2, kappa_floor, kappa_no_spread);
}

double proxy_agreement(std::vector<std::vector<group_stats> const*> const& values,
                       std::size_t proxy)
{
    double sigma2_rest = 0; // the rest's noise: its components' pooled variances
    if (values.empty() || proxy >= values.front()->size()) {
        return 1;
    }
    for (std::size_t k = 0; k < values.front()->size(); ++k) {
        if (k != proxy) {
            pooled_within within;
            for (auto const* v : values) {
                within.add((*v)[k]);
            }
            sigma2_rest += within.variance();
        }
    }
    double w = 0, we = 0, wu = 0;
    std::vector<std::array<double, 4>> vs; // W_v, S_v, e_v, u_v
    for (auto const* v : values) {
        auto const& g = *v;
        if (!(g[proxy].sum_w > 0)) {
            continue;
        }
        double u = 0;
        for (std::size_t k = 0; k < g.size(); ++k) {
            if (k != proxy) {
                u += g[k].weighted_mean();
            }
        }
        double const e = g[proxy].weighted_mean();
        vs.push_back({g[proxy].sum_w, g[proxy].sum_w2, e, u});
        w += g[proxy].sum_w;
        we += g[proxy].sum_w * e;
        wu += g[proxy].sum_w * u;
    }
    if (vs.size() < 2) {
        return 1;
    }
    double cov = 0, var = 0;
    for (auto const& [w_v, s_v, e, u] : vs) {
        double const de = e - we / w;
        cov += w_v * de * (u - wu / w);
        var += sigma2_rest * s_v * de * de;
    }
    // A proxy that does not tell the values apart, or nothing to compare it
    // with: nothing to doubt.
    if (!(var > 0)) {
        return 1;
    }
    return std::max(0.0, 2 * normal_cdf(cov / std::sqrt(var)) - 1);
}

namespace {

using value_groups = std::map<std::string, std::vector<group_stats>>;

// A dimension's prior, per component: the mean μ₀ and sd σ of the values
// that count (not those apart), each scaled by the component's trust, and
// the κ shrinking toward them. Sets dim's prior_mean, sigma, prior_sd, kappa
// and proxy_trust.
struct component_priors {
    std::vector<double> mu0, sigma, trust;
};

component_priors priors_of(value_groups const& groups, dimension_estimate& dim,
                           double kappa, std::optional<std::size_t> proxy,
                           std::function<bool(std::string const&)> const& counts)
{
    std::size_t const k_count = groups.begin()->second.size();
    component_priors c{std::vector<double>(k_count), std::vector<double>(k_count),
                       std::vector<double>(k_count, 1.0)};
    dim.kappa.resize(k_count);
    if (proxy && *proxy < k_count) {
        std::vector<std::vector<group_stats> const*> values;
        for (auto const& [value, g] : groups) {
            if (counts(value)) {
                values.push_back(&g);
            }
        }
        c.trust[*proxy] = dim.proxy_trust = proxy_agreement(values, *proxy);
    }
    double var_sum = 0;
    double prior_var = 0;
    for (std::size_t k = 0; k < k_count; ++k) {
        std::vector<group_stats> values;
        group_stats all;
        for (auto const& [value, g] : groups) {
            if (counts(value)) {
                values.push_back(g.at(k));
                all.merge(g.at(k));
            }
        }
        c.mu0[k] = all.weighted_mean();
        c.sigma[k] = all.weighted_sd();
        dim.kappa[k] = empirical_kappa(values, kappa);
        // a distrusted proxy's part is scaled down (its spread with it)
        dim.prior_mean += c.trust[k] * c.mu0[k];
        c.sigma[k] *= c.trust[k];
        var_sum += c.sigma[k] * c.sigma[k];
        prior_var += c.sigma[k] * c.sigma[k] / dim.kappa[k];
    }
    dim.sigma = std::sqrt(var_sum);
    dim.prior_sd = std::sqrt(prior_var);
    return c;
}

// A value's posterior: the sum of its components' shrunk means, sd
// sqrt(Σ_k σ_k²/(W_v + κ_k)); `own`: a value apart keeps its own mean.
posterior arm_posterior(std::vector<group_stats> const& g, component_priors const& c,
                        std::vector<double> const& kappas, bool own, double kappa)
{
    posterior post;
    double var = 0;
    for (std::size_t k = 0; k < g.size(); ++k) {
        double const kappa_k = own ? 0.0 : kappas[k];
        auto const p = shrink_toward(g[k], c.mu0[k], kappa_k, c.sigma[k]);
        post.mean += c.trust[k] * p.mean;
        post.shrunk_mean += c.trust[k] * p.shrunk_mean;
        if (c.sigma[k] > 0) {
            var += c.sigma[k] * c.sigma[k] / (g[k].sum_w + kappa_k);
        }
    }
    // every component holds the same rows
    post.n = g[0].n;
    post.n_eff = g[0].effective_n();
    post.weight_sum = g[0].sum_w;
    // the floor of shrink_toward: identical scores are not certain
    post.sd =
        std::max(std::sqrt(var), min_sd / std::sqrt(std::max(g[0].sum_w + kappa, 1e-12)));
    return post;
}

// Each arm's P(best) and weight (1 − ε)·P(best) + ε/K, ε decayed with the
// dimension's effective posts.
void set_weights(dimension_estimate& dim, double epsilon, double epsilon_decay_posts)
{
    std::vector<normal_belief> beliefs;
    double evidence = 0;
    for (auto const& [value, arm] : dim.arms) {
        beliefs.push_back({arm.post.shrunk_mean, arm.post.sd});
        evidence += arm.post.n_eff;
    }
    auto const p = probability_best(beliefs);
    double const k = static_cast<double>(dim.arms.size());
    dim.epsilon = decayed_epsilon(epsilon, epsilon_decay_posts, evidence);
    std::size_t i = 0;
    for (auto& [value, arm] : dim.arms) {
        arm.p_best = p[i++];
        arm.weight = (1 - dim.epsilon) * arm.p_best + dim.epsilon / k;
    }
}

} // namespace

weight_map compute_weight_map(component_stats const& stats, double kappa, double epsilon,
                              double epsilon_decay_posts,
                              std::set<std::string> const& apart,
                              std::optional<std::size_t> proxy)
{
    weight_map out;
    for (auto const& [dimension, groups] : stats) {
        if (groups.empty()) {
            continue;
        }
        auto& dim = out[dimension];
        bool const all_apart =
            std::all_of(groups.begin(), groups.end(),
                        [&](auto const& g) { return apart.contains(g.first); });
        auto const counts = [&](std::string const& value) {
            return all_apart || !apart.contains(value);
        };
        auto const priors = priors_of(groups, dim, kappa, proxy, counts);
        for (auto const& [value, g] : groups) {
            // a value apart keeps its own mean: the prior is not its population's
            bool const own = !all_apart && apart.contains(value);
            dim.arms[value].post = arm_posterior(g, priors, dim.kappa, own, kappa);
        }
        set_weights(dim, epsilon, epsilon_decay_posts);
    }
    return out;
}

weight_map compute_weight_map(dimension_stats const& stats, double kappa, double epsilon,
                              double epsilon_decay_posts,
                              std::set<std::string> const& apart)
{
    component_stats one;
    for (auto const& [dimension, groups] : stats) {
        for (auto const& [value, g] : groups) {
            one[dimension][value] = {g};
        }
    }
    return compute_weight_map(one, kappa, epsilon, epsilon_decay_posts, apart);
}

std::optional<std::string> map_defect(weight_map const& map)
{
    for (auto const& [dimension, dim] : map) {
        double sum = 0;
        for (auto const& [value, arm] : dim.arms) {
            if (!std::isfinite(arm.weight) || arm.weight < 0 || arm.weight > 1) {
                return fmt::format("the weight of {} = '{}' is {}", dimension, value,
                                   arm.weight);
            }
            sum += arm.weight;
        }
        if (!dim.arms.empty() && std::abs(sum - 1) > 1e-6) {
            return fmt::format("the weights of {} sum to {}, not 1", dimension, sum);
        }
    }
    return std::nullopt;
}

double stored_number(double v)
{
    double const a = std::abs(v);
    int const decimals =
        a >= 1 && std::isfinite(a) ? 9 - static_cast<int>(std::floor(std::log10(a))) : 10;
    if (decimals < 0) { // 10 significant digits of 1e10 or more: whole tens and up
        double const unit = std::pow(10.0, -decimals);
        return std::round(v / unit) * unit;
    }
    double const scale = std::pow(10.0, decimals);
    return std::round(v * scale) / scale;
}

} // namespace xloop
