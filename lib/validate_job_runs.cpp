#include "validate_checks.hpp"

#include "config.hpp"
#include "db.hpp"
#include "lock_holders.hpp"
#include "text.hpp"

#include <fmt/ranges.h>

#include <algorithm>
#include <chrono>
#include <cmath>

namespace xloop {

namespace checks {

// Nested CASEs, since PostgreSQL may evaluate an AND's operands in any
// order: the cast must never meet another program's text.
std::string detail_number_sql(char const* key, char const* max)
{
    return fmt::format("CASE WHEN jsonb_typeof(detail->'{0}') = 'number' THEN CASE WHEN "
                       "(detail->>'{0}')::numeric BETWEEN 0 AND {1} THEN "
                       "(detail->>'{0}')::numeric END END",
                       key, max);
}

namespace {

// A count the run's detail holds under `key`, or NULL where it holds
// anything else (another program's text, a number no count is).
std::string detail_count_sql(char const* key)
{
    return detail_number_sql(key, "1e12");
}

// Each job's last ok run (hours before now), its last run's status and error
// or skip reason, and its runs and failures in the last `days`, in one
// statement for all the jobs (a statement each cost a fifth of an idle run).
// started_at is the --now the run used: freshness in the same clock. Last,
// what the runs of the window counted in their detail (scrape-metrics'
// skipped records, plan's opportunities expired for want of a time).
std::string const job_state_sql = fmt::format(
    R"sql(
SELECT j.job,
       (SELECT extract(epoch FROM $2::timestamptz - max(started_at)) / 3600
          FROM xloop.job_runs
         WHERE job = j.job AND status = 'ok' AND started_at <= $2::timestamptz),
       l.status, coalesce(l.error, l.detail->>'reason'),
       w.runs, w.failed,
       (SELECT error FROM xloop.job_runs
         WHERE job = j.job AND status = 'failed' AND started_at <= $2::timestamptz
           AND started_at > $2::timestamptz - make_interval(days => $3::int)
         ORDER BY started_at DESC, id DESC LIMIT 1),
       l.status = 'running' AND l.detail ? 'backend_pid' AND NOT EXISTS (
           SELECT 1 FROM pg_stat_get_activity((l.detail->>'backend_pid')::int) a
            WHERE a.backend_start IS NULL -- another role's: not ours to judge
               OR a.backend_start = (l.detail->>'backend_start')::timestamptz),
       l.started_at, w.skipped_lines, w.observed_before_posting, w.non_public_refused,
       w.followers_limited, w.tweets_deferred, w.posted_at_off, w.expired_age_unknown,
       w.texts_refused,
       (SELECT detail->>'text_refused_because' FROM xloop.job_runs
         WHERE job = j.job AND detail ? 'text_refused_because'
           AND started_at <= $2::timestamptz
           AND started_at > $2::timestamptz - make_interval(days => $3::int)
         ORDER BY started_at DESC, id DESC LIMIT 1),
       w.other_author
  FROM unnest($1::text[]) AS j(job)
  CROSS JOIN LATERAL (
      SELECT count(*) AS runs,
             count(*) FILTER (WHERE status = 'failed') AS failed,
             coalesce(sum({0}), 0)::int8 AS skipped_lines,
             coalesce(sum({1}), 0)::int8 AS observed_before_posting,
             count(*) FILTER (WHERE detail->>'x_api_non_public_refused' = 'true')
                 AS non_public_refused,
             count(*) FILTER (WHERE detail->>'x_api_followers_rate_limited' = 'true')
                 AS followers_limited,
             count(*) FILTER (WHERE {2} > 0) AS tweets_deferred,
             coalesce(max({3}), 0)::int8 AS posted_at_off,
             coalesce(sum({4}), 0)::int8 AS expired_age_unknown,
             coalesce(sum({5}), 0)::int8 AS texts_refused,
             coalesce(max({6}), 0)::int8 AS other_author
        FROM xloop.job_runs
       WHERE job = j.job AND started_at <= $2::timestamptz
         AND started_at > $2::timestamptz - make_interval(days => $3::int)) w
  LEFT JOIN LATERAL (
      SELECT status, error, detail, started_at FROM xloop.job_runs
       WHERE job = j.job AND started_at <= $2::timestamptz
       ORDER BY started_at DESC, id DESC LIMIT 1) l ON true
)sql",
    detail_count_sql("skipped_lines"), detail_count_sql("observed_before_posting"),
    detail_count_sql("x_api_tweets_deferred"), detail_count_sql("posted_at_off"),
    detail_count_sql("expired_age_unknown"), detail_count_sql("texts_refused"),
    detail_count_sql("posts_by_another_account"));

} // namespace

std::map<std::string, job_state> job_states(db_connection& db,
                                            std::vector<std::string> const& jobs,
                                            timestamp now, int days)
{
    auto const r = db.exec(job_state_sql, jobs, now, days);
    std::map<std::string, job_state> out;
    for (int i = 0; i < r.rows(); ++i) {
        job_state s;
        if (!r.is_null(i, 1)) {
            s.last_ok_hours = r.f64(i, 1);
        }
        s.last_status = r.opt_str(i, 2).value_or("");
        s.last_error = r.opt_str(i, 3).value_or("");
        s.runs = r.i64(i, 4);
        s.failed = r.i64(i, 5);
        s.last_failure = r.opt_str(i, 6).value_or("");
        s.skipped_lines = r.i64(i, 9);
        s.observed_before_posting = r.i64(i, 10);
        s.non_public_refused = r.i64(i, 11);
        s.followers_limited = r.i64(i, 12);
        s.tweets_deferred = r.i64(i, 13);
        s.posted_at_off = r.i64(i, 14);
        s.expired_age_unknown = r.i64(i, 15);
        s.texts_refused = r.i64(i, 16);
        s.text_refused_because = r.opt_str(i, 17).value_or("");
        s.other_author = r.i64(i, 18);
        if (s.last_status == "running" && s.last_error.empty()) {
            // A row without its end: a run going on, or one that died
            // unrecorded (kill -9) whose connection is gone.
            s.last_error =
                r.boolean(i, 7)
                    ? "was abandoned: its connection is gone (killed, or the database "
                      "restarted); the job's next run marks it interrupted"
                    : fmt::format("started at {} and is still going (its connection "
                                  "is open)",
                                  stored_timestamp_text(r.str(i, 8)));
        }
        out.emplace(r.str(i, 0), std::move(s));
    }
    return out;
}

namespace {

// The command a job's runs are: plan-replies' is xloop-plan --replies.
std::string command_of(std::string const& job)
{
    return job == "plan-replies" ? "xloop-plan --replies" : "xloop-" + job;
}

} // namespace

std::string last_run_text(std::string const& job, job_state const& s)
{
    if (!s.last_ok_hours) {
        return fmt::format("{} has never run ok", command_of(job));
    }
    // "xloop-plan's last ok run", but no possessive on a command with options
    auto const command = command_of(job);
    return command.find(' ') == std::string::npos
               ? fmt::format("{}'s last ok run was {}", command,
                             ago_text(*s.last_ok_hours))
               : fmt::format("the last ok run of {} was {}", command,
                             ago_text(*s.last_ok_hours));
}

namespace {

// How many of a job's runs of the window met something (in the check's
// numbers), and what it means (in its message, when the check is ok).
void note_runs(check_result& c, char const* key, std::int64_t runs,
               std::string const& note)
{
    c.numbers[key] = runs;
    if (runs > 0 && c.status == "ok") {
        c.message += note;
    }
}

// What scrape-metrics' runs left out by choice (--skip-bad) or were refused
// (X's non-public metrics): told on an ok check, not a failure.
void add_scrape_skips(check_context const& x, job_state const& s, check_result& c)
{
    c.numbers["skipped_lines_in_window"] = s.skipped_lines;
    c.numbers["observed_before_posting_in_window"] = s.observed_before_posting;
    std::vector<std::string> skipped;
    if (s.skipped_lines > 0) {
        skipped.push_back(counted(s.skipped_lines, "bad line", "bad lines"));
    }
    if (s.observed_before_posting > 0) {
        skipped.push_back(counted(s.observed_before_posting,
                                  "record observed before its post was posted",
                                  "records observed before their post was posted"));
    }
    if (!skipped.empty() && c.status == "ok") {
        // Skipped by choice (--skip-bad), so not a failure; but metrics
        // the loop never saw.
        c.message += fmt::format("; its runs of the last {} skipped {} "
                                 "(--skip-bad; their logs name them)",
                                 x.last_days(), fmt::join(skipped, " and "));
    }
    // A request more per run, and no profile clicks to learn from.
    note_runs(c, "non_public_refused_runs_in_window", s.non_public_refused,
              fmt::format("; X refused the non-public metrics (profile clicks) in {} of "
                          "the last {}: set x_api.non_public_metrics: false not to "
                          "ask, or x_api.auth: oauth1 to read them",
                          counted(s.non_public_refused, "run", "runs"), x.last_days()));
    // Fewer follower snapshots: follows attributed with less confidence.
    note_runs(c, "followers_rate_limited_runs_in_window", s.followers_limited,
              fmt::format("; X rate-limited the follower count in {} of the last {} "
                          "(the snapshots have gaps until it lifts): set "
                          "x_api.followers_every_minutes (60 on the Free tier's 25 "
                          "lookups a day)",
                          counted(s.followers_limited, "run", "runs"), x.last_days()));
    // A wrong posted_at misplaces what is learned from the post: its hour,
    // and the follower gains attributed to it. The most one run met (each
    // post is asked for at several checkpoints).
    c.numbers["posted_at_off_in_window"] = s.posted_at_off;
    if (s.posted_at_off > 0) {
        add_warning(
            c,
            fmt::format(
                "X says {} posted at another time than posted_at says (a run of the last "
                "{}; its log names one): the poster writes another time than the "
                "posting (a local time into a timestamp without time zone, the scheduled "
                "time), and post_hour and the follower attribution read it",
                counted(s.posted_at_off, "post was", "posts were"), x.last_days()));
    }
    // Follows attributed from another account's followers: learning from
    // follows is noise, while every run is ok. The most one run met.
    c.numbers["posts_by_another_account_in_window"] = s.other_author;
    if (s.other_author > 0) {
        add_warning(
            c, fmt::format("X says {} posted by another account than the one whose "
                           "follower count xloop-scrape-metrics reads (a run of the last "
                           "{}; its log names one): the follows attributed to them are "
                           "another account's; set x_api.username to the posting "
                           "account's handle, or use its token",
                           counted(s.other_author, "post was", "posts were"),
                           x.last_days()));
    }
    // Metrics a run late: a post's checkpoint measured up to an interval after.
    note_runs(c, "tweets_deferred_runs_in_window", s.tweets_deferred,
              fmt::format("; X's rate limit left due posts for the next run in {} of the "
                          "last {} (their metrics come a run late; X's window is 15 "
                          "minutes: run it every 15 minutes to use each)",
                          counted(s.tweets_deferred, "run", "runs"), x.last_days()));
}

} // namespace

// Another program's transaction left open (a pooled client never
// released): it holds back vacuum on every table, and migrate and xloop's
// writes to the rows it changed wait for it. The tools name it when it stops
// them; this names it before.
check_result idle_transactions_check(check_context& x)
{
    double const minutes = x.cfg.validate.max_idle_transaction_minutes;
    auto const idle = idle_transactions_over(x.db, minutes);
    auto c = make("idle_transactions", "ok", "");
    c.numbers = {{"sessions", idle.count},
                 {"hidden_sessions", idle.hidden},
                 {"max_minutes", minutes}};
    if (idle.count == 0) {
        c.message = fmt::format("no session of this database has been idle in a "
                                "transaction for more than {} min",
                                minutes);
        if (idle.hidden > 0) {
            c.message += fmt::format(
                " that this role can see: it may not see the state of {} of other "
                "roles (GRANT pg_read_all_stats TO the role validate runs as shows them)",
                counted(idle.hidden, "session", "sessions"));
        }
        return c;
    }
    c.status = "warn";
    c.message = fmt::format(
        "{} {} idle in a transaction for more than {} min "
        "(validate.max_idle_transaction_minutes), left open by {} program: {}. It "
        "holds back vacuum on every table; xloop-migrate waits for it, and a write "
        "of xloop's to a row it changed waits database.lock_timeout_minutes, then "
        "exits 75. {}",
        idle.count, idle.count == 1 ? "session has been" : "sessions have been", minutes,
        idle.count == 1 ? "its" : "their", idle.named, leaked_session_hint);
    return c;
}

namespace {

// How the latest run ended (or that it has not), in one line. A skip's
// reason may begin with "skipped: " itself.
std::string latest_run_text(job_state const& s)
{
    if (s.last_status == "running") {
        return fmt::format("its latest run {}", s.last_error);
    }
    std::string_view reason = s.last_error;
    if (auto const said = s.last_status + ": "; reason.substr(0, said.size()) == said) {
        reason.remove_prefix(said.size());
    }
    return fmt::format("its latest run {}: {}", s.last_status,
                       reason.empty() ? "(no reason recorded)" : excerpt(reason, 400));
}

// The job's status from its runs alone: never ok or not ok for 3 intervals
// fails; a failed latest run or 1.5 intervals without an ok one warns.
void judge_runs(check_result& c, check_context const& x, std::string const& job,
                job_state const& s, double interval_h)
{
    if (!s.last_ok_hours && !s.last_status.empty()) {
        c.status = "fail";
        c.message =
            fmt::format("{} has never run ok; {}", command_of(job), latest_run_text(s));
    } else if (!s.last_ok_hours) {
        c.status = "fail";
        c.message =
            fmt::format("{} has never run: install cron/xloop.crontab", command_of(job));
    } else if (*s.last_ok_hours > 3 * interval_h) {
        c.status = "fail";
        // Runs that fail say why; no run since the last ok one points at cron.
        c.message = fmt::format("{}, more than 3 intervals of {}: {}",
                                last_run_text(job, s), hours_text(interval_h),
                                s.last_status == "ok" ? "check cron and its mail"
                                                      : latest_run_text(s));
    } else if (s.last_status == "failed") {
        c.status = "warn";
        c.message = fmt::format("the latest run failed: {}", excerpt(s.last_error, 400));
    } else if (*s.last_ok_hours > 1.5 * interval_h) {
        c.status = "warn";
        c.message = fmt::format("{} (runs every {})", last_run_text(job, s),
                                hours_text(interval_h));
    } else {
        c.message = last_run_text(job, s);
        if (s.failed > 0) {
            // Failures the next runs recovered from (a rate limit, an
            // outage): worth knowing, not a reason to stop.
            c.message += fmt::format("; {} of its {} runs of the last {} failed "
                                     "(latest: {})",
                                     s.failed, s.runs, x.last_days(),
                                     excerpt(s.last_failure, 100));
        }
    }
}

} // namespace

check_result job_check(check_context& x, std::string const& job, double interval_minutes)
{
    auto const& s = x.job(job);
    auto c = make("job:" + job, "ok", "");
    double const interval_h = interval_minutes / 60.0;
    c.numbers = {{"interval_minutes", interval_minutes},
                 {"last_ok_hours_ago", s.last_ok_hours ? nlohmann::json(*s.last_ok_hours)
                                                       : nlohmann::json(nullptr)},
                 {"last_status", s.last_status},
                 {"runs_in_window", s.runs},
                 {"failed_in_window", s.failed}};
    judge_runs(c, x, job, s, interval_h);
    // replies switched off (the cron line gone, the harvester stopped): the
    // job fell silent with them, as reply_opportunities says, which is no
    // fault; runs that still fail are
    if (job == "plan-replies" && c.status == "fail" && s.last_status == "ok" &&
        !x.replies_in_use()) {
        c.status = "ok";
        c.message = fmt::format("replies are not in use (no opportunity came in and no "
                                "reply was queued in the last {}); {}",
                                x.last_days(), last_run_text(job, s));
    }
    if (job == "scrape-metrics") {
        add_scrape_skips(x, s, c);
    }
    if (job == "plan" || job == "plan-replies") {
        // A model's habits cost a call each and show in no post: worth knowing.
        c.numbers["texts_refused_in_window"] = s.texts_refused;
        if (s.texts_refused > 0) {
            c.message += fmt::format("; {} of the writer's texts of the last {} were no "
                                     "post and asked for again (latest: {})",
                                     s.texts_refused, x.last_days(),
                                     excerpt(s.text_refused_because, 160));
        }
    }
    return c;
}

// The clock check from one reading of the server's clock, timed by this
// machine's before and after.
check_result clock_check(db_connection& db, config const& cfg)
{
    auto const before = clock_now();
    // the server's clock minus ours before the round trip, computed by the
    // server (exact to the microsecond, where epochs as doubles would not
    // be); less half the round trip, minus ours at its midpoint
    auto const r = db.exec("SELECT extract(epoch FROM clock_timestamp() - "
                           "$1::timestamptz)::float8",
                           format_timestamp(before));
    auto const after = clock_now();
    double const round_trip = std::chrono::duration<double>(after - before).count();
    return clock_check_of(r.f64(0, 0) - round_trip / 2, round_trip / 2,
                          cfg.metrics.max_clock_skew_minutes);
}

namespace {

// A clock difference in seconds, read at a glance.
std::string skew_text(double s)
{
    return s < 120 ? fmt::format("{:.1f} s", s) : hours_text(s / 3600);
}

} // namespace

} // namespace checks

