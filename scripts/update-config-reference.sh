#!/bin/sh
# update-config-reference.sh BUILD_DIR [--check]: write the configuration reference generated
# from the loader's key tables (BUILD_DIR/tests/tools/conf-reference) into README.md, between
# the "config-reference" markers; with --check, only report whether README.md is up to date.
set -eu
root=$(CDPATH='' cd -- "$(dirname -- "$0")/.." && pwd)
[ $# -ge 1 ] || { echo "usage: $0 BUILD_DIR [--check]" >&2; exit 2; }
generated=$("$1/tests/tools/conf-reference")
new=$(mktemp)
trap 'rm -f "$new"' EXIT
awk -v generated="$generated" '
    /<!-- config-reference:begin -->/ { print; print generated; skipping = 1; next }
    /<!-- config-reference:end -->/ { skipping = 0 }
    !skipping { print }' "$root/README.md" >"$new"
grep -q 'config-reference:begin' "$new" || { echo "README.md has no config-reference markers" >&2; exit 1; }
if [ "${2:-}" = --check ]; then
    if cmp -s "$new" "$root/README.md"; then
        echo "README.md configuration reference is up to date"
    else
        echo "README.md configuration reference differs from the key tables; run: $0 $1" >&2
        diff "$root/README.md" "$new" >&2 || true
        exit 1
    fi
else
    cp "$new" "$root/README.md"
fi
