#include "fake_x_api.hpp"
#include "tls_server.hpp"

#include "error.hpp"
#include "http_client.hpp"
#include "local_server.hpp"
#include "x_api.hpp"

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <map>
#include <set>
#include <string>
#include <thread>

using namespace xloop;
using namespace xloop::test;

namespace {

x_api_client client_for(fake_x_api const& api, int timeout_ms = 2000, int retries = 2)
{
    x_api_config cfg;
    cfg.base_url = api.base_url() + "/";
    cfg.timeout_ms = timeout_ms;
    cfg.retries = retries;
    cfg.backoff_ms = 10;
    return x_api_client{cfg, "tok-123-secret"};
}

template <typename E, typename F>
std::string message_of(F&& f)
{
    try {
        f();
    } catch (E const& e) {
        return e.what();
    }
    return "no error";
}

} // namespace

TEST_CASE("a URL's origin names its host, never its user, password or path", "[nodb]")
{
    CHECK(url_origin("https://hc-ping.com/5f1e-uuid") == "https://hc-ping.com");
    CHECK(url_origin("http://127.0.0.1:8080/hc/abc?x=1") == "http://127.0.0.1:8080");
    CHECK(url_origin("https://user:p@ss@host.example:443/p@th") ==
          "https://host.example:443");
    CHECK(url_origin("http://host?token=s") == "http://host");
    CHECK(url_origin("host.example/x") == "host.example");
}

TEST_CASE("a URL for a log keeps its path, never its user, password or query", "[nodb]")
{
    CHECK(url_for_log("https://api.openai.com/v1/chat/completions") ==
          "https://api.openai.com/v1/chat/completions");
    CHECK(url_for_log(
              "https://u:s3cr3t@llm.example:8443/api/v1/chat/completions?key=k#f") ==
          "https://llm.example:8443/api/v1/chat/completions");
    CHECK(url_for_log("http://host?token=s") == "http://host");
    CHECK(url_for_log("http://host") == "http://host");
}

TEST_CASE("the X API client reads metrics and sends the bearer token", "[nodb]")
{
    fake_x_api api;
    auto client = client_for(api);
    auto const page = client.fetch_tweets({"101", "102"});
    REQUIRE(page.found.size() == 2);
    CHECK(page.found[0].id == "101");
    CHECK(*page.found[0].counts.impressions == fake_impressions("101"));
    CHECK(*page.found[0].counts.likes == fake_likes("101"));
    CHECK(*page.found[0].counts.retweets == 3);
    CHECK(*page.found[0].counts.profile_clicks == 5);
    auto const reqs = api.requests();
    REQUIRE(reqs.size() == 1);
    CHECK(reqs[0].ids == std::vector<std::string>{"101", "102"});
    CHECK(reqs[0].authorization == "Bearer tok-123-secret");
    auto const me = client.fetch_account();
    CHECK(me.followers == 1000);
    CHECK(*me.tweets == 100);
}

TEST_CASE("a proxy the environment names is never asked for this machine's own "
          "servers, whatever its no_proxy list says",
          "[nodb]")
{
    // A stand-in proxy on 127.0.0.1 (no traffic leaves the machine) that
    // counts what it is asked, stopped however the test ends.
    struct counting_proxy {
        httplib::Server server;
        std::atomic<int> asked{0};
        int port = 0;
        std::thread listening;
        counting_proxy()
        {
            server.set_error_handler([this](auto const&, auto& res) {
                ++asked;
                res.status = 502;
            });
            port = bind_loopback(server);
            listening = start_listening(server);
        }
        ~counting_proxy()
        {
            server.stop();
            listening.join();
        }
    } proxy;
    // The environment's proxy settings, put back however the test ends.
    struct saved_env {
        std::map<std::string, std::optional<std::string>> before;
        saved_env()
        {
            for (auto const* n : {"http_proxy", "https_proxy", "HTTPS_PROXY", "all_proxy",
                                  "ALL_PROXY", "no_proxy", "NO_PROXY"}) {
                char const* v = std::getenv(n);
                before[n] = v ? std::optional<std::string>{v} : std::nullopt;
            }
        }
        ~saved_env()
        {
            for (auto const& [n, v] : before) {
                v ? ::setenv(n.c_str(), v->c_str(), 1) : ::unsetenv(n.c_str());
            }
        }
    } saved;
    auto const proxy_url = fmt::format("http://127.0.0.1:{}", proxy.port);
    for (auto const* n : {"http_proxy", "https_proxy", "all_proxy"}) {
        ::setenv(n, proxy_url.c_str(), 1);
    }
    ::unsetenv("NO_PROXY");
    fake_x_api api;
    auto client = client_for(api, 2000, 0);
    for (auto const* no_proxy : {"", "other.example"}) {
        INFO("no_proxy=" << no_proxy);
        ::setenv("no_proxy", no_proxy, 1);
        CHECK_NOTHROW(client.fetch_tweets({"101"}));
        CHECK(proxy.asked == 0);
    }
}

