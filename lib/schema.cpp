#include "schema.hpp"

namespace xloop {

std::vector<std::string> const& content_table_columns()
{
    static std::vector<std::string> const cols{"id",
                                               "decision_id",
                                               "content",
                                               "thread_parts",
                                               "generation_source",
                                               "generator_name",
                                               "hook_type",
                                               "cta_type",
                                               "structure_type",
                                               "status",
                                               "scheduled_at",
                                               "posted_at",
                                               "tweet_id",
                                               "decision_type",
                                               "raw_topic",
                                               "tone",
                                               "angle",
                                               "content_slot",
                                               "target_tweet_id",
                                               "target_username",
                                               "features",
                                               "content_hash",
                                               "created_at",
                                               "updated_at"};
    return cols;
}

std::vector<std::string> const& learning_view_columns()
{
    // Kept equal to the select list of sql/0023_learning_view_scheduled.sql
    // (a test compares it with the view a migrated database has).
    static std::vector<std::string> const cols{"id",
                                               "decision_id",
                                               "tweet_id",
                                               "decision_type",
                                               "content_slot",
                                               "generator_name",
                                               "generation_source",
                                               "topic",
                                               "tone",
                                               "angle",
                                               "hook_type",
                                               "cta_type",
                                               "structure_type",
                                               "target_username",
                                               "target_tweet_id",
                                               "content",
                                               "features",
                                               "created_at",
                                               "posted_at",
                                               "impressions",
                                               "views",
                                               "likes",
                                               "retweets",
                                               "replies",
                                               "quotes",
                                               "bookmarks",
                                               "profile_clicks",
                                               "engagement_rate",
                                               "followers_gained",
                                               "followers_before",
                                               "followers_after",
                                               "followers_gained_weighted",
                                               "primary_objective_score",
                                               "attribution_confidence",
                                               "collected_at",
                                               "data_source",
                                               "simulated",
                                               "age_hours",
                                               "age_days",
                                               "has_metrics",
                                               "has_v2_metrics",
                                               "follows",
                                               "scheduled_at"};
    return cols;
}

std::vector<required_relation> const& required_schema()
{
    static std::vector<required_relation> const rels{
        {"public.content_generation_metadata_comprehensive", content_table_columns()},
        {"public.content_metadata",
         {"decision_id", "content_slot", "status", "tweet_id"}},
        {"public.outcomes",
         {"decision_id", "tweet_id", "impressions", "likes", "retweets", "replies",
          "engagement_rate", "followers_gained", "followers_gained_weighted",
          "primary_objective_score", "attribution_confidence", "hook_type", "cta_type",
          "structure_type", "collected_at", "data_source", "simulated"}},
        {"public.follower_snapshots", {"snapshot_at", "follower_count"}},
        // The original's dashboards read public.vw_learning, which may keep
        // columns of its own; the tools read xloop.vw_learning.
        {"public.vw_learning", {"decision_id"}},
        {"xloop.vw_learning", learning_view_columns()},
        {"public.learning_model_weights",
         {"weights", "posteriors", "computed_at", "sample_size", "version", "is_active"}},
        {"public.discovered_accounts",
         {"username", "priority_score", "reply_performance_score",
          "last_successful_reply_at"}},
        {"public.reply_opportunities",
         {"tweet_id", "tweet_author", "opportunity_score", "status", "discovered_at"}},
        {"xloop.job_runs", {"job", "started_at", "status"}},
    };
    return rels;
}

} // namespace xloop
