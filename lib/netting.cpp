#include "netting.hpp"

#include <algorithm>
#include <cmath>

namespace xloop {

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

// The fit of one component, y = μ + α_t + Σ_d β_d,v, by block coordinate
// descent: the periods, each dimension's values, the level in turn, until no
// parameter moves by 1e-10 (at most 1000 rounds). `pairs`: companion_weights;
// `t_w`, `t_wy`: each period's Σw and Σw·y over all rows; a value's periods
// index into them.
class companion_descent {
public:
    companion_descent(std::vector<joint_value> const& vs,
                      std::vector<double> const& pairs, std::vector<char> const& fitted,
                      std::vector<double> const& t_w, std::vector<double> const& t_wy,
                      std::size_t k, double kappa)
        : m_vs(vs), m_pairs(pairs), m_fitted(fitted), m_t_w(t_w), m_t_wy(t_wy), m_k(k),
          m_kappa(kappa), m_alpha(t_w.size(), 0.0), m_beta(vs.size(), 0.0),
          m_r_t(t_w.size()), m_r_v(vs.size())
    {
        for (std::size_t t = 0; t < m_t_w.size(); ++t) {
            m_w += m_t_w[t];
            m_b += m_t_wy[t];
        }
        m_mu = m_w > 0 ? m_b / m_w : 0;
    }

    void run()
    {
        for (int iter = 0; iter < 1000 && m_w > 0; ++iter) {
            double change = fit_periods();
            change = std::max(change, fit_values());
            change = std::max(change, fit_level());
            if (change < 1e-10) {
                break;
            }
        }
    }

    // A value's Σw·y net of its period and companions, and the part of its
    // rows' spread its companions explain: per dimension e of the companions
    // (drawn on their own, their cross terms average out)
    // Σ_u W_vu·β_u² − (Σ_u W_vu·β_u)²/W_v.
    std::vector<companion_fit> fits() const
    {
        std::size_t const f_count = m_vs.size();
        std::size_t const dims = m_fitted.size();
        std::vector<companion_fit> out(f_count);
        std::vector<double> s1(dims), s2(dims);
        for (std::size_t i = 0; i < f_count; ++i) {
            out[i].wy = m_vs[i].wy[m_k] - companions(i) - periods(i);
            std::fill(s1.begin(), s1.end(), 0.0);
            std::fill(s2.begin(), s2.end(), 0.0);
            for (std::size_t j = 0; j < f_count; ++j) {
                double const wb = m_pairs[i * f_count + j] * m_beta[j];
                s1[m_vs[j].dimension] += wb;
                s2[m_vs[j].dimension] += wb * m_beta[j];
            }
            for (std::size_t e = 0; e < dims; ++e) {
                out[i].companion_ss += s2[e] - s1[e] * s1[e] / m_vs[i].w;
            }
        }
        return out;
    }

    std::vector<double> const& beta() const noexcept { return m_beta; }

private:
    // Σ_u W_vu·β_u over the value's companions
    double companions(std::size_t i) const
    {
        std::size_t const f_count = m_vs.size();
        double r = 0;
        double const* row = &m_pairs[i * f_count];
        for (std::size_t j = 0; j < f_count; ++j) {
            r += row[j] * m_beta[j];
        }
        return r;
    }

    // Σ_t W_vt·α_t over the value's periods
    double periods(std::size_t i) const
    {
        double r = 0;
        for (auto const& [t, wt] : m_vs[i].periods) {
            r += wt * m_alpha[static_cast<std::size_t>(t)];
        }
        return r;
    }

    // α_t over all rows, centred. Each fit_* returns its largest move.
    double fit_periods()
    {
        std::size_t const t_count = m_t_w.size();
        for (std::size_t t = 0; t < t_count; ++t) {
            m_r_t[t] = m_t_wy[t] - m_t_w[t] * m_mu;
        }
        for (std::size_t i = 0; i < m_vs.size(); ++i) {
            for (auto const& [t, wt] : m_vs[i].periods) {
                m_r_t[static_cast<std::size_t>(t)] -= wt * m_beta[i];
            }
        }
        double change = 0;
        double mean = 0;
        for (std::size_t t = 0; t < t_count; ++t) {
            double const next = m_t_w[t] > 0 ? m_r_t[t] / m_t_w[t] : 0;
            change = std::max(change, std::abs(next - m_alpha[t]));
            m_alpha[t] = next;
            mean += m_t_w[t] * next;
        }
        for (auto& a : m_alpha) {
            a -= mean / m_w;
        }
        return change;
    }