TEST_CASE("the X API client's requests share one kept-alive connection", "[nodb]")
{
    fake_x_api api;
    auto client = client_for(api);
    client.fetch_account();
    for (int page = 0; page < 7; ++page) {
        CHECK(client.fetch_tweets({std::to_string(100 + page)}).found.size() == 1);
    }
    auto const reqs = api.requests();
    REQUIRE(reqs.size() == 8);
    std::set<int> ports;
    for (auto const& r : reqs) {
        ports.insert(r.remote_port);
    }
    CHECK(ports.size() == 1);
}

TEST_CASE("a connection the server closed while idle is replaced, the request answered",
          "[nodb]")
{
    fake_x_api api{1}; // closes a connection idle for a second
    auto client = client_for(api);
    CHECK(client.fetch_tweets({"1"}).found.size() == 1);
    std::this_thread::sleep_for(std::chrono::milliseconds{1500});
    CHECK(client.fetch_tweets({"2"}).found.size() == 1);
    auto const reqs = api.requests();
    REQUIRE(reqs.size() == 2);
    CHECK(reqs[0].remote_port != reqs[1].remote_port);
}

TEST_CASE("without non-public metrics the public ones are still read", "[nodb]")
{
    fake_x_api api;
    api.with_non_public = false;
    auto const page = client_for(api).fetch_tweets({"7"});
    REQUIRE(page.found.size() == 1);
    CHECK(*page.found[0].counts.impressions == fake_impressions("7"));
    CHECK_FALSE(page.found[0].counts.profile_clicks);
}

TEST_CASE("a 200 with errors separates deleted tweets from other failures", "[nodb]")
{
    fake_x_api api;
    api.gone = {"2"};
    api.refused = {"3"};
    auto const page = client_for(api).fetch_tweets({"1", "2", "3"});
    CHECK(page.found.size() == 1);
    CHECK(page.gone == std::vector<std::string>{"2"});
    CHECK(page.failed == std::vector<std::string>{"3"});
}

TEST_CASE("429 stops with a temporary failure naming the reset time", "[nodb]")
{
    fake_x_api api;
    api.tweets_failures[0] = fake_failure{429,
                                          "{\"title\": \"Too Many Requests\"}",
                                          {{"x-rate-limit-reset", "1772452800"}},
                                          0};
    auto client = client_for(api);
    auto const msg = message_of<temporary_failure>([&] { client.fetch_tweets({"1"}); });
    CHECK(msg.find("HTTP 429") != std::string::npos);
    CHECK(msg.find("2026-03-02T12:00:00Z") != std::string::npos); // 1772452800
    CHECK(api.tweet_requests().size() == 1);                      // not retried
    api.tweets_failures[1] = fake_failure{429, "{}", {}, 0};
    CHECK(message_of<temporary_failure>([&] { client.fetch_tweets({"1"}); }) ==
          "X API rate limit reached (HTTP 429) on GET /2/tweets (tweet 1); X did not say "
          "when it resets; what was collected so far is kept, the next run goes on");
}

TEST_CASE("an answer's rate limits are the endpoint's window and X's day caps: the one "
          "that binds is one used up or else the one whose requests left come furthest "
          "apart",
          "[nodb]")
{
    long long const now = 1772452800; // 2026-03-02T12:00:00Z
    auto const windows = rate_windows({{"x-rate-limit-remaining", "74"},
                                       {"x-rate-limit-reset", "1772453400"},
                                       {"x-user-limit-24hour-remaining", "23"},
                                       {"x-user-limit-24hour-reset", "1772488800"},
                                       {"x-app-limit-24hour-remaining", "lots"},
                                       {"x-app-limit-24hour-reset", "1772488800"}});
    REQUIRE(windows.size() == 2); // "lots" is no count
    CHECK(windows[0].header == "x-rate-limit");
    CHECK(windows[0].remaining == 74);
    CHECK(windows[0].reset_epoch == 1772453400);
    CHECK(windows[1].header == "x-user-limit-24hour");
    // the 15-minute window: 600 s / 75 = 8 s apart; the day's: 36 000 s / 24
    // = 1 500 s apart, so the day's binds
    CHECK(binding_window(windows, now)->header == "x-user-limit-24hour");
    // one used up binds whatever the others allow
    auto used_up = windows;
    used_up[0].remaining = 0;
    CHECK(binding_window(used_up, now)->header == "x-rate-limit");
    // two used up: the later to reset
    used_up[1].remaining = 0;
    CHECK(binding_window(used_up, now)->header == "x-user-limit-24hour");
    // without resets, the fewest left; none at all, none
    CHECK(binding_window({{"x-rate-limit", 5, {}}, {"x-app-limit-24hour", 3, {}}}, now)
              ->header == "x-app-limit-24hour");
    CHECK(!binding_window({}, now));
}

