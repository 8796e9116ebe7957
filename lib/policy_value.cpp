#include "policy_value.hpp"

#include "canonical.hpp"
#include "config.hpp"
#include "db.hpp"
#include "error.hpp"
#include "json_text.hpp"
#include "learning_target_db.hpp"
#include "map_shape.hpp"
#include "plan_job.hpp"
#include "sampling.hpp"
#include "stored_values.hpp"
#include "text.hpp"
#include "weight_map.hpp"
#include "weighting.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string_view>

namespace xloop {

namespace {

constexpr double model_kappa = 5;
constexpr int bootstrap_rounds = 400;

// The additive reward model: per dimension and value, the shrunk deviation
// of the value's mean outcome from the overall mean.
struct reward_model {
    double mean = 0;
    std::map<std::string, std::map<std::string, double>> deviation;

    double predict(std::map<std::string, logged_draw> const& draws) const
    {
        double q = mean;
        for (auto const& [dim, d] : draws) {
            q += of(dim, d.value);
        }
        return q;
    }
    double of(std::string const& dim, std::string const& value) const
    {
        auto const d = deviation.find(dim);
        if (d == deviation.end()) {
            return 0;
        }
        auto const v = d->second.find(value);
        return v == d->second.end() ? 0 : v->second;
    }
};

double outcome_of(logged_post const& p, bool follows)
{
    return follows ? p.follows.value_or(0) : p.score;
}

// Why a policy gets no number: its weights rest on too few `what`.
std::string too_thin(std::optional<policy_estimate> const& e, evidence_floor floor,
                     char const* what)
{
    return fmt::format("effective sample {:.1f} {}, below {}: the logged draws cannot "
                       "say",
                       e ? e->ess : 0.0, what, floor.effective_posts);
}

reward_model fit_model(std::vector<logged_post> const& posts, bool follows)
{
    reward_model m;
    if (posts.empty()) {
        return m;
    }
    std::map<std::string, std::map<std::string, group_stats>> groups;
    for (auto const& p : posts) {
        double const y = outcome_of(p, follows);
        m.mean += y;
        for (auto const& [dim, d] : p.draws) {
            groups[dim][d.value].add(1, y);
        }
    }
    m.mean /= static_cast<double>(posts.size());
    for (auto const& [dim, values] : groups) {
        for (auto const& [value, g] : values) {
            // shrunk towards the overall mean by κ pseudo-posts, as the learners do
            m.deviation[dim][value] =
                shrink_toward(g, m.mean, model_kappa, 0).shrunk_mean - m.mean;
        }
    }
    return m;
}

// The model's value of a dimension drawn by `policy`: Σ_v π(v)·dev(v).
double policy_deviation(reward_model const& model, std::string const& dim,
                        dimension_policy const& policy)
{
    double v = 0;
    for (auto const& [value, prob] : policy) {
        v += prob * model.of(dim, value);
    }
    return v;
}

// One post weighed for changing dimension `dim` to `policy` (the others as
// logged): π_d/μ_d, and the model's value with that dimension's values
// weighed by the policy (`policy_dev`, the same for every post of a half).
logged_sample changed_sample(logged_post const& post, std::string const& dim, double y,
                             double q, reward_model const& model,
                             dimension_policy const& policy, double policy_dev)
{
    auto const d = post.draws.find(dim);
    if (d == post.draws.end()) {
        return {y, 1, 1, q, q}; // not drawn in this post: unchanged
    }
    auto const it = policy.find(d->second.value);
    double const v = q - model.of(dim, d->second.value) + policy_dev;
    return {y, d->second.propensity, it == policy.end() ? 0.0 : it->second, q, v};
}

} // namespace

dimension_policy uniform_policy(std::vector<std::string> const& candidates)
{
    dimension_policy p;
    for (auto const& c : candidates) {
        p[c] = 1.0 / static_cast<double>(candidates.size());
    }
    return p;
}

dimension_policy map_policy(std::string const& dim,
                            std::vector<std::string> const& candidates,
                            nlohmann::json const& posteriors, draw_rule const& rule)
{
    auto const arms = arms_of(posteriors, dim, candidates, rule);
    if (!arms) {
        return uniform_policy(candidates);
    }
    auto const probs = selection_probabilities(arms->arms, arms->epsilon);
    dimension_policy p;
    for (std::size_t i = 0; i < candidates.size(); ++i) {
        p[candidates[i]] = probs[i];
    }
    return p;
}

int fold_of(logged_post const& p)
{
    return cross_fit_fold(p.posted_at.time_since_epoch().count());
}

map_policies
map_policies_of(std::map<std::string, std::vector<std::string>> const& catalogue,
                nlohmann::json const& posteriors, nlohmann::json const& cross_fit,
                draw_rule const& rule)
{
    map_policies out;
    out.cross_fitted = cross_fit.is_array() && cross_fit.size() == 2 &&
                       !unusable_map_reason(cross_fit[0]) &&
                       !unusable_map_reason(cross_fit[1]);
    // plan draws uniformly from a map it cannot use: so does its policy here
    out.usable = out.cross_fitted || !unusable_map_reason(posteriors);
    for (int k = 0; k < 2; ++k) {
        auto const& learned = out.cross_fitted ? cross_fit[k] : posteriors;
        for (auto const& [dim, candidates] : catalogue) {
            out.of_fold[k][dim] = out.usable ? map_policy(dim, candidates, learned, rule)
                                             : uniform_policy(candidates);
        }
    }
    return out;
}

policy_samples
samples_for(std::vector<logged_post> const& posts, bool follows,
            std::map<std::string, std::vector<std::string>> const& catalogue,
            map_policies const& map, what_if_policy const& what_if)
{
    // each half's model from the other half's posts, as its map
    std::array<reward_model, 2> model;
    if (map.cross_fitted) {
        for (int k = 0; k < 2; ++k) {
            std::vector<logged_post> other;
            std::copy_if(posts.begin(), posts.end(), std::back_inserter(other),
                         [&](auto const& p) { return fold_of(p) != k; });
            model[k] = fit_model(other, follows);
        }
    } else {
        model[0] = model[1] = fit_model(posts, follows);
    }
    policy_samples s;
    std::vector<int> fold;
    for (auto const& post : posts) {
        fold.push_back(fold_of(post));
        double const q = model[fold.back()].predict(post.draws);
        s.logged.push_back({outcome_of(post, follows), 1, 1, q, q});
    }
    // one dimension changed to `policy` (each half's), the others as logged
    auto const changed = [&](std::string const& dim,
                             std::array<dimension_policy const*, 2> const& policy) {
        std::array<double, 2> dev{};
        for (int k = 0; k < 2; ++k) {
            dev[k] = policy_deviation(model[k], dim, *policy[k]);
        }
        std::vector<logged_sample> out;
        out.reserve(posts.size());
        for (std::size_t i = 0; i < posts.size(); ++i) {
            int const k = fold[i];
            out.push_back(changed_sample(posts[i], dim, s.logged[i].outcome,
                                         s.logged[i].model, model[k], *policy[k],
                                         dev[k]));
        }
        return out;
    };
    for (auto const& [dim, candidates] : catalogue) {
        auto const uniform = uniform_policy(candidates);
        s.uniform.push_back(changed(dim, {&uniform, &uniform}));
        s.map.push_back(changed(dim, {&map.of_fold[0].at(dim), &map.of_fold[1].at(dim)}));
        if (what_if.empty()) {
            continue;
        }
        if (auto const named = what_if.find(dim); named != what_if.end()) {
            auto const asked = uniform_policy(named->second);
            s.what_if.push_back(changed(dim, {&asked, &asked}));
        } else {
            s.what_if.push_back(s.map.back());
        }
    }
    return s;
}

namespace {

using factored = std::vector<std::vector<logged_sample>>;

// The posts (or replies) whose follows were measured, for the follows
// estimates: the outage of a day is no choice's, so leaving its posts out
// biases no policy.
template <typename T>
std::vector<T> follows_measured(std::vector<T> const& all)
{
    std::vector<T> out;
    std::copy_if(all.begin(), all.end(), std::back_inserter(out),
                 [](auto const& p) { return !p.follows_unmeasured; });
    return out;
}

// The posts whose every draw has a propensity in (0, 1].
std::vector<logged_post> with_propensities(std::vector<logged_post> const& all)
{
    std::vector<logged_post> posts;
    for (auto const& p : all) {
        bool usable = !p.draws.empty();
        for (auto const& [dim, d] : p.draws) {
            usable = usable && d.propensity > 0 && d.propensity <= 1;
        }
        if (usable) {
            posts.push_back(p);
        }
    }
    return posts;
}

// One policy's value by SNIPS and DR, of the score (`s`) and of follows
// (`f`, where every post has them); a note instead where the weights leave
// too few effective posts.
policy_row value_of(char const* name, factored const& s, factored const& f,
                    bool has_follows, evidence_floor floor, rng& gen)
{
    policy_row out;
    out.policy = name;
    auto const snips =
        estimate_factored(s, estimator::snips, weight_cap, bootstrap_rounds, gen);
    if (!snips || snips->ess < floor.effective_posts) {
        out.note = too_thin(snips, floor, "posts");
        return out;
    }
    out.snips = snips;
    out.dr =
        estimate_factored(s, estimator::doubly_robust, weight_cap, bootstrap_rounds, gen);
    if (has_follows) {
        out.follows_snips =
            estimate_factored(f, estimator::snips, weight_cap, bootstrap_rounds, gen);
        out.follows_dr = estimate_factored(f, estimator::doubly_robust, weight_cap,
                                           bootstrap_rounds, gen);
    }
    return out;
}

// Why there is no estimate: fewer than `floor` of the `all` posts (or
// replies) have propensities; none at all is said as none, not "0 of 0".
std::string too_few_logged(std::int64_t with, std::int64_t all, std::int64_t floor,
                           std::string_view one, std::string_view many,
                           std::string_view unknown)
{
    if (all == 0) {
        return fmt::format("no {} with outcomes yet: nothing to estimate", many);
    }
    auto const which = with == all
                           ? fmt::format("only {}, {}with", counted(all, one, many),
                                         all == 1 ? "" : "all ")
                           : fmt::format("{} of {} {} have", with, all, many);
    return fmt::format("{} the propensities plan stores, fewer than {}: too few to "
                       "estimate {}",
                       which, floor, unknown);
}

// The lift of policy `to` over `from` (each a policy_samples member) on the
// same posts: of the score by SNIPS; of follows, where every post has them,
// by SNIPS and DR.
void add_lifts(policy_comparison& c, policy_samples const& score,
               policy_samples const& follows, factored policy_samples::*from,
               factored policy_samples::*to, bool has_follows, rng& gen)
{
    c.lift = estimate_factored_lift(score.*from, score.*to, estimator::snips, weight_cap,
                                    bootstrap_rounds, gen);
    if (has_follows) {
        c.lift_follows =
            estimate_factored_lift(follows.*from, follows.*to, estimator::snips,
                                   weight_cap, bootstrap_rounds, gen);
        c.lift_follows_dr =
            estimate_factored_lift(follows.*from, follows.*to, estimator::doubly_robust,
                                   weight_cap, bootstrap_rounds, gen);
    }
}

// Why the posts cannot value the what-if, or "": each named dimension's
// values must have been drawn in the older and in the newer half of the
// posts (by posting time). A value the loop gave up early is otherwise
// valued on the early posts alone, and the account has changed since: in
// the simulator's growing worlds that read as a lift of -6.6 follows a post
// where the truth was 0, its interval far from it.
std::string what_if_unsupported(std::vector<logged_post> const& posts,
                                what_if_policy const& what_if)
{
    std::vector<timestamp> times;
    for (auto const& p : posts) {
        times.push_back(p.posted_at);
    }
    auto const middle = times.begin() + static_cast<std::ptrdiff_t>(times.size() / 2);
    std::nth_element(times.begin(), middle, times.end());
    for (auto const& [dim, values] : what_if) {
        std::array<std::int64_t, 2> drawn{}; // older, newer
        for (auto const& p : posts) {
            auto const d = p.draws.find(dim);
            if (d != p.draws.end() && std::find(values.begin(), values.end(),
                                                d->second.value) != values.end()) {
                ++drawn[p.posted_at < *middle ? 0 : 1];
            }
        }
        for (int half = 0; half < 2; ++half) {
            if (drawn[half] < min_learned_posts) {
                return fmt::format(
                    "the {} half of the posts drew {} {} {}, fewer than "
                    "{}: too seldom to say what it would earn",
                    half == 0 ? "older" : "newer", dim, fmt::join(values, " or "),
                    drawn[half] == 1 ? "once" : fmt::format("{} times", drawn[half]),
                    min_learned_posts);
            }
        }
    }
    return {};
}

// The what-if policy against the map's (`r`'s third row), on the same posts.
policy_comparison compare_what_if(policy_report const& r,
                                  std::vector<logged_post> const& posts,
                                  what_if_policy const& what_if,
                                  policy_samples const& score,
                                  policy_samples const& follows, bool has_follows,
                                  evidence_floor floor, rng& gen)
{
    policy_comparison c;
    c.posts = r.posts;
    c.with_propensities = r.with_propensities;
    c.rows = {r.rows[2], {}};
    c.rows[1].policy = "what-if";
    c.rows[1].note = what_if_unsupported(posts, what_if);
    if (!c.rows[1].note.empty()) {
        return c;
    }
    c.rows[1] =
        value_of("what-if", score.what_if, follows.what_if, has_follows, floor, gen);
    if (c.rows[0].snips && c.rows[1].snips) {
        add_lifts(c, score, follows, &policy_samples::map, &policy_samples::what_if,
                  has_follows, gen);
    }
    return c;
}

} // namespace

namespace {

// Why a --what-if names no dimension of the catalogue.
std::string no_dimension(std::string const& dim,
                         std::map<std::string, std::vector<std::string>> const& catalogue)
{
    if (dim == "post_hour") {
        return "post_hour cannot be asked about: plan draws each day's times among its "
               "free ones, not from plan.catalogue";
    }
    std::vector<std::string> dims;
    for (auto const& d : catalogue) {
        dims.push_back(d.first);
    }
    return fmt::format("plan.catalogue has no dimension '{}' ({})", escape_line(dim),
                       fmt::join(dims, ", "));
}

// The catalogue's spelling of `name` among `candidates` (canonical names
// compared), or none.
std::optional<std::string> catalogue_name(std::vector<std::string> const& candidates,
                                          std::string_view name)
{
    auto const c = canonical_name(name);
    for (auto const& candidate : candidates) {
        if (canonical_name(candidate) == c) {
            return candidate;
        }
    }
    return std::nullopt;
}

} // namespace

what_if_policy
parse_what_if(std::vector<std::string> const& args,
              std::map<std::string, std::vector<std::string>> const& catalogue)
{
    what_if_policy out;
    for (auto const& arg : args) {
        auto const bad = [&](std::string const& why) {
            return usage_error{fmt::format("--what-if '{}': {}", escape_line(arg), why)};
        };
        auto const eq = arg.find('=');
        if (eq == std::string::npos) {
            throw bad("give DIMENSION=VALUE[,VALUE…], e.g. content_slot=how_to,tool_tip");
        }
        auto const dim = canonical_name(arg.substr(0, eq));
        auto const c = catalogue.find(dim);
        if (c == catalogue.end()) {
            throw bad(no_dimension(dim, catalogue));
        }
        if (out.count(dim) != 0) {
            throw bad(
                fmt::format("{} is given twice: list its values in one --what-if", dim));
        }
        auto& values = out[dim];
        for (std::size_t at = eq + 1, end = 0; at <= arg.size(); at = end + 1) {
            end = std::min(arg.find(',', at), arg.size());
            auto const piece = std::string_view{arg}.substr(at, end - at);
            auto const known = catalogue_name(c->second, piece);
            if (!known) {
                throw bad(fmt::format("{} has no value '{}' in plan.catalogue ({})", dim,
                                      escape_line(piece), fmt::join(c->second, ", ")));
            }
            if (std::find(values.begin(), values.end(), *known) == values.end()) {
                values.push_back(*known);
            }
        }
    }
    return out;
}

// Measured: the what-if's 90 % interval held the true lift in 44 of 48
// simulated runs (bench/policy_value.sh, 2026-12-06), every miss on a
// dimension with no effect.
std::string const what_if_caution =
    "a hint to try, not a verdict: on values that make no difference its interval "
    "can miss 0 (in the simulator it held the true lift 11 times in 12)";

std::string what_if_text(what_if_policy const& p)
{
    std::vector<std::string> parts;
    for (auto const& [dim, values] : p) {
        parts.push_back(fmt::format("{} {}{}", dim, values.size() == 1 ? "" : "in ",
                                    fmt::join(values, ", ")));
    }
    return fmt::format("{}", fmt::join(parts, "; "));
}

policy_report
evaluate_policies(std::vector<logged_post> const& all,
                  std::map<std::string, std::vector<std::string>> const& catalogue,
                  nlohmann::json const& posteriors, nlohmann::json const& cross_fit,
                  draw_rule const& rule, evidence_floor floor, std::uint64_t seed,
                  what_if_policy const& what_if)
{
    policy_report r;
    r.posts = static_cast<std::int64_t>(all.size());
    auto const posts = with_propensities(all);
    r.with_propensities = static_cast<std::int64_t>(posts.size());
    r.what_if = what_if;
    if (r.with_propensities < floor.posts) {
        r.note = too_few_logged(r.with_propensities, r.posts, floor.posts, "post",
                                "posts", "what other choices were worth");
        if (!what_if.empty()) {
            r.what_if_comparison = static_cast<policy_comparison>(r);
        }
        return r;
    }
    rng gen{seed};
    auto const map = map_policies_of(catalogue, posteriors, cross_fit, rule);
    r.cross_fitted = map.cross_fitted;
    r.map_usable = map.usable;
    auto const score = samples_for(posts, false, catalogue, map, what_if);
    auto const measured = follows_measured(posts);
    bool const has_follows =
        !measured.empty() && std::all_of(measured.begin(), measured.end(),
                                         [](auto const& p) { return p.follows; });
    auto const follows = samples_for(measured, true, catalogue, map, what_if);
    r.rows.push_back(
        value_of("logged", {score.logged}, {follows.logged}, has_follows, floor, gen));
    r.rows.push_back(
        value_of("uniform", score.uniform, follows.uniform, has_follows, floor, gen));
    r.rows.push_back(value_of("map", score.map, follows.map, has_follows, floor, gen));
    if (r.rows[1].snips && r.rows[2].snips) {
        add_lifts(r, score, follows, &policy_samples::uniform, &policy_samples::map,
                  has_follows, gen);
    }
    if (!what_if.empty()) {
        // after the others: their intervals stay as they were without it
        r.what_if_comparison =
            compare_what_if(r, posts, what_if, score, follows, has_follows, floor, gen);
    }
    return r;
}

namespace {

// The replies as they ran (w = 1), or as opportunity score alone would have
// chosen (w = baseline_p/propensity, its choice deterministic); each valued
// by its follows or its score.
std::vector<logged_sample> reply_samples(std::vector<logged_reply> const& replies,
                                         bool follows, bool baseline)
{
    std::vector<logged_sample> out;
    out.reserve(replies.size());
    for (auto const& p : replies) {
        double const y = follows ? p.follows.value_or(0) : p.score;
        out.push_back(baseline ? logged_sample{y, p.propensity, *p.baseline_p, 0, 0}
                               : logged_sample{y, 1, 1, 0, 0});
    }
    return out;
}

} // namespace

policy_comparison evaluate_replies(std::vector<logged_reply> const& all,
                                   evidence_floor floor, std::uint64_t seed)
{
    policy_comparison r;
    r.posts = static_cast<std::int64_t>(all.size());
    std::vector<logged_reply> replies;
    for (auto const& p : all) {
        if (p.baseline_p && p.propensity > 0 && p.propensity <= 1) {
            replies.push_back(p);
        }
    }
    r.with_propensities = static_cast<std::int64_t>(replies.size());
    if (r.with_propensities < floor.posts) {
        r.note =
            too_few_logged(r.with_propensities, r.posts, floor.posts, "reply", "replies",
                           "what opportunity score alone would have earned");
        return r;
    }
    auto const measured = follows_measured(replies);
    bool const has_follows =
        !measured.empty() && std::all_of(measured.begin(), measured.end(),
                                         [](auto const& p) { return p.follows; });
    auto const samples = [&](bool follows, bool baseline) {
        return reply_samples(follows ? measured : replies, follows, baseline);
    };
    rng gen{seed ^ 0x7265706c696573ULL};
    auto const row = [&](char const* name, bool baseline) {
        policy_row out;
        out.policy = name;
        auto const snips = estimate_policy(samples(false, baseline), estimator::snips,
                                           weight_cap, bootstrap_rounds, gen);
        if (!snips || snips->ess < floor.effective_posts) {
            out.note = too_thin(snips, floor, "replies");
            return out;
        }
        out.snips = snips;
        if (has_follows) {
            out.follows_snips = estimate_policy(samples(true, baseline), estimator::snips,
                                                weight_cap, bootstrap_rounds, gen);
        }
        return out;
    };
    r.rows.push_back(row("learned", false));
    r.rows.push_back(row("opportunity", true));
    if (r.rows[1].snips) {
        r.lift = estimate_lift(samples(false, true), samples(false, false),
                               estimator::snips, weight_cap, bootstrap_rounds, gen);
        if (has_follows) {
            r.lift_follows =
                estimate_lift(samples(true, true), samples(true, false), estimator::snips,
                              weight_cap, bootstrap_rounds, gen);
        }
    }
    return r;
}

namespace {

// The posts valued (or, `replies`, the replies): posted in ($1, $2] with a
// finite v2 score (finite_sql(): not NaN, which equals itself).
// tweet_id: the posted-at index holds only posts that have one (one without
// cannot have been measured). The outcome is looked up post by post (LIMIT 1
// keeps the planner from a hash join; decision_id is unique): a hash join
// read every outcome of the history to count a window's posts, 0.5 s of 0.65
// at 10⁶ rows over three years. (Where the window holds most of the history
// the hash join is the faster: 1.5 s against 3.4 s for 491 670 posts in 60
// days, eight thousand a day, more than an account posts.)
std::string logged_from(bool replies)
{
    return fmt::format(R"sql(
  FROM public.content_generation_metadata_comprehensive c
  CROSS JOIN LATERAL (
        SELECT o.primary_objective_score, o.follows, o.followers_gained_weighted,
               o.attribution_confidence
          FROM public.outcomes o
         WHERE o.decision_id = c.decision_id AND {}
         LIMIT 1) o
 WHERE c.status = 'posted' AND c.tweet_id IS NOT NULL
   AND c.decision_type {}
   AND c.posted_at > $1::timestamptz AND c.posted_at <= $2::timestamptz)sql",
                       finite_sql("o.primary_objective_score"),
                       replies ? "= 'reply'" : "IS DISTINCT FROM 'reply'");
}

// Follows as a double, whatever an adopted column holds (1e999 in a
// numeric is +Infinity: no number, left out): counted, or the attributed
// gain (followers_gained_weighted is gain × confidence: a post whose
// snapshots were hours off its window's ends looked a quarter poorer).
// Unmeasured (confidence 0), followers_gained_weighted itself: such posts
// are left out of the follows estimates (unmeasured_sql).
std::string const logged_follows_sql = float8_or_infinite_sql(fmt::format(
    "coalesce(o.follows, {}, o.followers_gained_weighted)",
    attributed_gain_sql("o.followers_gained_weighted", "o.attribution_confidence")));

// No follows counted and none attributed (logged_post::follows_unmeasured).
constexpr char const* unmeasured_sql =
    "(o.follows IS NULL AND o.attribution_confidence = 0) IS TRUE";

// The newest $3, oldest first: the posted-at index walked backwards, $3
// rows read however long the history. ({{}}: the FROM clause.)
std::string const logged_posts_select = fmt::format(R"sql(
SELECT draws, score, follows, posted_at, unmeasured
  FROM (SELECT c.features -> 'draws' AS draws, o.primary_objective_score::float8 AS score,
               {} AS follows, c.posted_at, c.decision_id, {} AS unmeasured
          {{}}
         ORDER BY c.posted_at DESC, c.decision_id DESC
         LIMIT $3) newest
 ORDER BY posted_at, decision_id)sql",
                                                    logged_follows_sql, unmeasured_sql);

