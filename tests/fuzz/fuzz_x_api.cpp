// X API v2 response bodies (GET /2/tweets, a user's lookup) and the 429
// reset header and a Retry-After: parsed into counts and waits within range,
// or refused as data_error.
#include "fuzz_common.hpp"
#include "http_client.hpp"
#include "x_api.hpp"

#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(std::uint8_t const* data, std::size_t size)
{
    using namespace xloop;
    std::string const body{reinterpret_cast<char const*>(data), size};
    fuzz::expect_only_xloop_errors([&] {
        auto const page = parse_tweets_page(body, "GET /2/tweets (fuzz)");
        for (auto const& t : page.found) {
            for (auto const& c : {t.counts.impressions, t.counts.likes, t.counts.retweets,
                                  t.counts.replies, t.counts.quotes, t.counts.bookmarks,
                                  t.counts.profile_clicks}) {
                if (c && *c < 0) {
                    std::abort();
                }
            }
            if (t.id.empty() || t.id.find('\0') != std::string::npos) {
                std::abort();
            }
        }
    });
    for (char const* username : {"", "xloop_bot"}) {
        fuzz::expect_only_xloop_errors([&] {
            auto const me = parse_account(body, "GET /2/users/me (fuzz)", username);
            if (me.followers < 0 || (me.following && *me.following < 0) ||
                (me.tweets && *me.tweets < 0)) {
                std::abort();
            }
        });
    }
    (void)rate_limit_reset(body.substr(0, 64));
    // a Retry-After of any text: a wait of 0 to a day, or none
    http_response res;
    res.status = 429;
    res.headers[size % 2 ? "retry-after" : "retry-after-ms"] = body.substr(0, 64);
    if (auto const wait = retry_after(res, std::chrono::system_clock::now());
        wait && (wait->count() < 0 || wait->count() > 86400000)) {
        std::abort();
    }
    return 0;
}