TEST_CASE("a 429 for a day's cap names it and when it resets, not the endpoint's "
          "window's reset",
          "[nodb]")
{
    fake_x_api api;
    // the 15-minute window has requests left and resets at 12:15; the day's
    // cap is used up until 22:00
    api.tweets_failures[0] = fake_failure{429,
                                          "{\"title\": \"Too Many Requests\"}",
                                          {{"x-rate-limit-remaining", "299"},
                                           {"x-rate-limit-reset", "1772453700"},
                                           {"x-user-limit-24hour-remaining", "0"},
                                           {"x-user-limit-24hour-reset", "1772488800"}},
                                          0};
    auto client = client_for(api);
    std::optional<long long> reset;
    std::string msg;
    try {
        client.fetch_tweets({"1"});
    } catch (rate_limited const& e) {
        reset = e.reset_epoch;
        msg = e.what();
    }
    CHECK(reset == 1772488800);
    CHECK(msg == "X API rate limit reached (HTTP 429) on GET /2/tweets (tweet 1) (Too "
                 "Many Requests); the user's 24-hour limit is used up "
                 "(x-user-limit-24hour-remaining: 0); it resets at 2026-03-02T22:00:00Z; "
                 "what was collected so far is kept, the next run goes on");
}

TEST_CASE("a 429 for the month's usage cap says so", "[nodb]")
{
    fake_x_api api;
    api.tweets_failures[0] = fake_failure{
        429, R"({"title": "UsageCapExceeded", "detail": "Usage cap exceeded: Monthly )"
             R"(product cap", "type": "https://api.twitter.com/2/problems/usage-capped",)"
             R"( "period": "Monthly", "scope": "Product"})"};
    auto client = client_for(api);
    CHECK(message_of<temporary_failure>([&] { client.fetch_tweets({"1"}); }) ==
          "X API usage cap reached (HTTP 429) on GET /2/tweets (tweet 1) "
          "(UsageCapExceeded: Usage cap exceeded: Monthly product cap): the X project "
          "has read all its plan allows for the period; nothing more is read until the "
          "cap renews (the developer portal shows when) or the plan allows more; what "
          "was collected so far is kept, the next run goes on");
    // the endpoint's window reset X sends with it is not when the cap renews
    api.tweets_failures[1] = fake_failure{
        429,
        R"({"title": "Too Many Requests", "type": "https://api.twitter.com/2/problems/)"
        R"(usage-capped"})",
        {{"x-rate-limit-reset", "1772452800"}},
        0};
    auto const second =
        message_of<temporary_failure>([&] { client.fetch_tweets({"1"}); });
    CHECK_THAT(second, Catch::StartsWith("X API usage cap reached (HTTP 429)"));
    CHECK(second.find("2026-03-02T12:00:00Z") == std::string::npos);
}

TEST_CASE("a 5xx is retried with backoff and then succeeds", "[nodb]")
{
    fake_x_api api;
    api.tweets_failures[0] = fake_failure{500};
    api.tweets_failures[1] = fake_failure{503};
    auto const page = client_for(api).fetch_tweets({"1"});
    CHECK(page.found.size() == 1);
    CHECK(api.tweet_requests().size() == 3);
}

TEST_CASE("5xx beyond the retries is a temporary failure", "[nodb]")
{
    fake_x_api api;
    api.always = fake_failure{502};
    auto client = client_for(api, 2000, 2);
    auto const msg = message_of<temporary_failure>([&] { client.fetch_tweets({"1"}); });
    CHECK(msg.find("HTTP 502") != std::string::npos);
    CHECK(msg.find("after 3 attempts") != std::string::npos);
    CHECK(api.tweet_requests().size() == 3);
}

TEST_CASE("Retry-After is read in seconds, as a date, or as OpenAI's milliseconds",
          "[nodb]")
{
    using std::chrono::milliseconds;
    // 2015-10-21T07:28:00Z, as the date in the header below
    auto const now = std::chrono::system_clock::from_time_t(1445412480);
    auto const ask = [&](long status, std::map<std::string, std::string> headers) {
        http_response res;
        res.status = status;
        res.headers = std::move(headers);
        return retry_after(res, now);
    };
    CHECK(ask(429, {{"retry-after", "20"}}) == milliseconds{20000});
    CHECK(ask(503, {{"retry-after", "1.5"}}) == milliseconds{1500});
    CHECK(ask(429, {{"retry-after", "Wed, 21 Oct 2015 07:28:30 GMT"}}) ==
          milliseconds{30000});
    CHECK(ask(429, {{"retry-after", "Wed, 21 Oct 2015 07:27:00 GMT"}}) ==
          milliseconds{0}); // past: at once
    CHECK(ask(429, {{"retry-after", "20"}, {"retry-after-ms", "250"}}) ==
          milliseconds{250});
    CHECK(ask(429, {{"retry-after", "99999999999"}}) == milliseconds{86400000});
    // a date past what the clock's nanoseconds hold (2262): a day, not an
    // overflow that came out as no wait at all
    CHECK(ask(429, {{"retry-after", "Fri, 31 Dec 9999 23:59:59 GMT"}}) ==
          milliseconds{86400000});
    CHECK(!ask(429, {{"retry-after", "soon"}}));
    CHECK(!ask(429, {{"retry-after", "-5"}}));
    CHECK(!ask(429, {}));
    CHECK(!ask(500, {{"retry-after", "20"}})); // only a 429 or 503 asks
}

