#include "oauth1.hpp"

#include <fmt/format.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <cctype>

namespace xloop {

std::string oauth_percent_encode(std::string_view s)
{
    std::string out;
    out.reserve(s.size());
    for (char const ch : s) {
        auto const c = static_cast<unsigned char>(ch);
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '.' || c == '_' || c == '~') {
            out += ch;
        } else {
            out += fmt::format("%{:02X}", c);
        }
    }
    return out;
}

std::string oauth_base_url(std::string_view url)
{
    url = url.substr(0, url.find_first_of("?#"));
    auto const scheme_end = url.find("://");
    if (scheme_end == std::string_view::npos) {
        return std::string{url};
    }
    auto const host_end = std::min(url.find('/', scheme_end + 3), url.size());
    std::string head{url.substr(0, host_end)};
    std::transform(head.begin(), head.end(), head.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    for (std::string_view const port : {"http://:80", "https://:443"}) {
        auto const scheme = port.substr(0, port.find(':') + 3);
        auto const suffix = port.substr(scheme.size());
        if (head.rfind(scheme, 0) == 0 && head.size() > suffix.size() &&
            head.compare(head.size() - suffix.size(), suffix.size(), suffix) == 0) {
            head.resize(head.size() - suffix.size());
        }
    }
    return head + std::string{url.substr(host_end)};
}

std::string oauth1_signature(std::string_view method, std::string_view url,
                             request_params const& params,
                             std::string_view consumer_secret,
                             std::string_view token_secret)
{
    // Sorted by encoded key, then encoded value (RFC 5849 §3.4.1.3.2).
    std::vector<std::pair<std::string, std::string>> encoded;
    encoded.reserve(params.size());
    for (auto const& [k, v] : params) {
        encoded.emplace_back(oauth_percent_encode(k), oauth_percent_encode(v));
    }
    std::sort(encoded.begin(), encoded.end());
    std::string joined;
    for (auto const& [k, v] : encoded) {
        joined += fmt::format("{}{}={}", joined.empty() ? "" : "&", k, v);
    }
    auto const base =
        fmt::format("{}&{}&{}", method, oauth_percent_encode(oauth_base_url(url)),
                    oauth_percent_encode(joined));
    auto const key = fmt::format("{}&{}", oauth_percent_encode(consumer_secret),
                                 oauth_percent_encode(token_secret));
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int mac_len = 0;
    HMAC(EVP_sha1(), key.data(), static_cast<int>(key.size()),
         reinterpret_cast<unsigned char const*>(base.data()), base.size(), mac, &mac_len);
    std::string out(4 * ((mac_len + 2) / 3) + 1, '\0');
    auto const n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), mac,
                                   static_cast<int>(mac_len));
    out.resize(static_cast<std::size_t>(n));
    return out;
}

std::string oauth1_authorization(std::string_view method, std::string_view url,
                                 request_params const& query, oauth1_credentials const& c,
                                 std::string_view nonce, std::int64_t timestamp)
{
    request_params oauth{{"oauth_consumer_key", c.consumer_key},
                         {"oauth_nonce", std::string{nonce}},
                         {"oauth_signature_method", "HMAC-SHA1"},
                         {"oauth_timestamp", std::to_string(timestamp)},
                         {"oauth_token", c.token},
                         {"oauth_version", "1.0"}};
    auto all = query;
    all.insert(all.end(), oauth.begin(), oauth.end());
    oauth.emplace_back(
        "oauth_signature",
        oauth1_signature(method, url, all, c.consumer_secret, c.token_secret));
    std::sort(oauth.begin(), oauth.end());
    std::string out = "OAuth ";
    for (auto const& [k, v] : oauth) {
        out += fmt::format("{}{}=\"{}\"", out.size() > 6 ? ", " : "", k,
                           oauth_percent_encode(v));
    }
    return out;
}

} // namespace xloop
