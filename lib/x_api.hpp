#pragma once

// The X API v2 endpoints scrape-metrics needs: tweet metrics by id (≤ 100 a
// request) and the account's own follower counts (DESIGN §6).

#include "config.hpp"
#include "http_client.hpp"
#include "metrics_v2.hpp"
#include "timestamp.hpp"

#include <string>
#include <vector>

namespace xloop {

// What GET /2/tweets takes in `ids` (a POSIX regular expression, for SQL):
// one id of another form fails the whole request (HTTP 400, "Invalid
// Request"), every run, since it stays due.
constexpr char const* x_tweet_id_pattern = "^[0-9]{1,19}$";

struct tweet_metrics {
    std::string id;
    post_counts counts;
};

struct tweets_page {
    std::vector<tweet_metrics> found;
    std::vector<std::string> gone;   // "Not Found": deleted, never ask again
    std::vector<std::string> failed; // other per-tweet errors: retried next run
};

struct account_counts {
    std::int64_t followers = 0;
    std::optional<std::int64_t> following;
    std::optional<std::int64_t> tweets;
};

// Errors: 429 → temporary_failure naming the reset time; 401/403 →
// service_refused; 5xx and timeouts → retried `retries` times with
// exponential backoff, then temporary_failure; a malformed body → data_error
// naming the request. The token is sent, never printed.
class x_api_client {
public:
    x_api_client(x_api_config const& cfg, std::string token);

    tweets_page fetch_tweets(std::vector<std::string> const& ids);
    account_counts fetch_me();
    int requests() const noexcept { return m_requests; }

private:
    std::string get(std::string const& path, std::string const& what);

    x_api_config m_cfg;
    std::string m_token;
    http_session m_session;
    int m_requests = 0;
};

// The bodies of GET /2/tweets and GET /2/users/me (`what` names the request
// in errors): a malformed body throws data_error; ids that are not ids and
// errors without one are left out with a warning.
tweets_page parse_tweets_page(std::string const& body, std::string const& what);
account_counts parse_me(std::string const& body, std::string const& what);

// The x-rate-limit-reset header (epoch seconds) as a time, or as sent.
std::string rate_limit_reset(std::string const& header);

// Reads the bearer token from the environment variable the config names.
std::string x_api_token(x_api_config const& cfg);

} // namespace xloop
