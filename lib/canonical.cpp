#include "canonical.hpp"

#include "text.hpp"

#include <locale.h>
#include <wctype.h>

#include <vector>

namespace xloop {

namespace {

// A byte outside a well-formed sequence is kept as it is, never a letter.
using character = utf8_character;

// Unicode's case and classes from glibc's C.UTF-8 (part of Debian's libc-bin),
// whatever the caller's locale: the same name is the same arm on every
// machine. Without it only ASCII letters fold.
locale_t unicode_ctype()
{
    static locale_t const loc = newlocale(LC_CTYPE_MASK, "C.UTF-8", locale_t{});
    return loc;
}

bool is_ascii(character const& c)
{
    return c.valid && c.cp < 0x80;
}

bool is_separator(character const& c)
{
    if (!c.valid) {
        return false;
    }
    if (c.cp == '-' || c.cp == '_' || c.cp == ' ' || (c.cp >= '\t' && c.cp <= '\r')) {
        return true;
    }
    // no-break spaces are spaces in a name, though not to iswspace
    if (c.cp == 0xA0 || c.cp == 0x2007 || c.cp == 0x202F) {
        return true;
    }
    auto const loc = unicode_ctype();
    return c.cp >= 0x80 && loc && iswspace_l(static_cast<wint_t>(c.cp), loc);
}

char32_t lower(character const& c)
{
    if (is_ascii(c)) {
        return c.cp >= 'A' && c.cp <= 'Z' ? c.cp + ('a' - 'A') : c.cp;
    }
    auto const loc = unicode_ctype();
    return loc ? static_cast<char32_t>(towlower_l(static_cast<wint_t>(c.cp), loc)) : c.cp;
}

// An upper-case letter is one that lower case changes: the output then holds
// none, so a canonical name is its own canonical name.
bool is_upper(character const& c)
{
    return c.valid && lower(c) != c.cp;
}

bool is_lower(character const& c)
{
    if (!c.valid) {
        return false;
    }
    if (c.cp < 0x80) {
        return c.cp >= 'a' && c.cp <= 'z';
    }
    auto const loc = unicode_ctype();
    return loc && iswlower_l(static_cast<wint_t>(c.cp), loc) && !is_upper(c);
}

bool is_digit(character const& c)
{
    return c.valid && c.cp >= '0' && c.cp <= '9';
}

} // namespace

std::string canonical_name(std::string_view raw)
{
    auto const chars = decode_utf8(raw);
    std::string out;
    out.reserve(raw.size() + 4);
    for (std::size_t i = 0; i < chars.size(); ++i) {
        auto const& c = chars[i];
        if (is_separator(c)) {
            if (!out.empty() && out.back() != '_') {
                out += '_';
            }
            continue;
        }
        if (!c.valid) {
            out += c.bytes;
            continue;
        }
        if (is_upper(c) && i > 0 && !out.empty() && out.back() != '_') {
            auto const& prev = chars[i - 1];
            bool const next_lower = i + 1 < chars.size() && is_lower(chars[i + 1]);
            // "dataNerd" → data_nerd; "HTTPServer" → http_server
            if (is_lower(prev) || is_digit(prev) || (is_upper(prev) && next_lower)) {
                out += '_';
            }
        }
        append_utf8(out, lower(c));
    }
    while (!out.empty() && out.back() == '_') {
        out.pop_back();
    }
    return out;
}

} // namespace xloop
