#include "text.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

namespace xloop {

std::string trim(std::string_view s)
{
    auto const b = s.find_first_not_of(" \t\r\n");
    if (b == std::string_view::npos) {
        return {};
    }
    return std::string{s.substr(b, s.find_last_not_of(" \t\r\n") - b + 1)};
}

std::string trim_end(std::string_view s)
{
    return std::string{s.substr(0, s.find_last_not_of(' ') + 1)};
}

std::string to_lower(std::string_view s)
{
    std::string out{s};
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
}

namespace {

// The first `n` characters of a text (whole UTF-8 sequences), "…" when cut.
std::string first_chars(std::string_view text, std::size_t n)
{
    std::size_t chars = 0;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80 && ++chars > n) {
            std::string out{text.substr(0, i)};
            out.append("…");
            return out;
        }
    }
    return std::string{text};
}

} // namespace

std::string excerpt(std::string_view text, std::size_t n)
{
    auto out = first_chars(text, n);
    std::replace(out.begin(), out.end(), '\n', ' ');
    return trim(out);
}

std::string example_text(std::string_view text, std::size_t n)
{
    return first_chars(valid_utf8(text), n);
}

bool is_control_char(char c)
{
    return static_cast<unsigned char>(c) < 0x20 || c == 0x7f;
}

bool has_control_chars(std::string_view text)
{
    return std::any_of(text.begin(), text.end(), is_control_char);
}

namespace {

bool is_stray_control(char c)
{
    return is_control_char(c) && c != '\n' && c != '\t';
}

} // namespace

bool has_stray_controls(std::string_view text)
{
    return std::any_of(text.begin(), text.end(), is_stray_control);
}

namespace {

// The controls escaped, and each line break written as `line_break`.
std::string escaped(std::string_view text, std::string_view line_break)
{
    std::string out;
    out.reserve(text.size());
    for (char const c : text) {
        if (c == '\n') {
            out += line_break;
        } else if (!is_stray_control(c)) {
            out += c;
        } else if (c == '\r') {
            out += "\\r";
        } else {
            out += fmt::format("\\x{:02x}", static_cast<unsigned char>(c));
        }
    }
    return out;
}

} // namespace

std::string escape_controls(std::string_view text)
{
    return escaped(text, "\n");
}

std::string escape_line(std::string_view text)
{
    return escaped(text, "\\n");
}

std::size_t characters(std::string_view text)
{
    return static_cast<std::size_t>(std::count_if(
        text.begin(), text.end(), [](char c) { return (c & 0xC0) != 0x80; }));
}

std::vector<std::string> wrap_words(std::string_view text, std::size_t width)
{
    std::vector<std::string> lines;
    std::string line;
    std::size_t line_chars = 0;
    std::size_t i = 0;
    while (i < text.size()) {
        auto end = std::min(text.find(' ', i), text.size());
        // a unit goes with its number: "8 %", never "8" at a line's end
        while (end + 1 < text.size() && text[end + 1] == '%') {
            end = std::min(text.find(' ', end + 1), text.size());
        }
        auto const word = text.substr(i, end - i);
        i = end + 1;
        if (word.empty()) {
            continue;
        }
        auto const n = characters(word);
        if (line_chars > 0 && line_chars + 1 + n > width) {
            lines.push_back(std::move(line));
            line.clear();
            line_chars = 0;
        }
        if (line_chars > 0) {
            line += ' ';
            ++line_chars;
        }
        line += word;
        line_chars += n;
    }
    if (!line.empty() || lines.empty()) {
        lines.push_back(std::move(line));
    }
    return lines;
}

std::string hanging_lines(std::string const& text, std::size_t indent,
                          std::size_t columns)
{
    constexpr std::size_t narrowest = 30;
    if (columns < indent + narrowest) {
        return text;
    }
    auto const lines = wrap_words(text, columns - indent);
    std::string out = lines.front();
    for (std::size_t i = 1; i < lines.size(); ++i) {
        out += fmt::format("\n{:{}}{}", "", indent, lines[i]);
    }
    return out;
}

std::string report_line(std::string const& line, std::size_t columns)
{
    auto const indent = line.find_first_not_of(' ');
    if (indent == std::string::npos) {
        return line + "\n";
    }
    return std::string(indent, ' ') +
           hanging_lines(line.substr(indent), indent + 2, columns) + "\n";
}

std::string one_line(std::string_view text)
{
    auto const whole = trim(text);
    std::string out;
    out.reserve(whole.size());
    for (std::size_t i = 0; i < whole.size(); ++i) {
        if (whole[i] != '\n') {
            out += whole[i];
            continue;
        }
        // libpq indents the lines that go on with its sentence
        bool indented = false;
        while (i + 1 < whole.size() &&
               std::isspace(static_cast<unsigned char>(whole[i + 1]))) {
            indented = true;
            ++i;
        }
        while (!out.empty() && (out.back() == ' ' || out.back() == '\t')) {
            out.pop_back();
        }
        bool const goes_on = indented && i + 1 < whole.size() &&
                             std::islower(static_cast<unsigned char>(whole[i + 1]));
        bool const ended = !out.empty() && std::string_view{".?!:;"}.find(out.back()) !=
                                               std::string_view::npos;
        out += goes_on || ended ? " " : "; ";
    }
    return out;
}

