#pragma once

// What xloop-validate's checks share: each reads what it judges through a
// check_context and returns a check_result. The run (validate_job.cpp) calls
// them in order; they live by subject: validate_posts.cpp (outcomes, slots,
// posted items, the queue, the learning view, the weight map),
// validate_replies.cpp, validate_job_runs.cpp (the jobs' ledger, idle
// sessions, the clock), validate_schema.cpp.

#include "timestamp.hpp"
#include "validate_job.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace xloop {

class db_connection;
struct config;

namespace checks {

struct job_state {
    std::optional<double> last_ok_hours; // how long ago, at --now
    std::string last_status;
    std::string last_error;
    std::int64_t runs = 0;   // in the window of the coverage checks
    std::int64_t failed = 0; // of those
    std::string last_failure;
    // scrape-metrics' runs of the window: file records skipped (--skip-bad)
    // as bad lines, or as observed before their post was posted.
    std::int64_t skipped_lines = 0;
    std::int64_t observed_before_posting = 0;
    std::int64_t non_public_refused = 0;  // runs X refused non-public metrics
    std::int64_t followers_limited = 0;   // runs X rate-limited the follower count
    std::int64_t tweets_deferred = 0;     // runs X's rate limit left due posts for later
    std::int64_t posted_at_off = 0;       // posts X says were posted at another time
    std::int64_t other_author = 0;        // posts X says another account posted
    std::int64_t expired_age_unknown = 0; // opportunities plan expired for want of a time
    std::int64_t texts_refused = 0;       // writer's texts plan asked for again
    std::string text_refused_because;     // the latest one's problem
};

// The number a job run's ledger detail holds under `key` within [0, max]
// (SQL numeric), or NULL where it holds anything else: SQL over a row of
// xloop.job_runs.
std::string detail_number_sql(char const* key, char const* max);

std::map<std::string, job_state> job_states(db_connection& db,
                                            std::vector<std::string> const& jobs,
                                            timestamp now, int days);
// "xloop-plan's last ok run was 2.0 h ago", or that it never ran ok.
std::string last_run_text(std::string const& job, job_state const& s);

// What the checks read: the connection, the thresholds, the window, and each
// job's state, read once (the coverage checks name the job to run, the
// job:<name> checks judge it).
struct check_context {
    db_connection& db;
    config const& cfg;
    timestamp now;
    int days;
    std::map<std::string, job_state> jobs;
    bool has_as_uuid = false;         // xloop.as_uuid, which 0014 creates
    bool schema_complete = false;     // every relation and column the tools read
    std::optional<std::string> own{}; // the account's own key, read once
    std::optional<bool> in_use{};     // replies_in_use(), read once

    // the job's state, read now if run_checks did not read it with the others
    job_state const& job(std::string const& name);
    // "the last {}": "3 days", or "day"
    std::string last_days() const;
    std::string last_run(std::string const& name);
    // account_key(own_handle()), or "" when not known
    std::string const& own_key();
    // Whether replies are in use, as reply_opportunities judges it: an
    // opportunity came in during the window (or is dated later, or waits
    // without a date), or a reply was queued in it. Read once: the reply
    // checks and job:plan-replies each ask.
    bool replies_in_use();
};

check_result make(std::string name, std::string status, std::string message);
// A warning added to a check: an ok one becomes a warning, a failing one
// stays failed; either way its message says it.
void add_warning(check_result& c, std::string_view what);
// How long before now something happened, "5 min ago"; or how far after now
// (a clock behind the database's, a --now in the past): "3.0 h in the future".
std::string ago_text(double h);
// The same of something made then: "5 min old", "dated 3.0 h in the future".
std::string old_text(double h);
// part / whole, 0 for nothing
double ratio(std::int64_t part, std::int64_t whole);

check_result v2_coverage_check(check_context& x);
check_result slot_coverage_check(check_context& x);
check_result posted_items_check(check_context& x);
check_result queue_check(check_context& x);
check_result learning_view_check(check_context& x);
check_result weight_map_check(check_context& x);
check_result reply_priorities_check(check_context& x);
check_result reply_opportunities_check(check_context& x);
check_result idle_transactions_check(check_context& x);
check_result job_check(check_context& x, std::string const& job, double interval_minutes);
check_result clock_check(db_connection& db, config const& cfg);

} // namespace checks

} // namespace xloop
