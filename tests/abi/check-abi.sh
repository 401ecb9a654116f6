#!/usr/bin/env bash
# Compares the built libpktcap.so with the ABI baseline stored in
# tests/abi/libpktcap.abi. Any difference fails: a removed or changed symbol
# or type breaks users; an added one must be recorded on purpose with
# `./dev abi-update` (after putting it in a new version node).
#
# usage: check-abi.sh LIBRARY BASELINE HEADERS_DIR GENERATED_HEADERS_DIR
#        check-abi.sh --update LIBRARY BASELINE HEADERS_DIR GENERATED_HEADERS_DIR
set -euo pipefail

update=0
if [ "${1:-}" = "--update" ]; then update=1; shift; fi
lib=$1 baseline=$2 headers=$3 generated=$4

for tool in abidw abidiff; do
    command -v "$tool" >/dev/null || { echo "check-abi: $tool not found (apt package abigail-tools)"; exit 1; }
done

dump() {
    abidw --headers-dir "$headers" --headers-dir "$generated" \
          --no-corpus-path --no-comp-dir-path --no-show-locs --drop-private-types \
          --out-file "$1" "$lib"
}

if [ "$update" = 1 ]; then
    dump "$baseline"
    echo "check-abi: baseline $baseline recorded from $lib"
    exit 0
fi

[ -f "$baseline" ] || { echo "check-abi: no baseline at $baseline (run ./dev abi-update)"; exit 1; }
current=$(mktemp --suffix=.abi)
trap 'rm -f "$current"' EXIT
dump "$current"
set +e
report=$(abidiff --no-show-locs "$baseline" "$current")
status=$?
set -e
if [ "$status" -ne 0 ]; then
    echo "$report"
    # abidiff's status bits: 1 error, 2 usage, 4 ABI change, 8 incompatible change.
    if [ $((status & 8)) -ne 0 ]; then
        echo "check-abi: INCOMPATIBLE change against the baseline: a released symbol or type was removed or changed."
    elif [ $((status & 4)) -ne 0 ]; then
        echo "check-abi: the ABI differs from the baseline (report above). A released symbol or type"
        echo "           must never change; if this is an intended ADDITION in a new version node,"
        echo "           record it with ./dev abi-update."
    else
        echo "check-abi: abidiff failed with status $status"
    fi
    exit 1
fi
echo "check-abi: the ABI equals the baseline $(basename "$baseline")"
