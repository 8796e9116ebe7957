#pragma once

// What scrape-metrics' two halves share: the collection (lib/scrape_metrics_job.cpp)
// puts records into an inbox and applies those of older posts; the v2 pass
// (lib/scrape_v2.cpp) merges those of the posts it writes. Both must agree on
// which posts those are and on when a record replaces stored counts.

#include "log.hpp"
#include "timestamp.hpp"

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace xloop {

class run_context;
struct metrics_config;

// Logs how long a phase took (at -v), for operators tuning a large database.
class phase_timer {
public:
    explicit phase_timer(char const* name)
        : m_name(name), m_start(std::chrono::steady_clock::now())
    {}
    long elapsed_ms() const
    {
        return static_cast<long>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                     std::chrono::steady_clock::now() - m_start)
                                     .count());
    }
    ~phase_timer()
    {
        log::debug("{} took {} ms", m_name,
                   std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::steady_clock::now() - m_start)
                       .count());
    }

private:
    char const* m_name;
    std::chrono::steady_clock::time_point m_start;
};

// Below this many rows a temp table is not analysed: the planner's estimate
// from its pages is good enough, and ANALYZE would cost more than the writes
// (a cron run every 20 minutes writes a few hundred rows).
inline constexpr std::int64_t analyze_min_rows = 1000;

// The posts whose v2 values a pass writes: posted in (write_from, write_to].
// Those posted in (posts_from, read_to] are read too, as context for sharing
// gains. The records of posts posted after merge_from wait in the inbox for
// the v2 pass, which merges each into its one write of the outcome; the
// others' are stored as they come. A run's pass: from the last
// metrics.max_age_days and a day (merge_from, the posts it collects metrics
// for) to now. A backfill (lib/v2_backfill.hpp) scores the stored outcomes
// before that in slices of as many days, each read with the posts around it
// that share its follower gains, so that its memory is a usual pass's.
struct v2_window {
    timestamp write_from;
    timestamp posts_from;
    timestamp merge_from;
    timestamp write_to;
    timestamp read_to;
};

// A run's window at `now`.
v2_window v2_window_at(timestamp now, metrics_config const& m);
v2_window v2_window_of(run_context const& run);

// A backfill's slices back to `from`, oldest first (none where `from` is
// within the run's window).
std::vector<v2_window> backfill_slices(timestamp now, metrics_config const& m,
                                       timestamp from);

// The posts the v2 pass writes: posted, on X, and posted in (from, to]. A
// record for one of them is merged into its outcome there, so each row is
// written once per run; records for other posts go through apply_inbox.
std::string v2_range(std::string_view from, std::string_view to);

// Whether a record (its columns under `r`, observed at `observed`, from
// `source`) replaces outcome o's counts: a newer observation does, an older
// one never; at the same time, one that changes something does. Any record
// replaces an outcome collected at ±infinity (another program's).
std::string record_replaces(std::string_view r, std::string_view observed,
                            std::string_view source);

// A record observed more than metrics.max_clock_skew_minutes before its post
// was posted is for another post or at a wrong time: never written. How
// much earlier counts, in seconds; whether a record observed at `observed`
// is such a one for a post posted at `posted` (false where either is
// unknown), with `skew` the seconds as SQL; and one such record, as a
// warning names it.
double clock_skew_seconds(run_context const& run);
std::string record_is_early(std::string_view observed, std::string_view posted,
                            std::string_view skew);
// The example of a record observed before its post was posted (the times
// as written by format_timestamp or stored_timestamp_text).
std::string observed_before_posting(std::string_view tweet_id, std::string_view observed,
                                    std::string_view posted);

} // namespace xloop
