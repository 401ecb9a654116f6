"""Every capture in tests/corpus/ read by libpktcap and by libpcap, line for line.

tests/tools/dump-reader (ours) and tests/tools/dump-libpcap print one line per
packet, "SEC.NSEC CAPLEN LEN IFACE LINKTYPE", then END or ERROR. For each file:

* libpcap reads it to END: ours prints the same lines and END;
* libpcap fails after k packets: ours prints the same k packets, then ERROR.

libpcap cannot say which interface a pcapng packet came on, so the IFACE column
is checked against tshark (for files with more than one interface) or must be
0. Our reader must also print the same thing reading from memory and from a
pipe on standard input.

A few files are read differently on purpose; they are listed below with the
reason, and checked exactly against another judge (tshark, or the expected
lines written out). A listed file that stops disagreeing fails the test, so
the list cannot go stale.

pcapng-testgen files come with a .txt that counts their blocks: our reader must
see that many packets (EPB + SPB + PB), interfaces (IDB) and sections (SHB).
"""
import os
import re
import struct
import subprocess
from pathlib import Path

import pytest

CORPUS = Path(__file__).resolve().parent.parent / "corpus"
DUMP_READER = os.environ.get("PKTCAP_DUMP_READER", "")
DUMP_LIBPCAP = os.environ.get("PKTCAP_DUMP_LIBPCAP", "")

FILES = sorted(p.relative_to(CORPUS).as_posix()
               for p in list(CORPUS.glob("tcpdump/*.pcap")) + list(CORPUS.glob("tcpdump/*.pcapng"))
               + list(CORPUS.glob("pcapng-testgen/*/*.pcapng")))

# libpcap 1.10 reads a classic pcap record's seconds as a signed 32-bit number,
# so these files come out before 1970. The pcap specification
# (draft-ietf-opsawg-pcap), libpcap 1.11 and tshark read it unsigned, as we do.
# Judge: tshark.
UNSIGNED_SECONDS = {
    "tcpdump/bgp_vpn_rt-oobr.pcap",
    "tcpdump/olsr-oobr-2.pcap",
    "tcpdump/pim_header_asan-2.pcap",
    "tcpdump/time_2038_overflow.pcap",
    "tcpdump/time_2039.pcap",
    "tcpdump/time_2106.pcap",
}

# The same for a microseconds field of 2^31 or more (damaged files): we read
# it unsigned and carry whole seconds over, so 0 s + 3841916976 us is
# 3841.916976 s. tshark prints such fractions as they are (".1000000000"), so
# the expected lines are written out.
UNSIGNED_FRACTION = {
    "tcpdump/rx_serviceid_oobr.pcap": [
        "117442577.131350000 71 262144 0 1",
        "3841.916976000 0 0 0 1",
        "2145916800.000000000 71 262144 0 1",
        "END",
    ],
    "tcpdump/timestamp_invalid_micro.pcap": [
        "1418145369.999999000 76 76 0 113",
        "1418145371.000000000 76 76 0 113",  # 1418145370 s + 1000000 us
        "1418147517.483648000 68 68 0 113",  # 1418145370 s + 2147483648 us
        "END",
    ],
}

# libpcap 1.10 refuses pcapng files whose interfaces differ in link type or
# snaplen ("an interface has a type 0 different from the type of the first
# interface") and files with no IDB at all. The pcapng specification allows
# both, and so do we. Judge: tshark.
LIBPCAP_PCAPNG_LIMITS = {
    "pcapng-testgen/advanced/test100.pcapng",
    "pcapng-testgen/advanced/test101.pcapng",
    "pcapng-testgen/advanced/test102.pcapng",
    "pcapng-testgen/basic/test002.pcapng",
    "pcapng-testgen/basic/test004.pcapng",
    "pcapng-testgen/basic/test005.pcapng",
    "pcapng-testgen/basic/test006.pcapng",
    "pcapng-testgen/basic/test008.pcapng",
    "pcapng-testgen/basic/test014.pcapng",
    "pcapng-testgen/basic/test017.pcapng",
    "pcapng-testgen/difficult/test200.pcapng",
    "pcapng-testgen/difficult/test201.pcapng",
    "pcapng-testgen/difficult/test202.pcapng",
}

TOTALS = {"compared": 0, "agreed": 0, "documented": 0}


# The programs run without the sanitizer runtimes the interpreter may have
# preloaded (our tools link their own in a sanitizer build), and with leak
# checking on: the interpreter's settings turn it off for itself.
TOOL_ENV = {k: v for k, v in os.environ.items() if k != "LD_PRELOAD"}
TOOL_ENV["ASAN_OPTIONS"] = "detect_leaks=1:abort_on_error=1"


def run(args, data=None):
    res = subprocess.run(args, input=data, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         env=TOOL_ENV, timeout=120, check=False)
    assert res.returncode == 0, f"{args} exited {res.returncode}: {res.stderr.decode(errors='replace')}"
    return res.stdout.decode().splitlines()


def ours(rel, *opts):
    """Our lines (with a COUNTS line when -c is given)."""
    return run([DUMP_READER, *opts, str(CORPUS / rel)])


