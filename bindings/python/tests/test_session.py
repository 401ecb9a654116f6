"""pktcap.Provider and pktcap.Session: the state machine and its errors (no
root needed), then live captures on loopback of traffic the tests make
themselves (root needed: without it these fail, unless
PKTCAP_ALLOW_NO_ROOT=1, which skips them).

Each live test captures only its own UDP port, picked at random below the
ephemeral range, so other traffic on the machine cannot change its counts."""
import gc
import os
import random
import socket
import threading
import time
import weakref

import pytest

import pktcap
from pktcap import Capability, Provider, Reader, State, Stats, TargetFlag

WAIT = 20.0   # seconds: generous; packets arrive within milliseconds


def require_root():
    if os.geteuid() == 0:
        return
    if os.environ.get("PKTCAP_ALLOW_NO_ROOT") == "1":
        pytest.skip("live captures need root (PKTCAP_ALLOW_NO_ROOT=1 set)")
    pytest.fail("live captures need root (or CAP_NET_RAW); run as root, or set "
                "PKTCAP_ALLOW_NO_ROOT=1 to skip them")


@pytest.fixture
def live():
    require_root()


def free_port():
    """A UDP port below the ephemeral range that nothing here listens on."""
    return random.randint(20000, 32000)


def send_udp(port, count, size=8):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        for i in range(count):
            s.sendto(bytes([i % 256]) * size, ("127.0.0.1", port))


@pytest.fixture
def provider():
    with Provider.open("local:") as p:
        yield p


# --- providers -------------------------------------------------------------------

def test_local_provider_kind_and_capabilities(provider):
    assert provider.kind == "local"
    caps = provider.caps
    assert isinstance(caps, Capability)
    for cap in (Capability.RULE_FILTER, Capability.BPF_FILTER, Capability.PACKET_LIMIT,
                Capability.TIME_LIMIT, Capability.STOP, Capability.PACKET_CALLBACK,
                Capability.FETCH, Capability.LIST):
        assert cap in caps
    assert Capability.OPEN not in caps
    assert repr(provider) == "<Provider local>"


def test_unknown_scheme_names_local():
    with pytest.raises(pktcap.NotSupportedError) as info:
        Provider.open("nosuch://x")
    assert "local:" in info.value.message


def test_provider_options(provider):
    provider.set("buffer_size", "8Mi")
    provider.set("immediate", True)
    with pytest.raises(pktcap.InvalidArgumentError) as info:
        provider.set("no_such_option", "1")
    assert "no_such_option" in info.value.message
    with Provider("local:?timeout_ms=5") as p:
        assert p.kind == "local"
    with pytest.raises(pktcap.InvalidArgumentError):
        Provider("local:?timeout_ms=nope")


def test_targets_list_loopback(provider):
    targets = provider.targets()
    names = [t.name for t in targets]
    assert "lo" in names and "any" in names
    lo = targets[names.index("lo")]
    assert TargetFlag.LOOPBACK in lo.flags
    assert isinstance(lo.description, str)


def test_sessions_lists_the_providers_handles(provider):
    assert provider.sessions() == []
    with provider.session("first") as s1, provider.session() as s2:
        listed = provider.sessions()
        assert sorted(info.name for info in listed) == sorted(["first", s2.name])
        assert all(info.state is State.NEW for info in listed)
        assert s2.name.startswith("pktcap-")
        assert s1.id == ""
    assert provider.sessions() == []


def test_open_session_is_not_supported_locally(provider):
    with pytest.raises(pktcap.NotSupportedError) as info:
        provider.open_session("anything")
    assert "local" in info.value.message


# --- the state machine without capturing ---------------------------------------------

def test_new_session_defaults(provider):
    with provider.session("s") as s:
        assert s.state is State.NEW
        assert not s.state.terminal
        assert s.name == "s"
        assert s.stop_reason == "" and s.error_text == "" and s.native_status == ""
        # Nothing is counted before the capture starts: every statistic is unknown.
        assert s.stats == Stats(None, None, None, None, None, None)
        assert s.stats.elapsed is None
        assert s.stat(pktcap.Stat.PACKETS) is None
        with pytest.raises(pktcap.InvalidArgumentError) as info:
            s.stat(6)
        assert info.value.message == "pktcap_session_stat_known: unknown statistic 6 (0 to 5)"
        assert s.target is None and s.filter is None and s.storage is None
        assert s.packet_limit == 0 and s.byte_limit == 0 and s.time_limit == 0
        assert repr(s) == "<Session 's' NEW>"


