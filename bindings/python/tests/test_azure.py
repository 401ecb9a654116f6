"""The Azure Network Watcher provider against its emulator (tests/emulators):
the whole lifecycle, every long-running-operation shape, pagination, errors,
throttling, tokens (client credentials, IMDS, bearer; expiry and refresh),
TLS, resumed and failed downloads, and a debug log without secrets.

The emulator runs in this process (a thread); time there is scaled by 0.01,
so a "60 s" capture takes 0.6 s."""
import os
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
from azure import ARM_AUDIENCE, STORAGE_AUDIENCE, AzureEmulator  # noqa: E402
from emulator import make_cert  # noqa: E402

WAIT = 30.0   # seconds: generous upper bound for a wait() that should end in < 1 s
VM = "vm1"


def udp_frame(i):
    """An Ethernet/IPv4/UDP frame from 10.0.0.1:5000+i to 10.0.0.2:53."""
    payload = bytes([i & 0xFF]) * 20
    udp = struct.pack("!HHHH", 5000 + i, 53, 8 + len(payload), 0) + payload
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), i, 0, 64, 17, 0,
                     bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2]))
    return b"\x02\x00\x00\x00\x00\x02" + b"\x02\x00\x00\x00\x00\x01" + b"\x08\x00" + ip + udp


def capture_bytes(fmt=pktcap.Format.PCAP, count=200):
    """A capture file written by our own writer: what the emulator's blob serves."""
    st = pktcap.Storage.memory()
    with pktcap.Writer(st, fmt) as w:
        w.add_interface(1, 0)
        for i in range(count):
            w.write(udp_frame(i), ts_sec=1_760_000_000 + i, ts_nsec=i * 1000)
    return st.getvalue()


CAPTURE = capture_bytes()


@pytest.fixture
def emu():
    with AzureEmulator(time_scale=0.01, lro_retry_after="0", capture_bytes=CAPTURE) as e:
        yield e
        assert e.errors == []


def vm_id(emu, name=VM):
    return (f"/subscriptions/{emu.subscription}/resourceGroups/rg1/providers/"
            f"Microsoft.Compute/virtualMachines/{name}")


def account_id(emu, account="acct1"):
    return (f"/subscriptions/{emu.subscription}/resourceGroups/rg1/providers/"
            f"Microsoft.Storage/storageAccounts/{account}")


def options(emu, **extra):
    """Provider options that point every endpoint at the emulator."""
    opts = dict(endpoint=emu.base_url, authority=emu.authority, blob_endpoint=emu.base_url + "/blob/",
                tenant_id=emu.tenant, client_id=emu.client_id, client_secret=emu.client_secret,
                auth="client_secret", poll_interval_ms=20, retry_base_ms=10, retry_max_ms=200)
    opts.update(extra)
    return {k: v for k, v in opts.items() if v is not None}


def provider(emu, **extra):
    return Provider(emu.arm_uri(), **options(emu, **extra))


def new_session(p, emu, name="cap1", seconds=60, storage=None):
    s = p.session(name)
    s.target = vm_id(emu)
    s.time_limit = seconds
    s.storage = storage or pktcap.Storage(account_id(emu))
    return s


def started(p, emu, **kw):
    s = new_session(p, emu, **kw)
    s.start()
    return s


# ---- the lifecycle -------------------------------------------------------------------------

def test_capabilities_and_kind(emu):
    with provider(emu) as p:
        assert p.kind == "azure"
        assert p.caps == (Capability.RULE_FILTER | Capability.SNAPLEN | Capability.BYTE_LIMIT |
                          Capability.TIME_LIMIT | Capability.STOP | Capability.DELETE |
                          Capability.LIST | Capability.OPEN | Capability.FETCH)


