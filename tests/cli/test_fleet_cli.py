"""pktcap fleet: one capture per target of a file, on one provider, driven
together by the group API, against the emulators (tests/emulators) running in
this process. Azure Network Watcher serves the fleets of several targets: a
Cloudflare account captures on one system only (magic-transit) and an SD-WAN
appliance runs one capture at a time, so those two serve one-target fleets
(and the file extensions they deliver). Credentials come from the
environment, as they would for a user."""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "emulators"))
from azure import AzureEmulator  # noqa: E402
from cloudflare import CloudflareEmulator  # noqa: E402
from sdwan import SdwanEmulator  # noqa: E402

CORPUS = Path(__file__).resolve().parents[1] / "corpus" / "tcpdump"
TIMEOUT = 120   # seconds for any one command: each should take a few
FAST_POLL = ["--poll-min-ms", "50", "--poll-max-ms", "200"]


def run(cli, *args, input=None, check_status=None):
    proc = subprocess.run([cli.path, *map(str, args)], input=input, capture_output=True,
                          timeout=TIMEOUT)
    if check_status is not None:
        assert proc.returncode == check_status, (proc.returncode, proc.stdout, proc.stderr)
    return proc


def capinfos_ok(path):
    capinfos = shutil.which("capinfos")
    assert capinfos, "capinfos (tshark) is needed to judge the fetched files"
    env = {k: v for k, v in os.environ.items() if k not in ("LD_PRELOAD", "ASAN_OPTIONS")}
    info = subprocess.run([capinfos, str(path)], capture_output=True, env=env, timeout=60)
    assert info.returncode == 0, info.stderr
    return True


@pytest.fixture
def served(cli, tmp_path):
    """The capture every emulator serves: a corpus file rewritten by our writer."""
    out = tmp_path / "served.pcap"
    run(cli, "convert", "--format", "pcap", CORPUS / "dns_tcp.pcap", out, check_status=0)
    return out.read_bytes()


@pytest.fixture
def azure(served, monkeypatch):
    with AzureEmulator(time_scale=0.01, lro_retry_after="0", capture_bytes=served) as e:
        monkeypatch.setenv("AZURE_TENANT_ID", e.tenant)
        monkeypatch.setenv("AZURE_CLIENT_ID", e.client_id)
        monkeypatch.setenv("AZURE_CLIENT_SECRET", e.client_secret)
        monkeypatch.setenv("AZURE_AUTHORITY_HOST", e.authority)
        yield e
        assert e.errors == []


def azure_uri(emu):
    return (f"{emu.arm_uri()}?endpoint={emu.base_url}&blob_endpoint={emu.base_url}/blob/"
            "&poll_interval_ms=20&retry_base_ms=10")


def vm(emu, name):
    return (f"/subscriptions/{emu.subscription}/resourceGroups/rg1/providers/"
            f"Microsoft.Compute/virtualMachines/{name}")


def storage_option(emu):
    return ("storage_id=/subscriptions/%s/resourceGroups/rg1/providers/"
            "Microsoft.Storage/storageAccounts/acct1" % emu.subscription)


def azure_fleet(emu, targets_file, *more):
    return ["fleet", "--provider", azure_uri(emu), "--targets", targets_file,
            "--option", storage_option(emu), "--duration", "1", *FAST_POLL, *more]


