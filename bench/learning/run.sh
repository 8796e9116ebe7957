#!/usr/bin/env bash
# The learning benchmark (DESIGN §5.6, §8): every world in sim/worlds, each
# seed, 60 simulated days, the loop as shipped (xloop) and the original bot's
# policy (original), JOBS simulations at a time in one throwaway cluster;
# uniform and oracle posting are computed from each world's expected values.
# Prints per world the capture of the oracle's gain over uniform (whole run,
# last 14 days, replies: mean ± sd over seeds) and writes a chart of the
# cumulative expected follows per policy (OUT/learning.svg) and every run's
# JSON (OUT/runs/). -m file reads metrics from a JSON Lines file with follows
# per post instead of the fake X API; -p picks the policies (repeatable).
# bench/policy_value.sh runs it to check validate's estimates (issue 15).
# XLOOP_BENCH_BIN: the directory of the binaries (default build/bin), e.g. a
# copy, to go on building while it runs.
# -c FILE merges FILE into the tools' config (xloop-sim --config-extra): to
# try other learning settings on every world. -w takes a world's name in
# sim/worlds or a world file (the held-out worlds of bench/learning/worlds).
# -s MINUTES runs scrape-metrics that often (120; the follower snapshots'
# spacing). -a ARG passes ARG on to xloop-sim (e.g. -a --followers-limit=8).
#   bench/learning/run.sh [-a arg ...] [-c file] [-d days] [-j jobs] [-m api|file]
#                         [-o out] [-p policy ...] [-s minutes] [-w world ...] [seed ...]
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ -z "${XLOOP_BENCH_INNER:-}" ]; then
    export XLOOP_BENCH_INNER=1
    exec pg_virtualenv -t "$0" "$@" 2> >(grep -v -e '^Creating new PostgreSQL cluster' \
        -e '^Dropping cluster' >&2)
fi
days=60 jobs=4 metrics=api out=bench/learning/last worlds=() policies=() extra= scrape=120 sim_args=
while getopts a:c:d:j:m:o:p:s:w: opt; do
    case $opt in
    a) sim_args+=" $OPTARG" ;;
    c) extra=$(realpath "$OPTARG") ;;
    d) days=$OPTARG ;;
    j) jobs=$OPTARG ;;
    m) metrics=$OPTARG ;;
    o) out=$OPTARG ;;
    p) policies+=("$OPTARG") ;;
    s) scrape=$OPTARG ;;
    w) worlds+=("$OPTARG") ;;
    *) exit 64 ;;
    esac
done
shift $((OPTIND - 1))
seeds=("$@")
[ ${#seeds[@]} -gt 0 ] || seeds=(1 2 3 4 5)
[ ${#worlds[@]} -gt 0 ] || worlds=($(ls sim/worlds | sed 's/\.yaml$//'))
[ ${#policies[@]} -gt 0 ] || policies=(xloop original)
mkdir -p "$out/runs"
rm -f "$out"/runs/*.json
export days out metrics extra scrape sim_args
run_one() {
    # a world by name (sim/worlds) or by its file (bench/learning/worlds)
    local world=$1 policy=$2 seed=$3 file="sim/worlds/$1.yaml"
    case $world in *.yaml) file=$world world=$(basename "$world" .yaml) ;; esac
    local db="learn_${world}_${policy}_$seed"
    createdb "$db"
    if ! "${XLOOP_BENCH_BIN:-build/bin}/xloop-sim" --db "dbname=$db" --world "$file" \
        --policy "$policy" --days "$days" --seed "$seed" --tick-minutes 60 \
        --every scrape-metrics="$scrape" --every plan=180 --every learn-replies=180 --metrics "$metrics" ${extra:+--config-extra "$extra"} $sim_args --json > "$out/runs/$db.json" 2> "$out/runs/$db.err"; then
        echo "FAILED: $world $policy $seed" >&2
        cat "$out/runs/$db.err" >&2
        rm -f "$out/runs/$db.json"
    fi
    dropdb "$db"
}
export -f run_one
start=$(date +%s)
for w in "${worlds[@]}"; do
    for s in "${seeds[@]}"; do
        for p in "${policies[@]}"; do printf '%s %s %s\n' "$w" "$p" "$s"; done
    done
done | xargs -P "$jobs" -L 1 bash -c 'run_one "$0" "$1" "$2"'
echo "$(( $(date +%s) - start )) s for ${#worlds[@]} worlds x ${#seeds[@]} seeds x ${#policies[@]} policies, $days days each (metrics: $metrics), $jobs at a time"
python3 bench/learning/report.py "$out"