TEST_CASE("a 503's Retry-After is waited when the backoffs leave room, else the run "
          "stops naming it",
          "[nodb]")
{
    fake_x_api api;
    api.tweets_failures[0] = fake_failure{503, "{}", {{"Retry-After", "2"}}};
    x_api_config cfg;
    cfg.base_url = api.base_url() + "/";
    cfg.timeout_ms = 2000;
    cfg.retries = 2;
    cfg.backoff_ms = 1000; // 1 s, then 2 s: 3 s in all
    x_api_client client{cfg, "tok"};
    auto const start = std::chrono::steady_clock::now();
    auto const page = client.fetch_tweets({"1"});
    auto const waited = std::chrono::steady_clock::now() - start;
    CHECK(page.found.size() == 1);
    CHECK(api.tweet_requests().size() == 2);
    CHECK(waited >= std::chrono::milliseconds{1900}); // 2 s, not the first backoff's 1

    fake_x_api busy;
    busy.always = fake_failure{503, "{}", {{"Retry-After", "3600"}}};
    cfg.base_url = busy.base_url() + "/";
    x_api_client busy_client{cfg, "tok"};
    auto const msg =
        message_of<temporary_failure>([&] { busy_client.fetch_tweets({"1"}); });
    CHECK(msg == "X API answered HTTP 503 for GET /2/tweets (tweet 1), asking to wait "
                 "3600 s (Retry-After), longer than the 3 s of backoff its retries have "
                 "left: the next run tries again");
    CHECK(busy.tweet_requests().size() == 1); // not asked again before its time
}

TEST_CASE("401 is a refusal that names the token variable, never the token", "[nodb]")
{
    fake_x_api api;
    api.always = fake_failure{401, "{\"title\": \"Unauthorized\"}"};
    auto client = client_for(api);
    auto const msg = message_of<service_refused>([&] { client.fetch_account(); });
    CHECK(msg.find("HTTP 401") != std::string::npos);
    CHECK(msg.find("$X_BEARER_TOKEN") != std::string::npos);
    CHECK(msg.find("tok-123-secret") == std::string::npos);
    CHECK(exit_code_for(service_refused{msg}) == exit_code::unavailable);
}

TEST_CASE("a malformed body is bad data naming the request", "[nodb]")
{
    fake_x_api api;
    api.tweets_failures[0] = fake_failure{200, "{\"data\": [{\"id\": \"1\", "};
    auto client = client_for(api);
    auto const msg = message_of<data_error>([&] { client.fetch_tweets({"1", "2"}); });
    CHECK(msg.find("malformed JSON for GET /2/tweets (2 ids, 1 … 2)") !=
          std::string::npos);
}

TEST_CASE("an answer past 16 MiB is bad data, stopped where it passes, not retried",
          "[nodb]")
{
    fake_x_api api;
    auto const padding = std::string((std::size_t{16} << 20) + 1, ' ');
    api.tweets_failures[0] = fake_failure{200, "{\"data\": []" + padding + "}"};
    api.tweets_failures[1] = fake_failure{200, "{\"data\": []}"};
    // 16 MiB over loopback can take seconds on a busy machine: not a timeout
    auto client = client_for(api, 60000);
    auto const msg = message_of<data_error>([&] { client.fetch_tweets({"1", "2"}); });
    CHECK(msg.find("X API sent more than 16 MiB for GET /2/tweets (2 ids, 1 … 2) (HTTP "
                   "200): not an answer it gives") != std::string::npos);
    // 16 MiB itself is an answer (of nothing here)
    fake_x_api exact;
    exact.tweets_failures[0] = fake_failure{
        200, "{\"data\": []" + padding.substr(0, (std::size_t{16} << 20) - 12) + "}"};
    auto exact_client = client_for(exact, 60000);
    CHECK(exact_client.fetch_tweets({"1"}).found.empty());
}

