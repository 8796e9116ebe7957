#!/usr/bin/env bash
# Checks validate's off-policy estimates against the truth (issue 15): every
# world, seeds 1-20 (or those given), 60 simulated days of the loop as shipped
# with follows per post from a JSON Lines metrics file; for each run the
# simulator computes each policy's true expected follows a post from the
# world's effects over the posts validate weighs. Prints per world the
# coverage of the lift's 90 % interval, its bias and whether its sign is right.
#   bench/policy_value.sh [-j jobs] [-w world ...] [seed ...]
set -euo pipefail
cd "$(dirname "$0")/.."
args=() seeds=()
while [ $# -gt 0 ]; do
    case $1 in
    -j | -w | -d) args+=("$1" "$2"); shift 2 ;;
    *) seeds+=("$1"); shift ;;
    esac
done
[ ${#seeds[@]} -gt 0 ] || seeds=($(seq 1 20))
exec bench/learning/run.sh -m file -p xloop -o bench/policy_value/last "${args[@]}" "${seeds[@]}"
