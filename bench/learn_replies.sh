#!/usr/bin/env bash
# Benchmark of xloop-learn-replies: 10^6 replies over 10^5 accounts (or the
# sizes given), wall time and peak RSS, next to the floor: COPY of the same
# reply rows out of vw_learning, binary, to the client, in the same run.
#   bench/learn_replies.sh [replies accounts]
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/common.sh
bench_in_cluster "$0" "$@"
rows=${1:-1000000}
accounts=${2:-100000}
now=2026-03-02T12:00:00Z
window_start=2025-12-02T12:00:00Z # now − replies.window_days (90)
window_end=2026-03-01T12:00:00Z   # now − min_age_hours (24): younger replies are not learned from
bin=build/bin
# the tool's own SELECT list, read as the tool reads it: binary COPY to the client
# (attributed follows: the gain, followers_gained_weighted / confidence, and
# the confidence after the components)
c=attribution_confidence::float8 f=followers_gained_weighted::float8
gain="CASE WHEN $c IS NULL OR $c >= 1 THEN $f WHEN $c > 0 THEN $f / $c END"
confidence="CASE WHEN $c IS NULL THEN 1 ELSE least(greatest($c, 0), 1) END"
select="lower(ltrim(btrim(target_username), '@') COLLATE \"C\"), ltrim(btrim(target_username), '@'), posted_at, \
engagement_rate::float8, ln((1 + CASE WHEN impressions >= 0 THEN impressions END)::float8), \
ln((1 + CASE WHEN profile_clicks >= 0 THEN profile_clicks END)::float8 / (1 + CASE WHEN impressions >= 0 THEN impressions END)), \
ln((1 + CASE WHEN follows >= 0 THEN follows END)::float8 / (1 + CASE WHEN impressions >= 0 THEN impressions END)), \
$gain, primary_objective_score::float8, $confidence"
where="has_v2_metrics AND decision_type = 'reply' AND coalesce(btrim(target_username), '') \
NOT IN ('', '@') AND posted_at > '$window_start' AND posted_at <= '$window_end'"


db=bench_replies
dropdb --if-exists "$db"
createdb "$db"
"$bin/xloop-migrate" --db "dbname=$db" -q
psql -q -d "$db" -v rows="$rows" -v accounts="$accounts" -v now="$now" -f bench/gen_replies.sql
in_window=$(psql -Atq -d "$db" -c "SELECT count(*) FROM xloop.vw_learning WHERE $where")
read -r floor fs _ < <(measure psql -q -d "$db" -c "COPY (SELECT $select FROM xloop.vw_learning WHERE $where) TO STDOUT (FORMAT binary)")
# the first run writes every account; later ones find nothing changed
f=$(mktemp /tmp/xloop-bench-time.XXXXXX)
/usr/bin/time -f '%e %M' -o "$f" "$bin/xloop-learn-replies" --db "dbname=$db" --now "$now" -q
read -r t1 m1 <"$f"
rm -f "$f"
read -r tool ts rss < <(measure "$bin/xloop-learn-replies" --db "dbname=$db" --now "$now" -q)
[ $((m1 / 1024)) -gt "$rss" ] && rss=$((m1 / 1024))
printf '%-9s %-9s %10s %10s %12s %12s %7s %7s %9s\n' replies accounts in_window floor_s \
    first_run_s steady_run_s ratio_first ratio_steady peak_MiB
printf '%-9s %-9s %10s %10s %12s %12s %7s %7s %9s\n' "$rows" "$accounts" "$in_window" \
    "$floor±$fs" "$t1" "$tool±$ts" "$(ratio "$t1" "$floor")" "$(ratio "$tool" "$floor")" "$rss"
summary learn-replies "$rows replies, $accounts accounts (first run)" "$floor" "$t1" \
    "$(ratio "$t1" "$floor")" "≤ 1.5" "$rss"
summary learn-replies "$rows replies, $accounts accounts (steady)" "$floor" "$tool" \
    "$(ratio "$tool" "$floor")" "≤ 1.5" "$rss"
dropdb "$db"
