#include "analytics_export.hpp"

#include "error.hpp"
#include "interrupt.hpp"
#include "json_text.hpp"
#include "text.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstdint>

namespace xloop {

namespace {

// Where a count of the export goes, by the names the two exports give it
// (lower case) and its JSON Lines key (its largest value: count_max).
struct count_column {
    std::array<std::string_view, 2> names;
    std::string_view key;
    std::optional<std::int64_t> post_counts::*count = nullptr; // or the follows
};

constexpr std::array<count_column, 7> count_columns{{
    {{"impressions", "impressions"}, "impressions", &post_counts::impressions},
    {{"likes", "likes"}, "likes", &post_counts::likes},
    {{"reposts", "retweets"}, "retweets", &post_counts::retweets},
    {{"replies", "replies"}, "replies", &post_counts::replies},
    {{"bookmarks", "bookmarks"}, "bookmarks", &post_counts::bookmarks},
    {{"profile visits", "user profile clicks"},
     "profile_clicks",
     &post_counts::profile_clicks},
    {{"new follows", "follows"}, "follows", nullptr},
}};

constexpr std::array<std::string_view, 2> id_names{"post id", "tweet id"};

// What is wrong with a row (its line is the caller's to add).
struct row_error {
    std::string reason;
};

// The column of the header named one of `names`, if any.
std::optional<std::size_t> column_of(std::vector<std::string> const& header,
                                     std::array<std::string_view, 2> const& names)
{
    for (std::size_t i = 0; i < header.size(); ++i) {
        if (header[i] == names[0] || header[i] == names[1]) {
            return i;
        }
    }
    return std::nullopt;
}

// Digits grouped by thousands ("12,345", as a spreadsheet shows them) without
// their commas; any other text as it is.
std::string ungrouped(std::string const& text)
{
    auto const end = std::min(text.find('.'), text.size());
    auto const first_comma = text.find(',');
    if (first_comma == std::string::npos || first_comma == 0 || first_comma > 3 ||
        first_comma >= end) {
        return text;
    }
    std::string out = text.substr(0, first_comma);
    for (auto i = first_comma; i < end; i += 4) {
        if (text[i] != ',' || i + 4 > end ||
            text.substr(i + 1, 3).find_first_not_of("0123456789") != std::string::npos) {
            return text;
        }
        out += text.substr(i + 1, 3);
    }
    return out + text.substr(end);
}

// A count as the export writes it: digits (an older export wrote "12.0",
// a spreadsheet "12,345"; with `decimal_comma`, a semicolon-separated file,
// "12.345" and "12,0"), empty or "-" where it has none.
std::optional<std::int64_t> read_count(std::string const& raw, std::string_view column,
                                       std::int64_t max, bool decimal_comma)
{
    auto const given = trim(raw);
    auto swapped = given;
    if (decimal_comma) { // "12.345" and "12,0" read as "12,345" and "12.0"
        for (auto& c : swapped) {
            c = c == '.' ? ',' : c == ',' ? '.' : c;
        }
    }
    auto const text = ungrouped(swapped);
    if (text.empty() || text == "-") {
        return std::nullopt;
    }
    auto const whole = text.substr(0, text.find('.'));
    bool const zeros_after =
        text.size() == whole.size() ||
        text.find_first_not_of('0', whole.size() + 1) == std::string::npos;
    bool const digits = !whole.empty() && whole.size() <= 19 &&
                        whole.find_first_not_of("0123456789") == std::string::npos;
    if (digits && zeros_after) {
        auto const v = std::stoull(whole);
        if (v <= static_cast<std::uint64_t>(max)) {
            return static_cast<std::int64_t>(v);
        }
    }
    throw row_error{
        fmt::format("column '{}': must be a non-negative integer{} (got {})", column,
                    digits && zeros_after ? fmt::format(" no larger than {}", max) : "",
                    json_text(excerpt(given, 40)))};
}

// A post id as the export writes it; a spreadsheet that saved the file wrote
// it as a rounded number ("1.86134E+18"), which names no post.
std::string read_post_id(std::string const& raw, std::string_view column)
{
    auto id = trim(raw);
    if (!id.empty() && id.size() <= 19 &&
        id.find_first_not_of("0123456789") == std::string::npos) {
        return id;
    }
    bool const rounded = id.find_first_of("eE") != std::string::npos &&
                         id.find_first_not_of("0123456789.,eE+-") == std::string::npos;
    throw row_error{fmt::format(
        "column '{}': not an X post id (1 to 19 digits; got {}){}", column,
        json_text(excerpt(id, 40)),
        rounded ? ": a spreadsheet rounded it when it saved the file; export the file "
                  "again from X and give it as it was downloaded"
                : "")};
}

} // namespace

std::optional<std::vector<std::string>> csv_fields(std::string_view text, char separator)
{
    std::vector<std::string> out(1);
    bool quoted = false;
    for (std::size_t i = 0; i < text.size(); ++i) {
        char const c = text[i];
        if (quoted) {
            if (c != '"') {
                out.back() += c;
            } else if (i + 1 < text.size() && text[i + 1] == '"') {
                out.back() += '"';
                ++i;
            } else {
                quoted = false;
            }
        } else if (c == '"') {
            quoted = true;
        } else if (c == separator) {
            out.emplace_back();
        } else if (c != '\r' || i + 1 != text.size()) {
            out.back() += c; // (a CRLF line's \r is the line break's)
        }
    }
    if (quoted) {
        return std::nullopt;
    }
    return out;
}

std::optional<analytics_export_columns> analytics_export_header(std::string_view line)
{
    for (char const separator : csv_separators) {
        auto const fields = csv_fields(line, separator);
        if (!fields || fields->size() < 2) {
            continue;
        }
        analytics_export_columns out;
        out.separator = separator;
        std::vector<std::string> names;
        for (auto const& f : *fields) {
            out.shown.push_back(trim(f));
            names.push_back(to_lower(out.shown.back()));
        }
        auto const id = column_of(names, id_names);
        if (!id) {
            continue;
        }
        out.id = *id;
        for (auto const& c : count_columns) {
            out.counts.push_back(column_of(names, c.names));
        }
        return out;
    }
    return std::nullopt;
}

namespace {

// One row's record; throws row_error naming the column of a bad field.
metrics_record export_row(std::optional<std::vector<std::string>> const& fields,
                          analytics_export_columns const& columns, timestamp observed_at)
{
    auto const& shown = columns.shown;
    if (!fields || fields->size() != shown.size()) {
        throw row_error{fmt::format("{} fields where the header has {}",
                                    fields ? fields->size() : 0, shown.size())};
    }
    metrics_record r;
    r.tweet_id = read_post_id((*fields)[columns.id], shown[columns.id]);
    r.observed_at = observed_at;
    for (std::size_t k = 0; k < count_columns.size(); ++k) {
        if (auto const at = columns.counts[k]) {
            auto const& c = count_columns[k];
            auto const v = read_count((*fields)[*at], shown[*at],
                                      static_cast<std::int64_t>(count_max(c.key)),
                                      columns.separator == ';');
            (c.count ? r.counts.*c.count : r.follows) = v;
        }
    }
    return r;
}

} // namespace

void read_analytics_export(line_reader& lines, std::string const& name,
                           analytics_export_columns const& columns, long& line,
                           timestamp observed_at,
                           std::function<void(long, std::string)> const& bad_row,
                           metrics_file_handlers const& h)
{
    std::string record;
    std::size_t quotes = 0; // in the record so far: odd while a quoted field is open
    long first = 0;
    std::string_view text;
    for (;;) {
        auto const state = lines.next(text);
        throw_if_interrupted();
        if (state == line_state::end) {
            if (!record.empty()) {
                // what follows is nothing: --skip-bad has nothing to skip to
                throw data_error{fmt::format("{}:{}: a quoted field is not closed by the "
                                             "file's end; nothing was written",
                                             name, first)};
            }
            return;
        }
        ++line;
        if (state == line_state::failed) {
            throw data_error{fmt::format("{}:{}: the read failed (a disk or network "
                                         "error?); nothing was written",
                                         name, line)};
        }
        if (state == line_state::too_long ||
            record.size() + text.size() > max_line_bytes) {
            throw data_error{fmt::format("{}:{}: a row longer than {} bytes (a quoted "
                                         "field never closed?); nothing was written",
                                         name, record.empty() ? line : first,
                                         max_line_bytes)};
        }
        if (record.empty()) {
            if (trim(text).empty()) {
                continue;
            }
            first = line;
        } else {
            record += '\n';
        }
        record += text;
        // counted, not parsed, line by line: a row of many lines is parsed once
        quotes += static_cast<std::size_t>(std::count(text.begin(), text.end(), '"'));
        if (quotes % 2 != 0) {
            continue; // a post's text with line breaks: the row goes on
        }
        auto const fields = csv_fields(record, columns.separator);
        record.clear();
        quotes = 0;
        metrics_record r;
        try {
            r = export_row(fields, columns, observed_at);
        } catch (row_error const& e) {
            bad_row(first, e.reason);
            continue;
        }
        h.on_metrics(r);
    }
}

} // namespace xloop