def test_six_vms_are_captured_fetched_and_reported(cli, azure, served, tmp_path):
    vms = [vm(azure, f"vm{i}") for i in range(1, 7)]
    targets = tmp_path / "vms.txt"
    # Comments, blank lines and blanks around a target are not targets.
    targets.write_text("# web tier\n\n  %s\t\n%s\n   \n# db tier\n%s\n" % (
        vms[0], "\n".join(vms[1:5]), vms[5]))
    fetch_dir = tmp_path / "caps" / "today"           # made, parents included
    report_dir = tmp_path / "reports"
    report_dir.mkdir()
    proc = run(cli, *azure_fleet(azure, targets, "--fetch-dir", fetch_dir, "--json",
                                 "--report", report_dir / "fleet.json"), check_status=0)
    report = json.loads(proc.stdout)
    assert report["sessions_total"] == 6
    assert report["states"] == {"NEW": 0, "PENDING": 0, "RUNNING": 0, "STOPPING": 0,
                                "PROCESSING": 0, "COMPLETE": 6, "STOPPED": 0, "FAILED": 0}
    assert (report["done"], report["failed"], report["fetched"], report["throttled"]) == \
        (6, 0, 6, 0)
    assert report["requests"] == sum(s["requests"] for s in report["sessions"])
    assert [(s["index"], s["name"], s["provider"], s["target"]) for s in report["sessions"]] == \
        [(i, f"fleet-{i + 1}", "azure", vms[i]) for i in range(6)]
    for s in report["sessions"]:
        assert (s["state"], s["done"], s["failed_op"], s["error"], s["message"], s["fetched"],
                s["bytes"]) == ("COMPLETE", True, None, None, None, True, len(served))
        assert s["id"] == azure.watcher_path + "/packetCaptures/" + s["name"]
    # Each capture fetched under its session's name, with Azure's extension.
    assert sorted(os.listdir(fetch_dir)) == sorted(f"fleet-{i}.cap" for i in range(1, 7))
    for i in range(1, 7):
        path = fetch_dir / f"fleet-{i}.cap"
        assert path.read_bytes() == served
        assert capinfos_ok(path)
    # The report file is what stdout got, and no temporary file is left.
    assert os.listdir(report_dir) == ["fleet.json"]
    assert json.loads((report_dir / "fleet.json").read_text()) == report
    creates = azure.requests(route="create")
    assert sorted(r.json()["properties"]["target"] for r in creates) == sorted(vms)
    for r in creates:
        props = r.json()["properties"]
        assert props["timeLimitInSeconds"] == 1
        assert props["storageLocation"]["storageId"].endswith("/storageAccounts/acct1")
    assert proc.stderr.decode().endswith(
        "pktcap fleet: 6 sessions: 6 COMPLETE; 0 failed; 6 fetched\n")


def test_refused_targets_fail_alone_and_the_others_are_fetched(cli, azure, served, tmp_path):
    # eth0 is no Azure target: refused before any request. The VM named
    # "agentless" has no capture agent: the emulator fails that capture.
    targets = tmp_path / "vms.txt"
    good1, agentless, good4 = vm(azure, "vm1"), vm(azure, "agentless"), vm(azure, "vm4")
    targets.write_text(f"{good1}\n{agentless}\neth0\n{good4}\n")
    fetch_dir = tmp_path / "caps"
    proc = run(cli, *azure_fleet(azure, targets, "--fetch-dir", fetch_dir,
                                 "--report", tmp_path / "report.json"), check_status=1)
    lines = proc.stdout.decode().splitlines()
    assert [line.split() for line in lines] == [
        ["NAME", "TARGET", "STATE", "RESULT", "FILE"],
        ["fleet-1", good1, "COMPLETE", "fetched", str(fetch_dir / "fleet-1.cap")],
        ["fleet-2", agentless, "FAILED", "failed", "-"],
        ["fleet-3", "eth0", "NEW", "failed", "-"],
        ["fleet-4", good4, "COMPLETE", "fetched", str(fetch_dir / "fleet-4.cap")],
    ]
    assert sorted(os.listdir(fetch_dir)) == ["fleet-1.cap", "fleet-4.cap"]
    for name in ("fleet-1.cap", "fleet-4.cap"):
        assert (fetch_dir / name).read_bytes() == served
    err = proc.stderr.decode()
    assert re.search(r"^pktcap fleet: fleet-2 on %s: poll: .*AgentStopped.* \(PKTCAP_E_REMOTE\)$"
                     % re.escape(agentless), err, re.M), err
    assert re.search(r"^pktcap fleet: fleet-3 on eth0: --target: .*\"eth0\".* "
                     r"\(PKTCAP_E_INVAL\)$", err, re.M), err
    assert err.endswith("pktcap fleet: 4 sessions: 2 COMPLETE, 1 FAILED; 2 failed; 2 fetched\n")
    report = json.loads((tmp_path / "report.json").read_text())
    assert (report["sessions_total"], report["done"], report["failed"], report["fetched"]) == \
        (4, 4, 2, 2)
    assert {k: v for k, v in report["states"].items() if v} == \
        {"NEW": 1, "COMPLETE": 2, "FAILED": 1}
    s = report["sessions"]
    assert [(x["name"], x["index"], x["state"], x["failed_op"], x["error"], x["fetched"])
            for x in s] == [
        ("fleet-1", 0, "COMPLETE", None, None, True),
        ("fleet-2", 1, "FAILED", "poll", "PKTCAP_E_REMOTE", False),
        ("fleet-3", None, "NEW", "configure", "PKTCAP_E_INVAL", False),
        ("fleet-4", 2, "COMPLETE", None, None, True),
    ]
    assert "AgentStopped" in s[1]["message"]
    assert "eth0" in s[2]["message"] and s[2]["requests"] == 0 and s[2]["target"] == "eth0"
    # eth0 never left this machine.
    assert len(azure.requests(route="create")) == 3


