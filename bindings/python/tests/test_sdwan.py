"""The Citrix SD-WAN provider against its emulator (tests/emulators/sdwan.py):
the lifecycle to packet summaries and a fetched pcapng, summaries that equal
our own decoder's (in every time format the backend reads, both response
shapes), every request value checked before anything is sent, NITRO errors
kept, session cookies (login, expiry and one new login, logout), TLS,
oversized downloads, cancelling a running capture, and a log without
secrets.

The emulator runs in this process (a thread); its time is scaled by 0.01, so
a "5 s" capture takes 0.05 s. The capture file it serves is written by our
writer, and the summary rows it answers with are our decoder's view of that
same file, converted to the appliance's all-strings shape."""
import json
import os
import shutil
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

import pktcap
from pktcap import Capability, LogLevel, Provider, State, SummaryFlag, SummaryFormat

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "tests" / "emulators"))
from emulator import make_cert  # noqa: E402
from sdwan import NS_COOKIE, SESSION_COOKIE, SUMMARY_FIELDS, SdwanEmulator  # noqa: E402

WAIT = 30.0          # seconds: generous bound for a wait() that should end in well under 1 s
MAX_FILE = 575 << 20  # the backend's cap on a capture file (575 MiB)

# ---- the capture the emulator serves, and our decoder's rows of it ------------------------

MAC_A = bytes.fromhex("02000000000a")
MAC_B = bytes.fromhex("02000000000b")
IP_A, IP_B = bytes([10, 1, 0, 10]), bytes([203, 0, 113, 10])
IP6_A = bytes.fromhex("20010db8000100000000000000000010")
IP6_B = bytes.fromhex("20010db800ff00000000000000000019")


def eth(payload, ethertype, dst=MAC_B, src=MAC_A):
    return dst + src + struct.pack("!H", ethertype) + payload


def ipv4(proto, payload, src=IP_A, dst=IP_B):
    return struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), 1, 0, 64, proto, 0,
                       src, dst) + payload


def ipv6(next_header, payload, src=IP6_A, dst=IP6_B):
    return struct.pack("!IHBB16s16s", 0x60000000, len(payload), next_header, 64, src, dst) + payload


def udp(sport, dport, data=b"payload!"):
    return struct.pack("!HHHH", sport, dport, 8 + len(data), 0) + data


def tcp(sport, dport, flags):
    return struct.pack("!HHIIBBHHH", sport, dport, 1, 0, 0x50, flags, 65535, 0, 0)


def frames():
    """One packet of each kind the appliance's summary can describe."""
    arp = struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, 1, MAC_A, IP_A, bytes(6), IP_B)
    lldp = b"\x02\x07\x04" + MAC_A + b"\x04\x03\x05\x31\x00\x00" + bytes(40)
    out = [
        eth(ipv4(17, udp(51000, 53)), 0x0800),
        eth(ipv4(6, tcp(51001, 443, 0x02)), 0x0800),
        eth(ipv4(6, tcp(443, 51001, 0x12), src=IP_B, dst=IP_A), 0x0800, dst=MAC_A, src=MAC_B),
        eth(ipv4(1, struct.pack("!BBHHH", 8, 0, 0, 7, 1) + b"ping" * 8), 0x0800),
        eth(ipv6(17, udp(53, 40000, b"x" * 30)), 0x86DD),
        eth(ipv6(58, struct.pack("!BBHI", 128, 0, 0, 0) + b"echo"), 0x86DD),
        eth(arp, 0x0806, dst=b"\xff" * 6),
        eth(lldp, 0x88CC, dst=bytes.fromhex("0180c200000e")),
    ]
    return out + [eth(ipv4(17, udp(5000 + i, 514, b"log %d" % i)), 0x0800) for i in range(12)]


def capture_bytes():
    st = pktcap.Storage.memory()
    with pktcap.Writer(st, pktcap.Format.PCAPNG) as w:
        eth0 = w.add_interface(linktype=1, name="MGMT")
        for i, frame in enumerate(frames()):
            w.write(frame, ts_sec=1_760_000_000 + i // 4, ts_nsec=123_456_000 + i * 1000,
                    interface=eth0)
    return st.getvalue()


CAPTURE = capture_bytes()


def decoded():
    """Our decoder's summaries of CAPTURE."""
    with pktcap.Reader(CAPTURE) as r:
        return list(r.summaries())


def first10(summary):
    """The SD-WAN fields of a summary, as our JSON format prints them."""
    record = json.loads(summary.format(SummaryFormat.JSON))
    return {k: record[k] for k in SUMMARY_FIELDS}


