#include "change_test.hpp"

#include "sampling.hpp"

#include <cmath>

namespace xloop {

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

} // namespace xloop
