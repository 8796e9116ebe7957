#include "weight_map.hpp"

#include "normal.hpp"
#include "sampling.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <vector>

namespace xloop {

namespace {

// The noise variance pooled over groups with different means (recency
// weighted): σ² = Σ w·(y − m_g)² / Σ (W_g − S_g/W_g).
struct pooled_within {
    double sum = 0;
    double df = 0;

    void add(group_stats const& g)
    {
        if (g.sum_w > 0) {
            double const m = g.weighted_mean();
            sum += g.sum_wy2 - g.sum_w * m * m;
            df += g.sum_w - g.sum_w2 / g.sum_w;
        }
    }
    double variance() const { return df > 0 ? std::max(sum, 0.0) / df : 0.0; }
};

} // namespace

double empirical_kappa(std::vector<group_stats> const& values, double kappa_floor)
{
    constexpr double no_spread = 1e9;
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
        return no_spread;
    }
    return std::clamp(sigma2 / tau2, kappa_floor, no_spread);
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

// α_t of y = α_t + β_v over one component's cells (value, period → stats).
std::map<int, double>
period_effects(std::vector<std::map<int, group_stats const*>> const& vs)
{
    std::map<int, double> alpha;
    std::map<int, double> w_t;
    double w = 0;
    for (auto const& v : vs) {
        for (auto const& [t, g] : v) {
            alpha[t] = 0;
            w_t[t] += g->sum_w;
            w += g->sum_w;
        }
    }
    if (alpha.size() < 2 || !(w > 0)) {
        return alpha;
    }
    std::vector<double> beta(vs.size());
    for (int iter = 0; iter < 500; ++iter) {
        for (std::size_t i = 0; i < vs.size(); ++i) {
            double wv = 0, r = 0;
            for (auto const& [t, g] : vs[i]) {
                wv += g->sum_w;
                r += g->sum_wy - g->sum_w * alpha[t];
            }
            beta[i] = wv > 0 ? r / wv : 0;
        }
        std::map<int, double> r_t;
        for (std::size_t i = 0; i < vs.size(); ++i) {
            for (auto const& [t, g] : vs[i]) {
                r_t[t] += g->sum_wy - g->sum_w * beta[i];
            }
        }
        double change = 0, mean = 0;
        for (auto& [t, a] : alpha) {
            double const next = w_t[t] > 0 ? r_t[t] / w_t[t] : 0;
            change = std::max(change, std::abs(next - a));
            a = next;
            mean += w_t[t] * a;
        }
        mean /= w;
        for (auto& [t, a] : alpha) {
            a -= mean;
        }
        if (change < 1e-10) {
            break;
        }
    }
    return alpha;
}

} // namespace

std::map<std::string, std::vector<group_stats>> net_of_periods(period_cells const& cells)
{
    std::map<std::string, std::vector<group_stats>> out;
    std::size_t k_count = 0;
    for (auto const& [value, periods] : cells) {
        for (auto const& [t, parts] : periods) {
            k_count = std::max(k_count, parts.size());
        }
    }
    for (std::size_t k = 0; k < k_count; ++k) {
        std::vector<std::map<int, group_stats const*>> vs;
        for (auto const& [value, periods] : cells) {
            auto& v = vs.emplace_back();
            for (auto const& [t, parts] : periods) {
                if (k < parts.size() && parts[k].sum_w > 0) {
                    v[t] = &parts[k];
                }
            }
        }
        auto const alpha = period_effects(vs);
        std::size_t i = 0;
        for (auto const& [value, periods] : cells) {
            auto& parts = out[value];
            parts.resize(k_count);
            for (auto const& [t, g] : vs[i++]) {
                double const a = alpha.at(t);
                group_stats net = *g;
                net.sum_wy = g->sum_wy - a * g->sum_w;
                net.sum_wy2 = g->sum_wy2 - 2 * a * g->sum_wy + a * a * g->sum_w;
                parts[k].merge(net);
            }
        }
    }
    return out;
}

