#include "lock_holders.hpp"

#include <fmt/ranges.h>

#include <vector>

namespace xloop {

std::string table_lock_holders(db_connection& db)
{
    auto const r = db.exec(R"sql(
SELECT a.pid::text, coalesce(nullif(a.application_name, ''), a.usename::text, '?'),
       coalesce(a.state, 'state not visible to this role'),
       coalesce(to_char(a.xact_start AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
                '?'),
       string_agg(DISTINCT l.relation::regclass::text, ', ')
  FROM pg_locks l
  JOIN pg_stat_activity a ON a.pid = l.pid
 WHERE l.granted AND l.locktype = 'relation' AND l.pid <> pg_backend_pid()
   AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
   AND l.relation IN (SELECT c.oid FROM pg_class c JOIN pg_namespace n
                          ON n.oid = c.relnamespace
                       WHERE n.nspname IN ('public', 'xloop')
                         AND c.relkind IN ('r', 'p', 'v', 'm'))
 GROUP BY a.pid, a.application_name, a.usename, a.state, a.xact_start
 ORDER BY a.xact_start NULLS LAST, a.pid
 LIMIT 3)sql");
    std::vector<std::string> out;
    for (int i = 0; i < r.rows(); ++i) {
        out.push_back(fmt::format("pid {} ({}, {} since {}, on {})", r.str(i, 0),
                                  r.str(i, 1), r.str(i, 2), r.str(i, 3), r.str(i, 4)));
    }
    return out.empty() ? std::string{"no session now (it has ended since)"}
                       : fmt::format("{}", fmt::join(out, "; "));
}

} // namespace xloop