TEST_CASE("a slow server hits the timeout and becomes a temporary failure", "[nodb]")
{
    fake_x_api api;
    api.always = fake_failure{200, "{}", {}, 1500};
    auto client = client_for(api, 300, 1);
    auto const start = std::chrono::steady_clock::now();
    auto const msg = message_of<temporary_failure>([&] { client.fetch_tweets({"1"}); });
    CHECK(msg.find("timed out after 300 ms") != std::string::npos);
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::milliseconds(1400));
}

TEST_CASE("counts that are not counts are left out, never stored wrapped or negative",
          "[nodb]")
{
    fake_x_api api;
    api.tweets_failures.insert_or_assign(
        0, fake_failure{200, R"({"data": [{"id": "5", "public_metrics": {
            "impression_count": 18446744073709551615, "like_count": -3,
            "retweet_count": "many", "reply_count": 2}}]})"});
    auto const page = client_for(api).fetch_tweets({"5"});
    REQUIRE(page.found.size() == 1);
    CHECK_FALSE(page.found[0].counts.impressions); // 2⁶⁴−1 is not −1
    CHECK_FALSE(page.found[0].counts.likes);
    CHECK_FALSE(page.found[0].counts.retweets);
    CHECK(*page.found[0].counts.replies == 2);
    // a negative follower count is no snapshot at all
    api.followers = -5;
    CHECK(message_of<data_error>([&] {
              client_for(api).fetch_account();
          }).find("has no public_metrics.followers_count") != std::string::npos);
}

TEST_CASE("odd shapes in a 200 are left out with a warning, never a failed page",
          "[nodb]")
{
    fake_x_api api;
    // public_metrics as a string, an id with a NUL, errors that are a string
    // and a number, an error whose resource_id is a number
    api.tweets_failures.insert_or_assign(0, fake_failure{200, R"({"data": [
            {"id": "5", "public_metrics": "lots"},
            {"id": "6\u00007", "public_metrics": {"like_count": 1}},
            {"id": "8", "public_metrics": {"like_count": 4}}],
          "errors": ["something broke", 42,
            {"resource_id": 9, "title": "Not Found Error"},
            {"resource_id": "10", "title": "Not Found Error"}]})"});
    auto const page = client_for(api).fetch_tweets({"5", "8", "10"});
    REQUIRE(page.found.size() == 2); // 5 with no counts, 8; not the NUL id
    CHECK(page.found[0].id == "5");
    CHECK_FALSE(page.found[0].counts.likes);
    CHECK(page.found[1].id == "8");
    CHECK(*page.found[1].counts.likes == 4);
    CHECK(page.gone == std::vector<std::string>{"10"});
}

TEST_CASE("a 429 reset time far beyond any date is shown as sent, not overflowed",
          "[nodb]")
{
    fake_x_api api;
    api.tweets_failures[0] =
        fake_failure{429, "{}", {{"x-rate-limit-reset", "99999999999999999"}}, 0};
    auto const msg =
        message_of<temporary_failure>([&] { client_for(api).fetch_tweets({"1"}); });
    CHECK(msg.find("resets at '99999999999999999' (not a time)") != std::string::npos);
}

TEST_CASE("a body with a number too large for a double is bad data naming the request "
          "(found by fuzzing)",
          "[nodb]")
{
    CHECK(message_of<data_error>([] {
              parse_tweets_page(R"({"data": [{"id": "5", "public_metrics":
                  {"like_count": 1e401}}]})",
                                "GET /2/tweets (tweet 5)");
          }).find("X API returned malformed JSON for GET /2/tweets (tweet 5") !=
          std::string::npos);
    CHECK(message_of<data_error>([] {
              parse_account(
                  R"({"data": {"public_metrics": {"followers_count": -1e999}}})",
                  "GET /2/users/me");
          }).find("malformed JSON for GET /2/users/me") != std::string::npos);
}

TEST_CASE("a reply's account is the handle includes.users gives its in_reply_to_user_id, "
          "and none that is no handle or not included",
          "[nodb]")
{
    auto const page = parse_tweets_page(
        R"({"data": [{"id": "1", "in_reply_to_user_id": "11"},
                     {"id": "2", "in_reply_to_user_id": "22"},
                     {"id": "3", "in_reply_to_user_id": "33"},
                     {"id": "4"}],
            "includes": {"users": [{"id": "11", "username": "analyst_amy"},
                                   {"id": "22", "username": "evil\nverdict: READY"}]}})",
        "GET /2/tweets");
    REQUIRE(page.found.size() == 4);
    CHECK(page.found[0].replied_to == "analyst_amy");
    CHECK_FALSE(page.found[1].replied_to); // no X handle: never stored
    CHECK_FALSE(page.found[2].replied_to); // the user left out of includes
    CHECK_FALSE(page.found[3].replied_to); // no reply
}

