"""Files written by libpktcap, judged by independent tools: capinfos, tshark
and editcap (Wireshark 4.0). writer-helper writes each file and prints what it
wrote, one line per packet; every test compares the tools' view with that."""

import os
import platform
import subprocess
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path

import pytest

HELPER = Path(os.environ.get("PKTCAP_BUILD_ROOT", "build")) / "tests" / "writer" / "writer-helper"


# In a sanitizer build the interpreter runs with the sanitizer runtimes
# preloaded; the Wireshark tools hang under them, and writer-helper carries
# its own.
TOOL_ENV = {k: v for k, v in os.environ.items() if k != "LD_PRELOAD"}


def run(*args):
    """Runs a tool; fails on a non-zero exit or any complaint on stderr."""
    proc = subprocess.run([str(a) for a in args], capture_output=True, text=True, check=False,
                          env=TOOL_ENV, timeout=120)
    complaints = [line for line in proc.stderr.splitlines() if "Running as user" not in line]
    assert proc.returncode == 0 and not complaints, f"{args}: rc={proc.returncode} {proc.stderr}"
    return proc.stdout


def write(scenario, target):
    """Returns (packets, completed files) as writer-helper reports them."""
    packets, files = [], []
    for line in run(HELPER, scenario, target).splitlines():
        if line.startswith("FILE "):
            files.append(Path(line[5:]))
            continue
        iface, ts, caplen, length, flags, comment = line.split(" ", 5)
        packets.append({
            "iface": int(iface), "ts": Decimal(ts), "caplen": int(caplen), "len": int(length),
            "flags": int(flags), "comment": None if comment == "-" else comment,
        })
    return packets, files


def tshark_fields(path, *fields):
    args = ["tshark", "-r", path, "-T", "fields", "-E", "separator=\t"]
    for f in fields:
        args += ["-e", f]
    return [line.split("\t") for line in run(*args).splitlines()]


def capinfos_row(path):
    """capinfos' machine-readable table: type, encapsulation, snaplen, count, first and last time."""
    row = run("capinfos", "-T", "-r", "-M", "-t", "-E", "-l", "-c", "-S", "-a", "-e", path).rstrip("\n")
    name, ftype, encap, snaplen, _, _, count, first, last = row.split("\t")
    assert name == str(path)
    return {"type": ftype, "encap": encap, "snaplen": snaplen, "count": int(count),
            "first": Decimal(first), "last": Decimal(last)}


def truncate(ts, digits):
    return ts.quantize(Decimal(1).scaleb(-digits), rounding="ROUND_DOWN")


FORMATS = [
    # (name, file name, query, capinfos type, timestamp digits)
    ("pcap", "usec.pcap", "", "pcap", 6),
    ("pcap-nsec", "nsec.pcap", "?format=pcap-nsec", "nsecpcap", 9),
    ("pcapng", "ng.pcapng", "", "pcapng", 9),
]


@pytest.mark.parametrize("fmt,name,query,ftype,digits", FORMATS, ids=[f[0] for f in FORMATS])
def test_capinfos_and_tshark_read_every_packet_of_every_format(tmp_path, fmt, name, query, ftype, digits):
    path = tmp_path / name
    packets, files = write("imix", f"file://{path}{query}")
    assert files == [path]
    assert sorted(os.listdir(tmp_path)) == [name]

    info = capinfos_row(path)
    assert info["type"] == ftype
    assert info["encap"] == "ether"
    assert info["count"] == len(packets) == 500
    assert info["first"] == truncate(packets[0]["ts"], digits)
    assert info["last"] == truncate(packets[-1]["ts"], digits)
    assert info["snaplen"] == ("(not set)" if fmt == "pcapng" else "262144")

    rows = tshark_fields(path, "frame.time_epoch", "frame.cap_len", "frame.len", "eth.type")
    assert len(rows) == len(packets)
    for row, p in zip(rows, packets):
        assert Decimal(row[0]) == truncate(p["ts"], digits)
        assert int(row[1]) == p["caplen"]
        assert int(row[2]) == p["len"]
        assert row[3] == "0x0800"


def test_comments_and_directions_are_what_tshark_shows(tmp_path):
    path = tmp_path / "notes.pcapng"
    packets, _ = write("imix", str(path))
    rows = tshark_fields(path, "frame.comment", "frame.packet_flags_direction", "frame.interface_id")
    assert len(rows) == len(packets)
    for row, p in zip(rows, packets):
        assert row[0] == (p["comment"] or "")
        # Wireshark shows the flags word only where the EPB has the option.
        assert row[1] == (f"0x{p['flags']:08x}" if p["flags"] else "")
        assert row[2] == "0"
    assert sum(1 for p in packets if p["comment"]) == 50
    assert sum(1 for p in packets if p["flags"]) == 167