def test_whole_lifecycle_to_a_file_capinfos_accepts(emu, tmp_path):
    out = tmp_path / "vm1.pcap"
    with provider(emu) as p:
        s = new_session(p, emu, seconds=60)
        s.snaplen = 128
        s.byte_limit = 10_000_000
        s.filter = "proto=udp local=10.0.0.1 remote_port=53"
        s.start()
        assert s.state == State.PENDING
        assert s.id == emu.watcher_path + "/packetCaptures/cap1"
        assert s.wait(WAIT) == State.COMPLETE
        assert s.native_status == "Stopped"
        assert s.stop_reason == "TimeExceeded"
        # Network Watcher reports no packet or byte counts: unknown, not 0.
        stats = s.stats
        assert (stats.packets, stats.bytes, stats.wire_bytes, stats.dropped,
                stats.if_dropped) == (None, None, None, None, None)
        assert stats.elapsed_ms is not None and stats.elapsed_ms >= 0
        progress = []
        s.fetch(str(out), progress=lambda done, total: progress.append((done, total)))
        assert out.read_bytes() == CAPTURE
        assert progress[-1] == (len(CAPTURE), len(CAPTURE))
        assert all(a[0] <= b[0] for a, b in zip(progress, progress[1:]))
        details = s.details()
        assert details["provider"] == "azure" and details["state"] == "COMPLETE"
        resource = details["native"]["resource"]
        assert resource["properties"]["provisioningState"] == "Succeeded"
        assert details["native"]["status"]["packetCaptureStatus"] == "Stopped"
        s.delete()
        assert emu.capture("cap1") is None
    # What the emulator received: every documented property, from our settings.
    create = emu.requests(route="create")[0]
    props = create.json()["properties"]
    assert props["target"] == vm_id(emu)
    assert props["targetType"] == "AzureVM"
    assert props["bytesToCapturePerPacket"] == 128
    assert props["totalBytesPerSession"] == 10_000_000
    assert props["timeLimitInSeconds"] == 60
    assert props["storageLocation"] == {"storageId": account_id(emu)}
    assert props["filters"] == [{"protocol": "UDP", "localIPAddress": "10.0.0.1",
                                 "remotePort": "53"}]
    assert create.query["api-version"] == "2024-05-01"
    assert create.headers["User-Agent"] == f"libpktcap/{pktcap.version()}"
    capinfos = shutil.which("capinfos")
    assert capinfos, "capinfos (tshark) is needed to judge the fetched file"
    # Never with the sanitizer runtime this suite may run under (glib deadlocks).
    env = {k: v for k, v in os.environ.items() if k not in ("LD_PRELOAD", "ASAN_OPTIONS")}
    info = subprocess.run([capinfos, "-c", "-M", str(out)], capture_output=True, text=True,
                          env=env, timeout=60)
    assert info.returncode == 0, info.stderr
    assert "Number of packets:   200" in info.stdout


def test_stop_ends_the_capture_stopped_with_reason_manual(emu):
    with provider(emu) as p:
        s = started(p, emu, seconds=18000)
        deadline = time.monotonic() + WAIT
        while s.refresh() != State.RUNNING:
            assert time.monotonic() < deadline
            time.sleep(0.01)
        assert s.native_status == "Running"
        s.stop()
        assert s.wait(WAIT) == State.STOPPED
        assert s.stop_reason == "Manual"
        assert s.fetch() == CAPTURE
    stops = emu.requests(route="stop")
    assert len(stops) == 1 and stops[0].headers["Content-Length"] == "0"


def test_an_azblob_target_becomes_storage_path_and_storage_id(emu):
    uri = f"azblob://acct2/captures/vm1/cap.cap?storage_id={account_id(emu, 'acct2')}"
    with provider(emu) as p:
        s = started(p, emu, storage=pktcap.Storage(uri))
        assert s.wait(WAIT) == State.COMPLETE
        assert s.fetch() == CAPTURE
    props = emu.requests(route="create")[0].json()["properties"]
    assert props["storageLocation"] == {
        "storageId": account_id(emu, "acct2"),
        "storagePath": emu.base_url + "/blob/acct2/captures/vm1/cap.cap"}