namespace {

// One value in the joint fit: its dimension, rows' Σw, Σw·y per component,
// and Σw per period (by the period's number).
struct joint_value {
    std::size_t dimension;
    bool apart = false; // replies' own value: not in the dependence test
    double w = 0;
    std::vector<double> wy;
    std::vector<std::pair<int, double>> periods;
};

// Which pairs of dimensions depend on each other, by Cramér's V of their
// values' Σw over the rows holding both (values apart left out): the loop
// draws each dimension on its own (V near 0, 0.5 by chance with 20 posts
// over 8 × 6 values), a dimension derived from another has V = 1.
std::vector<std::vector<char>> dependent_dimensions(std::vector<joint_value> const& vs,
                                                    std::vector<double> const& pair_w,
                                                    std::size_t dims)
{
    constexpr double dependent_v = 0.8;
    std::size_t const f_count = vs.size();
    std::vector<std::vector<char>> out(dims, std::vector<char>(dims, 0));
    for (std::size_t d = 0; d < dims; ++d) {
        for (std::size_t e = d + 1; e < dims; ++e) {
            std::vector<std::size_t> rows, cols;
            for (std::size_t i = 0; i < f_count; ++i) {
                if (!vs[i].apart && vs[i].dimension == d) {
                    rows.push_back(i);
                }
                if (!vs[i].apart && vs[i].dimension == e) {
                    cols.push_back(i);
                }
            }
            std::vector<double> r(rows.size()), c(cols.size());
            double n = 0;
            for (std::size_t a = 0; a < rows.size(); ++a) {
                for (std::size_t b = 0; b < cols.size(); ++b) {
                    double const w = pair_w[rows[a] * f_count + cols[b]];
                    r[a] += w;
                    c[b] += w;
                    n += w;
                }
            }
            auto const used = [](std::vector<double> const& x) {
                return static_cast<double>(
                    std::count_if(x.begin(), x.end(), [](double v) { return v > 0; }));
            };
            double const m = std::min(used(r), used(c)) - 1;
            if (!(n > 0) || m < 1) {
                continue;
            }
            double chi2 = 0;
            for (std::size_t a = 0; a < rows.size(); ++a) {
                for (std::size_t b = 0; b < cols.size(); ++b) {
                    double const expected = r[a] * c[b] / n;
                    if (expected > 0) {
                        double const dev = pair_w[rows[a] * f_count + cols[b]] - expected;
                        chi2 += dev * dev / expected;
                    }
                }
            }
            out[d][e] = out[e][d] = std::sqrt(chi2 / (n * m)) > dependent_v;
        }
    }
    return out;
}

// The dimensions fitted: each in turn unless it depends on one already
// taken (a structure derived from the decision type), whose effect the fit
// could not tell from its own. Returns the pair weights that take part:
// W_vu where u's dimension is fitted, other than v's and not one v's
// depends on; 0 elsewhere.
std::vector<double> companion_weights(std::vector<joint_value> const& vs,
                                      std::vector<double> const& pair_w,
                                      std::vector<std::vector<char>> const& dependent,
                                      std::vector<char>& fitted)
{
    std::size_t const dims = dependent.size();
    fitted.assign(dims, 0);
    for (std::size_t d = 0; d < dims; ++d) {
        fitted[d] = 1;
        for (std::size_t e = 0; e < d; ++e) {
            if (fitted[e] && dependent[d][e]) {
                fitted[d] = 0;
            }
        }
    }
    std::size_t const f_count = vs.size();
    std::vector<double> out(pair_w.size(), 0.0);
    for (std::size_t i = 0; i < f_count; ++i) {
        auto const d = vs[i].dimension;
        for (std::size_t j = 0; j < f_count; ++j) {
            auto const e = vs[j].dimension;
            if (e != d && fitted[e] && !dependent[d][e]) {
                out[i * f_count + j] = pair_w[i * f_count + j];
            }
        }
    }
    return out;
}

// A value's Σw·y net of its period and companions, and the part of its
// rows' spread its companions explain.
struct companion_fit {
    double wy = 0;
    double companion_ss = 0;
};

// The fit of one component, by block coordinate descent (the periods, each
// dimension's values, the level in turn). `pairs`: companion_weights;
// `t_w`, `t_wy`: each period's Σw and Σw·y over all rows; a value's periods
// index into them.
std::vector<companion_fit>
companions_out(std::vector<joint_value> const& vs, std::vector<double> const& pairs,
               std::vector<char> const& fitted, std::vector<double> const& t_w,
               std::vector<double> const& t_wy, std::size_t k, double kappa,
               std::vector<double>* beta_out = nullptr)
{
    std::size_t const f_count = vs.size();
    std::size_t const dims = fitted.size();
    std::size_t const t_count = t_w.size();
    double w = 0, b = 0;
    for (std::size_t t = 0; t < t_count; ++t) {
        w += t_w[t];
        b += t_wy[t];
    }
    std::vector<double> alpha(t_count, 0.0), beta(f_count, 0.0);
    // Σ_u W_vu·β_u over the value's companions
    auto const companions = [&](std::size_t i) {
        double r = 0;
        double const* row = &pairs[i * f_count];
        for (std::size_t j = 0; j < f_count; ++j) {
            r += row[j] * beta[j];
        }
        return r;
    };
    auto const periods = [&](std::size_t i) {
        double r = 0;
        for (auto const& [t, wt] : vs[i].periods) {
            r += wt * alpha[static_cast<std::size_t>(t)];
        }
        return r;
    };
    double mu = w > 0 ? b / w : 0;
    std::vector<double> r_t(t_count), r_v(f_count);
    for (int iter = 0; iter < 1000 && w > 0; ++iter) {
        double change = 0;
        // periods: α_t over all rows, centred
        for (std::size_t t = 0; t < t_count; ++t) {
            r_t[t] = t_wy[t] - t_w[t] * mu;
        }
        for (std::size_t i = 0; i < f_count; ++i) {
            for (auto const& [t, wt] : vs[i].periods) {
                r_t[static_cast<std::size_t>(t)] -= wt * beta[i];
            }
        }
        double mean = 0;
        for (std::size_t t = 0; t < t_count; ++t) {
            double const next = t_w[t] > 0 ? r_t[t] / t_w[t] : 0;
            change = std::max(change, std::abs(next - alpha[t]));
            alpha[t] = next;
            mean += t_w[t] * next;
        }
        for (auto& a : alpha) {
            a -= mean / w;
        }
        // each dimension's values, at once (they share no row): the ridge's
        // minimum with Σ W_v·β_v = 0, β_v = (r_v − λ·W_v)/(W_v + κ)
        for (std::size_t d = 0; d < dims; ++d) {
            if (!fitted[d]) {
                continue;
            }
            double num = 0, den = 0;
            for (std::size_t i = 0; i < f_count; ++i) {
                if (vs[i].dimension == d) {
                    r_v[i] = vs[i].wy[k] - vs[i].w * mu - companions(i) - periods(i);
                    num += vs[i].w * r_v[i] / (vs[i].w + kappa);
                    den += vs[i].w * vs[i].w / (vs[i].w + kappa);
                }
            }
            double const lambda = den > 0 ? num / den : 0;
            for (std::size_t i = 0; i < f_count; ++i) {
                if (vs[i].dimension == d) {
                    double const next = (r_v[i] - lambda * vs[i].w) / (vs[i].w + kappa);
                    change = std::max(change, std::abs(next - beta[i]));
                    beta[i] = next;
                }
            }
        }
        // the level
        double rest = b;
        for (std::size_t t = 0; t < t_count; ++t) {
            rest -= t_w[t] * alpha[t];
        }
        for (std::size_t i = 0; i < f_count; ++i) {
            rest -= vs[i].w * beta[i];
        }
        double const next_mu = rest / w;
        change = std::max(change, std::abs(next_mu - mu));
        mu = next_mu;
        if (change < 1e-10) {
            break;
        }
    }
    std::vector<companion_fit> out(f_count);
    std::vector<double> s1(dims), s2(dims);
    for (std::size_t i = 0; i < f_count; ++i) {
        out[i].wy = vs[i].wy[k] - companions(i) - periods(i);
        // the companions' spread within the value's rows, dimension by
        // dimension (drawn on their own, their cross terms average out)
        std::fill(s1.begin(), s1.end(), 0.0);
        std::fill(s2.begin(), s2.end(), 0.0);
        for (std::size_t j = 0; j < f_count; ++j) {
            double const wb = pairs[i * f_count + j] * beta[j];
            s1[vs[j].dimension] += wb;
            s2[vs[j].dimension] += wb * beta[j];
        }
        for (std::size_t e = 0; e < dims; ++e) {
            out[i].companion_ss += s2[e] - s1[e] * s1[e] / vs[i].w;
        }
    }
    if (beta_out) {
        *beta_out = std::move(beta);
    }
    return out;
}

// net_of_companions' problem: the values numbered (dimensions in the order of
// c.cells), the periods numbered, the pair weights that take part.
struct joint_problem {
    std::vector<joint_value> vs;
    std::map<value_id, std::size_t> index;
    std::map<int, int> t_index;
    std::map<std::string, std::size_t> dimension_index;
    std::size_t k_count = 0;
    std::vector<std::vector<char>> dependent;
    std::vector<char> fitted;
    std::vector<double> pairs; // companion_weights

