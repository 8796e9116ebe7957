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

// Per interval, the impressions the posts and the replies live in it are
// expected to have gained in it (posts with a direct follow count left out),
// and their shares of reach alone.
struct expected_impressions {
    std::vector<double> post, reply, share;
};

expected_impressions impressions_per_interval(std::vector<follower_snapshot> const& snaps,
                                              std::vector<attribution_post> const& posts,
                                              std::vector<span> const& spans,
                                              accrual const& reach, timestamp from)
{
    expected_impressions x{std::vector<double>(snaps.size(), 0.0),
                           std::vector<double>(snaps.size(), 0.0),
                           std::vector<double>(snaps.size(), 0.0)};
    for (std::size_t p = 0; p < posts.size(); ++p) {
        auto const& s = spans[p];
        if (posts[p].direct_follows || s.e <= s.b || snaps[s.e].at < from) {
            continue;
        }
        auto const imp = static_cast<double>(posts[p].impressions.value_or(0));
        auto& by_kind = posts[p].reply ? x.reply : x.post;
        each_interval(snaps, s, posts[p].posted_at, reach,
                      [&](std::size_t i, double share) {
                          by_kind[i] += share * imp;
                          x.share[i] += share;
                      });
    }
    return x;
}

// Follows an impression brings, of a post (a) and of a reply (b): least
// squares of each interval's gain (from `from`, where every impression is
// known) on the post and reply impressions it saw, g ≈ a·P + b·R; one rate
// for both where either kind is missing or never apart from the other.
// `explained` is the sum of squares the fit accounts for.
struct follow_rates {
    double post = 0, reply = 0, explained = 0;
    bool apart = false;
    // the variance of reply − post per unit of residual variance
    double difference_variance = 0;
};

follow_rates fit_rates(std::vector<follower_snapshot> const& snaps,
                       std::vector<double> const& gain, expected_impressions const& x,
                       live_posts const& live, timestamp from)
{
    double pp = 0, pr = 0, rr = 0, gp = 0, gr = 0;
    for (std::size_t i = 0; i + 1 < snaps.size(); ++i) {
        if (live.unknown[i] == 0 && snaps[i].at >= from) {
            pp += x.post[i] * x.post[i];
            pr += x.post[i] * x.reply[i];
            rr += x.reply[i] * x.reply[i];
            gp += gain[i] * x.post[i];
            gr += gain[i] * x.reply[i];
        }
    }
    follow_rates f;
    double const det = pp * rr - pr * pr;
    if (det > 1e-9 * pp * rr && pp > 0 && rr > 0) {
        f.post = (gp * rr - gr * pr) / det;
        f.reply = (gr * pp - gp * pr) / det;
        f.explained = f.post * gp + f.reply * gr;
        f.apart = true;
        f.difference_variance = (pp + 2 * pr + rr) / det;
        return f;
    }
    // one rate for both: g ≈ a·(P + R)
    double const all = pp + 2 * pr + rr;
    if (all > 0) {
        f.post = f.reply = (gp + gr) / all;
        f.explained = (gp + gr) * (gp + gr) / all;
    }
    return f;
}

// How many follows an impression of a reply brings against one of a post,
// within [1/10, 10]; 1 (a reply's as a post's) where the fit cannot tell
// them apart, gives either no positive rate, or the two rates differ by
// less than the noise of `residual` (the variance of an interval's gain the
// fit leaves) makes clear (min_fit_evidence, below). Replies reach others'
// audiences, whose impressions need not bring follows as a post's do:
// shared by impressions alone, they took posts' follows; but a ratio read
// from noise moves follows between posts and replies from run to run.
constexpr double min_reply_rate_ratio = 0.1;
constexpr double max_reply_rate_ratio = 10;

double reply_rate_ratio(follow_rates const& f, double residual, double min_evidence)
{
    if (!f.apart || !(f.post > 0 && f.reply > 0)) {
        return 1;
    }
    double const d = f.reply - f.post;
    if (d * d <= min_evidence * std::max(residual, 0.0) * f.difference_variance) {
        return 1;
    }
    return std::clamp(f.reply / f.post, min_reply_rate_ratio, max_reply_rate_ratio);
}

// The half-lives fitted among (0: even over the window), and how much of
// the most recent intervals the fit reads: enough posts to tell them apart,
// and a bounded cost (each half-life is a pass over those posts' spans).
constexpr double fitted_half_lives[] = {0.5, 1, 1.5, 2, 3, 4, 6, 9, 12, 0};
constexpr auto fit_span = std::chrono::hours{24 * 14};
constexpr std::size_t min_fit_intervals = 48;
// How much more the best half-life must explain than the configured one, in
// units of the residual variance (an F statistic), before it replaces it:
// follower counts are noisy, and a half-life that explains a little more by
// chance moves every post's follows from one run to the next. 10 is a
// p-value of about 0.002 for one parameter, strict since ten were tried.
constexpr double min_fit_evidence = 10;