// A number in features, or NULL: adopted rows hold anything. ({{}}: the FROM
// clause.)
std::string const logged_replies_select = fmt::format(
    R"sql(
SELECT propensity, baseline_p, score, follows, posted_at, unmeasured
  FROM (SELECT {0} AS propensity, {1} AS baseline_p,
               o.primary_objective_score::float8 AS score, {2} AS follows,
               c.posted_at, c.decision_id, {3} AS unmeasured
          {{}}
         ORDER BY c.posted_at DESC, c.decision_id DESC
         LIMIT $3) newest
 ORDER BY posted_at, decision_id)sql",
    jsonb_float8_sql("c.features::jsonb -> 'propensity'"),
    jsonb_float8_sql("c.features::jsonb -> 'baseline_p'"), logged_follows_sql,
    unmeasured_sql);

// The newest `limit` rows of `select_sql` (a statement with {} for the FROM
// clause `from_sql`), and how many the window holds: counted only when the
// limit was reached.
template <typename T, typename Read>
newest_logged<T> read_newest(db_connection& db, std::string_view select_sql,
                             std::string const& from_sql, timestamp from, timestamp to,
                             int limit, Read const& read)
{
    auto const r =
        db.exec(fmt::format(fmt::runtime(select_sql), from_sql), from, to, limit);
    newest_logged<T> out;
    for (int i = 0; i < r.rows(); ++i) {
        out.items.push_back(read(r, i));
    }
    out.in_window = static_cast<std::int64_t>(out.items.size());
    if (r.rows() >= limit) {
        out.in_window = db.exec("SELECT count(*)" + from_sql, from, to).i64(0, 0);
    }
    return out;
}