def sdwan_time(rfc3339, style):
    """Our JSON time ("2025-10-09T08:53:20.123456000Z") in another of the forms
    the backend reads."""
    date, clock = rfc3339.rstrip("Z").split("T")
    if style == "datetime":
        return date + " " + clock
    if style == "rfc3339":
        return rfc3339
    if style == "offset":        # the same instant, written two hours ahead
        hh = int(clock[:2])
        assert hh < 22
        return "%sT%02d%s+02:00" % (date, hh + 2, clock[2:])
    if style == "time_of_day":
        return clock
    raise AssertionError(style)


def rows_for(summaries, style="datetime"):
    """Summary rows as the appliance sends them: the ten fields, every value a
    string (absent ones empty)."""
    rows = []
    for s in summaries:
        record = first10(s)
        row = {k: "" if v is None else str(v) for k, v in record.items()}
        if style == "epoch":
            frac = record["time"].rstrip("Z").partition(".")[2]
            row["time"] = "%d.%s" % (s.ts_sec, frac) if frac else str(s.ts_sec)
        else:
            row["time"] = sdwan_time(record["time"], style)
        rows.append(row)
    return rows


DECODED = decoded()
ROWS = rows_for(DECODED)


@pytest.fixture
def emu():
    with SdwanEmulator(time_scale=0.01, capture_bytes=CAPTURE, summary_rows=ROWS) as e:
        yield e
        assert e.errors == []


def provider(emu, **extra):
    opts = dict(username=emu.username, password=emu.password, retry_base_ms=10, retry_max_ms=200)
    opts.update(extra)
    return Provider(emu.provider_uri(), **{k: v for k, v in opts.items() if v is not None})


def new_session(p, target="MGMT", seconds=5, packets=None, name=None):
    s = p.session(name)
    s.target = target
    s.time_limit = seconds
    if packets:
        s.packet_limit = packets
    return s


def finished(p, **kw):
    s = new_session(p, **kw)
    s.start()
    assert s.wait(WAIT) == State.COMPLETE, s.error_text
    return s


def capinfos_packets(path):
    capinfos = shutil.which("capinfos")
    assert capinfos, "capinfos (tshark) is needed to judge the fetched file"
    # Never with the sanitizer runtime this suite may run under (glib deadlocks).
    env = {k: v for k, v in os.environ.items() if k not in ("LD_PRELOAD", "ASAN_OPTIONS")}
    info = subprocess.run([capinfos, "-c", "-M", str(path)], capture_output=True, text=True,
                          env=env, timeout=60)
    assert info.returncode == 0, info.stderr
    return info.stdout


# ---- the lifecycle -------------------------------------------------------------------------

def test_capabilities_and_kind(emu):
    with provider(emu) as p:
        assert p.kind == "sdwan"
        assert p.caps == (Capability.RULE_FILTER | Capability.BPF_FILTER |
                          Capability.TIME_LIMIT | Capability.PACKET_LIMIT | Capability.FETCH |
                          Capability.MULTI_TARGET | Capability.SUMMARIES)
    assert emu.requests() == []      # opening and closing alone never log in


