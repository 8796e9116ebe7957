#include "http_client.hpp"

#include "error.hpp"
#include "host_lookup.hpp"
#include "interrupt.hpp"
#include "log.hpp"
#include "text.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

namespace xloop {

namespace {

// "20 s", "1.5 s", "250 ms"
std::string seconds_text(std::chrono::milliseconds d)
{
    return d.count() < 1000
               ? fmt::format("{} ms", d.count())
               : fmt::format("{:g} s", static_cast<double>(d.count()) / 1000);
}

void global_init()
{
    static std::once_flag once;
    std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

// A proxy of the environment (https_proxy, all_proxy) is never asked for
// this machine's own servers, which no proxy can reach (a model served on
// 127.0.0.1, the simulator's and the tests' stand-ins); the environment's
// own no_proxy list, which CURLOPT_NOPROXY replaces, is kept.
std::string no_proxy_hosts()
{
    std::string const own = "localhost,127.0.0.1,::1";
    for (auto const* name : {"no_proxy", "NO_PROXY"}) {
        if (char const* v = std::getenv(name); v && *v) {
            // "*" alone means every host, and only alone
            return std::string_view{v} == "*" ? std::string{v}
                                              : std::string{v} + "," + own;
        }
    }
    return own;
}

void bypass_proxy_for_own_hosts(CURL* c)
{
    curl_easy_setopt(c, CURLOPT_NOPROXY, no_proxy_hosts().c_str()); // copied
}

struct body_sink {
    std::string& body;
    std::size_t max_bytes;
    bool too_large = false;
};

std::size_t on_body(char* data, std::size_t size, std::size_t n, void* user)
{
    auto& sink = *static_cast<body_sink*>(user);
    if (sink.body.size() + size * n > sink.max_bytes) {
        sink.too_large = true;
        return 0; // libcurl stops the transfer (CURLE_WRITE_ERROR)
    }
    sink.body.append(data, size * n);
    return size * n;
}

std::size_t on_header(char* data, std::size_t size, std::size_t n, void* user)
{
    std::string line{data, size * n};
    auto const colon = line.find(':');
    if (colon != std::string::npos) {
        (*static_cast<std::map<std::string, std::string>*>(
            user))[to_lower(line.substr(0, colon))] = trim(line.substr(colon + 1));
    }
    return size * n;
}

struct curl_deleter {
    void operator()(CURL* c) const noexcept { curl_easy_cleanup(c); }
};
struct curlm_deleter {
    void operator()(CURLM* m) const noexcept { curl_multi_cleanup(m); }
};
struct slist_deleter {
    void operator()(curl_slist* l) const noexcept { curl_slist_free_all(l); }
};

// The transfer through a multi handle that wakes every 50 ms, stopped once a
// signal came more than `grace` ago: within a second whatever the server does
// (curl's progress callback, the easy interface's only hook, comes as seldom
// as once a second while a server is silent).
CURLcode perform_interruptible(CURL* c, std::chrono::milliseconds grace)
{
    std::unique_ptr<CURLM, curlm_deleter> multi{curl_multi_init()};
    if (!multi || curl_multi_add_handle(multi.get(), c) != CURLM_OK) {
        return CURLE_OUT_OF_MEMORY;
    }
    CURLcode result = CURLE_ABORTED_BY_CALLBACK; // unless the transfer ends
    for (int running = 1;;) {
        if (curl_multi_perform(multi.get(), &running) != CURLM_OK) {
            result = CURLE_OUT_OF_MEMORY; // its only failure once the handle is added
            break;
        }
        if (running == 0) {
            int left = 0;
            for (CURLMsg* m; (m = curl_multi_info_read(multi.get(), &left));) {
                if (m->msg == CURLMSG_DONE) {
                    result = m->data.result;
                }
            }
            break;
        }
        if (interrupted_for_longer_than(grace)) {
            break;
        }
        curl_multi_poll(multi.get(), nullptr, 0, 50, nullptr);
    }
    curl_multi_remove_handle(multi.get(), c);
    return result;
}

// The server's certificate does not verify (another host's, self-signed, a
// proxy's that intercepts TLS), a CA or client certificate file is unusable,
// or a pinned key differs.
bool is_tls_refusal(CURLcode rc)
{
    switch (rc) {
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
        return true;
    default:
        return false;
    }
}

using curlu_ptr = std::unique_ptr<CURLU, decltype(&curl_url_cleanup)>;

// The handle's URL, parsed; null if it cannot be.
curlu_ptr handle_url(CURL* c)
{
    char* url = nullptr;
    curl_easy_getinfo(c, CURLINFO_EFFECTIVE_URL, &url);
    curlu_ptr parsed{curl_url(), curl_url_cleanup};
    if (!url || !parsed ||
        curl_url_set(parsed.get(), CURLUPART_URL, url, 0) != CURLUE_OK) {
        parsed.reset();
    }
    return parsed;
}

// Whether the host name of the handle's URL does not exist, unlike one the
// resolver cannot look up for now (libcurl gives both one code).
bool host_does_not_exist(CURL* c)
{
    auto const parsed = handle_url(c);
    char* host = nullptr;
    if (!parsed || curl_url_get(parsed.get(), CURLUPART_HOST, &host, 0) != CURLUE_OK) {
        return false;
    }
    std::string const name{host};
    curl_free(host);
    return look_up_host(name) == host_lookup::missing;
}

// The handle's URL with `scheme` in place of its own, at the same host and
// port (stated: the other scheme's default port is another) and path "/".
std::optional<std::string> with_scheme(CURL* c, char const* scheme)
{
    auto const u = handle_url(c);
    char* port = nullptr;
    if (!u ||
        curl_url_get(u.get(), CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) != CURLUE_OK) {
        return std::nullopt;
    }
    bool const ok = curl_url_set(u.get(), CURLUPART_PORT, port, 0) == CURLUE_OK;
    curl_free(port);
    char* out = nullptr;
    if (!ok || curl_url_set(u.get(), CURLUPART_SCHEME, scheme, 0) != CURLUE_OK ||
        curl_url_set(u.get(), CURLUPART_PATH, "/", 0) != CURLUE_OK ||
        curl_url_set(u.get(), CURLUPART_QUERY, nullptr, 0) != CURLUE_OK ||
        curl_url_get(u.get(), CURLUPART_URL, &out, 0) != CURLUE_OK) {
        return std::nullopt;
    }
    std::string const text{out};
    curl_free(out);
    return text;
}

// Whether the server at the handle's address speaks the other scheme: an
// https:// URL whose handshake met plain HTTP (OpenSSL's "wrong version
// number"), or an http:// URL a TLS server answered with nothing, a reset
// or bytes that are no HTTP. A second, short connection asks: a HEAD over plain
// HTTP (a 400 is a TLS server's answer to plain HTTP, as nginx gives), or a
// TLS handshake alone (any certificate: only the protocol is in question).
std::string other_scheme_spoken(CURL* c, CURLcode rc, http_request const& request)
{
    if (interrupt_requested()) {
        return {}; // the run is leaving: no time for a second connection
    }
    char* scheme = nullptr;
    curl_easy_getinfo(c, CURLINFO_SCHEME, &scheme);
    bool const https = scheme && to_lower(scheme) == "https";
    // (a TLS server that drops the plain request unread resets the connection)
    bool const garbled = rc == CURLE_GOT_NOTHING || rc == CURLE_WEIRD_SERVER_REPLY ||
                         rc == CURLE_UNSUPPORTED_PROTOCOL || rc == CURLE_RECV_ERROR ||
                         rc == CURLE_SEND_ERROR;
    if (!(https ? rc == CURLE_SSL_CONNECT_ERROR : garbled)) {
        return {};
    }
    auto const other = https ? "http" : "https";
    auto const url = with_scheme(c, other);
    std::unique_ptr<CURL, curl_deleter> probe{curl_easy_init()};
    if (!url || !probe) {
        return {};
    }
    CURL* p = probe.get();
    curl_easy_setopt(p, CURLOPT_URL, url->c_str());
    bypass_proxy_for_own_hosts(p);
    curl_easy_setopt(p, CURLOPT_TIMEOUT_MS, std::min(request.timeout_ms, 2000L));
    curl_easy_setopt(p, CURLOPT_NOSIGNAL, 1L);
    if (https) {
        curl_easy_setopt(p, CURLOPT_NOBODY, 1L);
    } else {
        curl_easy_setopt(p, CURLOPT_CONNECT_ONLY, 1L);
        curl_easy_setopt(p, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(p, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    auto const done = request.interruptible
                          ? perform_interruptible(p, std::chrono::milliseconds{0})
                          : curl_easy_perform(p);
    long status = 0;
    curl_easy_getinfo(p, CURLINFO_RESPONSE_CODE, &status);
    bool const spoken = done == CURLE_OK && (!https || (status >= 100 && status != 400));
    return spoken ? other : "";
}

// What went wrong when no HTTP answer came, in the words an operator needs.
void describe_failure(CURL* c, CURLcode rc, http_request const& request,
                      char const* detail, http_response& out)
{
    out.status = 0;
    out.timed_out = rc == CURLE_OPERATION_TIMEDOUT;
    out.tls_refused = is_tls_refusal(rc);
    out.host_unknown = rc == CURLE_COULDNT_RESOLVE_HOST && host_does_not_exist(c);
    out.other_scheme = other_scheme_spoken(c, rc, request);
    // libcurl's detail ("SSL certificate problem: self-signed certificate",
    // "Failed to connect to … port 443: Connection refused") over its code's
    // name ("Couldn't connect to server")
    out.transport_error = *detail ? detail : curl_easy_strerror(rc);
}

} // namespace

void http_session::closer::operator()(void* share) const noexcept
{
    curl_share_cleanup(share);
}

http_session::http_session()
{
    global_init();
    m_share.reset(curl_share_init());
    if (m_share) {
        curl_share_setopt(m_share.get(), CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT);
        curl_share_setopt(m_share.get(), CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
        curl_share_setopt(m_share.get(), CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
    }
}

http_response http_send(http_request const& request)
{
    global_init();
    http_response out;
    std::unique_ptr<CURL, curl_deleter> curl{curl_easy_init()};
    if (!curl) {
        out.transport_error = "cannot initialise libcurl";
        return out;
    }
    std::unique_ptr<curl_slist, slist_deleter> headers;
    for (auto const& h : request.headers) {
        headers.reset(curl_slist_append(headers.release(), h.c_str()));
    }
    CURL* c = curl.get();
    curl_easy_setopt(c, CURLOPT_URL, request.url.c_str());
    bypass_proxy_for_own_hosts(c);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, request.method.c_str());
    if (request.method == "POST" || !request.body.empty()) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, request.body.c_str());
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE,
                         static_cast<long>(request.body.size()));
    }
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, request.timeout_ms);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, std::min(request.timeout_ms, 10000L));
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
#if LIBCURL_VERSION_NUM >= 0x075500
    // HTTP only (a ping URL is not checked like the config's base URLs).
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
#endif
    body_sink sink{out.body, request.max_body_bytes};
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &out.headers);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "xloop/" XLOOP_VERSION);
    char detail[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, detail);
    if (request.session) {
        curl_easy_setopt(c, CURLOPT_SHARE, request.session->handle());
    }
    CURLcode const rc =
        request.interruptible
            ? perform_interruptible(c,
                                    std::chrono::milliseconds{request.interrupt_grace_ms})
            : curl_easy_perform(c);
    if (sink.too_large) {
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out.status);
        out.body_too_large = true;
        out.body.clear();
        return out;
    }
    if (rc != CURLE_OK) {
        describe_failure(c, rc, request, detail, out);
        return out;
    }
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out.status);
    return out;
}

