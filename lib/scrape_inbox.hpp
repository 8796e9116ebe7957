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

namespace xloop {

class run_context;

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

// The posts whose v2 values a run writes: posted after write_from. Those
// posted since posts_from are read too, as context for sharing gains.
struct v2_window {
    timestamp write_from;
    timestamp posts_from;
};

v2_window v2_window_of(run_context const& run);

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
