#pragma once

// OAuth 1.0a request signing (HMAC-SHA1), as X takes it for user-context
// requests: an app's consumer key and secret with the account's access token
// and secret, none of which expire. Pure: the caller gives the nonce and the
// time.

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace xloop {

struct oauth1_credentials {
    std::string consumer_key;
    std::string consumer_secret;
    std::string token;
    std::string token_secret;
};

using request_params = std::vector<std::pair<std::string, std::string>>;

// RFC 3986 percent-encoding: every byte but ALPHA, DIGIT, '-', '.', '_', '~'.
std::string oauth_percent_encode(std::string_view s);

// A URL as the signature names it (RFC 5849 §3.4.1.2): scheme and host in
// lower case, without the scheme's default port, without query or fragment.
std::string oauth_base_url(std::string_view url);

// The base64 HMAC-SHA1 signature of a request: its method, its URL without
// the query, and every parameter (query, form body, oauth_*) as raw values.
std::string oauth1_signature(std::string_view method, std::string_view url,
                             request_params const& params,
                             std::string_view consumer_secret,
                             std::string_view token_secret);

// The Authorization header's value ("OAuth oauth_consumer_key=…, …") for a
// request with these query parameters.
std::string oauth1_authorization(std::string_view method, std::string_view url,
                                 request_params const& query, oauth1_credentials const& c,
                                 std::string_view nonce, std::int64_t timestamp);

} // namespace xloop