std::optional<std::chrono::milliseconds>
retry_after(http_response const& res, std::chrono::system_clock::time_point now)
{
    using std::chrono::milliseconds;
    if (res.status != 429 && res.status != 503) {
        return std::nullopt;
    }
    // at most a day: a larger ask is as good as never, and stays a number
    constexpr double day_ms = 86400e3;
    auto const number = [](std::string const& text) -> std::optional<double> {
        if (text.empty() || text.find_first_not_of("0123456789.") != std::string::npos) {
            return std::nullopt;
        }
        char* end = nullptr;
        double const v = std::strtod(text.c_str(), &end);
        return *end == '\0' && std::isfinite(v) ? std::optional{v} : std::nullopt;
    };
    auto const header = [&](char const* name) {
        auto const it = res.headers.find(name);
        return it == res.headers.end() ? std::string{} : it->second;
    };
    if (auto const ms = number(header("retry-after-ms"))) { // OpenAI's, finer
        return milliseconds{std::llround(std::min(*ms, day_ms))};
    }
    auto const text = header("retry-after");
    if (auto const s = number(text)) {
        return milliseconds{std::llround(std::min(*s * 1000, day_ms))};
    }
    if (text.empty()) {
        return std::nullopt;
    }
    time_t const at = curl_getdate(text.c_str(), nullptr); // an HTTP date
    if (at < 0) {
        return std::nullopt;
    }
    // in doubles: a date past 2262 overflows the clock's nanoseconds
    double const ms = (static_cast<double>(at) -
                       std::chrono::duration<double>(now.time_since_epoch()).count()) *
                      1000;
    return milliseconds{std::llround(std::clamp(ms, 0.0, day_ms))};
}

