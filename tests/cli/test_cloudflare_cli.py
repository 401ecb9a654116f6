"""pktcap capture / sessions / status / stop / fetch and pktcap cloudflare
ownership on Cloudflare Magic Transit, against the emulator (tests/emulators)
running in this process. Credentials come from the environment, as they
would for a user."""
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "emulators"))
from cloudflare import CloudflareEmulator  # noqa: E402

CORPUS = Path(__file__).resolve().parents[1] / "corpus" / "tcpdump"
BUCKET = "s3://pcaps-bucket/edge?region=us-east-1"


@pytest.fixture
def capture(cli, tmp_path):
    """The capture the emulator serves: a corpus file rewritten by our writer."""
    out = tmp_path / "served.pcap"
    cli("convert", "--format", "pcap", CORPUS / "dns_tcp.pcap", out, check_status=0)
    return out.read_bytes()


@pytest.fixture
def emu(capture, monkeypatch):
    with CloudflareEmulator(time_scale=0.01, capture_bytes=capture) as e:
        for name in ("CLOUDFLARE_EMAIL", "CLOUDFLARE_API_KEY", "CLOUDFLARE_ACCOUNT_ID"):
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("CLOUDFLARE_API_TOKEN", e.api_token)
        yield e
        assert e.errors == []


def provider_uri(emu):
    return f"{emu.provider_uri()}?endpoint={emu.endpoint}&poll_interval_ms=20&retry_base_ms=10"


def capinfos_ok(path):
    capinfos = shutil.which("capinfos")
    assert capinfos, "capinfos (tshark) is needed to judge the fetched file"
    env = {k: v for k, v in os.environ.items() if k not in ("LD_PRELOAD", "ASAN_OPTIONS")}
    return subprocess.run([capinfos, str(path)], capture_output=True, env=env,
                          timeout=60).returncode == 0


def test_capture_waits_fetches_and_the_file_is_valid(cli, emu, capture, tmp_path):
    out = tmp_path / "edge.pcap"
    proc = cli("capture", "--provider", provider_uri(emu), "--name", "edge",
               "--target", "magic-transit", "--packets", "100", "--duration", "10",
               "--filter", "proto=udp local=192.0.2.1 remote_port=53", "--fetch", out,
               check_status=0)
    err = proc.stderr.decode()
    assert 'pktcap: capture "edge" on magic-transit ended: COMPLETE' in err
    assert f"fetched to   {out}" in err
    assert out.read_bytes() == capture
    assert capinfos_ok(out)
    assert emu.requests(route="create")[0].json() == {
        "type": "simple", "system": "magic-transit", "time_limit": 10, "packet_limit": 100,
        "filter_v1": {"destination_address": "192.0.2.1", "protocol": 17, "source_port": 53}}


def test_ownership_then_a_full_capture_to_the_bucket(cli, emu):
    uri = provider_uri(emu)
    proc = cli("cloudflare", "ownership", "add", BUCKET, "--provider", uri, check_status=0)
    text = proc.stdout.decode()
    fields = dict(re.findall(r"^(\w+) +(.*)$", text, re.M))
    assert fields["destination"] == BUCKET and fields["status"] == "pending"
    assert re.fullmatch(r"ownership-challenge-[0-9a-f]{8}\.txt", fields["filename"])
    assert fields["challenge"] == emu.bucket_objects[BUCKET][fields["filename"]].decode()
    err = proc.stderr.decode()
    assert f"as {fields['filename']}" in err
    assert f"pktcap cloudflare ownership validate '{BUCKET}' {fields['challenge']}" in err

    proc = cli("cloudflare", "ownership", "validate", BUCKET, fields["challenge"],
               "--provider", uri, check_status=0)
    assert re.search(r"^status +success$", proc.stdout.decode(), re.M)
    listed = json.loads(cli("cloudflare", "ownership", "list", "--json", "--provider", uri,
                            check_status=0).stdout)
    assert [(o["id"], o["status"], o["destination_conf"]) for o in listed] == \
        [(fields["id"], "success", BUCKET)]
    table = cli("cloudflare", "ownership", "list", "--provider", uri, check_status=0).stdout
    lines = table.decode().splitlines()
    assert lines[0].split() == ["ID", "STATUS", "SUBMITTED", "DESTINATION"]
    assert lines[1].split()[0:2] == [fields["id"], "success"] and lines[1].endswith(BUCKET)

    proc = cli("capture", "--provider", uri, "--name", "full1", "--target", "magic-transit",
               "--duration", "30", "--bytes", "1M", "--option", "type=full",
               "--option", "colo_name=ord02", "--storage", BUCKET, "--wait", check_status=0)
    assert 'pktcap: capture "full1" on magic-transit ended: COMPLETE' in proc.stderr.decode()
    create = emu.requests(route="create")[0].json()
    assert create == {"type": "full", "system": "magic-transit", "time_limit": 30,
                      "byte_limit": 1000000, "colo_name": "ord02", "destination_conf": BUCKET}
    objects = [k for k in emu.bucket_objects[BUCKET] if k.startswith("pcap_")]
    assert len(objects) == 1

    proc = cli("cloudflare", "ownership", "delete", fields["id"], "--provider", uri,
               check_status=0)
    assert proc.stdout.decode() == f"deleted ownership {fields['id']}\n"
    assert cli("cloudflare", "ownership", "list", "--json", "--provider", uri,
               check_status=0).stdout == b"[]\n"