def without_iface(line):
    """SEC.NSEC CAPLEN LEN LINKTYPE, or END / ERROR without the code name."""
    f = line.split()
    if f[0] in ("END", "ERROR"):
        return f[0]
    assert len(f) == 5, line
    return " ".join([f[0], f[1], f[2], f[4]])


def pcapng_section_interfaces(data):
    """How many IDBs each section of a pcapng file has: a block walk of its own,
    to turn tshark's per-section interface numbers into the file-wide ones."""
    counts, off = [], 0
    order = "<"
    while off + 12 <= len(data):
        btype = struct.unpack_from("<I", data, off)[0]
        if btype == 0x0A0D0D0A:
            order = "<" if data[off + 8:off + 12] == b"\x4d\x3c\x2b\x1a" else ">"
            counts.append(0)
        else:
            btype = struct.unpack_from(order + "I", data, off)[0]
        blen = struct.unpack_from(order + "I", data, off + 4)[0]
        if btype == 1:
            counts[-1] += 1
        if blen < 12:
            break
        off += blen
    return counts


def tshark_lines(rel):
    """Packets as tshark sees them, in our format less LINKTYPE, then END."""
    path = CORPUS / rel
    out = run(["tshark", "-r", str(path), "-T", "fields", "-e", "frame.time_epoch",
               "-e", "frame.cap_len", "-e", "frame.len", "-e", "frame.section_number",
               "-e", "frame.interface_id"])
    data = path.read_bytes()
    pcapng = data[:4] == b"\x0a\x0d\x0d\x0a"
    firsts = [0]
    if pcapng:
        for n in pcapng_section_interfaces(data):
            firsts.append(firsts[-1] + n)
    lines = []
    for row in out:
        t, caplen, length, section, iface = row.split("\t")
        if pcapng and iface == "":
            continue  # tshark shows custom and secrets blocks as frames too
        base = firsts[int(section) - 1] if pcapng else 0
        lines.append(f"{t or '0.000000000'} {caplen} {length} {base + int(iface or 0)}")
    return lines + ["END"]


def block_counts_of(rel):
    text = (CORPUS / rel).with_suffix(".txt").read_text()
    counts = dict((k, int(v)) for k, v in re.findall(r"^\s+(\w+): (\d+)$", text, re.M))
    return counts


def test_tools_are_built():
    assert os.access(DUMP_READER, os.X_OK), "PKTCAP_DUMP_READER is not set to dump-reader"
    assert os.access(DUMP_LIBPCAP, os.X_OK), "PKTCAP_DUMP_LIBPCAP is not set to dump-libpcap"
    assert len(FILES) > 600


@pytest.mark.parametrize("rel", FILES)
def test_corpus_file(rel):
    path = CORPUS / rel
    counted = ours(rel, "-c")
    assert counted[-1].startswith("COUNTS ")
    mine = counted[:-1]
    sections, interfaces = (int(x) for x in counted[-1].split()[1:])
    assert mine[-1] == "END" or mine[-1].startswith("ERROR PKTCAP_E_")

    # The same from memory and from a pipe on standard input.
    assert ours(rel, "-m") == mine
    assert run([DUMP_READER, "-"], data=path.read_bytes()) == mine

    theirs = run([DUMP_LIBPCAP, str(path)])
    assert theirs and theirs[-1] in ("END", "ERROR")
    mine_cmp = [without_iface(x) for x in mine]
    theirs_cmp = [without_iface(x) for x in theirs]
    TOTALS["compared"] += 1

    if rel in UNSIGNED_SECONDS or rel in LIBPCAP_PCAPNG_LIMITS:
        assert mine_cmp != theirs_cmp, f"{rel} is listed as a disagreement but agrees now"
        assert [x.rsplit(" ", 1)[0] for x in mine] == tshark_lines(rel)
        if rel in LIBPCAP_PCAPNG_LIMITS:
            # Up to where libpcap gave up, it read what we read.
            k = len(theirs) - 1
            assert theirs[-1] == "ERROR" and mine_cmp[:k] == theirs_cmp[:k]
        TOTALS["documented"] += 1
    elif rel in UNSIGNED_FRACTION:
        assert mine_cmp != theirs_cmp, f"{rel} is listed as a disagreement but agrees now"
        assert mine == UNSIGNED_FRACTION[rel]
        TOTALS["documented"] += 1
    else:
        if theirs[-1] == "END":
            assert mine_cmp == theirs_cmp
        else:
            k = len(theirs) - 1
            assert mine_cmp[:k] == theirs_cmp[:k]
            assert len(mine) == k + 1 and mine[-1].startswith("ERROR")
        if interfaces > 1:
            assert [x.rsplit(" ", 1)[0] for x in mine] == tshark_lines(rel)
        else:
            assert all(x.split()[3] == "0" for x in mine[:-1])
        TOTALS["agreed"] += 1

    if rel.startswith("pcapng-testgen/"):
        want = block_counts_of(rel)
        packets = want.get("EPB", 0) + want.get("SPB", 0) + want.get("PB", 0)
        assert (len(mine) - 1, interfaces, sections) == (packets, want.get("IDB", 0), want["SHB"])
        assert mine[-1] == "END"
