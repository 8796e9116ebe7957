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

// The share of a post's reach (impressions, and the follows they bring) in
// by `age` of its window: evenly over it, or front-loaded, all but 2^(−a/h)
// by age a, scaled to all of it at the window's end.
class accrual {
public:
    accrual(std::chrono::microseconds window, double half_life_hours)
        : m_window_us(static_cast<double>(window.count())),
          m_rate(half_life_hours > 0 ? std::log(2.0) / (half_life_hours * 3600e6) : 0),
          m_scale(m_rate > 0 ? -std::expm1(-m_rate * m_window_us) : 1)
    {}

    double operator()(std::chrono::microseconds age) const
    {
        double const a = std::clamp(static_cast<double>(age.count()), 0.0, m_window_us);
        return m_rate > 0 ? -std::expm1(-m_rate * a) / m_scale : a / m_window_us;
    }

private:
    double m_window_us;
    double m_rate;  // per microsecond; 0: even
    double m_scale; // the share in by the window's end
};

// Calls f(i, share) for each interval i of a post's span with the share of
// its reach that came in during it.
template <typename F>
void each_interval(std::vector<follower_snapshot> const& snaps, span const& s,
                   timestamp posted_at, accrual const& reach, F&& f)
{
    double in_before = reach(snaps[s.b].at - posted_at);
    for (std::size_t i = s.b; i < s.e; ++i) {
        double const in_after = reach(snaps[i + 1].at - posted_at);
        f(i, in_after - in_before);
        in_before = in_after;
    }
}

// Per interval: how many posts are live in it (summed from differences at
// each span's ends), how many of them have no impressions known (then the
// gain is split by reach alone), and the follows of those with a direct
// follow count that came in during it, as their reach did (they take no
// share).
struct live_posts {
    std::vector<std::int64_t> live;
    std::vector<std::int64_t> unknown;
    std::vector<double> direct;
};

live_posts live_per_interval(std::vector<follower_snapshot> const& snaps,
                             std::vector<attribution_post> const& posts,
                             std::vector<span> const& spans, accrual const& reach)
{
    std::size_t const n = snaps.size();
    live_posts l{std::vector<std::int64_t>(n + 1, 0), std::vector<std::int64_t>(n + 1, 0),
                 std::vector<double>(n + 1, 0.0)};
    for (std::size_t p = 0; p < posts.size(); ++p) {
        auto const& [b, e, end] = spans[p];
        if (e <= b) {
            continue;
        }
        if (auto const count = posts[p].direct_follows) {
            // More follows than the account has followers are no count of
            // its own (a source's mistake): they take nothing from others.
            // The count is of the span so far: spread over it by the reach
            // that came in during each interval, all of it.
            auto const in_span = reach(snaps[e].at - posts[p].posted_at);
            if (*count <= snaps[e].followers && in_span > 0) {
                auto const follows =
                    static_cast<double>(std::max<std::int64_t>(*count, 0)) / in_span;
                each_interval(
                    snaps, spans[p], posts[p].posted_at, reach,
                    [&](std::size_t i, double share) { l.direct[i] += follows * share; });
            }
            continue;
        }
        l.live[b] += 1;
        l.live[e] -= 1;
        l.unknown[b] += !posts[p].impressions;
        l.unknown[e] -= !posts[p].impressions;
    }
    for (std::size_t i = 0; i < n; ++i) {
        l.live[i + 1] += l.live[i];
        l.unknown[i + 1] += l.unknown[i];
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
    for (std::size_t i = 0; i + 1 < snaps.size(); ++i) {
        if (l.live[i] == 0 && snaps[i].at >= known_from) {
            auto const us = static_cast<double>((snaps[i + 1].at - snaps[i].at).count());
            quiet_gain +=
                static_cast<double>(snaps[i + 1].followers - snaps[i].followers) -
                l.direct[i];
            quiet_us += us;
        }
    }
    constexpr double min_quiet_us = 6 * 3600e6;
    return quiet_us >= min_quiet_us ? quiet_gain / quiet_us : 0.0;
}

// Each interval's gain: its change in followers less the drift and the
// follows the source counted for the posts live in it (theirs, not the
// others' to share). Losses are kept: the noise has mean zero, so it no
// longer only ever adds to every post.
std::vector<double> interval_gains(std::vector<follower_snapshot> const& snaps,
                                   live_posts const& l, double drift_per_us)
{
    std::vector<double> gain(snaps.size(), 0.0);
    for (std::size_t i = 0; i + 1 < snaps.size(); ++i) {
        auto const us = static_cast<double>((snaps[i + 1].at - snaps[i].at).count());
        gain[i] = static_cast<double>(snaps[i + 1].followers - snaps[i].followers) -
                  drift_per_us * us - l.direct[i];
    }
    return gain;
}

} // namespace

std::vector<attribution_result>
attribute_followers(std::vector<follower_snapshot> const& snaps,
                    std::vector<attribution_post> const& posts, double window_hours,
                    timestamp now, timestamp known_from, double half_life_hours)
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
    accrual const reach{window, half_life_hours};
    auto const live = live_per_interval(snaps, posts, spans, reach);
    auto const gain =
        interval_gains(snaps, live, background_drift(snaps, live, known_from));

    // A post's weight in an interval: the impressions it is expected to have
    // gained in it; by its share of reach alone where a post live there has
    // no impressions known, or none has any.
    std::vector<double> by_imp(snaps.size(), 0.0);
    std::vector<double> by_time(snaps.size(), 0.0);
    for (std::size_t p = 0; p < posts.size(); ++p) {
        if (!posts[p].direct_follows && spans[p].e > spans[p].b) {
            auto const imp = static_cast<double>(posts[p].impressions.value_or(0));
            each_interval(snaps, spans[p], posts[p].posted_at, reach,
                          [&](std::size_t i, double share) {
                              by_imp[i] += share * imp;
                              by_time[i] += share;
                          });
        }
    }
    auto const weight = [&](std::size_t p, std::size_t i, double share) {
        return live.unknown[i] == 0 && by_imp[i] > 0
                   ? share * static_cast<double>(*posts[p].impressions) / by_imp[i]
                   : share / by_time[i];
    };
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
        each_interval(snaps, s, post.posted_at, reach, [&](std::size_t i, double share) {
            if (share > 0) {
                r.gain += gain[i] * weight(p, i, share);
            }
        });
        double const completion = reach(s.end - post.posted_at);
        double const misalignment =
            std::abs(static_cast<double>((post.posted_at - snaps[s.b].at).count())) +
            std::abs(static_cast<double>((snaps[s.e].at - s.end).count()));
        double const alignment =
            std::max(0.0, 1.0 - misalignment / static_cast<double>(window.count()));
        r.confidence = completion * alignment;
    }
    return out;
}

} // namespace xloop
