#!/usr/bin/env bash
# Every tool with nothing to do, on an empty migrated database: wall time and
# peak RSS (medians of 3) next to the floor, `psql -c 'select 1'`: a tool's
# fixed cost (connect, lock, ledger row, config) should stay below it.
#   bench/idle.sh
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/common.sh
bench_in_cluster "$0" "$@"
now=2026-03-02T12:00:00Z
bin=build/bin
db=bench_idle
work=$(mktemp -d /tmp/xloop-bench-XXXXXX)
trap 'rm -rf "$work"' EXIT
: >"$work/empty.jsonl"
dropdb --if-exists "$db"
createdb "$db"
"$bin/xloop-migrate" --db "dbname=$db" -q
read -r floor fs _ < <(measure psql -q -d "$db" -c 'select 1')
printf '%-34s %10s %10s %7s %9s\n' tool floor_s tool_s ratio peak_MiB
for t in "migrate" "build-weights --now $now" "learn-replies --now $now" \
    "plan --now $now --dry-run" "scrape-metrics --source file --input $work/empty.jsonl --now $now" \
    "validate --now $now"; do
    read -r -a args <<<"$t"
    # validate exits 1 on an empty database (nothing has run): its time still counts
    read -r tool ts rss < <(measure sh -c "\"$bin/xloop-${args[0]}\" --db dbname=$db ${args[*]:1} -q || true")
    printf '%-34s %10s %10s %7s %9s\n' "${args[0]}" "$floor±$fs" "$tool±$ts" \
        "$(ratio "$tool" "$floor")" "$rss"
    summary "${args[0]} (nothing to do)" "empty database" "$floor" "$tool" \
        "$(ratio "$tool" "$floor")" "≤ 1" "$rss"
done
dropdb "$db"
