#include "canonical.hpp"

#include <locale.h>
#include <wctype.h>

#include <vector>

namespace xloop {

namespace {

// One character of the input: a code point, or a byte that is not part of a
// well-formed UTF-8 sequence (kept as it is, never a letter).
struct character {
    char32_t cp = 0;
    bool valid = false;
    std::string_view bytes;
};

std::vector<character> decode_utf8(std::string_view s)
{
    std::vector<character> out;
    out.reserve(s.size());
    std::size_t i = 0;
    while (i < s.size()) {
        auto const b = static_cast<unsigned char>(s[i]);
        std::size_t len = 0;
        char32_t cp = 0;
        char32_t min = 0;
        if (b < 0x80) {
            len = 1;
            cp = b;
        } else if ((b & 0xE0) == 0xC0) {
            len = 2;
            cp = b & 0x1F;
            min = 0x80;
        } else if ((b & 0xF0) == 0xE0) {
            len = 3;
            cp = b & 0x0F;
            min = 0x800;
        } else if ((b & 0xF8) == 0xF0) {
            len = 4;
            cp = b & 0x07;
            min = 0x10000;
        }
        bool ok = len > 0 && i + len <= s.size();
        for (std::size_t k = 1; ok && k < len; ++k) {
            auto const c = static_cast<unsigned char>(s[i + k]);
            ok = (c & 0xC0) == 0x80;
            cp = (cp << 6) | (c & 0x3F);
        }
        // overlong forms, surrogates and values past U+10FFFF are not UTF-8
        ok = ok && cp >= min && cp <= 0x10FFFF && !(cp >= 0xD800 && cp <= 0xDFFF);
        if (!ok) {
            len = 1;
        }
        out.push_back({ok ? cp : 0, ok, s.substr(i, len)});
        i += len;
    }
    return out;
}

void encode_utf8(char32_t cp, std::string& out)
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
        encode_utf8(lower(c), out);
    }
    while (!out.empty() && out.back() == '_') {
        out.pop_back();
    }
    return out;
}

} // namespace xloop
