"""pktcap capture / sessions / status / stop / fetch / delete on an Azure
Network Watcher, against the emulator (tests/emulators) running in this
process. Credentials come from the environment, as they would for a user."""
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "emulators"))
from azure import AzureEmulator  # noqa: E402

CORPUS = Path(__file__).resolve().parents[1] / "corpus" / "tcpdump"


@pytest.fixture
def blob(cli, tmp_path):
    """The capture the emulator serves: a corpus file rewritten by our writer."""
    out = tmp_path / "blob.pcap"
    cli("convert", "--format", "pcap", CORPUS / "dns_tcp.pcap", out, check_status=0)
    return out.read_bytes()


@pytest.fixture
def emu(blob, monkeypatch):
    with AzureEmulator(time_scale=0.01, lro_retry_after="0", capture_bytes=blob) as e:
        monkeypatch.setenv("AZURE_TENANT_ID", e.tenant)
        monkeypatch.setenv("AZURE_CLIENT_ID", e.client_id)
        monkeypatch.setenv("AZURE_CLIENT_SECRET", e.client_secret)
        monkeypatch.setenv("AZURE_AUTHORITY_HOST", e.authority)
        yield e
        assert e.errors == []


def provider_uri(emu):
    return (f"{emu.arm_uri()}?endpoint={emu.base_url}&blob_endpoint={emu.base_url}/blob/"
            "&poll_interval_ms=20&retry_base_ms=10")


def vm(emu):
    return (f"/subscriptions/{emu.subscription}/resourceGroups/rg1/providers/"
            "Microsoft.Compute/virtualMachines/vm1")


def account(emu):
    return (f"/subscriptions/{emu.subscription}/resourceGroups/rg1/providers/"
            "Microsoft.Storage/storageAccounts/acct1")


def test_capture_waits_fetches_and_the_file_is_valid(cli, emu, blob, tmp_path):
    out = tmp_path / "vm1.pcap"
    proc = cli("capture", "--provider", provider_uri(emu), "--name", "web", "--target", vm(emu),
               "--duration", "60", "--filter", "proto=tcp remote_port=53",
               "--storage", account(emu), "--fetch", out, check_status=0)
    err = proc.stderr.decode()
    assert 'pktcap: capturing on ' + vm(emu) + ' (session "web")' in err
    assert f"fetched to   {out}" in err
    assert out.read_bytes() == blob
    capinfos = shutil.which("capinfos")
    assert capinfos, "capinfos (tshark) is needed to judge the fetched file"
    assert subprocess.run([capinfos, str(out)], capture_output=True, timeout=60).returncode == 0
    props = emu.requests(route="create")[0].json()["properties"]
    assert props["filters"] == [{"protocol": "TCP", "remotePort": "53"}]
    assert props["timeLimitInSeconds"] == 60


def test_a_session_outlives_the_command_then_status_stop_fetch_delete(cli, emu, blob, tmp_path):
    uri = provider_uri(emu)
    proc = cli("capture", "--provider", uri, "--name", "bg", "--target", vm(emu),
               "--storage", account(emu), check_status=0)
    assert proc.stdout.decode().strip() == emu.watcher_path + "/packetCaptures/bg"
    listed = json.loads(cli("sessions", "--provider", uri, "--json", check_status=0).stdout)
    assert [(x["name"], x["id"]) for x in listed] == [("bg", emu.watcher_path + "/packetCaptures/bg")]
    status = json.loads(cli("status", "--provider", uri, "--json", "bg", check_status=0).stdout)
    assert status["provider"] == "azure" and status["name"] == "bg"
    assert status["native"]["resource"]["properties"]["target"] == vm(emu)
    assert status["state"] in ("PENDING", "RUNNING")
    cli("stop", "--provider", uri, "--wait", "bg", check_status=0)
    text = cli("status", "--provider", uri, "bg", check_status=0).stdout.decode()
    assert "state          STOPPED" in text and "stop reason    Manual" in text
    out = tmp_path / "bg.pcap"
    cli("fetch", "--provider", uri, "bg", "-w", out, check_status=0)
    assert out.read_bytes() == blob
    cli("delete", "--provider", uri, "bg", check_status=0)
    assert emu.capture("bg") is None
    proc = cli("status", "--provider", uri, "bg", check_status=1)
    assert b"PKTCAP_E_NOTFOUND" in proc.stderr


