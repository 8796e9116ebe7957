#pragma once

// The X API v2 endpoints scrape-metrics needs: tweet metrics by id (≤ 100 a
// request) and the account's own follower counts (DESIGN §6).

#include "config.hpp"
#include "http_client.hpp"
#include "metrics_v2.hpp"
#include "oauth1.hpp"
#include "timestamp.hpp"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace xloop {

// What GET /2/tweets takes in `ids` (a POSIX regular expression, for SQL):
// one id of another form fails the whole request (HTTP 400, "Invalid
// Request"), every run, since it stays due.
constexpr char const* x_tweet_id_pattern = "^[0-9]{1,19}$";

// X serves non-public metrics (profile clicks) for a post's first 30 days
// only, and only to a user-context token of its author.
constexpr int x_non_public_days = 30;

struct tweet_metrics {
    std::string id;
    post_counts counts;
    std::optional<timestamp> created_at; // when X says it was posted
    // The handle of the account a reply answers (in_reply_to_user_id, named
    // by the expansion's includes.users): what the original bot's replies
    // never recorded, and learn-replies needs.
    std::optional<std::string> replied_to;
    std::string author_id; // the account that posted it, where X gave one
};

struct tweets_page {
    std::vector<tweet_metrics> found;
    std::vector<std::string> gone;   // "Not Found": deleted, never ask again
    std::vector<std::string> failed; // other per-tweet errors: retried next run
    // X would not show a field asked for (non_public_metrics: an app-only
    // token, a post past 30 days); some of these may be in `found` without it
    std::vector<std::string> field_refused;
};

struct account_counts {
    std::int64_t followers = 0;
    std::optional<std::int64_t> following;
    std::optional<std::int64_t> tweets;
    std::string username; // its handle as X spells it, where X gave one
    std::string id;       // its user id, where X gave one
};

// How the client signs its requests (x_api.auth): an app-only or OAuth 2.0
// bearer token, or OAuth 1.0a keys.
struct x_api_credentials {
    std::string bearer;
    std::optional<oauth1_credentials> oauth1;
};

// One rate limit X states in an answer's headers: `header` is the name's
// stem, x-rate-limit (the endpoint's window, 15 minutes for most) or a day's
// cap, x-user-limit-24hour or x-app-limit-24hour (e.g. the posts a day
// allows), which X sends beside the other: a 429 for a day's cap comes with a
// 15-minute window that has requests left and resets long before the cap.
struct rate_window {
    std::string header;
    long long remaining = 0;
    std::optional<long long> reset_epoch;
};

// The windows of an answer's headers (names lower-cased), each where its
// -remaining header is a whole number.
std::vector<rate_window> rate_windows(std::map<std::string, std::string> const& headers);

// The window that binds: one with no request left (the latest to reset, if
// several), else the one whose requests left, spread until it resets, come
// furthest apart at `now_epoch` (without a reset: the fewest left).
std::optional<rate_window> binding_window(std::vector<rate_window> const& windows,
                                          long long now_epoch);

// Errors: 429 → temporary_failure naming the reset time; 401/403 →
// service_refused; 5xx and timeouts → retried `retries` times with
// exponential backoff, then temporary_failure; a malformed body → data_error
// naming the request. The token is sent, never printed.
class x_api_client {
public:
    x_api_client(x_api_config const& cfg, std::string token);
    x_api_client(x_api_config const& cfg, x_api_credentials credentials);

    // `non_public`: ask for non_public_metrics too (unless x_api.non_public_metrics
    // is off). The posts X leaves out for want of them are asked again for
    // their public metrics alone; a token refused them for every post of a
    // page is not asked for them again by this client.
    tweets_page fetch_tweets(std::vector<std::string> const& ids, bool non_public = true);
    // The account's own counts: by x_api.username where it is set (any
    // token may look a user up), else GET /2/users/me (user-context tokens only).
    account_counts fetch_account();
    int requests() const noexcept { return m_requests; }
    // What X's last answer from `path` said of its rate limits, if it said:
    // the window that binds at `now_epoch` (binding_window).
    using allowance = rate_window;
    std::optional<allowance> allowance_of(std::string const& path,
                                          long long now_epoch) const;
    // The same of the account's lookup (fetch_account's path).
    std::optional<allowance> account_allowance(long long now_epoch) const;
    bool non_public_refused() const noexcept { return m_non_public_refused; }

private:
    std::string get(std::string const& path, request_params const& query,
                    std::string const& what, char const* refused_hint = nullptr);
    std::string authorization(std::string const& url, request_params const& query) const;
    std::string check_credentials() const;
    tweets_page fetch_page(std::vector<std::string> const& ids, bool non_public);

    x_api_config m_cfg;
    x_api_credentials m_credentials;
    http_session m_session;
    int m_requests = 0;
    bool m_non_public_refused = false;
    std::map<std::string, std::vector<rate_window>> m_allowances; // by path
};

// The bodies of GET /2/tweets and of a user's lookup (`what` names the
// request in errors): a malformed body throws data_error; ids that are not
// ids and errors without one are left out with a warning. `username`: the
// configured x_api.username the lookup was for; X knowing no such user is
// then a config_error naming it.
tweets_page parse_tweets_page(std::string const& body, std::string const& what);
account_counts parse_account(std::string const& body, std::string const& what,
                             std::string const& username = {});

// The x-rate-limit-reset header (epoch seconds) as a time, or as sent.
std::string rate_limit_reset(std::string const& header);
// The same as epoch seconds, where it is one (years to 2199).
std::optional<long long> rate_limit_reset_epoch(std::string const& header);

// Reads the credentials x_api.auth names from the environment variables the
// config names (config_error naming the first one missing).
x_api_credentials x_api_credentials_from_env(x_api_config const& cfg);

} // namespace xloop
