#pragma once

// A small blocking HTTP client over libcurl, for the X API, the LLM endpoint
// and heartbeat pings. It reports transport failures as status 0.

#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace xloop {

struct http_response {
    long status = 0;             // 0: no response (connect failure, timeout)
    std::string transport_error; // set when status is 0
    bool timed_out = false;
    // A certificate that does not verify, or TLS settings this machine cannot
    // meet: the operator's to fix, which no retry mends.
    bool tls_refused = false;
    // The URL's host name does not exist (the resolver, asked again, says
    // so: not one it cannot reach for now).
    bool host_unknown = false;
    // "http" or "https": the scheme the server at the URL's host and port
    // speaks, when not the URL's (asked again after the failure); else "".
    std::string other_scheme;
    bool body_too_large = false; // past max_body_bytes: the transfer was stopped
    std::map<std::string, std::string> headers; // names lower-cased
    std::string body;
};

// Keeps connections, DNS answers and TLS sessions between the requests sent
// through it, closing them with it: the X API's pages go over one kept-alive
// connection instead of a connect and a TLS handshake each. One thread at a
// time (libcurl shares connections within a thread only).
class http_session {
public:
    http_session();
    void* handle() const noexcept { return m_share.get(); } // a CURLSH, or null

private:
    struct closer {
        void operator()(void* share) const noexcept;
    };
    std::unique_ptr<void, closer> m_share;
};

struct http_request {
    std::string method = "GET";
    std::string url;
    std::vector<std::string> headers; // "Name: value"
    std::string body;
    long timeout_ms = 10000;
    // An X API page of 100 posts is ~100 KB: a larger answer is not one, and
    // is not held.
    std::size_t max_body_bytes = std::size_t{16} << 20;
    // A signal aborts the transfer; not for the heartbeat that reports it.
    bool interruptible = true;
    // After the signal, the request in flight may finish within this long
    // when its answer is kept (the X API's metrics); 0 when the run throws it
    // away (a writer's text: plan rolls back).
    long interrupt_grace_ms = 600;
    http_session* session = nullptr; // else a connection of its own
};

http_response http_send(http_request const& request);

// How long an answer of HTTP 429 or 503 asks to wait before the next request
// (retry-after-ms, OpenAI's; else Retry-After in seconds or as an HTTP date,
// counted from `now`), at most a day; nothing when it does not say.
std::optional<std::chrono::milliseconds>
retry_after(http_response const& res, std::chrono::system_clock::time_point now);

struct retry_policy {
    int retries = 3;
    long backoff_ms = 1000;
    bool retry_rate_limit = false; // retry 429 too (else it is returned at once)
    // An answer that retrying cannot change (a quota used up, not a rate),
    // returned at once although its status would be retried.
    std::function<bool(http_response const&)> final_answer;
};

struct retried_response {
    http_response response;
    int attempts = 0;
};

// Sends `request`, retrying transport failures, timeouts and 5xx (and 429 when
// the policy says so) with exponential backoff, or after the wait a 429 or
// 503 asks (retry_after) when that is longer and fits in the backoffs left;
// each retry is logged naming `service` and `what`. Any other answer is
// returned for the caller to judge. When the retries run out:
// temporary_failure "<service> answered HTTP 503 for <what> after N
// attempts"; when the wait asked for is longer than the backoffs left, at
// once, naming it.
// `prepare`, when given, is called on each attempt's copy of the request
// before it is sent (a signature with a fresh nonce and time).
retried_response
http_send_retrying(http_request const& request, retry_policy const& policy,
                   std::string const& service, std::string const& what,
                   std::function<void(http_request&)> const& prepare = {});

// Whether an answer says the request went to the wrong address: not found,
// the method not allowed there, moved elsewhere (a redirect, which is never
// followed), or a web page where JSON was asked for. A base URL to fix (or
// what answers for it), not data or a passing failure.
bool is_wrong_address(http_response const& res);

// " (moved to <Location>)" for a redirect with one, as a log may name it;
// " (a web page, not JSON: '<title>'; …)" for a page; else "".
std::string wrong_address_detail(http_response const& res);

// What an error answer's body says, for a message: its first 300 characters
// on one line, or "a web page, not JSON: '<title>'" for a page.
std::string answer_excerpt(std::string const& body);

// The scheme, host and port of a URL, without its user, password, path or
// query (where a heartbeat URL holds its secret): what a log line may name.
std::string url_origin(std::string const& url);

// The URL without its user, password, query or fragment: what a log line may
// name of an endpoint whose path says which API it is.
std::string url_for_log(std::string const& url);

// The host of a plain http:// URL to another machine (not localhost,
// 127.0.0.0/8 or ::1): a credential sent there crosses the network
// unencrypted. None for https:// or this machine.
std::optional<std::string> cleartext_host(std::string const& url);

} // namespace xloop
