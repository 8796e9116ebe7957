#include "reply_opportunity.hpp"

#include "config.hpp"
#include "db.hpp"
#include "stored_values.hpp"
#include "text.hpp"

#include <fmt/format.h>

namespace xloop {

std::string account_key_sql(std::string_view column)
{
    return fmt::format("lower(ltrim(btrim({}), '@') COLLATE \"C\")", column);
}

std::string own_handle(db_connection& db, config const& cfg)
{
    if (!cfg.x_api.username.empty()) {
        return cfg.x_api.username;
    }
    // backwards through the (job, started_at) index to the newest that has it
    auto const r = db.exec(R"sql(
SELECT detail ->> 'username' FROM xloop.job_runs
 WHERE job = 'scrape-metrics' AND detail ? 'username'
 ORDER BY started_at DESC LIMIT 1)sql");
    if (r.rows() == 0 || r.is_null(0, 0) || !is_x_handle(r.str(0, 0))) {
        return {};
    }
    return r.str(0, 0);
}

std::string account_key(std::string_view handle)
{
    return to_lower(handle);
}

std::string unusable_opportunity_sql()
{
    return fmt::format(R"sql(
CASE WHEN NOT coalesce(r.tweet_author ~ '^@?{1}$', false) THEN 1
     WHEN NOT coalesce(r.tweet_id::text ~ '^[0-9]+$' AND length(r.tweet_id::text) <= 19,
                       false) THEN 2
     WHEN r.opportunity_score IS NOT NULL AND {0} IS NULL THEN 3
END)sql",
                       float8_sql("r.opportunity_score"), x_handle_pattern);
}

std::string dated_ahead_sql(std::string_view now, std::string_view skew_seconds)
{
    return fmt::format(R"sql(
SELECT count(*) AS n,
       extract(epoch FROM max(discovered_at) - {0}::timestamptz) / 3600 AS hours_ahead,
       (array_agg(tweet_id::text ORDER BY discovered_at DESC))[1] AS tweet_id
  FROM public.reply_opportunities
 WHERE status = 'pending' AND isfinite(discovered_at)
   AND discovered_at > {0}::timestamptz + make_interval(secs => {1}::float8))sql",
                       now, skew_seconds);
}

std::string opportunity_score_sql()
{
    return fmt::format("coalesce({}, 0)", float8_sql("r.opportunity_score"));
}

} // namespace xloop