def test_lifecycle_to_summaries_and_a_pcapng_capinfos_accepts(emu, tmp_path):
    out = tmp_path / "wan.pcapng"
    states = []
    with provider(emu) as p:
        s = new_session(p, target="MGMT--1--2", seconds=10, packets=1000, name="wan")
        s.filter = "proto=udp remote_port=53"
        s.on_state(states.append)
        s.start()
        assert s.state == State.RUNNING
        assert s.native_status == "capturing on MGMT--1--2 for 10 s"
        assert s.wait(WAIT) == State.COMPLETE
        # The callback runs on the capture thread, just after the change wait() sees.
        deadline = time.monotonic() + WAIT
        while len(states) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert states == [State.RUNNING, State.COMPLETE]
        assert s.native_status == "resource added succesfully"
        assert s.stop_reason == "time limit"            # 20 rows < max_packets 1000
        assert s.error_text == ""
        summaries = s.summaries()
        assert [x.number for x in summaries] == list(range(1, len(DECODED) + 1))
        stats = s.stats
        assert stats.packets == len(DECODED)
        assert stats.bytes == stats.wire_bytes == sum(x.wire_len for x in DECODED)
        assert (stats.dropped, stats.if_dropped) == (None, None)   # not reported
        details = s.details()
        assert details["provider"] == "sdwan" and details["state"] == "COMPLETE"
        native = details["native"]
        assert native["request"] == {"interface": "MGMT--1--2", "duration": 10,
                                     "filter_str": "udp port 53", "max_packets": 1000}
        assert native["http_status"] == 200
        assert native["result"]["message"] == "resource added succesfully"
        assert native["result"]["summary"] == ROWS
        progress = []
        s.fetch(str(out), progress=lambda done, total: progress.append((done, total)))
        assert out.read_bytes() == CAPTURE
        assert progress[-1] == (len(CAPTURE), len(CAPTURE))
        assert s.fetch() == CAPTURE                      # again, into memory
    assert "Number of packets:   %d" % len(DECODED) in capinfos_packets(out)
    # What the appliance received: the documented body, from our settings.
    assert emu.captures == [{"packet_capture": {"interface": "MGMT--1--2", "duration": 10,
                                                "filter_str": "udp port 53",
                                                "max_packets": 1000}}]
    capture = emu.requests(route="capture")[0]
    assert capture.headers["Content-Type"] == "application/json"
    cookie = capture.headers["Cookie"]
    assert SESSION_COOKIE + "=" in cookie and NS_COOKIE + "=" in cookie   # every cookie kept
    assert [r.route for r in emu.requests()] == ["login", "capture", "download", "download",
                                                 "logout"]
    assert emu.logins == 1 and emu.logouts == 1 and emu.live_sessions() == 0


def test_no_packet_limit_is_max_and_no_filter_an_empty_filter_str(emu):
    with provider(emu) as p:
        s = finished(p, seconds=30)
        assert s.stop_reason == "time limit"
    assert emu.captures[0]["packet_capture"] == {"interface": "MGMT", "duration": 30,
                                                 "filter_str": "", "max_packets": "MAX"}


def test_a_raw_bpf_filter_goes_as_given(emu):
    with provider(emu) as p:
        s = new_session(p)
        s.filter = pktcap.Filter.bpf("tcp port 443 and not host 10.0.0.1")
        s.start()
        assert s.wait(WAIT) == State.COMPLETE
    assert emu.captures[0]["packet_capture"]["filter_str"] == "tcp port 443 and not host 10.0.0.1"


def test_max_packets_rows_end_with_the_packet_limit(emu):
    emu.summary_rows = ROWS * 60                      # 1200 rows: the appliance sends 1000
    with provider(emu) as p:
        s = finished(p, packets=1000)
        assert s.stop_reason == "packet limit"
        assert len(s.summaries()) == 1000
        assert s.stats.packets == 1000


# ---- summaries -----------------------------------------------------------------------------

@pytest.mark.parametrize("style", ["datetime", "rfc3339", "offset", "epoch"])
def test_summaries_equal_our_decoders_field_by_field(emu, style):
    emu.summary_rows = rows_for(DECODED, style)
    with provider(emu) as p:
        got = finished(p).summaries()
    assert len(got) == len(DECODED)
    mask = SummaryFlag.HAS_MAC | SummaryFlag.HAS_IP | SummaryFlag.HAS_PORTS | SummaryFlag.ARP
    for ours, want in zip(got, DECODED):
        assert first10(ours) == first10(want)
        assert (ours.number, ours.ts_sec, ours.ts_nsec, ours.time_digits) == \
            (want.number, want.ts_sec, want.ts_nsec, want.time_digits)
        assert (ours.src_mac, ours.dst_mac, ours.src_ip, ours.dst_ip) == \
            (want.src_mac, want.dst_mac, want.src_ip, want.dst_ip)
        assert (ours.src_port, ours.dst_port, ours.protocol) == \
            (want.src_port, want.dst_port, want.protocol)
        assert (ours.wire_len, ours.cap_len, ours.linktype) == \
            (want.wire_len, want.cap_len, want.linktype)
        assert ours.ip_version == want.ip_version
        assert ours.flags & mask == want.flags & mask
        if want.protocol in ("TCP", "UDP", "ICMP", "ICMPv6"):
            assert ours.ip_proto == want.ip_proto
    kinds = {x.protocol for x in got}
    assert {"UDP", "TCP", "ICMP", "ICMPv6", "ARP", "0x88cc"} <= kinds


def test_a_time_of_day_is_dated_nearest_the_captures_start(emu):
    emu.summary_rows = rows_for(DECODED, "time_of_day")
    before = time.time()
    with provider(emu) as p:
        got = finished(p).summaries()
    for ours, want in zip(got, DECODED):
        assert ours.ts_sec % 86400 == want.ts_sec % 86400
        assert ours.ts_nsec == want.ts_nsec and ours.time_digits == want.time_digits
        assert abs(ours.ts_sec - before) <= 43200 + 5
        assert first10(ours)["time"][10:] == first10(want)["time"][10:]


