"""The Cloudflare Magic Transit provider against its emulator (tests/emulators):
simple captures to a fetched file, full captures to a validated bucket,
stop, list, open, every local validation, every envelope error path,
throttling (429 retried, and given up with the server's message), resumed
and failed downloads, both credential styles, and a debug log without
secrets.

The emulator runs in this process (a thread); time there is scaled by 0.01,
so a "10 s" capture takes 0.1 s."""
import datetime
import os
import re
import shutil
import struct
import subprocess
import sys
import time
from pathlib import Path

import pytest

import pktcap
from pktcap import Capability, LogLevel, Provider, State

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "tests" / "emulators"))
from cloudflare import CloudflareEmulator  # noqa: E402
from emulator import Response, make_cert  # noqa: E402

WAIT = 30.0   # seconds: generous upper bound for a wait() that should end in < 1 s
MT = "magic-transit"
BUCKET = "s3://pcaps-bucket/edge?region=us-east-1"


def udp_frame(i):
    """An Ethernet/IPv4/UDP frame from 10.0.0.1:5000+i to 10.0.0.2:53."""
    payload = bytes([i & 0xFF]) * 20
    udp = struct.pack("!HHHH", 5000 + i, 53, 8 + len(payload), 0) + payload
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), i, 0, 64, 17, 0,
                     bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2]))
    return b"\x02\x00\x00\x00\x00\x02" + b"\x02\x00\x00\x00\x00\x01" + b"\x08\x00" + ip + udp


def capture_bytes(fmt=pktcap.Format.PCAP, count=200):
    """A capture file written by our own writer: what the emulator's download serves."""
    st = pktcap.Storage.memory()
    with pktcap.Writer(st, fmt) as w:
        w.add_interface(1, 0)
        for i in range(count):
            w.write(udp_frame(i), ts_sec=1_760_000_000 + i, ts_nsec=i * 1000)
    return st.getvalue()


CAPTURE = capture_bytes()


@pytest.fixture
def emu():
    with CloudflareEmulator(time_scale=0.01, capture_bytes=CAPTURE) as e:
        yield e
        assert e.errors == []


@pytest.fixture(autouse=True)
def no_credentials_from_the_environment(monkeypatch):
    for name in ("CLOUDFLARE_API_TOKEN", "CLOUDFLARE_EMAIL", "CLOUDFLARE_API_KEY"):
        monkeypatch.delenv(name, raising=False)


def options(emu, **extra):
    """Provider options that point at the emulator, with its API token."""
    opts = dict(endpoint=emu.endpoint, api_token=emu.api_token, poll_interval_ms=20,
                retry_base_ms=10, retry_max_ms=200)
    opts.update(extra)
    return {k: v for k, v in opts.items() if v is not None}


def provider(emu, **extra):
    return Provider(emu.provider_uri(), **options(emu, **extra))


def new_session(p, name="cap1", seconds=10, packets=100):
    s = p.session(name)
    s.target = MT
    if seconds is not None:
        s.time_limit = seconds
    if packets is not None:
        s.packet_limit = packets
    return s


def started(p, **kw):
    s = new_session(p, **kw)
    s.start()
    return s


def full_session(p, name="full1", seconds=30, storage=BUCKET, colo="ord02"):
    s = p.session(name)
    s.target = MT
    s.time_limit = seconds
    s.set("type", "full")
    if colo:
        s.set("colo_name", colo)
    if storage:
        s.storage = pktcap.Storage(storage)
    return s


def wait_running(s):
    deadline = time.monotonic() + WAIT
    while s.refresh() != State.RUNNING:
        assert time.monotonic() < deadline
        time.sleep(0.01)


def creates(emu):
    return emu.requests(route="create")


def capinfos_packets(path):
    capinfos = shutil.which("capinfos")
    assert capinfos, "capinfos (tshark) is needed to judge the fetched file"
    # Never with the sanitizer runtime this suite may run under (glib deadlocks).
    env = {k: v for k, v in os.environ.items() if k not in ("LD_PRELOAD", "ASAN_OPTIONS")}
    info = subprocess.run([capinfos, "-c", "-M", str(path)], capture_output=True, text=True,
                          env=env, timeout=60)
    assert info.returncode == 0, info.stderr
    return info.stdout


def rfc3339(seconds_ago):
    t = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(seconds=seconds_ago)
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


# ---- the lifecycle -------------------------------------------------------------------------

def test_capabilities_and_kind(emu):
    with provider(emu) as p:
        assert p.kind == "cloudflare"
        assert p.caps == (Capability.RULE_FILTER | Capability.PACKET_LIMIT |
                          Capability.TIME_LIMIT | Capability.BYTE_LIMIT | Capability.STOP |
                          Capability.LIST | Capability.OPEN | Capability.FETCH)