// cross_fit through the row as jsonb: NULL, not an error, where migration
// 0012 has not run yet (validate reports the pending migration and goes on).
constexpr char const* active_map_sql = R"sql(
SELECT posteriors::text, weights::text, (to_jsonb(w) -> 'cross_fit')::text
  FROM public.learning_model_weights w
 WHERE is_active AND jsonb_typeof(posteriors::jsonb) = 'object' LIMIT 1)sql";

std::map<std::string, logged_draw> parse_draws(std::optional<std::string> const& text)
{
    std::map<std::string, logged_draw> out;
    if (!text) {
        return out;
    }
    auto const j = stored_json(*text);
    if (!j.is_object()) {
        return out;
    }
    for (auto const& [dim, d] : j.items()) {
        if (!d.is_object() || !d.contains("propensity") || !d["propensity"].is_number()) {
            return {}; // one missing propensity: the post cannot be weighed
        }
        logged_draw ld;
        ld.value = d.contains("value") && d["value"].is_string()
                       ? d["value"].get<std::string>()
                       : json_text(d.value("value", nlohmann::json{}));
        ld.propensity = d["propensity"].get<double>();
        ld.candidates = d.contains("candidates") && d["candidates"].is_number_integer()
                            ? d["candidates"].get<int>()
                            : 0;
        out[dim] = std::move(ld);
    }
    return out;
}

