#!/usr/bin/env bash
# bench/run-capture.sh — `./dev bench capture`: live capture on loopback, a
# libpktcap local session writing a file against `tcpdump -w`.
#
# usage: bench/run-capture.sh BUILD_DIR RESULTS_TSV
#
# Runs BUILD_DIR/bench/bench-capture (see the comment at its top): bursts of
# PKTCAP_BENCH_CAPTURE_PACKETS (default 100 000) UDP datagrams of 64 bytes to
# 127.0.0.1, unpaced, at 100 000/s and at 20 000/s (PKTCAP_BENCH_CAPTURE_RATES,
# comma-separated, 0 = unpaced), each captured by a fresh capturer process of
# each kind with a 4 MiB kernel buffer and the filter `udp port P`; one warm-up
# run, then 5 rounds (PKTCAP_BENCH_CAPTURE_RUNS). It prints the table
# (captured, lost, kernel drops, CPU time of the capturing process,
# microseconds of CPU per captured packet) and appends two comparisons per
# rate to RESULTS_TSV: CPU per captured packet (tcpdump / ours, target ≥ 1)
# and packets lost (ours ≤ tcpdump's).
#
# Live capture needs root. The exit status reports failures (a capturer did
# not run, a file disagreed with its capturer's count), never timing.
set -euo pipefail

build=${1:?usage: run-capture.sh BUILD_DIR RESULTS_TSV}
results=${2:?usage: run-capture.sh BUILD_DIR RESULTS_TSV}
bench=$build/bench/bench-capture
[ -x "$bench" ] || { echo "run-capture: $bench is not built" >&2; exit 1; }
command -v tcpdump >/dev/null || { echo "run-capture: tcpdump is not installed (./dev deps)" >&2; exit 1; }
if [ "$(id -u)" != 0 ]; then
    echo "run-capture: live capture needs root (run ./dev bench capture as root)" >&2
    exit 1
fi

printf '\033[1m==> %s\033[0m\n' "bench-capture: pktcap local session vs tcpdump -w on lo" >&2
"$bench" --packets "${PKTCAP_BENCH_CAPTURE_PACKETS:-100000}" \
    --rates "${PKTCAP_BENCH_CAPTURE_RATES:-0,100000,20000}" \
    --runs "${PKTCAP_BENCH_CAPTURE_RUNS:-5}" --results "$results" -v
