#!/usr/bin/env bash
# Every link inside README.md (`[text](#anchor)`) leads to one of its
# headings, slugged as GitHub does (lower case, punctuation but '-' and '_'
# dropped, spaces as '-'): a heading renamed must not leave a dead link.
#   tests/readme_links.sh SOURCE_DIR
set -euo pipefail
readme=${1:?source dir}/README.md
slugs=$(grep -E '^#{1,6} ' "$readme" | sed -E 's/^#+ //' | tr 'A-Z' 'a-z' |
    sed -E 's/[^a-z0-9 _-]//g; s/ /-/g')
links=$(grep -oE '\]\(#[^)]*\)' "$readme" | sed -E 's/^\]\(#//; s/\)$//' | sort -u)
[ -n "$links" ] || { echo "README.md links to none of its sections" >&2; exit 1; }
fail=0
for l in $links; do
    grep -qxF -- "$l" <<<"$slugs" || {
        echo "README.md links to #$l, which no heading is" >&2
        fail=1
    }
done
exit $fail