std::string interval(std::optional<policy_estimate> const& e)
{
    return e ? fmt::format("{:.3f} [{:.3f}, {:.3f}]", at_3dp(e->value), at_3dp(e->lo),
                           at_3dp(e->hi))
             : "-";
}

nlohmann::json estimate_json(std::optional<policy_estimate> const& e)
{
    if (!e) {
        return nullptr;
    }
    return {{"value", e->value}, {"lo", e->lo},           {"hi", e->hi},
            {"ess", e->ess},     {"clipped", e->clipped}, {"n", e->n}};
}

} // namespace

newest_logged<logged_post> read_logged_posts(db_connection& db, config const& cfg,
                                             timestamp now)
{
    // The posts the map learned from: as many as build-weights reaches back for.
    auto const from =
        now - fractional_days(learning_window_at(db, cfg.weights, now).days);
    auto const to = now - fractional_hours(cfg.weights.min_age_hours);
    return read_newest<logged_post>(
        db, logged_posts_select, logged_from(false), from, to,
        cfg.validate.max_policy_posts, [](db_result const& r, int i) {
            logged_post p;
            p.draws = parse_draws(r.opt_str(i, 0));
            p.score = r.f64(i, 1);
            if (!r.is_null(i, 2) && std::isfinite(r.f64(i, 2))) {
                p.follows = r.f64(i, 2);
            }
            p.posted_at = parse_timestamp(r.get(i, 3)).value_or(timestamp{});
            p.follows_unmeasured = r.get(i, 4) == "t";
            return p;
        });
}

