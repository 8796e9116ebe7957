#pragma once

// A simulated world (sim/worlds/*.yaml): the hidden truth xloop-sim plays
// around the loop. Effects multiply a post's reach, engagement rate and
// follows per value of each planner dimension, reply targets differ in
// quality, noise is heavy-tailed, and the account drifts on its own. Pure: no
// I/O but the loader, no clock; the learner never reads any of it.

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace xloop::sim {

// Multipliers of a value (1: no effect).
struct effect {
    double reach = 1;      // impressions
    double engagement = 1; // engagement rate
    double follows = 1;    // follows per impression
};

// dimension → value → effect; a value not listed has no effect.
using effects_map = std::map<std::string, std::map<std::string, effect>>;

// A post's attributes as plan stores them, post_hour as "18".
using attributes = std::map<std::string, std::string>;

// The simulator's plan.min_gap_minutes: a world's posts a day must fit its
// times this far apart.
constexpr int sim_min_gap_minutes = 90;

struct world_spec {
    std::string name;
    std::string description;
    int posts_per_day = 3;
    int replies_per_day = 10;
    std::vector<std::string> times{"08:00", "10:00", "12:00", "14:00",
                                   "16:00", "18:00", "20:00", "22:00"}; // UTC
    // A post whose effects are all 1, and a reply to an average account.
    double impressions = 900;
    double engagement_rate = 0.03;
    double follows_per_1000 = 4;
    double reply_impressions = 300;
    double reply_engagement_rate = 0.02;
    double reply_follows_per_1000 = 3;
    // Log-normal noise (mean 1) of each post's reach, engagement and
    // follows: reach's heavy tail is X's.
    double reach_sigma = 0.6;
    double engagement_sigma = 0.25;
    double follows_sigma = 0.4;
    // The account on its own: followers at the start, and a daily drift
    // (mean and sd: unfollows included) that no post causes.
    double followers = 5000;
    double drift_per_day = 2;
    double drift_sd_per_day = 6;
    effects_map effects;
    // Reply targets account_1 … account_N; their multipliers.
    int accounts = 40;
    std::map<std::string, effect> account_effects;
    int opportunities_per_hour = 3;
    // The poster's own cron: it publishes a due post at its next run, on the
    // multiples of this many minutes of the hour (0: at the post's time).
    int poster_every_minutes = 0;
    // How a post's impressions, and the follows and clicks they bring, come
    // in: all but 2^(−age/h) of them by age h·k (X's front-loaded reach).
    // None (0): impressions with a time constant of 8 h and follows evenly
    // over the first day, as xloop's attribution assumes.
    double half_life_hours = 0;
    // From this day on (0-based), these dimensions' effects replace the
    // ones above.
    std::optional<int> change_day;
    effects_map effects_after_change;
};

// The share of a post's impressions (`follows`: of its follows) that have
// come in by `age_hours`.
double grown_share(world_spec const& w, double age_hours, bool follows);

// The hour ("18") a post planned for `time` ("17:45") goes out at: the
// poster's next run.
std::string posted_hour(world_spec const& w, std::string const& time);

// The catalogue the world's effects may name: plan's built-in one plus
// post_hour over the hours the world's times are posted at.
std::map<std::string, std::vector<std::string>> world_catalogue(world_spec const& w);

// Reads and checks a world file: unknown keys, dimensions or values, and
// effects of implausible size (a value worth more than 2× the median of its
// dimension) are config errors naming file:line.
world_spec load_world(std::filesystem::path const& file);

// The effects in force on `day` (days since the start).
effects_map const& effects_on(world_spec const& w, double day);

// Expected impressions, engagement rate and follows of a post or reply
// (noise at its mean).
struct expectation {
    double impressions = 0;
    double engagement_rate = 0;
    double follows = 0;
};
expectation expected_post(world_spec const& w, attributes const& a, double day);
expectation expected_reply(world_spec const& w, std::string const& account);

// What a post really did: the expectation times its noise, drawn from a
// stable hash of the seed and the tweet id.
expectation realised(world_spec const& w, expectation const& e, std::uint64_t seed,
                     std::string const& tweet_id);

// Followers the account gained or lost on its own over `days` since the start.
double drift(world_spec const& w, std::uint64_t seed, double days);

// Expected follows a post of a policy on `day`: uniform draws over the
// catalogue and the times; the oracle's best of each (its posts spread over
// the best posts_per_day times).
double uniform_follows(world_spec const& w, double day);
double oracle_follows(world_spec const& w, double day);

// A value's factor on expected follows (reach × follows per impression) on
// `day`: 1 for a value without an effect.
double follows_factor(world_spec const& w, std::string const& dim,
                      std::string const& value, double day);

// The best value of each dimension on `day` (for the post-run table).
std::map<std::string, std::string> best_values(world_spec const& w, double day);

// [0, 1) and N(0, 1) from a stable hash (FNV-1a) of seed, key and salt.
double hash_uniform(std::uint64_t seed, std::string const& key, char salt);
double hash_normal(std::uint64_t seed, std::string const& key, char salt);

} // namespace xloop::sim