@pytest.fixture
def cloudflare(served, monkeypatch):
    with CloudflareEmulator(time_scale=0.01, capture_bytes=served) as e:
        for name in ("CLOUDFLARE_EMAIL", "CLOUDFLARE_API_KEY", "CLOUDFLARE_ACCOUNT_ID"):
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("CLOUDFLARE_API_TOKEN", e.api_token)
        yield e
        assert e.errors == []


def test_cloudflare_targets_from_standard_input_give_pcap_files(cli, cloudflare, served,
                                                                 tmp_path):
    uri = (f"{cloudflare.provider_uri()}?endpoint={cloudflare.endpoint}"
           "&poll_interval_ms=20&retry_base_ms=10")
    proc = run(cli, "fleet", "--provider", uri, "--targets", "-", "--name-prefix", "edge",
               "--duration", "1", "--packets", "100", "--filter", "proto=udp remote_port=53",
               "--fetch-dir", tmp_path, *FAST_POLL, input=b"# the one system\nmagic-transit\n",
               check_status=0)
    out = tmp_path / "edge-1.pcap"
    assert [line.split() for line in proc.stdout.decode().splitlines()] == [
        ["NAME", "TARGET", "STATE", "RESULT", "FILE"],
        ["edge-1", "magic-transit", "COMPLETE", "fetched", str(out)]]
    assert out.read_bytes() == served
    assert capinfos_ok(out)
    assert cloudflare.requests(route="create")[0].json() == {
        "type": "simple", "system": "magic-transit", "time_limit": 1, "packet_limit": 100,
        "filter_v1": {"protocol": 17, "source_port": 53}}


def test_an_sdwan_appliance_gives_pcapng_files(cli, tmp_path, monkeypatch):
    appliance = tmp_path / "appliance.pcapng"
    run(cli, "convert", CORPUS / "RADIUS.pcap", appliance, check_status=0)
    with SdwanEmulator(time_scale=0.01, capture_bytes=appliance.read_bytes()) as emu:
        monkeypatch.setenv("PKTCAP_SDWAN_USER", emu.username)
        monkeypatch.setenv("PKTCAP_SDWAN_PASSWORD", emu.password)
        targets = tmp_path / "interfaces.txt"
        targets.write_text("MGMT--1\n")
        proc = run(cli, "fleet", "--provider", emu.provider_uri(), "--targets", targets,
                   "--duration", "5", "--fetch-dir", tmp_path / "wan", "--json", *FAST_POLL,
                   check_status=0)
        assert emu.errors == []
        assert emu.captures == [{"packet_capture": {"interface": "MGMT--1", "duration": 5,
                                                    "filter_str": "", "max_packets": "MAX"}}]
    report = json.loads(proc.stdout)
    assert (report["sessions_total"], report["fetched"], report["failed"]) == (1, 1, 0)
    assert report["sessions"][0]["provider"] == "sdwan"
    out = tmp_path / "wan" / "fleet-1.pcapng"
    assert out.read_bytes() == appliance.read_bytes()
    assert capinfos_ok(out)


def test_without_fetch_dir_nothing_is_fetched(cli, azure, tmp_path):
    targets = tmp_path / "vms.txt"
    targets.write_text(vm(azure, "vm1") + "\n" + vm(azure, "vm2") + "\n")
    proc = run(cli, *azure_fleet(azure, targets), check_status=0)
    assert [line.split()[2:] for line in proc.stdout.decode().splitlines()[1:]] == \
        [["COMPLETE", "ended", "-"], ["COMPLETE", "ended", "-"]]
    assert len(azure.requests(route="create")) == 2
    assert azure.requests(route="blob") == []