@pytest.mark.parametrize("shape", ["current", "legacy"])
def test_both_response_shapes(emu, shape):
    emu.response_shape = shape
    with provider(emu) as p:
        s = finished(p)
        assert [first10(x) for x in s.summaries()] == [first10(x) for x in DECODED]
        assert s.native_status == "resource added succesfully"
        result = s.details()["native"]["result"]
    if shape == "legacy":
        assert result == {"message": "resource added succesfully", "summary": ROWS}
    else:
        assert result["interface"] == "MGMT" and result["duration"] == "5"


def test_json_numbers_and_nulls_are_read_too(emu):
    """Firmware that sends numbers as JSON numbers, null for absent values and
    epoch seconds as a number (the emulator only sends strings: its row
    builder is replaced here)."""
    want = DECODED[0]
    row = dict(number=7, time=float(want.ts_sec) + 0.123456, src_mac=want.src_mac,
               dst_mac=want.dst_mac, src_ip=str(want.src_ip), dst_ip=str(want.dst_ip),
               src_port=want.src_port, dst_port=want.dst_port, protocol="udp", length=want.wire_len)
    bare = dict(number="8", time=None, src_mac=None, dst_mac="", src_ip=None, dst_ip=None,
                src_port=None, dst_port="-", protocol=None, length="60")
    emu._rows = lambda: [row, bare]
    with provider(emu) as p:
        a, b = finished(p).summaries()
    assert a.number == 7 and a.ts_sec == want.ts_sec and a.ts_nsec == 123456000
    assert a.time_digits == 6
    assert (a.src_ip, a.dst_ip, a.src_port, a.dst_port) == \
        (want.src_ip, want.dst_ip, want.src_port, want.dst_port)
    assert a.protocol == "UDP" and a.ip_proto == 17 and a.ip_version == 4
    assert a.wire_len == a.cap_len == want.wire_len
    assert b.number == 8 and b.wire_len == 60
    assert (b.ts_sec, b.src_mac, b.src_ip, b.src_port, b.protocol) == (0, None, None, None, "")
    assert b.flags == pktcap.SummaryFlag.NO_TCP_FLAGS   # nothing else known


def test_unreadable_values_are_left_out_with_one_warning(emu):
    bad = dict(ROWS[0], time="yesterday", src_ip="999.1.1.1", src_port="http")
    emu.summary_rows = [bad, dict(ROWS[1], dst_mac="zz:zz")]
    lines = []
    with provider(emu) as p:
        p.on_log(lambda level, message: lines.append((level, message)), LogLevel.INFO)
        a, b = finished(p).summaries()
    # A pair with an unreadable half is left out whole (one HAS_* flag covers both halves).
    assert (a.ts_sec, a.ts_nsec, a.time_digits) == (0, 0, 0)
    assert (a.src_ip, a.dst_ip, a.ip_version, a.src_port, a.dst_port) == (None,) * 2 + (0,) + (None,) * 2
    assert a.src_mac == "02:00:00:00:00:0a" and a.protocol == "UDP" and a.ip_proto == 0
    assert (b.src_mac, b.dst_mac, b.linktype) == (None, None, 0)
    assert str(b.src_ip) == "10.1.0.10" and b.dst_port == 443
    warnings = [m for level, m in lines if level == LogLevel.WARN]
    assert len(warnings) == 1
    assert 'summary row 1: time "yesterday" is not epoch seconds' in warnings[0]


# ---- values checked before anything is sent -------------------------------------------------

@pytest.mark.parametrize("seconds,packets,fragment", [
    (None, None, "needs a duration of 5, 10, 15 or 30 s"),
    (7, None, "time limit 7000 ms is not an SD-WAN capture duration: 5, 10, 15 or 30 s"),
    (60, None, "5, 10, 15 or 30 s"),
    (5.5, None, "time limit 5500 ms"),
    (5, 999, "packet limit 999 is not an SD-WAN max_packets value: 1000, 2000 or 5000"),
    (5, 10000, "1000, 2000 or 5000 (or no limit, sent as MAX)"),
    (10, 1, "packet limit 1 "),
])
def test_every_enum_violation_is_refused_before_sending(emu, seconds, packets, fragment):
    with provider(emu) as p:
        s = p.session("v")
        s.target = "MGMT"
        if seconds:
            s.time_limit = seconds
        if packets:
            s.packet_limit = packets
        with pytest.raises(pktcap.InvalidArgumentError) as e:
            s.start()
        assert fragment in e.value.message
        assert s.state == State.FAILED
    assert emu.requests() == []


