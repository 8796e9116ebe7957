// The account xloop-migrate prints: one line per relation that changed.

#include "adopt.hpp"

#include <catch2/catch.hpp>

using namespace xloop;

namespace {
relation_shape rel(std::string oid, std::string kind, std::vector<std::string> columns,
                   std::string definition = "", std::string table = "")
{
    return {std::move(oid), std::move(kind), std::move(columns), std::move(definition),
            std::move(table)};
}
} // namespace

TEST_CASE("the account of a migration names each changed relation once")
{
    schema_shape before{
        {"public.content_metadata", rel("10", "table", {"id", "content"})},
        {"public.outcomes", rel("11", "table", {"id"})},
        {"public.old_view", rel("12", "view", {"a"}, "d1")},
        {"public.same", rel("13", "view", {"a"}, "d2")},
        {"public.outcomes_pkey", rel("14", "index", {}, "", "public.outcomes")},
    };
    schema_shape after{
        // renamed, and a view took its old name
        {"public.content_generation_metadata_comprehensive",
         rel("10", "table", {"id", "content", "content_slot"})},
        {"public.content_metadata",
         rel("20", "view", {"id", "content", "content_slot"}, "d3")},
        {"public.outcomes", rel("11", "table", {"id", "likes", "views"})},
        {"public.outcomes_pkey", rel("14", "index", {}, "", "public.outcomes")},
        {"public.outcomes_likes_idx", rel("23", "index", {}, "", "public.outcomes")},
        // recreated identically by replace_view: nothing to say
        {"public.same", rel("21", "view", {"a"}, "d2")},
        // a new table's own indexes are not listed
        {"xloop.job_runs", rel("22", "table", {"id"})},
        {"xloop.job_runs_pkey", rel("24", "index", {}, "", "xloop.job_runs")},
    };
    auto const lines = describe_changes(before, after);
    CHECK(lines == std::vector<std::string>{
                       "content_metadata: table renamed to "
                       "content_generation_metadata_comprehensive; columns added: "
                       "content_slot; content_metadata is now a view",
                       "outcomes: columns added: likes, views; index added: "
                       "outcomes_likes_idx",
                       "xloop.job_runs: table created",
                       "old_view: view dropped",
                   });
}

TEST_CASE("an unchanged schema gives an empty account")
{
    schema_shape const s{{"public.t", rel("1", "table", {"a"})}};
    CHECK(describe_changes(s, s).empty());
}