std::string indent_continuations(std::string_view text)
{
    // a message's own indentation kept (build-weights' lines under its map)
    auto const end = text.find_last_not_of("\r\n");
    return escaped(text.substr(0, end == std::string_view::npos ? 0 : end + 1), "\n\t");
}

std::string ascii_only(std::string_view text)
{
    std::string out;
    out.reserve(text.size());
    for (char const ch : text) {
        auto const c = static_cast<unsigned char>(ch);
        if (c >= 0x01 && c <= 0x7F) {
            out += ch;
        } else if ((c & 0xC0) != 0x80) { // a character's first byte, or NUL
            out += '?';
        }
    }
    return out;
}

utf8_char utf8_at(std::string_view text, std::size_t i)
{
    auto const c = static_cast<unsigned char>(text[i]);
    // the length of the sequence c starts, and the smallest and largest
    // second byte it allows (no overlong forms, no surrogates, ≤ U+10FFFF)
    std::size_t len = 0;
    unsigned char lo = 0x80;
    unsigned char hi = 0xBF;
    char32_t cp = 0;
    if (c <= 0x7F) {
        return {c, 1};
    }
    if (c >= 0xC2 && c <= 0xDF) {
        len = 2;
        cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        cp = c & 0x0F;
        lo = c == 0xE0 ? 0xA0 : 0x80;
        hi = c == 0xED ? 0x9F : 0xBF;
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        cp = c & 0x07;
        lo = c == 0xF0 ? 0x90 : 0x80;
        hi = c == 0xF4 ? 0x8F : 0xBF;
    }
    if (len == 0 || i + len > text.size()) {
        return {};
    }
    for (std::size_t k = 1; k < len; ++k) {
        auto const b = static_cast<unsigned char>(text[i + k]);
        if (k == 1 ? b < lo || b > hi : b < 0x80 || b > 0xBF) {
            return {};
        }
        cp = (cp << 6) | (b & 0x3F);
    }
    return {cp, len};
}

void append_utf8(std::string& out, char32_t cp)
{
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xC0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out += static_cast<char>(0xE0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (cp >> 18));
        out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    }
}

std::vector<utf8_character> decode_utf8(std::string_view text)
{
    std::vector<utf8_character> out;
    out.reserve(text.size());
    std::size_t i = 0;
    while (i < text.size()) {
        auto const u = utf8_at(text, i);
        auto const len = u.length > 0 ? u.length : 1;
        out.push_back({u.cp, u.length > 0, text.substr(i, len)});
        i += len;
    }
    return out;
}

std::string valid_utf8(std::string_view text)
{
    std::string out;
    out.reserve(text.size());
    std::size_t i = 0;
    while (i < text.size()) {
        // NUL too: PostgreSQL's text holds none
        if (auto const u = utf8_at(text, i); u.length > 0 && u.cp != 0) {
            out.append(text.substr(i, u.length));
            i += u.length;
        } else {
            out += "\xEF\xBF\xBD"; // U+FFFD
            ++i;
        }
    }
    return out;
}

std::string
fill_template(std::string_view text,
              std::function<std::string const*(std::string_view)> const& value,
              std::string& out)
{
    out.clear();
    std::size_t i = 0;
    while (i < text.size()) {
        char const c = text[i];
        if ((c == '{' || c == '}') && i + 1 < text.size() && text[i + 1] == c) {
            out += c; // {{ or }}
            i += 2;
        } else if (c == '}') {
            return "a '}' without its '{' (write }} for a brace)";
        } else if (c == '{') {
            auto const end = text.find('}', i + 1);
            if (end == std::string_view::npos) {
                return "a '{' without its '}' (write {{ for a brace)";
            }
            auto const name = text.substr(i + 1, end - i - 1);
            auto const* v = value(name);
            if (!v) {
                return fmt::format("{{{}}} is not a placeholder", name);
            }
            out += *v;
            i = end + 1;
        } else {
            auto const next = std::min(text.find_first_of("{}", i), text.size());
            out.append(text.substr(i, next - i));
            i = next;
        }
    }
    return {};
}

std::string counted(long long n, std::string_view one, std::string_view many)
{
    return std::to_string(n) + ' ' + std::string{n == 1 ? one : many};
}

std::string last_days_text(double days)
{
    return days == 1 ? "day" : fmt::format("{} days", days);
}

bool is_x_handle(std::string_view s)
{
    return !s.empty() && std::all_of(s.begin(), s.end(), [](unsigned char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
               (c >= '0' && c <= '9') || c == '_';
    });
}

std::string hours_text(double h)
{
    if (!(h >= 1.0 / 120)) { // under half a minute, negative, NaN
        return "0 min";
    }
    if (h < 1) {
        return fmt::format("{:.0f} min", h * 60);
    }
    if (h < 48) {
        return fmt::format("{:.1f} h", h);
    }
    return fmt::format("{:.1f} days", h / 24);
}

} // namespace xloop