@pytest.mark.parametrize("target,fragment", [
    ("eth0 x", "character 5 (' ')"),
    ("MGMT,1", "character 5 (',')"),
    ("MGMT---1", "interface 2 is a name starting or ending with '-'"),
    ("-MGMT", "interface 1 is a name starting or ending with '-'"),
    ("MGMT--", "interface 2 is empty"),
    ("--MGMT", "interface 1 is empty"),
    ("MGMT--1--MGMT", "interface \"MGMT\" is named twice"),
    ("x" * 600, "longer than 512 characters"),
])
def test_malformed_targets_are_refused_when_set(emu, target, fragment):
    with provider(emu) as p:
        s = p.session("t")
        with pytest.raises(pktcap.InvalidArgumentError) as e:
            s.target = target
        assert fragment in e.value.message
        if "twice" not in fragment:
            assert "joined by \"--\", e.g. MGMT, MGMT--1--2, LTE-1--MGMT--1/2" in e.value.message
    assert emu.requests() == []


def test_unsupported_settings_are_refused_with_their_reason(emu, tmp_path):
    with provider(emu) as p:
        s = new_session(p)
        with pytest.raises(pktcap.NotSupportedError) as e:
            s.snaplen = 96
        assert "does not support a snapshot length" in e.value.message
        with pytest.raises(pktcap.NotSupportedError):
            s.byte_limit = 1000
        with pytest.raises(pktcap.NotSupportedError):
            s.on_packet(lambda packet, summary: None)
        with pytest.raises(pktcap.InvalidArgumentError):
            s.set("colour", "blue")
        s.storage = str(tmp_path / "x.pcapng")
        with pytest.raises(pktcap.NotSupportedError) as e:
            s.start()
        assert "keeps the capture file itself; fetch it" in e.value.message
    assert emu.requests() == []
    assert os.listdir(tmp_path) == []


def test_stop_delete_list_open_and_targets_are_not_available(emu):
    emu.faults.delay(1, 2.0, route="capture")
    with provider(emu) as p:
        s = new_session(p)
        s.start()
        with pytest.raises(pktcap.NotSupportedError) as e:
            s.stop()
        assert e.value.message == "the sdwan provider does not support stopping a capture"
        with pytest.raises(pktcap.NotSupportedError) as e:
            p.sessions()
        assert e.value.message == "the sdwan provider cannot list sessions"
        with pytest.raises(pktcap.NotSupportedError) as e:
            p.open_session("x")
        assert "cannot open sessions made elsewhere" in e.value.message
        with pytest.raises(pktcap.NotSupportedError):
            p.targets()
        assert s.wait(WAIT) == State.COMPLETE
        with pytest.raises(pktcap.NotSupportedError) as e:
            s.delete()
        assert e.value.message == "the sdwan provider does not support deleting a capture"


# ---- errors --------------------------------------------------------------------------------

@pytest.mark.parametrize("status,code", [
    (400, "PKTCAP_E_INVAL"),
    (401, "PKTCAP_E_AUTH"),
    (403, "PKTCAP_E_PERM"),
    (405, "PKTCAP_E_NOTSUP"),
    (415, "PKTCAP_E_INVAL"),
    (500, "PKTCAP_E_REMOTE"),
])
def test_each_error_status_fails_the_session_with_the_errormessage(emu, status, code):
    # A 401 is answered with one new login and the capture sent again: both refused here.
    emu.faults.fail(2 if status == 401 else 1, status, route="capture", code=1234,
                    message=f"the {status} text")
    with provider(emu) as p:
        s = new_session(p, name="e")
        s.start()
        assert s.wait(WAIT) == State.FAILED
        assert f"HTTP {status}" in s.error_text
        assert f"1234: the {status} text" in s.error_text
        assert s.error_text.startswith('packet capture "e" on MGMT of 127.0.0.1:')
        assert s.native_status == f"the {status} text"
        native = s.details()["native"]
        assert native["http_status"] == status
        assert native["code"] == code
        assert native["error"] == {"errorcode": 1234, "errormessage": f"the {status} text",
                                   "severity": "ERROR"}
        assert native["message"] == s.error_text
        with pytest.raises(pktcap.StateError):
            s.fetch()
    # A POST is never repeated (it would capture again), except after a new login.
    assert len(emu.requests(route="capture")) == (2 if status == 401 else 1)
    assert emu.logins == (2 if status == 401 else 1)


