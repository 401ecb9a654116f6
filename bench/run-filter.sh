#!/usr/bin/env bash
# bench/run-filter.sh — `./dev bench filter`: the capture-filter benchmark.
#
# usage: bench/run-filter.sh BUILD_DIR RESULTS_TSV
#
# Runs BUILD_DIR/bench/bench-filter: pktcap_filter_match against libpcap's BPF
# interpreter (pcap_offline_filter of the filter's BPF rendering) on IMIX
# packets generated in process and held in memory, for a 1-rule, a 5-rule and
# a 20-item-list filter and the direction-free counterpart of the issue's
# reference filter. It appends one line per filter to RESULTS_TSV as
#   key <TAB> definition <TAB> ratio <TAB> target <TAB> verdict
# for ./dev's summary. The exit status reports failures (the program failed,
# the two engines counted different matches), never timing.
set -euo pipefail

build=${1:?usage: run-filter.sh BUILD_DIR RESULTS_TSV}
results=${2:?usage: run-filter.sh BUILD_DIR RESULTS_TSV}
bench=$build/bench/bench-filter
[ -x "$bench" ] || { echo "run-filter: $bench is not built (libpcap-dev missing?)" >&2; exit 1; }

printf '\033[1m==> %s\033[0m\n' "bench-filter: pktcap_filter_match vs pcap_offline_filter" >&2
"$bench" --results "$results"
