#pragma once

// What the loop's choices are worth (issue 15): the logged posts' draws and
// outcomes, evaluated for three policies: the one that ran, uniform draws
// over the catalogue, and the current map's. Off-policy estimates
// (lib/off_policy.hpp) from the propensities plan stored, read from the
// database alone; where the logs cannot support a number it says why.

#include "off_policy.hpp"
#include "sampling.hpp"
#include "timestamp.hpp"

#include <nlohmann/json_fwd.hpp>

#include <array>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <vector>

namespace xloop {

class db_connection;
struct config;

// One posted post as plan logged it: each drawn dimension's value, the
// probability it was drawn with and among how many candidates.
struct logged_draw {
    std::string value;
    double propensity = 0;
    int candidates = 0;
};
struct logged_post {
    std::map<std::string, logged_draw> draws; // empty: not planned by xloop
    double score = 0;                         // primary_objective_score
    std::optional<double> follows;            // direct follows, else attributed
    timestamp posted_at;
    // No follows counted, and none attributed (confidence 0: no snapshot near
    // its window): left out of the follows estimates, where 0 would read as
    // a post that brought nobody.
    bool follows_unmeasured = false;
};

struct policy_row {
    std::string policy; // logged | uniform | map
    std::optional<policy_estimate> snips, dr, follows_snips, follows_dr;
    std::string note; // why there is no estimate
};

// What the active map learned about one value of a dimension: its shrunk
// mean learning target with a 90 % interval (± 1.645 sd of the posterior),
// the posts it rests on, its share of the logged posts and its weight.
struct learned_value {
    std::string value;
    double mean = 0;
    double lo = 0;
    double hi = 0;
    std::int64_t posts = 0;
    // of the window's posts planned by xloop; none for a dimension plan
    // did not draw for any of them (structure_type follows decision_type)
    std::optional<double> share;
    double weight = 0;    // in the active map
    bool too_few = false; // fewer than min_learned_posts: it says little
    // "reply" (content_slot, decision_type, structure_type): the replies'
    // own value, learned from replies, never drawn for a post (no share)
    bool replies = false;
};
inline constexpr std::int64_t min_learned_posts = 3;

// Policies valued on the same logged posts (or replies), and the lift of
// one over another.
struct policy_comparison {
    std::int64_t posts = 0;             // with a v2 outcome in the window, valued
    std::int64_t in_window = 0;         // all of them (more: only the newest valued)
    std::int64_t with_propensities = 0; // of those, planned by xloop
    std::string note;                   // set when nothing can be estimated
    std::vector<policy_row> rows;
    std::optional<policy_estimate> lift;            // score, SNIPS
    std::optional<policy_estimate> lift_follows;    // the same, follows per post
    std::optional<policy_estimate> lift_follows_dr; // follows, DR (posts only)
};

// Replies: the policy that ran (learned priorities) against opportunity score
// alone (the original's: the best opportunities, one per author), whose
// choice plan logs with each reply (features.baseline_p: 1 taken, 0 not).
struct logged_reply {
    double propensity = 0;
    std::optional<double> baseline_p; // none: planned before it was logged
    double score = 0;
    std::optional<double> follows;
    timestamp posted_at;
    bool follows_unmeasured = false; // as logged_post's
};

// A policy an operator asks about (validate --what-if DIMENSION=VALUE,…):
// each named dimension drawn among its listed values alike, every other as
// the map's policy.
using what_if_policy = std::map<std::string, std::vector<std::string>>;

// The policy of --what-if arguments ("content_slot=how_to,tool_tip"), names
// as the catalogue's (canonical: "How To" is how_to); a usage error names
// the argument that is none.
what_if_policy
parse_what_if(std::vector<std::string> const& args,
              std::map<std::string, std::vector<std::string>> const& catalogue);
// "content_slot in how_to, tool_tip; decision_type single"
std::string what_if_text(what_if_policy const& p);
// Printed under a what-if's lift: how far to trust it.
extern std::string const what_if_caution;

struct policy_report : policy_comparison {
    // the map's policy is valued on each half of the posts as learned from
    // the other (map_policies); false: the active map on the posts it learned
    // from, flattered by their noise
    bool cross_fitted = false;
    // plan can draw from the active map (or its cross-fitted pair); false:
    // the map's policy is plan's uniform draws
    bool map_usable = false;
    // the map's policy over uniform; rows logged, uniform, map
    // per dimension, sorted by mean, best first; empty without a usable map
    std::map<std::string, std::vector<learned_value>> learned;
    // dimensions the map learned from their recent days only (their values
    // rank otherwise than before: build-weights' change test), and how many
    std::map<std::string, double> recent_only;
    // dimensions whose values the map does not tell apart: in every
    // component of the target they differ no more than noise, so each is
    // pulled to the dimension's mean (its interval is that mean's)
    std::set<std::string> no_spread;
    // the learned priorities over opportunity score alone; rows learned,
    // opportunity
    policy_comparison replies;
    // --what-if: the policy asked about and its comparison with the map's
    // policy (rows map, what-if; the lift of the what-if over the map's)
    what_if_policy what_if;
    std::optional<policy_comparison> what_if_comparison;
};

// Pure: the learned values of every dimension of the map (its posteriors and
// weights, as build-weights writes them), with their shares of `posts`.
std::map<std::string, std::vector<learned_value>>
learned_values(nlohmann::json const& posteriors, nlohmann::json const& weights,
               std::vector<logged_post> const& posts);

// Pure: the dimensions of the map learned from their recent days only, with
// those days (posteriors._prior.<dimension>.changed.learned_from_days).
std::map<std::string, double> recent_only_dimensions(nlohmann::json const& posteriors);

// Pure: the dimensions of the map whose values differ no more than noise in
// every component it shrank and trusts (posteriors._prior.<dimension>.kappa
// at kappa_no_spread wherever <component>_trust is not 0).
std::set<std::string> no_spread_dimensions(nlohmann::json const& posteriors);

// A policy's probability of every candidate of a dimension.
using dimension_policy = std::map<std::string, double>;

// Every candidate alike.
dimension_policy uniform_policy(std::vector<std::string> const& candidates);

// The current map's policy over one dimension's candidates, as plan draws
// it (uniform without a usable map).
dimension_policy map_policy(std::string const& dim,
                            std::vector<std::string> const& candidates,
                            nlohmann::json const& posteriors, draw_rule const& rule);

// The map's policy per dimension for the posts of each half
// (cross_fit_fold of posted_at): the map build-weights learned from the other
// half (learning_model_weights.cross_fit), so that a map is never valued on
// the noise it learned from; or the active map for both halves where there
// is no usable cross-fitted pair (a map from before migration 0012, or from
// another program).
struct map_policies {
    std::array<std::map<std::string, dimension_policy>, 2> of_fold;
    bool cross_fitted = false;
    bool usable = false; // else uniform, as plan draws from a map it cannot use
};
map_policies
map_policies_of(std::map<std::string, std::vector<std::string>> const& catalogue,
                nlohmann::json const& posteriors, nlohmann::json const& cross_fit,
                draw_rule const& rule);

// Which half a logged post is in.
int fold_of(logged_post const& p);

// Importance weights are cut here (the cut ones are counted in `clipped`).
inline constexpr double weight_cap = 50;

// Below either (validate.min_policy_posts, validate.min_effective_posts), an
// estimate is not printed: the logs cannot say.
struct evidence_floor {
    std::int64_t posts = 20;
    double effective_posts = 10;
};

// Pure: the replies' comparison, seeded for reproducible intervals.
policy_comparison evaluate_replies(std::vector<logged_reply> const& replies,
                                   evidence_floor floor, std::uint64_t seed);

// The newest validate.max_policy_posts of something logged in a window,
// oldest first, and how many the window holds.
template <typename T>
struct newest_logged {
    std::vector<T> items;
    std::int64_t in_window = 0;
};

// The replies of the last replies.window_days (older than
// replies.min_age_hours) with a v2 outcome.
newest_logged<logged_reply> read_logged_replies(db_connection& db, config const& cfg,
                                                timestamp now);

// The samples of each policy for one outcome: the logged one as it ran
// (w = 1), uniform and the map's per dimension of the catalogue (weights of
// that dimension alone: estimate_factored). post_hour stays as logged (its
// candidates are the day's free times, not the catalogue). The reward model
// for DR is additive: the mean outcome plus, per dimension, the shrunk
// (κ = 5) deviation of the value's mean; cross-fitted with the map, each
// half's from the other half's posts.
struct policy_samples {
    std::vector<logged_sample> logged;
    std::vector<std::vector<logged_sample>> uniform, map;
    std::vector<std::vector<logged_sample>>
        what_if; // the map's, but the named dimensions
};
policy_samples
samples_for(std::vector<logged_post> const& posts, bool follows,
            std::map<std::string, std::vector<std::string>> const& catalogue,
            map_policies const& map, what_if_policy const& what_if = {});

// Pure: the estimates, seeded for reproducible intervals.
policy_report
evaluate_policies(std::vector<logged_post> const& posts,
                  std::map<std::string, std::vector<std::string>> const& catalogue,
                  nlohmann::json const& posteriors, nlohmann::json const& cross_fit,
                  draw_rule const& rule, evidence_floor floor, std::uint64_t seed,
                  what_if_policy const& what_if = {});

// The posts of the last weights.window_days (older than min_age_hours) with
// a v2 outcome, and the active map's posteriors (null without one).
newest_logged<logged_post> read_logged_posts(db_connection& db, config const& cfg,
                                             timestamp now);
// The whole report over the database: the logged posts up to `now`, the
// active map, its learned values (what validate prints).
policy_report policy_report_of(db_connection& db, config const& cfg, timestamp now,
                               std::uint64_t seed, what_if_policy const& what_if = {});
// The active map's posteriors, weights and cross-fitted pair (nulls without
// one; a null pair before migration 0012).
std::tuple<nlohmann::json, nlohmann::json, nlohmann::json>
read_active_map(db_connection& db);

// What a reader of a dimension's learned values must know first: that it
// was learned from its recent days only, that its values differ no more than
// noise, that plan does not draw it. Empty for most.
std::vector<std::string> dimension_notes(policy_report const& r, std::string const& dim);

// Whether plan drew the dimension of these values for the logged posts.
bool drawn(std::vector<learned_value> const& values);
// Whether plan drew any logged post (not yet, on an adopted database).
bool any_drawn(policy_report const& r);
// A value's share as printed: "42 %", or "-" where plan does not draw it (or
// drew no logged post yet).
std::string share_text(learned_value const& v);

// The values of a dimension a reader is shown: all up to max_shown_values;
// past that (a free-text topic has thousands) the ones that say most: those
// plan drew lately, then those with enough posts, then by posts. In the
// dimension's order, best first.
struct shown_values {
    std::vector<learned_value const*> values;
    std::size_t hidden = 0;
    std::size_t hidden_too_few = 0; // of the hidden, with too few posts to say
};
inline constexpr std::size_t max_shown_values = 12;
shown_values values_to_show(std::vector<learned_value> const& values);
// "… and 8 512 more values (8 400 with too few posts to say); --json lists
// every one", or "" when none is hidden.
std::string hidden_values_text(shown_values const& s);

// "N posts with outcomes", or "the newest N of M …" where the window held
// more than validate.max_policy_posts.
std::string valued_text(policy_comparison const& r, std::string const& what);

// What the map's row values, in words (cross-fitted or not).
std::string map_policy_note(policy_report const& r);

nlohmann::json policy_report_json(policy_report const& r);
// For a terminal `columns` wide (0: none, one line a row): its prose wraps
// under its own column, and the follows' estimates go under the score's
// where the four side by side do not fit.
std::string policy_report_table(policy_report const& r, std::size_t columns = 0);

// A number to print with three decimals: one that rounds to 0 is +0, where
// {:.3f} printed "DR 1.654 [-0.000, 3.326]".
inline double at_3dp(double v)
{
    return v > -0.0005 && v < 0.0005 ? 0.0 : v;
}

} // namespace xloop