def test_ownership_takes_the_account_from_the_environment_and_reports_refusals(
        cli, emu, monkeypatch):
    monkeypatch.setenv("CLOUDFLARE_ACCOUNT_ID", emu.account_id)
    # Without --provider the provider is Cloudflare's real endpoint: without
    # credentials nothing is sent, and -v shows the URI built from the variable.
    monkeypatch.delenv("CLOUDFLARE_API_TOKEN")
    proc = cli("cloudflare", "ownership", "list", "-v", "--json", check_status=1)
    err = proc.stderr.decode()
    assert f'pktcap_provider_open("cloudflare://accounts/{emu.account_id}") -> 0' in err
    assert "no credentials" in err and "PKTCAP_E_AUTH" in err
    monkeypatch.setenv("CLOUDFLARE_API_TOKEN", emu.api_token)
    uri = provider_uri(emu)
    added = json.loads(cli("cloudflare", "ownership", "add", "--json", "gs://pcaps-bucket/x",
                           "--provider", uri, check_status=0).stdout)
    assert added["destination_conf"] == "gs://pcaps-bucket/x"
    proc = cli("cloudflare", "ownership", "validate", "gs://pcaps-bucket/x", "wrong",
               "--provider", uri, check_status=1)
    err = proc.stderr.decode()
    assert err.startswith("pktcap: cloudflare ownership validate: validate bucket ownership of "
                          "gs://pcaps-bucket/x: HTTP 400 Bad Request: 1021: ")
    assert err.rstrip().endswith("(PKTCAP_E_INVAL)")
    proc = cli("cloudflare", "ownership", "add", "https://example.com/b", "--provider", uri,
               check_status=1)
    assert b"Cloudflare writes full captures to a bucket" in proc.stderr
    assert len(emu.requests(route="ownership_add")) == 1   # the https one never left


@pytest.mark.parametrize("args,message", [
    ([], "expected 'ownership list|add|validate|delete'"),
    (["ownership"], "expected 'ownership list|add|validate|delete'"),
    (["buckets", "list"], "unknown subcommand 'buckets' (ownership)"),
    (["ownership", "show"], "unknown subcommand 'ownership show'"),
    (["ownership", "add"], "'ownership add' takes DESTINATION; an argument is missing"),
    (["ownership", "validate", BUCKET], "'ownership validate' takes DESTINATION CHALLENGE"),
    (["ownership", "list", "extra"], "'ownership list' takes no argument; too many arguments"),
    (["ownership", "list", "--colour"], "unknown option '--colour'"),
    (["ownership", "list"], "--provider cloudflare://accounts/ACCOUNT_ID is required "
                            "(or set CLOUDFLARE_ACCOUNT_ID)"),
    (["ownership", "list", "--provider", "local:"], "--provider must be a cloudflare:// URI"),
])
def test_ownership_usage_errors(cli, emu, args, message):
    proc = cli("cloudflare", *args, check_status=2)
    assert proc.stdout == b""
    assert proc.stderr.decode().startswith(f"pktcap cloudflare: {message}")
    assert emu.requests() == []


def test_help_lists_the_cloudflare_command(cli):
    text = cli("help", check_status=0).stdout.decode()
    assert re.search(r"^  cloudflare +Cloudflare Magic Transit", text, re.M)
    usage = cli("cloudflare", "--help", check_status=0).stdout.decode()
    assert usage.startswith("usage: pktcap cloudflare ownership list")