TEST_CASE("a user lookup gives the account's handle as X spells it, and none that is no "
          "handle",
          "[nodb]")
{
    auto const counts = [](char const* username) {
        return parse_account(
            fmt::format(R"({{"data": {{"id": "1", "username": {}, "public_metrics":
                {{"followers_count": 5}}}}}})",
                        username),
            "GET /2/users/me");
    };
    CHECK(counts(R"("XLoop_Bot")").username == "XLoop_Bot");
    CHECK(counts(R"("XLoop_Bot")").followers == 5);
    CHECK(counts(R"("amy smith")").username.empty());
    CHECK(counts(R"(42)").username.empty());
    CHECK(counts("null").username.empty());
}

TEST_CASE("an app-only token's refused non-public metrics are asked for again as public "
          "ones, and not asked for again by that client",
          "[nodb]")
{
    fake_x_api api;
    api.app_only = true;
    auto client = client_for(api);
    auto const page = client.fetch_tweets({"101", "102"});
    REQUIRE(page.found.size() == 2);
    CHECK(page.found[0].id == "101");
    CHECK(*page.found[0].counts.likes == fake_likes("101"));
    CHECK(*page.found[1].counts.impressions == fake_impressions("102"));
    CHECK_FALSE(page.found[0].counts.profile_clicks);
    CHECK(page.failed.empty());
    CHECK(client.non_public_refused());
    client.fetch_tweets({"103"});
    auto const reqs = api.tweet_requests();
    REQUIRE(reqs.size() == 3);
    CHECK(reqs[0].tweet_fields ==
          "public_metrics,non_public_metrics,created_at,in_reply_to_user_id,author_id");
    CHECK(reqs[1].tweet_fields ==
          "public_metrics,created_at,in_reply_to_user_id,author_id");
    CHECK(reqs[1].ids == std::vector<std::string>{"101", "102"});
    CHECK(reqs[2].tweet_fields ==
          "public_metrics,created_at,in_reply_to_user_id,author_id");
}

TEST_CASE("a post past its days of non-public metrics is asked for again alone, and the "
          "others keep their profile clicks",
          "[nodb]")
{
    fake_x_api api;
    api.past_non_public = {"102"};
    auto client = client_for(api);
    auto const page = client.fetch_tweets({"101", "102", "103"});
    REQUIRE(page.found.size() == 3);
    std::map<std::string, post_counts> by_id;
    for (auto const& t : page.found) {
        by_id[t.id] = t.counts;
    }
    CHECK(*by_id.at("101").profile_clicks == 5);
    CHECK_FALSE(by_id.at("102").profile_clicks);
    CHECK(*by_id.at("102").likes == fake_likes("102"));
    CHECK(*by_id.at("103").profile_clicks == 5);
    CHECK_FALSE(client.non_public_refused());
    client.fetch_tweets({"104"});
    auto const reqs = api.tweet_requests();
    REQUIRE(reqs.size() == 3);
    CHECK(reqs[1].ids == std::vector<std::string>{"102"});
    CHECK(reqs[1].tweet_fields ==
          "public_metrics,created_at,in_reply_to_user_id,author_id");
    CHECK(reqs[2].tweet_fields ==
          "public_metrics,non_public_metrics,created_at,in_reply_to_user_id,author_id");
}

TEST_CASE("a post X keeps in 'data' without its refused non-public metrics is read once",
          "[nodb]")
{
    fake_x_api api;
    api.app_only = true;
    api.field_refusal_keeps_data = true;
    auto client = client_for(api);
    auto const page = client.fetch_tweets({"101"});
    REQUIRE(page.found.size() == 1);
    CHECK(*page.found[0].counts.likes == fake_likes("101"));
    CHECK(page.failed.empty());
    CHECK(api.tweet_requests().size() == 1);
}

TEST_CASE("x_api.non_public_metrics false asks for public metrics only", "[nodb]")
{
    fake_x_api api;
    x_api_config cfg;
    cfg.base_url = api.base_url();
    cfg.non_public_metrics = false;
    x_api_client client{cfg, "tok"};
    CHECK(client.fetch_tweets({"101"}).found.size() == 1);
    auto const reqs = api.tweet_requests();
    REQUIRE(reqs.size() == 1);
    CHECK(reqs[0].tweet_fields ==
          "public_metrics,created_at,in_reply_to_user_id,author_id");
}

TEST_CASE("the account's counts come by x_api.username with any token, and /2/users/me "
          "refusing an app-only token names that setting",
          "[nodb]")
{
    fake_x_api api;
    api.app_only = true;
    api.followers = 4321;
    x_api_config cfg;
    cfg.base_url = api.base_url();
    cfg.retries = 0;
    {
        x_api_client client{cfg, "tok-123-secret"};
        auto const msg = message_of<service_refused>([&] { client.fetch_account(); });
        CHECK(msg.find("HTTP 403") != std::string::npos);
        CHECK(msg.find("GET /2/users/me (Unsupported Authentication: Authenticating "
                       "with OAuth 2.0 Application-Only") != std::string::npos);
        CHECK(msg.find("set x_api.username to the account's handle") !=
              std::string::npos);
        CHECK(msg.find("tok-123") == std::string::npos);
    }
    cfg.username = "XLoop_Bot";
    x_api_client client{cfg, "tok-123-secret"};
    CHECK(client.fetch_account().followers == 4321);
    auto const reqs = api.requests();
    CHECK(reqs.back().path == "/2/users/by/username/XLoop_Bot");
}

