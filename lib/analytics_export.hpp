#pragma once

// X's analytics export (x.com/i/account_analytics, Export data, Content): a
// CSV of the account's posts, one a row, each with its counts up to the
// export, the follows it brought among them ("New follows"), which the API
// does not give. The older export (analytics.twitter.com) names its columns
// otherwise ("Tweet id", "retweets", "user profile clicks", "follows"); both
// are read. Neither says when it was made: every row is observed at the time
// the caller gives.

#include "line_reader.hpp"
#include "metrics_file.hpp"
#include "timestamp.hpp"

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace xloop {

// The fields of one CSV record (RFC 4180: a field holding the separator, a
// quote or a line break is quoted, a quote inside doubled); nullopt while a
// quoted field is still open at the text's end (the record goes on in the
// next line).
std::optional<std::vector<std::string>> csv_fields(std::string_view text,
                                                   char separator = ',');

// The separators a CSV is read with: X's comma; a spreadsheet that saved it
// in a locale whose decimal mark is the comma wrote semicolons (and grouped
// thousands by full stops), as "Unicode text" tabs.
inline constexpr std::string_view csv_separators = ",;\t";

// The export's columns: as the file names them (for messages), the post id's,
// and each count's where the file has it (analytics_export.cpp's order), and
// the separator its header was read with.
struct analytics_export_columns {
    std::vector<std::string> shown;
    std::size_t id = 0;
    std::vector<std::optional<std::size_t>> counts;
    char separator = ',';
};

// The columns, where a file's first line is the export's header: a CSV with
// a "Post id" (or "Tweet id") column, its fields separated by one of
// csv_separators.
std::optional<analytics_export_columns> analytics_export_header(std::string_view line);

// Reads the rows after the header from `lines` (`line` is the header's line
// number, and then the last line read), each a metrics record observed at
// `observed_at`. A bad row goes to `bad_row` with its first line and the
// reason, which throws or keeps it; a read that cannot go on (a failed read,
// a quote never closed) throws data_error naming the file `name` and line.
void read_analytics_export(line_reader& lines, std::string const& name,
                           analytics_export_columns const& columns, long& line,
                           timestamp observed_at,
                           std::function<void(long, std::string)> const& bad_row,
                           metrics_file_handlers const& h);

} // namespace xloop