def test_a_session_outlives_the_command_then_sessions_status_stop_fetch(cli, emu, capture,
                                                                       tmp_path):
    uri = provider_uri(emu)
    proc = cli("capture", "--provider", uri, "--target", "magic-transit", "--duration", "300",
               check_status=0)
    pcap_id = proc.stdout.decode().strip()
    assert re.fullmatch(r"[0-9a-f]{32}", pcap_id)
    listed = json.loads(cli("sessions", "--provider", uri, "--json", check_status=0).stdout)
    assert [(x["name"], x["id"]) for x in listed] == [(pcap_id, pcap_id)]
    assert listed[0]["state"] in ("PENDING", "RUNNING")
    status = json.loads(cli("status", "--provider", uri, "--json", pcap_id,
                            check_status=0).stdout)
    assert status["provider"] == "cloudflare" and status["id"] == pcap_id
    assert status["native"]["result"]["type"] == "simple"
    assert status["native"]["result"]["time_limit"] == 300
    cli("stop", "--provider", uri, "--wait", pcap_id, check_status=0)
    text = cli("status", "--provider", uri, pcap_id, check_status=0).stdout.decode()
    assert "state          STOPPED" in text and "stop reason    stopped" in text
    assert "native status  success" in text
    out = tmp_path / "bg.pcap"
    cli("fetch", "--provider", uri, pcap_id, "-w", out, check_status=0)
    assert out.read_bytes() == capture
    proc = cli("delete", "--provider", uri, pcap_id, check_status=1)
    assert b"PKTCAP_E_NOTSUP" in proc.stderr
    proc = cli("status", "--provider", uri, "0" * 32, check_status=1)
    assert b"PKTCAP_E_NOTFOUND" in proc.stderr


def test_verbose_shows_requests_but_no_secret(cli, emu, tmp_path):
    proc = cli("capture", "-v", "-v", "--provider", provider_uri(emu), "--target",
               "magic-transit", "--duration", "10", "--fetch", tmp_path / "x.pcap",
               check_status=0)
    err = proc.stderr.decode()
    assert "[info] > POST " in err and "[debug]" in err and "Authorization: ***" in err
    assert emu.api_token not in err


def test_the_global_api_key_from_the_environment(cli, emu, monkeypatch, tmp_path):
    monkeypatch.delenv("CLOUDFLARE_API_TOKEN")
    monkeypatch.setenv("CLOUDFLARE_EMAIL", emu.email)
    monkeypatch.setenv("CLOUDFLARE_API_KEY", emu.api_key)
    proc = cli("capture", "-v", "-v", "--provider", provider_uri(emu), "--target",
               "magic-transit", "--duration", "10", "--fetch", tmp_path / "x.pcap",
               check_status=0)
    assert "X-Auth-Key: ***" in proc.stderr.decode() and emu.api_key not in proc.stderr.decode()
    assert emu.requests(route="create")[0].headers["X-Auth-Key"] == emu.api_key


def test_a_wrong_token_fails_with_cloudflares_text(cli, emu, monkeypatch):
    monkeypatch.setenv("CLOUDFLARE_API_TOKEN", "not-the-token")
    proc = cli("capture", "--provider", provider_uri(emu), "--target", "magic-transit",
               check_status=1)
    err = proc.stderr.decode()
    assert "HTTP 403 Forbidden: 10000: Authentication error" in err and "PKTCAP_E_AUTH" in err
    assert "not-the-token" not in err


def test_no_credentials_say_what_to_set(cli, emu, monkeypatch):
    monkeypatch.delenv("CLOUDFLARE_API_TOKEN")
    proc = cli("sessions", "--provider", provider_uri(emu), check_status=1)
    assert b"set the api_token option (or CLOUDFLARE_API_TOKEN)" in proc.stderr
    assert emu.requests() == []


@pytest.mark.parametrize("args,fragment", [
    (["--duration", "301"], b"above Cloudflare's maximum for time_limit of a simple capture"),
    (["--packets", "10001"], b"packet_limit (10000)"),
    (["--bytes", "1000"], b"byte_limit) applies to full captures only"),
    (["--storage", BUCKET], b"a simple capture has no storage target"),
    (["--option", "type=full", "--duration", "60", "--storage", BUCKET], b"needs colo_name"),
    (["--filter", "remote_port=80;443"], b"holds one value per field"),
    (["--snaplen", "100"], b"PKTCAP_E_NOTSUP"),
])
def test_an_invalid_setting_is_refused_before_any_request(cli, emu, args, fragment):
    proc = cli("capture", "--provider", provider_uri(emu), "--target", "magic-transit", *args,
               check_status=1)
    assert fragment in proc.stderr
    assert emu.requests() == []


def test_the_target_is_the_system(cli, emu):
    proc = cli("capture", "--provider", provider_uri(emu), "--target", "eth0",
               "--duration", "10", check_status=1)
    assert b"a Cloudflare target is the system that captures: magic-transit" in proc.stderr
    assert emu.requests() == []