def test_whole_simple_lifecycle_to_a_file_capinfos_accepts(emu, tmp_path):
    out = tmp_path / "edge.pcap"
    with provider(emu) as p:
        s = new_session(p, seconds=10, packets=100)
        s.filter = "proto=tcp local=10.0.0.1 remote_port=443"
        s.start()
        assert s.state == State.PENDING
        assert s.native_status == "pending"
        sid = s.id
        assert re.fullmatch(r"[0-9a-f]{32}", sid)
        assert emu.pcap(sid)["type"] == "simple"
        assert s.wait(WAIT) == State.COMPLETE
        assert s.native_status == "success"
        assert s.stop_reason == "time or packet limit"
        progress = []
        s.fetch(str(out), progress=lambda done, total: progress.append((done, total)))
        assert out.read_bytes() == CAPTURE
        assert progress[-1] == (len(CAPTURE), len(CAPTURE))
        assert all(a[0] <= b[0] for a, b in zip(progress, progress[1:]))
        details = s.details()
        assert details["provider"] == "cloudflare" and details["state"] == "COMPLETE"
        assert details["id"] == s.id
        result = details["native"]["result"]
        assert result["id"] == s.id and result["status"] == "success"
        assert result["type"] == "simple" and result["system"] == MT
        assert result["time_limit"] == 10
        assert result["filter_v1"] == {"destination_address": "10.0.0.1", "protocol": 6,
                                       "source_port": 443}
        with pytest.raises(pktcap.NotSupportedError) as e:
            s.delete()
        assert "delet" in e.value.message
    # What the emulator received: every field, from our settings, in order.
    create = creates(emu)[0]
    assert create.json() == {"type": "simple", "system": MT, "time_limit": 10,
                             "packet_limit": 100,
                             "filter_v1": {"destination_address": "10.0.0.1", "protocol": 6,
                                           "source_port": 443}}
    assert list(create.json()) == ["type", "system", "time_limit", "packet_limit", "filter_v1"]
    assert create.headers["Authorization"] == "Bearer " + emu.api_token
    assert create.headers["Content-Type"] == "application/json"
    assert create.headers["User-Agent"] == f"libpktcap/{pktcap.version()}"
    download = emu.requests(route="download")
    assert len(download) == 1 and download[0].path.endswith(f"/pcaps/{sid}/download")
    assert "Number of packets:   200" in capinfos_packets(out)


def test_limits_are_rounded_up_and_a_simple_capture_gets_the_maximum_by_default(emu):
    with provider(emu) as p:
        s = p.session("r")
        s.target = MT
        s.time_limit = 1.5           # seconds → 2
        s.start()
        s2 = p.session("d")
        s2.target = MT
        s2.packet_limit = 5
        s2.start()
        s3 = p.session("f")
        s3.target = MT
        s3.filter = ""               # the empty filter: no filter_v1 at all
        s3.start()
    bodies = [r.json() for r in creates(emu)]
    assert bodies[0] == {"type": "simple", "system": MT, "time_limit": 2, "packet_limit": 10000}
    assert bodies[1] == {"type": "simple", "system": MT, "time_limit": 300, "packet_limit": 5}
    assert bodies[2] == {"type": "simple", "system": MT, "time_limit": 300, "packet_limit": 10000}


def test_an_offset_time_is_sent_for_a_simple_capture(emu):
    when = rfc3339(3600)
    with provider(emu) as p:
        s = new_session(p)
        s.set("offset_time", when)
        s.start()
        assert s.details()["native"]["result"]["offset_time"] == when
    assert creates(emu)[0].json()["offset_time"] == when


@pytest.mark.parametrize("destination", [
    BUCKET,
    "gs://pcaps-bucket/edge/ord",
    "r2://pcaps-bucket",
])
def test_full_capture_to_a_validated_bucket(emu, destination):
    with provider(emu) as p:
        owner = p.call("ownership_add", destination_conf=destination)
        assert owner["destination_conf"] == destination and owner["status"] == "pending"
        assert re.fullmatch(r"ownership-challenge-[0-9a-f]{8}\.txt", owner["filename"])
        # Cloudflare wrote the challenge into the bucket; the owner reads it back.
        challenge = emu.bucket_objects[destination][owner["filename"]].decode()
        assert challenge == owner["ownership_challenge"]
        valid = p.call("ownership_validate", destination_conf=destination,
                       ownership_challenge=challenge)
        assert valid["id"] == owner["id"] and valid["status"] == "success"
        assert [(o["id"], o["status"]) for o in p.call("ownership_list")] == \
            [(owner["id"], "success")]

        s = full_session(p, seconds=30, storage=destination)
        s.byte_limit = 5_000_000
        s.packet_limit = 500
        s.start()
        assert s.state == State.PENDING
        assert s.wait(WAIT) == State.COMPLETE
        assert s.native_status == "complete"
        assert s.stop_reason == "time or byte limit"
        result = s.details()["native"]["result"]
        assert result["colo_name"] == "ord02" and result["destination_conf"] == destination
        assert result["byte_limit"] == 5_000_000 and result["packets_captured"] == 0
        with pytest.raises(pktcap.NotSupportedError) as e:
            s.fetch()
        assert f"pcap_{s.id}.pcap" in e.value.message and destination in e.value.message
        assert emu.bucket_objects[destination][f"pcap_{s.id}.pcap"] == CAPTURE
        assert p.call("ownership_delete", id=owner["id"]) is None
        assert p.call("ownership_list") == []
    assert creates(emu)[0].json() == {"type": "full", "system": MT, "time_limit": 30,
                                      "packet_limit": 500, "byte_limit": 5_000_000,
                                      "colo_name": "ord02", "destination_conf": destination}
    assert emu.requests(route="download") == []


def test_a_full_capture_counts_packets_and_ends_at_its_packet_limit(emu):
    emu.validate_ownership_for(BUCKET)
    emu.packets_per_second = 1000       # 500 packets in 0.5 s (5 ms here)
    with provider(emu) as p:
        s = full_session(p, seconds=3600)
        s.packet_limit = 500
        s.start()
        assert s.wait(WAIT) == State.COMPLETE
        assert s.stop_reason == "packet limit"
        assert s.stat(pktcap.Stat.PACKETS) == 500
        # Cloudflare counts packets only.
        assert (s.stats.bytes, s.stats.wire_bytes, s.stats.dropped) == (None, None, None)


