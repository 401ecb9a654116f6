#!/usr/bin/env bash
# bench/run-files.sh — `./dev bench files`: the capture-file benchmark.
#
# usage: bench/run-files.sh BUILD_DIR RESULTS_TSV
#
# 1. Generates (once; again only when the generator's sources change) the 1 M
#    packet IMIX file BUILD_DIR/bench/imix-1M.pcap.
# 2. Runs BUILD_DIR/bench/bench-files on it: in-process reader and writer
#    against libpcap and the read()/write()/memcpy ceilings.
# 3. Times whole processes with hyperfine: `pktcap convert IN OUT --format
#    pcapng` against `editcap -F pcapng IN OUT`.
# Each comparison is appended to RESULTS_TSV as
#   key <TAB> definition <TAB> ratio <TAB> target <TAB> verdict
# for ./dev's summary. The exit status reports failures (a program failed, a
# packet count disagreed), never timing.
set -euo pipefail

build=${1:?usage: run-files.sh BUILD_DIR RESULTS_TSV}
results=${2:?usage: run-files.sh BUILD_DIR RESULTS_TSV}
src=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
packets=${PKTCAP_BENCH_PACKETS:-1000000}

gen=$build/bench/gen-imix
bench=$build/bench/bench-files
cli=$build/examples/pktcap
[ -x "$gen" ] || { echo "run-files: $gen is not built" >&2; exit 1; }
[ -x "$bench" ] \
    || { echo "run-files: $bench is not built (is libpcap-dev installed?)" >&2; exit 1; }

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

# --- the input file, cached outside the tracked files -----------------------
label=$([ "$packets" = 1000000 ] && echo 1M || echo "$packets")
data=$build/bench/imix-$label.pcap
stamp=$data.stamp
want_stamp=$( { cat "$src/imix.c" "$src/imix.h" "$src/gen-imix.c"; echo "-n $packets"; } \
              | sha256sum | cut -d' ' -f1)
if [ ! -f "$data" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want_stamp" ]; then
    say "generating $data ($packets IMIX packets)"
    rm -f "$data" "$stamp"
    "$gen" -n "$packets" -o "$data.tmp"
    mv "$data.tmp" "$data"
    echo "$want_stamp" >"$stamp"
else
    say "using cached $data"
fi

# --- in-process: bench-files -------------------------------------------------
say "bench-files: reader and writer vs libpcap and the ceilings"
"$bench" --results "$results" "$data"

# --- whole process: pktcap convert vs editcap --------------------------------
tmp=$(mktemp -d "${TMPDIR:-/tmp}/pktcap-bench-convert.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
key=convert-vs-editcap
definition="whole process: editcap -F pcapng / pktcap convert, median times (speed-up)"

if [ ! -x "$cli" ] || ! "$cli" help convert >/dev/null 2>&1; then
    echo
    echo "pktcap convert is not available in $cli: whole-process comparison skipped"
    printf '%s\t%s\t%s\t%s\t%s\n' "$key" "$definition" "-" ">=2.00" "SKIPPED" >>"$results"
    exit 0
fi
command -v hyperfine >/dev/null \
    || { echo "run-files: hyperfine is not installed (./dev deps)" >&2; exit 1; }

say "whole process: pktcap convert vs editcap -F pcapng (hyperfine)"
# Correctness first, outside the timing: both outputs must hold every packet.
"$cli" convert "$data" "$tmp/pktcap.pcapng" --format pcapng
editcap -F pcapng "$data" "$tmp/editcap.pcapng"
"$bench" --check --expect "$packets" "$tmp/pktcap.pcapng"
"$bench" --check --expect "$packets" "$tmp/editcap.pcapng"
rm -f "$tmp/pktcap.pcapng" "$tmp/editcap.pcapng"

out=$tmp/out.pcapng
# -N: no intermediate shell. --prepare removes the previous output, so every
# run creates its file afresh (the page cache still receives it: no fsync).
hyperfine -N --warmup 1 --runs 5 --export-json "$tmp/hyperfine.json" \
    --prepare "rm -f $out" \
    -n "pktcap convert" "$cli convert $data $out --format pcapng" \
    -n "editcap -F pcapng" "editcap -F pcapng $data $out"

python3 - "$tmp/hyperfine.json" "$packets" "$key" "$definition" "$results" <<'PY'
import json, sys
path, packets, key, definition, results = sys.argv[1:]
packets = int(packets)
runs = {r["command"]: r for r in json.load(open(path))["results"]}
ours, peer = runs["pktcap convert"], runs["editcap -F pcapng"]
ratio = peer["median"] / ours["median"]
print()
print(f"{'whole process':<20} {'median ms':>10} {'min ms':>8} {'Mpkt/s':>7} {'ns/pkt':>7}"
      f" {'user ms':>8} {'sys ms':>8}")
for name, r in (("pktcap convert", ours), ("editcap -F pcapng", peer)):
    print(f"{name:<20} {r['median'] * 1e3:10.1f} {r['min'] * 1e3:8.1f}"
          f" {packets / r['median'] / 1e6:7.2f} {r['median'] / packets * 1e9:7.0f}"
          f" {r['user'] * 1e3:8.1f} {r['system'] * 1e3:8.1f}")
verdict = "MET" if ratio >= 2.0 else "MISSED"
best = peer["min"] / ours["min"]
print(f"ratio editcap/pktcap: {ratio:.2f}x on medians ({best:.2f}x best)  target >=2.00  {verdict}")
with open(results, "a") as f:
    f.write(f"{key}\t{definition}\t{ratio:.3f}\t>=2.00\t{verdict}\n")
PY
