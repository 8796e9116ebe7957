#!/usr/bin/env bash
# Every tool with nothing to do, on an empty migrated database: wall time per
# run (ms) and peak RSS next to the floor, `psql -c 'select 1'`: a tool's
# fixed cost (connect, lock, ledger row, config) should stay below it.
#   bench/idle.sh
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/common.sh
bench_in_cluster "$0" "$@"
now=2026-03-02T12:00:00Z
bin=${XLOOP_BENCH_BIN:-build/bin}
db=bench_idle
work=$(mktemp -d /tmp/xloop-bench-XXXXXX)
trap 'rm -rf "$work"' EXIT
: >"$work/empty.jsonl"
dropdb --if-exists "$db"
createdb "$db"
"$bin/xloop-migrate" --db "dbname=$db" -q
# A run takes tens of milliseconds: /usr/bin/time's 10 ms steps cannot tell
# 0.9 from 1.1. Each tool is timed over batches of 10 runs, in ms, a batch of
# the floor before each of its batches (the machine's drift hits both), and
# the median of 3 rounds is kept; the peak RSS is one run's.
batch_ms() {
    local t0 t1
    t0=$(date +%s%N)
    for _ in 1 2 3 4 5 6 7 8 9 10; do
        "$@" >/dev/null 2>&1 || true
    done
    t1=$(date +%s%N)
    awk -v ns=$((t1 - t0)) 'BEGIN { printf "%.1f", ns / 1e7 }'
}
median3() { printf '%s\n' "$@" | sort -g | sed -n 2p; }
printf '%-16s %9s %9s %7s %9s\n' tool floor_ms tool_ms ratio peak_MiB
for t in "migrate" "build-weights --now $now" "learn-replies --now $now" \
    "plan --now $now --dry-run" "scrape-metrics --source file --input $work/empty.jsonl --now $now" \
    "validate --now $now"; do
    read -r -a args <<<"$t"
    cmd=("$bin/xloop-${args[0]}" --db "dbname=$db" "${args[@]:1}" -q)
    floors=() tools=()
    for _ in 1 2 3; do
        floors+=("$(batch_ms psql -q -d "$db" -c 'select 1')")
        tools+=("$(batch_ms "${cmd[@]}")")
    done
    floor=$(median3 "${floors[@]}")
    tool=$(median3 "${tools[@]}")
    # validate exits 1 on an empty database (nothing has run): its time still counts
    /usr/bin/time -f '%M' -o "$work/rss" "${cmd[@]}" >/dev/null 2>&1 || true
    rss=$(($(tail -1 "$work/rss") / 1024))
    printf '%-16s %9s %9s %7s %9s\n' "${args[0]}" "$floor" "$tool" "$(ratio "$tool" "$floor")" "$rss"
    summary "${args[0]} (nothing to do)" "empty database" "$(awk "BEGIN{printf \"%.3f\", $floor / 1000}")" \
        "$(awk "BEGIN{printf \"%.3f\", $tool / 1000}")" \
        "$(ratio "$tool" "$floor")" "≤ 1" "$rss"
done
dropdb "$db"