def test_the_storage_uri_is_rebuilt_with_its_path_and_query(emu):
    dest = "s3://pcaps-bucket/a%20dir/x?region=eu-west-1"
    emu.validate_ownership_for("s3://pcaps-bucket/a%20dir/x?region=eu-west-1")
    with provider(emu) as p:
        st = pktcap.Storage(dest)
        s = full_session(p, storage=None)
        s.storage = st
        s.start()
    assert creates(emu)[0].json()["destination_conf"] == dest


def test_a_bucket_without_validated_ownership_is_refused_by_cloudflare(emu):
    with provider(emu) as p:
        s = full_session(p)
        with pytest.raises(pktcap.InvalidArgumentError) as e:
            s.start()
        assert s.state == State.FAILED
    assert e.value.http_status == 400 and e.value.provider_code == "1006"
    assert "has no validated ownership" in e.value.provider_message
    assert "HTTP 400" in e.value.message and "1006" in e.value.message


def test_a_capture_cloudflare_fails_is_failed_with_its_error_message(emu):
    emu.validate_ownership_for(BUCKET)
    with provider(emu) as p:
        s = new_session(p)
        s.filter = "remote=192.0.2.66"
        s.start()
        assert s.wait(WAIT) == State.FAILED
        assert s.native_status == "failed"
        assert s.error_text == (f"packet capture {s.id} failed: the packet capture could not "
                                "be converted to PCAP")
        f = full_session(p, colo="failcolo")
        f.start()
        assert f.wait(WAIT) == State.FAILED
        assert "could not be started in this colo" in f.error_text
        with pytest.raises(pktcap.StateError):
            f.fetch()


def test_stop_ends_the_capture_stopped(emu, tmp_path):
    with provider(emu) as p:
        s = started(p, seconds=300, packets=None)
        wait_running(s)
        assert s.native_status == "running"
        s.stop()
        assert s.state in (State.STOPPING, State.STOPPED)
        assert s.wait(WAIT) == State.STOPPED
        sid = s.id
        assert s.stop_reason == "stopped"
        assert s.native_status == "success"
        assert s.fetch() == CAPTURE
        with pytest.raises(pktcap.StateError):
            s.stop()
    stops = emu.requests(route="stop")
    assert len(stops) == 1 and stops[0].method == "PUT"
    assert stops[0].path.endswith(f"/pcaps/{sid}/stop")
    assert emu.pcap(sid)["end_reason"] == "stop"


def test_a_stop_cloudflare_refuses_leaves_the_capture_as_it_was(emu):
    emu.stop_full_only = True
    with provider(emu) as p:
        s = started(p, seconds=300)
        wait_running(s)
        with pytest.raises(pktcap.InvalidArgumentError) as e:
            s.stop()
        assert e.value.provider_code == "1011"
        assert s.state == State.RUNNING


def test_list_and_open_sessions_made_elsewhere(emu):
    emu.validate_ownership_for(BUCKET)
    with provider(emu) as p:
        a = started(p, name="a", seconds=300)
        b = full_session(p, name="b", seconds=3600)
        b.start()
        ids = [a.id, b.id]
        a.close()
        b.close()
        listed = p.sessions()
        assert [(i.name, i.id) for i in listed] == [(ids[0], ids[0]), (ids[1], ids[1])]
        assert {i.state for i in listed} <= {State.PENDING, State.RUNNING}
        assert {i.native_status for i in listed} <= {"pending", "running"}
        s = p.open_session(ids[1])
        assert s.name == ids[1] and s.id == ids[1] and s.target == MT
        assert s.state in (State.PENDING, State.RUNNING)
        assert s.details()["native"]["result"]["colo_name"] == "ord02"
        s.stop()
        assert s.wait(WAIT) == State.STOPPED
        # Opened again by another handle: stop_requested says it was stopped.
        with provider(emu) as p2:
            again = p2.open_session(ids[1])
            assert again.state == State.STOPPED and again.stop_reason == "stopped"
            assert [i.state for i in p2.sessions() if i.id == ids[1]] == [State.STOPPED]
        with pytest.raises(pktcap.NotFoundError) as e:
            p.open_session("0" * 32)
        assert e.value.http_status == 404 and e.value.provider_code == "1007"
        assert "no packet capture 00000000000000000000000000000000 in Cloudflare account" in \
            e.value.message
        before = len(emu.requests())
        with pytest.raises(pktcap.InvalidArgumentError):
            p.open_session("../../ownership")
        assert len(emu.requests()) == before


def test_list_holds_what_cloudflare_returns_at_most_fifty(emu):
    with provider(emu) as p:
        for i in range(52):
            started(p, name=f"l{i}", seconds=300).close()
        assert len(p.sessions()) == 50


def test_a_capture_gone_at_cloudflare_fails_the_session(emu):
    with provider(emu) as p:
        s = started(p, seconds=300)
        wait_running(s)
        emu.faults.fail(1, 404, route="get", code=1007, message="PCAP not found")
        s.refresh()
        assert s.state == State.FAILED
        assert s.native_status == "gone"
        assert "is gone at Cloudflare" in s.error_text and "PCAP not found" in s.error_text


# ---- local validation ------------------------------------------------------------------------