newest_logged<logged_reply> read_logged_replies(db_connection& db, config const& cfg,
                                                timestamp now)
{
    return read_newest<logged_reply>(
        db, logged_replies_select, logged_from(true),
        now - fractional_days(cfg.replies.window_days),
        now - fractional_hours(cfg.replies.min_age_hours), cfg.validate.max_policy_posts,
        [](db_result const& r, int i) {
            logged_reply p;
            p.propensity = r.is_null(i, 0) ? 0.0 : r.f64(i, 0);
            if (!r.is_null(i, 1) && std::isfinite(r.f64(i, 1))) {
                p.baseline_p = r.f64(i, 1);
            }
            p.score = r.f64(i, 2);
            if (!r.is_null(i, 3) && std::isfinite(r.f64(i, 3))) {
                p.follows = r.f64(i, 3);
            }
            p.posted_at = parse_timestamp(r.get(i, 4)).value_or(timestamp{});
            p.follows_unmeasured = r.get(i, 5) == "t";
            return p;
        });
}

policy_report policy_report_of(db_connection& db, config const& cfg, timestamp now,
                               std::uint64_t seed, what_if_policy const& what_if)
{
    auto const posts = read_logged_posts(db, cfg, now);
    auto const [posteriors, weights, cross_fit] = read_active_map(db);
    auto report = evaluate_policies(
        posts.items, plan_catalogue(cfg.plan), posteriors, cross_fit, draw_rule_of(cfg),
        {cfg.validate.min_policy_posts, cfg.validate.min_effective_posts}, seed, what_if);
    report.in_window = posts.in_window;
    if (report.what_if_comparison) {
        report.what_if_comparison->in_window = posts.in_window;
    }
    report.learned = learned_values(posteriors, weights, posts.items);
    report.recent_only = recent_only_dimensions(posteriors);
    report.no_spread = no_spread_dimensions(posteriors);
    auto const replies = read_logged_replies(db, cfg, now);
    report.replies = evaluate_replies(
        replies.items, {cfg.validate.min_policy_posts, cfg.validate.min_effective_posts},
        seed);
    report.replies.in_window = replies.in_window;
    return report;
}