def test_a_cap_path_is_a_file_on_the_vm_and_cannot_be_fetched(emu):
    with provider(emu) as p:
        s = started(p, emu, storage=pktcap.Storage("/var/captures/vm1.cap"))
        assert s.wait(WAIT) == State.COMPLETE
        with pytest.raises(pktcap.NotSupportedError) as e:
            s.fetch()
        assert "/var/captures/vm1.cap" in e.value.message
    props = emu.requests(route="create")[0].json()["properties"]
    assert props["storageLocation"] == {"filePath": "/var/captures/vm1.cap"}


def test_open_list_and_status_of_sessions_made_elsewhere(emu):
    with provider(emu) as p:
        for name in ("a1", "a2"):
            started(p, emu, name=name, seconds=18000).close()
        listed = p.sessions()
        assert [(i.name, i.id) for i in listed] == [
            ("a1", emu.watcher_path + "/packetCaptures/a1"),
            ("a2", emu.watcher_path + "/packetCaptures/a2")]
        assert {i.state for i in listed} <= {State.PENDING, State.RUNNING}
        s = p.open_session("a2")
        assert s.name == "a2" and s.target == vm_id(emu)
        s2 = p.open_session(emu.watcher_path + "/packetCaptures/a1")
        assert s2.name == "a1"
        with pytest.raises(pktcap.NotFoundError) as e:
            p.open_session("nope")
        assert e.value.http_status == 404 and e.value.provider_code == "ResourceNotFound"


def test_list_follows_next_link_over_three_pages(emu):
    emu.page_size = 2
    with provider(emu) as p:
        for i in range(5):
            started(p, emu, name=f"p{i}", seconds=18000).close()
        emu.clear_log()
        assert [i.name for i in p.sessions()] == [f"p{i}" for i in range(5)]
    pages = emu.requests(route="list")
    assert len(pages) == 3
    assert "$skiptoken" not in pages[0].raw_query and "$skiptoken" in pages[2].raw_query


# ---- long-running operations ---------------------------------------------------------------

def test_create_polls_the_async_operation_verbatim_with_one_client_request_id(emu):
    with provider(emu) as p:
        s = started(p, emu, seconds=30)
        assert s.wait(WAIT) == State.COMPLETE
    create = emu.requests(route="create")[0]
    polls = emu.requests(route="lro")
    assert polls, "the Azure-AsyncOperation URL was never polled"
    assert len(polls[0].raw_path) + len(polls[0].raw_query) > 4096
    rid = create.headers["x-ms-client-request-id"]
    assert rid and all(r.headers["x-ms-client-request-id"] == rid for r in polls)


@pytest.mark.parametrize("stop_style,delete_style,status_style", [
    ("location", "location", "location"),
    ("sync", "sync", "sync"),
    ("location", "sync", "sync"),
    ("sync", "location", "location"),
])
def test_every_lro_shape(emu, stop_style, delete_style, status_style):
    emu.lro_style = {"stop": stop_style, "delete": delete_style, "query_status": status_style}
    emu.location_polls = 2
    with provider(emu) as p:
        s = started(p, emu, seconds=18000)
        s.stop()
        assert s.wait(WAIT) == State.STOPPED
        assert s.stop_reason == "Manual"
        s.delete()
        assert emu.capture("cap1") is None
    # Each Location URL answered 202 twice before its final answer.
    location_polls = [r for r in emu.requests(route="lro") if "/operationResults/" in r.path]
    expected = 3 * sum(style == "location" for style in (stop_style, delete_style))
    assert len(location_polls) >= expected
    assert [r.status for r in emu.requests(route="query_status")][-1] == \
        (202 if status_style == "location" else 200)


def test_provisioning_failure_fails_the_session_with_the_operation_error(emu):
    with provider(emu) as p:
        s = p.session("bad")
        s.target = vm_id(emu, "failprovision")
        s.storage = pktcap.Storage(account_id(emu))
        s.start()
        assert s.wait(WAIT) == State.FAILED
        assert "PacketCaptureProvisioningFailed" in s.error_text


