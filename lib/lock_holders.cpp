#include "lock_holders.hpp"

#include "text.hpp"

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

idle_transactions idle_transactions_over(db_connection& db, double minutes)
{
    // The server's clock on both sides: a session's age is real time, never
    // the run's --now. The function under pg_stat_activity, without the
    // view's joins: validate's every run asks, and mostly finds none.
    auto const r = db.exec(R"sql(
SELECT count(*) OVER ()::int8, a.pid::text,
       coalesce(nullif(a.application_name, ''), a.usesysid::regrole::text, '?'), a.state,
       extract(epoch FROM now() - a.state_change)::float8 / 3600,
       (SELECT string_agg(DISTINCT l.relation::regclass::text, ', ')
          FROM pg_locks l
         WHERE l.pid = a.pid AND l.granted AND l.locktype = 'relation'
           AND l.relation IN (SELECT c.oid FROM pg_class c JOIN pg_namespace n
                                  ON n.oid = c.relnamespace
                               WHERE n.nspname IN ('public', 'xloop')
                                 AND c.relkind IN ('r', 'p', 'v', 'm')))
  FROM pg_stat_get_activity(NULL) a
 WHERE a.datid = (SELECT oid FROM pg_database WHERE datname = current_database())
   AND a.pid <> pg_backend_pid()
   AND a.state IN ('idle in transaction', 'idle in transaction (aborted)')
   AND a.state_change < now() - make_interval(secs => $1::float8 * 60)
 ORDER BY a.state_change, a.pid
 LIMIT 3)sql",
                           minutes);
    idle_transactions out;
    std::vector<std::string> names;
    for (int i = 0; i < r.rows(); ++i) {
        out.count = r.i64(i, 0);
        names.push_back(fmt::format(
            "pid {} ({}, {} for {}{})", r.str(i, 1), r.str(i, 2), r.str(i, 3),
            hours_text(r.f64(i, 4)),
            r.is_null(i, 5) ? std::string{} : fmt::format(", holding {}", r.str(i, 5))));
    }
    out.named = fmt::format("{}", fmt::join(names, "; "));
    return out;
}

} // namespace xloop
