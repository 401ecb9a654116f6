#!/bin/sh
# Smoke test of the benchmark programs (meson suite 'bench-smoke'): they must
# run and print their rows. It asserts no timing, only correctness: the
# generator is deterministic, libpcap and our reader count exactly N packets in
# its pcap and pcapng output, and bench-files --quick completes (it checks
# itself that every reader and every written file holds the same packets).
# usage: smoke-test.sh GEN_IMIX BENCH_FILES
set -eu
gen=$1
bench=$2
n=2000
tmp=$(mktemp -d "${TMPDIR:-/tmp}/pktcap-bench-smoke.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

fail() { echo "bench-smoke: $*" >&2; exit 1; }

"$gen" -q -n $n -o "$tmp/a.pcap"
"$gen" -q -n $n -o "$tmp/b.pcap"
cmp "$tmp/a.pcap" "$tmp/b.pcap" || fail "gen-imix is not deterministic"
"$gen" -q -n $n -F pcapng -o "$tmp/a.pcapng"
"$gen" -q -n $n -F pcap-nsec -o "$tmp/a-nsec.pcap"

for f in a.pcap a.pcapng a-nsec.pcap; do
    "$bench" --check --expect $n "$tmp/$f"
done

TMPDIR="$tmp" "$bench" --quick --results "$tmp/results.tsv" "$tmp/a.pcap" >"$tmp/out.txt" \
    || { cat "$tmp/out.txt"; fail "bench-files --quick failed"; }
cat "$tmp/out.txt"
for row in read.pktcap read.libpcap read.ceiling write.pktcap-pcap write.libpcap-dump \
           write.pktcap-pcapng write.ceiling memcpy.ceiling \
           read-vs-libpcap read-vs-ceiling write-vs-pcap_dump pcapng-vs-pcap; do
    grep -q "^$row " "$tmp/out.txt" || fail "row '$row' missing from the output"
done
grep -q "all saw $n packets" "$tmp/out.txt" || fail "packet-count check line missing"
[ "$(wc -l <"$tmp/results.tsv")" -ge 4 ] || fail "--results wrote too few lines"
ls "$tmp" | grep -q pktcap-bench && fail "temporary files left behind"
echo "bench-smoke: OK"