def test_a_vm_without_the_agent_fails_with_a_clear_error(emu):
    with provider(emu) as p:
        s = p.session("noagent")
        s.target = vm_id(emu, "agentless")
        s.storage = pktcap.Storage(account_id(emu))
        s.start()
        assert s.wait(WAIT) == State.FAILED
        assert s.native_status == "Error"
        assert "AgentStopped" in s.error_text
        assert "AzureNetworkWatcherExtension" in s.error_text


# ---- errors --------------------------------------------------------------------------------

@pytest.mark.parametrize("status,code,exc", [
    (400, "InvalidRequestFormat", pktcap.InvalidArgumentError),
    (403, "AuthorizationFailed", pktcap.PermissionDeniedError),
    (404, "ParentResourceNotFound", pktcap.NotFoundError),
    (409, "PacketCaptureAlreadyExists", pktcap.ConflictError),
    (412, "PreconditionFailed", pktcap.ThrottledError),
    (500, "InternalServerError", pktcap.ProviderError),
])
def test_each_error_status_maps_to_its_code_with_the_cloud_error(emu, status, code, exc):
    emu.faults.fail(10, status, route="create", code=code, message=f"the {code} text")
    with provider(emu, retries=2) as p:
        s = new_session(p, emu)
        with pytest.raises(exc) as e:
            s.start()
        assert s.state == State.FAILED
    err = e.value
    assert err.http_status == status
    assert err.provider_code == code
    assert err.provider_message == f"the {code} text"
    assert f"HTTP {status}" in err.message and code in err.message
    # PUT is idempotent: 500 is retried, the others are final.
    assert len(emu.requests(route="create")) == (3 if status == 500 else 1)


def test_a_real_conflict_names_the_existing_capture(emu):
    with provider(emu) as p:
        started(p, emu, name="dup").close()
        with pytest.raises(pktcap.ConflictError) as e:
            started(p, emu, name="dup")
        assert e.value.provider_code == "PacketCaptureAlreadyExists"


@pytest.mark.parametrize("header,value", [
    ("Retry-After", "1"),
    ("retry-after-ms", "50"),
    ("x-ms-retry-after-ms", "50"),
    (None, None),
])
def test_throttling_is_retried_then_succeeds(emu, header, value):
    emu.faults.throttle(2, route="create", retry_after=value, header=header)
    t0 = time.monotonic()
    with provider(emu) as p:
        s = started(p, emu)
        assert s.state == State.PENDING
    assert len(emu.requests(route="create")) == 3
    if header == "Retry-After":
        assert time.monotonic() - t0 >= 2 * 0.9    # honoured: a lower bound only


def test_throttling_past_the_budget_is_throttled_with_the_server_message(emu):
    emu.faults.throttle(100, route="create", retry_after="0", message="Too many writes, slow down")
    with provider(emu, retries=3) as p:
        with pytest.raises(pktcap.ThrottledError) as e:
            started(p, emu)
    assert e.value.http_status == 429
    assert e.value.provider_message == "Too many writes, slow down"
    assert "after 4 attempts" in e.value.message
    assert len(emu.requests(route="create")) == 4


def test_local_validation_refuses_before_any_request(emu):
    with provider(emu) as p:
        s = p.session("v")
        with pytest.raises(pktcap.InvalidArgumentError) as e:
            s.target = "/subscriptions/x/resourceGroups/y/providers/Microsoft.Web/sites/z"
        assert "virtualMachines" in e.value.message
        s.target = vm_id(emu)
        s.time_limit = 18001
        s.storage = pktcap.Storage(account_id(emu))
        with pytest.raises(pktcap.InvalidArgumentError) as e:
            s.start()
        assert "timeLimitInSeconds" in e.value.message
        s2 = p.session("v2")
        s2.target = vm_id(emu)
        s2.byte_limit = 4294967296
        s2.storage = pktcap.Storage(account_id(emu))
        with pytest.raises(pktcap.InvalidArgumentError) as e:
            s2.start()
        assert "totalBytesPerSession" in e.value.message
        s3 = p.session("v3")
        s3.target = vm_id(emu)
        with pytest.raises(pktcap.InvalidArgumentError) as e:
            s3.start()
        assert "storageLocation" in e.value.message
        s4 = p.session("v4")
        with pytest.raises(pktcap.NotSupportedError):
            s4.filter = "local=10.0.0.1-10.0.0.5;10.0.0.9"
        with pytest.raises(pktcap.NotSupportedError):
            s4.packet_limit = 10
        with pytest.raises(pktcap.InvalidArgumentError):
            s4.set("file_count", "10001")
    assert emu.requests(route="create") == []


