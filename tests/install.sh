#!/usr/bin/env bash
# `cmake --install` into a temporary prefix gives the tree the README
# describes; every installed tool answers --help; the installed xloop-migrate
# migrates a fresh database from another working directory.
#   tests/install.sh BUILD_DIR      (under pg_virtualenv, like the db tests)
set -euo pipefail
. "$(dirname "$0")/script_common.sh" install "${1:-}"

prefix=$tmp/prefix
cmake --install "$build" --prefix "$prefix" >"$tmp/install.log"

tools=(build-weights learn-replies migrate plan scrape-metrics validate)
for t in "${tools[@]}"; do
    bin=$prefix/bin/xloop-$t
    [ -x "$bin" ] || problem "no $bin"
    if readelf -S "$bin" | grep -q '\.debug_info\|\.symtab'; then
        problem "$bin is not stripped"
    fi
    "$bin" --help >"$tmp/help.txt" 2>&1 || problem "$bin --help exited $?"
    grep -q -- "--db" "$tmp/help.txt" || problem "$bin --help does not list --db"
    page=$prefix/share/man/man1/xloop-$t.1
    [ -s "$page" ] || problem "no man page $page"
    grep -q -- 'dry\\-run' "$page" || problem "$page does not document --dry-run"
done
for f in share/xloop/xloop.example.yaml share/xloop/xloop.env.example \
    share/xloop/cron/xloop.crontab share/doc/xloop/README.md \
    lib/sysusers.d/xloop.conf; do
    [ -s "$prefix/$f" ] || problem "no $f"
done
"$prefix/bin/xloop-validate" --print-default-config |
    cmp -s - "$prefix/share/xloop/xloop.example.yaml" ||
        problem "the installed example config is not the tools' defaults"
for unit in "$prefix"/share/xloop/systemd/*.service "$prefix"/share/xloop/systemd/*.timer; do
    name=$(basename "$unit")
    cmp -s "$unit" "$prefix/lib/systemd/system/$name" ||
        problem "$name differs between share/xloop/systemd and lib/systemd/system"
done
units=$(ls "$prefix"/lib/systemd/system/ | grep -c '\.service$' || true)
[ "$units" -ge 6 ] || problem "only $units services in lib/systemd/system"
# The schedules name the installed binaries, not the source install's default.
if grep -h '^ExecStart=' "$prefix"/lib/systemd/system/*.service | grep -v "^ExecStart=$prefix/bin/xloop-" >&2; then
    problem "a unit runs a binary outside $prefix/bin"
fi
grep -q "^PATH=$prefix/bin:" "$prefix/share/xloop/cron/xloop.crontab" ||
    problem "the crontab's PATH does not start with $prefix/bin"

# The installed migrate, from a directory that is not the source tree.
db=xloop_install_$$
createdb "$db"
trap 'dropdb --if-exists "$db"; rm -rf "$tmp"' EXIT
(cd "$tmp" && "$prefix/bin/xloop-migrate" --db "dbname=$db" -q) ||
    problem "installed xloop-migrate exited $?"
(cd "$tmp" && "$prefix/bin/xloop-migrate" status --check --db "dbname=$db" -q >/dev/null) ||
    problem "the migrated database is not up to date"
n=$(psql -X -At -d "$db" -c "SELECT count(*) FROM xloop.schema_migrations")
[ "$n" -ge 1 ] || problem "no migration recorded ($n)"

exit $fail
