// The simulator (bench/sim.cpp) drives the whole loop through the X API path;
// these tests pin that it is deterministic and that the loop it drives is
// healthy at the end.

#include "test_db_fixture.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using namespace xloop;
using namespace xloop::test;
using nlohmann::json;

namespace {

// What the loop wrote, without the columns that take the wall clock.
std::string loop_state(test_db const& db)
{
    return db.connect()
        .exec("SELECT (SELECT string_agg(concat_ws('|', c.decision_type, c.content_slot, "
              "c.hook_type, c.target_username, c.status, c.scheduled_at, c.posted_at, "
              "c.tweet_id, c.content, o.impressions, o.likes, o.followers_gained, "
              "o.followers_gained_weighted, o.primary_objective_score), E'\\n' "
              "ORDER BY c.id) FROM public.content_generation_metadata_comprehensive c "
              "LEFT JOIN public.outcomes o USING (decision_id)) || "
              "(SELECT string_agg(concat_ws('|', snapshot_at, follower_count), E'\\n' "
              "ORDER BY snapshot_at) FROM public.follower_snapshots) || "
              "(SELECT string_agg(concat_ws('|', username, priority_score), E'\\n' "
              "ORDER BY username) FROM public.discovered_accounts) || "
              "(SELECT weights::text FROM public.learning_model_weights WHERE is_active)")
        .str(0, 0);
}

} // namespace

TEST_CASE("the simulator is deterministic and leaves a healthy loop", "[db]")
{
    test_db a;
    test_db b;
    a.migrate();
    b.migrate();
    auto const ra = run_tool("sim", {"--days", "2", "--seed", "7", "--json"}, &a);
    INFO(ra.err);
    REQUIRE(ra.exit_code == 0);
    auto const rb = run_tool("sim", {"--days", "2", "--seed", "7", "--json"}, &b);
    REQUIRE(rb.exit_code == 0);
    CHECK(ra.out == rb.out);
    CHECK(loop_state(a) == loop_state(b));

    auto const score = json::parse(ra.out);
    // Every posted item got v2 metrics through the fake X API, except those
    // posted in the last tick (not yet an hour old).
    auto const posts = score["posts"].get<std::int64_t>();
    CHECK(posts >= 16); // posts and replies (two opportunities every 3 hours)
    CHECK(score["outcomes_with_v2"].get<std::int64_t>() >= posts - 2);
    CHECK(score["validate_exit"] == 0);
    CHECK(a.count("SELECT count(*) FROM public.follower_snapshots") == 2 * 72 + 1);
    CHECK(a.count("SELECT count(*) FROM xloop.job_runs WHERE status NOT IN ('ok', "
                  "'skipped')") == 0);

    // Another seed, another world.
    test_db c;
    c.migrate();
    REQUIRE(run_tool("sim", {"--days", "2", "--seed", "8"}, &c).exit_code == 0);
    CHECK(loop_state(c) != loop_state(a));
}

TEST_CASE("a rate-limited X API loses nothing: later runs catch up", "[db]")
{
    test_db calm;
    test_db limited;
    calm.migrate();
    limited.migrate();
    auto const rc = run_tool("sim", {"--days", "2", "--seed", "3", "--json"}, &calm);
    REQUIRE(rc.exit_code == 0);
    auto const rl = run_tool(
        "sim", {"--days", "2", "--seed", "3", "--json", "--rate-limit-every", "3"},
        &limited);
    INFO(rl.err);
    REQUIRE(rl.exit_code == 0);
    auto const a = json::parse(rc.out);
    auto const b = json::parse(rl.out);
    CHECK(a["rate_limited_runs"] == 0);
    CHECK(b["rate_limited_runs"].get<int>() > 5);
    // Every post still has its v2 metrics; the loop is healthy.
    CHECK(b["posts"] == a["posts"]);
    CHECK(b["outcomes_with_v2"] == a["outcomes_with_v2"]);
    CHECK(b["validate_exit"] == 0);
    // Each stopped run says so in the ledger, with the reset time.
    CHECK(
        limited.count("SELECT count(*) FROM xloop.job_runs WHERE job = 'scrape-metrics' "
                      "AND status = 'failed' AND error LIKE '%HTTP 429%resets at%'") ==
        b["rate_limited_runs"].get<int>());
}
