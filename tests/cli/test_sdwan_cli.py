"""pktcap capture on a Citrix SD-WAN appliance, against the emulator
(tests/emulators/sdwan.py) running in this process: the summary table in each
format, --fetch, and errors. The appliance serves a corpus file rewritten by
`pktcap convert`, and answers with our own decoder's rows of that file
(`pktcap summary --format json`) in its all-strings shape, so the table
printed must be what `pktcap summary` prints for the fetched file.
Credentials come from the environment, as they would for a user."""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "emulators"))
from sdwan import SUMMARY_FIELDS, SdwanEmulator  # noqa: E402

CORPUS = Path(__file__).resolve().parents[1] / "corpus" / "tcpdump"
TIMEOUT = 120   # seconds for any one command: each should take well under one


def run(cli, *args, check_status=None):
    proc = subprocess.run([cli.path, *map(str, args)], capture_output=True, timeout=TIMEOUT)
    if check_status is not None:
        assert proc.returncode == check_status, (proc.returncode, proc.stdout, proc.stderr)
    return proc


@pytest.fixture
def capture(cli, tmp_path):
    """A UDP-only corpus file (RADIUS) as pcapng, written by our writer."""
    out = tmp_path / "appliance.pcapng"
    run(cli, "convert", CORPUS / "RADIUS.pcap", out, check_status=0)
    return out


def sdwan_rows(cli, path):
    """Our decoder's rows of `path`, as the appliance sends them: the ten
    fields, every value a string (absent ones empty), its time as
    "YYYY-MM-DD HH:MM:SS.frac"."""
    rows = []
    for line in run(cli, "summary", "--format", "json", path, check_status=0).stdout.splitlines():
        record = json.loads(line)
        row = {k: "" if record[k] is None else str(record[k]) for k in SUMMARY_FIELDS}
        row["time"] = row["time"].replace("T", " ").rstrip("Z")
        rows.append(row)
    return rows


@pytest.fixture
def emu(cli, capture, monkeypatch):
    with SdwanEmulator(time_scale=0.01, capture_bytes=capture.read_bytes(),
                       summary_rows=sdwan_rows(cli, capture)) as e:
        monkeypatch.setenv("PKTCAP_SDWAN_USER", e.username)
        monkeypatch.setenv("PKTCAP_SDWAN_PASSWORD", e.password)
        yield e
        assert e.errors == []


def test_the_summary_table_is_what_pktcap_summary_prints(cli, emu, capture):
    proc = run(cli, "capture", "--provider", emu.provider_uri(), "--name", "wan",
               "--target", "MGMT--1", "--duration", "5", "--packets", "1000",
               "--filter", "proto=udp", "--summary", check_status=0)
    want = run(cli, "summary", capture, check_status=0).stdout
    assert proc.stdout == want
    assert len(want.splitlines()) == len(emu.summary_rows) > 3
    err = proc.stderr.decode()
    assert 'pktcap: capturing on MGMT--1 (session "wan")' in err
    assert 'capture "wan" on MGMT--1 ended: COMPLETE (time limit)' in err
    assert "  packets      %d\n" % len(emu.summary_rows) in err
    assert emu.captures == [{"packet_capture": {"interface": "MGMT--1", "duration": 5,
                                                "filter_str": "udp", "max_packets": 1000}}]
    assert emu.logins == 1 and emu.logouts == 1


def test_csv_and_json_tables_carry_the_appliances_fields(cli, emu, capture):
    csv = run(cli, "capture", "--provider", emu.provider_uri(), "--target", "MGMT",
              "--duration", "10", "--summary", "--format", "csv", check_status=0).stdout
    want = run(cli, "summary", "--format", "csv", capture, check_status=0).stdout
    got_lines, want_lines = csv.decode().splitlines(), want.decode().splitlines()
    assert got_lines[0] == want_lines[0]            # the header, once, first
    assert got_lines[0].startswith(",".join(SUMMARY_FIELDS) + ",")
    assert len(got_lines) == len(want_lines)
    for got, expected in zip(got_lines[1:], want_lines[1:]):
        assert got.split(",")[:10] == expected.split(",")[:10]
    out = run(cli, "capture", "--provider", emu.provider_uri(), "--target", "MGMT",
              "--duration", "15", "--summary", "--format", "json", check_status=0).stdout
    want = run(cli, "summary", "--format", "json", capture, check_status=0).stdout
    for got, expected in zip(out.splitlines(), want.splitlines(), strict=True):
        got, expected = json.loads(got), json.loads(expected)
        assert {k: got[k] for k in SUMMARY_FIELDS} == {k: expected[k] for k in SUMMARY_FIELDS}