    // Each period's Σw and Σw·y of component k over all rows.
    void period_sums(companion_cells const& c, std::size_t k, std::vector<double>& t_w,
                     std::vector<double>& t_wy) const
    {
        t_w.assign(t_index.size(), 0.0);
        t_wy.assign(t_index.size(), 0.0);
        for (auto const& [t, parts] : c.periods) {
            auto const i = static_cast<std::size_t>(t_index.at(t));
            if (k < parts.size() && parts[k].sum_w > 0) {
                t_w[i] = parts[k].sum_w;
                t_wy[i] = parts[k].sum_wy;
            }
        }
    }
};

joint_problem joint_of(companion_cells const& c, std::set<std::string> const& apart)
{
    joint_problem j;
    j.k_count = c.periods.begin()->second.size();
    for (auto const& [t, parts] : c.periods) {
        j.t_index.emplace(t, static_cast<int>(j.t_index.size()));
    }
    std::size_t d = 0;
    for (auto const& [dim, cells] : c.cells) {
        j.dimension_index[dim] = d;
        for (auto const& [value, periods] : cells) {
            joint_value v;
            v.dimension = d;
            v.wy.assign(j.k_count, 0.0);
            for (auto const& [t, parts] : periods) {
                auto const ti = j.t_index.find(t);
                if (parts.empty() || !(parts[0].sum_w > 0) || ti == j.t_index.end()) {
                    continue;
                }
                v.w += parts[0].sum_w;
                v.periods.emplace_back(ti->second, parts[0].sum_w);
                for (std::size_t k = 0; k < j.k_count && k < parts.size(); ++k) {
                    v.wy[k] += parts[k].sum_wy;
                }
            }
            v.apart = apart.contains(value);
            if (v.w > 0) {
                j.index[{dim, value}] = j.vs.size();
                j.vs.push_back(std::move(v));
            }
        }
        ++d;
    }
    std::size_t const f_count = j.vs.size();
    std::vector<double> pair_w(f_count * f_count, 0.0);
    for (auto const& [key, w] : c.pairs) {
        auto const a = j.index.find(key.first);
        auto const b = j.index.find(key.second);
        if (a != j.index.end() && b != j.index.end()) {
            pair_w[a->second * f_count + b->second] = w;
            pair_w[b->second * f_count + a->second] = w;
        }
    }
    j.dependent = dependent_dimensions(j.vs, pair_w, d);
    j.pairs = companion_weights(j.vs, pair_w, j.dependent, j.fitted);
    return j;
}

} // namespace

