#!/usr/bin/env bash
# Bundles the pinned PowerSync web SDK and the Markdown renderer + sanitizer (marked,
# DOMPurify; package-lock.json) into assets/vendor/.
#
#   scripts/vendor/build.sh           rebuild assets/vendor/ (commit the result)
#   scripts/vendor/build.sh --check   rebuild into a temporary folder and fail if it differs
#                                     from the committed assets/vendor/ (CI uses this)
#
# The output depends only on package-lock.json, entry.js and vite.config.js: file names are
# content hashes and nothing time- or machine-dependent is written, so a rebuild on the same
# lockfile is byte-identical. cargo never runs this; it serves the committed files.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
vendor="$root/assets/vendor"

mode=build
case "${1:-}" in
    "") ;;
    --check) mode=check ;;
    *) echo "usage: $0 [--check]" >&2; exit 2 ;;
esac

cd "$here"
npm ci --no-audit --no-fund --loglevel=error >/dev/null

out=$(mktemp -d /tmp/notebox-vendor.XXXXXX)
trap 'rm -rf "$out"' EXIT
VENDOR_OUT_DIR="$out/vendor" npx --no-install vite build >/dev/null

if [ "$mode" = check ]; then
    if diff -r "$vendor" "$out/vendor" >"$out/diff.txt"; then
        echo "assets/vendor/ matches scripts/vendor/package-lock.json"
    else
        echo "assets/vendor/ differs from a fresh build of scripts/vendor/ (run scripts/vendor/build.sh and commit):" >&2
        head -20 "$out/diff.txt" | cut -c1-200 >&2
        exit 1
    fi
else
    rm -rf "$vendor"
    mkdir -p "$(dirname "$vendor")"
    cp -r "$out/vendor" "$vendor"
    echo "wrote $(find "$vendor" -type f | wc -l) files to assets/vendor/ ($(du -sh "$vendor" | cut -f1))"
fi