def usage_cases(tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_text("# nothing yet\n\n   \n")
    twice = tmp_path / "twice.txt"
    twice.write_text("vm1\nvm2\n# again:\n  vm1 \nvm2\n")
    missing = tmp_path / "missing.txt"
    return [
        ([], "--targets FILE is required (one target per line; '-' reads standard input)"),
        (["--targets", empty], f"the targets file '{empty}' has no target (one per line; "
                               "blank lines and lines starting with '#' are ignored)"),
        (["--targets", "-"], "the targets file 'standard input' has no target (one per line; "
                             "blank lines and lines starting with '#' are ignored)"),
        (["--targets", twice], f"{twice}:4: target 'vm1' is already on line 1"),
        (["--targets", missing], f"cannot read the targets file '{missing}': "
                                 "No such file or directory"),
        (["--targets", tmp_path], f"cannot read the targets file '{tmp_path}': Is a directory"),
        (["--targets", twice, "--filter", "proto=tcp", "--bpf", "tcp"],
         "--filter and --bpf exclude each other"),
        (["--targets", twice, "--name-prefix", "a b"],
         "--name-prefix takes 1 to 64 letters, digits, '-', '_' or '.'; not 'a b'"),
        (["--targets", twice, "--duration", "soon"],
         "--duration takes seconds (e.g. 10, 0.5) or a number with ms, s, m or h, at least "
         "1 ms; not 'soon'"),
        (["--targets", twice, "--option", "storage_id"],
         "--option takes KEY=VALUE, not 'storage_id'"),
        (["--targets", twice, "--fetch-dir", ""], "--fetch-dir takes a path, not ''"),
        (["--targets", twice, "extra"], "unexpected argument 'extra'"),
        (["--targets", twice, "--colour"], "unknown option '--colour'"),
    ]


def test_usage_errors_exit_2_before_any_request(cli, azure, tmp_path):
    for args, message in usage_cases(tmp_path):
        proc = run(cli, "fleet", "--provider", azure_uri(azure), *args, input=b"",
                   check_status=2)
        assert proc.stdout == b""
        assert proc.stderr.decode() == (f"pktcap fleet: {message}\n"
                                        "Run 'pktcap help fleet' for usage.\n"), args
    proc = run(cli, "fleet", "--targets", tmp_path / "twice.txt", check_status=2)
    assert proc.stderr.startswith(b"pktcap fleet: --provider is required (the provider every "
                                  b"target is captured on)\n")
    assert azure.requests() == []


@pytest.mark.parametrize("args,message", [
    (["--max-requests", "0"],
     '--max-requests: group setting max_requests="0": expected a whole number from 1 to 4096'),
    (["--max-downloads", "many"],
     '--max-downloads: group setting max_downloads="many": expected a whole number from 1 '
     'to 1024'),
    (["--poll-min-ms", "2000", "--poll-max-ms", "1500"],
     '--poll-min-ms/--poll-max-ms: pktcap_group_start: poll_min_ms (2000) is above '
     'poll_max_ms (1500)'),
    (["--poll-min-ms", "40000"],
     '--poll-min-ms/--poll-max-ms: pktcap_group_start: poll_min_ms (40000) is above '
     'poll_max_ms (30000)'),
])
def test_group_settings_the_group_refuses_are_usage_errors(cli, tmp_path, args, message):
    targets = tmp_path / "t.txt"
    targets.write_text("lo\n")
    proc = run(cli, "fleet", "--provider", "local:", "--targets", targets, *args,
               check_status=2)
    assert proc.stderr.decode() == f"pktcap fleet: {message}\nRun 'pktcap help fleet' for usage.\n"


def test_poll_bounds_are_accepted_in_either_order_of_size(cli, azure, tmp_path):
    targets = tmp_path / "vms.txt"
    targets.write_text(vm(azure, "vm1") + "\n")
    # Both above the default maximum (30 s), and both below the default minimum (1 s).
    for bounds in (["--poll-min-ms", "40000", "--poll-max-ms", "50000"],
                   ["--poll-max-ms", "100", "--poll-min-ms", "20"]):
        slow = bounds[1] == "40000"
        proc = run(cli, "fleet", "--provider", azure_uri(azure), "--targets", targets,
                   "--option", storage_option(azure), "--name-prefix", f"p{bounds[1]}",
                   "--duration", "1", "--timeout", "1.5" if slow else "60", *bounds)
        # Refused settings would exit 2; a first poll 40 s after the start
        # cannot end the session within 1.5 s.
        assert proc.returncode == (1 if slow else 0), proc.stderr
        assert ("pktcap fleet: --timeout: gave up after " in proc.stderr.decode()) == slow


def test_timeout_leaves_the_sessions_unfinished(cli, azure, tmp_path):
    targets = tmp_path / "vms.txt"
    targets.write_text(vm(azure, "vm1") + "\n")
    proc = run(cli, "fleet", "--provider", azure_uri(azure), "--targets", targets,
               "--option", storage_option(azure), "--duration", "300", "--timeout", "0.5",
               "--json", check_status=1)
    report = json.loads(proc.stdout)
    assert (report["sessions_total"], report["done"], report["fetched"]) == (1, 0, 0)
    assert report["sessions"][0]["done"] is False
    assert "pktcap fleet: --timeout: gave up after " in proc.stderr.decode()


def test_help_has_exit_statuses_and_examples(cli):
    text = run(cli, "fleet", "--help", check_status=0).stdout.decode()
    assert text.startswith("usage: pktcap fleet --provider URI --targets FILE")
    assert run(cli, "help", "fleet", check_status=0).stdout.decode() == text
    assert "\nExit status: 0 every session ended COMPLETE or STOPPED" in text
    assert "130 a second Ctrl-C abandoned the fleet." in text
    examples = text.split("\nExamples:\n", 1)[1]
    assert examples.startswith("  pktcap fleet --provider ")
    listed = run(cli, "help", check_status=0).stdout.decode()
    assert re.search(r"^  fleet +capture on many targets of one provider at once", listed, re.M)


class Lines:
    """stderr of a running command, read line by line in a thread."""

    def __init__(self, stream):
        self.lines = []
        self.cond = threading.Condition()
        self.thread = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self.thread.start()

    def _read(self, stream):
        for line in stream:
            with self.cond:
                self.lines.append(line.decode(errors="replace"))
                self.cond.notify_all()

    def wait_for(self, predicate, timeout=TIMEOUT):
        deadline = time.monotonic() + timeout
        with self.cond:
            while not predicate(self.lines):
                left = deadline - time.monotonic()
                assert left > 0, "".join(self.lines)
                self.cond.wait(left)

    def text(self):
        self.thread.join(TIMEOUT)
        return "".join(self.lines)


def start_long_fleet(cli, azure, tmp_path, n):
    """A fleet of n VMs with 5-hour captures, followed with -v until every
    session has been started (its state left NEW). Its report (--json) is
    small: it fits in the stdout pipe, read once the command has exited."""
    targets = tmp_path / "vms.txt"
    targets.write_text("".join(vm(azure, f"vm{i}") + "\n" for i in range(1, n + 1)))
    proc = subprocess.Popen([cli.path, "fleet", "-v", "--provider", azure_uri(azure),
                             "--targets", str(targets), "--option", storage_option(azure),
                             "--duration", "5h", "--fetch-dir", str(tmp_path / "caps"),
                             "--json", *FAST_POLL],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    err = Lines(proc.stderr)
    started = re.compile(r"^pktcap: (fleet-\d+): (PENDING|RUNNING)$")
    err.wait_for(lambda lines: len({m.group(1) for m in map(started.match, lines) if m}) == n)
    return proc, err


def test_one_sigint_stops_the_captures_and_still_fetches_them(cli, azure, served, tmp_path):
    proc, err = start_long_fleet(cli, azure, tmp_path, 3)
    proc.send_signal(signal.SIGINT)
    proc.wait(timeout=TIMEOUT)
    out, text = proc.stdout.read(), err.text()
    assert proc.returncode == 0, text
    assert "pktcap fleet: stopping every capture; they are still fetched (Ctrl-C again " \
           "abandons them)\n" in text
    report = json.loads(out)
    assert {k: v for k, v in report["states"].items() if v} == {"STOPPED": 3}
    assert (report["done"], report["failed"], report["fetched"]) == (3, 0, 3)
    assert len(azure.requests(route="stop")) == 3
    for i in range(1, 4):
        assert (tmp_path / "caps" / f"fleet-{i}.cap").read_bytes() == served


def test_a_second_sigint_abandons_the_fleet_with_status_130(cli, azure, tmp_path):
    proc, err = start_long_fleet(cli, azure, tmp_path, 2)
    # The stops take 10 s to be answered: the second signal comes while they
    # run. (Two signals sent at once could merge into one.)
    azure.faults.delay(2, 10, route="stop")
    proc.send_signal(signal.SIGINT)
    err.wait_for(lambda lines: any(line.startswith("pktcap fleet: stopping every capture")
                                   for line in lines))
    proc.send_signal(signal.SIGINT)
    proc.wait(timeout=TIMEOUT)
    out, text = proc.stdout.read(), err.text()
    assert proc.returncode == 130, text
    assert "pktcap fleet: interrupted again: abandoning the fleet (captures still running " \
           "at the provider go on)\n" in text
    report = json.loads(out)    # what is known
    assert (report["sessions_total"], report["done"], report["fetched"]) == (2, 0, 0)
    assert [(s["name"], s["done"], s["fetched"]) for s in report["sessions"]] == \
        [("fleet-1", False, False), ("fleet-2", False, False)]
    assert os.listdir(tmp_path / "caps") == []