@pytest.mark.parametrize("uri,fragment", [
    ("azure:///subscriptions/s/resourceGroups/r/providers/Microsoft.Network/networkWatchers",
     "networkWatchers/{nw}"),
    ("azure:///subscriptions/s/resourceGroups/r", "networkWatchers/{nw}"),
    ("azure://host/subscriptions/s/resourceGroups/r/providers/Microsoft.Network/networkWatchers/n",
     "azure:///"),
])
def test_malformed_provider_uris_are_refused(uri, fragment):
    with pytest.raises(pktcap.InvalidArgumentError) as e:
        Provider(uri)
    assert fragment in e.value.message


def test_unknown_provider_options_are_refused(emu):
    with pytest.raises(pktcap.InvalidArgumentError) as e:
        Provider(emu.arm_uri(), colour="blue")
    assert '"colour"' in e.value.message
    with pytest.raises(pktcap.InvalidArgumentError):
        Provider(emu.arm_uri(), cloud="mars")


# ---- ARM's quota ---------------------------------------------------------------------------

def test_a_low_arm_quota_paces_the_requests_of_its_kind():
    """x-ms-ratelimit-remaining-subscription-writes at or below arm_reserve:
    one write per arm_pace_ms; reads are not paced; the pacing is logged once."""
    with AzureEmulator(time_scale=0.01, lro_retry_after="0", capture_bytes=CAPTURE,
                       ratelimits={"writes": 3}) as emu:
        logs = []
        with provider(emu, arm_reserve=5, arm_pace_ms=300) as p:
            p.on_log(lambda level, message: logs.append((level, message)), LogLevel.DEBUG)
            for i in range(4):
                s = started(p, emu, name=f"q{i}")
                assert s.state != State.FAILED
        writes = [r for r in emu.requests() if r.method in ("PUT", "POST")
                  and r.route in ("create", "query_status", "stop")]
        creates = [r for r in writes if r.route == "create"]
        assert len(creates) == 4
        # The first answer tells 2 writes left (3 - 1): every later write waits
        # 300 ms after the one before (4 ms of clock and network slack).
        gaps = [b.time - a.time for a, b in zip(writes, writes[1:])]
        assert gaps and min(gaps) >= 0.296, gaps
        reads = [r for r in emu.requests() if r.method == "GET" and r.route]
        paced_lines = [m for _, m in logs if "sending one per" in m]
        assert [m for lvl, m in logs if lvl == LogLevel.INFO and "sending one per" in m] == [
            "azure: 2 ARM writes left for this subscription "
            "(x-ms-ratelimit-remaining-subscription-writes): sending one per 300 ms"]
        assert all("ARM writes left" in m for m in paced_lines)   # never reads
        assert reads == [] or all(r.status != 429 for r in reads)


def test_arm_reserve_zero_turns_pacing_off():
    with AzureEmulator(time_scale=0.01, lro_retry_after="0", capture_bytes=CAPTURE,
                       ratelimits={"writes": 3}) as emu:
        logs = []
        with provider(emu, arm_reserve=0, arm_pace_ms=300) as p:
            p.on_log(lambda level, message: logs.append(message), LogLevel.DEBUG)
            for i in range(3):
                started(p, emu, name=f"r{i}")
        assert not [m for m in logs if "sending one per" in m]
        creates = emu.requests(method="PUT", route="create")
        assert len(creates) == 3


