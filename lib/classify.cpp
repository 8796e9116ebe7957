#include "classify.hpp"

#include "text.hpp"

#include <algorithm>
#include <cctype>
#include <initializer_list>

namespace xloop {

namespace {

bool starts_with_word(std::string const& s, std::initializer_list<char const*> words)
{
    for (auto const* w : words) {
        std::string_view const word{w};
        if (s.rfind(word, 0) == 0 &&
            (s.size() == word.size() ||
             !std::isalnum(static_cast<unsigned char>(s[word.size()])))) {
            return true;
        }
    }
    return false;
}

bool contains_any(std::string const& s, std::initializer_list<char const*> parts)
{
    return std::any_of(parts.begin(), parts.end(),
                       [&](char const* p) { return s.find(p) != std::string::npos; });
}

bool contains_word(std::string const& s, std::string_view word)
{
    for (auto pos = s.find(word); pos != std::string::npos; pos = s.find(word, pos + 1)) {
        bool const left =
            pos == 0 || !std::isalnum(static_cast<unsigned char>(s[pos - 1]));
        auto const end = pos + word.size();
        bool const right =
            end >= s.size() || !std::isalnum(static_cast<unsigned char>(s[end]));
        if (left && right) {
            return true;
        }
    }
    return false;
}

bool has_statistic(std::string const& s)
{
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (!std::isdigit(static_cast<unsigned char>(s[i]))) {
            continue;
        }
        auto j = i;
        while (j < s.size() && (std::isdigit(static_cast<unsigned char>(s[j])) ||
                                s[j] == '.' || s[j] == ',')) {
            ++j;
        }
        if (j < s.size() && (s[j] == '%' || s[j] == 'x')) {
            return true;
        }
        if (j - i >= 2) {
            return true;
        }
        i = j;
    }
    return false;
}

} // namespace

std::string classify_hook(std::string_view text)
{
    auto const all = to_lower(trim(text));
    auto const cut = all.find_first_of(".!?\n");
    auto const first = cut == std::string::npos ? all : all.substr(0, cut + 1);
    if ((!first.empty() && first.back() == '?') ||
        starts_with_word(first, {"why", "how", "what", "who", "when", "where", "which",
                                 "do", "does", "is", "are", "can", "should", "would"})) {
        return "question";
    }
    if (has_statistic(first)) {
        return "statistic";
    }
    if (contains_any(first, {"unpopular opinion", "myth", "wrong", "overrated", "nobody",
                             "everyone is"}) ||
        contains_word(first, "stop")) {
        return "contrarian";
    }
    if (starts_with_word(first, {"i", "we", "my", "last year", "yesterday", "once"})) {
        return "story";
    }
    if (contains_any(first,
                     {"here's", "here is", "the secret", "turns out", "i found"})) {
        return "reveal";
    }
    return "statement";
}

std::string classify_cta(std::string_view text)
{
    auto const s = to_lower(trim(text));
    if (contains_any(s, {"http://", "https://"})) {
        return "link";
    }
    for (auto const* w :
         {"reply", "comment", "retweet", "rt", "like", "share", "follow", "bookmark"}) {
        if (contains_word(s, w)) {
            return "engagement";
        }
    }
    if (!s.empty() && s.back() == '?') {
        return "question";
    }
    return "none";
}

std::string classify_structure(std::string_view decision_type, bool has_thread_parts)
{
    if (decision_type == "reply") {
        return "reply";
    }
    if (has_thread_parts || decision_type == "thread") {
        return "thread";
    }
    return "single";
}

} // namespace xloop
