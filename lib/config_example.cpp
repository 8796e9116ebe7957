#include "config_example.hpp"

#include "config.hpp"
#include "plan_job.hpp"

#include <fmt/format.h>

#include <cctype>
#include <map>

namespace xloop {

namespace {

// Comments start in this column, as an operator's editor would align them.
constexpr std::size_t comment_column = 31;
constexpr std::size_t line_width = 88;

// A string as a YAML scalar: quoted only where plain YAML would read it as
// something else (a number, a time, a comment, a mapping).
std::string scalar(std::string const& s)
{
    bool plain = !s.empty() && (std::isalpha(static_cast<unsigned char>(s[0])) != 0);
    for (std::size_t i = 0; plain && i < s.size(); ++i) {
        if (s.compare(i, 2, ": ") == 0 || s.compare(i, 2, " #") == 0) {
            plain = false;
        }
    }
    return plain ? s : fmt::format("\"{}\"", s);
}

std::string scalar(double v)
{
    return fmt::format("{}", v);
}
std::string scalar(int v)
{
    return fmt::format("{}", v);
}
std::string scalar(bool v)
{
    return v ? "true" : "false";
}

template <typename T>
std::string flow(std::vector<T> const& items)
{
    std::string out = "[";
    for (auto const& item : items) {
        out += (out.size() > 1 ? ", " : "") + scalar(item);
    }
    return out + "]";
}

class writer {
public:
    void text(std::string const& s) { m_out += s + "\n"; }

    // `key: value  # comment`, the comment aligned where the line leaves room.
    void key(int depth, std::string const& key, std::string const& value,
             std::string const& comment = {})
    {
        auto line = fmt::format("{:{}}{}:{}{}", "", depth * 2, key,
                                value.empty() ? "" : " ", value);
        if (!comment.empty()) {
            line += line.size() < comment_column
                        ? std::string(comment_column - line.size(), ' ')
                        : std::string(2, ' ');
            line += "# " + comment;
        }
        text(line);
    }

    // A flow list too long for one line is continued under its first item.
    void list(int depth, std::string const& key, std::vector<std::string> const& items,
              std::string const& comment = {})
    {
        auto const head = fmt::format("{:{}}{}: [", "", depth * 2, key);
        std::string line = head;
        for (std::size_t i = 0; i < items.size(); ++i) {
            auto const item = scalar(items[i]) + (i + 1 < items.size() ? "," : "");
            if (i > 0 && line.size() + 1 + item.size() + 1 > line_width) {
                text(line);
                line = std::string(head.size(), ' ') + item;
            } else {
                line += (i > 0 ? " " : "") + item;
            }
        }
        line += "]";
        if (!comment.empty()) {
            line += std::string(
                        line.size() < comment_column ? comment_column - line.size() : 2,
                        ' ') +
                    "# " + comment;
        }
        text(line);
    }