@pytest.mark.parametrize("key,value,message", [
    ("arm_pace_ms", "0", "azure provider option 'arm_pace_ms'"),
    ("arm_pace_ms", "soon", "azure provider option 'arm_pace_ms'"),
    ("arm_reserve", "1000001", "azure provider option 'arm_reserve'"),
])
def test_arm_quota_options_are_checked(emu, key, value, message):
    with pytest.raises(pktcap.InvalidArgumentError) as e:
        Provider(emu.arm_uri(), **{key: value})
    assert e.value.message.startswith(message), e.value.message


# ---- tokens --------------------------------------------------------------------------------

def test_wrong_secret_is_an_auth_error_with_the_aadsts_text(emu):
    with provider(emu, client_secret="wrong") as p:
        with pytest.raises(pktcap.AuthError) as e:
            started(p, emu)
    assert "AADSTS7000215" in e.value.message
    assert e.value.provider_code == "invalid_client"
    assert "wrong" not in e.value.message
    assert emu.requests(route="create") == []


def test_tokens_are_cached_per_audience_and_refreshed_before_expiry(emu):
    emu.token_lifetime = 1
    with provider(emu) as p:
        s = started(p, emu, seconds=150)   # 1.5 s of capture
        assert s.wait(WAIT) == State.COMPLETE
        s.fetch()
    # A one-second token is replaced at 90% of its life: several ARM tokens,
    # one Storage token for the single download, no 401 on the way.
    assert emu.tokens_issued[ARM_AUDIENCE] >= 2
    assert emu.tokens_issued[STORAGE_AUDIENCE] == 1
    assert all(r.status != 401 for r in emu.requests())


def test_a_revoked_token_is_refreshed_once_on_401(emu):
    with provider(emu) as p:
        s = started(p, emu, seconds=18000)
        deadline = time.monotonic() + WAIT
        while s.refresh() != State.RUNNING:     # the create operation is over
            assert time.monotonic() < deadline
            time.sleep(0.01)
        before = emu.tokens_issued[ARM_AUDIENCE]
        emu.revoke_tokens()
        s.refresh()
        assert emu.tokens_issued[ARM_AUDIENCE] == before + 1
        assert [r.status for r in emu.requests(route="query_status")][-2:] == [401, 200]


def test_managed_identity_through_imds(emu):
    with provider(emu, auth="managed_identity", imds_endpoint=emu.base_url, tenant_id=None,
                  client_id=None, client_secret=None) as p:
        s = started(p, emu)
        assert s.wait(WAIT) == State.COMPLETE
        assert s.fetch() == CAPTURE
    imds = emu.requests(route="imds")
    assert len(imds) == 2 and all(r.headers["Metadata"] == "true" for r in imds)
    assert emu.requests(route="token") == []


def test_imds_410_is_retried(emu):
    emu.imds_gone = 1
    with provider(emu, auth="managed_identity", imds_endpoint=emu.base_url) as p:
        started(p, emu)
    assert [r.status for r in emu.requests(route="imds")] == [410, 200]


def test_a_caller_bearer_token_and_a_sas_for_the_blob(emu):
    token = emu.issue_token(ARM_AUDIENCE)
    with provider(emu, auth="bearer", bearer_token=token, tenant_id=None, client_id=None,
                  client_secret=None) as p:
        s = started(p, emu)
        assert s.wait(WAIT) == State.COMPLETE
        with pytest.raises(pktcap.AuthError):
            s.fetch()                              # no Storage token, no SAS
    with provider(emu, auth="bearer", bearer_token=token) as p:
        s = p.session("withsas")
        s.target = vm_id(emu)
        s.time_limit = 10
        s.storage = pktcap.Storage(account_id(emu))
        s.set("sas", emu.sas_token)
        s.start()
        assert s.wait(WAIT) == State.COMPLETE
        assert s.fetch() == CAPTURE
    blob = emu.requests(route="blob")[-1]
    assert "Authorization" not in blob.headers and "sig=" in blob.raw_query
    assert emu.requests(route="token") == []


