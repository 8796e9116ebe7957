#pragma once

// Small text helpers shared by the library.

#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace xloop {

// Without leading and trailing spaces, tabs and line breaks.
std::string trim(std::string_view s);

// Without trailing spaces (a table's row whose last columns are empty).
std::string trim_end(std::string_view s);

// ASCII lower case (usernames, header names, classification rules).
std::string to_lower(std::string_view s);

// The first `n` characters of a text (whole UTF-8 sequences, "…" when cut),
// on one line.
std::string excerpt(std::string_view text, std::size_t n);

// An example quoted in a message: the text made valid UTF-8 (valid_utf8),
// cut to its first `n` characters ("…" when cut), spaces and line breaks kept
// (they may be why it is quoted; {:?} shows them).
std::string example_text(std::string_view text, std::size_t n);

// An ASCII control character (NUL and DEL included).
bool is_control_char(char c);

// Whether the text holds an ASCII control character (NUL included): no
// identifier (a tweet id) does, and a NUL cannot even be stored.
bool has_control_chars(std::string_view text);

// Whether it holds one other than a line break or a tab: what
// escape_controls escapes, and no text for a person holds.
bool has_stray_controls(std::string_view text);

// The text with control characters other than line breaks and tabs written as
// escapes (\r, \x1b), for a terminal: a carriage return in a value moves the
// cursor over the line, an escape sequence in data could rewrite the screen.
std::string escape_controls(std::string_view text);

// escape_controls, and line breaks as \n too: a value in one cell of a
// table (validate's checks) or one line of an account, which a line break
// would split, a forged row after it.
std::string escape_line(std::string_view text);

// How many characters (code points) a UTF-8 text holds: its width on a
// terminal, for the scripts the reports are in.
std::size_t characters(std::string_view text);

// The text in lines of at most `width` characters (code points), broken at
// spaces, never before a '%'; a word longer than that is a line of its own,
// uncut. For a terminal, whose own wrapping would start each continuation at
// column 0.
std::vector<std::string> wrap_words(std::string_view text, std::size_t width);

// `text` for a terminal `columns` wide, printed from column `indent` (what
// comes before it on its first line is the caller's): wrapped, its further
// lines indented to that column, so that a table's text stays in its own
// column. `columns` 0 (no terminal), or fewer than 30 left, leaves it one
// line for the terminal to wrap.
std::string hanging_lines(std::string const& text, std::size_t indent,
                          std::size_t columns);

// A line of a report and its line break: what follows its leading spaces
// wrapped by hanging_lines two columns in from them (a heading's words under
// its first word's, a row's note under its own).
std::string report_line(std::string const& line, std::size_t columns);

// A message of several lines (libpq's: "Connection refused\n\tIs the server
// running …", a failure per host) on one line: a break after a full stop, or
// before an indented lower-case word (the sentence goes on), is a space, any
// other "; ". For the ledger, --json and logs alike.
std::string one_line(std::string_view text);

// A text log line's message: controls escaped, and each line after the first
// indented by a tab (a writer's traceback), so that a line of the log that
// starts with a time is always one the tool wrote, never data.
std::string indent_continuations(std::string_view text);

// The code point of the well-formed UTF-8 sequence that starts at text[i],
// and its length in bytes (no overlong forms, no surrogates, at most
// U+10FFFF; NUL is U+0000); length 0 where the byte there starts none.
struct utf8_char {
    char32_t cp = 0;
    std::size_t length = 0;
};
utf8_char utf8_at(std::string_view text, std::size_t i);

// The text's characters in order: each well-formed UTF-8 sequence (valid,
// its code point), and each byte outside one alone (not valid).
struct utf8_character {
    char32_t cp = 0;
    bool valid = false;
    std::string_view bytes;
};
std::vector<utf8_character> decode_utf8(std::string_view text);

// Appends a code point (at most U+10FFFF) as UTF-8.
void append_utf8(std::string& out, char32_t cp);

// The text with every byte that is not part of a well-formed UTF-8 sequence
// (and every NUL) replaced by U+FFFD: what PostgreSQL accepts in a text column.
std::string valid_utf8(std::string_view text);

// The text with each character beyond ASCII (and NUL) as '?': what any
// database encoding can store (the ledger's messages in a LATIN1 one).
std::string ascii_only(std::string_view text);

// Whether the text is an X handle without its '@': letters, digits and
// underscores (what plan replies to; x_handle_pattern says it in SQL).
bool is_x_handle(std::string_view s);

// A length of time in hours as read at a glance: "5 min", "3.2 h", "4.1
// days"; "0 min" for a negative one.
std::string hours_text(double h);

// "1 reply", "3 replies": a count with its noun, for log lines.
std::string counted(long long n, std::string_view one, std::string_view many);

// "the last {}": "day", "3 days", "1.5 days".
std::string last_days_text(double days);

// Fills a template: each {name} becomes value(name), {{ and }} are literal
// braces. Returns why it cannot be filled (a name value() answers nullptr for,
// a brace without its pair), or an empty string with `out` filled.
std::string
fill_template(std::string_view text,
              std::function<std::string const*(std::string_view)> const& value,
              std::string& out);

} // namespace xloop
