#!/usr/bin/env bash
# bench/run-summary.sh — `./dev bench summary`: the packet-summary benchmark.
#
# usage: bench/run-summary.sh BUILD_DIR RESULTS_TSV
#
# 1. Uses (generating once, as run-files.sh does, with the same cache and
#    stamp) the 1 M packet IMIX file BUILD_DIR/bench/imix-1M.pcap, and a
#    200 000-packet one (the first 200 000 packets of the same stream) for
#    the comparison with tshark, which needs about 25 s for 1 M packets.
# 2. Runs BUILD_DIR/bench/bench-summary on the 1 M file: pktcap_summarize
#    alone, pktcap_summary_format per format, an snprintf reference.
# 3. Times whole processes with hyperfine, output to /dev/null:
#    `pktcap summary --format text` against `tcpdump -nn -r`, as usually run
#    and with TZ=UTC (1 M packets),
#    `pktcap summary --format json` against `tshark -T fields` with the
#    summary's fields (200 000 packets).
# Each comparison is appended to RESULTS_TSV as
#   key <TAB> definition <TAB> ratio <TAB> target <TAB> verdict
# for ./dev's summary. The exit status reports failures (a program failed, a
# line count disagreed), never timing.
set -euo pipefail

build=${1:?usage: run-summary.sh BUILD_DIR RESULTS_TSV}
results=${2:?usage: run-summary.sh BUILD_DIR RESULTS_TSV}
src=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
packets=${PKTCAP_BENCH_PACKETS:-1000000}
tshark_packets=${PKTCAP_BENCH_TSHARK_PACKETS:-200000}

gen=$build/bench/gen-imix
bench=$build/bench/bench-summary
cli=$build/examples/pktcap
[ -x "$gen" ] || { echo "run-summary: $gen is not built" >&2; exit 1; }
[ -x "$bench" ] || { echo "run-summary: $bench is not built" >&2; exit 1; }
[ -x "$cli" ] || { echo "run-summary: $cli is not built" >&2; exit 1; }
for tool in hyperfine tcpdump tshark; do
    command -v "$tool" >/dev/null || { echo "run-summary: $tool is not installed (./dev deps)" >&2; exit 1; }
done

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

