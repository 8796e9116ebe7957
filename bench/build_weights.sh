#!/usr/bin/env bash
# Benchmark of xloop-build-weights at several sizes of vw_learning: wall time and
# peak RSS, next to the floor: a client-side binary COPY of the same SELECT (same
# columns, same window), in the same run. Needs a built tree
# (scripts/setup) and runs in its own throwaway cluster.
# -t TOPICS: that many distinct topics (default 40), as a database whose
# topics are free text has.
#   bench/build_weights.sh [-t topics] [rows ...]  (default: 100000 1000000 10000000)
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/common.sh
bench_in_cluster "$0" "$@"
topics=40
while getopts t: opt; do
    case $opt in
    t) topics=$OPTARG ;;
    *) exit 64 ;;
    esac
done
shift $((OPTIND - 1))
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(100000 1000000 10000000)
now=2026-03-02T12:00:00Z
window_start=2026-01-01T12:00:00Z # now − 60 days
window_end=2026-03-01T12:00:00Z   # now − min_age_hours (24): younger posts are not learned from
bin=build/bin
# the tool's own SELECT list, read as the tool reads it: binary COPY to the client
# (attributed follows: the gain, followers_gained_weighted / confidence, and
# the confidence after the components)
c=attribution_confidence::float8 f=followers_gained_weighted::float8
gain="CASE WHEN $c IS NULL OR $c >= 1 THEN $f WHEN $c > 0 THEN $f / $c END"
confidence="CASE WHEN $c IS NULL THEN 1 ELSE least(greatest($c, 0), 1) END"
# (post attributes are learned from posts only: CASE … END; replies' accounts
# for the change test)
post() { echo "CASE WHEN decision_type IS DISTINCT FROM 'reply' THEN $1 END"; }
select="posted_at, primary_objective_score::float8, followers_gained_weighted::float8, \
engagement_rate::float8, ln((1 + CASE WHEN impressions >= 0 THEN impressions END)::float8), \
ln((1 + CASE WHEN profile_clicks >= 0 THEN profile_clicks END)::float8 / (1 + CASE WHEN impressions >= 0 THEN impressions END)), \
ln((1 + CASE WHEN follows >= 0 THEN follows END)::float8 / (1 + CASE WHEN impressions >= 0 THEN impressions END)), \
$gain, primary_objective_score::float8, $confidence, \
content_slot, $(post generator_name), decision_type, $(post topic), $(post tone), \
$(post hook_type), $(post cta_type), structure_type, \
$(post "extract(hour FROM CASE WHEN posted_at >= scheduled_at AND posted_at < scheduled_at + interval '2 hours' THEN scheduled_at ELSE posted_at END AT TIME ZONE 'UTC')::int"), \
CASE WHEN decision_type = 'reply' THEN coalesce(lower(ltrim(btrim(target_username), '@') COLLATE \"C\"), '') END"
where="has_v2_metrics AND posted_at > '$window_start' AND posted_at <= '$window_end'"


[ "$topics" = 40 ] || echo "$topics distinct topics"
printf '%-10s %10s %10s %10s %7s %9s\n' rows in_window floor_s tool_s ratio peak_MiB
for n in "${sizes[@]}"; do
    db="bench_weights_$n"
    dropdb --if-exists "$db"
    createdb "$db"
    "$bin/xloop-migrate" --db "dbname=$db" -q
    psql -q -d "$db" -v rows="$n" -v now="$now" -v topics="$topics" -f bench/gen_learning.sql
    in_window=$(psql -Atq -d "$db" -c "SELECT count(*) FROM xloop.vw_learning WHERE $where")
    read -r floor fs _ < <(measure psql -q -d "$db" -c "COPY (SELECT $select FROM xloop.vw_learning WHERE $where) TO STDOUT (FORMAT binary)")
    read -r tool ts rss < <(measure "$bin/xloop-build-weights" --db "dbname=$db" --now "$now" -q)
    printf '%-10s %10s %10s %10s %7s %9s\n' "$n" "$in_window" "$floor±$fs" "$tool±$ts" \
        "$(ratio "$tool" "$floor")" "$rss"
    label="$n rows"
    [ "$topics" = 40 ] || label+=", $topics topics"
    summary build-weights "$label" "$floor" "$tool" "$(ratio "$tool" "$floor")" "≤ 1.3" "$rss"
    dropdb "$db"
done
