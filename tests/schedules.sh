#!/usr/bin/env bash
# The schedules shipped in cron/ cover every tool, in both forms (crontab and
# systemd timers), and the timers fire at the documented intervals.
#   tests/schedules.sh SOURCE_DIR
set -euo pipefail
src=${1:?source dir}
crontab=$src/cron/xloop.crontab
units=$src/cron/systemd
fail=0
problem() {
    echo "schedules: $*" >&2
    fail=1
}

for dir in "$src"/tools/*/; do
    tool=xloop-$(basename "$dir")
    grep -Eq "^[^#].*[[:space:]]$tool( |$)" "$crontab" ||
        problem "$crontab runs no $tool"
    grep -Elq "^ExecStart=.*/$tool( |$)" "$units"/*.service ||
        problem "no unit in $units runs $tool"
done
for service in "$units"/*.service; do
    [ -f "${service%.service}.timer" ] || problem "$service has no .timer"
done

# Minutes between the next elapses of a timer's OnCalendar lines, merged.
gaps() {
    local timer=$1 n=$2
    grep '^OnCalendar=' "$timer" | cut -d= -f2- | while read -r cal; do
        TZ=UTC systemd-analyze calendar --iterations="$n" "$cal" |
            sed -nE 's/^ *(Next elapse|Iter\. #[0-9]+): [A-Za-z]+ (.*) UTC$/\2/p'
    done | while read -r when; do date -u -d "$when" +%s; done | sort -n |
        awk 'NR > 1 { print ($1 - prev) / 60 } { prev = $1 }' | sort -u | paste -sd,
}

expect_gap() {
    local got
    got=$(gaps "$units/$1.timer" "$3")
    [ "$got" = "$2" ] || problem "$1.timer fires every $got min, not every $2"
}

if command -v systemd-analyze >/dev/null; then
    expect_gap xloop-scrape-metrics 20 10
    expect_gap xloop-learn-replies 90 8
    expect_gap xloop-build-weights 360 5
    expect_gap xloop-plan 60 5
    expect_gap xloop-plan-replies 60 5
    expect_gap xloop-validate-metrics 15 5
else
    echo "schedules: systemd-analyze not found; timer intervals not checked"
fi

# Replies have their own unit: as a second ExecStart of xloop-plan.service
# they did not run when the post run before them failed.
grep -q -- '^ExecStart=.*xloop-plan --replies' "$units/xloop-plan-replies.service" ||
    problem "no xloop-plan-replies.service runs xloop-plan --replies"
n=$(cat "$units"/*.service | grep -c '^ExecStart=' || true)
services=$(ls "$units"/*.service | wc -l)
[ "$n" = "$services" ] || problem "$n ExecStart lines in $services services: one each"

# The crontab's two learn-replies lines make 90 minutes (cron has no */90).
lines=$(grep -Ec '^[^#].*xloop-learn-replies' "$crontab")
[ "$lines" = 2 ] || problem "$crontab has $lines learn-replies lines, not 2"

# Every crontab line reads the file the units read, so the token (and the
# database) need be written in one place, never in the crontab.
envfile=$(sed -n 's/^EnvironmentFile=//p' "$units"/*.service | sort -u)
[ "$(echo "$envfile" | wc -l)" = 1 ] || problem "the units read more than one file: $envfile"
without=$(grep -E '^[0-9*@]' "$crontab" | grep -vF "set -a; . $envfile; " || true)
[ -z "$without" ] || problem "$crontab: lines that do not read $envfile first: $without"
grep -Eq '^[A-Z_]*(TOKEN|KEY|PASSWORD)=' "$crontab" && problem "$crontab sets a secret"

exit $fail