@pytest.mark.parametrize("name", ["", "-x", "a b", "x" * 81, "é"])
def test_bad_names_are_refused(provider, name):
    with pytest.raises(pktcap.InvalidArgumentError):
        provider.session(name)


def test_settings_are_kept(provider, tmp_path):
    with provider.session("s") as s:
        s.target = "lo"
        s.snaplen = 96
        s.packet_limit = 10
        s.byte_limit = 1 << 20
        s.time_limit = 0.5
        s.filter = "proto=udp remote_port=53"
        s.storage = str(tmp_path / "x.pcapng")
        s.set("buffer_size", "1Mi")
        s.set("promisc", False)
        assert s.target == "lo" and s.snaplen == 96
        assert s.packet_limit == 10 and s.byte_limit == 1 << 20
        assert s.time_limit == 0.5
        assert str(s.filter) == "proto=udp remote_port=53"
        assert isinstance(s.storage, pktcap.Storage)
        s.storage = tmp_path / "y.pcapng"            # an os.PathLike as well
        assert isinstance(s.storage, pktcap.Storage)
        with pytest.raises(TypeError) as info:
            s.storage = 42
        assert str(info.value) == "storage: a Storage, a path, a URI or None, not int"
        s.time_limit = 0.0001            # positive: at least 1 ms
        assert s.time_limit == 0.001
        s.time_limit = None
        assert s.time_limit == 0
        s.filter = None
        assert s.filter is None
        with pytest.raises(pktcap.InvalidArgumentError):
            s.time_limit = -1
        with pytest.raises(TypeError):
            s.packet_limit = "10"
        with pytest.raises(pktcap.InvalidArgumentError):
            s.packet_limit = -1
        with pytest.raises(pktcap.InvalidArgumentError):
            s.set("no_such_setting", "1")
        with pytest.raises(pktcap.InvalidArgumentError):
            s.filter = "proto=sctp"


def test_operations_before_start_are_state_errors(provider):
    with provider.session("s") as s:
        with pytest.raises(pktcap.StateError):
            s.wait(0)
        with pytest.raises(pktcap.StateError):
            s.stop()
        with pytest.raises(pktcap.StateError):
            s.fetch()
        with pytest.raises(pktcap.StateError):
            s.refresh()
        s.delete()   # allowed in NEW: nothing to delete


def test_start_without_target_is_invalid(provider):
    with provider.session("s") as s:
        with pytest.raises(pktcap.InvalidArgumentError) as info:
            s.start()
        assert "target" in info.value.message
        assert s.state is State.NEW


def test_unknown_interface_fails_the_session(provider):
    with provider.session("s") as s:
        s.target = "nosuchif0"
        with pytest.raises(pktcap.NotFoundError) as info:
            s.start()
        assert "nosuchif0" in info.value.message and "lo" in info.value.message
        assert s.state is State.FAILED and s.state.terminal
        assert "nosuchif0" in s.error_text
        assert s.wait() is State.FAILED
        with pytest.raises(pktcap.StateError):
            s.target = "lo"
        with pytest.raises(pktcap.StateError):
            s.start()
        with pytest.raises(pktcap.StateError):
            s.stop()
        with pytest.raises(pktcap.StateError):
            s.fetch()


def test_closed_objects_refuse_use(provider):
    s = provider.session("s")
    s.close()
    s.close()   # twice is fine
    assert s.closed and repr(s) == "<Session closed>"
    with pytest.raises(ValueError):
        s.target = "lo"
    with pytest.raises(TypeError):
        pktcap.Session()


def test_provider_close_closes_its_sessions():
    p = Provider()
    s = p.session("s")
    p.close()
    assert s.closed and p.closed


def test_a_session_names_its_provider_even_once_closed():
    with Provider.open("local:") as p, Provider.open("local:") as other:
        s = p.session("s")
        assert s.provider is p and other.session("t").provider is other
        s.close()
        assert s.provider is p   # a plain attribute: no handle needed


def test_callback_objects_are_released(provider):
    """C borrows the ctypes callbacks until the session is freed; then nothing
    of the session keeps them (or the user's callables) alive."""
    class Callback:
        def __call__(self, *args):
            pass

    refs = []
    for i in range(200):
        s = provider.session(f"s{i}")
        a, b = Callback(), Callback()
        s.on_state(a)
        s.on_packet(b)
        s.on_packet(None)
        s.storage = pktcap.Storage.memory()
        refs += [weakref.ref(a), weakref.ref(b), weakref.ref(s)]
        if i % 2:
            s.close()
        del s, a, b
    gc.collect()
    assert [r for r in refs if r() is not None] == []
    assert provider.sessions() == []


# --- live captures on loopback ----------------------------------------------------------

