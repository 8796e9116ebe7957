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
    // view's joins: validate's every run asks, and mostly finds none. Another
    // role's sessions show no state to a role without pg_read_all_stats (the
    // server's own words in place of their query): counted, so that "none"
    // is not said of what could not be seen.
    auto const r = db.exec(R"sql(
WITH s AS (
    SELECT a.* FROM pg_stat_get_activity(NULL) a
     WHERE a.datid = (SELECT oid FROM pg_database WHERE datname = current_database())
       AND a.pid <> pg_backend_pid())
SELECT (SELECT count(*) FROM s WHERE s.query = '<insufficient privilege>'),
       i.*
  FROM (SELECT 1) one
  LEFT JOIN LATERAL (
      SELECT count(*) OVER ()::int8, s.pid::text,
             coalesce(nullif(s.application_name, ''), s.usesysid::regrole::text, '?'),
             s.state, extract(epoch FROM now() - s.state_change)::float8 / 3600,
             (SELECT string_agg(DISTINCT l.relation::regclass::text, ', ')
                FROM pg_locks l
               WHERE l.pid = s.pid AND l.granted AND l.locktype = 'relation'
                 AND l.relation IN (SELECT c.oid FROM pg_class c JOIN pg_namespace n
                                        ON n.oid = c.relnamespace
                                     WHERE n.nspname IN ('public', 'xloop')
                                       AND c.relkind IN ('r', 'p', 'v', 'm')))
        FROM s
       WHERE s.state IN ('idle in transaction', 'idle in transaction (aborted)')
         AND s.state_change < now() - make_interval(secs => $1::float8 * 60)
       ORDER BY s.state_change, s.pid
       LIMIT 3) i ON true)sql",
                           minutes);
    idle_transactions out;
    std::vector<std::string> names;
    for (int i = 0; i < r.rows(); ++i) {
        out.hidden = r.i64(i, 0);
        if (r.is_null(i, 1)) {
            continue; // none idle
        }
        out.count = r.i64(i, 1);
        names.push_back(fmt::format(
            "pid {} ({}, {} for {}{})", r.str(i, 2), r.str(i, 3), r.str(i, 4),
            hours_text(r.f64(i, 5)),
            r.is_null(i, 6) ? std::string{} : fmt::format(", holding {}", r.str(i, 6))));
    }
    out.named = fmt::format("{}", fmt::join(names, "; "));
    return out;
}

} // namespace xloop
