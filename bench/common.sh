# Shared by the bench/*.sh scripts (sourced, not run).

# Re-runs the calling script inside a throwaway cluster (-t: its own
# directory, so it never collides with scripts/test), tuned for bulk loads.
bench_in_cluster() {
    if [ -z "${XLOOP_BENCH_INNER:-}" ]; then
        export XLOOP_BENCH_INNER=1
        exec pg_virtualenv -t -o shared_buffers=2GB -o work_mem=64MB -o max_wal_size=16GB \
            -o checkpoint_timeout=30min -o synchronous_commit=off "$@"
    fi
}

# Prints the best wall time (s) of 3 runs of a command and its peak RSS (MiB).
measure() {
    local best="" rss="" t m
    for _ in 1 2 3; do
        /usr/bin/time -f '%e %M' -o /tmp/xloop-bench.time "$@" >/dev/null
        read -r t m </tmp/xloop-bench.time
        if [ -z "$best" ] || awk "BEGIN{exit !($t < $best)}"; then best=$t; fi
        rss=$((m / 1024))
    done
    echo "$best $rss"
}