std::tuple<nlohmann::json, nlohmann::json, nlohmann::json>
read_active_map(db_connection& db)
{
    auto const r = db.exec(active_map_sql);
    if (r.rows() == 0) {
        return {nullptr, nullptr, nullptr};
    }
    auto const cross_fit = r.opt_str(0, 2);
    return {stored_json(r.str(0, 0)), stored_json(r.str(0, 1)),
            cross_fit ? stored_json(*cross_fit) : nullptr};
}

std::map<std::string, double> recent_only_dimensions(nlohmann::json const& posteriors)
{
    std::map<std::string, double> out;
    if (!posteriors.is_object() || !posteriors.contains("_prior") ||
        !posteriors["_prior"].is_object()) {
        return out;
    }
    for (auto const& [dim, prior] : posteriors["_prior"].items()) {
        if (prior.is_object() && prior.contains("changed") &&
            prior["changed"].is_object()) {
            auto const days =
                prior["changed"].value("learned_from_days", nlohmann::json{});
            if (days.is_number() && std::isfinite(days.get<double>())) {
                out[dim] = days.get<double>();
            }
        }
    }
    return out;
}

std::set<std::string> no_spread_dimensions(nlohmann::json const& posteriors)
{
    std::set<std::string> out;
    if (!posteriors.is_object() || !posteriors.contains("_prior") ||
        !posteriors["_prior"].is_object()) {
        return out;
    }
    for (auto const& [dim, prior] : posteriors["_prior"].items()) {
        if (!prior.is_object() || !prior.contains("kappa") ||
            !prior["kappa"].is_object() || prior["kappa"].empty()) {
            continue;
        }
        // A component build-weights distrusts (engagement_rate_trust 0, a
        // proxy that disagrees with the rest) counts nothing toward a value's
        // mean, whatever its κ; the others decide.
        bool counted = false;
        bool at_cap = true;
        for (auto const& [name, k] : prior["kappa"].items()) {
            auto const trust = prior.value(name + "_trust", nlohmann::json{});
            if (trust.is_number() && !(trust.get<double>() > 0)) {
                continue;
            }
            counted = true;
            // written rounded to 10 digits: at the cap is within rounding of it
            at_cap = at_cap && k.is_number() &&
                     k.template get<double>() >= 0.999 * kappa_no_spread;
        }
        if (counted && at_cap) {
            out.insert(dim);
        }
    }
    return out;
}

std::map<std::string, std::vector<learned_value>>
learned_values(nlohmann::json const& posteriors, nlohmann::json const& weights,
               std::vector<logged_post> const& posts)
{
    std::map<std::string, std::vector<learned_value>> out;
    if (!posteriors.is_object()) {
        return out;
    }
    std::map<std::string, std::map<std::string, double>> counts;
    double planned = 0;
    for (auto const& p : posts) {
        planned += p.draws.empty() ? 0 : 1;
        for (auto const& [dim, d] : p.draws) {
            counts[dim][d.value] += 1;
        }
    }
    for (auto const& [dim, values] : posteriors.items()) {
        if (dim == "_prior" || !values.is_object()) {
            continue;
        }
        auto& list = out[dim];
        for (auto const& [value, arm] : values.items()) {
            auto const sd = map_number(arm, "sd");
            auto const mean = arm_mean(arm);
            if (!sd || !mean) {
                continue;
            }
            learned_value v;
            v.value = value;
            v.mean = *mean;
            v.lo = v.mean - 1.645 * *sd;
            v.hi = v.mean + 1.645 * *sd;
            auto const n = map_number(arm, "n").value_or(0);
            v.posts = n >= 0 && n < 1e15 ? std::llround(n) : 0;
            v.too_few = v.posts < min_learned_posts;
            v.replies = value == "reply";
            // "0 % of recent posts" would read as a value plan shuns: a
            // reply's value, and before plan drew any post (an adopted
            // database: thousands of posts, none drawn), no share
            auto const c = counts.find(dim);
            if (!v.replies && planned > 0 && c != counts.end()) {
                v.share = c->second.count(value) ? c->second.at(value) / planned : 0.0;
            }
            if (weights.is_object() && weights.contains(dim)) {
                v.weight = map_number(weights[dim], value.c_str()).value_or(0);
            }
            list.push_back(std::move(v));
        }
        std::sort(list.begin(), list.end(), [](auto const& x, auto const& y) {
            return x.mean != y.mean ? x.mean > y.mean : x.value < y.value;
        });
    }
    return out;
}

