"""Summary, summarize() and Reader.summaries() from Python."""
import ctypes
import ipaddress
import json
import os
import subprocess
from pathlib import Path

import pytest

import pktcap
from pktcap import _native

CORPUS = Path(__file__).resolve().parents[3] / "tests" / "corpus"
AFS = CORPUS / "tcpdump" / "afs.pcap"   # 601 Ethernet/IPv4/UDP packets, µs


def tcp_syn_v4():
    eth = bytes.fromhex("020000000002" "020000000001" "0800")
    ip = bytes.fromhex("45000028" "00010000" "4006" "0000" "0a000001" "0a000002")
    tcp = bytes.fromhex("c3500050" "00000001" "00000000" "5002ffff" "00000000")
    return eth + ip + tcp


def test_summarize_decodes_every_layer_of_a_hand_built_packet():
    s = pktcap.summarize(pktcap.Packet(tcp_syn_v4(), ts_sec=1700000000, ts_nsec=42))
    assert (s.ts_sec, s.ts_nsec, s.wire_len, s.cap_len, s.linktype) == (1700000000, 42, 54, 54, 1)
    assert s.src_mac == "02:00:00:00:00:01" and s.dst_mac == "02:00:00:00:00:02"
    assert s.ethertype == 0x0800 and s.vlans == [] and s.mpls_count == 0
    assert s.ip_version == 4 and s.ip_proto == 6
    assert s.src_ip == ipaddress.ip_address("10.0.0.1")
    assert s.dst_ip == ipaddress.ip_address("10.0.0.2")
    assert (s.src_port, s.dst_port) == (50000, 80)
    assert s.tcp_flags == 0x02
    assert s.icmp_type is None and s.icmp_code is None
    assert s.protocol == "TCP"
    assert s.flags == pktcap.SummaryFlag.HAS_MAC | pktcap.SummaryFlag.HAS_IP | \
        pktcap.SummaryFlag.HAS_PORTS
    assert s.number == 0 and s.time_digits == 9


def test_a_truncated_packet_keeps_what_was_decoded_and_says_so():
    data = tcp_syn_v4()[:30]
    s = pktcap.summarize(pktcap.Packet(data, length=54))
    assert s.cap_len == 30 and s.wire_len == 54
    assert pktcap.SummaryFlag.TRUNCATED in s.flags
    assert s.src_mac == "02:00:00:00:00:01"
    assert s.src_port is None


def test_an_unknown_link_type_is_flagged_not_refused():
    s = pktcap.summarize(pktcap.Packet(b"\x01\x02\x03", linktype=60000))
    assert pktcap.SummaryFlag.UNKNOWN_LINKTYPE in s.flags
    assert s.protocol == "" and s.src_ip is None and s.cap_len == 3


def test_formats_agree_with_each_other():
    s = pktcap.summarize(pktcap.Packet(tcp_syn_v4(), ts_sec=1700000000, ts_nsec=123456000))
    s.number = 7
    s.time_digits = 6
    record = json.loads(s.format(pktcap.SummaryFormat.JSON))
    assert record["number"] == 7
    assert record["time"] == "2023-11-14T22:13:20.123456Z"
    assert (record["src_ip"], record["dst_ip"], record["src_port"], record["dst_port"]) == \
        ("10.0.0.1", "10.0.0.2", 50000, 80)
    assert record["protocol"] == "TCP" and record["length"] == 54
    header = pktcap.summary_header(pktcap.SummaryFormat.CSV).split(",")
    row = s.format(pktcap.SummaryFormat.CSV).split(",")
    assert header[:10] == ["number", "time", "src_mac", "dst_mac", "src_ip", "dst_ip",
                           "src_port", "dst_port", "protocol", "length"]
    assert dict(zip(header, row))["src_ip"] == "10.0.0.1"
    assert str(s) == s.format(pktcap.SummaryFormat.TEXT)
    assert s.format().startswith("7 22:13:20.123456 ")
    assert pktcap.summary_header(pktcap.SummaryFormat.JSON) == ""
    with pytest.raises(pktcap.InvalidArgumentError):
        pktcap.summary_header(99)


def test_repr_is_the_text_line_in_angle_brackets():
    s = pktcap.summarize(pktcap.Packet(tcp_syn_v4(), ts_sec=1700000000, ts_nsec=123456000))
    s.number = 7
    s.time_digits = 6
    assert repr(s) == "<Summary 7 22:13:20.123456 IP 10.0.0.1.50000 > 10.0.0.2.80: TCP [S] len 54>"


def test_reader_summaries_equal_the_cli_json_output():
    with pktcap.Reader(str(AFS)) as r:
        ours = [json.loads(s.format(pktcap.SummaryFormat.JSON)) for s in r.summaries()]
    cli = os.environ.get("PKTCAP_CLI") or str(Path(os.environ["PKTCAP_BUILD_ROOT"]) /
                                               "examples" / "pktcap")
    env = {k: v for k, v in os.environ.items() if k != "LD_PRELOAD"}
    out = subprocess.run([cli, "summary", "--format", "json", str(AFS)], env=env,
                         capture_output=True, text=True, check=True).stdout
    theirs = [json.loads(line) for line in out.splitlines()]
    assert len(ours) == 601
    assert ours == theirs
    assert ours[0]["time"].endswith(".463334Z")   # the file's microseconds


def test_summary_struct_matches_the_library():
    # The library needs every field up to the end of `protocol`, the last one.
    s = _native.SummaryStruct()
    s.struct_size = _native.SummaryStruct.protocol.offset + 15
    p = _native.PacketStruct()
    p.struct_size = ctypes.sizeof(_native.PacketStruct)
    assert pktcap._native.lib.pktcap_summarize(ctypes.byref(s), ctypes.byref(p)) == \
        pktcap.Status.E_INVAL
    s.struct_size = ctypes.sizeof(_native.SummaryStruct)
    assert pktcap._native.lib.pktcap_summarize(ctypes.byref(s), ctypes.byref(p)) == 0
