#!/usr/bin/env bash
# The Debian package: named xloop_<version>_amd64.deb, Depends found by
# dpkg-shlibdeps, the same files as the install tree under /usr, and it
# installs and removes cleanly in a throwaway root (dpkg --root), creating
# the xloop user and enabling nothing.
#   tests/package.sh BUILD_DIR
set -euo pipefail
. "$(dirname "$0")/script_common.sh" package "${1:-}"

(cd "$build" && cpack -G DEB -B "$tmp/out" >"$tmp/cpack.log") || {
    cat "$tmp/cpack.log" >&2
    exit 1
}
version=$(sed -nE 's/^CPACK_PACKAGE_VERSION:.*=(.*)$/\1/p' "$build/CMakeCache.txt")
deb=$(ls "$tmp"/out/xloop_*_amd64.deb 2>/dev/null | head -1)
[ -n "$deb" ] || {
    echo "package: no xloop_<version>_amd64.deb in $(ls "$tmp/out")" >&2
    exit 1
}
[ -z "$version" ] || [ "$(basename "$deb")" = "xloop_${version}_amd64.deb" ] ||
    problem "$(basename "$deb") is not xloop_${version}_amd64.deb"

depends=$(dpkg-deb -f "$deb" Depends)
for lib in libpq5 libcurl4 libyaml-cpp0.7 libfmt9 libc6 libstdc++6; do
    grep -q "\b$lib\b" <<<"$depends" || problem "Depends lacks $lib: $depends"
done

# The package holds exactly the install tree under /usr.
DESTDIR=$tmp/tree cmake --install "$build" --prefix /usr >/dev/null
(cd "$tmp/tree" && find . -type f | sed 's|^\./|/|' | sort) >"$tmp/tree.txt"
dpkg-deb -c "$deb" | awk '$1 !~ /^d/ { print $6 }' | sed 's|^\./|/|' | sort >"$tmp/deb.txt"
diff -u "$tmp/tree.txt" "$tmp/deb.txt" >&2 || problem "package and install tree differ"
grep -qx /usr/lib/systemd/system/xloop-plan.timer "$tmp/deb.txt" ||
    problem "no systemd units in /usr/lib/systemd/system"

# Install and remove in a throwaway root; the maintainer script acts on it
# (DPKG_ROOT), not on this machine.
root=$tmp/root
host_users=$(grep -c "^xloop:" /etc/passwd || true)
mkdir -p "$root/var/lib/dpkg/info" "$root/var/lib/dpkg/updates" "$root/etc"
touch "$root/var/lib/dpkg/status" "$root/var/lib/dpkg/available"
dpkg=(dpkg --root="$root" --force-script-chrootless --force-depends --log=/dev/null)
"${dpkg[@]}" -i "$deb" >"$tmp/dpkg-i.log" 2>&1 || {
    cat "$tmp/dpkg-i.log" >&2
    problem "dpkg -i failed"
}
[ -x "$root/usr/bin/xloop-plan" ] || problem "dpkg -i installed no /usr/bin/xloop-plan"
grep -q "^ExecStart=/usr/bin/xloop-plan" "$root/usr/lib/systemd/system/xloop-plan.service" ||
    problem "the installed unit does not run /usr/bin/xloop-plan"
grep -q "^xloop:" "$root/etc/passwd" 2>/dev/null || problem "no xloop user in the root"
[ "$(grep -c "^xloop:" /etc/passwd || true)" = "$host_users" ] ||
    problem "installing into the throwaway root changed this machine's users"
[ ! -e "$root/etc/systemd/system/timers.target.wants" ] ||
    problem "installing enabled timers: $(ls "$root/etc/systemd/system/timers.target.wants")"
"${dpkg[@]}" -r xloop >"$tmp/dpkg-r.log" 2>&1 || {
    cat "$tmp/dpkg-r.log" >&2
    problem "dpkg -r failed"
}
[ ! -e "$root/usr/bin/xloop-plan" ] || problem "dpkg -r left /usr/bin/xloop-plan"

exit $fail