TEST_CASE("an x_api.username X does not know is a configuration error naming it",
          "[nodb]")
{
    fake_x_api api;
    x_api_config cfg;
    cfg.base_url = api.base_url();
    cfg.username = "nobody_here";
    x_api_client client{cfg, "tok"};
    CHECK(message_of<config_error>([&] { client.fetch_account(); }) ==
          "x_api.username 'nobody_here': X answered GET /2/users/by/username/nobody_here "
          "with Not Found Error: Could not find user with username: [nobody_here].");
}

namespace {
oauth1_credentials const keys{"app-key", "app-s3cret", "42-token", "token-s3cret"};
}

TEST_CASE("with OAuth 1.0a keys every request is signed with a fresh nonce, and "
          "/2/users/me and profile clicks are read",
          "[nodb]")
{
    fake_x_api api;
    api.oauth1 = keys;
    api.followers = 2024;
    api.tweets_failures[0] = fake_failure{503}; // retried: a new nonce, signed again
    x_api_config cfg;
    cfg.base_url = api.base_url() + "/";
    cfg.backoff_ms = 10;
    x_api_client client{cfg, x_api_credentials{{}, keys}};
    auto const page = client.fetch_tweets({"101", "102"});
    REQUIRE(page.found.size() == 2);
    CHECK(*page.found[0].counts.profile_clicks == 5);
    CHECK(client.fetch_account().followers == 2024);
    auto const reqs = api.requests();
    REQUIRE(reqs.size() == 3);
    CHECK(reqs[0].authorization != reqs[1].authorization);
    for (auto const& r : reqs) {
        CHECK(r.authorization.rfind("OAuth oauth_consumer_key=\"app-key\", ", 0) == 0);
        CHECK(r.authorization.find("s3cret") == std::string::npos);
    }
}

TEST_CASE("OAuth 1.0a keys X refuses name the four variables, never their values",
          "[nodb]")
{
    fake_x_api api;
    api.oauth1 = keys;
    x_api_config cfg;
    cfg.base_url = api.base_url();
    cfg.auth = "oauth1";
    auto wrong = keys;
    wrong.token_secret = "not-the-s3cret";
    x_api_client client{cfg, x_api_credentials{{}, wrong}};
    auto const msg = message_of<service_refused>([&] { client.fetch_tweets({"1"}); });
    CHECK(msg == "X API refused the request (HTTP 401) for GET /2/tweets (tweet 1) "
                 "(Unauthorized: Unauthorized): check the keys in $X_API_KEY, "
                 "$X_API_SECRET, $X_ACCESS_TOKEN and $X_ACCESS_TOKEN_SECRET, the app's "
                 "access level, and the clock (X refuses a time minutes off)");
    x_api_client bearer{cfg, "tok"}; // a bearer token where keys are wanted
    CHECK(message_of<service_refused>([&] { bearer.fetch_account(); }).find("HTTP 401") !=
          std::string::npos);
}

TEST_CASE("a certificate that does not verify is a configuration error, not retried",
          "[nodb]")
{
    tls_server server;
    x_api_config cfg;
    cfg.base_url = fmt::format("https://127.0.0.1:{}/", server.port());
    cfg.timeout_ms = 2000;
    cfg.retries = 2;
    cfg.backoff_ms = 10;
    x_api_client client{cfg, "tok-123-secret"};
    auto const msg = message_of<config_error>([&] { client.fetch_tweets({"1"}); });
    INFO(msg);
    CHECK_THAT(msg, Catch::StartsWith("X API: TLS failed for GET /2/tweets") &&
                        Catch::Contains("certificate") &&
                        Catch::Contains("a retry will not help"));
    CHECK(msg.find("tok-123-secret") == std::string::npos);
    CHECK(server.connections() == 1); // one handshake, no retry
    CHECK(exit_code_for(config_error{msg}) == exit_code::config);
}

