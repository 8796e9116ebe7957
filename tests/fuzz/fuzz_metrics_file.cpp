// The metrics file (scrape-metrics --source file), JSON Lines or X's
// analytics export (CSV): every line or row either becomes a record within
// the documented ranges or a bad line.
#include "fuzz_common.hpp"
#include "metrics_file.hpp"

#include <cstdlib>
#include <sstream>

extern "C" int LLVMFuzzerTestOneInput(std::uint8_t const* data, std::size_t size)
{
    using namespace xloop;
    if (size == 0) {
        return 0;
    }
    bool const skip_bad = data[0] & 1;
    std::istringstream in{std::string{reinterpret_cast<char const*>(data) + 1, size - 1}};
    auto const latest = parse_timestamp("2026-03-02T12:00:00Z");
    auto const check_count = [](std::optional<std::int64_t> const& c) {
        if (c && *c < 0) {
            std::abort(); // counts are never negative
        }
    };
    // Plain lines are read without the JSON parser: the records must be the
    // ones the parser reads, and so must the bad lines.
    auto const text = std::string{reinterpret_cast<char const*>(data) + 1, size - 1};
    auto const both_ways = [&](bool parser_only) {
        std::istringstream in2{text};
        std::string out;
        try {
            auto const bad = read_metrics_file(
                in2, "fuzz.jsonl", skip_bad,
                {[&](metrics_record const& r) {
                     out += "m " + r.tweet_id + " " + format_timestamp(r.observed_at);
                     for (auto const& c :
                          {r.counts.impressions, r.counts.likes, r.counts.retweets,
                           r.counts.replies, r.counts.quotes, r.counts.bookmarks,
                           r.counts.profile_clicks, r.follows}) {
                         out += c ? " " + std::to_string(*c) : " -";
                     }
                     out += "\n";
                 },
                 [&](follower_record const& r) {
                     out += "f " + format_timestamp(r.observed_at) + " " +
                            std::to_string(r.followers);
                     for (auto const& c : {r.following, r.tweets}) {
                         out += c ? " " + std::to_string(*c) : " -";
                     }
                     out += "\n";
                 }},
                latest, parser_only, latest);
            for (auto const& b : bad) {
                out += "bad " + std::to_string(b.line) + " " + b.reason + "\n";
            }
        } catch (std::exception const& e) {
            out += std::string{"error "} + e.what();
        }
        return out;
    };
    if (both_ways(false) != both_ways(true)) {
        std::abort();
    }
    fuzz::expect_only_xloop_errors([&] {
        read_metrics_file(in, "fuzz.jsonl", skip_bad,
                          {[&](metrics_record const& r) {
                               if (r.tweet_id.empty() || r.observed_at > *latest) {
                                   std::abort();
                               }
                               for (auto const& c :
                                    {r.counts.impressions, r.counts.likes,
                                     r.counts.retweets, r.counts.replies, r.counts.quotes,
                                     r.counts.bookmarks, r.counts.profile_clicks,
                                     r.follows}) {
                                   check_count(c);
                               }
                               (void)format_timestamp(r.observed_at);
                           },
                           [&](follower_record const& r) {
                               if (r.followers < 0 || r.observed_at > *latest) {
                                   std::abort();
                               }
                               check_count(r.following);
                               check_count(r.tweets);
                               (void)format_timestamp(r.observed_at);
                           }},
                          latest, false, latest);
    });
    return 0;
}