namespace {

// An answer no retry changes: one too large, TLS this machine cannot make, a
// host that does not exist, a base URL of the wrong scheme.
void throw_if_retry_cannot_help(http_response const& res, http_request const& request,
                                std::string const& service, std::string const& what)
{
    if (res.body_too_large) {
        throw data_error{fmt::format("{} sent more than {} MiB for {} (HTTP {}): not "
                                     "an answer it gives; nothing of it was read",
                                     service, request.max_body_bytes >> 20, what,
                                     res.status)};
    }
    if (res.status == 0 && res.tls_refused) {
        throw config_error{fmt::format(
            "{}: TLS failed for {}: {} (a CA certificate this machine lacks, or a "
            "proxy that intercepts TLS? a retry will not help)",
            service, what, res.transport_error)};
    }
    if (res.status == 0 && res.host_unknown) {
        throw config_error{
            fmt::format("{}: {} for {} (its base_url in the config?): no such host; a "
                        "retry will not help",
                        service, res.transport_error, what)};
    }
    if (res.status == 0 && !res.other_scheme.empty()) {
        throw config_error{fmt::format(
            "{}: {} for {}: the server there speaks {}: begin its base_url in the "
            "config with {}:// (a retry will not help)",
            service, res.transport_error, what,
            res.other_scheme == "https" ? "TLS (HTTPS)" : "plain HTTP, not TLS",
            res.other_scheme)};
    }
}

// After the last attempt: server_failed when the service answered (it is
// reachable, that endpoint failed), temporary_failure when it never did.
[[noreturn]] void give_up(std::string const& problem, std::string const& what,
                          int attempts, std::chrono::milliseconds asked, bool answered)
{
    auto message = fmt::format(
        "{} for {} after {} attempts{}", problem, what, attempts,
        asked.count() >= 0 ? fmt::format(" (the last asked to wait {}: Retry-After)",
                                         seconds_text(asked))
                           : "");
    if (answered) {
        throw server_failed{std::move(message)};
    }
    throw temporary_failure{std::move(message)};
}

} // namespace