def test_verbose_shows_requests_but_no_secret(cli, emu, tmp_path):
    proc = cli("capture", "-v", "-v", "--provider", provider_uri(emu), "--target", vm(emu),
               "--duration", "10", "--storage", account(emu), "--fetch", tmp_path / "x.pcap",
               check_status=0)
    err = proc.stderr.decode()
    assert "[info] > PUT " in err and "[debug]" in err
    assert emu.client_secret not in err
    with emu.lock:
        tokens = list(emu._tokens)
    assert tokens and not any(t in err for t in tokens)


def test_a_wrong_secret_fails_with_the_service_text(cli, emu, monkeypatch):
    monkeypatch.setenv("AZURE_CLIENT_SECRET", "not-the-secret")
    proc = cli("capture", "--provider", provider_uri(emu), "--target", vm(emu),
               "--storage", account(emu), check_status=1)
    err = proc.stderr.decode()
    assert "AADSTS7000215" in err and "PKTCAP_E_AUTH" in err
    assert "not-the-secret" not in err


def test_an_invalid_setting_is_refused_before_any_request(cli, emu):
    proc = cli("capture", "--provider", provider_uri(emu), "--target", vm(emu),
               "--duration", "18001", "--storage", account(emu), check_status=1)
    assert b"timeLimitInSeconds" in proc.stderr
    assert emu.requests(route="create") == []


STATS_UNKNOWN = {"packets": None, "bytes": None, "wire_bytes": None, "dropped": None,
                 "if_dropped": None}


def test_statistics_azure_does_not_report_read_unknown_not_zero(cli, emu, tmp_path):
    uri = provider_uri(emu)
    proc = cli("capture", "--provider", uri, "--name", "u", "--target", vm(emu), "--duration",
               "30", "--storage", account(emu), "--wait", check_status=0)
    err = proc.stderr.decode()
    for line in ("  packets      unknown\n", "  bytes        unknown\n",
                 "  dropped      unknown\n", "  if-dropped   unknown\n"):
        assert line in err, err
    assert re.search(r"  elapsed      \d+\.\d{3} s\n", err), err
    text = cli("status", "--provider", uri, "u", check_status=0).stdout.decode()
    for label in ("packets", "bytes", "wire bytes", "dropped", "if-dropped"):
        assert f"{label:<14} unknown\n" in text, text
    status = json.loads(cli("status", "--provider", uri, "--json", "u", check_status=0).stdout)
    assert {k: v for k, v in status["stats"].items() if k != "elapsed_ms"} == STATS_UNKNOWN


def test_capture_json_reports_the_session_and_the_fetched_file(cli, emu, blob, tmp_path):
    out = tmp_path / "j.pcap"
    proc = cli("capture", "--provider", provider_uri(emu), "--name", "j", "--target", vm(emu),
               "--duration", "30", "--storage", account(emu), "--fetch", out, "--json",
               check_status=0)
    report = json.loads(proc.stdout)
    assert set(report) == {"session", "files", "fetched"}
    # files: where the capture was written, here the provider's storage account.
    assert report["files"] == [account(emu)] and report["fetched"] == [str(out)]
    session = report["session"]
    assert (session["provider"], session["name"], session["state"]) == ("azure", "j", "COMPLETE")
    assert session["stop_reason"] == "TimeExceeded"
    assert session["id"] == emu.watcher_path + "/packetCaptures/j"
    assert {k: v for k, v in session["stats"].items() if k != "elapsed_ms"} == STATS_UNKNOWN
    assert out.read_bytes() == blob


def test_capture_json_without_wait_prints_the_started_session(cli, emu):
    proc = cli("capture", "--provider", provider_uri(emu), "--name", "bgj", "--target", vm(emu),
               "--storage", account(emu), "--json", check_status=0)
    report = json.loads(proc.stdout)
    assert list(report) == ["session"]
    assert report["session"]["name"] == "bgj"
    assert report["session"]["state"] in ("PENDING", "RUNNING")


def wait_running(cli, uri, name):
    """Polls `status --json` until the session runs (the emulator provisions
    it for a scaled 20 ms first): a stop before that races the provisioning."""
    for _ in range(200):
        if json.loads(cli("status", "--provider", uri, "--json", name,
                          check_status=0).stdout)["state"] == "RUNNING":
            return
    raise AssertionError(f"session {name} never reached RUNNING")