std::map<std::string, std::map<std::string, std::vector<group_stats>>>
net_of_companions(companion_cells const& c, double kappa,
                  std::set<std::string> const& apart)
{
    std::map<std::string, std::map<std::string, std::vector<group_stats>>> out;
    for (auto const& [dim, cells] : c.cells) {
        out[dim] = net_of_periods(cells);
    }
    if (c.pairs.empty() || c.periods.empty()) {
        return out;
    }
    auto const j = joint_of(c, apart);
    std::vector<double> t_w, t_wy;
    for (std::size_t k = 0; k < j.k_count; ++k) {
        j.period_sums(c, k, t_w, t_wy);
        auto const net = companions_out(j.vs, j.pairs, j.fitted, t_w, t_wy, k, kappa);
        for (auto const& [id, i] : j.index) {
            auto& g = out[id.first][id.second][k];
            if (!(g.sum_w > 0)) {
                continue;
            }
            // the spread around a mean moved to the joint fit's, less what
            // the companions explain
            double const within = g.sum_wy2 - g.sum_wy * g.sum_wy / g.sum_w;
            g.sum_wy = net[i].wy;
            g.sum_wy2 = std::max(within - net[i].companion_ss, 0.0) +
                        net[i].wy * net[i].wy / g.sum_w;
        }
    }
    return out;
}

