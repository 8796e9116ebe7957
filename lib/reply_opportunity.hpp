#pragma once

// What plan --replies can answer, as SQL over a reply_opportunities row `r`.

#include <string>
#include <string_view>

namespace xloop {

struct config;
class db_connection;

// An X handle without its '@', as a PostgreSQL regular expression's body
// (is_x_handle says it in C++).
constexpr char const* x_handle_pattern = "[A-Za-z0-9_]+";

// The account a username, reply target or tweet author names, as SQL over
// `column`: lower case, without the blanks around it or the '@' before it
// ('@Amy ' is amy; the original bot's '@Amy' row is amy's). The one key
// learn-replies, build-weights, plan and validate group and match by. Only
// ASCII letters are lowered (COLLATE "C"), as account_key() does and as X
// reads handles: under a Turkish collation lower('Ivan') is 'ıvan', which is
// no handle, and learn-replies left every reply to such an account out.
std::string account_key_sql(std::string_view column);

// The account's own handle: x_api.username, else the one X gave
// scrape-metrics' newest follower lookup (its ledger row), else "" (the
// tools then cannot tell the account's replies to itself by name).
std::string own_handle(db_connection& db, config const& cfg);

// A handle's account key, as account_key_sql makes it (a handle is ASCII).
std::string account_key(std::string_view handle);

// 1 when the row's tweet_author is no X handle (letters, digits, underscores,
// one '@' before them at most: a reply to '@' or to blanks reaches no one),
// 2 when its tweet_id is no X post id (x_tweet_id_pattern, written so as
// PostgreSQL's regular expressions take 0.13 s at 10⁶ rows where {1,19} took
// 0.55: the poster's reply would fail), 3 when its opportunity_score is no
// number plan can rank (NaN, ±Infinity, or beyond ±1e300: a numeric column
// holds 1e999, which no double does), NULL when plan can reply to it.
std::string unusable_opportunity_sql();

// The pending opportunities dated later than now (`now`, a timestamptz
// parameter such as "$1") by more than `skew_seconds` (a float8 one), left by
// a harvester writing its local time as UTC: a query's one row of how many,
// how far ahead at most in hours, and the furthest one's tweet id.
std::string dated_ahead_sql(std::string_view now, std::string_view skew_seconds);

// A usable row's opportunity_score as double precision (none is 0).
std::string opportunity_score_sql();

// An opportunity_score as text for a message: 1e999 is 1000 characters.
constexpr char const* opportunity_score_example_sql = R"sql(
CASE WHEN length(r.opportunity_score::text) > 24
     THEN left(r.opportunity_score::text, 12) || '... (' -- ASCII: any encoding
          || length(r.opportunity_score::text) || ' characters)'
     ELSE r.opportunity_score::text END)sql";

} // namespace xloop