namespace {

// One comparison's rows and lift; `lift` names the lift's keys.
nlohmann::json comparison_json(policy_comparison const& r, std::string const& lift)
{
    nlohmann::json j = {{"posts", r.posts},
                        {"in_window", std::max(r.in_window, r.posts)},
                        {"with_propensities", r.with_propensities}};
    if (!r.note.empty()) {
        j["note"] = r.note;
    }
    auto& rows = j["policies"] = nlohmann::json::array();
    for (auto const& row : r.rows) {
        rows.push_back({{"policy", row.policy},
                        {"score_snips", estimate_json(row.snips)},
                        {"score_dr", estimate_json(row.dr)},
                        {"follows_snips", estimate_json(row.follows_snips)},
                        {"follows_dr", estimate_json(row.follows_dr)}});
        if (!row.note.empty()) {
            rows.back()["note"] = row.note;
        }
    }
    j[lift] = estimate_json(r.lift);
    j[lift + "_follows"] = estimate_json(r.lift_follows);
    j[lift + "_follows_dr"] = estimate_json(r.lift_follows_dr);
    return j;
}

// `what`: "posts" or "replies"; `lift`: what the lift compares, in words.
// The score and follows estimates side by side, or on a terminal narrower
// than that (`columns`, 0 for none), the follows under the score.
std::string comparison_table(policy_comparison const& r, std::string const& what,
                             std::string const& lift, std::size_t columns)
{
    if (!r.note.empty()) {
        return "  " + hanging_lines(r.note, 2, columns) + "\n";
    }
    std::size_t width = 8; // the policies' names, a space after the longest
    for (auto const& row : r.rows) {
        width = std::max(width, row.policy.size() + 1);
    }
    using estimate = std::optional<policy_estimate> policy_row::*;
    using named = std::pair<char const*, estimate>;
    std::vector<named> const score{{"score (SNIPS)", &policy_row::snips},
                                   {"score (DR)", &policy_row::dr}};
    std::vector<named> const follows{{"follows (SNIPS)", &policy_row::follows_snips},
                                     {"follows (DR)", &policy_row::follows_dr}};
    // the first block has the ESS and the rows' notes
    auto const block = [&](std::vector<named> const& shown, bool first) {
        auto line = fmt::format("  {:<{}}", "policy", width);
        for (auto const& [name, member] : shown) {
            line += fmt::format(" {:<24}", name);
        }
        std::string out = first ? line + " ESS\n" : trim_end(line) + "\n";
        for (auto const& row : r.rows) {
            if (!row.note.empty()) {
                if (first) {
                    out += fmt::format("  {:<{}} {}\n", row.policy, width,
                                       hanging_lines(row.note, 3 + width, columns));
                }
                continue;
            }
            line = fmt::format("  {:<{}}", row.policy, width);
            for (auto const& [name, member] : shown) {
                line += fmt::format(" {:<24}", interval(row.*member));
            }
            out +=
                first ? fmt::format("{} {:.0f}\n", line, row.snips ? row.snips->ess : 0.0)
                      : trim_end(line) + "\n";
        }
        return out;
    };
    bool const stacked = columns > 0 && 2 + width + 4 * 25 + 4 > columns;
    auto both = score;
    both.insert(both.end(), follows.begin(), follows.end());
    std::string out = !stacked         ? block(both, true)
                      : r.rows.empty() ? block(score, true)
                                       : block(score, true) + block(follows, false);
    if (r.lift) {
        out += report_line(
            fmt::format("  lift of {}: {}{}", lift, interval(r.lift),
                        r.lift_follows
                            ? fmt::format(" ({} follows a {}{})",
                                          interval(r.lift_follows),
                                          what == "posts" ? "post" : "reply",
                                          r.lift_follows_dr
                                              ? "; DR " + interval(r.lift_follows_dr)
                                              : std::string{})
                            : ""),
            columns);
    }
    return out;
}

} // namespace

nlohmann::json policy_report_json(policy_report const& r)
{
    auto j = comparison_json(r, "lift_map_over_uniform");
    j["map_cross_fitted"] = r.cross_fitted;
    j["map_usable"] = r.map_usable;
    j["replies"] = comparison_json(r.replies, "lift_learned_over_opportunity");
    if (r.what_if_comparison) {
        j["what_if"] = comparison_json(*r.what_if_comparison, "lift_what_if_over_map");
        j["what_if"]["policy"] = r.what_if;
    }
    auto& learned = j["learned"] = nlohmann::json::object();
    for (auto const& [dim, values] : r.learned) {
        auto& list = learned[dim] = nlohmann::json::array();
        for (auto const& v : values) {
            list.push_back(
                {{"value", v.value},
                 {"mean", v.mean},
                 {"lo", v.lo},
                 {"hi", v.hi},
                 {"posts", v.posts},
                 {"share", v.share ? nlohmann::json(*v.share) : nlohmann::json()},
                 {"weight", v.weight},
                 {"too_few", v.too_few}});
        }
    }
    j["learned_recent_only_days"] = r.recent_only;
    j["learned_no_spread"] = r.no_spread;
    return j;
}

bool drawn(std::vector<learned_value> const& values)
{
    return std::any_of(values.begin(), values.end(),
                       [](auto const& v) { return v.share.has_value(); });
}

bool any_drawn(policy_report const& r)
{
    return std::any_of(r.learned.begin(), r.learned.end(),
                       [](auto const& d) { return drawn(d.second); });
}

std::string share_text(learned_value const& v)
{
    return v.share ? fmt::format("{:.0f} %", 100 * *v.share) : "-";
}

shown_values values_to_show(std::vector<learned_value> const& values)
{
    std::vector<std::size_t> order(values.size());
    std::iota(order.begin(), order.end(), 0);
    shown_values out;
    if (values.size() > max_shown_values) {
        auto const says_more = [&](std::size_t a, std::size_t b) {
            auto const key = [&](learned_value const& v) {
                return std::tuple{v.share.value_or(0) > 0, !v.too_few, v.posts};
            };
            auto const ka = key(values[a]);
            auto const kb = key(values[b]);
            return ka != kb ? ka > kb : a < b;
        };
        std::partial_sort(order.begin(), order.begin() + max_shown_values, order.end(),
                          says_more);
        for (auto it = order.begin() + max_shown_values; it != order.end(); ++it) {
            ++out.hidden;
            out.hidden_too_few += values[*it].too_few ? 1 : 0;
        }
        order.resize(max_shown_values);
        std::sort(order.begin(), order.end()); // back in the dimension's order
    }
    for (auto const i : order) {
        out.values.push_back(&values[i]);
    }
    return out;
}

std::string hidden_values_text(shown_values const& s)
{
    if (s.hidden == 0) {
        return {};
    }
    return fmt::format(
        "… and {} more value{}{}; --json lists every one", s.hidden,
        s.hidden == 1 ? "" : "s",
        s.hidden_too_few == 0
            ? ""
            : fmt::format(" ({} with too few posts to say)", s.hidden_too_few));
}

std::vector<std::string> dimension_notes(policy_report const& r, std::string const& dim)
{
    std::vector<std::string> notes;
    if (auto const d = r.recent_only.find(dim); d != r.recent_only.end()) {
        notes.push_back(fmt::format("learned from the last {:g} days only: its values "
                                    "rank otherwise than before",
                                    d->second));
    }
    auto const v = r.learned.find(dim);
    if (r.no_spread.count(dim) != 0) {
        // replies keep their own mean (a value apart): the posts' values are pooled
        bool const replies =
            v != r.learned.end() && std::any_of(v->second.begin(), v->second.end(),
                                                [](auto const& x) { return x.replies; });
        notes.emplace_back(replies ? "its posts' values differ no more than noise yet: "
                                     "each is their mean"
                                   : "its values differ no more than noise yet: each is "
                                     "the dimension's mean");
    }
    if (v != r.learned.end() && !drawn(v->second) && any_drawn(r)) {
        notes.emplace_back("plan does not draw it");
    }
    return notes;
}