TEST_CASE("a 404 or a redirect is a base URL to fix, named, not bad data", "[nodb]")
{
    fake_x_api api;
    api.always = fake_failure{404, "{\"title\": \"Not Found Error\"}"};
    auto client = client_for(api);
    auto const msg = message_of<config_error>([&] { client.fetch_tweets({"1"}); });
    CHECK_THAT(msg, Catch::StartsWith("X API answered HTTP 404 for GET /2/tweets") &&
                        Catch::Contains("is x_api.base_url (" + api.base_url()) &&
                        !Catch::Contains("tok-123-secret"));
    CHECK(api.tweet_requests().size() == 1); // not retried

    fake_x_api moved;
    moved.always =
        fake_failure{301, "", {{"Location", "https://api.x.com/2/tweets?ids=1"}}};
    auto moved_client = client_for(moved);
    auto const moved_msg =
        message_of<config_error>([&] { moved_client.fetch_tweets({"1"}); });
    CHECK_THAT(moved_msg,
               Catch::Contains("HTTP 301 for GET /2/tweets (tweet 1) (moved to "
                               "https://api.x.com/2/tweets):"));
    // a 400 is what X says of the request itself: still bad data
    fake_x_api bad;
    bad.always = fake_failure{400, "{\"title\": \"Invalid Request\"}"};
    auto bad_client = client_for(bad);
    CHECK_THAT(message_of<data_error>([&] { bad_client.fetch_tweets({"1"}); }),
               Catch::Contains("HTTP 400"));
}

TEST_CASE("a web page where JSON was asked for (a network's sign-in page) is the address "
          "to fix, named by its title, not malformed data",
          "[nodb]")
{
    auto const page = std::string{"\xEF\xBB\xBF\n  <!DOCTYPE html>\n<html><head><TITLE>"
                                  "Sign in to\r\nCorpNet Wi-Fi</TITLE></head><body>"} +
                      std::string(100000, 'x') + "</body></html>";
    fake_x_api portal;
    portal.always = fake_failure{200, page};
    auto client = client_for(portal);
    auto const msg = message_of<config_error>([&] { client.fetch_tweets({"1"}); });
    CHECK(msg == fmt::format("X API answered HTTP 200 for GET /2/tweets (tweet 1) (a web "
                             "page, not JSON: 'Sign in to  CorpNet Wi-Fi'; a proxy or a "
                             "network's sign-in page may answer for it): is "
                             "x_api.base_url ({}) the API's address? (https://api.x.com, "
                             "no path)",
                             portal.base_url()));
    CHECK(portal.tweet_requests().size() == 1); // not retried
    // the account's lookup too
    CHECK_THAT(message_of<config_error>([&] { client.fetch_account(); }),
               Catch::Contains("(a web page, not JSON: 'Sign in to  CorpNet Wi-Fi';"));

    // an error answered with a page names the page, not 300 bytes of markup
    fake_x_api proxy;
    proxy.always =
        fake_failure{400, "<html><body><h1>400 Bad Request</h1></body></html>"};
    auto proxy_client = client_for(proxy);
    CHECK(message_of<data_error>([&] { proxy_client.fetch_tweets({"1"}); }) ==
          "X API answered HTTP 400 for GET /2/tweets (tweet 1): a web page, not JSON");
    // JSON that is no object is still malformed data
    fake_x_api odd;
    odd.always = fake_failure{200, "[1, 2]"};
    auto odd_client = client_for(odd);
    CHECK_THAT(message_of<data_error>([&] { odd_client.fetch_tweets({"1"}); }),
               Catch::Contains("non-object JSON body"));
}

TEST_CASE("an https base URL at a plain-HTTP server, or http at a TLS one, names the "
          "scheme to write, not retried",
          "[nodb]")
{
    x_api_config cfg;
    cfg.timeout_ms = 2000;
    cfg.retries = 2;
    cfg.backoff_ms = 10;

    fake_x_api api; // plain HTTP
    auto const plain = api.base_url();
    REQUIRE(plain.rfind("http://", 0) == 0);
    cfg.base_url = "https://" + plain.substr(7) + "/";
    x_api_client to_plain{cfg, "tok-123-secret"};
    auto const msg = message_of<config_error>([&] { to_plain.fetch_tweets({"1"}); });
    INFO(msg);
    CHECK_THAT(msg, Catch::StartsWith("X API: ") &&
                        Catch::Contains("for GET /2/tweets (tweet 1): the server there "
                                        "speaks plain HTTP, not TLS: begin its base_url "
                                        "in the config with http://") &&
                        Catch::Contains("a retry will not help") &&
                        !Catch::Contains("tok-123-secret"));
    CHECK(api.tweet_requests().empty()); // the probe asked for "/", no tweet

    tls_server server;
    cfg.base_url = fmt::format("http://127.0.0.1:{}/", server.port());
    x_api_client to_tls{cfg, "tok-123-secret"};
    auto const tls_msg = message_of<config_error>([&] { to_tls.fetch_tweets({"1"}); });
    INFO(tls_msg);
    CHECK_THAT(tls_msg, Catch::Contains("the server there speaks TLS (HTTPS): begin its "
                                        "base_url in the config with https://"));
    CHECK(server.connections() == 2); // the request and the handshake that asked
}