    std::string const& str() const noexcept { return m_out; }

private:
    std::string m_out;
};

void metrics_section(writer& w, metrics_config const& d)
{
    w.key(0, "metrics", "", "xloop-scrape-metrics");
    w.list(1, "engagement_fields", d.engagement_fields,
           "also: quotes, bookmarks, profile_clicks");
    w.key(1, "attribution_window_hours", scalar(d.attribution_window_hours),
          "follower gains credited to a post this long after it");
    w.key(1, "attribution_half_life_hours", scalar(d.attribution_half_life_hours),
          "a post's reach halves this often (0: even over the window)");
    w.key(1, "fit_reach", scalar(d.fit_reach),
          "fit it and replies' rate to the counts, where clearly better");
    w.key(1, "due_ages_hours", flow(d.due_ages_hours),
          "ages at which a post's metrics are read");
    w.key(1, "max_age_days", scalar(d.max_age_days),
          "posts older than this are not asked for again");
    w.key(1, "max_posts", scalar(d.max_posts),
          "posts asked for in one run (--max-posts)");
    w.key(1, "batch_size", scalar(d.batch_size),
          "ids per X API request (the API allows 100)");
    w.key(1, "max_clock_skew_minutes", scalar(d.max_clock_skew_minutes),
          "a file record observed later than now + this is a bad line");
    w.key(1, "score", "", "primary_objective_score: clamp(er_weight·ER +");
    w.text(std::string(comment_column, ' ') +
           "#   follow_weight·σ(follow_slope·(fgw − follow_midpoint)))");
    w.key(2, "er_weight", scalar(d.score.er_weight));
    w.key(2, "follow_weight", scalar(d.score.follow_weight));
    w.key(2, "follow_slope", scalar(d.score.follow_slope));
    w.key(2, "follow_midpoint", scalar(d.score.follow_midpoint));
}

void x_api_section(writer& w, x_api_config const& d)
{
    w.key(0, "x_api", "");
    w.key(1, "base_url", scalar(d.base_url));
    w.key(1, "auth", scalar(d.auth), "bearer | oauth1 (user context: profile clicks)");
    w.key(1, "token_env", scalar(d.token_env),
          "the name of the variable that holds the token, not the token");
    w.key(1, "consumer_key_env", scalar(d.consumer_key_env), "oauth1: the app's key");
    w.key(1, "consumer_secret_env", scalar(d.consumer_secret_env));
    w.key(1, "access_token_env", scalar(d.access_token_env),
          "oauth1: the account's token");
    w.key(1, "access_token_secret_env", scalar(d.access_token_secret_env));
    w.key(1, "timeout_ms", scalar(d.timeout_ms));
    w.key(1, "retries", scalar(d.retries), "for 5xx and timeouts, with backoff");
    w.key(1, "backoff_ms", scalar(d.backoff_ms));
    w.key(1, "username", scalar(d.username),
          "its handle (not replied to); empty: /2/users/me (user tokens only)");
    w.key(1, "non_public_metrics", scalar(d.non_public_metrics),
          "profile clicks; false with an app-only token");
    w.key(1, "followers_every_minutes", scalar(d.followers_every_minutes),
          "ask the follower count at most this often (0: as often as");
    w.text(std::string(comment_column, ' ') +
           "#   X's lookups left allow, spread until its window resets)");
}

void weights_section(writer& w, weights_config const& d)
{
    std::map<std::string, std::string> const target_notes{
        {"reach", "log impressions"},
        {"profile_clicks", "log profile clicks per impression"},
        {"follows", "log direct follows per impression, where the source has them"},
        {"attributed_follows", "followers_gained_weighted"},
        {"primary_objective_score", "the original's score; alone, it is used unscaled"}};
    w.key(0, "weights", "", "xloop-build-weights");
    w.key(1, "window_days", scalar(d.window_days));
    w.key(1, "window_posts", scalar(d.window_posts),
          "fewer posts in window_days: reach back to hold this many");
    w.key(1, "max_window_days", scalar(d.max_window_days),
          "... but no further (the half-life stretches alike)");
    w.key(1, "half_life_days", scalar(d.half_life_days),
          "recency weight 2^(−age/half-life)");
    w.key(1, "change_window_days", scalar(d.change_window_days),
          "ranked otherwise lately: learned from the last 1-3 spans only");
    w.key(1, "min_age_hours", scalar(d.min_age_hours),
          "younger posts are not learned from (their counts still grow)");
    w.key(1, "kappa", scalar(d.kappa),
          "shrinkage: at least this many pseudo-posts at the dimension's mean");
    w.key(1, "epsilon", scalar(d.epsilon),
          "exploration floor: weight = (1 − ε)·P(best) + ε/K");
    w.key(1, "epsilon_decay_posts", scalar(d.epsilon_decay_posts),
          "ε shrinks as ε·D/(D + effective posts of the dimension)");
    w.key(1, "target", "", "learning target: weights of standardised components");
    for (auto const& [name, weight] : d.target) {
        auto const note = target_notes.find(name);
        w.key(2, name, scalar(weight), note == target_notes.end() ? "" : note->second);
    }
    w.key(1, "min_posts", scalar(d.min_posts), "fewer usable rows: a skipped run");
    w.key(1, "timezone", scalar(d.timezone), "for post_hour; empty: plan.timezone");
    w.list(1, "dimensions", d.dimensions);
}

void replies_section(writer& w, replies_config const& d)
{
    w.key(0, "replies", "", "xloop-learn-replies");
    w.key(1, "window_days", scalar(d.window_days),
          "an account's audience changes slowly: months of replies");
    w.key(1, "half_life_days", scalar(d.half_life_days));
    w.key(1, "min_age_hours", scalar(d.min_age_hours),
          "younger replies are not learned from");
    w.key(1, "kappa", scalar(d.kappa));
}

void writer_section(writer& w, writer_config const& d)
{
    w.key(1, "writer", "");
    w.key(2, "kind", scalar(d.kind), "template | command | openai");
    w.list(2, "command", d.command,
           "command: argv of a program; plan JSON on stdin, text on stdout");
    w.key(2, "timeout_ms", scalar(d.timeout_ms));
    w.key(2, "base_url", scalar(d.base_url),
          "openai: as the OpenAI SDKs take it, e.g. …/v1");
    w.key(2, "model", scalar(d.model));
    w.key(2, "key_env", scalar(d.key_env), "the name of the variable that holds the key");
    w.key(2, "retries", scalar(d.retries));
    w.key(2, "backoff_ms", scalar(d.backoff_ms));
    w.key(2, "max_tries", scalar(d.max_tries),
          "redraws of an over-long or duplicate text");
}

void plan_section(writer& w, plan_config const& d, double weights_epsilon)
{
    w.key(0, "plan", "", "xloop-plan");
    w.key(1, "queue_ahead", scalar(d.queue_ahead), "future queued posts to keep");
    w.key(1, "timezone", scalar(d.timezone),
          "of the posting calendar (IANA name; DST handled)");
    w.key(1, "times", flow(d.times),
          "daily posting times; which one is drawn (post_hour)");
    w.key(1, "min_gap_minutes", scalar(d.min_gap_minutes),
          "between posts, on the clock; last time to next day's first too");
    w.key(1, "posts_per_day", scalar(d.posts_per_day),
          "0: a post at every time; fewer: which get one is learned");
    w.key(1, "time_choice", scalar(d.time_choice),
          "drawn: which free time is drawn (post_hour); next: the earliest");
    w.key(1, "no_repeat_slot", scalar(d.no_repeat_slot),
          "never the same content_slot twice in a row");
    w.key(1, "# epsilon", scalar(d.epsilon.value_or(weights_epsilon)),
          "unset: the active map's per-dimension ε; set: this ε for every draw");
    w.key(1, "posterior_scale", scalar(d.posterior_scale),
          "draws use each posterior's sd times this: < 1 exploits sooner");
    w.key(1, "reply_max_age_hours", scalar(d.reply_max_age_hours),
          "older reply opportunities are not taken");
    w.key(1, "reply_author_cooldown_hours", scalar(d.reply_author_cooldown_hours));
    w.key(1, "thread_min_parts", scalar(d.thread_min_parts));
    w.key(1, "thread_max_parts", scalar(d.thread_max_parts));
    w.text("  # Candidate values per dimension; a dimension left out keeps its built-in");
    w.text("  # list, which is:");
    w.text("  # catalogue:");
    for (auto const& [dim, values] : plan_catalogue(d)) {
        w.list(2, "# " + dim, values);
    }
    w.text("  # Templates of the template writer by hook_type (and reply, thread); "
           "{topic},");
    w.text("  # {tone}, {author}, {excerpt}, {i}, {n} are filled in ({{ and }} are "
           "braces).");
    w.text("  # For example:");
    w.text("  # templates:");
    w.text("  #   question: [\"Why do most {topic} projects stall after the first "
           "month?\"]");
    writer_section(w, d.writer);
}

void validate_section(writer& w, validate_config const& d)
{
    w.key(0, "validate", "", "xloop-validate");
    w.key(1, "days", scalar(d.days), "the window of the coverage checks");
    w.key(1, "min_v2_coverage", scalar(d.min_v2_coverage), "below: fail");
    w.key(1, "min_slot_coverage", scalar(d.min_slot_coverage), "below: fail");
    w.key(1, "max_map_age_hours", scalar(d.max_map_age_hours),
          "older: warn; twice as old: fail");
    w.key(1, "max_queue_delay_hours", scalar(d.max_queue_delay_hours),
          "a queued item this late: the poster is not posting (fail)");
    w.key(1, "max_unmeasured_hours", scalar(d.max_unmeasured_hours),
          "a post this old without metrics: its source gives none (warn)");
    w.key(1, "max_opportunity_age_hours", scalar(d.max_opportunity_age_hours),
          "no reply opportunity this long: the harvester stopped (warn)");
    w.key(1, "max_idle_transaction_minutes", scalar(d.max_idle_transaction_minutes),
          "a session idle in a transaction this long: leaked (warn)");
    w.key(1, "min_map_sample", scalar(d.min_map_sample));
    w.key(1, "min_priority_coverage", scalar(d.min_priority_coverage));
    w.key(1, "min_policy_posts", scalar(d.min_policy_posts),
          "fewer posts with propensities: no policy estimates");
    w.key(1, "min_effective_posts", scalar(d.min_effective_posts),
          "a policy's estimate needs this effective sample");
    w.key(1, "max_policy_posts", scalar(d.max_policy_posts),
          "the newest this many posts (and replies) are valued");
    w.key(1, "job_interval_minutes", "",
          "each job's schedule; silent for 3 intervals: fail");
    for (auto const& [job, minutes] : d.job_interval_minutes) {
        w.key(2, job, scalar(minutes),
              job == "plan-replies" ? "xloop-plan --replies; judged once it has run"
                                    : "");
    }
}

void session_sections(writer& w, database_config const& db, ledger_config const& l)
{
    w.key(0, "database", "", "every tool's session; 0: no limit");
    w.key(1, "statement_timeout_minutes", scalar(db.statement_timeout_minutes),
          "a runaway statement ends (never for xloop-migrate)");
    w.key(1, "idle_in_transaction_timeout_minutes",
          scalar(db.idle_in_transaction_timeout_minutes),
          "a killed client's transaction ends, freeing its lock");
    w.key(1, "lock_timeout_minutes", scalar(db.lock_timeout_minutes),
          "a wait for another session's lock ends the run (not migrate)");
    w.text("");
    w.key(0, "ledger", "", "xloop.job_runs, every tool");
    w.key(1, "stale_hours", scalar(l.stale_hours),
          "a run 'running' this long or with no connection: interrupted");
    w.key(1, "lease_minutes", scalar(l.lease_minutes),
          "scrape-metrics' lease on its job (renewed each batch)");
    w.key(1, "keep_days", scalar(l.keep_days),
          "older finished runs are deleted by the next run; 0: keep");
    w.key(1, "reconnect_seconds", scalar(l.reconnect_seconds),
          "a run whose connection died retries this long to record its end");
}

} // namespace

std::string default_config_yaml()
{
    config const d;
    writer w;
    w.text("# xloop's configuration: one file for every tool (--config FILE or "
           "XLOOP_CONFIG).");
    w.text(
        "# Every key is shown with its default, so this file changes nothing until you");
    w.text("# edit it; leave out what you do not change. Unknown keys and out-of-range");
    w.text("# values stop a tool with exit 78, naming the file, line and key.");
    w.text(
        "# Written by `xloop-validate --print-default-config` from the code's defaults.");
    w.text("");
    metrics_section(w, d.metrics);
    w.text("");
    x_api_section(w, d.x_api);
    w.text("");
    weights_section(w, d.weights);
    w.text("");
    replies_section(w, d.replies);
    w.text("");
    plan_section(w, d.plan, d.weights.epsilon);
    w.text("");
    validate_section(w, d.validate);
    w.text("");
    session_sections(w, d.database, d.ledger);
    return w.str();
}

} // namespace xloop
