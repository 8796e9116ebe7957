#include "attribution.hpp"

#include <algorithm>
#include <cmath>

namespace xloop {

std::vector<attribution_result>
attribute_followers(std::vector<follower_snapshot> const& snaps,
                    std::vector<attribution_post> const& posts, double window_hours,
                    timestamp now)
{
    std::vector<attribution_result> out(posts.size());
    std::size_t const n = snaps.size();
    auto const window = fractional_hours(window_hours);

    // Each post's span [b, e) in interval indices (interval i: snapshot i → i+1).
    struct span {
        std::size_t b = 0;
        std::size_t e = 0; // exclusive; b == e: no interval
        timestamp end;     // the window's end as of now
    };
    std::vector<span> spans(posts.size());
    for (std::size_t p = 0; p < posts.size(); ++p) {
        auto const& post = posts[p];
        auto& s = spans[p];
        s.end = std::min(post.posted_at + window, now);
        if (n == 0 || post.posted_at < snaps.front().at) {
            continue; // no snapshot before posting: nothing to measure from
        }
        // b: last snapshot at or before posting
        auto const after = std::upper_bound(
            snaps.begin(), snaps.end(), post.posted_at,
            [](timestamp t, follower_snapshot const& x) { return t < x.at; });
        s.b = static_cast<std::size_t>(after - snaps.begin()) - 1;
        // e: the snapshot nearest the window's end, after b and not after now
        auto hi = std::lower_bound(
            snaps.begin(), snaps.end(), s.end,
            [](follower_snapshot const& x, timestamp t) { return x.at < t; });
        std::size_t e = static_cast<std::size_t>(hi - snaps.begin());
        if (e < n && snaps[e].at <= now && e > 0 &&
            (s.end - snaps[e - 1].at) > (snaps[e].at - s.end)) {
            // the one after the end is nearer
        } else {
            e = e == 0 ? 0 : e - 1;
        }
        s.e = std::max(e, s.b);
        auto& r = out[p];
        r.followers_before = snaps[s.b].followers;
        if (s.e > s.b) {
            r.followers_after = snaps[s.e].followers;
        }
    }

    // Per interval: how many posts share it, and whether all their
    // impressions are known (then split by impressions).
    std::vector<double> impressions(n + 1, 0.0);
    std::vector<std::int64_t> live(n + 1, 0);
    std::vector<std::int64_t> unknown(n + 1, 0);
    for (std::size_t p = 0; p < posts.size(); ++p) {
        if (posts[p].direct_follows || spans[p].e <= spans[p].b) {
            continue;
        }
        auto const imp = posts[p].impressions;
        impressions[spans[p].b] += static_cast<double>(imp.value_or(0));
        impressions[spans[p].e] -= static_cast<double>(imp.value_or(0));
        live[spans[p].b] += 1;
        live[spans[p].e] -= 1;
        unknown[spans[p].b] += !imp;
        unknown[spans[p].e] -= !imp;
    }
    // The background drift: followers per hour while no post is live, over
    // at least min_quiet of such time; else none is known and none is removed.
    double drift_per_us = 0;
    {
        double quiet_gain = 0;
        double quiet_us = 0;
        std::int64_t live_now = 0;
        for (std::size_t i = 0; i + 1 < n; ++i) {
            live_now += live[i];
            if (live_now == 0) {
                quiet_gain +=
                    static_cast<double>(snaps[i + 1].followers - snaps[i].followers);
                quiet_us += static_cast<double>((snaps[i + 1].at - snaps[i].at).count());
            }
        }
        constexpr double min_quiet_us = 6 * 3600e6;
        if (quiet_us >= min_quiet_us) {
            drift_per_us = quiet_gain / quiet_us;
        }
    }
    // prefix_by_imp: Σ gain/total impressions; prefix_equal: Σ gain/count
    std::vector<double> prefix_by_imp(n + 1, 0.0);
    std::vector<double> prefix_equal(n + 1, 0.0);
    double imp_total = 0;
    std::int64_t live_count = 0;
    std::int64_t unknown_count = 0;
    for (std::size_t i = 0; i + 1 < n; ++i) {
        imp_total += impressions[i];
        live_count += live[i];
        unknown_count += unknown[i];
        // Losses are kept and the drift removed: the noise has mean zero, so
        // it no longer only ever adds to every post.
        double const gain =
            static_cast<double>(snaps[i + 1].followers - snaps[i].followers) -
            drift_per_us * static_cast<double>((snaps[i + 1].at - snaps[i].at).count());
        double by_imp = 0;
        double equal = 0;
        if (live_count > 0) {
            if (unknown_count == 0 && imp_total > 0) {
                by_imp = gain / imp_total;
            } else {
                equal = gain / static_cast<double>(live_count);
            }
        }
        prefix_by_imp[i + 1] = prefix_by_imp[i] + by_imp;
        prefix_equal[i + 1] = prefix_equal[i] + equal;
    }

    double const window_us = static_cast<double>(window.count());
    for (std::size_t p = 0; p < posts.size(); ++p) {
        auto const& post = posts[p];
        auto const& s = spans[p];
        auto& r = out[p];
        if (post.direct_follows) {
            r.gain = static_cast<double>(std::max<std::int64_t>(*post.direct_follows, 0));
            r.confidence = 1.0;
            continue;
        }
        if (s.e <= s.b) {
            continue; // no interval measured yet: gain 0, confidence 0
        }
        r.gain = static_cast<double>(post.impressions.value_or(0)) *
                     (prefix_by_imp[s.e] - prefix_by_imp[s.b]) +
                 (prefix_equal[s.e] - prefix_equal[s.b]);
        double const completion = std::clamp(
            static_cast<double>((s.end - post.posted_at).count()) / window_us, 0.0, 1.0);
        double const misalignment =
            std::abs(static_cast<double>((post.posted_at - snaps[s.b].at).count())) +
            std::abs(static_cast<double>((snaps[s.e].at - s.end).count()));
        double const alignment = std::max(0.0, 1.0 - misalignment / window_us);
        r.confidence = completion * alignment;
    }
    return out;
}

} // namespace xloop
