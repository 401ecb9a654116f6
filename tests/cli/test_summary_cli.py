"""pktcap summary: formats, numbering, -c, standard input, errors and exit codes."""
import csv
import io
import json
import os
from pathlib import Path

import pytest

CORPUS = Path(__file__).resolve().parents[1] / "corpus"
TCPDUMP = CORPUS / "tcpdump"
QINQ = TCPDUMP / "802.1ad_QinQ.pcap"                 # 2 ARP frames, 802.1ad + 802.1Q, µs
HANDSHAKE_NS = TCPDUMP / "tcp-handshake-nano.pcap"   # 3 TCP, Linux cooked, ns
DNS = TCPDUMP / "dns_udp.pcap"                       # 2 UDP, Ethernet, µs
NG_TWO_IFACES = CORPUS / "pcapng-testgen" / "basic" / "test005.pcapng"

SDWAN_KEYS = ["number", "time", "src_mac", "dst_mac", "src_ip", "dst_ip", "src_port", "dst_port",
              "protocol", "length"]
OUR_KEYS = ["ts_sec", "ts_nsec", "linktype", "cap_len", "ethertype", "vlan", "mpls_count",
            "ip_version", "ip_proto", "icmp_type", "icmp_code", "tcp_flags", "flags"]


def lines(proc):
    return proc.stdout.decode().splitlines()


def json_rows(cli, *args):
    return [json.loads(line) for line in lines(cli("summary", "--format", "json", *args,
                                                   check_status=0))]


def test_text_is_one_tcpdump_like_line_per_packet(cli):
    assert lines(cli("summary", QINQ, check_status=0)) == [
        "1 21:59:54.599412 vlan 200,2001 ARP 172.21.79.97 > 172.21.79.100 len 64",
        "2 21:59:54.599680 vlan 200,2001 ARP 172.21.79.100 > 172.21.79.97 len 64",
    ]
    assert lines(cli("summary", "--format", "text", HANDSHAKE_NS, check_status=0)) == [
        "1 17:16:09.924505488 IP 131.155.215.69.46656 > 137.116.81.94.80: TCP [S] len 76",
        "2 17:16:10.052027262 IP 137.116.81.94.80 > 131.155.215.69.46656: TCP [S.] len 76",
        "3 17:16:10.052115157 IP 131.155.215.69.46656 > 137.116.81.94.80: TCP [.] len 68",
    ]


def test_time_digits_follow_the_interface_resolution(cli):
    micro = json_rows(cli, DNS)[0]
    nano = json_rows(cli, HANDSHAKE_NS)[0]
    assert micro["time"] == "2020-06-10T09:19:54.740079Z"
    assert micro["ts_sec"] == 1591780794 and micro["ts_nsec"] == 740079000
    assert nano["time"] == "2014-12-09T17:16:09.924505488Z"
    assert nano["ts_sec"] == 1418145369 and nano["ts_nsec"] == 924505488


def test_json_lines_are_objects_with_the_sdwan_keys_first(cli):
    rows = json_rows(cli, QINQ)
    assert [list(r) for r in rows] == [SDWAN_KEYS + OUR_KEYS] * 2
    assert rows[0] == {
        "number": 1, "time": "2019-12-08T21:59:54.599412Z",
        "src_mac": "00:20:d2:5a:fb:3f", "dst_mac": "ff:ff:ff:ff:ff:ff",
        "src_ip": "172.21.79.97", "dst_ip": "172.21.79.100", "src_port": None, "dst_port": None,
        "protocol": "ARP", "length": 64,
        "ts_sec": 1575842394, "ts_nsec": 599412000, "linktype": 1, "cap_len": 64,
        "ethertype": "0x0806", "vlan": [200, 2001], "mpls_count": 0, "ip_version": 4,
        "ip_proto": None, "icmp_type": None, "icmp_code": None, "tcp_flags": None, "flags": [],
    }
    tcp = json_rows(cli, HANDSHAKE_NS)
    assert [(r["src_port"], r["dst_port"], r["tcp_flags"], r["ip_proto"]) for r in tcp] == [
        (46656, 80, 0x02, 6), (80, 46656, 0x12, 6), (46656, 80, 0x10, 6)]


def test_json_is_valid_for_many_packets(cli):
    """Every line of a few hundred corpus files is one JSON object with every key."""
    files = sorted(TCPDUMP.glob("*.pcap"))[::3]
    count = 0
    for path in files:
        proc = cli("summary", "--format", "json", path)
        assert proc.returncode in (0, 1), (path, proc.stderr)
        for number, line in enumerate(lines(proc), 1):
            row = json.loads(line)
            assert list(row) == SDWAN_KEYS + OUR_KEYS, path
            assert row["number"] == number
            assert all(ord(c) < 128 for c in line)
            count += 1
    assert count > 1000


