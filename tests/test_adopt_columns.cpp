// The adopted column types migrate refuses and validate's schema check names:
// the rules on columns as the catalogue gives them, no database.

#include "adopt.hpp"
#include "error.hpp"

#include <catch2/catch.hpp>

using namespace xloop;

namespace {

catalog_column col(std::string table, std::string column, std::string type,
                   std::string base, int typmod = -1, bool has_default = false)
{
    return {std::move(table), std::move(column), std::move(type), std::move(base),
            typmod,           has_default,       std::nullopt};
}

// What check_column_types refuses, or "" when it takes the columns.
std::string refusal(std::vector<catalog_column> const& columns)
{
    try {
        check_column_types(columns);
    } catch (data_error const& e) {
        return e.what();
    }
    return "";
}

} // namespace

TEST_CASE("xloop's own column types pass")
{
    CHECK(refusal({col("outcomes", "decision_id", "uuid", "uuid"),
                   col("content_generation_metadata_comprehensive", "decision_id", "uuid",
                       "uuid"),
                   col("content_generation_metadata_comprehensive", "tweet_id", "text",
                       "text"),
                   col("content_generation_metadata_comprehensive", "posted_at",
                       "timestamp without time zone", "timestamp without time zone"),
                   col("outcomes", "likes", "integer", "integer"),
                   // numeric(10,6): (10 << 16 | 6) + 4
                   col("outcomes", "primary_objective_score", "numeric(10,6)", "numeric",
                       (10 << 16 | 6) + 4),
                   col("discovered_accounts", "priority_score", "numeric", "numeric")})
              .empty());
}

TEST_CASE("a whole-number column for fractions is refused, numeric(p, 0) among them")
{
    // numeric(10,0): typmod (10 << 16 | 0) + 4 = 655364
    auto const r = refusal(
        {col("discovered_accounts", "priority_score", "numeric(10,0)", "numeric", 655364),
         col("outcomes", "engagement_rate", "integer", "integer")});
    CHECK(r.find("discovered_accounts.priority_score is numeric(10,0), outcomes."
                 "engagement_rate is integer: xloop writes fractions there") == 0);
    CHECK(
        r.find("ALTER TABLE public.discovered_accounts ALTER COLUMN priority_score TYPE "
               "numeric; ALTER TABLE public.outcomes ALTER COLUMN engagement_rate TYPE "
               "numeric, then run xloop-migrate again") != std::string::npos);
}

TEST_CASE("times and counts of another type are refused before fractions, each with its "
          "USING")
{
    auto const r = refusal({col("outcomes", "engagement_rate", "integer", "integer"),
                            col("follower_snapshots", "follower_count", "text", "text"),
                            col("content_generation_metadata_comprehensive", "created_at",
                                "bigint", "bigint", -1, true),
                            col("reply_opportunities", "discovered_at", "date", "date")});
    CHECK(r.find("content_generation_metadata_comprehensive.created_at is bigint, "
                 "reply_opportunities.discovered_at is date, follower_snapshots."
                 "follower_count is text: ") == 0);
    CHECK(r.find("(to_timestamp reads seconds since 1970") != std::string::npos);
    CHECK(
        r.find("ALTER TABLE public.content_generation_metadata_comprehensive ALTER "
               "COLUMN created_at DROP DEFAULT, ALTER COLUMN created_at TYPE timestamptz "
               "USING to_timestamp(created_at), ALTER COLUMN created_at SET DEFAULT "
               "now(); ALTER TABLE public.reply_opportunities ALTER COLUMN discovered_at "
               "TYPE timestamptz USING nullif(btrim(discovered_at::text), "
               "'')::timestamptz; ALTER TABLE public.follower_snapshots ALTER COLUMN "
               "follower_count TYPE bigint USING nullif(btrim(follower_count::text), "
               "'')::bigint, then") != std::string::npos);
}

TEST_CASE("decision ids of two types are refused first, then tweet ids held as numbers")
{
    auto const ids = refusal(
        {col("outcomes", "decision_id", "text", "text"),
         col("content_generation_metadata_comprehensive", "decision_id", "uuid", "uuid"),
         col("outcomes", "tweet_id", "bigint", "bigint")});
    CHECK(ids.find("content_generation_metadata_comprehensive.decision_id is uuid but "
                   "outcomes.decision_id is text") == 0);
    auto const tweets =
        refusal({col("outcomes", "tweet_id", "bigint", "bigint"),
                 col("content_metadata", "tweet_id", "numeric(20,0)", "numeric", 1310724),
                 col("reply_opportunities", "tweet_id", "character varying(20)",
                     "character varying", 24)});
    CHECK(tweets.find("content_metadata.tweet_id is numeric(20,0), outcomes.tweet_id is "
                      "bigint: xloop reads tweet ids as text") == 0);
}

TEST_CASE("an enum without xloop's words is named with the words it lacks")
{
    auto status =
        col("reply_opportunities", "status", "opportunity_state", "opportunity_state");
    status.enum_labels =
        std::vector<std::string>{"pending", "replied", "expired", "skipped"};
    auto kind = col("content_generation_metadata_comprehensive", "decision_type",
                    "decision_kind", "decision_kind");
    kind.enum_labels = std::vector<std::string>{"single", "thread", "Reply"};
    auto const r = refusal({status, kind});
    CHECK(r.find("content_generation_metadata_comprehensive.decision_type is the enum "
                 "decision_kind (single, thread, Reply), without 'reply': ") == 0);
    CHECK(r.find("reply_opportunities.status") == std::string::npos);
    CHECK(r.find("(ALTER TYPE decision_kind ADD VALUE IF NOT EXISTS 'reply')") !=
          std::string::npos);
}