def test_fetch_brings_the_file_and_capinfos_accepts_it(cli, emu, capture, tmp_path):
    out = tmp_path / "wan.pcapng"
    proc = run(cli, "capture", "--provider", emu.provider_uri(), "--target", "MGMT",
               "--duration", "30", "--fetch", out, check_status=0)
    assert proc.stdout == b""                       # no --summary: no table
    assert f"fetched to   {out}" in proc.stderr.decode()
    assert out.read_bytes() == capture.read_bytes()
    capinfos = shutil.which("capinfos")
    assert capinfos, "capinfos (tshark) is needed to judge the fetched file"
    env = {k: v for k, v in os.environ.items() if k not in ("LD_PRELOAD", "ASAN_OPTIONS")}
    info = subprocess.run([capinfos, "-c", str(out)], capture_output=True, text=True, env=env,
                          timeout=60)
    assert info.returncode == 0, info.stderr
    assert "Number of packets:   %d" % len(emu.summary_rows) in info.stdout
    assert emu.captures[0]["packet_capture"]["max_packets"] == "MAX"


def test_summary_and_fetch_together(cli, emu, capture, tmp_path):
    out = tmp_path / "both.pcapng"
    proc = run(cli, "capture", "--provider", emu.provider_uri(), "--target", "MGMT",
               "--duration", "5", "--summary", "--fetch", out, check_status=0)
    assert proc.stdout == run(cli, "summary", out, check_status=0).stdout


@pytest.mark.parametrize("args,fragment", [
    (["--duration", "7"], "time limit 7000 ms is not an SD-WAN capture duration: 5, 10, 15 or 30 s"),
    ([], "needs a duration of 5, 10, 15 or 30 s"),
    (["--duration", "5", "--packets", "100"], "1000, 2000 or 5000"),
    (["--duration", "5", "--snaplen", "96"], "does not support a snapshot length"),
    (["--duration", "5", "-w", "x.pcapng"], "fetch it when the session has ended"),
])
def test_invalid_settings_are_refused_before_any_request(cli, emu, tmp_path, monkeypatch, args,
                                                         fragment):
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    proc = run(cli, "capture", "--provider", emu.provider_uri(), "--target", "MGMT", *args,
               check_status=1)
    assert fragment in proc.stderr.decode()
    assert emu.requests() == []
    assert os.listdir(work) == []


def test_a_bad_target_is_refused(cli, emu):
    proc = run(cli, "capture", "--provider", emu.provider_uri(), "--target", "MGMT,1",
               "--duration", "5", check_status=1)
    assert 'joined by "--"' in proc.stderr.decode() and b"--target" in proc.stderr
    assert emu.requests() == []


def test_a_wrong_password_fails_with_the_appliances_text(cli, emu, monkeypatch):
    monkeypatch.setenv("PKTCAP_SDWAN_PASSWORD", "not-the-password")
    proc = run(cli, "capture", "--provider", emu.provider_uri(), "--target", "MGMT",
               "--duration", "5", "--summary", check_status=1)
    err = proc.stderr.decode()
    assert "Invalid username or password" in err and "PKTCAP_E_AUTH" in err
    assert "not-the-password" not in err
    assert proc.stdout == b""
    assert emu.requests(route="capture") == []


def test_a_failed_capture_prints_no_table(cli, emu):
    emu.faults.fail(1, 403, route="capture", code=1234, message="not allowed on this appliance")
    proc = run(cli, "capture", "--provider", emu.provider_uri(), "--target", "MGMT",
               "--duration", "5", "--summary", "--format", "csv", check_status=1)
    assert proc.stdout == b""
    err = proc.stderr.decode()
    assert "ended: FAILED: " in err
    assert "HTTP 403 Forbidden: 1234: not allowed on this appliance" in err


def test_verbose_shows_requests_but_no_password_or_cookie(cli, emu):
    proc = run(cli, "capture", "-v", "-v", "--provider", emu.provider_uri(), "--target", "MGMT",
               "--duration", "5", "--summary", check_status=0)
    err = proc.stderr.decode()
    assert "[info] > POST " in err and "/sdwan/nitro/v2/diag/packet_capture" in err
    assert "[debug] < Set-Cookie: ***" in err
    assert "[info] sdwan: logged out of 127.0.0.1:" in err
    assert emu.password not in err
    with emu.lock:
        assert not emu._sessions                  # logged out at the end
    for cookie in err.split("Cookie")[1:]:
        assert cookie.startswith(": ***")
