#pragma once

// Who holds the tables a run waited for: what a migration or a tool names
// when another session's lock stopped it (a leaked transaction of the bot's,
// idle in it for hours).

#include "db.hpp"

#include <string>

namespace xloop {

// What to do about a session a run waited for.
inline constexpr char const* leaked_session_hint =
    "A session idle in transaction for long is a leaked one (SELECT "
    "pg_terminate_backend(pid) ends it)";

// The sessions holding a lock on a table of public or xloop, oldest
// transaction first, at most three, as "pid 4242 (node, idle in transaction
// since …, on public.outcomes)". Never their statements, which may hold data.
std::string table_lock_holders(db_connection& db);

// Sessions of this database idle in a transaction for more than `minutes`
// (leaked: a client that took a connection and never ended its
// transaction), longest first.
struct idle_transactions {
    long count = 0;
    long hidden = 0; // other roles' sessions whose state this role may not see
    // at most three, as "pid 4242 (node, idle in transaction for 3.1 h,
    // holding public.outcomes)"
    std::string named;
};
idle_transactions idle_transactions_over(db_connection& db, double minutes);

} // namespace xloop
