#!/usr/bin/env bash
# Runs every performance benchmark at its default sizes (each in its own
# throwaway cluster) and prints one table: each bench, its size, floor, tool
# time (medians of 3), ratio, goal and peak RSS. Their own tables go to
# bench/all.log. The learning benchmark is separate (bench/learning/run.sh).
#   bench/all.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export XLOOP_BENCH_SUMMARY
XLOOP_BENCH_SUMMARY=$(mktemp /tmp/xloop-bench-summary.XXXXXX)
trap 'rm -f "$XLOOP_BENCH_SUMMARY"' EXIT
log=bench/all.log
: >"$log"
for b in idle build_weights learn_replies plan_replies scrape_metrics validate adopt; do
    echo "== $b" >>"$log"
    "bench/$b.sh" >>"$log" 2>&1
done
# an adopted database's free-text topics: thousands of values in a dimension
echo "== build_weights -t 20000" >>"$log"
bench/build_weights.sh -t 20000 1000000 >>"$log" 2>&1
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo), $(psql --version | head -1)"
{
    printf 'bench\tsize\tfloor_s\ttool_s\tratio\tgoal\tpeak_MiB\n'
    cat "$XLOOP_BENCH_SUMMARY"
} | awk -F'\t' '{ for (i = 1; i <= NF; i++) { c[NR, i] = $i; if (length($i) > w[i]) w[i] = length($i) } n = NR; m = NF }
    END { for (r = 1; r <= n; r++) { for (i = 1; i <= m; i++) printf "%-*s  ", w[i], c[r, i]; printf "\n" } }'
