#include "tweet_length.hpp"

#include "text.hpp"

#include <algorithm>
#include <cctype>
#include <utility>
#include <vector>

namespace xloop {

namespace {

constexpr std::size_t link_length = 23;

// UTF-8 to code points; a byte outside a well-formed sequence is U+FFFD.
std::vector<char32_t> code_points(std::string_view s)
{
    std::vector<char32_t> out;
    for (auto const& c : decode_utf8(s)) {
        out.push_back(c.valid ? c.cp : 0xFFFD);
    }
    return out;
}

std::size_t weight(char32_t c)
{
    bool const light = c <= 0x10FF || (c >= 0x2000 && c <= 0x200D) ||
                       (c >= 0x2010 && c <= 0x201F) || (c >= 0x2032 && c <= 0x2037);
    return light ? 1 : 2;
}

bool is_space(char32_t c)
{
    return c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == 0xA0 || c == 0x3000;
}

bool is_emoji(char32_t c)
{
    return (c >= 0x1F000 && c <= 0x1FAFF) || (c >= 0x2600 && c <= 0x27BF);
}

// What belongs to the emoji before it: variation selectors, skin tones,
// the combining keycap, the tags of a subdivision flag.
bool is_emoji_modifier(char32_t c)
{
    return c == 0xFE0E || c == 0xFE0F || (c >= 0x1F3FB && c <= 0x1F3FF) || c == 0x20E3 ||
           (c >= 0xE0020 && c <= 0xE007F);
}

bool is_regional_indicator(char32_t c)
{
    return c >= 0x1F1E6 && c <= 0x1F1FF;
}

using span = std::vector<char32_t>::const_iterator;

// Plain text: each code point's weight, an emoji sequence counted once.
std::size_t plain_length(span first, span last)
{
    std::size_t n = 0;
    bool in_emoji = false; // the last code point counted began or continued one
    bool joined = false;   // ... and a ZWJ followed it
    bool open_flag = false;
    for (auto it = first; it != last; ++it) {
        char32_t const c = *it;
        if (is_regional_indicator(c)) {
            n += open_flag ? 0 : 2; // a flag is a pair of them
            open_flag = !open_flag;
            in_emoji = true;
            joined = false;
            continue;
        }
        open_flag = false;
        if (in_emoji && (is_emoji_modifier(c) || (joined && is_emoji(c)))) {
            joined = false;
            continue;
        }
        if (in_emoji && c == 0x200D && !joined) {
            joined = true; // counted once it joins nothing
            continue;
        }
        n += weight(c) + (joined ? weight(0x200D) : 0);
        in_emoji = is_emoji(c);
        joined = false;
    }
    return n + (joined ? weight(0x200D) : 0);
}

bool is_trailing_punctuation(char32_t c)
{
    return c == '.' || c == ',' || c == ';' || c == ':' || c == '!' || c == '?' ||
           c == ')' || c == ']' || c == '}' || c == '\'' || c == '"' || c == 0x2026 ||
           c == 0x201D || c == 0x2019;
}

bool is_leading_punctuation(char32_t c)
{
    return c == '(' || c == '[' || c == '{' || c == '\'' || c == '"' || c == 0x201C ||
           c == 0x2018;
}

char32_t lower(char32_t c)
{
    return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

bool starts_with(span first, span last, std::string_view prefix)
{
    if (static_cast<std::size_t>(last - first) < prefix.size()) {
        return false;
    }
    return std::equal(prefix.begin(), prefix.end(), first, [](char p, char32_t c) {
        return static_cast<char32_t>(p) == lower(c);
    });
}

// host.tld or host.tld/path: labels of ASCII letters, digits and hyphens,
// the last of two or more letters.
bool looks_like_domain(span first, span last)
{
    auto const slash = std::find(first, last, U'/');
    std::size_t labels = 0;
    span label = first;
    for (auto it = first;; ++it) {
        if (it == slash || *it == '.') {
            if (it == label) {
                return false; // an empty label
            }
            ++labels;
            if (it == slash) {
                break;
            }
            label = it + 1;
            continue;
        }
        char32_t const c = lower(*it);
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) {
            return false;
        }
    }
    return labels >= 2 && slash - label >= 2 && std::all_of(label, slash, [](char32_t c) {
               return lower(c) >= 'a' && lower(c) <= 'z';
           });
}

// A word's core: the word without the brackets, quotes and closing
// punctuation around it, where a link would be.
std::pair<span, span> word_core(span first, span last)
{
    span core = first;
    while (core != last && is_leading_punctuation(*core)) {
        ++core;
    }
    span core_end = last;
    while (core_end != core && is_trailing_punctuation(*(core_end - 1))) {
        --core_end;
    }
    return {core, core_end};
}

// A word (no spaces in it): a link, in brackets or quotes or not, counts 23.
std::size_t word_length(span first, span last)
{
    auto const [core, core_end] = word_core(first, last);
    if (core == core_end) {
        return plain_length(first, last);
    }
    std::size_t link = 0;
    if (starts_with(core, core_end, "http://") ||
        starts_with(core, core_end, "https://")) {
        link = link_length;
    } else if (looks_like_domain(core, core_end)) {
        link = std::max(link_length, plain_length(core, core_end));
    } else {
        return plain_length(first, last);
    }
    return plain_length(first, core) + link + plain_length(core_end, last);
}

} // namespace

std::size_t tweet_length(std::string_view text)
{
    auto const cps = code_points(text);
    std::size_t n = 0;
    auto it = cps.cbegin();
    while (it != cps.cend()) {
        if (is_space(*it)) {
            n += weight(*it);
            ++it;
            continue;
        }
        auto const end = std::find_if(it, cps.cend(), is_space);
        n += word_length(it, end);
        it = end;
    }
    return n;
}

std::vector<std::string> written_links(std::string_view text)
{
    auto const cps = code_points(text);
    std::vector<std::string> out;
    auto it = cps.cbegin();
    while (it != cps.cend()) {
        auto const end = std::find_if(it, cps.cend(), is_space);
        auto const [core, core_end] = word_core(it, end);
        bool const scheme = starts_with(core, core_end, "http://") ||
                            starts_with(core, core_end, "https://");
        bool const www =
            starts_with(core, core_end, "www.") && looks_like_domain(core + 4, core_end);
        if (scheme || www) {
            std::string link;
            for (auto c = core; c != core_end; ++c) {
                append_utf8(link, *c);
            }
            if (std::find(out.begin(), out.end(), link) == out.end()) {
                out.push_back(std::move(link));
            }
        }
        it = end == cps.cend() ? end : end + 1;
    }
    return out;
}

std::vector<std::string> mentioned_handles(std::string_view text)
{
    constexpr std::string_view fullwidth_at = "\xEF\xBC\xA0"; // ＠
    auto const handle_char = [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
    };
    std::vector<std::string> out;
    std::size_t i = 0;
    while (i < text.size()) {
        std::size_t at = 0; // the sign's length here, if one
        if (text[i] == '@') {
            at = 1;
        } else if (text.compare(i, fullwidth_at.size(), fullwidth_at) == 0) {
            at = fullwidth_at.size();
        }
        if (at == 0) {
            ++i;
            continue;
        }
        bool const after_word =
            i > 0 &&
            (handle_char(text[i - 1]) ||
             std::string_view{"!#$%&*@"}.find(text[i - 1]) != std::string_view::npos ||
             (i >= fullwidth_at.size() &&
              text.compare(i - fullwidth_at.size(), fullwidth_at.size(), fullwidth_at) ==
                  0));
        auto end = i + at;
        while (end < text.size() && handle_char(text[end])) {
            ++end;
        }
        auto const length = end - i - at;
        auto const rest = text.substr(end);
        bool const followed = rest.substr(0, 1) == "@" ||
                              rest.substr(0, fullwidth_at.size()) == fullwidth_at ||
                              rest.substr(0, 3) == "://";
        if (!after_word && length >= 1 && length <= 15 && !followed) {
            std::string handle;
            for (auto const c : text.substr(i + at, length)) {
                handle += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            }
            if (std::find(out.begin(), out.end(), handle) == out.end()) {
                out.push_back(std::move(handle));
            }
        }
        i = end;
    }
    return out;
}

} // namespace xloop
