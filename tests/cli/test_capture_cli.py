"""pktcap capture, interfaces, sessions, status, stop, delete, fetch.

Live captures run on loopback with traffic the tests make themselves, each
on its own random ports below the ephemeral range, so other traffic on the
machine cannot change what is counted. They need root: without it they fail,
unless PKTCAP_ALLOW_NO_ROOT=1, which skips them. Captured files are judged
by capinfos, run without LD_PRELOAD (glib-based tools can deadlock with a
sanitizer runtime preloaded)."""
import json
import os
import queue
import random
import re
import shutil
import signal
import socket
import subprocess
import threading
import time

import pytest

WAIT = 20   # seconds: generous; packets arrive within milliseconds


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


def clean_env():
    return {k: v for k, v in os.environ.items() if k != "LD_PRELOAD"}


def capinfos_count(path):
    """The packet count capinfos reads; it fails the test if the file is not valid."""
    assert shutil.which("capinfos"), "capinfos (tshark) is needed"
    proc = subprocess.run(["capinfos", "-c", "-M", str(path)], env=clean_env(),
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    match = re.search(r"Number of packets:\s+(\d+)", proc.stdout)
    assert match, proc.stdout
    return int(match.group(1))


def ports(n=1):
    picked = random.sample(range(20000, 32000), n)
    return picked if n > 1 else picked[0]


def send_udp(port, count, size=8):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        for i in range(count):
            s.sendto(bytes([i % 256]) * size, ("127.0.0.1", port))


def tcp_exchange(port, payload=b"hello pktcap"):
    """One TCP connection to 127.0.0.1:port: connect, send, receive the echo, close."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as srv:
        srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        srv.bind(("127.0.0.1", port))
        srv.listen(1)
        with socket.create_connection(("127.0.0.1", port), timeout=5) as c:
            conn, _ = srv.accept()
            with conn:
                c.sendall(payload)
                conn.sendall(conn.recv(100))
                assert c.recv(100) == payload


class Capture:
    """`pktcap capture ARGS` in the background, its stderr read line by line."""

    def __init__(self, cli, *args):
        self.proc = subprocess.Popen([cli.path, "capture", *map(str, args)],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.lines = queue.Queue()
        self.err = []
        self.out = b""
        self._err_reader = threading.Thread(target=self._read_err, daemon=True)
        self._out_reader = threading.Thread(target=self._read_out, daemon=True)
        self._err_reader.start()
        self._out_reader.start()

    def _read_err(self):
        for raw in self.proc.stderr:
            line = raw.decode("utf-8", "replace")
            self.err.append(line)
            self.lines.put(line)
        self.lines.put(None)

    def _read_out(self):
        self.out = self.proc.stdout.read()

    def wait_running(self):
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                break
            if line is None:
                break
            if line.startswith("pktcap: capturing on "):
                return
        self.proc.kill()
        self.finish()
        pytest.fail("the capture did not start: " + "".join(self.err))

    def finish(self):
        try:
            self.proc.wait(timeout=WAIT)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            pytest.fail("the capture did not end: " + "".join(self.err))
        self._err_reader.join()
        self._out_reader.join()
        return self.proc.returncode, self.out.decode(), "".join(self.err)


def stat(stderr, name):
    match = re.search(rf"^  {name}\s+(\d+)", stderr, re.M)
    assert match, stderr
    return int(match.group(1))


def elapsed(stderr):
    match = re.search(r"^  elapsed\s+(\d+\.\d+) s$", stderr, re.M)
    assert match, stderr
    return float(match.group(1))


# --- live captures ---------------------------------------------------------------

def test_packet_limit_exact_count_json_summaries_and_file(live, cli, tmp_path):
    port = ports()
    out = tmp_path / "limit.pcapng"
    cap = Capture(cli, "--target", "lo", "--filter", f"proto=udp remote_port={port}",
                  "--packets", 4, "-w", out, "--summary", "--format", "json", "--name", "lim")
    cap.wait_running()
    send_udp(port, 7)
    rc, stdout, stderr = cap.finish()
    assert rc == 0, stderr
    assert 'capture "lim" on lo ended: COMPLETE (packet limit)' in stderr
    assert stat(stderr, "packets") == 4
    assert stat(stderr, "bytes") == 4 * 50
    assert stat(stderr, "dropped") == 0
    assert f"  file         {out}" in stderr
    records = [json.loads(line) for line in stdout.splitlines()]
    assert [r["number"] for r in records] == [1, 2, 3, 4]
    for r in records:
        assert r["protocol"] == "UDP" and r["dst_port"] == port
        assert r["src_ip"] == r["dst_ip"] == "127.0.0.1"
        assert r["length"] == 50
    assert capinfos_count(out) == 4
    # The live lines are exactly what `pktcap summary` prints for the file.
    again = cli("summary", "--format", "json", out, check_status=0)
    assert again.stdout.decode() == stdout


def test_udp_and_tcp_with_a_rule_filter_and_text_summaries(live, cli, tmp_path):
    udp_port, tcp_port = ports(2)
    out = tmp_path / "mixed.pcap"
    cap = Capture(cli, "--target", "lo", "-w", out, "--summary", "--filter",
                  f"proto=udp remote_port={udp_port} or proto=tcp remote_port={tcp_port}")
    cap.wait_running()
    send_udp(udp_port, 3)
    tcp_exchange(tcp_port)
    send_udp(udp_port + 1, 2)              # not matched by the filter
    time.sleep(0.2)
    cap.proc.send_signal(signal.SIGINT)
    rc, stdout, stderr = cap.finish()
    assert rc == 0, stderr
    assert "ended: STOPPED (stopped)" in stderr
    lines = stdout.splitlines()
    udp = [line for line in lines if ": UDP " in line]
    tcp = [line for line in lines if ": TCP " in line]
    assert len(udp) == 3 and all(f".{udp_port}:" in line for line in udp)
    assert len(tcp) >= 6                   # handshake, data both ways, FINs
    assert f"> 127.0.0.1.{tcp_port}: TCP [S]" in tcp[0]
    assert len(lines) == len(udp) + len(tcp) == stat(stderr, "packets")
    assert capinfos_count(out) == len(lines)
    # A .pcap name gives classic pcap.
    assert out.read_bytes()[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1")


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_signal_stops_cleanly_with_a_valid_file(live, cli, tmp_path, sig):
    port = ports()
    out = tmp_path / "stopped.pcapng"
    cap = Capture(cli, "--target", "lo", "--filter", f"proto=udp remote_port={port}",
                  "-w", out)
    cap.wait_running()
    send_udp(port, 3)
    time.sleep(0.1)
    cap.proc.send_signal(sig)
    rc, stdout, stderr = cap.finish()
    assert rc == 0, stderr
    assert "ended: STOPPED (stopped)" in stderr
    assert stat(stderr, "packets") == 3
    assert stdout == ""
    assert capinfos_count(out) == 3
    assert [p.name for p in tmp_path.iterdir()] == ["stopped.pcapng"]   # no temporary left


def test_duration_ends_complete_with_time_limit(live, cli, tmp_path):
    out = tmp_path / "timed.pcapng"
    t0 = time.monotonic()
    proc = cli("capture", "--target", "lo", "--filter", f"proto=udp remote_port={ports()}",
               "--duration", 1, "-w", out)
    wall = time.monotonic() - t0
    stderr = proc.stderr.decode()
    assert proc.returncode == 0, stderr
    assert "ended: COMPLETE (time limit)" in stderr
    assert 1.0 <= elapsed(stderr) < 1.5
    assert 1.0 <= wall < 5
    assert capinfos_count(out) == 0


def test_fractional_duration_bpf_and_fetch(live, cli, tmp_path):
    port = ports()
    fetched = tmp_path / "fetched.pcapng"
    cap = Capture(cli, "--target", "lo", "--bpf", f"udp and port {port}", "--packets", 2,
                  "--duration", "0.5m", "--fetch", fetched)
    cap.wait_running()
    send_udp(port, 2)
    rc, stdout, stderr = cap.finish()
    assert rc == 0, stderr
    assert "COMPLETE (packet limit)" in stderr
    assert f"  fetched to   {fetched}" in stderr
    assert capinfos_count(fetched) == 2


def test_verbose_logs_calls_with_secrets_redacted(live, cli, tmp_path):
    port = ports()
    cap = Capture(cli, "--provider", "local:?buffer_size=3Mi", "--target", "lo",
                  "--filter", f"proto=udp remote_port={port}", "--packets", 1,
                  "--option", "timeout_ms=7", "--verbose")
    cap.wait_running()
    send_udp(port, 1)
    rc, stdout, stderr = cap.finish()
    assert rc == 0, stderr
    assert 'pktcap_provider_open("local:?buffer_size=***") -> 0' in stderr
    assert "3Mi" not in stderr and "timeout_ms\", ***" in stderr
    for call in ("pktcap_session_new", "pktcap_session_set_target", "pktcap_session_set_filter",
                 "pktcap_session_set_packet_limit", "pktcap_session_start",
                 "pktcap_session_wait"):
        assert call in stderr, call
    assert "session state -> RUNNING" in stderr and "session state -> COMPLETE" in stderr


# --- failures ----------------------------------------------------------------------

def test_unknown_interface_lists_the_interfaces(cli):
    proc = cli("capture", "--target", "nosuchif0", check_status=1)
    err = proc.stderr.decode()
    assert 'no interface "nosuchif0"' in err and "lo" in err and "(PKTCAP_E_NOTFOUND)" in err
    assert proc.stdout == b""


def test_without_privileges_start_fails_with_perm(live, cli, tmp_path):
    """Root without capabilities (setpriv empties the bounding set, so CAP_NET_RAW
    is gone while the files stay readable, wherever the build tree is): the
    library's PKTCAP_E_PERM message."""
    setpriv = shutil.which("setpriv")
    assert setpriv, "setpriv (util-linux, part of every Debian system) is required"
    out = tmp_path / "never.pcapng"
    proc = subprocess.run([setpriv, "--bounding-set=-all", "--inh-caps=-all", cli.path,
                           "capture", "--target", "lo", "--duration", "0.1", "-w", str(out)],
                          capture_output=True)
    err = proc.stderr.decode()
    assert proc.returncode == 1, err
    assert err.startswith("pktcap: capture on lo: ") and "CAP_NET_RAW" in err
    assert err.rstrip().endswith("(PKTCAP_E_PERM)")
    assert list(tmp_path.iterdir()) == []


def test_unknown_provider_names_local(cli):
    proc = cli("capture", "--provider", "nosuch://host/x?token=SECRET", "--target", "lo",
               "--verbose", check_status=1)
    err = proc.stderr.decode()
    assert "local:" in err and "(PKTCAP_E_NOTSUP)" in err
    assert "SECRET" not in err and "token=***" in err


def test_bad_session_name_and_option_fail(cli):
    proc = cli("capture", "--target", "lo", "--name", "bad name", check_status=1)
    assert b"(PKTCAP_E_INVAL)" in proc.stderr
    proc = cli("capture", "--target", "lo", "--option", "nosuch=1", check_status=1)
    assert b"nosuch" in proc.stderr and b"(PKTCAP_E_INVAL)" in proc.stderr
    proc = cli("capture", "--target", "lo", "--filter", "proto=sctp", check_status=1)
    assert b"(PKTCAP_E_INVAL)" in proc.stderr


@pytest.mark.parametrize("args", [
    [],
    ["--filter", "proto=udp"],
    ["--target", "lo", "--filter", "proto=udp", "--bpf", "udp"],
    ["--target", "lo", "-w", "a.pcap", "--storage", "b.pcap"],
    ["--target", "lo", "--format", "json"],
    ["--target", "lo", "--summary", "--format", "xml"],
    ["--target", "lo", "--summary", "-w", "-"],
    ["--target", "lo", "--duration", "abc"],
    ["--target", "lo", "--duration", "0"],
    ["--target", "lo", "--duration", "-1"],
    ["--target", "lo", "--duration", "1e3"],
    ["--target", "lo", "--duration", "1.2.3"],
    ["--target", "lo", "--packets", "0"],
    ["--target", "lo", "--packets", "5X"],
    ["--target", "lo", "--bytes", "x"],
    ["--target", "lo", "--snaplen", "99999999999"],
    ["--target", "lo", "--option", "novalue"],
    ["--target", "lo", "extra"],
    ["--target", "lo", "--no-such-option"],
    ["--target"],
])
def test_capture_usage_errors(cli, args):
    proc = cli("capture", *args, check_status=2)
    assert b"Run 'pktcap help capture'" in proc.stderr
    assert proc.stdout == b""


@pytest.mark.parametrize("args", [
    ["sessions", "extra"],
    ["sessions", "-w", "x"],
    ["status"],
    ["status", "a", "b"],
    ["stop"],
    ["delete", "--wait", "x"],
    ["stop", "--storage", "b", "x"],
    ["fetch", "x"],
    ["fetch", "x", "-w", "a", "--storage", "b"],
    ["interfaces", "x"],
    ["interfaces", "--nope"],
])
def test_session_command_usage_errors(cli, args):
    proc = cli(*args, check_status=2)
    assert b"Run 'pktcap help" in proc.stderr


# --- interfaces and sessions -----------------------------------------------------------

def test_interfaces_lists_loopback(cli):
    text = cli("interfaces", check_status=0).stdout.decode().splitlines()
    assert text[0].split() == ["NAME", "FLAGS", "DESCRIPTION"]
    lo = [line.split() for line in text[1:] if line.split()[0] == "lo"]
    assert lo and "loopback" in lo[0][1].split(",")
    listed = json.loads(cli("interfaces", "--json", "--provider", "local:",
                            check_status=0).stdout)
    names = [t["name"] for t in listed]
    assert "lo" in names and "any" in names
    lo = listed[names.index("lo")]
    assert "loopback" in lo["flags"] and isinstance(lo["description"], str)


def test_local_sessions_list_is_empty(cli):
    assert json.loads(cli("sessions", "--provider", "local:", "--json",
                          check_status=0).stdout) == []
    text = cli("sessions", check_status=0).stdout.decode().splitlines()
    assert len(text) == 1 and text[0].split() == ["NAME", "ID", "STATE", "STATUS"]


@pytest.mark.parametrize("args", [
    ["status", "cap1"],
    ["status", "--json", "cap1"],
    ["stop", "cap1"],
    ["stop", "--wait", "cap1"],
    ["delete", "cap1"],
    ["fetch", "cap1", "-w", "out.pcapng"],
])
def test_local_session_commands_are_not_supported(cli, tmp_path, args):
    args = [str(tmp_path / a) if a == "out.pcapng" else a for a in args]
    proc = cli(*args, "--provider", "local:", check_status=1)
    err = proc.stderr.decode()
    assert err.startswith('pktcap: session "cap1": the local provider cannot open sessions')
    assert err.rstrip().endswith("(PKTCAP_E_NOTSUP)")
    assert proc.stdout == b""
    assert not (tmp_path / "out.pcapng").exists()


def test_help_lists_the_new_commands(cli):
    overview = cli("help", check_status=0).stdout.decode()
    for name in ("capture", "interfaces", "sessions", "status", "stop", "delete", "fetch"):
        assert re.search(rf"^  {name} ", overview, re.M), name
        usage = cli("help", name, check_status=0).stdout.decode()
        assert usage.startswith(f"usage: pktcap {name}")
        assert cli(name, "--help", check_status=0).stdout.decode() == usage
