#!/usr/bin/env bash
# Benchmark of xloop-migrate adopting the original bot's database: the shape
# of tests/fixtures/original_bot.sql with ROWS posts and replies and the
# bot's outcomes for them (gen_original.sql). Each timed run is on a fresh
# copy; the floor is building the indexes adoption adds (found by comparing
# a migrated copy with the original) as bare CREATE INDEX statements, on a
# migrated copy without them.
#   bench/adopt.sh [ROWS ...]    default 1000000
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/common.sh
bench_in_cluster "$0" "$@"
bin=${XLOOP_BENCH_BIN:-build/bin}
sizes=("$@")
[ ${#sizes[@]} -eq 0 ] && sizes=(1000000)
work=$(mktemp -d /tmp/xloop-bench-XXXXXX)
trap 'rm -rf "$work"' EXIT

# a fresh copy of $1 as bench_adopt, then the command on it, timed:
# "seconds peak_KiB"
on_copy() {
    local template=$1
    shift
    dropdb --if-exists bench_adopt 2>/dev/null
    createdb -T "$template" bench_adopt
    /usr/bin/time -f '%e %M' -o "$work/t" "$@" >/dev/null 2>&1
    cat "$work/t"
}
median() { printf '%s\n' "$@" | sort -g | sed -n 2p; }
indexes="SELECT indexname || '|' || indexdef FROM pg_indexes WHERE schemaname = 'public' ORDER BY 1"

printf '%-9s %7s %9s %9s %7s %9s\n' rows indexes floor_s tool_s ratio peak_MiB
for n in "${sizes[@]}"; do
    for d in bench_original bench_floor; do dropdb --if-exists "$d" 2>/dev/null; done
    createdb bench_original
    psql -q -d bench_original -f tests/fixtures/original_bot.sql >/dev/null 2>&1
    psql -q -d bench_original -v rows="$n" -f bench/gen_original.sql
    psql -Atq -d bench_original -c "$indexes" >"$work/before"
    # the indexes adoption builds, on a migrated copy without them
    on_copy bench_original "$bin/xloop-migrate" --db dbname=bench_adopt -q >/dev/null
    psql -Atq -d bench_adopt -c "$indexes" | grep -vxF -f "$work/before" >"$work/added"
    cut -d'|' -f2- "$work/added" | sed 's/$/;/' >"$work/floor.sql"
    cut -d'|' -f1 "$work/added" | sed 's/^/DROP INDEX public./; s/$/;/' >"$work/drop.sql"
    psql -q -d bench_adopt -f "$work/drop.sql"
    psql -q -c "ALTER DATABASE bench_adopt RENAME TO bench_floor"
    floors=() tools=() rss=0
    for _ in 1 2 3; do
        read -r f _ < <(on_copy bench_floor psql -q -v ON_ERROR_STOP=1 -d bench_adopt \
            -f "$work/floor.sql")
        floors+=("$f")
        read -r t m < <(on_copy bench_original "$bin/xloop-migrate" --db dbname=bench_adopt -q)
        tools+=("$t")
        [ $((m / 1024)) -gt "$rss" ] && rss=$((m / 1024))
    done
    floor=$(median "${floors[@]}")
    tool=$(median "${tools[@]}")
    printf '%-9s %7s %9s %9s %7s %9s\n' "$n" "$(wc -l <"$work/added")" "$floor" "$tool" \
        "$(ratio "$tool" "$floor")" "$rss"
    summary migrate "adopting $n posts (the original's shape)" "$floor" "$tool" \
        "$(ratio "$tool" "$floor")" "-" "$rss"
done
for d in bench_adopt bench_floor bench_original; do dropdb --if-exists "$d"; done