def start_udp_capture(provider, port, **settings):
    s = provider.session()
    s.target = "lo"
    s.filter = f"proto=udp remote_port={port}"
    for key, value in settings.items():
        setattr(s, key, value)
    return s


def test_packet_callback_counts_own_datagrams_and_states(live, provider):
    port = free_port()
    seen, states = [], []
    with start_udp_capture(provider, port, packet_limit=5) as s:
        s.on_packet(lambda packet, summary: seen.append((summary.number, summary.dst_port,
                                                         packet.caplen, summary.protocol)))
        s.on_state(states.append)
        s.start()
        assert s.state is State.RUNNING
        send_udp(port, 5)
        assert s.wait(WAIT) is State.COMPLETE
        assert s.stop_reason == "packet limit"
        assert states == [State.RUNNING, State.COMPLETE]
        assert seen == [(i + 1, port, 42 + 8, "UDP") for i in range(5)]
        stats = s.stats
        assert stats.packets == 5 and stats.bytes == 5 * 50 and stats.wire_bytes == 5 * 50
        assert stats.dropped == 0
        packets = list(Reader(s.fetch()))
        assert len(packets) == 5


def test_stop_keeps_exactly_what_was_sent(live, provider, tmp_path):
    port = free_port()
    out = tmp_path / "stop.pcapng"
    count = [0]
    states = []

    def on_packet(packet, summary):
        count[0] += 1

    with start_udp_capture(provider, port) as s:
        s.storage = str(out)
        s.on_packet(on_packet)
        s.on_state(states.append)
        s.start()
        send_udp(port, 3)
        assert s.wait(0.2) is State.RUNNING     # no limit: still running
        s.stop()
        assert s.state is State.STOPPED
        assert s.wait() is State.STOPPED
        assert s.stop_reason == "stopped"
        assert count[0] == 3 and s.stats.packets == 3
        assert states == [State.RUNNING, State.STOPPING, State.STOPPED]
        with pytest.raises(pktcap.StateError):
            s.stop()
    assert out.exists()
    with Reader(str(out)) as r:
        assert [p.caplen for p in r] == [50, 50, 50]


def test_packet_limit_ends_complete(live, provider):
    port = free_port()
    with start_udp_capture(provider, port, packet_limit=3) as s:
        s.start()
        send_udp(port, 6)
        assert s.wait(WAIT) is State.COMPLETE
        assert s.stop_reason == "packet limit"
        assert s.stats.packets == 3
        assert len(list(Reader(s.fetch()))) == 3
        s.delete()
        with pytest.raises(pktcap.NotFoundError):
            s.fetch()


def test_time_limit_ends_complete(live, provider):
    with start_udp_capture(provider, free_port(), time_limit=0.3) as s:
        t0 = time.monotonic()
        s.start()
        assert s.wait(WAIT) is State.COMPLETE
        assert s.stop_reason == "time limit"
        assert 0.25 <= time.monotonic() - t0 < 5
        assert 300 <= s.stats.elapsed_ms < 5000


def test_cancel_from_another_thread(live, provider):
    with start_udp_capture(provider, free_port()) as s:
        s.start()
        timer = threading.Timer(0.2, s.cancel)
        timer.start()
        t0 = time.monotonic()
        with pytest.raises(pktcap.CanceledError):
            s.wait()
        timer.join()
        assert time.monotonic() - t0 < 5
        assert s.state is State.RUNNING      # the capture goes on
        s.stop()
        assert s.wait() is State.STOPPED


def test_callback_exception_is_raised_by_wait(live, provider):
    port = free_port()

    seen = []

    def on_packet(packet, summary):
        seen.append(summary.number)
        if summary.number == 1:
            raise ZeroDivisionError("from the callback")

    with start_udp_capture(provider, port) as s:
        s.on_packet(on_packet)
        s.start()
        send_udp(port, 2)
        with pytest.raises(ZeroDivisionError, match="from the callback"):
            s.wait(WAIT)
        assert s.state is State.RUNNING
        # Raised once, and no cancel is left pending for the next wait.
        assert s.wait(0.2) is State.RUNNING
        s.stop()
        assert s.wait() is State.STOPPED
        assert s.stats.packets == 2 and seen == [1, 2]


def test_closing_a_running_session_stops_it(live, provider, tmp_path):
    port = free_port()
    out = tmp_path / "closed.pcap"
    s = start_udp_capture(provider, port)
    s.storage = str(out)
    s.start()
    send_udp(port, 2)
    time.sleep(0.1)
    s.close()
    with Reader(str(out)) as r:
        assert len(list(r)) == 2