START_ERRORS = [
    ("simple time limit", lambda p: new_session(p, name="v", seconds=301),
     'session "v": time limit 301000 ms (301 s) is above Cloudflare\'s maximum for time_limit '
     "of a simple capture (300 s; full captures: up to 86400 s)"),
    ("full time limit", lambda p: full_session(p, name="v", seconds=86401),
     "time_limit of a full capture (86400 s)"),
    ("full without time limit", lambda p: full_session(p, name="v", seconds=None),
     'session "v": a full capture needs a time limit (time_limit, 1-86400 s)'),
    ("packet limit", lambda p: new_session(p, name="v", packets=10001),
     'session "v": packet limit 10001 is above Cloudflare\'s maximum for packet_limit (10000)'),
    ("byte limit on simple", lambda p: _with(new_session(p, name="v"), byte_limit=1000),
     'session "v": a byte limit (byte_limit) applies to full captures only'),
    ("byte limit", lambda p: _with(full_session(p, name="v"), byte_limit=1_000_000_001),
     'session "v": byte limit 1000000001 is above Cloudflare\'s maximum for byte_limit '
     "(1000000000)"),
    ("storage on simple", lambda p: _with(new_session(p, name="v"), storage=BUCKET),
     'session "v": a simple capture has no storage target: Cloudflare keeps it and '
     "pktcap_session_fetch()"),
    ("full without storage", lambda p: full_session(p, name="v", storage=None),
     'session "v": a full capture needs a bucket (destination_conf)'),
    ("full to a file", lambda p: full_session(p, name="v", storage="/tmp/x.pcap"),
     "is not a bucket"),
    ("full to azblob", lambda p: full_session(p, name="v", storage="azblob://acct/c/p"),
     "Cloudflare writes full captures to a bucket"),
    ("s3 without region", lambda p: full_session(p, name="v", storage="s3://pcaps-bucket/d"),
     "an s3 bucket needs its region"),
    ("bad bucket name", lambda p: full_session(p, name="v", storage="gs://Pcaps/d"),
     'is not a bucket name'),
    ("full without colo", lambda p: full_session(p, name="v", colo=None),
     'session "v": a full capture needs colo_name'),
    ("colo on simple", lambda p: _set(new_session(p, name="v"), colo_name="ord02"),
     'session "v": colo_name applies to full captures only'),
    ("offset on full", lambda p: _set(full_session(p, name="v"), offset_time=rfc3339(60)),
     'session "v": offset_time applies to simple captures only'),
]


def _with(s, **attrs):
    for k, v in attrs.items():
        setattr(s, k, pktcap.Storage(v) if k == "storage" else v)
    return s


def _set(s, **settings):
    for k, v in settings.items():
        s.set(k, v)
    return s


@pytest.mark.parametrize("case,make,message", START_ERRORS, ids=[c[0] for c in START_ERRORS])
def test_each_invalid_setting_is_refused_at_start_before_any_request(emu, case, make, message):
    with provider(emu) as p:
        s = make(p)
        with pytest.raises(pktcap.InvalidArgumentError) as e:
            s.start()
        assert message in e.value.message
        assert s.state == State.FAILED and message in s.error_text
    assert emu.requests() == []


@pytest.mark.parametrize("key,value,fragment", [
    ("offset_time", "2024-05-01 12:00:00", "is not an RFC 3339 time"),
    ("offset_time", "2024-02-30T12:00:00Z", "is not an RFC 3339 time"),
    ("offset_time", "yesterday", "is not an RFC 3339 time"),
    ("offset_time", None, "is more than 24 hours ago"),      # 25 hours ago
    ("offset_time", "2999-01-01T00:00:00Z", "is in the future"),
    ("type", "partial", '"partial" is not simple or full'),
    ("colo_name", "ord 02", "is not a Cloudflare data center name"),
    ("system", "magic-wan", '"magic-wan" is not a system Cloudflare captures on (magic-transit)'),
    ("colour", "blue", 'unknown cloudflare session setting "colour" (known: type, system, '
                       'colo_name, offset_time)'),
])
def test_each_invalid_session_setting_is_refused_when_set(emu, key, value, fragment):
    with provider(emu) as p:
        s = p.session("v")
        with pytest.raises(pktcap.InvalidArgumentError) as e:
            s.set(key, value if value is not None else rfc3339(25 * 3600))
        assert fragment in e.value.message
    assert emu.requests() == []


@pytest.mark.parametrize("rules,fragment", [
    ("proto=tcp or proto=udp", "filter_v1 holds one rule; this filter has 2"),
    ("local=10.0.0.1-10.0.0.5", "holds single addresses"),
    ("remote_port=80;443", "holds one value per field"),
    ("local_port=8000-8080", "holds single ports"),
    ("bpf:tcp port 80", None),
])
def test_an_unrepresentable_filter_is_refused_when_set(emu, rules, fragment):
    with provider(emu) as p:
        s = p.session("v")
        with pytest.raises(pktcap.NotSupportedError) as e:
            s.filter = rules
        if fragment:
            assert fragment in e.value.message
        assert s.filter is None
    assert emu.requests() == []


def test_targets_snaplen_and_bpf_are_refused(emu):
    with provider(emu) as p:
        s = p.session("v")
        for bad in ("eth0", "Magic-Transit", "magic-transit "):
            with pytest.raises(pktcap.InvalidArgumentError) as e:
                s.target = bad
            assert "a Cloudflare target is the system that captures: magic-transit" in \
                e.value.message
        with pytest.raises(pktcap.NotSupportedError):
            s.snaplen = 128
        s.target = MT
        s.packet_limit = 10
        with pytest.raises(pktcap.StateError):
            s.fetch()
    assert emu.requests() == []


