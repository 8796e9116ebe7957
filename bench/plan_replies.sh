#!/usr/bin/env bash
# Benchmark of xloop-plan --replies 3, as cron runs it (each run queues 3
# replies and takes their opportunities, which the poster then takes; the next
# run has 3 fewer of 10^4 to 10^6, and their authors' few others are in
# cooldown): 10^4, 10^5 and 10^6
# pending opportunities by a tenth as many authors (or the sizes given), wall
# time and peak RSS, next to the floor: a client-side COPY of the open
# candidates joined to their authors' priorities.
#   bench/plan_replies.sh [rows ...]
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/common.sh
bench_in_cluster "$0" "$@"
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(10000 100000 1000000)
now=2026-03-02T12:00:00Z
bin=${XLOOP_BENCH_BIN:-build/bin}
floor_sql="COPY (SELECT r.id, r.tweet_id, r.tweet_author, r.opportunity_score, a.priority_score \
FROM reply_opportunities r LEFT JOIN discovered_accounts a \
ON lower(a.username) = lower(ltrim(r.tweet_author, '@')) \
WHERE r.status = 'pending' AND r.discovered_at > '$now'::timestamptz - interval '3 hours' \
AND r.discovered_at <= '$now') TO STDOUT (FORMAT binary)"

printf '%-9s %-9s %10s %10s %7s %9s\n' candidates authors floor_s tool_s ratio peak_MiB
for rows in "${sizes[@]}"; do
    accounts=$((rows / 10))
    db=bench_plan_replies
    dropdb --if-exists "$db"
    createdb "$db"
    "$bin/xloop-migrate" --db "dbname=$db" -q
    psql -q -d "$db" -v rows="$rows" -v accounts="$accounts" -v history="$rows" \
        -v now="$now" -f bench/gen_opportunities.sql
    read -r floor fs _ < <(measure sh -c "psql -q -d $db -c \"$floor_sql\" > /dev/null")
    # the poster takes the replies of the run before: the reply queue has room
    post_replies() {
        psql -q -d "$db" -c "UPDATE content_generation_metadata_comprehensive SET status =
            'posted', posted_at = scheduled_at WHERE decision_type = 'reply' AND status = 'queued'"
    }
    read -r tool ts rss < <(measure_before=post_replies measure "$bin/xloop-plan" --db "dbname=$db" --now "$now" \
        --replies 3 --seed 1 -q)
    printf '%-9s %-9s %10s %10s %7s %9s\n' "$rows" "$accounts" "$floor±$fs" "$tool±$ts" \
        "$(ratio "$tool" "$floor")" "$rss"
    summary "plan --replies 3" "$rows candidates" "$floor" "$tool" "$(ratio "$tool" "$floor")" \
        "≤ 5" "$rss"
    dropdb "$db"
done
