#include "metrics_file.hpp"

#include "error.hpp"
#include "text.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdint>
#include <limits>
#include <set>
#include <string_view>

namespace xloop {

namespace {

struct line_error {
    std::string reason;
};

// Counts are whole numbers in [0, max]: impressions and views fit a bigint,
// the others the original's integer columns. 2⁶⁴−1 read as −1, or 1e19 cast
// to an integer, would be stored silently (or fail the whole run unnamed).
std::optional<std::int64_t> read_count(nlohmann::json const& j, char const* key)
{
    if (!j.contains(key) || j[key].is_null()) {
        return std::nullopt;
    }
    std::string_view const k{key};
    std::int64_t const max = k == "impressions" || k == "views"
                                 ? std::numeric_limits<std::int64_t>::max()
                                 : std::numeric_limits<std::int32_t>::max();
    auto const& v = j[key];
    auto const fail = [&]() -> std::optional<std::int64_t> {
        throw line_error{fmt::format(
            "field '{}': must be a non-negative integer{} (got {})", key,
            v.is_number() && v.get<double>() > 0 ? fmt::format(" no larger than {}", max)
                                                 : "",
            v.dump())};
    };
    if (v.is_number_unsigned()) {
        auto const u = v.get<std::uint64_t>();
        return u <= static_cast<std::uint64_t>(max)
                   ? std::optional{static_cast<std::int64_t>(u)}
                   : fail();
    }
    if (v.is_number_integer()) {
        auto const i = v.get<std::int64_t>();
        return i >= 0 && i <= max ? std::optional{i} : fail();
    }
    if (v.is_number_float()) {
        // whole, and below 2⁶³ before the cast (1e19 would overflow it)
        double const d = v.get<double>();
        if (d >= 0 && d == std::floor(d) && d < 9223372036854775808.0 &&
            static_cast<std::int64_t>(d) <= max) {
            return static_cast<std::int64_t>(d);
        }
        return fail();
    }
    return fail();
}

timestamp read_time(nlohmann::json const& j, std::optional<timestamp> latest)
{
    if (!j.contains("observed_at")) {
        throw line_error{"field 'observed_at' is missing"};
    }
    auto const& v = j["observed_at"];
    auto const t = v.is_string() ? parse_timestamp(v.get<std::string>()) : std::nullopt;
    if (!t) {
        throw line_error{
            fmt::format("field 'observed_at': not an ISO 8601 time (got {})", v.dump())};
    }
    if (latest && *t > *latest) {
        throw line_error{fmt::format("field 'observed_at': {} is later than now plus the "
                                     "allowed clock skew ({}, "
                                     "metrics.max_clock_skew_minutes)",
                                     format_timestamp(*t), format_timestamp(*latest))};
    }
    return *t;
}

void check_keys(nlohmann::json const& j, std::set<std::string> const& known)
{
    for (auto const& [key, value] : j.items()) {
        if (!known.count(key)) {
            throw line_error{fmt::format("unknown field '{}'", key)};
        }
    }
}

} // namespace

// Long on purpose: one loop over the lines, each record checked key by key
// where it is read, so that every bad value is named with its line and key
// and --skip-bad can skip exactly that line.
std::vector<bad_line> read_metrics_file(std::istream& in, std::string const& name,
                                        bool skip_bad, metrics_file_handlers const& h,
                                        std::optional<timestamp> latest)
{
    static std::set<std::string> const post_keys{
        "tweet_id", "observed_at", "impressions", "likes",          "retweets",
        "replies",  "quotes",      "bookmarks",   "profile_clicks", "follows"};
    static std::set<std::string> const follower_keys{"followers", "observed_at",
                                                     "following", "tweets"};
    std::vector<bad_line> bad;
    std::string text;
    long line = 0;
    while (std::getline(in, text)) {
        ++line;
        auto const first = text.find_first_not_of(" \t\r");
        if (first == std::string::npos || text[first] == '#') {
            continue;
        }
        try {
            nlohmann::json j;
            try {
                j = nlohmann::json::parse(text);
            } catch (nlohmann::json::exception const&
                         e) { // parse_error, and out_of_range: 1e401
                throw line_error{fmt::format("not valid JSON ({})", e.what())};
            }
            if (!j.is_object()) {
                throw line_error{"not a JSON object"};
            }
            if (j.contains("followers")) {
                check_keys(j, follower_keys);
                follower_record r;
                r.observed_at = read_time(j, latest);
                auto const f = read_count(j, "followers");
                if (!f) {
                    throw line_error{"field 'followers': must be a non-negative integer"};
                }
                r.followers = *f;
                r.following = read_count(j, "following");
                r.tweets = read_count(j, "tweets");
                h.on_followers(r);
                continue;
            }
            check_keys(j, post_keys);
            metrics_record r;
            if (!j.contains("tweet_id")) {
                throw line_error{
                    "field 'tweet_id' is missing (or 'followers' for a follower "
                    "count)"};
            }
            auto const& id = j["tweet_id"];
            if (id.is_string() && !id.get<std::string>().empty()) {
                r.tweet_id = id.get<std::string>();
                // a NUL cannot be stored at all; other control characters are
                // no tweet id either
                if (has_control_chars(r.tweet_id)) {
                    throw line_error{
                        "field 'tweet_id': must not contain control characters"};
                }
            } else if (id.is_number_unsigned()) {
                r.tweet_id = std::to_string(id.get<std::uint64_t>());
            } else {
                throw line_error{fmt::format(
                    "field 'tweet_id': must be a non-empty string (got {})", id.dump())};
            }
            r.observed_at = read_time(j, latest);
            r.counts.impressions = read_count(j, "impressions");
            r.counts.likes = read_count(j, "likes");
            r.counts.retweets = read_count(j, "retweets");
            r.counts.replies = read_count(j, "replies");
            r.counts.quotes = read_count(j, "quotes");
            r.counts.bookmarks = read_count(j, "bookmarks");
            r.counts.profile_clicks = read_count(j, "profile_clicks");
            r.follows = read_count(j, "follows");
            h.on_metrics(r);
        } catch (line_error const& e) {
            if (!skip_bad) {
                throw data_error{
                    fmt::format("{}:{}: {}; nothing was written (--skip-bad writes "
                                "the good lines)",
                                name, line, e.reason)};
            }
            bad.push_back({line, e.reason});
        }
    }
    return bad;
}

} // namespace xloop