@pytest.mark.parametrize("uri,fragment", [
    ("cloudflare://accounts/", "cloudflare://accounts/{account_id}"),
    ("cloudflare://accounts", "cloudflare://accounts/{account_id}"),
    ("cloudflare://account/abc", 'got "cloudflare://account/abc"'),
    ("cloudflare:///accounts/abc", "cloudflare://accounts/{account_id}"),
    ("cloudflare://accounts/" + "a" * 33, "up to 32 letters and digits"),
    ("cloudflare://accounts/ab-cd", "cloudflare://accounts/{account_id}"),
    ("cloudflare://accounts/abc/pcaps", "cloudflare://accounts/{account_id}"),
])
def test_malformed_provider_uris_are_refused(uri, fragment):
    with pytest.raises(pktcap.InvalidArgumentError) as e:
        Provider(uri)
    assert fragment in e.value.message


def test_provider_options_are_checked_and_secrets_never_echoed(emu):
    with pytest.raises(pktcap.InvalidArgumentError) as e:
        Provider(emu.provider_uri() + "?api_token=SECRETTOKEN1&colour=blue")
    assert '"colour"' in e.value.message and "SECRETTOKEN1" not in e.value.message
    for key, value, fragment in [
        ("endpoint", "ftp://example.com/client/v4", "is not an http:// or https:// URL"),
        ("endpoint", "https://example.com/client/v4?x=1", "without query"),
        ("endpoint", "https://user:pw@example.com/client/v4", "credentials"),
        ("auth", "oauth", '"oauth" is not one of auto, token, key'),
        ("poll_interval_ms", "5", "poll_interval_ms"),
        ("system", "Magic Transit", "is not a system Cloudflare captures on"),
        ("api_key", "abc\r\nX-Evil: 1", "holds a control character"),
    ]:
        with pytest.raises(pktcap.InvalidArgumentError) as e:
            Provider(emu.provider_uri(), **{key: value})
        assert fragment in e.value.message
        assert "X-Evil" not in e.value.message


# ---- the envelope and errors ---------------------------------------------------------------

@pytest.mark.parametrize("status,code,message,exc", [
    (200, 1003, "Invalid 'time_limit': refused", pktcap.ProviderError),
    (400, 1003, "Invalid 'time_limit': must be an integer", pktcap.InvalidArgumentError),
    (403, 10000, "Authentication error", pktcap.AuthError),
    (403, 9109, "Unauthorized to access requested resource", pktcap.PermissionDeniedError),
    (404, 7003, "Could not route to /client/v4/accounts/x/pcaps", pktcap.NotFoundError),
    (409, 1099, "Conflict with another capture", pktcap.ConflictError),
    (500, 10002, "Internal Server Error.", pktcap.ProviderError),
])
def test_each_error_envelope_maps_to_its_code_with_cloudflares_code_and_message(
        emu, status, code, message, exc):
    emu.faults.fail(10, status, route="create", code=code, message=message)
    with provider(emu, retries=2) as p:
        s = new_session(p)
        with pytest.raises(exc) as e:
            s.start()
        assert s.state == State.FAILED
    err = e.value
    assert err.http_status == status
    assert err.provider_code == str(code)
    assert err.provider_message == message
    assert err.message.startswith('create packet capture for session "cap1": HTTP %d' % status)
    assert f": {code}: {message}" in err.message
    assert "request id " in err.message and "-ORD" in err.message
    # The create POST is never repeated after an answer (it could make a second capture).
    assert len(creates(emu)) == 1


def test_errors_of_reads_are_retried_when_transient(emu):
    with provider(emu, retries=2) as p:
        s = started(p, seconds=300)
        emu.faults.fail(2, 503, route="get")
        s.refresh()
        assert s.state in (State.PENDING, State.RUNNING)
        emu.faults.fail(10, 500, route="get", code=10002, message="Internal Server Error.")
        with pytest.raises(pktcap.ProviderError) as e:
            s.refresh()
        assert "after 3 attempts" in e.value.message
        assert s.state in (State.PENDING, State.RUNNING)   # kept: the caller may try again
    statuses = [r.status for r in emu.requests(route="get")]
    assert statuses[:3] == [503, 503, 200] and statuses[3:] == [500, 500, 500]


def test_the_error_chain_is_kept_in_the_message(emu):
    with provider(emu, api_token="not a token") as p:
        with pytest.raises(pktcap.AuthError) as e:
            started(p)
    assert "blank or control character" in e.value.message
    with provider(emu, auth="key", email="user@example.com", api_key="k-e-y!",
                  api_token=None) as p:
        with pytest.raises(pktcap.AuthError) as e:
            started(p)
    err = e.value
    assert err.http_status == 400 and err.provider_code == "6003"
    assert err.provider_message == "Invalid request headers"
    assert "6103: Invalid format for X-Auth-Key header" in err.message
    assert "k-e-y!" not in err.message


def _serve_html(emu, status):
    """A proxy in front of the API: every answer under /proxy/ is an HTML page."""
    def page(req):
        return Response(status, [("Content-Type", "text/html")],
                        b"<html><body>Bad gateway</body></html>")
    emu.add_route(["GET", "POST", "PUT"], r"/proxy/.*", page, "proxy")
    return emu.base_url + "/proxy/client/v4"


def test_a_2xx_answer_that_is_not_an_envelope_is_a_format_error(emu):
    with provider(emu, endpoint=_serve_html(emu, 200)) as p:
        with pytest.raises(pktcap.FormatError) as e:
            started(p)
    assert "the answer is not a Cloudflare API envelope" in e.value.message
    assert e.value.http_status == 200


