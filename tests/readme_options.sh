#!/usr/bin/env bash
# README.md stays true to the tools: every option a tool (or a subcommand of
# one) takes is documented there, and every option the README gives exists,
# in some tool's help or in one of the few other commands it names.
#   tests/readme_options.sh SOURCE_DIR BIN_DIR
set -euo pipefail
src=${1:?source dir}
bin=${2:?bin dir}
readme=$src/README.md
fail=0
options() { grep -oE -- '--[a-z][a-z0-9-]*' | sort -u; }

helps=$(mktemp)
trap 'rm -f "$helps"' EXIT
for dir in "$src"/tools/*/; do
    tool=$bin/xloop-$(basename "$dir")
    "$tool" --help >>"$helps"
    # subcommands are listed after "Subcommands:", one per line
    sed -n '/^Subcommands:/,/^$/p' <("$tool" --help) | awk 'NR > 1 && NF { print $1 }' |
        while read -r sub; do "$tool" "$sub" --help; done >>"$helps"
done
"$bin/xloop-sim" --help >>"$helps"

while read -r o; do
    grep -q -- "$o\b" "$readme" || {
        echo "README.md does not document $o (in a tool's --help)" >&2
        fail=1
    }
done < <(options <"$helps")

# Options of the other commands the README shows (ctest, cmake, systemctl,
# scripts/test, node_exporter) and the misspelling it quotes from an error
# message.
others=" --output-on-failure --install --prefix --failed --sanitize --dryrun --collector "
while read -r o; do
    grep -q -- "$o\b" "$helps" || [[ $others == *" $o "* ]] || {
        echo "README.md gives $o, which no tool takes" >&2
        fail=1
    }
done < <(options <"$readme")
exit "$fail"