# ---- TLS -----------------------------------------------------------------------------------

def test_tls_fails_without_the_ca_and_works_with_it(tmp_path):
    cert, key = make_cert(str(tmp_path))
    with AzureEmulator(time_scale=0.01, lro_retry_after="0", capture_bytes=CAPTURE,
                       certfile=cert, keyfile=key) as emu:
        assert emu.base_url.startswith("https://")
        with provider(emu, retries=0) as p:
            with pytest.raises(pktcap.TLSError):
                started(p, emu)
        with provider(emu, ca_file=cert) as p:
            s = started(p, emu)
            assert s.wait(WAIT) == State.COMPLETE
            assert s.fetch() == CAPTURE


# ---- downloads -----------------------------------------------------------------------------

def finished(p, emu, name="cap1"):
    s = started(p, emu, name=name, seconds=10)
    assert s.wait(WAIT) == State.COMPLETE
    return s


def test_a_download_cut_mid_body_is_resumed_with_range(emu, tmp_path):
    out = tmp_path / "cut.pcap"
    with provider(emu) as p:
        s = finished(p, emu)
        emu.faults.cut_body(1, len(CAPTURE) // 2, route="blob")
        s.fetch(out)                        # a pathlib.Path works as a str does
    assert out.read_bytes() == CAPTURE
    blobs = emu.requests(route="blob")
    assert len(blobs) == 2
    assert blobs[1].headers["Range"] == f"bytes={len(CAPTURE) // 2}-"
    assert blobs[1].status == 206
    assert sorted(os.listdir(tmp_path)) == ["cut.pcap"]


def test_a_download_that_keeps_failing_leaves_no_file(emu, tmp_path):
    out = tmp_path / "never.pcap"
    with provider(emu, retries=2) as p:
        s = finished(p, emu)
        emu.faults.cut_body(10, 100, route="blob")
        with pytest.raises(pktcap.NetworkError):
            s.fetch(str(out))
    assert os.listdir(tmp_path) == []


def test_a_blob_that_is_not_a_capture_is_refused_and_not_kept(emu, tmp_path):
    emu.capture_bytes = b"<html>not a capture</html>" * 10
    with provider(emu) as p:
        s = finished(p, emu)
        with pytest.raises(pktcap.FormatError) as e:
            s.fetch(str(tmp_path / "x.pcap"))
    assert "not a capture file" in e.value.message
    assert os.listdir(tmp_path) == []


def test_a_pcapng_blob_is_recognised(emu, tmp_path):
    emu.capture_bytes = capture_bytes(pktcap.Format.PCAPNG, 10)
    with provider(emu) as p:
        s = finished(p, emu)
        assert s.fetch() == emu.capture_bytes


def test_canceling_from_the_progress_callback_keeps_nothing(emu, tmp_path):
    with provider(emu) as p:
        s = finished(p, emu)
        with pytest.raises(pktcap.CanceledError):
            s.fetch(str(tmp_path / "x.pcap"), progress=lambda done, total: True)
    assert os.listdir(tmp_path) == []


# ---- logs ----------------------------------------------------------------------------------

def test_a_debug_log_holds_no_secret_or_token(emu):
    lines = []
    with provider(emu) as p:
        p.on_log(lambda level, message: lines.append((level, message)), LogLevel.DEBUG)
        s = p.session("logged")
        s.target = vm_id(emu)
        s.time_limit = 10
        s.storage = pktcap.Storage(account_id(emu))
        s.set("sas", emu.sas_token)
        s.start()
        assert s.wait(WAIT) == State.COMPLETE
        s.fetch()
        s.delete()
    text = "\n".join(m for _, m in lines)
    assert any(level == LogLevel.DEBUG for level, _ in lines)
    assert "PUT " in text and "x-ms-client-request-id" in text.lower()
    with emu.lock:
        tokens = list(emu._tokens)          # every token the emulator issued
    assert len(tokens) == 1                # ARM; the SAS needs no Storage token
    secrets_seen = [emu.client_secret, "EMUSIGNATURE"] + tokens
    for secret in secrets_seen:
        assert secret not in text
    assert "Authorization: ***" in text


# ---- where credentials may go ------------------------------------------------------------

class _Listener:
    """An HTTP server on 127.0.0.2 that records every request's headers: a
    host that must never see a token."""

    def __init__(self):
        import http.server
        import threading
        seen = self.seen = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - http.server's naming
                seen.append(dict(self.headers))
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.2", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.mark.parametrize("blob_endpoint, path", [
    # Another host altogether.
    ("{base}/blob/", "http://127.0.0.2:{port}/acct1/c.cap"),
    # A blob_endpoint given without a path must not let the authority run on
    # into user info and on to another host ...
    ("{base}", "{base}@127.0.0.2:{port}/acct1/c.cap"),
    # ... nor be matched inside another URL's path.
    ("{base}", "http://127.0.0.2:{port}/{base}/acct1/c.cap"),
    # An https blob host of the wrong cloud suffix.
    ("{base}/blob/", "https://acct1.blob.core.windows.net.127.0.0.2.nip.io:{port}/c/c.cap"),
])
def test_storage_credentials_never_go_to_a_host_azure_named(emu, tmp_path, blob_endpoint, path):
    listener = _Listener()
    try:
        with provider(emu) as p:
            finished(p, emu, name="leak")
        url = path.format(base=emu.base_url, port=listener.port)
        with emu.lock:
            emu._captures["leak"].properties["storageLocation"]["storagePath"] = url
        with provider(emu, blob_endpoint=blob_endpoint.format(base=emu.base_url)) as p:
            s = p.open_session("leak")
            assert s.state == State.COMPLETE
            with pytest.raises(pktcap.RemoteError) as e:
                s.fetch(str(tmp_path / "leak.pcap"))
            assert "refusing to send Storage credentials to" in e.value.message
        assert listener.seen == []
        assert os.listdir(tmp_path) == []
    finally:
        listener.close()