# --- the input files, cached outside the tracked files ------------------------
# The same names and stamps as run-files.sh, so both benchmarks share the file.
imix_file() {
    local n=$1 label data stamp want_stamp
    label=$([ "$n" = 1000000 ] && echo 1M || echo "$n")
    data=$build/bench/imix-$label.pcap
    stamp=$data.stamp
    want_stamp=$( { cat "$src/imix.c" "$src/imix.h" "$src/gen-imix.c"; echo "-n $n"; } \
                  | sha256sum | cut -d' ' -f1)
    if [ ! -f "$data" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want_stamp" ]; then
        say "generating $data ($n IMIX packets)"
        rm -f "$data" "$stamp"
        "$gen" -q -n "$n" -o "$data.tmp"
        mv "$data.tmp" "$data"
        echo "$want_stamp" >"$stamp"
    else
        say "using cached $data"
    fi
    IMIX_FILE=$data
}
imix_file "$packets"; data=$IMIX_FILE
imix_file "$tshark_packets"; small=$IMIX_FILE

# --- in-process: bench-summary -----------------------------------------------
say "bench-summary: pktcap_summarize and pktcap_summary_format"
"$bench" --results "$results" "$data"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/pktcap-bench-summary.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

# --- correctness first, outside the timing: one line per packet each ---------
count_lines() { "$@" 2>/dev/null | wc -l; }
say "checking that every program prints one line per packet"
tshark_fields=(-e frame.number -e frame.time_epoch -e eth.src -e eth.dst -e ip.src -e ip.dst
               -e ipv6.src -e ipv6.dst -e tcp.srcport -e tcp.dstport -e udp.srcport
               -e udp.dstport -e frame.protocols -e frame.len)
for check in "$packets|$cli summary --format text $data" \
             "$packets|tcpdump -nn -r $data" \
             "$tshark_packets|$cli summary --format json $small" \
             "$tshark_packets|tshark -n -r $small -T fields ${tshark_fields[*]}"; do
    want=${check%%|*}
    cmd=${check#*|}
    # shellcheck disable=SC2086  # the command is split on purpose
    got=$(count_lines $cmd)
    [ "$got" = "$want" ] || { echo "run-summary: '$cmd' printed $got lines, not $want" >&2; exit 1; }
done
# The JSON must parse, line by line (a sample: the first 100 000 lines).
"$cli" summary --format json -c 100000 "$data" | python3 -c '
import json, sys
n = sum(1 for line in sys.stdin if json.loads(line))
assert n == 100000, n
'

# --- whole process: text vs tcpdump (1 M packets) ----------------------------
say "whole process: pktcap summary --format text vs tcpdump -nn -r ($packets packets, hyperfine)"
# tcpdump twice: as it is usually run, and with TZ=UTC. Without TZ, glibc's
# localtime() stats /etc/localtime for every packet (1.6 s of system time for
# 1 M packets here); with TZ=UTC it prints the same UTC times as we do.
hyperfine -N --warmup 1 --runs 5 --output null --export-json "$tmp/text.json" \
    -n "pktcap summary text" "$cli summary --format text $data" \
    -n "tcpdump -nn -r" "tcpdump -nn -r $data" \
    -n "TZ=UTC tcpdump -nn -r" "env TZ=UTC tcpdump -nn -r $data"

# --- whole process: JSON vs tshark -T fields (200 000 packets) ---------------
# tshark takes seconds per run: its own, shorter hyperfine run.
say "whole process: pktcap summary --format json vs tshark -T fields ($tshark_packets packets, hyperfine)"
hyperfine -N --warmup 1 --runs 5 --output null --export-json "$tmp/json-ours.json" \
    -n "pktcap summary json" "$cli summary --format json $small"
hyperfine -N --warmup 1 --runs 2 --output null --export-json "$tmp/json-tshark.json" \
    -n "tshark -T fields" "tshark -n -r $small -T fields ${tshark_fields[*]}"

python3 - "$tmp" "$packets" "$tshark_packets" "$results" <<'PY'
import json, sys
tmp, packets, small, results = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]

def load(name):
    return {r["command"]: r for r in json.load(open(f"{tmp}/{name}"))["results"]}

text = load("text.json")
runs = {**text, **load("json-ours.json"), **load("json-tshark.json")}
counts = {"pktcap summary text": packets, "tcpdump -nn -r": packets,
          "TZ=UTC tcpdump -nn -r": packets,
          "pktcap summary json": small, "tshark -T fields": small}
print()
print(f"{'whole process':<24} {'packets':>8} {'median ms':>10} {'min ms':>9} {'Mpkt/s':>7}"
      f" {'ns/pkt':>7} {'user ms':>8} {'sys ms':>8}")
for name, r in runs.items():
    n = counts[name]
    print(f"{name:<24} {n:>8} {r['median'] * 1e3:10.1f} {r['min'] * 1e3:9.1f}"
          f" {n / r['median'] / 1e6:7.2f} {r['median'] / n * 1e9:7.0f}"
          f" {r['user'] * 1e3:8.1f} {r['system'] * 1e3:8.1f}")

comparisons = [
    ("text-vs-tcpdump", "whole process: tcpdump -nn -r / pktcap summary --format text, "
     f"{packets} packets, median times (speed-up)",
     runs["tcpdump -nn -r"], runs["pktcap summary text"], 10.0),
    ("text-vs-tcpdump-tz-utc", "whole process: TZ=UTC tcpdump -nn -r (no stat of /etc/localtime "
     f"per packet, same UTC times as ours) / pktcap summary --format text, {packets} packets, "
     "median times (speed-up)",
     runs["TZ=UTC tcpdump -nn -r"], runs["pktcap summary text"], 10.0),
    ("json-vs-tshark", "whole process: tshark -T fields (14 fields) / pktcap summary --format "
     f"json, {small} packets, median times (speed-up)",
     runs["tshark -T fields"], runs["pktcap summary json"], 100.0),
]
print()
with open(results, "a") as f:
    for key, definition, peer, ours, target in comparisons:
        ratio = peer["median"] / ours["median"]
        best = peer["min"] / ours["min"]
        verdict = "MET" if ratio >= target else "MISSED"
        print(f"{key}: {ratio:.2f}x on medians ({best:.2f}x best)  target >={target:.2f}  {verdict}")
        f.write(f"{key}\t{definition}\t{ratio:.3f}\t>={target:.2f}\t{verdict}\n")
PY