retried_response http_send_retrying(http_request const& request,
                                    retry_policy const& policy,
                                    std::string const& service, std::string const& what,
                                    std::function<void(http_request&)> const& prepare)
{
    using std::chrono::milliseconds;
    std::string problem;
    // The waits never add up to more than the backoffs would (writer_call_limit_ms
    // and the run's timeouts count on it): a Retry-After beyond what is left
    // ends the retries now.
    auto budget = milliseconds{policy.backoff_ms * ((1L << policy.retries) - 1)};
    milliseconds asked{-1}; // the last answer's Retry-After; negative: none
    bool answered = false;  // the last attempt had an HTTP answer (5xx, 429)
    for (int attempt = 0; attempt <= policy.retries; ++attempt) {
        if (attempt > 0) {
            if (asked > budget) {
                throw server_failed{fmt::format(
                    "{} for {}, asking to wait {} (Retry-After), longer than the {} of "
                    "backoff its retries have left: the next run tries again",
                    problem, what, seconds_text(asked), seconds_text(budget))};
            }
            auto const backoff =
                std::min(milliseconds{policy.backoff_ms * (1L << (attempt - 1))}, budget);
            auto const wait = std::max(backoff, asked);
            budget -= wait;
            log::warn("{}; retrying {} in {} ms{} ({} of {})", problem, what,
                      wait.count(), asked > backoff ? " as it asks (Retry-After)" : "",
                      attempt, policy.retries);
            interruptible_sleep(wait);
        }
        auto res = [&] {
            if (!prepare) {
                return http_send(request);
            }
            auto signed_request = request;
            prepare(signed_request);
            return http_send(signed_request);
        }();
        throw_if_retry_cannot_help(res, request, service, what);
        answered = res.status != 0;
        if (res.status == 0) {
            asked = milliseconds{-1};
            problem =
                res.timed_out
                    ? fmt::format("{} timed out after {} ms", service, request.timeout_ms)
                    : fmt::format("{} is unreachable: {}", service, res.transport_error);
        } else if ((res.status >= 500 ||
                    (res.status == 429 && policy.retry_rate_limit)) &&
                   !(policy.final_answer && policy.final_answer(res))) {
            problem = fmt::format("{} answered HTTP {}", service, res.status);
            asked = retry_after(res, std::chrono::system_clock::now())
                        .value_or(milliseconds{-1});
        } else {
            return {std::move(res), attempt + 1}; // an answer, kept even after a signal
        }
        throw_if_interrupted(); // no retry after a signal
    }
    give_up(problem, what, policy.retries + 1, asked, answered);
}

