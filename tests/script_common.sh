# Sourced by the shell tests that take a build directory: `build` (absolute),
# `tmp` (removed at exit), and problem(), which records a failure and goes on
# so one run lists every problem; the test ends with `exit $fail`.
#   . tests/script_common.sh NAME BUILD_DIR
name=$1
build=$(cd "${2:?build dir}" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
problem() {
    echo "$name: $*" >&2
    fail=1
}