def test_an_lro_url_on_another_host_is_not_polled_with_the_arm_token(emu):
    listener = _Listener()
    try:
        elsewhere = f"http://127.0.0.2:{listener.port}/poll"
        with provider(emu) as p:
            s = started(p, emu, name="lro", seconds=3600)
            deadline = time.monotonic() + WAIT
            while s.refresh() != State.RUNNING and time.monotonic() < deadline:
                time.sleep(0.01)
            assert s.state == State.RUNNING
            # queryStatus answered 202 with a Location on another host.
            emu.faults.fail(1, 202, route="query_status", headers=[("Location", elsewhere)])
            with pytest.raises(pktcap.RemoteError) as e:
                s.refresh()
            assert e.value.message == (
                f'query status of packet capture "lro": refusing to send the ARM token to '
                f'"127.0.0.2:{listener.port}" (Location is not on the ARM endpoint '
                f"{emu.base_url})")
            # create answered 201 with an Azure-AsyncOperation URL elsewhere:
            # the URL is refused (logged), the session is followed on the ARM
            # endpoint instead — where this faked 201 left no capture.
            logged = []
            p.on_log(lambda level, message: logged.append(message))
            emu.faults.fail(1, 201, route="create",
                            headers=[("Azure-AsyncOperation", elsewhere)])
            s2 = started(p, emu, name="lro2", seconds=10)
            with pytest.raises(pktcap.NotFoundError):
                s2.wait(WAIT)
            refused = (f'create packet capture "lro2": refusing to send the ARM token to '
                       f'"127.0.0.2:{listener.port}" (Azure-AsyncOperation is not on the ARM '
                       f"endpoint {emu.base_url})")
            assert [m for m in logged if "refusing" in m] == [
                f"azure: lro2: {refused}; following the capture's status instead"]
        assert listener.seen == []
    finally:
        listener.close()
