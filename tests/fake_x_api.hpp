#pragma once

// A fake X API v2 on 127.0.0.1 (port chosen by the OS) for tests: serves
// /2/users/me, /2/users/by/username/NAME and /2/tweets from its state, can be
// told to fail in the ways the real one does, and records what it was asked.

#include "oauth1.hpp"

#include <httplib.h>

#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace xloop::test {

struct fake_request {
    std::string path;
    std::vector<std::string> ids;
    std::string authorization;
    int remote_port = 0;      // the client's end of the connection
    std::string tweet_fields; // /2/tweets' tweet.fields
    std::string expansions;   // /2/tweets' expansions
};

// A scripted answer for the n-th /2/tweets request (0-based).
struct fake_failure {
    explicit fake_failure(int status_ = 500,
                          std::string body_ = "{\"title\": \"Internal Error\"}",
                          std::map<std::string, std::string> headers_ = {},
                          int delay_ms_ = 0)
        : status(status_), body(std::move(body_)), headers(std::move(headers_)),
          delay_ms(delay_ms_)
    {}
    int status;
    std::string body;
    std::map<std::string, std::string> headers;
    int delay_ms;
};

class fake_x_api {
public:
    // Keeps a connection open this long between requests, for as many
    // requests as come (as X does; cpp-httplib's default closes after 5).
    explicit fake_x_api(int keep_alive_s = 5);
    ~fake_x_api();
    fake_x_api(fake_x_api const&) = delete;
    fake_x_api& operator=(fake_x_api const&) = delete;

    std::string base_url() const;

    // State, guarded by the mutex (set before or between runs).
    std::int64_t followers = 1000;
    std::set<std::string> gone;                  // answered with a Not Found error
    std::set<std::string> refused;               // answered with an Authorization Error
    std::map<int, fake_failure> tweets_failures; // by request index (insert_or_assign)
    std::optional<fake_failure> always;          // every request, both endpoints
    std::optional<fake_failure> account_failure; // the account's lookups only
    std::map<std::string, std::string> account_headers; // on each account answer
    std::map<std::string, std::string> tweets_headers;  // on each /2/tweets answer
    bool with_non_public = true;
    // The token is app-only, as X's "Bearer Token": /2/users/me answers 403
    // and non_public_metrics are refused for every post.
    bool app_only = false;
    std::set<std::string> past_non_public; // posts X has no non-public metrics for
    // A post whose non-public metrics are refused is left out of 'data' (as
    // X's documentation says), or, when this is set, kept there without them.
    bool field_refusal_keeps_data = false;
    // When X says each post was posted (created_at), by tweet id; a post
    // not here is answered without one.
    std::map<std::string, std::string> created_at;
    // The account each reply answers, by tweet id: (user id, handle), given as
    // in_reply_to_user_id and, when asked for by expansions=in_reply_to_user_id,
    // in includes.users (a handle left empty: the user is not included, as X
    // leaves out one suspended).
    std::map<std::string, std::pair<std::string, std::string>> replies_to;
    std::string username = "xloop_bot"; // the account /2/users/by/username knows
    // Who posted each post (author_id, when asked for), by tweet id; a post
    // not here is the account's own (user id 1, as the account answers).
    std::map<std::string, std::string> author_of;
    // When set, every request must be signed with these OAuth 1.0a keys (a
    // fresh nonce, the time within 5 minutes), as X checks; else HTTP 401.
    std::optional<oauth1_credentials> oauth1;
    int delay_tweets_ms = 0; // every /2/tweets answer waits this long
    // GET /2/tweets allowed this many times in X's 15-minute window (the Free
    // tier: 1), said in every answer's x-rate-limit-* headers, as X does; past
    // it, HTTP 429. The window starts over with new_rate_window().
    std::optional<int> tweets_per_window;
    void new_rate_window();

    std::vector<fake_request> requests();
    std::vector<fake_request> tweet_requests();
    std::mutex mutex;

private:
    // Why X would refuse this request's OAuth 1.0a signature; empty if it would not.
    std::string oauth1_refusal(httplib::Request const& req);

    httplib::Server m_server;
    std::set<std::string> m_nonces;
    std::thread m_thread;
    int m_port = 0;
    int m_tweet_calls = 0;
    int m_window_calls = 0; // /2/tweets answered in this rate-limit window
    std::vector<fake_request> m_requests;
};

// Metrics the fake serves for a tweet id: deterministic functions of the id.
std::int64_t fake_impressions(std::string const& id);
std::int64_t fake_likes(std::string const& id);

} // namespace xloop::test
