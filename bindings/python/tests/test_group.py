"""pktcap.Group against the Cloudflare and Azure emulators (tests/emulators),
run in this process with time scaled by 0.01: a mixed group fetched to
files read back packet for packet, events, a caller's selectors loop,
partial failure, stop, cancel from another thread, exceptions raised in the
callback, timeouts, settings and membership rules."""
import os
import selectors
import sys
import threading
import time
from pathlib import Path

import pytest

import pktcap
from pktcap import Group, GroupEventType, GroupOp, Provider, State

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "tests" / "emulators"))
from azure import AzureEmulator  # noqa: E402
from cloudflare import CloudflareEmulator  # noqa: E402
from sdwan import SdwanEmulator  # noqa: E402

from test_cloudflare import CAPTURE, options as cf_options  # noqa: E402
from test_azure import account_id, options as az_options, vm_id  # noqa: E402
import test_sdwan  # noqa: E402

WAIT = 60.0


@pytest.fixture
def cf():
    with CloudflareEmulator(time_scale=0.01, capture_bytes=CAPTURE) as e:
        yield e
        assert e.errors == []


@pytest.fixture
def az():
    with AzureEmulator(time_scale=0.01, lro_retry_after="0", capture_bytes=CAPTURE) as e:
        yield e
        assert e.errors == []


@pytest.fixture(autouse=True)
def no_credentials_from_the_environment(monkeypatch):
    for name in ("CLOUDFLARE_API_TOKEN", "CLOUDFLARE_EMAIL", "CLOUDFLARE_API_KEY",
                 "AZURE_TENANT_ID", "AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET"):
        monkeypatch.delenv(name, raising=False)


def cf_session(p, name, seconds=1):
    s = p.session(name)
    s.target = "magic-transit"
    s.time_limit = seconds
    return s


def az_session(p, emu, name, seconds=1):
    s = p.session(name)
    s.target = vm_id(emu, name)
    s.time_limit = seconds
    s.storage = pktcap.Storage(account_id(emu))
    return s


class Events:
    """Every event, by session name."""

    def __init__(self):
        self.by_session = {}

    def __call__(self, ev):
        self.by_session.setdefault(ev.session.name, []).append(ev)

    def of(self, name, kind):
        return [e for e in self.by_session.get(name, []) if e.type == kind]


def read_packets(path):
    return len(pktcap.read_all(str(path))[1])


def test_a_mixed_group_fetches_every_capture(cf, az, tmp_path):
    events = Events()
    with Provider(cf.provider_uri(), **cf_options(cf)) as pc, \
            Provider(az.arm_uri(), **az_options(az)) as pa, Group() as g:
        sessions = [cf_session(pc, "c1"), az_session(pa, az, "a1"), cf_session(pc, "c2"),
                    az_session(pa, az, "a2")]
        out = pktcap.Storage(str(tmp_path / "a2.cap"))
        g.add(sessions[0], fetch_to=str(tmp_path / "c1.pcap"))
        g.add(sessions[1], fetch_to=tmp_path / "a1.cap")                 # os.PathLike
        g.add(sessions[2], fetch_to=str(tmp_path / "c2.pcap"))
        g.add(sessions[3], fetch_to=out)                                # a Storage
        g.on_event(events)
        assert len(g) == 4 and list(g) == sessions and g[1] is sessions[1]
        assert repr(g) == "<Group 4 sessions, 0 done>"
        g.start()
        assert g.wait(WAIT) is True
        assert repr(g) == "<Group 4 sessions, 4 done>"
        for r, name in zip(g.results(), ("c1.pcap", "a1.cap", "c2.pcap", "a2.cap")):
            assert (r.state, r.done, r.op, r.code, r.message) == (State.COMPLETE, True,
                                                                   GroupOp.NONE, 0, "")
            assert r.error is None
            assert r.fetched and r.bytes == len(CAPTURE) and r.requests >= 2
            assert (tmp_path / name).read_bytes() == CAPTURE
            assert read_packets(tmp_path / name) == 200
            evs = events.by_session[r.session.name]
            assert [e.type for e in evs].count(GroupEventType.DONE) == 1
            assert evs[-1].type == GroupEventType.DONE and evs[-1].code == 0
            states = [e.state for e in evs if e.type == GroupEventType.STATE]
            assert states[-1] == State.COMPLETE
            assert events.of(r.session.name, GroupEventType.PROGRESS)[-1].done == len(CAPTURE)
        report = g.report()
        assert (report["sessions_total"], report["done"], report["failed"], report["fetched"],
                report["throttled"]) == (4, 4, 0, 4, 0)
        assert report["states"]["COMPLETE"] == 4
        assert [s["provider"] for s in report["sessions"]] == ["cloudflare", "azure",
                                                               "cloudflare", "azure"]
        assert report["requests"] == sum(r.requests for r in g.results())
    assert repr(g) == "<Group closed>"
    for s in sessions:
        s.close()   # allowed once the group is closed