namespace {

// The widths of a learned value's row: without a terminal fixed, a line a
// row; on one, as wide as the dimension's values need.
struct learned_widths {
    std::size_t names = 24;
    std::size_t cut = 23; // a name's characters shown
    std::size_t counts = 5;
    std::size_t words = 7;
    std::size_t shares = 5;
};

std::string_view posts_word(learned_value const& v)
{
    return v.replies ? (v.posts == 1 ? "reply" : "replies")
                     : (v.posts == 1 ? "post" : "posts");
}

std::string learned_row(learned_value const& v, learned_widths const& w)
{
    return fmt::format(
        "    {:<{}} {:+.3f} [{:+.3f}, {:+.3f}] {:>{}} {:<{}}{:>{}}  weight {:.3f}",
        excerpt(v.value, w.cut), w.names, at_3dp(v.mean), at_3dp(v.lo), at_3dp(v.hi),
        v.posts, w.counts, posts_word(v), w.words, share_text(v), w.shares, v.weight);
}

// On a terminal the names' column is as wide as the dimension's longest
// name: a row of short names (hours, hooks) fits 80 columns. Past the
// terminal's edge (a 21-letter topic), the counts, their words and the
// shares close up; where that is not enough (a mail's 78 columns), the
// names are cut, as they are past 23 characters everywhere.
learned_widths fit_learned_widths(std::vector<learned_value const*> const& values,
                                  std::size_t columns)
{
    learned_widths w;
    if (columns == 0 || values.empty()) {
        return w;
    }
    w.names = 8;
    for (auto const* v : values) {
        w.names = std::max(w.names, excerpt(v->value, w.cut).size() + 1);
    }
    if (learned_row(*values.front(), w).size() <= columns) {
        return w;
    }
    w.counts = w.words = w.shares = 1;
    for (auto const* v : values) {
        w.counts = std::max(w.counts, fmt::formatted_size("{}", v->posts) + 1);
        w.words = std::max(w.words, posts_word(*v).size());
        w.shares = std::max(w.shares, share_text(*v).size() + 2);
    }
    auto const wide = learned_row(*values.front(), w).size();
    if (wide > columns) {
        w.names = std::max<std::size_t>(8, w.names - std::min(w.names, wide - columns));
        w.cut = w.names - 2; // and its "…"
    }
    return w;
}

} // namespace

std::string learned_table(policy_report const& r, std::size_t columns)
{
    if (r.learned.empty()) {
        return {};
    }
    std::string out = report_line(
        fmt::format("What was learned (the active map: shrunk mean of the learning "
                    "target, to compare within a dimension, 90 % interval, posts, "
                    "share of recent posts{}, weight):",
                    any_drawn(r) ? ""
                                 : " (none yet: no post with outcomes was drawn by "
                                   "xloop-plan)"),
        columns);
    for (auto const& [dim, values] : r.learned) {
        auto const notes = dimension_notes(r, dim);
        out += report_line(
            "  " + dim +
                (notes.empty() ? "" : fmt::format(" ({})", fmt::join(notes, "; "))),
            columns);
        auto const shown = values_to_show(values);
        auto const widths = fit_learned_widths(shown.values, columns);
        for (auto const* v : shown.values) {
            auto const row = learned_row(*v, widths);
            std::string_view const too_few = "(too few posts to say)";
            // past the terminal's edge, under the numbers on a line of its own
            auto const apart = columns > 0 && row.size() + 2 + too_few.size() > columns;
            out += !v->too_few ? row + "\n"
                   : apart
                       ? fmt::format("{}\n{:{}}{}\n", row, "", 5 + widths.names, too_few)
                       : fmt::format("{}  {}\n", row, too_few);
        }
        if (shown.hidden > 0) {
            out += "    " + hidden_values_text(shown) + "\n";
        }
    }
    return out + "\n";
}

std::string map_policy_note(policy_report const& r)
{
    if (r.learned.empty() || !r.map_usable) {
        return "no usable active map, so plan draws uniformly";
    }
    return r.cross_fitted ? "each half of the posts valued under the map learned from "
                            "the other half (cross-fitted)"
                          : "the active map valued on the posts it learned from (no "
                            "cross-fitted maps: built before migration 0012), flattered "
                            "by their noise";
}

std::string valued_text(policy_comparison const& r, std::string const& what)
{
    if (r.in_window > r.posts) {
        return fmt::format("the newest {} of {} {} with outcomes "
                           "(validate.max_policy_posts)",
                           r.posts, r.in_window, what);
    }
    return fmt::format("{} {} with outcomes", r.posts, what);
}

std::string policy_report_table(policy_report const& r, std::size_t columns)
{
    auto const heading = [columns](std::string const& text) {
        return report_line(text, columns);
    };
    return learned_table(r, columns) +
           heading(fmt::format("What the choices are worth ({}, {} with propensities; "
                               "mean primary_objective_score per post, 90 % intervals):",
                               valued_text(r, "posts"), r.with_propensities)) +
           comparison_table(r, "posts", "the map's policy over uniform", columns) +
           (r.rows.empty() ? "" : report_line("  map: " + map_policy_note(r), columns)) +
           (r.what_if_comparison
                ? heading(fmt::format("What if {} (every other dimension as the map's "
                                      "policy; the same posts):",
                                      what_if_text(r.what_if))) +
                      comparison_table(*r.what_if_comparison, "posts",
                                       "the what-if over the map's policy", columns) +
                      (r.what_if_comparison->lift
                           ? "  " + hanging_lines(what_if_caution, 2, columns) + "\n"
                           : "")
                : "") +
           heading(fmt::format("Replies ({}, {} with propensities; the learned "
                               "priorities against opportunity score alone):",
                               valued_text(r.replies, "replies"),
                               r.replies.with_propensities)) +
           comparison_table(r.replies, "replies",
                            "the learned priorities over opportunity score alone",
                            columns);
}

} // namespace xloop
