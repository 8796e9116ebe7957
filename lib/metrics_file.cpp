#include "metrics_file.hpp"

#include "analytics_export.hpp"
#include "error.hpp"
#include "interrupt.hpp"
#include "json_text.hpp"
#include "line_reader.hpp"
#include "nearest.hpp"
#include "text.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string_view>

namespace xloop {

namespace {

struct line_error {
    std::string reason;
};

// The fields of a line, in the order of `field_names`.
enum field : std::size_t {
    f_tweet_id,
    f_observed_at,
    f_impressions,
    f_likes,
    f_retweets,
    f_replies,
    f_quotes,
    f_bookmarks,
    f_profile_clicks,
    f_follows,
    f_followers,
    f_following,
    f_tweets,
    field_count
};

constexpr std::array<std::string_view, field_count> field_names{
    "tweet_id",  "observed_at", "impressions", "likes",          "retweets",
    "replies",   "quotes",      "bookmarks",   "profile_clicks", "follows",
    "followers", "following",   "tweets"};

// Whether a field belongs to a follower count's line or a post's.
bool belongs(field f, bool followers)
{
    return followers ? f == f_observed_at || f >= f_followers : f <= f_follows;
}

// A count within count_max: 2⁶⁴−1 read as −1, or 1e19 cast to an integer,
// would be stored silently (or fail the whole run unnamed).
std::optional<std::int64_t> read_count(nlohmann::json const& j, char const* key)
{
    if (!j.contains(key) || j[key].is_null()) {
        return std::nullopt;
    }
    auto const max = static_cast<std::int64_t>(count_max(key));
    auto const& v = j[key];
    auto const fail = [&]() -> std::optional<std::int64_t> {
        throw line_error{fmt::format(
            "field '{}': must be a non-negative integer{} (got {})", key,
            v.is_number() && v.get<double>() > 0 ? fmt::format(" no larger than {}", max)
                                                 : "",
            json_text(v))};
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
        throw line_error{fmt::format("field 'observed_at': not an ISO 8601 time of the "
                                     "years 1900 to 2199 (got {})",
                                     json_text(v))};
    }
    if (latest && *t > *latest) {
        throw line_error{fmt::format("field 'observed_at': {} is later than now plus the "
                                     "allowed clock skew ({}, "
                                     "metrics.max_clock_skew_minutes)",
                                     format_timestamp(*t), format_timestamp(*latest))};
    }
    return *t;
}

struct flat_value {
    enum { k_absent, k_null, k_number, k_string } kind = k_absent;
    std::uint64_t number = 0;
    std::string_view text;
};

using flat_line = std::array<flat_value, field_count>;

bool is_json_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

// A string without escapes, control characters or non-ASCII bytes, from the
// opening quote at s[i]; leaves i after the closing quote.
bool scan_plain_string(std::string_view s, std::size_t& i, std::string_view& out)
{
    std::size_t const start = ++i;
    for (; i < s.size(); ++i) {
        auto const c = static_cast<unsigned char>(s[i]);
        if (c == '"') {
            out = s.substr(start, i - start);
            ++i;
            return true;
        }
        if (c == '\\' || c < 0x20 || c >= 0x80) {
            return false;
        }
    }
    return false;
}

// One value of a flat line at s[i]: a plain string, an unsigned integer of
// at most 19 digits, or null; i moves past it.
bool scan_flat_value(std::string_view s, std::size_t& i, flat_value& value)
{
    if (s[i] == '"') {
        if (!scan_plain_string(s, i, value.text)) {
            return false;
        }
        value.kind = flat_value::k_string;
    } else if (s[i] >= '0' && s[i] <= '9') {
        std::size_t const start = i;
        for (; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i) {
            value.number = value.number * 10 + static_cast<std::uint64_t>(s[i] - '0');
        }
        // no leading zero (invalid JSON), no fraction or exponent, no overflow
        if ((s[start] == '0' && i - start > 1) || i - start > 19 ||
            (i < s.size() && (s[i] == '.' || s[i] == 'e' || s[i] == 'E'))) {
            return false;
        }
        value.kind = flat_value::k_number;
    } else if (s.substr(i, 4) == "null") {
        i += 4;
        value.kind = flat_value::k_null;
    } else {
        return false;
    }
    return true;
}

// The common line, read without building a JSON document: one flat object of
// known fields, each once, whose values are plain strings, unsigned integers
// of at most 19 digits or null. Anything else returns false and is left to
// the JSON parser, which reads it (the same records) or names what is wrong.
// 10⁵ lines took 0.19 s through the parser, as long as the COPY they feed.
bool scan_flat_line(std::string_view s, flat_line& v)
{
    std::size_t i = 0;
    auto const skip_space = [&] {
        while (i < s.size() && is_json_space(s[i])) {
            ++i;
        }
    };
    skip_space();
    if (i >= s.size() || s[i] != '{') {
        return false;
    }
    ++i;
    for (;;) {
        skip_space();
        std::string_view key;
        if (i >= s.size() || s[i] != '"' || !scan_plain_string(s, i, key)) {
            return false;
        }
        auto const f = std::find(field_names.begin(), field_names.end(), key);
        if (f == field_names.end()) {
            return false;
        }
        auto& value = v[static_cast<std::size_t>(f - field_names.begin())];
        if (value.kind != flat_value::k_absent) {
            return false;
        }
        skip_space();
        if (i >= s.size() || s[i] != ':') {
            return false;
        }
        ++i;
        skip_space();
        if (i >= s.size()) {
            return false;
        }
        if (!scan_flat_value(s, i, value)) {
            return false;
        }
        skip_space();
        if (i < s.size() && s[i] == ',') {
            ++i;
            continue;
        }
        if (i < s.size() && s[i] == '}') {
            ++i;
            break;
        }
        return false;
    }
    skip_space();
    return i == s.size();
}

// A count of a flat line as read_count reads it; false where read_count
// would refuse it.
bool flat_count(flat_value const& v, field f, std::optional<std::int64_t>& out)
{
    if (v.kind == flat_value::k_absent || v.kind == flat_value::k_null) {
        out.reset();
        return true;
    }
    if (v.kind != flat_value::k_number || v.number > count_max(field_names[f])) {
        return false;
    }
    out = static_cast<std::int64_t>(v.number);
    return true;
}

// A flat line's record, handed on; false (nothing handed on) where the JSON
// parser's path would refuse the line or read it otherwise.
bool read_flat_line(flat_line const& v, std::optional<timestamp> latest,
                    metrics_file_handlers const& h)
{
    auto const& at = v[f_observed_at];
    if (at.kind != flat_value::k_string) {
        return false;
    }
    auto const t = parse_timestamp(at.text);
    if (!t || (latest && *t > *latest)) {
        return false;
    }
    bool const followers = v[f_followers].kind != flat_value::k_absent;
    for (std::size_t f = 0; f < field_count; ++f) {
        if (v[f].kind != flat_value::k_absent && !belongs(field(f), followers)) {
            return false;
        }
    }
    if (followers) {
        follower_record r;
        r.observed_at = *t;
        std::optional<std::int64_t> followers;
        if (!flat_count(v[f_followers], f_followers, followers) || !followers ||
            !flat_count(v[f_following], f_following, r.following) ||
            !flat_count(v[f_tweets], f_tweets, r.tweets)) {
            return false;
        }
        r.followers = *followers;
        h.on_followers(r);
        return true;
    }
    metrics_record r;
    auto const& id = v[f_tweet_id];
    if (id.kind == flat_value::k_string && !id.text.empty() &&
        !has_control_chars(id.text)) {
        r.tweet_id = id.text;
    } else if (id.kind == flat_value::k_number) {
        r.tweet_id = std::to_string(id.number);
    } else {
        return false;
    }
    r.observed_at = *t;
    if (!flat_count(v[f_impressions], f_impressions, r.counts.impressions) ||
        !flat_count(v[f_likes], f_likes, r.counts.likes) ||
        !flat_count(v[f_retweets], f_retweets, r.counts.retweets) ||
        !flat_count(v[f_replies], f_replies, r.counts.replies) ||
        !flat_count(v[f_quotes], f_quotes, r.counts.quotes) ||
        !flat_count(v[f_bookmarks], f_bookmarks, r.counts.bookmarks) ||
        !flat_count(v[f_profile_clicks], f_profile_clicks, r.counts.profile_clicks) ||
        !flat_count(v[f_follows], f_follows, r.follows)) {
        return false;
    }
    h.on_metrics(r);
    return true;
}

// For an unknown field: the nearest name, else every name (an X API
// answer's 'id' and 'public_metrics' are near none).
std::string fields_meant(std::string const& key)
{
    if (auto hint = nearest_hint(key, {field_names.begin(), field_names.end()});
        !hint.empty()) {
        return hint;
    }
    return fmt::format(
        " (a post's fields: {}; a follower count's: {})",
        fmt::join(field_names.begin(), field_names.begin() + f_followers, ", "),
        "observed_at, followers, following, tweets");
}

void check_keys(nlohmann::json const& j, bool followers)
{
    for (auto const& [key, value] : j.items()) {
        auto const f = std::find(field_names.begin(), field_names.end(), key);
        if (f == field_names.end()) {
            throw line_error{fmt::format("unknown field '{}'{}", key, fields_meant(key))};
        }
        // a post's field beside 'followers' (or the reverse) is a known name
        // on the wrong kind of line: say so, not "unknown"
        if (!belongs(field(f - field_names.begin()), followers)) {
            throw line_error{
                followers ? fmt::format("field '{}' is a post's, and this line is a "
                                        "follower count (it has 'followers'): a post's "
                                        "metrics and the account's follower count go on "
                                        "lines of their own",
                                        key)
                          : fmt::format("field '{}' belongs on a follower count's line "
                                        "(one with 'followers'), not a post's",
                                        key)};
        }
    }
}

// A line as one JSON object, refusing a field given twice (not read as
// whichever came last); an array or a pretty-printed file is named as such.
nlohmann::json parse_json_object(std::string_view text)
{
    auto const first = text.find_first_not_of(" \t\r");
    bool const array = first != std::string_view::npos && text[first] == '[';
    char const* const array_hint = "a JSON array, not one object per line (JSON Lines): "
                                   "jq -c '.[]' FILE converts it";
    // A field given twice is refused, not read as whichever came last.
    std::vector<std::string> keys;
    auto const once = [&keys](int depth, nlohmann::json::parse_event_t event,
                              nlohmann::json& parsed) {
        if (depth == 1 && event == nlohmann::json::parse_event_t::key) {
            auto const& key = parsed.get_ref<std::string const&>();
            if (std::find(keys.begin(), keys.end(), key) != keys.end()) {
                throw line_error{fmt::format("field '{}' is given twice", key)};
            }
            keys.push_back(key);
        }
        return true;
    };
    nlohmann::json j;
    try {
        j = nlohmann::json::parse(text.begin(), text.end(), once);
    } catch (nlohmann::json::exception const& e) { // parse_error, and out_of_range: 1e401
        if (array) {
            throw line_error{array_hint};
        }
        throw line_error{fmt::format(
            "not valid JSON ({}){}", e.what(),
            first != std::string_view::npos &&
                    text.substr(first, text.find_last_not_of(" \t\r") + 1 - first) == "{"
                ? "; one object per line, not pretty-printed: jq -c . FILE puts each on "
                  "one line"
                : "")};
    }
    if (!j.is_object()) {
        throw line_error{array ? array_hint : "not a JSON object"};
    }
    return j;
}

follower_record follower_record_of(nlohmann::json const& j,
                                   std::optional<timestamp> latest)
{
    check_keys(j, true);
    follower_record r;
    r.observed_at = read_time(j, latest);
    auto const f = read_count(j, "followers");
    if (!f) {
        throw line_error{"field 'followers': must be a non-negative integer"};
    }
    r.followers = *f;
    r.following = read_count(j, "following");
    r.tweets = read_count(j, "tweets");
    return r;
}

metrics_record metrics_record_of(nlohmann::json const& j, std::optional<timestamp> latest)
{
    check_keys(j, false);
    metrics_record r;
    if (!j.contains("tweet_id")) {
        throw line_error{"field 'tweet_id' is missing (or 'followers' for a follower "
                         "count)"};
    }
    auto const& id = j["tweet_id"];
    if (id.is_string() && !id.get<std::string>().empty()) {
        r.tweet_id = id.get<std::string>();
        // a NUL cannot be stored at all; other control characters are no
        // tweet id either
        if (has_control_chars(r.tweet_id)) {
            throw line_error{"field 'tweet_id': must not contain control characters"};
        }
    } else if (id.is_number_unsigned()) {
        r.tweet_id = std::to_string(id.get<std::uint64_t>());
    } else {
        throw line_error{fmt::format(
            "field 'tweet_id': must be a non-empty string (got {})", json_text(id))};
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
    return r;
}

// The record of a line the fast path did not take, through the JSON parser:
// every value checked where it is read, so that a bad one is named by its
// key (line_error).
void read_json_line(std::string_view text, std::optional<timestamp> latest,
                    metrics_file_handlers const& h)
{
    auto const j = parse_json_object(text);
    if (j.contains("followers")) {
        h.on_followers(follower_record_of(j, latest));
    } else {
        h.on_metrics(metrics_record_of(j, latest));
    }
}

// What a file whose first line is `first` is, when it is no text of lines
// to read (a compressed file, a spreadsheet, UTF-16), with what to do.
std::optional<std::string> not_lines_of_text(std::string_view first)
{
    auto const starts = [&](std::string_view magic) {
        return first.substr(0, magic.size()) == magic;
    };
    if (starts("\x1F\x8B")) {
        return "a gzip-compressed file, not JSON Lines or CSV: zcat FILE | "
               "xloop-scrape-metrics --input - reads it";
    }
    if (starts("PK\x03\x04")) {
        return "a zip archive (a spreadsheet's .xlsx?), not JSON Lines or CSV: save or "
               "export it as CSV, or unzip it";
    }
    if (starts("\xFF\xFE") || starts("\xFE\xFF")) {
        return "UTF-16 text (a spreadsheet's \"Unicode text\"?), not UTF-8: iconv -f "
               "UTF-16 -t UTF-8 FILE converts it";
    }
    if (first.find('\0') != std::string_view::npos) {
        return "its first line holds NUL bytes, which no JSON Lines or CSV text does "
               "(UTF-16 without its byte order mark? iconv -f UTF-16LE -t UTF-8 FILE "
               "converts that)";
    }
    return std::nullopt;
}

} // namespace

std::uint64_t count_max(std::string_view key)
{
    return key == field_names[f_impressions] ? std::numeric_limits<std::int64_t>::max()
                                             : std::numeric_limits<std::int32_t>::max();
}

// One loop over the lines; a bad line is named with its line and key, and
// --skip-bad skips exactly that line. Long on purpose: each branch of the
// loop ends one line (a failed read, a line too long, a comment, X's CSV
// export, a flat or a nested JSON record) and shares the line number and
// the bad lines with the others.
std::vector<bad_line> read_metrics_file(std::istream& in, std::string const& name,
                                        bool skip_bad, metrics_file_handlers const& h,
                                        std::optional<timestamp> latest, bool parser_only,
                                        std::optional<timestamp> export_time)
{
    std::vector<bad_line> bad;
    auto const bad_line_found = [&](long at, std::string reason) {
        if (!skip_bad) {
            throw data_error{fmt::format("{}:{}: {}; nothing was written (--skip-bad "
                                         "writes the good lines)",
                                         name, at, reason)};
        }
        bad.push_back({at, std::move(reason)});
    };
    line_reader lines{in, max_line_bytes};
    std::string_view text;
    long line = 0;
    bool content_seen = false;
    for (;;) {
        auto const state = lines.next(text);
        // a read a signal stopped ends nothing: the run stops (exit 75)
        throw_if_interrupted();
        if (state == line_state::end) {
            break;
        }
        ++line;
        if (state == line_state::failed) {
            // what follows is unknown, so --skip-bad cannot skip it
            throw data_error{fmt::format("{}:{}: the read failed (a disk or network "
                                         "error?); nothing was written",
                                         name, line)};
        }
        if (state == line_state::too_long) {
            bad_line_found(line, fmt::format("longer than {} bytes: not one record per "
                                             "line (a JSON array? jq -c '.[]' FILE "
                                             "converts it)",
                                             max_line_bytes));
            continue;
        }
        if (line == 1) {
            // a whole file in another form: said once, whatever --skip-bad
            // says (it would skip every line and call the run a success)
            if (auto const why = not_lines_of_text(text)) {
                throw data_error{fmt::format("{}: {}; nothing was written", name, *why)};
            }
        }
        constexpr std::string_view bom = "\xEF\xBB\xBF"; // as Windows tools write
        if (line == 1 && text.substr(0, bom.size()) == bom) {
            text.remove_prefix(bom.size());
        }
        auto const first = text.find_first_not_of(" \t\r");
        if (first == std::string_view::npos || text[first] == '#') {
            continue;
        }
        // a first line that is no JSON may be a CSV's header
        bool const csv = !content_seen && text[first] != '{' && text[first] != '[';
        content_seen = true;
        if (auto const header = csv ? analytics_export_header(text) : std::nullopt) {
            if (!export_time) {
                throw data_error{fmt::format("{}: X's analytics export, whose rows need "
                                             "the time it was made",
                                             name)};
            }
            if (h.on_export) {
                h.on_export();
            }
            read_analytics_export(lines, name, *header, line, *export_time,
                                  bad_line_found, h);
            return bad;
        }
        // the header's fields as the separator that splits it most gives them
        std::optional<std::vector<std::string>> fields;
        for (char const separator : csv ? csv_separators : std::string_view{}) {
            auto f = csv_fields(text, separator);
            if (f && (!fields || f->size() > fields->size())) {
                fields = std::move(f);
            }
        }
        if (fields && fields->size() > 2) {
            constexpr char const* why =
                "a CSV header without a 'Post id' or 'Tweet id' "
                "column: neither X's analytics export (Content: "
                "one row a post) nor JSON Lines (one {…} object a "
                "line)";
            // names alone: another CSV (X's overview, a row a day), whose
            // every row --skip-bad would skip, calling the run ok; a line
            // with JSON's marks is a broken record, skipped alone
            if (std::none_of(fields->begin(), fields->end(), [](auto const& f) {
                    return f.find_first_of("{}:") != std::string::npos;
                })) {
                throw data_error{
                    fmt::format("{}:{}: {}; nothing was written", name, line, why)};
            }
            bad_line_found(line, why);
            continue;
        }
        if (flat_line v;
            !parser_only && scan_flat_line(text, v) && read_flat_line(v, latest, h)) {
            continue;
        }
        try {
            read_json_line(text, latest, h);
        } catch (line_error const& e) {
            bad_line_found(line, e.reason);
        }
    }
    return bad;
}

} // namespace xloop