def test_a_selectors_loop_drives_the_group(cf, tmp_path):
    with Provider(cf.provider_uri(), **cf_options(cf)) as p, Group() as g:
        for i in range(3):
            g.add(cf_session(p, f"s{i}"), fetch_to=str(tmp_path / f"s{i}.pcap"))
        assert g.step() == (False, None)   # nothing planned yet
        g.start()
        sel = selectors.DefaultSelector()
        sel.register(g, selectors.EVENT_READ)   # through fileno()
        waits = 0
        while True:
            busy, timeout = g.step()
            if not busy:
                assert timeout is None
                break
            assert 0 <= timeout <= 1.0
            if not sel.select(timeout):
                waits += 1
        sel.close()
        assert waits > 0
        assert all(r.fetched for r in g.results())
        for i in range(3):
            assert read_packets(tmp_path / f"s{i}.pcap") == 200


def test_one_refused_session_leaves_the_others_alone(cf, tmp_path):
    events = Events()
    with Provider(cf.provider_uri(), **cf_options(cf)) as p, Group() as g:
        good = cf_session(p, "good")
        bad = cf_session(p, "bad", seconds=3600)   # simple captures: at most 300 s
        g.add(good, fetch_to=str(tmp_path / "good.pcap"))
        g.add(bad, fetch_to=str(tmp_path / "bad.pcap"))
        g.on_event(events)
        g.start()
        assert g.wait(WAIT)
        ok, failed = g.results()
        assert ok.fetched and ok.error is None
        assert (failed.state, failed.op, failed.code, failed.fetched) == (
            State.FAILED, GroupOp.START, pktcap.Status.E_INVAL, False)
        assert isinstance(failed.error, pktcap.InvalidArgumentError)
        assert "300 s" in failed.message
        assert failed.error.message == failed.message
        [err] = events.of("bad", GroupEventType.ERROR)
        assert (err.op, err.code, err.message) == (GroupOp.START, pktcap.Status.E_INVAL,
                                                   failed.message)
        assert not (tmp_path / "bad.pcap").exists()
        assert g.report()["failed"] == 1


def test_stop_ends_started_captures_which_are_still_fetched(az, tmp_path):
    running = set()

    def on_event(ev):
        if ev.type == GroupEventType.STATE and ev.state == State.RUNNING:
            running.add(ev.index)

    with Provider(az.arm_uri(), **az_options(az)) as p, Group(poll_min_ms=20) as g:
        for i in range(3):
            g.add(az_session(p, az, f"long{i}", seconds=300), fetch_to=str(tmp_path / f"{i}.cap"))
        g.on_event(on_event)
        g.start()
        deadline = time.monotonic() + WAIT
        while len(running) < 3:
            assert g.wait(0.05) is False
            assert time.monotonic() < deadline
        g.stop()
        assert g.wait(WAIT)
        for i, r in enumerate(g.results()):
            assert (r.state, r.fetched, r.code) == (State.STOPPED, True, 0)
            assert (tmp_path / f"{i}.cap").read_bytes() == CAPTURE


def test_cancel_from_another_thread_ends_the_wait(az):
    with Provider(az.arm_uri(), **az_options(az)) as p, Group() as g:
        g.add(az_session(p, az, "c1", seconds=300))
        g.start()
        timer = threading.Timer(0.2, g.cancel)
        timer.start()
        t0 = time.monotonic()
        with pytest.raises(pktcap.CanceledError, match="waiting for the group was canceled"):
            g.wait()
        assert time.monotonic() - t0 < 10
        timer.join()
        # The work goes on: a wait with a timeout returns False, not done.
        assert g.wait(0.1) is False
        assert not g.result(0).done