def test_a_capture_that_fails_after_its_duration(emu):
    with provider(emu) as p:
        s = finished(p, name="ok")
        emu.fail_captures = 1
        s2 = new_session(p, name="bad")
        s2.start()
        assert s2.wait(WAIT) == State.FAILED
        assert "HTTP 500" in s2.error_text and "1021: Packet capture failed" in s2.error_text
        assert s.fetch() == CAPTURE          # the failed capture left the file as it was


def test_a_second_capture_while_one_runs_is_a_conflict(emu):
    emu.faults.delay(1, 1.0, route="capture")
    with provider(emu) as p:
        first = new_session(p, name="first")
        first.start()
        deadline = time.monotonic() + WAIT
        while not emu.requests(route="capture"):
            assert time.monotonic() < deadline
            time.sleep(0.01)
        second = new_session(p, name="second")
        second.start()
        assert second.wait(WAIT) == State.FAILED
        assert second.details()["native"]["code"] == "PKTCAP_E_CONFLICT"
        assert "1097: A packet capture is already running" in second.error_text
        assert first.wait(WAIT) == State.COMPLETE


def test_a_later_capture_replaces_the_file(emu):
    with provider(emu) as p:
        a = finished(p, name="a")
        b = finished(p, name="b")
        with pytest.raises(pktcap.NotFoundError) as e:
            a.fetch()
        assert "keeps only its last capture" in e.value.message
        assert b.fetch() == CAPTURE
    assert len(emu.requests(route="download")) == 1


def test_an_answer_that_is_not_a_capture_result_fails_with_format(emu):
    emu.faults.fail(1, 200, route="capture", message="unexpected")
    with provider(emu) as p:
        s = new_session(p)
        s.start()
        assert s.wait(WAIT) == State.FAILED
        assert s.details()["native"]["code"] == "PKTCAP_E_FORMAT"
        assert "neither a list of capture results" in s.error_text


# ---- sessions: login, expiry, logout ----------------------------------------------------------

def test_an_expired_session_logs_in_again_once(emu, tmp_path):
    with provider(emu) as p:
        finished(p, name="one")
        emu.expire_sessions()
        s = finished(p, name="two")
        emu.expire_sessions()
        assert s.fetch() == CAPTURE
    assert emu.logins == 3
    assert [r.status for r in emu.requests(route="capture")] == [200, 401, 200]
    assert [r.status for r in emu.requests(route="download")] == [401, 200]


def test_a_second_401_is_an_auth_error(emu):
    emu.faults.fail(2, 401, route="capture")          # the emulator's 444 "Session expired"
    with provider(emu) as p:
        s = new_session(p)
        s.start()
        assert s.wait(WAIT) == State.FAILED
        assert s.details()["native"]["code"] == "PKTCAP_E_AUTH"
        assert "444: Session expired or invalid" in s.error_text
        assert "after 2 attempts" in s.error_text
    assert emu.logins == 2


def test_a_wrong_password_is_an_auth_error_at_start(emu):
    with provider(emu, password="not-the-password") as p:
        s = new_session(p)
        with pytest.raises(pktcap.AuthError) as e:
            s.start()
        assert s.state == State.FAILED
    err = e.value
    assert err.http_status == 401 and err.provider_code == "354"
    assert err.provider_message == "Invalid username or password"
    assert "log in to SD-WAN appliance 127.0.0.1:" in err.message
    assert "not-the-password" not in err.message
    assert emu.requests(route="capture") == []
    assert emu.logouts == 0


def test_missing_credentials_say_what_to_set(emu, monkeypatch):
    monkeypatch.delenv("PKTCAP_SDWAN_USER", raising=False)
    monkeypatch.delenv("PKTCAP_SDWAN_PASSWORD", raising=False)
    with provider(emu, username=None, password=None) as p:
        with pytest.raises(pktcap.AuthError) as e:
            new_session(p).start()
    assert "no username and password" in e.value.message
    assert "PKTCAP_SDWAN_USER and PKTCAP_SDWAN_PASSWORD" in e.value.message
    assert emu.requests() == []


def test_credentials_from_the_environment(emu, monkeypatch):
    monkeypatch.setenv("PKTCAP_SDWAN_USER", emu.username)
    monkeypatch.setenv("PKTCAP_SDWAN_PASSWORD", emu.password)
    with provider(emu, username=None, password=None) as p:
        finished(p)
    assert emu.requests(route="login")[0].json() == {
        "login": {"username": emu.username, "password": emu.password}}


