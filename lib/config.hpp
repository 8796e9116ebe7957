#pragma once

// The configuration of every tool: one struct tree whose initialisers are the
// defaults, so no file is needed. load_config() fills it from one YAML file.

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace xloop {

struct score_config {
    // primary_objective_score = clamp(er_weight·ER + follow_weight·σ(slope·(fgw −
    // midpoint)))
    double er_weight = 0.4;
    double follow_weight = 0.6;
    double follow_slope = 0.1;
    double follow_midpoint = 25.0;

    bool operator==(score_config const&) const = default;
};

struct metrics_config {
    // Counts in the numerator of the engagement rate.
    std::vector<std::string> engagement_fields{"likes", "retweets", "replies"};
    double attribution_window_hours = 24.0;
    // How a post's reach comes in over that window, for sharing an
    // interval's follows among the posts live in it: half of what is left
    // every this many hours; 0: evenly. X's posts get half their impressions
    // in about 80 minutes (Pfeffer et al., "The Half-Life of a Tweet",
    // ICWSM 2023); follows come a little after the views that bring them.
    double attribution_half_life_hours = 1.5;
    // Fit the half-life (0.5–12 h, or even) and replies' rate of follows an
    // impression against posts' to the last 14 days' follower counts, used
    // where it explains them clearly better than the half-life above: an
    // account's reach need not be the paper's (bench/README.md, 2026-12-07).
    bool fit_reach = true;
    std::vector<double> due_ages_hours{1, 6, 24, 48, 168, 720};
    double max_age_days = 30.0;
    int max_posts = 500;
    int batch_size = 100;
    // A file record observed later than now + this is refused: it would block
    // every later update of its post.
    double max_clock_skew_minutes = 10.0;
    score_config score;

    bool operator==(metrics_config const&) const = default;
};

struct x_api_config {
    std::string base_url = "https://api.x.com";
    std::string token_env = "X_BEARER_TOKEN";
    int timeout_ms = 10000;
    int retries = 3;
    int backoff_ms = 1000;
    std::string auth = "bearer"; // bearer | oauth1 (user context, keys that never expire)
    std::string consumer_key_env = "X_API_KEY";
    std::string consumer_secret_env = "X_API_SECRET";
    std::string access_token_env = "X_ACCESS_TOKEN";
    std::string access_token_secret_env = "X_ACCESS_TOKEN_SECRET";
    std::string username; // the account's handle, without '@'; empty: /2/users/me
    bool non_public_metrics = true; // ask for profile clicks (user-context tokens only)
    // The follower count is asked for at most once in this many minutes (0:
    // every run): X's Free tier allows GET /2/users/me 25 times a day.
    int followers_every_minutes = 0;

    bool operator==(x_api_config const&) const = default;
};

struct weights_config {
    double window_days = 60.0;
    // An account that posts less often learns from more days: the window
    // reaches back to the oldest of its newest window_posts posts (replies
    // not counted), up to max_window_days, and the half-life stretches with
    // it. At one post a day a fixed 60 days never held more than 60 posts:
    // 120 simulated days captured 41 % of the oracle's gain over the last
    // 14, 68 % learning from all 120 (bench/README.md). 0: window_days only.
    int window_posts = 180;
    double max_window_days = 365.0;
    // Long: in a world that does not change, the older posts are evidence too
    // (the learning benchmark's stable worlds gain 5-15 points over 14 days).
    double half_life_days = 60.0;
    // A dimension whose values rank differently in the posts of the last
    // k·these days than in the older ones (test_change, k = 1..3, the split
    // that tells them apart best) is learned from those alone: what worked
    // before the world changed stops counting at once. 0: never.
    double change_window_days = 7.0;
    // Posts younger than this are not learned from: their reach, clicks and
    // attributed follows are still growing (most of a post's first day), and
    // counting them would mark whatever was just drawn as poor.
    double min_age_hours = 24.0;
    double kappa = 5.0;
    double epsilon = 0.1;
    // The exploration floor shrinks as evidence grows: a dimension whose
    // values hold N effective posts explores with ε·D/(D + N), D this.
    double epsilon_decay_posts = 30.0;
    // The learning target (DESIGN §5.6): weights of the standardised
    // components of an outcome. Follows are the goal: reach and what a view
    // brings (profile clicks, follows) weigh fully; the engagement rate
    // (well measured, but not always what brings follows) half, and in each
    // dimension only as far as it ranks the values as they do; attributed
    // follows (mostly attribution noise, but the only follows a source
    // without clicks has) a quarter: at half they cost 3-6 points of
    // capture in three of four worlds (bench/README.md).
    std::map<std::string, double> target{
        {"engagement_rate", 0.5},     {"reach", 1.0},
        {"profile_clicks", 1.0},      {"follows", 1.0},
        {"attributed_follows", 0.25}, {"primary_objective_score", 0.0}};
    int min_posts = 10;
    // The post_hour dimension's zone; empty: plan.timezone, the zone of the
    // hours plan draws post times by (learned in another, they are not the
    // hours plan looks up). See post_hour_zone.
    std::string timezone;
    std::vector<std::string> dimensions{"content_slot", "generator_name", "decision_type",
                                        "topic",        "tone",           "hook_type",
                                        "cta_type",     "structure_type", "post_hour"};

    bool operator==(weights_config const&) const = default;
};

struct replies_config {
    // Long: an account's audience changes slowly, and 10 replies a day over
    // dozens of accounts give each only a few. 30/10 days learned from about
    // 4 replies an account; 90/30 gained 1.5-8 points of replies' capture in
    // each of the learning benchmark's 8 worlds (bench/README.md).
    double window_days = 90.0;
    double half_life_days = 30.0;
    double min_age_hours = 24.0; // as weights.min_age_hours
    double kappa = 5.0;

    bool operator==(replies_config const&) const = default;
};

struct writer_config {
    std::string kind = "template"; // template | command | openai
    std::vector<std::string> command;
    int timeout_ms = 30000;
    std::string base_url = "https://api.openai.com";
    std::string model = "gpt-4o-mini";
    std::string key_env = "OPENAI_API_KEY";
    int retries = 3;
    int backoff_ms = 1000;
    int max_tries = 5; // redraws for over-long or duplicate text

    bool operator==(writer_config const&) const = default;
};

struct plan_config {
    int queue_ahead = 2;
    std::string timezone = "UTC";
    std::vector<std::string> times{"09:00", "13:00", "18:00"};
    int min_gap_minutes = 120;
    // Posts a day: 0 uses every daily time. Fewer than the times: which of
    // them get a post each day is drawn (post_hour); the rate is always kept.
    int posts_per_day = 0;
    // Which of a day's free times an item takes: "drawn" like the attributes
    // (post_hour), or "next": the earliest.
    std::string time_choice = "drawn";
    // Never the same content_slot twice in a row (off: it capped the best
    // slot at 48 % of posts).
    bool no_repeat_slot = false;
    double reply_max_age_hours = 3.0;
    double reply_author_cooldown_hours = 24.0;
    int thread_min_parts = 2;
    int thread_max_parts = 6;
    // Exploration rate of every draw, when set: overrides the active map's
    // per-dimension ε (decayed by build-weights from weights.epsilon) and
    // weights.epsilon itself for a dimension the map has none for.
    std::optional<double> epsilon;
    // Thompson draws take each learned value's posterior with its sd times
    // this: below 1 the loop settles on what it has learned sooner, above 1
    // it keeps exploring longer. 0.5 against 0.75, seed by seed, since the
    // learner nets each value of its companions: subtle +6.7 points of
    // capture, default +1.5, sparse +2.8, drift -0.9 (bench/README.md).
    double posterior_scale = 0.5;
    // Candidate values per dimension; empty means the built-in catalogue.
    std::map<std::string, std::vector<std::string>> catalogue;
    // Templates keyed by hook_type (or reply, thread), with placeholders
    // (template_placeholders).
    std::map<std::string, std::vector<std::string>> templates;
    writer_config writer;

    // The posting rate: posts_per_day, or one post at each daily time.
    int posts_a_day() const
    {
        return posts_per_day > 0 ? posts_per_day : static_cast<int>(times.size());
    }

    bool operator==(plan_config const&) const = default;
};

// The catalogue of candidate values per dimension: the config's, else the
// built-in one; names canonicalised and de-duplicated.
std::map<std::string, std::vector<std::string>> plan_catalogue(plan_config const& cfg);

// What the template writer fills in (plan.templates): {topic}, {tone},
// {author} and {excerpt} (of the post replied to), {i} and {n} (a thread
// part's number and the parts).
inline constexpr char const* template_placeholders[] = {"topic",   "tone", "author",
                                                        "excerpt", "i",    "n"};

struct validate_config {
    int days = 3;
    double min_v2_coverage = 0.8;    // below: fail
    double min_slot_coverage = 0.8;  // below: fail
    double max_map_age_hours = 24.0; // older: warn; twice as old: fail
    // A queued item this long past its scheduled time: the poster is not
    // publishing (fail).
    double max_queue_delay_hours = 2.0;
    // A post (or reply) this long after it went out without metrics: the
    // source gives none for it, while every job runs ok (warn; most of the
    // window's: fail). Every source measures within a day (X's API at the
    // first due age, a metrics file exported daily).
    double max_unmeasured_hours = 24.0;
    // No reply opportunity this long while replies are in use: the harvester
    // that finds them has stopped (warn).
    double max_opportunity_age_hours = 24.0;
    // A session idle in a transaction this long was leaked by its program: it
    // holds back vacuum, and migrate and xloop's writes wait for it (warn).
    double max_idle_transaction_minutes = 15.0;
    int min_map_sample = 10;
    double min_priority_coverage = 0.5;
    // What the logged choices are worth is estimated from at least this many
    // posts with propensities, and a policy's estimate only shown where its
    // weights rest on at least min_effective_posts of them. 5: in the
    // simulator's worlds (bench/policy_value.sh, 80 runs) the lift's DR
    // interval held the truth in 61 of the 69 runs with 5 or more effective
    // posts, in every world ≥ 80 %, the sign right in all 33 clear ones; at 10
    // the lift was given in 8 runs of 80.
    int min_policy_posts = 20;
    double min_effective_posts = 5;
    // The newest this many posts (and as many replies) of the window are
    // valued: memory and time stay flat on a database with a long history,
    // and 10 000 posts give intervals far narrower than any lift worth having.
    int max_policy_posts = 10000;
    // Schedules (minutes) of each job; silent for more than 3 intervals: fail.
    // plan-replies (xloop-plan --replies) a day: replies often run in the
    // day's hours only, and a job that never ran is not judged.
    std::map<std::string, double> job_interval_minutes{{"scrape-metrics", 20},
                                                       {"learn-replies", 90},
                                                       {"build-weights", 360},
                                                       {"plan", 60},
                                                       {"plan-replies", 1440}};

    bool operator==(validate_config const&) const = default;
};

// Session limits every tool sets on its connection, so the backend of a
// client that died ends instead of holding its lock.
struct database_config {
    double statement_timeout_minutes = 60;          // 0: none (never for migrate)
    double idle_in_transaction_timeout_minutes = 5; // 0: none
    // A statement waiting this long for a lock another session holds (a
    // leaked transaction of the bot's) ends the run, naming that session,
    // instead of waiting out statement_timeout. 0: none; never for migrate,
    // which bounds its waits by --lock-timeout.
    double lock_timeout_minutes = 5;

    bool operator==(database_config const&) const = default;
};

// The run ledger (xloop.job_runs), shared by every tool.
struct ledger_config {
    // A run still 'running' after this long is taken as abandoned (e.g. its
    // client was killed behind a pooler that keeps the server connection).
    double stale_hours = 24.0;
    // How long a lease on a job (xloop.job_leases: scrape-metrics) lasts
    // unrenewed; a killed run's lease ends after this long. Each batch
    // renews it, so it must outlast the longest batch.
    double lease_minutes = 15.0;
    // Each job's finished runs are kept this long, then deleted by its next
    // run (~130 rows a day in all); 0 keeps every row.
    double keep_days = 90.0;
    // A run whose connection died (a restart, a failover) tries this long to
    // reconnect and record its end and give back its lease; 0: once.
    double reconnect_seconds = 30.0;

    bool operator==(ledger_config const&) const = default;
};

// Where keys were written is not part of a configuration's value: two
// configurations with the same values are equal wherever they came from.
struct key_places : std::map<std::string, std::string> {
    bool operator==(key_places const&) const { return true; }
};

struct config {
    std::string source_file; // empty when built from defaults
    // Where a key checked only once a tool connects (a time zone's name) was
    // written, "FILE:LINE: 'key'", for that check's message; absent: default.
    key_places places;
    metrics_config metrics;
    x_api_config x_api;
    weights_config weights;
    replies_config replies;
    plan_config plan;
    validate_config validate;
    ledger_config ledger;
    database_config database;

    bool operator==(config const&) const = default;
};

// The zone post_hour is learned in: weights.timezone where set, else
// plan.timezone. And, where weights.timezone names another zone than
// plan.timezone, a warning saying what that costs (else empty).
std::string post_hour_zone(config const& cfg);
std::string post_hour_zone_warning(config const& cfg);

// The key `key` as the config's messages name it: with the file and line it
// was written on, or alone when it has its default.
std::string key_place(config const& cfg, std::string const& key);

// Loads `path` (or returns the defaults when nullopt). Throws config_error
// naming the file, line and key of an unknown key or a bad value.
config load_config(std::optional<std::string> const& path);

// Same, from YAML text (for tests); `name` stands for the file in messages.
config parse_config(std::string const& yaml_text, std::string const& name);

// The environment variables that hold xloop's own secrets: the database's
// password and URL, and the X API's keys under the names `cfg` gives them.
// A program xloop starts (the command writer) is given none of them.
std::vector<std::string> secret_variables(config const& cfg);

// The secret (a token, an API key) in the environment variable `variable`,
// which the config key `key` names; config_error when it is not set or empty,
// saying that it must hold `holds`. Never logged.
std::string secret_from_env(char const* key, std::string const& variable,
                            char const* holds);

// "HH:MM" (or "H:MM") as minutes after midnight, or none.
std::optional<int> minute_of_day(std::string const& time);

// How many of the daily times ("HH:MM", checked) every day can post at, each
// at least `gap` minutes after the one before, the day before's last included.
std::size_t times_apart(std::vector<std::string> const& times, int gap);

// Every key the parser reads, dotted ("plan.writer.kind", sections too), in
// the order it reads them: what the example config must show.
std::vector<std::string> config_keys();

} // namespace xloop