def test_stop_delete_fetch_json(cli, emu, blob, tmp_path):
    uri = provider_uri(emu)
    cli("capture", "--provider", uri, "--name", "sj", "--target", vm(emu),
        "--storage", account(emu), check_status=0)
    wait_running(cli, uri, "sj")
    stopped = json.loads(cli("stop", "--provider", uri, "--wait", "--json", "sj",
                             check_status=0).stdout)
    assert (stopped["name"], stopped["state"], stopped["stop_reason"]) == ("sj", "STOPPED",
                                                                         "Manual")
    out = tmp_path / "sj.pcap"
    fetched = json.loads(cli("fetch", "--provider", uri, "--json", "sj", "-w", out,
                             check_status=0).stdout)
    assert fetched == {"name": "sj", "id": emu.watcher_path + "/packetCaptures/sj",
                       "files": [str(out)]}
    assert out.read_bytes() == blob
    deleted = json.loads(cli("delete", "--provider", uri, "--json", "sj", check_status=0).stdout)
    assert deleted == {"name": "sj", "id": emu.watcher_path + "/packetCaptures/sj",
                       "deleted": True}
    assert emu.capture("sj") is None


def test_json_and_a_capture_on_standard_output_are_refused(cli, emu):
    proc = cli("fetch", "--provider", provider_uri(emu), "--json", "x", "-w", "-", check_status=2)
    assert proc.stderr.startswith(b"pktcap fetch: --json and a capture on standard output "
                                  b"('-w -') both write to standard output\n")
    proc = cli("capture", "--target", "lo", "--json", "--summary", check_status=2)
    assert proc.stderr.startswith(b"pktcap capture: --json and --summary both write to "
                                  b"standard output\n")
    assert emu.requests() == []


def run_on_a_terminal(argv, timeout=60):
    """Runs argv with stderr on a pseudo-terminal; returns (status, stderr text)."""
    import os
    import pty
    import select
    master, slave = pty.openpty()
    try:
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=slave, stdin=subprocess.DEVNULL)
    finally:
        os.close(slave)
    chunks = []
    while True:
        ready, _, _ = select.select([master], [], [], timeout)
        assert ready, "no output from the command within the timeout"
        try:
            data = os.read(master, 65536)
        except OSError:   # EIO: the other side is closed
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    proc.stdout.read()
    return proc.wait(timeout=timeout), b"".join(chunks).decode()


def test_waits_show_a_status_line_on_a_terminal_only(cli, emu, tmp_path):
    # The emulator keeps a capture NotStarted for a while, then Running: the
    # status line names the state and the provider's status as they change,
    # and counts no packets (Azure reports none).
    uri = provider_uri(emu)
    # 300 s at the emulator's time scale 0.01: 3 s, a dozen redraws.
    status, err = run_on_a_terminal([cli.path, "capture", "--provider", uri, "--name", "tty",
                                     "--target", vm(emu), "--duration", "300",
                                     "--storage", account(emu), "--wait"])
    assert status == 0, err
    lines = [x for x in err.replace("\r\n", "\n").split("\r") if x.startswith(vm(emu) + ": ")]
    assert lines, err
    states = {x.split(": ", 1)[1].split(" ", 1)[0].rstrip(",") for x in lines}
    assert "RUNNING" in states, lines
    assert all(" packets" not in x for x in lines), lines
    assert any("(Running)" in x for x in lines), lines
    assert "\033[K" in err
    # Not a terminal: no status line at all.
    proc = cli("capture", "--provider", uri, "--name", "pipe", "--target", vm(emu),
               "--duration", "60", "--storage", account(emu), "--wait", check_status=0)
    assert b"\r" not in proc.stderr
    # stop --wait on a terminal: it erases its status line and says how it ended.
    cli("capture", "--provider", uri, "--name", "tty2", "--target", vm(emu),
        "--storage", account(emu), check_status=0)
    wait_running(cli, uri, "tty2")
    status, err = run_on_a_terminal([cli.path, "stop", "--provider", uri, "--wait", "tty2"])
    assert status == 0, err
    assert 'pktcap: session "tty2" is STOPPED' in err
