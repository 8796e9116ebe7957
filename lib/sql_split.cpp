#include "sql_split.hpp"

#include <cctype>

namespace xloop {

namespace {

bool ident_char(char c)
{
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' ||
           (static_cast<unsigned char>(c) & 0x80);
}

} // namespace

// Long on purpose: one pass of a scanner whose states (quoted strings and
// identifiers, dollar quotes, line and nested block comments) share the
// position and the statement's start; a function per state would pass all
// of it around.
std::vector<sql_statement> split_sql(std::string_view s)
{
    std::vector<sql_statement> out;
    std::size_t start = std::string_view::npos; // first significant char
    int line = 1;
    int start_line = 1;
    std::size_t i = 0;
    auto mark_start = [&] {
        if (start == std::string_view::npos) {
            start = i;
            start_line = line;
        }
    };
    auto advance = [&](std::size_t to) {
        for (; i < to && i < s.size(); ++i) {
            if (s[i] == '\n') {
                ++line;
            }
        }
    };
    while (i < s.size()) {
        char const c = s[i];
        char const next = i + 1 < s.size() ? s[i + 1] : '\0';
        if (c == '-' && next == '-') {
            auto const end = s.find('\n', i);
            advance(end == std::string_view::npos ? s.size() : end);
        } else if (c == '/' && next == '*') {
            int depth = 0;
            while (i < s.size()) {
                if (s.compare(i, 2, "/*") == 0) {
                    ++depth;
                    advance(i + 2);
                } else if (s.compare(i, 2, "*/") == 0) {
                    advance(i + 2);
                    if (--depth == 0) {
                        break;
                    }
                } else {
                    advance(i + 1);
                }
            }
        } else if (c == '\'' || c == '"') {
            mark_start();
            bool const backslash = c == '\'' && i > 0 &&
                                   (s[i - 1] == 'E' || s[i - 1] == 'e') &&
                                   (i < 2 || !ident_char(s[i - 2]));
            advance(i + 1);
            while (i < s.size()) {
                if (backslash && s[i] == '\\') {
                    advance(i + 2);
                } else if (s[i] == c) {
                    if (i + 1 < s.size() && s[i + 1] == c) {
                        advance(i + 2); // doubled quote
                    } else {
                        advance(i + 1);
                        break;
                    }
                } else {
                    advance(i + 1);
                }
            }
        } else if (c == '$' && (i == 0 || !ident_char(s[i - 1])) &&
                   !std::isdigit(static_cast<unsigned char>(next))) {
            mark_start();
            auto j = i + 1;
            while (j < s.size() && ident_char(s[j])) {
                ++j;
            }
            if (j < s.size() && s[j] == '$') {
                auto const tag = s.substr(i, j - i + 1);
                auto const close = s.find(tag, j + 1);
                advance(close == std::string_view::npos ? s.size() : close + tag.size());
            } else {
                advance(i + 1);
            }
        } else if (c == ';') {
            if (start != std::string_view::npos) {
                out.push_back({std::string{s.substr(start, i - start)}, start_line});
            }
            start = std::string_view::npos;
            advance(i + 1);
        } else {
            if (!std::isspace(static_cast<unsigned char>(c))) {
                mark_start();
            }
            advance(i + 1);
        }
    }
    if (start != std::string_view::npos) {
        out.push_back({std::string{s.substr(start)}, start_line});
    }
    return out;
}

int line_of_position(sql_statement const& statement, int position)
{
    int line = statement.line;
    int chars = 0;
    for (char const c : statement.text) {
        if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) {
            ++chars; // PostgreSQL counts characters, not bytes
        }
        if (chars >= position) {
            break;
        }
        if (c == '\n') {
            ++line;
        }
    }
    return line;
}

} // namespace xloop