    // Each dimension's values at once (they share no row): the ridge's
    // minimum with Σ W_v·β_v = 0, β_v = (r_v − λ·W_v)/(W_v + κ).
    double fit_values()
    {
        double change = 0;
        std::size_t const f_count = m_vs.size();
        for (std::size_t d = 0; d < m_fitted.size(); ++d) {
            if (!m_fitted[d]) {
                continue;
            }
            double num = 0, den = 0;
            for (std::size_t i = 0; i < f_count; ++i) {
                auto const& v = m_vs[i];
                if (v.dimension == d) {
                    m_r_v[i] = v.wy[m_k] - v.w * m_mu - companions(i) - periods(i);
                    num += v.w * m_r_v[i] / (v.w + m_kappa);
                    den += v.w * v.w / (v.w + m_kappa);
                }
            }
            double const lambda = den > 0 ? num / den : 0;
            for (std::size_t i = 0; i < f_count; ++i) {
                auto const& v = m_vs[i];
                if (v.dimension == d) {
                    double const next = (m_r_v[i] - lambda * v.w) / (v.w + m_kappa);
                    change = std::max(change, std::abs(next - m_beta[i]));
                    m_beta[i] = next;
                }
            }
        }
        return change;
    }

    double fit_level()
    {
        double rest = m_b;
        for (std::size_t t = 0; t < m_t_w.size(); ++t) {
            rest -= m_t_w[t] * m_alpha[t];
        }
        for (std::size_t i = 0; i < m_vs.size(); ++i) {
            rest -= m_vs[i].w * m_beta[i];
        }
        double const next_mu = rest / m_w;
        double const change = std::abs(next_mu - m_mu);
        m_mu = next_mu;
        return change;
    }

    std::vector<joint_value> const& m_vs;
    std::vector<double> const& m_pairs;
    std::vector<char> const& m_fitted;
    std::vector<double> const& m_t_w;
    std::vector<double> const& m_t_wy;
    std::size_t m_k;
    double m_kappa;
    double m_w = 0;  // Σw over all rows
    double m_b = 0;  // Σw·y over all rows
    double m_mu = 0; // the level
    std::vector<double> m_alpha, m_beta;
    std::vector<double> m_r_t, m_r_v; // residuals, kept between rounds
};

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

// β per component of the joint fit, as net_of_companions fits them.
std::vector<std::vector<double>> companion_betas(joint_problem const& j,
                                                 companion_cells const& fit, double kappa)
{
    std::vector<std::vector<double>> beta(j.k_count);
    std::vector<double> t_w, t_wy;
    for (std::size_t k = 0; k < j.k_count; ++k) {
        j.period_sums(fit, k, t_w, t_wy);
        companion_descent descent{j.vs, j.pairs, j.fitted, t_w, t_wy, k, kappa};
        descent.run();
        beta[k] = descent.beta();
    }
    return beta;
}

// Per value of the fit and component, Σ_u W_vu·β_u over the pairs of rows
// `c` whose companion takes part in the fit's netting of v (the fit's rule:
// companion_weights).
std::vector<std::vector<double>>
companion_sums(joint_problem const& j, std::vector<std::vector<double>> const& beta,
               companion_cells const& c)
{
    std::vector<std::vector<double>> sums(j.vs.size(),
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
    return sums;
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
        companion_descent fit{j.vs, j.pairs, j.fitted, t_w, t_wy, k, kappa};
        fit.run();
        auto const net = fit.fits();
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
    auto const beta = companion_betas(j, fit, kappa);
    for (std::size_t r = 0; r < rows.size(); ++r) {
        auto const& c = *rows[r];
        auto const sums = companion_sums(j, beta, c);
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

} // namespace xloop