def test_csv_has_one_header_and_the_json_values(cli):
    proc = cli("summary", "--format", "csv", QINQ, DNS, HANDSHAKE_NS, check_status=0)
    text = proc.stdout.decode()
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert rows[0] == SDWAN_KEYS + OUR_KEYS
    assert sum(1 for r in rows if r[0] == "number") == 1
    objects = json_rows(cli, QINQ, DNS, HANDSHAKE_NS)
    assert len(rows) - 1 == len(objects) == 7
    for row, obj in zip(rows[1:], objects):
        for key, value in zip(rows[0], row):
            want = obj[key]
            if want is None:
                want = ""
            elif isinstance(want, list):
                want = ";".join(str(v) for v in want)
            assert value == str(want), (key, value, want)


def test_csv_of_an_empty_capture_is_the_header_alone(cli):
    proc = cli("summary", "--format", "csv", TCPDUMP / "empty.pcap", check_status=0)
    assert lines(proc) == [",".join(SDWAN_KEYS + OUR_KEYS)]
    assert cli("summary", TCPDUMP / "empty.pcap", check_status=0).stdout == b""


def test_packets_are_numbered_from_1_in_each_file(cli):
    numbers = [r["number"] for r in json_rows(cli, QINQ, HANDSHAKE_NS, QINQ)]
    assert numbers == [1, 2, 1, 2, 3, 1, 2]


def test_count_stops_after_n_packets_over_all_files(cli):
    assert [r["number"] for r in json_rows(cli, "-c", "1", QINQ, HANDSHAKE_NS)] == [1]
    assert [r["number"] for r in json_rows(cli, "--count", "4", QINQ, HANDSHAKE_NS)] == [1, 2, 1, 2]
    assert len(json_rows(cli, "-c", "1000", QINQ)) == 2
    csv_lines = lines(cli("summary", "-F", "csv", "-c", "1", QINQ, check_status=0))
    assert len(csv_lines) == 2


def test_pcapng_with_two_interfaces(cli):
    rows = json_rows(cli, NG_TWO_IFACES)
    assert [r["number"] for r in rows] == [1, 2, 3, 4]


def test_standard_input(cli):
    from_file = cli("summary", "--format", "json", HANDSHAKE_NS, check_status=0).stdout
    from_stdin = cli("summary", "--format", "json", "-", input=HANDSHAKE_NS.read_bytes(),
                     check_status=0).stdout
    assert from_stdin == from_file


def test_a_cut_file_prints_what_was_read_then_fails(cli, tmp_path):
    cut = tmp_path / "cut.pcap"
    data = HANDSHAKE_NS.read_bytes()
    cut.write_bytes(data[:-5])
    proc = cli("summary", cut, QINQ, check_status=1)
    out = lines(proc)
    assert [line.split()[0] for line in out] == ["1", "2", "1", "2"]  # and the next file goes on
    err = proc.stderr.decode()
    assert "cut.pcap" in err and "PKTCAP_E_TRUNCATED" in err and "offset" in err


def test_a_missing_file_fails_but_the_others_are_printed(cli, tmp_path):
    proc = cli("summary", tmp_path / "nope.pcap", QINQ, check_status=1)
    assert len(lines(proc)) == 2
    assert b"nope.pcap" in proc.stderr and b"PKTCAP_E_NOTFOUND" in proc.stderr
    assert cli("summary", tmp_path, check_status=1).stdout == b""


def test_output_errors_are_reported(cli):
    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full")
    with open("/dev/full", "wb") as full:
        import subprocess
        proc = subprocess.run([cli.path, "summary", QINQ], stdout=full, stderr=subprocess.PIPE)
    assert proc.returncode == 1
    assert b"writing the output failed" in proc.stderr


@pytest.mark.parametrize("args,message", [
    ([], b"pktcap summary: expected at least one FILE"),
    (["--format", "xml", "x"], b"pktcap summary: unknown format 'xml' (text, json, csv)"),
    (["-c", "0", "x"], b"pktcap summary: COUNT must be a positive number, not '0'"),
    (["-c", "ten", "x"], b"pktcap summary: COUNT must be a positive number, not 'ten'"),
    (["-c", "-3", "x"], b"pktcap summary: COUNT must be a positive number, not '-3'"),
    (["x", "--format"], b"pktcap summary: option '--format' needs a value"),
    (["--bogus", "x"], b"pktcap summary: unknown option '--bogus'"),
    # Filters: tests/cli/test_filter_cli.py has the rest.
    (["--filter", "proto=tcp", "--bpf", "tcp", "x"],
     b"pktcap summary: --filter and --bpf exclude each other"),
    (["x", "--filter"], b"pktcap summary: option '--filter' needs a value"),
])
def test_usage_errors_exit_2(cli, args, message):
    proc = cli("summary", *args, check_status=2)
    assert proc.stderr.startswith(message + b"\n"), proc.stderr
    assert proc.stdout == b""


def test_help_shows_formats_and_examples(cli):
    for args in (["summary", "--help"], ["help", "summary"], ["summary", "-h"]):
        out = cli(*args, check_status=0).stdout.decode()
        assert out.startswith("usage: pktcap summary [--format text|json|csv] [-c COUNT]\n"
                              "                      [--filter RULES | --bpf EXPR] FILE...\n")
        assert "Examples:" in out and "tcpdump -w - -c 100 | pktcap summary -" in out
    overview = cli("help", check_status=0).stdout.decode()
    assert "  summary    " in overview
