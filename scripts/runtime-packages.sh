#!/bin/sh
# runtime-packages.sh BINARY...: print, sorted and one per line, the Debian packages that own
# the shared libraries the binaries load at run time: what a runtime image must install for
# them. docker/Dockerfile's runtime list is checked against it
# (tests/integration/test_docker.sh); after a change of the libraries the binaries link, run
#   scripts/runtime-packages.sh build/release/airudder-bridge build/release/airudder-replay \
#       build/release/tests/desk/sample-desk
# and copy the list into the Dockerfile.
#
# The libraries are the ones ldd shows (every library loaded, directly or through another
# one), except that the sanitizer runtimes (libasan, libubsan, liblsan, libtsan) and what only
# they load (libstdc++, libgcc_s) are left out, so an ASan build gives the same answer as the
# optimised build the image ships: the walk follows each file's DT_NEEDED entries (readelf)
# from the binary, resolving every name to the path ldd gave it, and does not enter a
# sanitizer runtime. Each path is then mapped to its package with dpkg-query -S (trying the
# path, its target, and both sides of the /lib -> /usr/lib merge, since dpkg records whichever
# the package ships). libc6 (libc, libm, libresolv, the dynamic loader) is left out: every
# Debian image has it. A library no package owns, or one ldd cannot find, is an error.
set -eu

die() {
    printf 'runtime-packages.sh: %s\n' "$*" >&2
    exit 1
}

[ $# -ge 1 ] || die "usage: runtime-packages.sh BINARY..."
command -v ldd >/dev/null 2>&1 || die "ldd not found"
command -v readelf >/dev/null 2>&1 || die "readelf not found (binutils)"
command -v dpkg-query >/dev/null 2>&1 || die "dpkg-query not found: this needs Debian"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/runtime-packages.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# needed FILE: print FILE's DT_NEEDED names, one per line.
needed() {
    readelf -d "$1" 2>/dev/null | sed -n 's/.*(NEEDED).*\[\(.*\)\]$/\1/p'
}

# owner PATH: print the package owning PATH (without its :arch), or nothing.
owner() {
    real=$(readlink -f "$1")
    for candidate in "$1" "$real"; do
        case $candidate in
        /usr/lib/*) set -- "$candidate" "${candidate#/usr}" ;;
        /lib/* | /lib64/*) set -- "$candidate" "/usr$candidate" ;;
        *) set -- "$candidate" ;;
        esac
        for path in "$@"; do
            # "pkg:arch: /path" or "pkg1, pkg2: /path"; "diversion by ..." lines are skipped.
            found=$(dpkg-query -S "$path" 2>/dev/null | grep -v '^diversion ' |
                sed -n 's/^\([^:, ]*\)[^ ]* .*$/\1/p' | head -n 1) || true
            if [ -n "$found" ]; then
                printf '%s\n' "$found"
                return 0
            fi
        done
    done
}

: >"$tmp/libraries"
for binary in "$@"; do
    [ -f "$binary" ] || die "$binary: no such file"
    # The name -> path map of everything loaded: ldd's "name => /path (0x...)" lines, and
    # "/path (0x...)" for the dynamic loader, named by its file name.
    ldd "$binary" >"$tmp/ldd" 2>&1 || die "ldd $binary failed: $(cat "$tmp/ldd")"
    if grep -q '=> not found' "$tmp/ldd"; then
        die "$binary: libraries not found: $(grep '=> not found' "$tmp/ldd" | tr -s ' \t\n' ' ')"
    fi
    awk '$2 == "=>" && $3 ~ /^\// { print $1, $3 }
         $1 ~ /^\// { n = split($1, part, "/"); print part[n], $1 }' "$tmp/ldd" >"$tmp/map"

    needed "$binary" >"$tmp/queue"
    : >"$tmp/seen"
    while [ -s "$tmp/queue" ]; do
        name=$(head -n 1 "$tmp/queue")
        sed -i 1d "$tmp/queue"
        grep -qxF "$name" "$tmp/seen" && continue
        printf '%s\n' "$name" >>"$tmp/seen"
        case $name in libasan.so* | libubsan.so* | liblsan.so* | libtsan.so* | libhwasan.so*) continue ;; esac
        path=$(awk -v name="$name" '$1 == name { print $2; exit }' "$tmp/map")
        [ -n "$path" ] || die "$binary: ldd does not show where $name is"
        printf '%s\n' "$path" >>"$tmp/libraries"
        needed "$path" >>"$tmp/queue"
    done
done

sort -u "$tmp/libraries" | while read -r library; do
    package=$(owner "$library")
    [ -n "$package" ] || die "no Debian package owns $library"
    printf '%s\n' "$package"
done | grep -vx libc6 | sort -u