std::vector<std::map<std::string, std::map<std::string, std::vector<double>>>>
companions_part(companion_cells const& fit,
                std::vector<companion_cells const*> const& rows, double kappa,
                std::set<std::string> const& apart)
{
    std::vector<std::map<std::string, std::map<std::string, std::vector<double>>>> out(
        rows.size());
    if (fit.pairs.empty() || fit.periods.empty()) {
        return out;
    }
    auto const j = joint_of(fit, apart);
    std::size_t const f_count = j.vs.size();
    // β per component, as net_of_companions fits them
    std::vector<std::vector<double>> beta(j.k_count);
    std::vector<double> t_w, t_wy;
    for (std::size_t k = 0; k < j.k_count; ++k) {
        j.period_sums(fit, k, t_w, t_wy);
        companions_out(j.vs, j.pairs, j.fitted, t_w, t_wy, k, kappa, &beta[k]);
    }
    for (std::size_t r = 0; r < rows.size(); ++r) {
        auto const& c = *rows[r];
        // Σ_u W_vu·β_u over the pairs of these rows whose companion takes
        // part in the fit's netting of v (the fit's rule: companion_weights)
        std::vector<std::vector<double>> sums(f_count,
                                              std::vector<double>(j.k_count, 0.0));
        auto const add = [&](value_id const& v, value_id const& u, double w) {
            auto const a = j.index.find(v);
            auto const b = j.index.find(u);
            if (a == j.index.end() || b == j.index.end()) {
                return;
            }
            auto const d = j.vs[a->second].dimension;
            auto const e = j.vs[b->second].dimension;
            if (e == d || !j.fitted[e] || j.dependent[d][e]) {
                return;
            }
            for (std::size_t k = 0; k < j.k_count; ++k) {
                sums[a->second][k] += w * beta[k][b->second];
            }
        };
        for (auto const& [key, w] : c.pairs) {
            add(key.first, key.second, w);
            add(key.second, key.first, w);
        }
        for (auto const& [dim, cells] : c.cells) {
            for (auto const& [value, periods] : cells) {
                double w = 0;
                for (auto const& [t, parts] : periods) {
                    w += parts.empty() ? 0.0 : parts[0].sum_w;
                }
                auto const i = j.index.find({dim, value});
                if (!(w > 0) || i == j.index.end()) {
                    continue;
                }
                auto& part = out[r][dim][value];
                part.resize(j.k_count);
                for (std::size_t k = 0; k < j.k_count; ++k) {
                    part[k] = sums[i->second][k] / w;
                }
            }
        }
    }
    return out;
}