def test_section_and_interface_options_are_what_capinfos_shows(tmp_path):
    path = tmp_path / "props.pcapng"
    write("imix", str(path))
    report = run("capinfos", path)
    uname = platform.uname()
    assert f"Capture hardware:    {uname.machine}\n" in report
    assert f"Capture oper-sys:    {uname.system} {uname.release}\n" in report
    assert "Capture application: libpktcap " in report
    assert "Capture comment:     written by writer-helper\n" in report
    assert "Number of interfaces in file: 1\n" in report
    for line in ["Name = eth0", "Description = first port", "Encapsulation = Ethernet (1 - ether)",
                 "Capture length = 0", "Time precision = nanoseconds (9)",
                 "Time ticks per second = 1000000000", "Number of stat entries = 1",
                 "Number of packets = 500"]:
        assert f"                     {line}\n" in report


def test_two_link_types_are_two_interfaces_to_tshark_and_capinfos(tmp_path):
    path = tmp_path / "two.pcapng"
    packets, _ = write("two-links", str(path))
    info = capinfos_row(path)
    assert info["encap"] == "per-packet"
    assert info["count"] == 500
    rows = tshark_fields(path, "frame.interface_id", "frame.interface_name", "frame.encap_type",
                         "frame.time_epoch", "frame.len")
    assert len(rows) == 500
    for row, p in zip(rows, packets):
        assert int(row[0]) == p["iface"]
        assert row[1] == ("eth0" if p["iface"] == 0 else "any")
        assert row[2] == ("1" if p["iface"] == 0 else "25")  # WTAP_ENCAP_ETHERNET, _SLL
        assert Decimal(row[3]) == p["ts"]
        assert int(row[4]) == p["len"]
    report = run("capinfos", path)
    assert "Number of interfaces in file: 2\n" in report
    assert "Encapsulation = Linux cooked-mode capture v1 (25 - linux-sll)\n" in report
    assert report.count("Number of stat entries = 1\n") == 1
    assert report.count("Number of stat entries = 0\n") == 1
    assert report.count("Number of packets = 250\n") == 2


@pytest.mark.parametrize("name", ["cut.pcap", "cut.pcapng"])
def test_snaplen_cuts_what_tshark_sees_and_capinfos_reports_it(tmp_path, name):
    path = tmp_path / name
    packets, _ = write("snaplen", str(path))
    rows = tshark_fields(path, "frame.cap_len", "frame.len")
    assert [(int(r[0]), int(r[1])) for r in rows] == [(min(p["len"], 100), p["len"]) for p in packets]
    assert all(p["caplen"] == min(p["len"], 100) for p in packets)
    if name.endswith(".pcap"):
        assert capinfos_row(path)["snaplen"] == "100"
    else:
        assert "Capture length = 100\n" in run("capinfos", path)


@pytest.mark.parametrize("name", ["ring.pcap", "ring.pcapng"])
def test_rotated_files_are_each_whole_and_together_hold_every_packet(tmp_path, name):
    base = tmp_path / name
    packets, files = write("imix", f"file://{base}?rotate_bytes=50k&format=pcapng"
                           if name.endswith("ng") else f"file://{base}?rotate_bytes=50k")
    stem, ext = name.split(".")
    assert len(files) == 4
    assert [f.name for f in files] == sorted(os.listdir(tmp_path))
    first_index = 0
    for number, f in enumerate(files, 1):
        info = capinfos_row(f)
        assert info["count"] > 0
        first = packets[first_index]["ts"]
        digits = 9 if ext == "pcapng" else 6
        assert info["first"] == truncate(first, digits)
        # DIR/NAME_00001_YYYYMMDDhhmmss.EXT, the UTC time of the file's first packet.
        when = datetime.fromtimestamp(int(first), timezone.utc).strftime("%Y%m%d%H%M%S")
        assert f.name == f"{stem}_{number:05d}_{when}.{ext}"
        rows = tshark_fields(f, "frame.time_epoch", "frame.len")
        assert len(rows) == info["count"]
        for row, p in zip(rows, packets[first_index:]):
            assert Decimal(row[0]) == truncate(p["ts"], digits)
            assert int(row[1]) == p["len"]
        first_index += info["count"]
    assert first_index == len(packets)
    if ext == "pcapng":
        for f in files:
            assert "Number of stat entries = 1\n" in run("capinfos", f)


def test_editcap_converts_our_pcapng_to_pcap_packet_for_packet(tmp_path):
    src = tmp_path / "in.pcapng"
    dst = tmp_path / "out.pcap"
    packets, _ = write("imix", str(src))
    run("editcap", "-F", "pcap", src, dst)
    info = capinfos_row(dst)
    assert info["count"] == len(packets)
    assert info["last"] == truncate(packets[-1]["ts"], 6)
