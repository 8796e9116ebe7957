#pragma once

// What plan --replies can answer, as SQL over a reply_opportunities row `r`.

namespace xloop {

// 1 when the row's tweet_author is no X handle (letters, digits, underscores,
// one '@' before them at most: a reply to '@' or to blanks reaches no one),
// 2 when its tweet_id is no X post id (x_tweet_id_pattern, written so as
// PostgreSQL's regular expressions take 0.13 s at 10⁶ rows where {1,19} took
// 0.55: the poster's reply would fail), NULL when plan can reply to it.
constexpr char const* unusable_opportunity_sql = R"sql(
CASE WHEN NOT coalesce(r.tweet_author ~ '^@?[A-Za-z0-9_]+$', false) THEN 1
     WHEN NOT coalesce(r.tweet_id::text ~ '^[0-9]+$' AND length(r.tweet_id::text) <= 19,
                       false) THEN 2
END)sql";

} // namespace xloop