namespace {

// Δ = m_recent − m_older and its precision h = 1/(S_r/W_r² + S_o/W_o²); h = 0
// without rows in both periods.
value_change change_of(group_stats const& r, group_stats const& o)
{
    if (!(r.sum_w > 0 && o.sum_w > 0)) {
        return {};
    }
    double const var = r.sum_w2 / (r.sum_w * r.sum_w) + o.sum_w2 / (o.sum_w * o.sum_w);
    return {1 / var, r.weighted_mean() - o.weighted_mean()};
}

} // namespace

value_change
matched_change(std::vector<std::pair<group_stats, group_stats>> const& recent_older)
{
    double sum_h = 0, sum_hd = 0;
    for (auto const& [r, o] : recent_older) {
        auto const c = change_of(r, o);
        sum_h += c.h;
        sum_hd += c.h * c.delta;
    }
    return sum_h > 0 ? value_change{sum_h, sum_hd / sum_h} : value_change{};
}

change_test
test_change(std::vector<std::pair<group_stats, group_stats>> const& recent_older,
            double p, std::vector<std::optional<value_change>> const& matched)
{
    change_test t;
    // Values with a matched change (replies) are another population with
    // noise of their own: each population's σ² is pooled on its own.
    auto const is_matched = [&](std::size_t i) {
        return i < matched.size() && matched[i];
    };
    pooled_within posts, others;
    for (std::size_t i = 0; i < recent_older.size(); ++i) {
        auto& pool = is_matched(i) ? others : posts;
        pool.add(recent_older[i].first);
        pool.add(recent_older[i].second);
    }
    double const sigma2_posts = posts.df > 0 ? posts.variance() : others.variance();
    double const sigma2_others = others.df > 0 ? others.variance() : sigma2_posts;
    double sum_h = 0, sum_hd = 0;
    std::vector<std::pair<double, double>> deltas; // h_v/σ_v², Δ_v
    for (std::size_t i = 0; i < recent_older.size(); ++i) {
        auto const& [r, o] = recent_older[i];
        auto const c = is_matched(i) ? *matched[i] : change_of(r, o);
        double const sigma2 = is_matched(i) ? sigma2_others : sigma2_posts;
        if (c.h > 0 && sigma2 > 0) {
            double const h = c.h / sigma2;
            deltas.emplace_back(h, c.delta);
            sum_h += h;
            sum_hd += h * c.delta;
        }
    }
    t.values = static_cast<int>(deltas.size());
    if (t.values < 2) {
        return t;
    }
    double const mean_d = sum_hd / sum_h;
    for (auto const& [h, d] : deltas) {
        t.statistic += h * (d - mean_d) * (d - mean_d);
    }
    double const k = t.values - 1;
    double const c = 2 / (9 * k);
    t.threshold = k * std::pow(1 - c + normal_quantile(1 - p) * std::sqrt(c), 3);
    t.z = (std::cbrt(t.statistic / k) - (1 - c)) / std::sqrt(c);
    t.changed = t.statistic > t.threshold;
    return t;
}