def test_an_exception_in_the_callback_is_raised_by_wait(cf):
    calls = []

    def on_event(ev):
        calls.append(ev)
        if len(calls) == 1:
            raise RuntimeError("from the callback")

    with Provider(cf.provider_uri(), **cf_options(cf)) as p, Group() as g:
        g.add(cf_session(p, "x"))
        g.on_event(on_event)
        g.start()
        with pytest.raises(RuntimeError, match="from the callback"):
            g.wait(WAIT)
        assert g.wait(WAIT)   # goes on to the end, no second raise
        assert g.result(0).state == State.COMPLETE
        g.on_event(None)


def test_an_exception_in_the_callback_is_raised_by_step(cf):
    raised = []

    def on_event(ev):
        if not raised:
            raised.append(ev)
            raise KeyError("step")

    with Provider(cf.provider_uri(), **cf_options(cf)) as p, Group() as g:
        g.add(cf_session(p, "y"))
        g.on_event(on_event)
        g.start()
        with pytest.raises(KeyError):
            deadline = time.monotonic() + WAIT
            while time.monotonic() < deadline:
                g.step()
                time.sleep(0.01)
        assert g.wait(WAIT)   # the cancel that woke the C side was taken with the raise
        assert g.result(0).fetched is False and g.result(0).state == State.COMPLETE


def test_wait_returns_false_when_its_timeout_passes(az):
    with Provider(az.arm_uri(), **az_options(az)) as p, Group() as g:
        g.add(az_session(p, az, "t1", seconds=300))
        g.start()
        t0 = time.monotonic()
        assert g.wait(0.3) is False
        assert 0.3 <= time.monotonic() - t0 < 5
        assert g.result(0).done is False


def test_settings_are_checked():
    with Group(max_requests=2, max_downloads=1) as g:
        g.set("poll_min_ms", 10)
        with pytest.raises(pktcap.InvalidArgumentError) as e:
            g.set("max_requests", 0)
        assert e.value.message == ('group setting max_requests="0": expected a whole number from 1 '
                                'to 4096')
        with pytest.raises(pktcap.InvalidArgumentError, match='unknown group setting "retries"'):
            g.set("retries", 3)
        with pytest.raises(IndexError, match=r"group result 0 out of range \(0 sessions\)"):
            g.result(0)
        assert g.results() == [] and g.report()["sessions_total"] == 0
    with pytest.raises(ValueError, match="Group is closed"):
        g.start()


def test_membership_rules(cf, tmp_path):
    with Provider(cf.provider_uri(), **cf_options(cf)) as p:
        s = cf_session(p, "m")
        with Group() as g1, Group() as g2:
            g1.add(s)
            with pytest.raises(pktcap.InvalidArgumentError,
                               match='session "m" is already in a group'):
                g2.add(s)
            with pytest.raises(TypeError, match="add: a Session, not str"):
                g2.add("m")
            with pytest.raises(TypeError, match="fetch_to: a Storage or a path, not int"):
                g2.add(cf_session(p, "n"), fetch_to=3)
            with pytest.raises(pktcap.StateError, match="is in a group: close the group first"):
                s.close()
            g1.start()
            with pytest.raises(pktcap.StateError, match="the group is busy"):
                g1.add(cf_session(p, "late"))
            g1.stop()   # not started yet: dropped
            assert g1.wait(WAIT)
            r = g1.result(0)
            assert (r.state, r.op, r.code) == (State.NEW, GroupOp.START, pktcap.Status.E_CANCELED)
            assert isinstance(r.error, pktcap.CanceledError)
        s.close()


def test_an_sdwan_appliances_sessions_run_one_after_another():
    """An appliance runs one capture at a time: in a group, a session that
    finds it busy (409, errorcode 1097) asks again later instead of failing,
    and each capture is fetched before the next one replaces it."""
    with SdwanEmulator(time_scale=0.01, capture_bytes=test_sdwan.CAPTURE) as emu, \
            test_sdwan.provider(emu) as p, Group() as g:
        logs = []
        p.on_log(lambda level, message: logs.append(message))
        for name in ("MGMT", "1", "2"):
            g.add(test_sdwan.new_session(p, target=name, name="if-" + name.replace("/", "-")),
                  fetch_to=pktcap.Storage.memory())
        g.start()
        assert g.wait(WAIT)
        results = g.results()
        assert [(r.state, r.fetched, r.code) for r in results] == [(State.COMPLETE, True, 0)] * 3
        captures = emu.requests(route="capture")
        busy = [r for r in captures if r.status == 409]
        assert len(captures) - len(busy) == 3 and busy
        assert len([m for m in logs if "the appliance runs another capture" in m]) >= 1
        assert emu.errors == []