def test_a_non_2xx_answer_that_is_not_an_envelope_keeps_its_status(emu):
    with provider(emu, endpoint=_serve_html(emu, 502), retries=0) as p:
        with pytest.raises(pktcap.ProviderError) as e:
            started(p)
    assert "HTTP 502 Bad Gateway" in e.value.message
    assert e.value.http_status == 502 and e.value.provider_code == ""


def test_a_result_that_is_not_a_pcap_object_is_a_format_error(emu):
    def odd(req):
        return Response.json(200, {"success": True, "errors": [], "messages": [],
                                   "result": {"no": "id"}}, None,
                             content_type="application/json")
    emu.add_route(["POST"], r"/odd/client/v4/accounts/[^/]+/pcaps", odd, "odd")
    with provider(emu, endpoint=emu.base_url + "/odd/client/v4") as p:
        with pytest.raises(pktcap.FormatError) as e:
            started(p)
    assert "the result is not a PCAP object" in e.value.message


# ---- throttling ----------------------------------------------------------------------------

@pytest.mark.parametrize("header,value,least", [
    ("Retry-After", "1", 2 * 0.9),
    ("Retry-After-Ms", "300", 2 * 0.27),
    (None, None, 0),
])
def test_throttling_is_retried_then_succeeds(emu, header, value, least):
    emu.faults.throttle(2, route="create", retry_after=value, header=header)
    t0 = time.monotonic()
    with provider(emu) as p:
        s = started(p)
        assert s.state == State.PENDING
    assert [r.status for r in creates(emu)] == [429, 429, 200]
    assert time.monotonic() - t0 >= least    # honoured: a lower bound only


def test_the_rate_limit_of_cloudflare_is_waited_out(emu):
    emu.rate_limit = 2
    emu.rate_window = 1
    emu.retry_after_ms_header = True
    t0 = time.monotonic()
    with provider(emu) as p:
        s = started(p, seconds=300)          # request 1
        s.refresh()                          # request 2
        s.refresh()                          # 429, Retry-After-Ms, then accepted
    assert time.monotonic() - t0 >= 0.5
    gets = emu.requests(route="get")
    assert [r.status for r in gets] == [200, 429, 200]
    assert gets[1].status == 429


def test_the_providers_own_rate_limit_keeps_under_cloudflares(emu):
    # The same three requests with the provider's rate_limit at the service's
    # (2 per second here): the third waits for room instead of meeting a 429.
    emu.rate_limit = 2
    emu.rate_window = 1
    logged = []
    t0 = time.monotonic()
    with provider(emu, rate_limit="2/1") as p:
        p.on_log(lambda level, message: logged.append((level, message)))
        s = started(p, seconds=300)
        s.refresh()
        s.refresh()
    assert time.monotonic() - t0 >= 1.0      # a lower bound only
    assert [r.status for r in emu.requests(route="get")] == [200, 200]
    assert [r.status for r in emu.requests() if r.status == 429] == []
    waits = [(level, m) for level, m in logged if "rate_limit 2/1 reached: waiting" in m]
    assert [level for level, _ in waits] == [LogLevel.INFO]


def test_throttling_past_the_budget_is_throttled_with_the_server_message(emu):
    emu.faults.throttle(100, route="create", retry_after="0",
                        message="Please wait and consider throttling your request speed")
    with provider(emu, retries=3) as p:
        with pytest.raises(pktcap.ThrottledError) as e:
            started(p)
    assert e.value.http_status == 429 and e.value.provider_code == "971"
    assert e.value.provider_message == "Please wait and consider throttling your request speed"
    assert "after 4 attempts" in e.value.message
    assert len(creates(emu)) == 4


def test_a_retry_after_beyond_the_retry_budget_is_not_waited_for(emu):
    emu.faults.throttle(5, route="create", retry_after="30")
    t0 = time.monotonic()
    with provider(emu, retry_budget_ms=1000) as p:
        with pytest.raises(pktcap.ThrottledError) as e:
            started(p)
    assert time.monotonic() - t0 < 10
    assert e.value.http_status == 429
    assert e.value.provider_message == "Please wait and consider throttling your request speed"
    assert len(creates(emu)) == 1


def test_a_retry_after_holds_the_next_status_request(emu):
    with provider(emu, retries=0) as p:
        s = started(p, seconds=300)
        emu.faults.throttle(1, route="get", retry_after="2")
        with pytest.raises(pktcap.ThrottledError):
            s.refresh()
        n = len(emu.requests(route="get"))
        s.refresh()                          # within Retry-After: nothing is sent
        assert len(emu.requests(route="get")) == n


# ---- downloads -----------------------------------------------------------------------------

def finished(p, name="cap1"):
    s = started(p, name=name, seconds=10)
    assert s.wait(WAIT) == State.COMPLETE
    return s


