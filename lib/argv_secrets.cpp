#include "argv_secrets.hpp"

#include <libpq-fe.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <string>

namespace xloop {

namespace {

using spans = std::vector<std::pair<std::size_t, std::size_t>>;

bool is_secret_keyword(std::string_view k)
{
    return k == "password" || k == "sslpassword";
}

// A keyword of a URI's query as libpq decodes it (%xx).
std::string percent_decoded(std::string_view s)
{
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '%' && i + 2 < s.size() &&
            std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
            std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
            out += static_cast<char>(
                std::stoi(std::string{s.substr(i + 1, 2)}, nullptr, 16));
            i += 2;
        } else {
            out += s[i];
        }
    }
    return out;
}

// libpq's conninfo_uri_parse_options: user info ends at the first '@'
// before any '/'; its password runs from the first ':' to that '@'.
spans uri_spans(std::string_view s, std::size_t after_scheme)
{
    spans out;
    auto const end_of_authority = s.find_first_of("@/", after_scheme);
    if (end_of_authority != std::string_view::npos && s[end_of_authority] == '@') {
        auto const colon = s.find(':', after_scheme);
        if (colon < end_of_authority) {
            out.emplace_back(colon + 1, end_of_authority);
        }
    }
    auto const query = s.find('?', after_scheme);
    if (query == std::string_view::npos) {
        return out;
    }
    for (std::size_t pos = query + 1; pos <= s.size();) {
        auto const amp = std::min(s.find('&', pos), s.size());
        auto const eq = s.find('=', pos);
        if (eq < amp && is_secret_keyword(percent_decoded(s.substr(pos, eq - pos)))) {
            out.emplace_back(eq + 1, amp);
        }
        pos = amp + 1;
    }
    return out;
}

// libpq's conninfo_parse: keyword, '=', a value quoted ('…', backslash
// escapes) or up to the next space (backslash escapes).
spans keyword_spans(std::string_view s)
{
    spans out;
    auto const space = [&](std::size_t i) {
        return i < s.size() && std::isspace(static_cast<unsigned char>(s[i]));
    };
    std::size_t i = 0;
    while (i < s.size()) {
        while (space(i)) {
            ++i;
        }
        auto const key_start = i;
        while (i < s.size() && s[i] != '=' && !space(i)) {
            ++i;
        }
        auto const key = s.substr(key_start, i - key_start);
        while (space(i)) {
            ++i;
        }
        if (i >= s.size() || s[i] != '=') {
            break; // not a connection string libpq takes
        }
        ++i;
        while (space(i)) {
            ++i;
        }
        bool const quoted = i < s.size() && s[i] == '\'';
        i += quoted ? 1 : 0;
        auto const value_start = i;
        while (i < s.size() && (quoted ? s[i] != '\'' : !space(i))) {
            i += s[i] == '\\' && i + 1 < s.size() ? 2 : 1;
        }
        i = std::min(i, s.size());
        if (is_secret_keyword(key)) {
            out.emplace_back(value_start, i);
        }
        i += quoted && i < s.size() ? 1 : 0;
    }
    return out;
}

void blank(char* s, std::size_t from, std::size_t to)
{
    std::fill(s + from, s + to, '*');
}

// The path of a URL (after scheme://host), which holds a check's key.
void blank_url_path(char* url)
{
    std::string_view const s{url};
    auto const scheme = s.find("://");
    auto const path = s.find('/', scheme == std::string_view::npos ? 0 : scheme + 3);
    if (path != std::string_view::npos && path + 1 < s.size()) {
        blank(url, path + 1, s.size());
    }
}

} // namespace

std::vector<std::string> conninfo_secret_values(char const* conninfo)
{
    std::vector<std::string> out;
    char* err = nullptr;
    if (PQconninfoOption* opts = PQconninfoParse(conninfo, &err)) {
        for (auto* o = opts; o->keyword; ++o) {
            if (o->val && *o->val && is_secret_keyword(o->keyword)) {
                out.emplace_back(o->val);
            }
        }
        PQconninfoFree(opts);
    }
    PQfreemem(err);
    return out;
}

spans conninfo_secret_spans(std::string_view s)
{
    for (std::string_view const scheme : {"postgresql://", "postgres://"}) {
        if (s.substr(0, scheme.size()) == scheme) {
            return uri_spans(s, scheme.size());
        }
    }
    return keyword_spans(s);
}

bool hide_argv_secrets(int argc, char** argv)
{
    bool db_password = false;
    for (int i = 1; i < argc; ++i) {
        std::string_view const arg{argv[i]};
        char* value = nullptr;
        bool const db = arg == "--db" || arg.substr(0, 5) == "--db=";
        bool const ping = arg == "--ping-url" || arg.substr(0, 11) == "--ping-url=";
        if (!db && !ping) {
            continue;
        }
        if (auto const eq = arg.find('='); eq != std::string_view::npos) {
            value = argv[i] + eq + 1;
        } else if (i + 1 < argc) {
            value = argv[++i];
        } else {
            continue;
        }
        if (ping) {
            blank_url_path(value);
            continue;
        }
        auto const found = conninfo_secret_spans(value);
        bool hid = false;
        for (auto const& [from, to] : found) {
            blank(value, from, to);
            hid |= to > from;
        }
        if (!hid && !conninfo_secret_values(value).empty()) {
            blank(value, 0, std::strlen(value)); // a form the scan does not know
            hid = true;
        }
        db_password |= hid;
    }
    return db_password;
}

} // namespace xloop