std::optional<band_split>
segment_change(std::map<std::pair<std::size_t, std::size_t>, change_test> const& tests,
               std::size_t count)
{
    std::optional<band_split> out;
    for (std::size_t to = count; to > 1;) {
        std::optional<band_split> best;
        for (std::size_t j = 1; j < to; ++j) {
            auto const t = tests.find({j, to});
            if (t != tests.end() && t->second.changed &&
                (!best || t->second.z > best->test.z)) {
                best = band_split{j, t->second};
            }
        }
        if (!best) {
            break;
        }
        out = best;
        to = best->bands;
    }
    return out;
}

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
        std::size_t const k_count = groups.begin()->second.size();
        auto& dim = out[dimension];
        // Per component: its values' stats, the dimension's mean, sd and κ.
        std::vector<double> mu0(k_count), sigma(k_count);
        dim.kappa.resize(k_count);
        double var_sum = 0;
        double prior_var = 0;
        bool const all_apart =
            std::all_of(groups.begin(), groups.end(),
                        [&](auto const& g) { return apart.contains(g.first); });
        auto const counts = [&](std::string const& value) {
            return all_apart || !apart.contains(value);
        };
        std::vector<double> trust(k_count, 1.0);
        if (proxy && *proxy < k_count) {
            std::vector<std::vector<group_stats> const*> values;
            for (auto const& [value, g] : groups) {
                if (counts(value)) {
                    values.push_back(&g);
                }
            }
            trust[*proxy] = dim.proxy_trust = proxy_agreement(values, *proxy);
        }
        for (std::size_t k = 0; k < k_count; ++k) {
            std::vector<group_stats> values;
            group_stats all;
            for (auto const& [value, g] : groups) {
                if (counts(value)) {
                    values.push_back(g.at(k));
                    all.merge(g.at(k));
                }
            }
            mu0[k] = all.weighted_mean();
            sigma[k] = all.weighted_sd();
            dim.kappa[k] = empirical_kappa(values, kappa);
            // a distrusted proxy's part is scaled down (its spread with it)
            dim.prior_mean += trust[k] * mu0[k];
            sigma[k] *= trust[k];
            var_sum += sigma[k] * sigma[k];
            prior_var += sigma[k] * sigma[k] / dim.kappa[k];
        }
        dim.sigma = std::sqrt(var_sum);
        dim.prior_sd = std::sqrt(prior_var);
        std::vector<normal_belief> beliefs;
        for (auto const& [value, g] : groups) {
            auto& arm = dim.arms[value];
            arm.post = {};
            // a value apart keeps its own mean: the prior is not its population's
            bool const own = !all_apart && apart.contains(value);
            double var = 0;
            for (std::size_t k = 0; k < k_count; ++k) {
                double const kappa_k = own ? 0.0 : dim.kappa[k];
                auto const p = shrink_toward(g[k], mu0[k], kappa_k, sigma[k]);
                arm.post.mean += trust[k] * p.mean;
                arm.post.shrunk_mean += trust[k] * p.shrunk_mean;
                if (sigma[k] > 0) {
                    var += sigma[k] * sigma[k] / (g[k].sum_w + kappa_k);
                }
            }
            // every component holds the same rows
            arm.post.n = g[0].n;
            arm.post.n_eff = g[0].effective_n();
            arm.post.weight_sum = g[0].sum_w;
            // the floor of shrink_toward: identical scores are not certain
            arm.post.sd = std::max(
                std::sqrt(var), min_sd / std::sqrt(std::max(g[0].sum_w + kappa, 1e-12)));
            beliefs.push_back({arm.post.shrunk_mean, arm.post.sd});
        }
        auto const p = probability_best(beliefs);
        double const k = static_cast<double>(groups.size());
        double evidence = 0;
        for (auto const& [value, arm] : dim.arms) {
            evidence += arm.post.n_eff;
        }
        dim.epsilon = decayed_epsilon(epsilon, epsilon_decay_posts, evidence);
        std::size_t i = 0;
        for (auto& [value, arm] : dim.arms) {
            arm.p_best = p[i++];
            arm.weight = (1 - dim.epsilon) * arm.p_best + dim.epsilon / k;
        }
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

} // namespace xloop
