#!/usr/bin/env bash
# The learning benchmark in xloop-sim's world: for each seed, the loop as
# shipped and the loop learning as the original did (original_learning.yaml),
# 30 simulated days each (or DAYS), two simulations at a time in one
# throwaway cluster. Prints per run what was learned and the capture of the
# oracle's gain over uniform posting (whole period, last 14 days).
#   bench/learning/run.sh [days] [seed ...]
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ -z "${XLOOP_BENCH_INNER:-}" ]; then
    export XLOOP_BENCH_INNER=1
    exec pg_virtualenv -t "$0" "$@"
fi
days=${1:-30}
shift || true
seeds=("$@")
[ ${#seeds[@]} -gt 0 ] || seeds=(1 2 3)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
export days out
run_one() {
    local policy=$1 seed=$2 extra=()
    [ "$policy" = original ] && extra=(--config-extra bench/learning/original_learning.yaml)
    createdb "learn_${policy}_$seed"
    build/bin/xloop-sim --db "dbname=learn_${policy}_$seed" --days "$days" --seed "$seed" \
        --json "${extra[@]}" > "$out/${policy}_$seed.json" 2> "$out/${policy}_$seed.err"
    dropdb "learn_${policy}_$seed"
}
export -f run_one
for s in "${seeds[@]}"; do printf 'xloop %s\noriginal %s\n' "$s" "$s"; done |
    xargs -P 2 -L 1 bash -c 'run_one "$0" "$1"'
printf '%-9s %4s  %-21s %-21s %-21s %9s %8s %8s\n' policy seed content_slot hook_type \
    post_hour posts/day capture last_14
for f in "$out"/*.json; do
    python3 - "$f" <<'PY'
import json, os, sys
d = json.load(open(sys.argv[1]))
policy, seed = os.path.basename(sys.argv[1])[:-5].split('_')
dims = []
for k in ('content_slot', 'hook_type', 'post_hour'):
    ok = 'right' if d[k]['learned_best'] == d[k]['true_best'] else 'WRONG'
    dims.append('%s %s %.2f' % (d[k]['learned_best'], ok, d[k]['weight_of_true_best']))
c = d['capture']
print('%-9s %4s  %-21s %-21s %-21s %9.2f %7.0f%% %7.0f%%' % (
    policy, seed, *dims, (d['posts'] - d['replies_posted']) / d['days'],
    100 * c['capture'], 100 * c['capture_last_14_days']))
PY
done
