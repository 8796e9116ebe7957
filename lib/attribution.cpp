#include "attribution.hpp"

#include <algorithm>
#include <cmath>

namespace xloop {

namespace {

// A post's span [b, e) in interval indices (interval i: snapshot i → i+1).
struct span {
    std::size_t b = 0;
    std::size_t e = 0; // exclusive; b == e: no interval
    timestamp end;     // the window's end as of now
};

// b: the last snapshot at or before posting; e: the snapshot nearest the
// window's end, after b and not after now.
span span_of(std::vector<follower_snapshot> const& snaps, timestamp posted_at,
             std::chrono::microseconds window, timestamp now)
{
    span s;
    std::size_t const n = snaps.size();
    s.end = std::min(posted_at + window, now);
    if (n == 0 || posted_at < snaps.front().at) {
        return s; // no snapshot before posting: nothing to measure from
    }
    auto const after = std::upper_bound(
        snaps.begin(), snaps.end(), posted_at,
        [](timestamp t, follower_snapshot const& x) { return t < x.at; });
    s.b = static_cast<std::size_t>(after - snaps.begin()) - 1;
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
    return s;
}

// Per interval, as differences to sum in a sweep: the impressions of the
// posts live in it, how many they are, and how many of them have no
// impressions known (then the gain is split equally); and the follows per
// microsecond of those with a direct follow count, spread evenly over their
// spans (they take no share).
struct live_posts {
    std::vector<double> impressions;
    std::vector<std::int64_t> live;
    std::vector<std::int64_t> unknown;
    std::vector<double> direct_rate;
};

live_posts live_per_interval(std::vector<follower_snapshot> const& snaps,
                             std::vector<attribution_post> const& posts,
                             std::vector<span> const& spans)
{
    std::size_t const n = snaps.size();
    live_posts l{std::vector<double>(n + 1, 0.0), std::vector<std::int64_t>(n + 1, 0),
                 std::vector<std::int64_t>(n + 1, 0), std::vector<double>(n + 1, 0.0)};
    for (std::size_t p = 0; p < posts.size(); ++p) {
        auto const& [b, e, end] = spans[p];
        if (e <= b) {
            continue;
        }
        if (posts[p].direct_follows) {
            auto const us = static_cast<double>((snaps[e].at - snaps[b].at).count());
            // More follows than the account has followers are no count of
            // its own (a source's mistake): they take nothing from others.
            if (us > 0 && *posts[p].direct_follows <= snaps[e].followers) {
                auto const rate = static_cast<double>(std::max<std::int64_t>(
                                      *posts[p].direct_follows, 0)) /
                                  us;
                l.direct_rate[b] += rate;
                l.direct_rate[e] -= rate;
            }
            continue;
        }
        auto const imp = posts[p].impressions;
        l.impressions[b] += static_cast<double>(imp.value_or(0));
        l.impressions[e] -= static_cast<double>(imp.value_or(0));
        l.live[b] += 1;
        l.live[e] -= 1;
        l.unknown[b] += !imp;
        l.unknown[e] -= !imp;
    }
    return l;
}

// The background drift: followers per microsecond while no post without a
// direct follow count is live (less the follows counted for those that are),
// over at least six hours of such time from `known_from` on; else none is
// known and none removed.
double background_drift(std::vector<follower_snapshot> const& snaps, live_posts const& l,
                        timestamp known_from)
{
    double quiet_gain = 0;
    double quiet_us = 0;
    std::int64_t live_now = 0;
    double direct_per_us = 0;
    for (std::size_t i = 0; i + 1 < snaps.size(); ++i) {
        live_now += l.live[i];
        direct_per_us += l.direct_rate[i];
        if (live_now == 0 && snaps[i].at >= known_from) {
            auto const us = static_cast<double>((snaps[i + 1].at - snaps[i].at).count());
            quiet_gain +=
                static_cast<double>(snaps[i + 1].followers - snaps[i].followers) -
                direct_per_us * us;
            quiet_us += us;
        }
    }
    constexpr double min_quiet_us = 6 * 3600e6;
    return quiet_us >= min_quiet_us ? quiet_gain / quiet_us : 0.0;
}

// Prefix sums over the intervals of each one's gain per impression
// (by_imp) and per post (equal): a post's share of its span is then two
// differences, whatever the number of posts.
struct shares {
    std::vector<double> by_imp;
    std::vector<double> equal;
};

shares prefix_shares(std::vector<follower_snapshot> const& snaps, live_posts const& l,
                     double drift_per_us)
{
    std::size_t const n = snaps.size();
    shares sh{std::vector<double>(n + 1, 0.0), std::vector<double>(n + 1, 0.0)};
    double imp_total = 0;
    std::int64_t live_count = 0;
    std::int64_t unknown_count = 0;
    double direct_per_us = 0;
    for (std::size_t i = 0; i + 1 < n; ++i) {
        imp_total += l.impressions[i];
        live_count += l.live[i];
        unknown_count += l.unknown[i];
        direct_per_us += l.direct_rate[i];
        // Losses are kept and the drift removed: the noise has mean zero, so
        // it no longer only ever adds to every post. The follows the source
        // counted for posts live here are theirs, not the others' to share.
        auto const us = static_cast<double>((snaps[i + 1].at - snaps[i].at).count());
        double const gain =
            static_cast<double>(snaps[i + 1].followers - snaps[i].followers) -
            (drift_per_us + direct_per_us) * us;
        double by_imp = 0;
        double equal = 0;
        if (live_count > 0) {
            if (unknown_count == 0 && imp_total > 0) {
                by_imp = gain / imp_total;
            } else {
                equal = gain / static_cast<double>(live_count);
            }
        }
        sh.by_imp[i + 1] = sh.by_imp[i] + by_imp;
        sh.equal[i + 1] = sh.equal[i] + equal;
    }
    return sh;
}

} // namespace

std::vector<attribution_result>
attribute_followers(std::vector<follower_snapshot> const& snaps,
                    std::vector<attribution_post> const& posts, double window_hours,
                    timestamp now, timestamp known_from)
{
    std::vector<attribution_result> out(posts.size());
    auto const window = fractional_hours(window_hours);
    std::vector<span> spans(posts.size());
    for (std::size_t p = 0; p < posts.size(); ++p) {
        auto const& s = spans[p] = span_of(snaps, posts[p].posted_at, window, now);
        if (!snaps.empty() && posts[p].posted_at >= snaps.front().at) {
            out[p].followers_before = snaps[s.b].followers;
            if (s.e > s.b) {
                out[p].followers_after = snaps[s.e].followers;
            }
        }
    }
    auto const live = live_per_interval(snaps, posts, spans);
    auto const sh = prefix_shares(snaps, live, background_drift(snaps, live, known_from));

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
                     (sh.by_imp[s.e] - sh.by_imp[s.b]) +
                 (sh.equal[s.e] - sh.equal[s.b]);
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
