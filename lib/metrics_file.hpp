#pragma once

// The metrics file: JSON Lines, one object a line, either a post's metrics
//   {"tweet_id": "…", "observed_at": "2026-03-02T12:00:00Z", "impressions": …,
//    "likes": …, "retweets": …, "replies": …, "quotes": …, "bookmarks": …,
//    "profile_clicks": …, "follows": …}
// (counts optional) or a follower count {"followers": …, "observed_at": …,
// "following": …, "tweets": …}. Blank lines and lines starting with '#' are
// skipped.

#include "metrics_v2.hpp"
#include "timestamp.hpp"

#include <cstddef>
#include <functional>
#include <istream>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace xloop {

struct metrics_record {
    std::string tweet_id;
    timestamp observed_at;
    post_counts counts;
    std::optional<std::int64_t> follows;
};

struct follower_record {
    timestamp observed_at;
    std::int64_t followers = 0;
    std::optional<std::int64_t> following;
    std::optional<std::int64_t> tweets;
};

struct bad_line {
    long line = 0;
    std::string reason; // "field 'likes': must be a non-negative integer (got -3)"
};

struct metrics_file_handlers {
    std::function<void(metrics_record const&)> on_metrics;
    std::function<void(follower_record const&)> on_followers;
    std::function<void()> on_export = {}; // the file is X's analytics export
};

// The largest count a field (its JSON Lines key) holds: impressions fit a
// bigint, the others the original's integer columns.
std::uint64_t count_max(std::string_view key);

// A record is well under 1 KB; a longer line is a bad line (a file that is
// not JSON Lines), read no further than this.
constexpr std::size_t max_line_bytes = std::size_t{1} << 20;

// Reads every line. A bad line throws data_error "NAME:LINE: reason" unless
// `skip_bad`, which collects it and goes on. Returns the bad lines. A record
// observed after `latest` (now plus the allowed clock skew) is a bad line.
// Plain lines (one flat object, no escapes, whole numbers) are read without
// the JSON parser; `parser_only` reads every line with it, the same records
// (the fuzzer compares the two). A file whose first line is the header of
// X's analytics export (analytics_export.hpp) is read as that, its rows
// observed at `export_time`.
std::vector<bad_line> read_metrics_file(
    std::istream& in, std::string const& name, bool skip_bad,
    metrics_file_handlers const& h, std::optional<timestamp> latest = std::nullopt,
    bool parser_only = false, std::optional<timestamp> export_time = std::nullopt);

} // namespace xloop