check_result clock_check_of(double offset_s, double uncertainty_s,
                            double max_skew_minutes)
{
    check_result c{"clock", "ok", "", {}};
    c.numbers = {{"offset_seconds", std::round(offset_s * 1000) / 1000},
                 {"uncertainty_seconds", std::round(uncertainty_s * 1000) / 1000}};
    // what the reading shows at least
    double const apart = std::max(0.0, std::abs(offset_s) - uncertainty_s);
    if (apart <= 60) {
        c.message =
            fmt::format("this machine's clock and the database server's agree ({} apart)",
                        checks::skew_text(std::abs(offset_s)));
        return c;
    }
    auto const which = fmt::format("this machine's clock is {} {} the database server's",
                                   checks::skew_text(std::abs(offset_s)),
                                   offset_s > 0 ? "behind" : "ahead of");
    if (apart > std::max(60.0, max_skew_minutes * 60)) {
        c.status = "fail";
        c.message = fmt::format(
            "{}, more than metrics.max_clock_skew_minutes ({}): times the two "
            "clocks stamped compare wrong by that much (a metrics file's fresh "
            "records refused as observed in the future or before their post was "
            "posted, the ages of the queue and of the opportunities off); sync both "
            "clocks (NTP: timedatectl set-ntp true)",
            which, max_skew_minutes);
        return c;
    }
    c.status = "warn";
    c.message = fmt::format(
        "{}: the tools stamp their rows with this machine's time, other programs "
        "(the poster, the harvester) with the server's; sync both clocks (NTP: "
        "timedatectl set-ntp true)",
        which);
    return c;
}

} // namespace xloop
