#include "fake_x_api.hpp"

#include "local_server.hpp"
#include "text.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdlib>
#include <ctime>

namespace xloop::test {

std::int64_t fake_impressions(std::string const& id)
{
    return 1000 + static_cast<std::int64_t>(std::hash<std::string>{}(id) % 9000);
}

std::int64_t fake_likes(std::string const& id)
{
    return fake_impressions(id) % 97;
}

namespace {
bool apply(fake_failure const& f, httplib::Response& res)
{
    if (f.delay_ms > 0) {
        std::this_thread::sleep_for(std::chrono::milliseconds(f.delay_ms));
    }
    res.status = f.status;
    for (auto const& [k, v] : f.headers) {
        res.set_header(k, v);
    }
    res.set_content(f.body, "application/json");
    return true;
}
} // namespace

std::string fake_x_api::oauth1_refusal(httplib::Request const& req)
{
    auto const header = req.get_header_value("Authorization");
    if (header.rfind("OAuth ", 0) != 0) {
        return "not an OAuth header";
    }
    std::map<std::string, std::string> oauth;
    std::string_view rest{header};
    rest.remove_prefix(6);
    while (!rest.empty()) {
        auto const eq = rest.find("=\"");
        auto const close = rest.find('"', eq + 2);
        if (eq == std::string_view::npos || close == std::string_view::npos) {
            return "a malformed OAuth header";
        }
        oauth[std::string{rest.substr(0, eq)}] = httplib::detail::decode_url(
            std::string{rest.substr(eq + 2, close - eq - 2)}, false);
        rest.remove_prefix(close + 1);
        if (rest.rfind(", ", 0) == 0) {
            rest.remove_prefix(2);
        }
    }
    auto const signature = oauth["oauth_signature"];
    oauth.erase("oauth_signature");
    request_params params(req.params.begin(), req.params.end());
    params.insert(params.end(), oauth.begin(), oauth.end());
    auto const expected = oauth1_signature("GET", base_url() + req.path, params,
                                           oauth1->consumer_secret, oauth1->token_secret);
    auto const age = std::abs(std::time(nullptr) - std::stoll(oauth["oauth_timestamp"]));
    if (oauth["oauth_consumer_key"] != oauth1->consumer_key ||
        oauth["oauth_token"] != oauth1->token || signature != expected) {
        return "a wrong signature";
    }
    if (age > 300 || !m_nonces.insert(oauth["oauth_nonce"]).second) {
        return "a stale timestamp or a nonce used before";
    }
    return {};
}

fake_x_api::fake_x_api(int keep_alive_s)
{
    // As X answers a request it cannot authenticate, before anything else.
    m_server.set_pre_routing_handler(
        [this](httplib::Request const& req, httplib::Response& res) {
            std::lock_guard<std::mutex> lock{mutex};
            if (!oauth1 || oauth1_refusal(req).empty()) {
                return httplib::Server::HandlerResponse::Unhandled;
            }
            m_requests.push_back({req.path,
                                  {},
                                  req.get_header_value("Authorization"),
                                  req.remote_port,
                                  req.get_param_value("tweet.fields"),
                                  req.get_param_value("expansions")});
            res.status = 401;
            res.set_content(
                R"({"title": "Unauthorized", "type": "about:blank", "status": 401, )"
                R"("detail": "Unauthorized"})",
                "application/json");
            return httplib::Server::HandlerResponse::Handled;
        });
    m_server.set_keep_alive_max_count(1000);
    m_server.set_keep_alive_timeout(keep_alive_s);
    auto const account = [this](httplib::Request const& req, httplib::Response& res) {
        std::unique_lock<std::mutex> lock{mutex};
        m_requests.push_back({req.path,
                              {},
                              req.get_header_value("Authorization"),
                              req.remote_port,
                              {},
                              {}});
        if (always || account_failure) {
            auto const f = always ? *always : *account_failure;
            lock.unlock();
            apply(f, res);
            return;
        }
        if (req.path == "/2/users/me" && app_only) {
            res.status = 403;
            res.set_content(
                nlohmann::json{
                    {"title", "Unsupported Authentication"},
                    {"detail", "Authenticating with OAuth 2.0 Application-Only is "
                               "forbidden for this endpoint.  Supported authentication "
                               "types are [OAuth 1.0a User Context, OAuth 2.0 User "
                               "Context]."},
                    {"type",
                     "https://api.twitter.com/2/problems/unsupported-authentication"},
                    {"status", 403}}
                    .dump(),
                "application/json");
            return;
        }
        if (req.path != "/2/users/me") {
            auto const name = req.matches[1].str();
            if (to_lower(name) != to_lower(username)) {
                res.set_content(
                    nlohmann::json{
                        {"errors",
                         {{{"value", name},
                           {"detail",
                            fmt::format("Could not find user with username: [{}].",
                                        name)},
                           {"title", "Not Found Error"},
                           {"resource_type", "user"},
                           {"parameter", "username"},
                           {"resource_id", name},
                           {"type",
                            "https://api.twitter.com/2/problems/resource-not-found"}}}}}
                        .dump(),
                    "application/json");
                return;
            }
        }
        nlohmann::json j = {{"data",
                             {{"id", "1"},
                              {"username", username},
                              {"public_metrics",
                               {{"followers_count", followers},
                                {"following_count", 10},
                                {"tweet_count", 100}}}}}};
        for (auto const& [k, v] : account_headers) {
            res.set_header(k, v);
        }
        res.set_content(j.dump(), "application/json");
    };
    m_server.Get("/2/users/me", account);
    m_server.Get(R"(/2/users/by/username/([^/]+))", account);
    m_server.Get("/2/tweets", [this](httplib::Request const& req,
                                     httplib::Response& res) {
        std::unique_lock<std::mutex> lock{mutex};
        fake_request r{req.path,
                       {},
                       req.get_header_value("Authorization"),
                       req.remote_port,
                       req.get_param_value("tweet.fields"),
                       req.get_param_value("expansions")};
        bool const non_public =
            r.tweet_fields.find("non_public_metrics") != std::string::npos;
        auto const ids = req.get_param_value("ids");
        for (std::size_t start = 0; start <= ids.size();) {
            auto const comma = ids.find(',', start);
            auto const id = ids.substr(
                start, comma == std::string::npos ? std::string::npos : comma - start);
            if (!id.empty()) {
                r.ids.push_back(id);
            }
            if (comma == std::string::npos) {
                break;
            }
            start = comma + 1;
        }
        m_requests.push_back(r);
        int const call = m_tweet_calls++;
        std::optional<fake_failure> failure = always;
        if (auto const it = tweets_failures.find(call); it != tweets_failures.end()) {
            failure = it->second;
        }
        if (failure) {
            lock.unlock();
            apply(*failure, res);
            return;
        }
        for (auto const& [k, v] : tweets_headers) {
            res.set_header(k, v);
        }
        if (tweets_per_window) {
            // the window ends at 2026-03-02T12:15:00Z
            auto const left = std::max(*tweets_per_window - m_window_calls, 0);
            res.set_header("x-rate-limit-limit", std::to_string(*tweets_per_window));
            res.set_header("x-rate-limit-reset", "1772453700");
            if (left == 0) {
                res.set_header("x-rate-limit-remaining", "0");
                res.status = 429;
                res.set_content(R"({"title": "Too Many Requests", "status": 429})",
                                "application/json");
                return;
            }
            ++m_window_calls;
            res.set_header("x-rate-limit-remaining", std::to_string(left - 1));
        }
        // As X answers an id that is not 1–19 digits: the whole request fails.
        for (auto const& id : r.ids) {
            if (id.empty() || id.size() > 19 ||
                id.find_first_not_of("0123456789") != std::string::npos) {
                nlohmann::json const bad = {
                    {"errors",
                     {{{"parameters", {{"ids", {id}}}},
                       {"message",
                        fmt::format("The `ids` query parameter value [{}] is not valid",
                                    id)}}}},
                    {"title", "Invalid Request"},
                    {"detail", "One or more parameters to your request was invalid."},
                    {"type", "https://api.twitter.com/2/problems/invalid-request"}};
                res.status = 400;
                res.set_content(bad.dump(), "application/json");
                return;
            }
        }
        if (delay_tweets_ms > 0) {
            auto const wait = std::chrono::milliseconds(delay_tweets_ms);
            lock.unlock();
            std::this_thread::sleep_for(wait);
            lock.lock();
        }
        nlohmann::json data = nlohmann::json::array();
        nlohmann::json errors = nlohmann::json::array();
        nlohmann::json users = nlohmann::json::array();
        for (auto const& id : r.ids) {
            if (gone.count(id)) {
                errors.push_back(
                    {{"value", id},
                     {"detail", fmt::format("Could not find tweet with ids: [{}].", id)},
                     {"title", "Not Found Error"},
                     {"resource_type", "tweet"},
                     {"parameter", "ids"},
                     {"resource_id", id},
                     {"type", "https://api.twitter.com/2/problems/resource-not-found"}});
                continue;
            }
            if (refused.count(id)) {
                errors.push_back(
                    {{"value", id},
                     {"detail", "Sorry, you are not authorized to see the Tweet."},
                     {"title", "Authorization Error"},
                     {"resource_id", id},
                     {"type",
                      "https://api.twitter.com/2/problems/not-authorized-for-resource"}});
                continue;
            }
            bool const field_refused =
                non_public && (app_only || past_non_public.count(id));
            if (field_refused) {
                errors.push_back(
                    {{"value", id},
                     {"detail", fmt::format("Sorry, you are not authorized to access "
                                            "'non_public_metrics' on the Tweet with ids "
                                            "[{}].",
                                            id)},
                     {"title", "Field Authorization Error"},
                     {"resource_type", "tweet"},
                     {"field", "non_public_metrics"},
                     {"parameter", "non_public_metrics"},
                     {"resource_id", id},
                     {"section", "data"},
                     {"type",
                      "https://api.twitter.com/2/problems/not-authorized-for-field"}});
                if (!field_refusal_keeps_data) {
                    continue;
                }
            }
            nlohmann::json t = {{"id", id},
                                {"text", "a post"},
                                {"public_metrics",
                                 {{"retweet_count", 3},
                                  {"reply_count", 2},
                                  {"like_count", fake_likes(id)},
                                  {"quote_count", 1},
                                  {"bookmark_count", 4},
                                  {"impression_count", fake_impressions(id)}}}};
            if (auto const at = created_at.find(id); at != created_at.end()) {
                t["created_at"] = at->second;
            }
            if (r.tweet_fields.find("author_id") != std::string::npos) {
                auto const by = author_of.find(id);
                t["author_id"] = by == author_of.end() ? "1" : by->second;
            }
            if (auto const to = replies_to.find(id);
                to != replies_to.end() &&
                r.tweet_fields.find("in_reply_to_user_id") != std::string::npos) {
                t["in_reply_to_user_id"] = to->second.first;
                if (r.expansions == "in_reply_to_user_id" && !to->second.second.empty()) {
                    users.push_back({{"id", to->second.first},
                                     {"name", "Someone"},
                                     {"username", to->second.second}});
                } else if (r.expansions == "in_reply_to_user_id") {
                    // as X answers for a suspended account: an error of the
                    // includes section, the tweet itself in data
                    errors.push_back(
                        {{"value", to->second.first},
                         {"detail", fmt::format("User has been suspended: [{}].",
                                                to->second.first)},
                         {"title", "Forbidden"},
                         {"resource_type", "user"},
                         {"parameter", "entities.mentions.username"},
                         {"resource_id", to->second.first},
                         {"section", "includes"},
                         {"type",
                          "https://api.twitter.com/2/problems/resource-not-found"}});
                }
            }
            if (with_non_public && non_public && !field_refused) {
                t["non_public_metrics"] = {{"impression_count", fake_impressions(id)},
                                           {"user_profile_clicks", 5},
                                           {"url_link_clicks", 0}};
            }
            data.push_back(t);
        }
        nlohmann::json j = nlohmann::json::object();
        if (!data.empty()) {
            j["data"] = data;
        }
        if (!errors.empty()) {
            j["errors"] = errors;
        }
        if (!users.empty()) {
            j["includes"] = {{"users", users}};
        }
        res.set_content(j.dump(), "application/json");
    });
    m_port = bind_loopback(m_server);
    m_thread = start_listening(m_server);
}

fake_x_api::~fake_x_api()
{
    m_server.stop();
    m_thread.join();
}

std::string fake_x_api::base_url() const
{
    return fmt::format("http://127.0.0.1:{}", m_port);
}

std::vector<fake_request> fake_x_api::requests()
{
    std::lock_guard<std::mutex> lock{mutex};
    return m_requests;
}

void fake_x_api::new_rate_window()
{
    std::lock_guard<std::mutex> lock{mutex};
    m_window_calls = 0;
}

std::vector<fake_request> fake_x_api::tweet_requests()
{
    std::lock_guard<std::mutex> lock{mutex};
    std::vector<fake_request> out;
    for (auto const& r : m_requests) {
        if (r.path == "/2/tweets") {
            out.push_back(r);
        }
    }
    return out;
}

} // namespace xloop::test