def test_a_download_cut_mid_body_is_resumed_with_range(emu, tmp_path):
    out = tmp_path / "cut.pcap"
    with provider(emu) as p:
        s = finished(p)
        emu.faults.cut_body(1, len(CAPTURE) // 2, route="download")
        s.fetch(str(out))
    assert out.read_bytes() == CAPTURE
    downloads = emu.requests(route="download")
    assert len(downloads) == 2
    assert downloads[1].headers["Range"] == f"bytes={len(CAPTURE) // 2}-"
    assert downloads[1].status == 206
    assert sorted(os.listdir(tmp_path)) == ["cut.pcap"]


def test_a_download_that_keeps_failing_leaves_no_file(emu, tmp_path):
    out = tmp_path / "never.pcap"
    with provider(emu, retries=2) as p:
        s = finished(p)
        emu.faults.cut_body(10, 100, route="download")
        with pytest.raises(pktcap.NetworkError):
            s.fetch(str(out))
    assert os.listdir(tmp_path) == []


def test_a_download_that_is_not_a_capture_is_refused_and_not_kept(emu, tmp_path):
    emu.capture_bytes = b"<html>not a capture</html>" * 10
    with provider(emu) as p:
        s = finished(p)
        with pytest.raises(pktcap.FormatError) as e:
            s.fetch(str(tmp_path / "x.pcap"))
    assert "not a capture file" in e.value.message
    assert os.listdir(tmp_path) == []


def test_a_pcapng_download_is_recognised_by_its_magic(emu):
    emu.capture_bytes = capture_bytes(pktcap.Format.PCAPNG, 10)
    with provider(emu) as p:
        assert finished(p).fetch() == emu.capture_bytes


def test_a_refused_download_keeps_cloudflares_error(emu, tmp_path):
    with provider(emu) as p:
        s = finished(p)
        emu.faults.fail(1, 400, route="download", code=1008, message="PCAP is not ready")
        with pytest.raises(pktcap.InvalidArgumentError) as e:
            s.fetch(str(tmp_path / "x.pcap"))
    assert e.value.provider_code == "1008" and e.value.provider_message == "PCAP is not ready"
    assert os.listdir(tmp_path) == []


def test_canceling_from_the_progress_callback_keeps_nothing(emu, tmp_path):
    with provider(emu) as p:
        s = finished(p)
        with pytest.raises(pktcap.CanceledError):
            s.fetch(str(tmp_path / "x.pcap"), progress=lambda done, total: True)
    assert os.listdir(tmp_path) == []


# ---- credentials ---------------------------------------------------------------------------

def test_the_global_api_key_goes_as_x_auth_headers(emu):
    with provider(emu, api_token=None, email=emu.email, api_key=emu.api_key) as p:
        assert finished(p).fetch() == CAPTURE
    for r in emu.requests():
        assert "Authorization" not in r.headers
        assert r.headers["X-Auth-Email"] == emu.email
        assert r.headers["X-Auth-Key"] == emu.api_key


def test_credentials_from_the_environment(emu, monkeypatch):
    monkeypatch.setenv("CLOUDFLARE_API_TOKEN", emu.api_token)
    with provider(emu, api_token=None) as p:
        started(p)
    monkeypatch.delenv("CLOUDFLARE_API_TOKEN")
    monkeypatch.setenv("CLOUDFLARE_EMAIL", emu.email)
    monkeypatch.setenv("CLOUDFLARE_API_KEY", emu.api_key)
    with provider(emu, api_token=None) as p:
        started(p)
    first, second = creates(emu)
    assert first.headers["Authorization"] == "Bearer " + emu.api_token
    assert second.headers["X-Auth-Key"] == emu.api_key and "Authorization" not in second.headers


def test_the_token_wins_in_auto_and_auth_picks_a_style(emu):
    with provider(emu, email=emu.email, api_key=emu.api_key) as p:
        started(p)
    with provider(emu, auth="key", email=emu.email, api_key=emu.api_key) as p:
        started(p)
    with provider(emu, auth="key") as p:     # a token only
        with pytest.raises(pktcap.AuthError) as e:
            started(p)
        assert "auth=key needs email and api_key" in e.value.message
        assert "missing: email, api_key" in e.value.message
    first, second = creates(emu)
    assert "Authorization" in first.headers and "X-Auth-Key" not in first.headers
    assert "Authorization" not in second.headers and "X-Auth-Key" in second.headers


def test_missing_credentials_say_what_to_set_before_any_request(emu):
    with provider(emu, api_token=None) as p:
        with pytest.raises(pktcap.AuthError) as e:
            started(p)
        assert e.value.message == (
            "cloudflare: no credentials: set the api_token option (or CLOUDFLARE_API_TOKEN), "
            "or email and api_key (or CLOUDFLARE_EMAIL and CLOUDFLARE_API_KEY)")
        with pytest.raises(pktcap.AuthError):
            p.sessions()
        with pytest.raises(pktcap.AuthError):
            p.call("ownership_list")
    with provider(emu, api_token=None, email=emu.email) as p:
        with pytest.raises(pktcap.AuthError) as e:
            started(p)
        assert e.value.message.endswith("; api_key is missing")
    assert emu.requests() == []


@pytest.mark.parametrize("creds", [
    dict(api_token="pktcapEmuTokenWRONG"),
    dict(api_token=None, email="user@example.com", api_key="0000deadbeef"),
    dict(api_token=None, email="someone@example.com", api_key="c2547eb745079dac9320b638f5e225cf483cc"),
])
def test_wrong_credentials_are_an_auth_error(emu, creds):
    with provider(emu, **creds) as p:
        with pytest.raises(pktcap.AuthError) as e:
            started(p)
    err = e.value
    assert err.http_status == 403 and err.provider_code == "10000"
    assert err.provider_message == "Authentication error"
    assert f"that it may use account {emu.account_id}" in err.message
    for secret in creds.values():
        if secret and "@" not in secret:
            assert secret not in err.message
    assert len(creates(emu)) == 1              # not retried


def test_another_account_is_an_auth_error(emu):
    with Provider("cloudflare://accounts/" + "1" * 32, **options(emu)) as p:
        with pytest.raises(pktcap.AuthError):
            started(p)


def test_a_debug_log_holds_no_token_or_key(emu):
    lines = []
    for creds in (dict(), dict(api_token=None, email=emu.email, api_key=emu.api_key)):
        with provider(emu, **creds) as p:
            p.on_log(lambda level, message: lines.append((level, message)), LogLevel.DEBUG)
            s = finished(p, name="logged")
            s.fetch()
            p.sessions()
            p.call("ownership_list")
    text = "\n".join(m for _, m in lines)
    assert any(level == LogLevel.DEBUG for level, _ in lines)
    assert "> POST " in text and "> GET " in text
    assert "Authorization: ***" in text and "X-Auth-Key: ***" in text
    assert emu.api_token not in text and emu.api_key not in text


def test_tls_fails_without_the_ca_and_works_with_it(tmp_path):
    cert, key = make_cert(str(tmp_path))
    with CloudflareEmulator(time_scale=0.01, capture_bytes=CAPTURE, certfile=cert,
                            keyfile=key) as emu:
        assert emu.base_url.startswith("https://")
        with provider(emu, retries=0) as p:
            with pytest.raises(pktcap.TLSError):
                started(p)
        with provider(emu, ca_file=cert) as p:
            assert finished(p).fetch() == CAPTURE


def test_credentials_are_not_sent_over_plain_http_to_another_host(emu):
    with provider(emu, endpoint="http://192.0.2.1:9/client/v4", retries=0) as p:
        with pytest.raises(pktcap.InvalidArgumentError) as e:
            started(p)
    assert "refusing to send credentials over plain http" in e.value.message


# ---- provider operations ----------------------------------------------------------------------

def test_ownership_errors_come_back_with_cloudflares_codes(emu):
    with provider(emu) as p:
        owner = p.call("ownership_add", destination_conf=BUCKET)
        with pytest.raises(pktcap.InvalidArgumentError) as e:
            p.call("ownership_add", destination_conf=BUCKET)
        assert e.value.provider_code == "1022"
        with pytest.raises(pktcap.InvalidArgumentError) as e:
            p.call("ownership_validate", destination_conf=BUCKET, ownership_challenge="wrong")
        assert e.value.provider_code == "1021"
        assert [o["status"] for o in p.call("ownership_list")] == ["failed"]
        with pytest.raises(pktcap.NotFoundError) as e:
            p.call("ownership_validate", destination_conf="gs://other-bucket",
                   ownership_challenge="x")
        assert e.value.provider_code == "1020"
        with pytest.raises(pktcap.NotFoundError):
            p.call("ownership_delete", id="f" * 32)
        assert p.call("ownership_delete", id=owner["id"]) is None


def test_a_challenge_cloudflare_keeps_in_the_bucket_is_read_from_there(emu):
    emu.ownership_challenge_in_result = False
    with provider(emu) as p:
        owner = p.call("ownership_add", destination_conf="r2://pcaps-bucket")
        assert "ownership_challenge" not in owner
        challenge = emu.bucket_objects["r2://pcaps-bucket"][owner["filename"]].decode()
        assert p.call("ownership_validate", destination_conf="r2://pcaps-bucket",
                      ownership_challenge=challenge)["status"] == "success"


@pytest.mark.parametrize("op,args,exc,fragment", [
    ("ownership_frobnicate", {}, pktcap.NotSupportedError,
     'the cloudflare provider has no operation "ownership_frobnicate" (it has ownership_list, '
     "ownership_add, ownership_validate, ownership_delete)"),
    ("ownership_add", {}, pktcap.InvalidArgumentError,
     'cloudflare ownership_add: the argument "destination_conf" is missing'),
    ("ownership_add", {"destination_conf": 5}, pktcap.InvalidArgumentError,
     '"destination_conf" must be a non-empty string'),
    ("ownership_add", {"destination_conf": BUCKET, "bucket": "x"}, pktcap.InvalidArgumentError,
     'unknown argument "bucket" (it takes destination_conf)'),
    ("ownership_add", {"destination_conf": "https://example.com/b"},
     pktcap.InvalidArgumentError, "Cloudflare writes full captures to a bucket"),
    ("ownership_add", {"destination_conf": "s3://pcaps-bucket"}, pktcap.InvalidArgumentError,
     "an s3 bucket needs its region"),
    ("ownership_validate", {"destination_conf": BUCKET}, pktcap.InvalidArgumentError,
     'the argument "ownership_challenge" is missing'),
    ("ownership_delete", {}, pktcap.InvalidArgumentError, 'the argument "id" is missing'),
    ("ownership_delete", {"id": "../pcaps"}, pktcap.InvalidArgumentError,
     "is not an ownership id"),
    ("ownership_list", {"all": True}, pktcap.InvalidArgumentError,
     'unknown argument "all" (it takes none)'),
])
def test_provider_call_checks_operations_and_arguments_before_any_request(
        emu, op, args, exc, fragment):
    with provider(emu) as p:
        with pytest.raises(exc) as e:
            p.call(op, **args)
        assert fragment in e.value.message
    assert emu.requests() == []


def test_provider_call_refuses_arguments_that_are_not_an_object(emu):
    import ctypes
    from pktcap import _native
    with provider(emu) as p:
        out = ctypes.c_void_p()
        rc = _native.lib.pktcap_provider_call(ctypes.byref(out), p._handle(), b"ownership_list",
                                              b"[1, 2]")
        assert rc == pktcap.Status.E_INVAL
        assert "the arguments are not a JSON object" in pktcap.last_error(rc).message
    assert emu.requests() == []