def test_a_password_with_quotes_and_backslashes_is_sent_intact(emu):
    emu.password = 'p"a\\ss w\u00f6rd'
    with provider(emu) as p:
        finished(p)
    assert emu.logins == 1


def test_v1_login_when_the_appliance_has_no_v2_login(emu):
    emu.faults.fail(1, 404, route="login")
    with provider(emu) as p:
        finished(p)
    assert [r.path for r in emu.requests(route="login")] == [
        "/sdwan/nitro/v2/config/login", "/sdwan/nitro/v1/config/login"]
    assert [r.path for r in emu.requests(route="logout")] == ["/sdwan/nitro/v1/config/login"]


def test_logout_on_close_and_none_without_a_login(emu):
    with provider(emu) as p:
        finished(p)
        assert emu.live_sessions() == 1
    assert emu.logouts == 1 and emu.live_sessions() == 0
    logout = emu.requests(route="logout")[0]
    assert logout.method == "DELETE" and SESSION_COOKIE + "=" in logout.headers["Cookie"]
    emu.clear_log()
    with provider(emu):
        pass
    assert emu.requests() == []


def test_a_failed_logout_is_logged_and_ignored(emu):
    lines = []
    with provider(emu) as p:
        p.on_log(lambda level, message: lines.append((level, message)), LogLevel.INFO)
        finished(p)
        emu.faults.fail(1, 500, route="logout", code=1021, message="logout broke")
    assert any(level == LogLevel.WARN and "logout broke" in m and "(ignored)" in m
               for level, m in lines)


# ---- cancelling ---------------------------------------------------------------------------------

def test_freeing_a_running_capture_returns_promptly(emu):
    emu.faults.delay(1, 60, route="capture")
    with provider(emu) as p:
        s = new_session(p, seconds=30)
        s.start()
        deadline = time.monotonic() + WAIT
        while not emu.requests(route="capture"):
            assert time.monotonic() < deadline
            time.sleep(0.01)
        t0 = time.monotonic()
        s.close()
        assert time.monotonic() - t0 < 3.0
        t0 = time.monotonic()
    assert time.monotonic() - t0 < 3.0      # closing the provider (logout) does not wait either
    assert emu.logouts == 1


def test_cancel_wakes_a_waiter_and_the_capture_goes_on(emu):
    emu.faults.delay(1, 0.5, route="capture")
    with provider(emu) as p:
        s = new_session(p)
        s.start()
        threading.Timer(0.05, s.cancel).start()
        with pytest.raises(pktcap.CanceledError):
            s.wait(WAIT)
        assert s.wait(WAIT) == State.COMPLETE


# ---- TLS -----------------------------------------------------------------------------------

def test_tls_fails_without_the_ca_and_works_with_it(tmp_path):
    cert, key = make_cert(str(tmp_path))
    with SdwanEmulator(time_scale=0.01, capture_bytes=CAPTURE, summary_rows=ROWS,
                       certfile=cert, keyfile=key) as emu:
        assert emu.provider_uri() == "sdwan://127.0.0.1:%d" % emu.port   # https by default
        with provider(emu, retries=0) as p:
            with pytest.raises(pktcap.TLSError) as e:
                new_session(p).start()
            assert "ca_file" in e.value.message
        assert emu.logins == 0
        with provider(emu, ca_file=cert) as p:
            s = finished(p)
            assert s.fetch() == CAPTURE
        lines = []
        with provider(emu, tls_verify=False) as p:
            p.on_log(lambda level, message: lines.append((level, message)), LogLevel.WARN)
            finished(p)
        assert any("tls_verify=false" in m for _, m in lines)
        assert emu.errors == []


def test_http_to_another_host_is_allowed_with_a_warning(emu):
    lines = []
    # 192.0.2.1 (TEST-NET-1) never answers: what matters is that the login was
    # attempted over http (not refused) and the warning given.
    with Provider("sdwan://192.0.2.1?scheme=http", username="u", password="SECRET-PW",
                  connect_timeout_ms=200, retries=0) as p:
        p.on_log(lambda level, message: lines.append((level, message)), LogLevel.INFO)
        with pytest.raises(pktcap.NetworkError):   # refused, unreachable or timed out
            new_session(p).start()
    assert any(level == LogLevel.WARN and "scheme=http: the password and the session cookies "
               "go to 192.0.2.1 unencrypted" in m for level, m in lines)
    with Provider("sdwan://192.0.2.1?scheme=http&allow_http=false", username="u",
                  password="pw") as p:
        with pytest.raises(pktcap.InvalidArgumentError) as e:
            new_session(p).start()
        assert "refusing to send credentials over plain http" in e.value.message


