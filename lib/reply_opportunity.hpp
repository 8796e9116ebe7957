#pragma once

// What plan --replies can answer, as SQL over a reply_opportunities row `r`.

namespace xloop {

// 1 when the row's tweet_author is no X handle (letters, digits, underscores,
// one '@' before them at most: a reply to '@' or to blanks reaches no one),
// 2 when its tweet_id is no X post id (x_tweet_id_pattern, written so as
// PostgreSQL's regular expressions take 0.13 s at 10⁶ rows where {1,19} took
// 0.55: the poster's reply would fail), 3 when its opportunity_score is no
// number plan can rank (NaN, ±Infinity, or beyond ±1e300: a numeric column
// holds 1e999, which no double does), NULL when plan can reply to it.
constexpr char const* unusable_opportunity_sql = R"sql(
CASE WHEN NOT coalesce(r.tweet_author ~ '^@?[A-Za-z0-9_]+$', false) THEN 1
     WHEN NOT coalesce(r.tweet_id::text ~ '^[0-9]+$' AND length(r.tweet_id::text) <= 19,
                       false) THEN 2
     WHEN NOT coalesce(abs(r.opportunity_score) <= 1e300, true) THEN 3
END)sql";

// An opportunity_score as text for a message: 1e999 is 1000 characters.
constexpr char const* opportunity_score_example_sql = R"sql(
CASE WHEN length(r.opportunity_score::text) > 24
     THEN left(r.opportunity_score::text, 12) || '… ('
          || length(r.opportunity_score::text) || ' characters)'
     ELSE r.opportunity_score::text END)sql";

// A usable row's opportunity_score as a double (none is 0; below 1e-300, a
// numeric's 1e-999 would not convert, 0 too). Only for rows
// unusable_opportunity_sql leaves in.
constexpr char const* opportunity_score_sql = R"sql(
coalesce(CASE WHEN abs(r.opportunity_score) < 1e-300 THEN 0
              ELSE r.opportunity_score END, 0)::float8)sql";

} // namespace xloop
