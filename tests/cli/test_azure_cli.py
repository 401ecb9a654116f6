"""pktcap capture / sessions / status / stop / fetch / delete on an Azure
Network Watcher, against the emulator (tests/emulators) running in this
process. Credentials come from the environment, as they would for a user."""
import json
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