# ---- downloads -----------------------------------------------------------------------------

def test_an_announced_oversize_file_is_refused_and_nothing_kept(emu, tmp_path):
    with provider(emu) as p:
        s = finished(p)
        emu.download_size_override = MAX_FILE + 1
        with pytest.raises(pktcap.LimitError) as e:
            s.fetch(str(tmp_path / "big.pcapng"))
        assert "575 MiB" in e.value.message and str(MAX_FILE + 1) in e.value.message
    assert os.listdir(tmp_path) == []
    assert len(emu.requests(route="download")) == 1


def test_max_download_bytes_can_only_lower_the_cap(emu, tmp_path):
    with provider(emu, max_download_bytes=len(CAPTURE) - 1) as p:
        s = finished(p)
        with pytest.raises(pktcap.LimitError):
            s.fetch(str(tmp_path / "x.pcapng"))
    assert os.listdir(tmp_path) == []
    with provider(emu, max_download_bytes="1T") as p:
        s = finished(p)
        emu.download_size_override = MAX_FILE + 1
        with pytest.raises(pktcap.LimitError):
            s.fetch()


def test_a_download_cut_mid_body_is_resumed(emu, tmp_path):
    out = tmp_path / "cut.pcapng"
    with provider(emu) as p:
        s = finished(p)
        emu.faults.cut_body(1, len(CAPTURE) // 2, route="download")
        s.fetch(str(out))
    assert out.read_bytes() == CAPTURE
    assert emu.requests(route="download")[1].headers["Range"] == "bytes=%d-" % (len(CAPTURE) // 2)


def test_a_file_that_is_not_a_capture_is_refused(emu, tmp_path):
    emu.capture_bytes = b'{"errorcode": 0, "message": "not a capture"}'
    with provider(emu) as p:
        s = finished(p)
        with pytest.raises(pktcap.FormatError) as e:
            s.fetch(str(tmp_path / "x.pcapng"))
        assert "not a capture file" in e.value.message
    assert os.listdir(tmp_path) == []


# ---- provider URIs and options ---------------------------------------------------------------

@pytest.mark.parametrize("uri,fragment", [
    ("sdwan:", "got no host"),
    ("sdwan://", "got no host"),
    ("sdwan://admin:pw@10.0.0.1", "takes no credentials"),
    ("sdwan://10.0.0.1/sdwan/nitro", "has no path"),
    ("sdwan://10.0.0.1:99999", "is not HOST[:PORT]"),
    ("sdwan://10.0.0.1:", "is not HOST[:PORT]"),
    ("sdwan://bad host", "is not HOST[:PORT]"),
    ("sdwan://10.0.0.1?scheme=ftp", "is not https or http"),
    ("sdwan://10.0.0.1?colour=blue", 'unknown sdwan provider option "colour"'),
    ("sdwan://10.0.0.1?capture_margin_ms=-1", "capture_margin_ms"),
])
def test_malformed_provider_uris_and_options_are_refused(uri, fragment):
    with pytest.raises(pktcap.InvalidArgumentError) as e:
        Provider(uri)
    assert fragment in e.value.message
    assert "pw" not in e.value.message.replace("pwd", "")


def test_ipv6_and_named_hosts_are_accepted():
    for uri in ("sdwan://[::1]:8443", "sdwan://appliance.example.net", "sdwan://[fd00::1]"):
        with Provider(uri) as p:
            assert p.kind == "sdwan"


# ---- logs -------------------------------------------------------------------------------------

def test_a_debug_log_holds_no_password_or_cookie(emu):
    lines = []
    with provider(emu) as p:
        p.on_log(lambda level, message: lines.append((level, message)), LogLevel.DEBUG)
        s = finished(p)
        with emu.lock:
            cookies = [(x.token, x.ns_id) for x in emu._sessions.values()]
        emu.expire_sessions()
        s.fetch()
        with emu.lock:
            cookies += [(x.token, x.ns_id) for x in emu._sessions.values()]
    text = "\n".join(m for _, m in lines)
    assert len(cookies) == 2
    assert "> POST " in text and "/sdwan/nitro/v2/config/login" in text
    assert "< Set-Cookie: ***" in text
    assert "HTTP 401, trying again after logging in again" in text
    for secret in [emu.password] + [v for pair in cookies for v in pair]:
        assert secret not in text
