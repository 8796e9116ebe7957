#include "x_api.hpp"

#include "error.hpp"
#include "http_client.hpp"
#include "json_text.hpp"
#include "log.hpp"
#include "text.hpp"

#include <nlohmann/json.hpp>
#include <openssl/rand.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <ctime>
#include <iterator>
#include <map>
#include <set>

namespace xloop {

namespace {

// A count is a whole number in [0, 2⁶³): 2⁶⁴−1 would read as −1 and a
// negative one would poison attribution. Anything else is left out, said once.
std::optional<std::int64_t> count(nlohmann::json const& obj, char const* key)
{
    if (!obj.is_object() || !obj.contains(key) || obj[key].is_null()) {
        return std::nullopt;
    }
    auto const& v = obj[key];
    if (v.is_number_unsigned() &&
        v.get<std::uint64_t>() <= static_cast<std::uint64_t>(INT64_MAX)) {
        return static_cast<std::int64_t>(v.get<std::uint64_t>());
    }
    if (v.is_number_integer() && !v.is_number_unsigned() && v.get<std::int64_t>() >= 0) {
        return v.get<std::int64_t>();
    }
    log::warn("X API sent {} = {}: not a count, left out", key, json_text(v));
    return std::nullopt;
}

// A field that should be a string; anything else reads as empty.
std::string text_field(nlohmann::json const& obj, char const* key)
{
    if (obj.is_object() && obj.contains(key) && obj[key].is_string()) {
        return obj[key].get<std::string>();
    }
    return {};
}

// An object of counts (public_metrics); anything else is left out, said once.
nlohmann::json metrics_object(nlohmann::json const& tweet, char const* key,
                              std::string const& id)
{
    if (!tweet.contains(key) || tweet[key].is_null()) {
        return nlohmann::json::object();
    }
    if (!tweet[key].is_object()) {
        log::warn("X API sent {} = {} for tweet {}: not an object, left out", key,
                  json_text(tweet[key]), id);
        return nlohmann::json::object();
    }
    return tweet[key];
}

// A tweet id is digits as text; a NUL or control character could not even be
// stored, and would fail the whole page.
bool plausible_id(std::string const& id)
{
    return !id.empty() && !has_control_chars(id);
}

nlohmann::json parse_body(std::string const& body, std::string const& what)
{
    try {
        auto j = nlohmann::json::parse(body);
        if (!j.is_object()) {
            throw data_error{
                fmt::format("X API returned a non-object JSON body for {}", what)};
        }
        return j;
    } catch (nlohmann::json::exception const& e) { // parse_error, and out_of_range: 1e401
        throw data_error{
            fmt::format("X API returned malformed JSON for {}: {}", what, e.what())};
    }
}

// ": <detail>" of an X problem object, or nothing.
std::string problem_detail(nlohmann::json const& e)
{
    auto const detail = text_field(e, "detail");
    return detail.empty() ? std::string{} : ": " + excerpt(detail, 200);
}

// " (<title>: <detail>)" of the problem an error body holds, or nothing: X
// says there why it refused (e.g. "Unsupported Authentication").
std::string problem_of(std::string const& body)
{
    auto const j = nlohmann::json::parse(body, nullptr, false);
    auto const title = text_field(j, "title");
    if (title.empty() || has_control_chars(title)) {
        return {};
    }
    auto detail = problem_detail(j);
    if (has_control_chars(detail)) {
        detail.clear();
    }
    return fmt::format(" ({}{})", excerpt(title, 80), detail);
}

// A 429 for the project's usage cap (the posts its X plan lets it read in a
// month) rather than the endpoint's 15-minute window: its x-rate-limit-reset
// is the window's, not when the cap renews.
bool usage_capped(std::string const& body)
{
    auto const j = nlohmann::json::parse(body, nullptr, false);
    return text_field(j, "type").find("/problems/usage-capped") != std::string::npos ||
           text_field(j, "title") == "UsageCapExceeded";
}

} // namespace

x_api_credentials x_api_credentials_from_env(x_api_config const& cfg)
{
    if (cfg.auth != "oauth1") {
        return {
            secret_from_env("x_api.token_env", cfg.token_env, "the X API bearer token"),
            std::nullopt};
    }
    return {
        {},
        oauth1_credentials{
            secret_from_env("x_api.consumer_key_env", cfg.consumer_key_env,
                            "the X app's API key"),
            secret_from_env("x_api.consumer_secret_env", cfg.consumer_secret_env,
                            "the X app's API key secret"),
            secret_from_env("x_api.access_token_env", cfg.access_token_env,
                            "the account's access token"),
            secret_from_env("x_api.access_token_secret_env", cfg.access_token_secret_env,
                            "the account's access token secret")}};
}

// What a 401 or 403 asks the operator to check.
std::string x_api_client::check_credentials() const
{
    if (!m_credentials.oauth1) {
        return fmt::format("check the bearer token in ${} and the app's access level",
                           m_cfg.token_env);
    }
    return fmt::format("check the keys in ${}, ${}, ${} and ${}, the app's access "
                       "level, and the clock (X refuses a time minutes off)",
                       m_cfg.consumer_key_env, m_cfg.consumer_secret_env,
                       m_cfg.access_token_env, m_cfg.access_token_secret_env);
}

x_api_client::x_api_client(x_api_config const& cfg, std::string token)
    : x_api_client(cfg, x_api_credentials{std::move(token), std::nullopt})
{}

x_api_client::x_api_client(x_api_config const& cfg, x_api_credentials credentials)
    : m_cfg(cfg), m_credentials(std::move(credentials))
{
    while (!m_cfg.base_url.empty() && m_cfg.base_url.back() == '/') {
        m_cfg.base_url.pop_back();
    }
}

// A fresh nonce and the clock's time for each attempt: X refuses a nonce
// it has seen, and a time more than minutes off.
std::string x_api_client::authorization(std::string const& url,
                                        request_params const& query) const
{
    if (!m_credentials.oauth1) {
        return "Authorization: Bearer " + m_credentials.bearer;
    }
    unsigned char bytes[16];
    if (RAND_bytes(bytes, sizeof bytes) != 1) {
        throw error{"no random bytes for an OAuth nonce"};
    }
    std::string nonce;
    for (auto const b : bytes) {
        nonce += fmt::format("{:02x}", b);
    }
    return "Authorization: " +
           oauth1_authorization("GET", url, query, *m_credentials.oauth1, nonce,
                                static_cast<std::int64_t>(std::time(nullptr)));
}

namespace {

// A header's whole number in [0, max): none where it holds anything else.
std::optional<long long> header_number(std::string const& header, long long max)
{
    char* end = nullptr;
    errno = 0;
    long long const n = std::strtoll(header.c_str(), &end, 10);
    bool const number = end && *end == '\0' && !header.empty() && errno == 0;
    return number && n >= 0 && n < max ? std::optional{n} : std::nullopt;
}

// A window's name in words.
std::string window_text(std::string const& header)
{
    if (header == "x-user-limit-24hour") {
        return "the user's 24-hour limit";
    }
    if (header == "x-app-limit-24hour") {
        return "the app's 24-hour limit";
    }
    return "the endpoint's window";
}

// HTTP 429: the project's usage cap (nothing until it renews), a day's cap
// or the endpoint's 15-minute window (with its reset time where X sends it).
[[noreturn]] void throw_rate_limited(http_response const& res, std::string const& what)
{
    if (usage_capped(res.body)) {
        throw rate_limited{
            fmt::format("X API usage cap reached (HTTP 429) on {}{}: the X project has "
                        "read all its plan allows for the period; nothing more is read "
                        "until the cap renews (the developer portal shows when) or the "
                        "plan allows more",
                        what, problem_of(res.body)),
            "what was collected so far is kept, the next run goes on", std::nullopt};
    }
    std::string reset = "X did not say when it resets";
    std::optional<long long> reset_epoch;
    // a day's cap used up: the endpoint's window resets long before it (a
    // used-up window binds whatever the time, so none is needed here)
    if (auto const w = binding_window(rate_windows(res.headers), 0);
        w && w->remaining == 0 && w->reset_epoch && w->header != "x-rate-limit") {
        reset = fmt::format(
            "{} is used up ({}-remaining: 0); it resets at {}", window_text(w->header),
            w->header,
            format_timestamp(timestamp{std::chrono::seconds{*w->reset_epoch}}));
        reset_epoch = w->reset_epoch;
    } else if (auto const it = res.headers.find("x-rate-limit-reset");
               it != res.headers.end()) {
        reset = "it resets at " + rate_limit_reset(it->second);
        reset_epoch = rate_limit_reset_epoch(it->second);
    }
    throw rate_limited{fmt::format("X API rate limit reached (HTTP 429) on {}{}; {}",
                                   what, problem_of(res.body), reset),
                       "what was collected so far is kept, the next run goes on",
                       reset_epoch};
}

} // namespace

std::optional<long long> rate_limit_reset_epoch(std::string const& header)
{
    return header_number(header, 7258118400LL); // epoch seconds before 2200
}

std::vector<rate_window> rate_windows(std::map<std::string, std::string> const& headers)
{
    std::vector<rate_window> out;
    for (char const* stem :
         {"x-rate-limit", "x-user-limit-24hour", "x-app-limit-24hour"}) {
        auto const header = std::string{stem};
        auto const left = headers.find(header + "-remaining");
        auto const remaining = left == headers.end()
                                   ? std::nullopt
                                   : header_number(left->second, 1000000000LL);
        if (!remaining) {
            continue; // no allowance X gives
        }
        auto const reset = headers.find(header + "-reset");
        out.push_back({header, *remaining,
                       reset == headers.end() ? std::nullopt
                                              : rate_limit_reset_epoch(reset->second)});
    }
    return out;
}

std::optional<rate_window> binding_window(std::vector<rate_window> const& windows,
                                          long long now_epoch)
{
    // how far apart its requests left come: none left binds first, the
    // latest to reset of those; then the widest spacing; a window without
    // a reset ranks by its count alone, after those with one
    auto const rank = [&](rate_window const& w) {
        if (w.remaining == 0) {
            return std::pair{2,
                             w.reset_epoch ? static_cast<double>(*w.reset_epoch) : 0.0};
        }
        if (w.reset_epoch) {
            return std::pair{1, static_cast<double>(*w.reset_epoch - now_epoch) /
                                    static_cast<double>(w.remaining + 1)};
        }
        return std::pair{0, -static_cast<double>(w.remaining)};
    };
    auto const it =
        std::max_element(windows.begin(), windows.end(),
                         [&](auto const& a, auto const& b) { return rank(a) < rank(b); });
    return it == windows.end() ? std::nullopt : std::optional{*it};
}

std::string rate_limit_reset(std::string const& header)
{
    // one beyond 2199 (or not a number) is shown as sent
    auto const secs = rate_limit_reset_epoch(header);
    return secs ? format_timestamp(timestamp{std::chrono::seconds{*secs}})
                : "'" + header.substr(0, 40) + "' (not a time)";
}

std::string x_api_client::get(std::string const& path, request_params const& query,
                              std::string const& what, char const* refused_hint)
{
    http_request req;
    auto const url = m_cfg.base_url + path;
    req.url = url;
    for (auto const& [k, v] : query) {
        req.url += fmt::format("{}{}={}", req.url.size() == url.size() ? "?" : "&",
                               oauth_percent_encode(k), oauth_percent_encode(v));
    }
    req.headers = {"Accept: application/json"};
    req.timeout_ms = m_cfg.timeout_ms;
    req.session = &m_session;
    // 429 is not retried: the window resets in minutes; the next run goes on.
    auto const [res, attempts] = http_send_retrying(
        req, {m_cfg.retries, m_cfg.backoff_ms, false, {}}, "X API", what,
        [&](http_request& r) { r.headers.push_back(authorization(url, query)); });
    m_requests += attempts;
    if (res.status == 200 && !is_wrong_address(res)) {
        m_allowances[path] = rate_windows(res.headers);
        return res.body;
    }
    if (res.status == 429) {
        throw_rate_limited(res, what);
    }
    if (res.status == 401 || res.status == 403) {
        throw service_refused{fmt::format(
            "X API refused the request (HTTP {}) for {}{}: {}", res.status, what,
            problem_of(res.body), refused_hint ? refused_hint : check_credentials())};
    }
    if (is_wrong_address(res)) {
        throw config_error{fmt::format(
            "X API answered HTTP {} for {}{}: is x_api.base_url ({}) the API's address? "
            "(https://api.x.com, no path)",
            res.status, what, wrong_address_detail(res), url_for_log(m_cfg.base_url))};
    }
    throw data_error{fmt::format("X API answered HTTP {} for {}: {}", res.status, what,
                                 answer_excerpt(res.body))};
}

tweets_page x_api_client::fetch_page(std::vector<std::string> const& ids, bool non_public)
{
    std::string joined;
    for (auto const& id : ids) {
        joined += (joined.empty() ? "" : ",") + id;
    }
    auto const what =
        ids.size() == 1
            ? fmt::format("GET /2/tweets (tweet {}{})", ids.front(),
                          non_public ? "" : ", public metrics")
            : fmt::format("GET /2/tweets ({} ids, {} … {}{})", ids.size(), ids.front(),
                          ids.back(), non_public ? "" : ", public metrics");
    auto const fields =
        non_public
            ? "public_metrics,non_public_metrics,created_at,in_reply_to_user_id,author_id"
            : "public_metrics,created_at,in_reply_to_user_id,author_id";
    // the accounts replied to, by handle, in the same answer
    auto const body = get("/2/tweets",
                          {{"ids", joined},
                           {"tweet.fields", fields},
                           {"expansions", "in_reply_to_user_id"},
                           {"user.fields", "username"}},
                          what);
    return parse_tweets_page(body, what);
}

std::optional<x_api_client::allowance>
x_api_client::allowance_of(std::string const& path, long long now_epoch) const
{
    if (auto const it = m_allowances.find(path); it != m_allowances.end()) {
        return binding_window(it->second, now_epoch);
    }
    return std::nullopt;
}

tweets_page x_api_client::fetch_tweets(std::vector<std::string> const& ids,
                                       bool non_public)
{
    non_public = non_public && m_cfg.non_public_metrics && !m_non_public_refused;
    auto page = fetch_page(ids, non_public);
    if (page.field_refused.empty()) {
        return page;
    }
    std::set<std::string> const refused(page.field_refused.begin(),
                                        page.field_refused.end());
    page.field_refused.clear();
    std::vector<std::string> missing; // refused and not in 'data' without the field
    for (auto const& id : refused) {
        if (std::none_of(page.found.begin(), page.found.end(),
                         [&](tweet_metrics const& t) { return t.id == id; })) {
            missing.push_back(id);
        }
    }
    if (!non_public) { // a public field refused: nothing to ask instead
        for (auto const& id : missing) {
            log::warn("X API would not show the metrics of tweet {}; retried next run",
                      id);
        }
        page.failed.insert(page.failed.end(), missing.begin(), missing.end());
        return page;
    }
    if (refused.size() == std::set<std::string>(ids.begin(), ids.end()).size()) {
        m_non_public_refused = true;
        log::warn("X API would not show the non-public metrics (profile clicks) of "
                  "any post asked for ({}): the credentials are app-only or not "
                  "the posts' author's. Public metrics only from now on; set "
                  "x_api.non_public_metrics: false not to ask",
                  counted(static_cast<long long>(ids.size()), "id", "ids"));
    }
    if (!missing.empty()) {
        auto more = fetch_page(missing, false);
        std::move(more.found.begin(), more.found.end(), std::back_inserter(page.found));
        page.gone.insert(page.gone.end(), more.gone.begin(), more.gone.end());
        page.failed.insert(page.failed.end(), more.failed.begin(), more.failed.end());
        page.failed.insert(page.failed.end(), more.field_refused.begin(),
                           more.field_refused.end());
    }
    return page;
}

namespace {

// One item of 'data': its counts, or nothing for an id that is no id.
std::optional<tweet_metrics> read_tweet(nlohmann::json const& t, std::string const& what,
                                        std::map<std::string, std::string> const& handles)
{
    if (!t.is_object() || !t.contains("id") || !t["id"].is_string()) {
        throw data_error{fmt::format("X API response to {}: a tweet has no id", what)};
    }
    tweet_metrics m;
    m.id = t["id"].get<std::string>();
    if (!plausible_id(m.id)) {
        log::warn("X API response to {}: a tweet id {} is not an id, left out", what,
                  json_text(m.id));
        return std::nullopt;
    }
    auto const pub = metrics_object(t, "public_metrics", m.id);
    auto const priv = metrics_object(t, "non_public_metrics", m.id);
    m.counts.impressions = count(pub, "impression_count");
    if (!m.counts.impressions) {
        m.counts.impressions = count(priv, "impression_count");
    }
    m.counts.likes = count(pub, "like_count");
    m.counts.retweets = count(pub, "retweet_count");
    m.counts.replies = count(pub, "reply_count");
    m.counts.quotes = count(pub, "quote_count");
    m.counts.bookmarks = count(pub, "bookmark_count");
    // non-public metrics exist for 30 days and only with user context
    m.counts.profile_clicks = count(priv, "user_profile_clicks");
    if (t.contains("created_at") && t["created_at"].is_string()) {
        m.created_at = parse_timestamp(t["created_at"].get<std::string>());
    }
    if (auto const to = text_field(t, "in_reply_to_user_id"); !to.empty()) {
        if (auto const h = handles.find(to); h != handles.end()) {
            m.replied_to = h->second;
        }
    }
    m.author_id = text_field(t, "author_id");
    return m;
}

// includes.users of an answer: each expanded account's handle by its id; a
// handle that is no X handle is left out (it would be stored and grouped by).
std::map<std::string, std::string> user_handles(nlohmann::json const& j)
{
    std::map<std::string, std::string> out;
    if (!j.contains("includes") || !j["includes"].is_object()) {
        return out;
    }
    auto const& inc = j["includes"];
    if (!inc.contains("users") || !inc["users"].is_array()) {
        return out;
    }
    for (auto const& u : inc["users"]) {
        auto const id = text_field(u, "id");
        auto const handle = text_field(u, "username");
        if (!id.empty() && is_x_handle(handle)) {
            out.emplace(id, handle);
        }
    }
    return out;
}

// One item of 'errors': a post that is gone, one to retry next run, or
// (without a usable id) only a warning.
void read_tweet_error(nlohmann::json const& e, std::string const& what, tweets_page& page)
{
    if (!e.is_object()) {
        log::warn("X API error on {}: {}", what, json_text(e).substr(0, 300));
        return;
    }
    auto id = text_field(e, "resource_id");
    if (id.empty()) {
        id = text_field(e, "value");
    }
    if (!plausible_id(id)) {
        id.clear();
    }
    auto const type = text_field(e, "type");
    auto const title = text_field(e, "title");
    // an account a reply answers that X would not expand (suspended,
    // protected): the reply is named no account, its tweet is fine
    if (text_field(e, "section") == "includes" ||
        text_field(e, "resource_type") == "user") {
        log::debug("X API on {}: {} for user {}", what, title, id);
        return;
    }
    bool const not_found = type.find("resource-not-found") != std::string::npos ||
                           title == "Not Found Error";
    bool const field_refused =
        type.find("not-authorized-for-field") != std::string::npos ||
        type.find("field-unauthorized") != std::string::npos ||
        title == "Field Authorization Error";
    if (id.empty()) {
        log::warn("X API error on {}: {} {}", what, title, text_field(e, "detail"));
    } else if (field_refused) {
        page.field_refused.push_back(id);
    } else if (not_found) {
        page.gone.push_back(id);
    } else {
        log::warn("X API error for tweet {}: {} ({}); retried next run", id, title,
                  text_field(e, "detail"));
        page.failed.push_back(id);
    }
}

} // namespace

tweets_page parse_tweets_page(std::string const& body, std::string const& what)
{
    auto const j = parse_body(body, what);
    tweets_page page;
    if (j.contains("data")) {
        if (!j["data"].is_array()) {
            throw data_error{
                fmt::format("X API response to {}: 'data' is not a list", what)};
        }
        auto const handles = user_handles(j);
        for (auto const& t : j["data"]) {
            if (auto m = read_tweet(t, what, handles)) {
                page.found.push_back(std::move(*m));
            }
        }
    }
    if (j.contains("errors") && j["errors"].is_array()) {
        for (auto const& e : j["errors"]) {
            read_tweet_error(e, what, page);
        }
    }
    return page;
}

std::optional<x_api_client::allowance>
x_api_client::account_allowance(long long now_epoch) const
{
    return allowance_of(m_cfg.username.empty() ? std::string{"/2/users/me"}
                                               : "/2/users/by/username/" +
                                                     oauth_percent_encode(m_cfg.username),
                        now_epoch);
}

account_counts x_api_client::fetch_account()
{
    if (!m_cfg.username.empty()) {
        auto const what = fmt::format("GET /2/users/by/username/{}", m_cfg.username);
        return parse_account(
            get("/2/users/by/username/" + oauth_percent_encode(m_cfg.username),
                {{"user.fields", "public_metrics"}}, what),
            what, m_cfg.username);
    }
    std::string const what = "GET /2/users/me";
    auto const hint = fmt::format(
        "an app-only bearer token cannot read GET /2/users/me: set x_api.username to "
        "the account's handle (any token may look a user up), or check the token in ${}",
        m_cfg.token_env);
    return parse_account(get("/2/users/me", {{"user.fields", "public_metrics"}}, what,
                             m_credentials.oauth1 ? nullptr : hint.c_str()),
                         what);
}

account_counts parse_account(std::string const& body, std::string const& what,
                             std::string const& username)
{
    auto const j = parse_body(body, what);
    if (!username.empty() && !(j.contains("data") && j["data"].is_object()) &&
        j.contains("errors") && j["errors"].is_array() && !j["errors"].empty()) {
        throw config_error{fmt::format(
            "x_api.username '{}': X answered {} with {}{}", username, what,
            text_field(j["errors"][0], "title"), problem_detail(j["errors"][0]))};
    }
    auto const pm = j.contains("data") && j["data"].is_object()
                        ? j["data"].value("public_metrics", nlohmann::json::object())
                        : nlohmann::json::object();
    auto const followers = count(pm, "followers_count");
    if (!followers) {
        throw data_error{fmt::format(
            "X API response to {} has no public_metrics.followers_count", what)};
    }
    auto handle = j.contains("data") ? text_field(j["data"], "username") : std::string{};
    if (!is_x_handle(handle)) {
        handle.clear();
    }
    return {*followers, count(pm, "following_count"), count(pm, "tweet_count"),
            std::move(handle),
            j.contains("data") ? text_field(j["data"], "id") : std::string{}};
}

} // namespace xloop
