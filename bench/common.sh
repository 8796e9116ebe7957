# Shared by the bench/*.sh scripts (sourced, not run).

# Re-runs the calling script inside a throwaway cluster (-t: its own
# directory, so it never collides with scripts/test), tuned for bulk loads,
# on a free port of its own (two clusters started at once would otherwise
# both take the first free port from 5432).
bench_in_cluster() {
    if [ -z "${XLOOP_BENCH_INNER:-}" ]; then
        export XLOOP_BENCH_INNER=1
        export PGPORT
        PGPORT=$(free_port)
        exec pg_virtualenv -t -o shared_buffers=2GB -o work_mem=64MB -o max_wal_size=16GB \
            -o checkpoint_timeout=30min -o synchronous_commit=off "$@"
    fi
}

# A TCP port nothing listens on, drawn at random above the usual ones and
# below the kernel's ephemeral range: a port there may be a client
# connection's own end, which no connect finds but the server cannot bind
# ("could not bind IPv4 address: Address already in use", seen once).
free_port() {
    local p low=32768
    read -r low _ </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || true
    while :; do
        p=$((10000 + RANDOM % (low - 10000)))
        if ! (: >"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
            echo "$p"
            return
        fi
    done
}

# Runs a command 3 times; prints the median wall time (s), the spread
# (slowest − fastest, s) and the largest peak RSS (MiB) of the three.
# $measure_before, if set, runs (untimed) before each run.
measure() {
    local f t m rss=0 times=()
    f=$(mktemp /tmp/xloop-bench-time.XXXXXX)
    for _ in 1 2 3; do
        [ -z "${measure_before:-}" ] || $measure_before
        /usr/bin/time -f '%e %M' -o "$f" "$@" >/dev/null
        read -r t m <"$f"
        times+=("$t")
        [ $((m / 1024)) -gt "$rss" ] && rss=$((m / 1024))
    done
    rm -f "$f"
    printf '%s\n' "${times[@]}" | sort -g | awk -v rss="$rss" \
        '{ v[NR] = $1 } END { printf "%s %.2f %s\n", v[2], v[3] - v[1], rss }'
}

# ratio a b: a / b to two places.
ratio() { awk "BEGIN{printf \"%.2f\", $1 / $2}"; }

# Appends one line to the summary file bench/all.sh collects, if it asked.
#   summary <bench> <size> <floor_s> <tool_s> <ratio> <goal> <peak_MiB>
summary() {
    if [ -n "${XLOOP_BENCH_SUMMARY:-}" ]; then
        printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >>"$XLOOP_BENCH_SUMMARY"
    fi
}