namespace {

// Where a URL's authority (user:password@host:port) ends: its path, query or
// fragment, or the end.
std::size_t authority_end(std::string const& url, std::size_t from)
{
    auto const end = url.find_first_of("/?#", from);
    return end == std::string::npos ? url.size() : end;
}

// A web page where JSON was asked for ("<!DOCTYPE html>", "<html>"): a
// proxy's, a network's sign-in page or a website's answer, not the API's.
bool is_web_page(std::string_view body)
{
    if (body.substr(0, 3) == "\xEF\xBB\xBF") {
        body.remove_prefix(3); // a byte order mark
    }
    auto const start = body.find_first_not_of(" \t\r\n");
    return start != std::string_view::npos && body[start] == '<';
}

// "a web page, not JSON" with the page's <title> when it has one.
std::string web_page(std::string_view body)
{
    auto const head = to_lower(body.substr(0, 65536));
    auto const open = head.find("<title");
    auto const from = open == std::string::npos ? open : head.find('>', open);
    auto const to = from == std::string::npos ? from : head.find('<', from);
    if (to == std::string::npos) {
        return "a web page, not JSON";
    }
    auto title = excerpt(valid_utf8(body.substr(from + 1, to - from - 1)), 80);
    std::replace_if(title.begin(), title.end(), is_control_char, ' ');
    return title.empty() ? "a web page, not JSON"
                         : fmt::format("a web page, not JSON: '{}'", title);
}

} // namespace

bool is_wrong_address(http_response const& res)
{
    return res.status == 404 || res.status == 405 ||
           (res.status >= 301 && res.status <= 308 && res.status != 304 &&
            res.status != 305 && res.status != 306) ||
           (res.status / 100 == 2 && is_web_page(res.body));
}

std::string wrong_address_detail(http_response const& res)
{
    auto const it = res.headers.find("location");
    if (res.status / 100 == 3 && it != res.headers.end()) {
        return fmt::format(" (moved to {})", url_for_log(trim(it->second)));
    }
    if (res.status / 100 == 2 && is_web_page(res.body)) {
        return fmt::format(" ({}; a proxy or a network's sign-in page may answer for "
                           "it)",
                           web_page(res.body));
    }
    return {};
}

std::string answer_excerpt(std::string const& body)
{
    return is_web_page(body) ? web_page(body) : excerpt(valid_utf8(body), 300);
}

std::string url_origin(std::string const& url)
{
    auto const scheme_end = url.find("://");
    auto const host_from = scheme_end == std::string::npos ? 0 : scheme_end + 3;
    auto const host_to = authority_end(url, host_from);
    // the last '@' before the path ends a user:password (which may hold '@')
    auto const at = url.rfind('@', host_to == 0 ? 0 : host_to - 1);
    auto const host = at != std::string::npos && at >= host_from
                          ? url.substr(at + 1, host_to - at - 1)
                          : url.substr(host_from, host_to - host_from);
    return url.substr(0, host_from) + host;
}

std::optional<std::string> cleartext_host(std::string const& url)
{
    if (to_lower(url.substr(0, 7)) != "http://") {
        return std::nullopt;
    }
    auto host = to_lower(url_origin(url).substr(7));
    if (host.starts_with('[')) {
        host = host.substr(1, host.find(']') - 1); // [::1]:8080
    } else if (auto const colon = host.rfind(':'); colon != std::string::npos) {
        host.resize(colon);
    }
    if (host == "localhost" || host.starts_with("127.") || host == "::1") {
        return std::nullopt;
    }
    return host;
}

std::string url_for_log(std::string const& url)
{
    auto const scheme_end = url.find("://");
    auto const path_from =
        authority_end(url, scheme_end == std::string::npos ? 0 : scheme_end + 3);
    auto const path_to = url.find_first_of("?#", path_from);
    return url_origin(url) + url.substr(path_from, path_to - path_from);
}

} // namespace xloop
