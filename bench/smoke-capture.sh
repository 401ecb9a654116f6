#!/bin/sh
# Smoke test of bench-capture (meson suite 'bench-smoke'): one short round of
# live capture on loopback, libpktcap and tcpdump. It asserts no timing: both
# capturers must start, write files holding what they report, capture every
# one of 1 000 datagrams, and the table and results lines must be printed.
# Live capture needs root: without it the test fails, unless
# PKTCAP_ALLOW_NO_ROOT=1, when it is skipped (exit 77).
# usage: smoke-capture.sh BENCH_CAPTURE
set -eu
bench=$1
if [ "$(id -u)" != 0 ]; then
    if [ "${PKTCAP_ALLOW_NO_ROOT:-}" = 1 ]; then
        echo "bench-capture smoke: skipped: not root"
        exit 77
    fi
    echo "bench-capture smoke: FAILED: live capture needs root (CI runs as root);" \
         "set PKTCAP_ALLOW_NO_ROOT=1 to skip" >&2
    exit 1
fi
command -v tcpdump >/dev/null || { echo "bench-capture smoke: tcpdump is not installed" >&2; exit 1; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/pktcap-bench-capture-smoke.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

TMPDIR="$tmp" "$bench" --packets 1000 --rates 0,20000 --runs 1 --warmup 0 --settle 1200 --expect-all \
    --results "$tmp/results.tsv" >"$tmp/out.txt" \
    || { cat "$tmp/out.txt"; echo "bench-capture smoke: bench-capture failed" >&2; exit 1; }
cat "$tmp/out.txt"
for row in "unpaced  pktcap" "unpaced  tcpdump" "20k      pktcap" "20k      tcpdump"; do
    grep -q "^$row " "$tmp/out.txt" || { echo "bench-capture smoke: no row '$row'" >&2; exit 1; }
done
for key in capture-cpu-unpaced capture-lost-unpaced capture-cpu-20k capture-lost-20k; do
    grep -q "^$key	" "$tmp/results.tsv" \
        || { echo "bench-capture smoke: no '$key' in the results" >&2; exit 1; }
done