// The half-life whose expected impressions explain the recent intervals'
// gains best, when there are enough of them with posts live, and the rates
// fitted with it; `evident` when it explains clearly more than `configured`,
// whose rates are `kept`.
struct fitted_reach {
    double half_life_hours = 0;
    follow_rates rates, kept;
    bool evident = false;
    double total = 0;   // the gains' sum of squares the fits share out
    std::size_t df = 1; // the intervals fitted, less what was fitted
    // the variance of an interval's gain that `r` leaves unexplained
    double residual(follow_rates const& r) const
    {
        return std::max(total - r.explained, 0.0) / static_cast<double>(df);
    }
};

std::optional<fitted_reach> fit_half_life(std::vector<follower_snapshot> const& snaps,
                                          std::vector<attribution_post> const& posts,
                                          std::vector<span> const& spans,
                                          std::chrono::microseconds window,
                                          std::vector<double> const& gain,
                                          live_posts const& live, double configured)
{
    if (snaps.size() < 2) {
        return std::nullopt;
    }
    auto const from = snaps.back().at - fit_span;
    std::size_t intervals = 0, with_posts = 0;
    double total = 0; // the gains' sum of squares the fits share out
    for (std::size_t i = 0; i + 1 < snaps.size(); ++i) {
        if (snaps[i].at >= from && live.unknown[i] == 0) {
            ++intervals;
            with_posts += live.live[i] > 0;
            total += gain[i] * gain[i];
        }
    }
    if (with_posts < min_fit_intervals) {
        return std::nullopt;
    }
    auto const rates_at = [&](double h) {
        accrual const reach{window, h};
        return fit_rates(snaps, gain,
                         impressions_per_interval(snaps, posts, spans, reach, from), live,
                         from);
    };
    std::optional<fitted_reach> best;
    std::optional<follow_rates> kept;
    for (double const h : fitted_half_lives) {
        auto const f = rates_at(h);
        if (!best || f.explained > best->rates.explained) {
            best.emplace();
            best->half_life_hours = h;
            best->rates = f;
        }
        if (h == configured) {
            kept = f;
        }
    }
    best->kept = kept ? *kept : rates_at(configured);
    best->total = total;
    best->df = intervals - 3; // two rates and the half-life
    best->evident = best->half_life_hours != configured &&
                    best->rates.explained - best->kept.explained >
                        min_fit_evidence * best->residual(best->rates);
    return best;
}

} // namespace

std::vector<attribution_result>
attribute_followers(std::vector<follower_snapshot> const& snaps,
                    std::vector<attribution_post> const& posts, double window_hours,
                    timestamp now, timestamp known_from, reach_options const& options,
                    reach_fit* fitted)
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
    auto const live =
        live_per_interval(snaps, posts, spans, accrual{window, options.half_life_hours});
    auto const gain =
        interval_gains(snaps, live, background_drift(snaps, live, known_from));
    reach_fit fit;
    fit.half_life_hours = options.half_life_hours;
    if (options.fit) {
        auto const f = fit_half_life(snaps, posts, spans, window, gain, live,
                                     options.half_life_hours);
        if (f) {
            // the configured half-life kept, replies' rate is still fitted with it
            auto const& rates = f->evident ? f->rates : f->kept;
            fit.best_half_life_hours = f->half_life_hours;
            fit.fitted = f->evident;
            fit.half_life_hours =
                f->evident ? f->half_life_hours : options.half_life_hours;
            fit.reply_ratio =
                reply_rate_ratio(rates, f->residual(rates), min_fit_evidence);
        }
    }
    accrual const reach{window, fit.half_life_hours};

    // A post's weight in an interval: the impressions it is expected to have
    // gained in it, a reply's at the rate of follows its impressions bring
    // against a post's (fitted with the half-life); by its share of reach
    // alone where a post live there has no impressions known, or none has any.
    auto const x = impressions_per_interval(snaps, posts, spans, reach, timestamp::min());
    double const ratio = fit.reply_ratio;
    if (fitted) {
        *fitted = fit;
    }
    std::vector<double> by_imp(snaps.size(), 0.0);
    for (std::size_t i = 0; i < by_imp.size(); ++i) {
        by_imp[i] = x.post[i] + ratio * x.reply[i];
    }
    auto const weight = [&](std::size_t p, std::size_t i, double share) {
        return live.unknown[i] == 0 && by_imp[i] > 0
                   ? share * static_cast<double>(*posts[p].impressions) *
                         (posts[p].reply ? ratio : 1.0) / by_imp[i]
                   : share / x.share[i];
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
