"""The example programs: examples/programs/*.c and their Python twins in
bindings/python/examples/*.py. Each test runs both and holds them to the same,
exact output.

The C programs come from meson (PKTCAP_EXAMPLE_<NAME>), pktcap itself
(PKTCAP_CLI) is the judge of files. In a sanitizer build the C programs
carry their runtime; the Python examples get it preloaded
(PKTCAP_TEST_PRELOAD), and nothing is preloaded into pktcap, capinfos or
tshark. Live captures on loopback need root: without it they fail, unless
PKTCAP_ALLOW_NO_ROOT=1, which skips them."""
import json
import os
import random
import re
import select
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve()
SOURCE = HERE.parents[2]
CORPUS = SOURCE / "tests" / "corpus"
PY_EXAMPLES = SOURCE / "bindings" / "python" / "examples"
TIMEOUT = 60   # seconds, for any one program run

sys.path.insert(0, str(SOURCE / "tests" / "emulators"))
from azure import AzureEmulator  # noqa: E402
from cloudflare import CloudflareEmulator  # noqa: E402
from sdwan import SUMMARY_FIELDS, SdwanEmulator  # noqa: E402


def clean_env(**extra):
    env = {k: v for k, v in os.environ.items() if k != "LD_PRELOAD"}
    env.update(extra)
    return env


def run_example(impl, name, *args, timeout=TIMEOUT, popen=False):
    """Run example NAME in C ("c") or Python ("python") with ARGS."""
    if impl == "c":
        path = os.environ.get("PKTCAP_EXAMPLE_" + name.upper())
        if not path:
            pytest.fail(f"PKTCAP_EXAMPLE_{name.upper()} is not set: run these tests "
                        "through `meson test` or ./dev test")
        argv, env = [path], clean_env()
    else:
        argv = [sys.executable, str(PY_EXAMPLES / f"{name}.py")]
        env = clean_env(PYTHONPATH=str(SOURCE / "bindings" / "python"))
        if os.environ.get("PKTCAP_TEST_PRELOAD"):   # sanitizer build: for the library it loads
            env.update(LD_PRELOAD=os.environ["PKTCAP_TEST_PRELOAD"],
                       ASAN_OPTIONS="detect_leaks=0:abort_on_error=1")
    argv += [str(a) for a in args]
    if popen:
        return subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True)
    return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=timeout)


def cli(*args, check=True):
    path = os.environ.get("PKTCAP_CLI")
    if not path:
        pytest.fail("PKTCAP_CLI is not set: run these tests through `meson test` or ./dev test")
    proc = subprocess.run([path, *map(str, args)], env=clean_env(), capture_output=True,
                          text=True, timeout=TIMEOUT)
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc


def info(*files):
    return json.loads(cli("info", "--json", *files).stdout)


def records(*files):
    """`pktcap summary --format json` of FILES, without the fields that depend
    on where a packet sits (number) or on its file's resolution (time)."""
    out = []
    for line in cli("summary", "--format", "json", *files).stdout.splitlines():
        record = json.loads(line)
        del record["number"], record["time"]
        out.append(record)
    return out


@pytest.fixture(params=["c", "python"])
def impl(request):
    return request.param


# --- every program -------------------------------------------------------------

@pytest.mark.parametrize("name, usage", [
    ("summarize", "FILE"),
    ("convert_rotate", "IN OUTPATTERN BYTES"),
    ("local_capture", "IFACE FILTER SECONDS OUT"),
    ("azure_capture", "WATCHER_URI VM_ID STORAGE_ACCOUNT_ID OUT"),
    ("cloudflare_capture", "PROVIDER_URI SECONDS PACKETS OUT"),
    ("sdwan_capture", "PROVIDER_URI INTERFACES SECONDS [OUT]"),
])
def test_without_arguments_prints_usage_and_fails(impl, name, usage):
    proc = run_example(impl, name)
    assert (proc.returncode, proc.stdout, proc.stderr) == (1, "", f"usage: {name} {usage}\n")


# --- summarize -----------------------------------------------------------------

SUMMARY_FILES = [
    "tcpdump/afs.pcap",                        # pcap, microseconds, 601 packets
    "tcpdump/802.1ad_QinQ.pcap",               # VLAN tags
    "tcpdump/LINKTYPE_RAW_ipv6.pcap",          # raw IP
    "pcapng-testgen/basic/test008.pcapng",     # nanosecond interfaces
    "pcapng-testgen/difficult/test202.pcapng", # several sections and interfaces
    "pcapng-testgen/basic/test002.pcapng",     # no packets at all
]


@pytest.mark.parametrize("name", SUMMARY_FILES)
def test_summarize_prints_what_pktcap_summary_prints(impl, name):
    path = CORPUS / name
    (described,) = info(path)
    proc = run_example(impl, "summarize", path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    assert proc.stdout == cli("summary", path).stdout + f"{described['packets']} packets\n"


def test_summarize_reports_a_damaged_file_after_its_good_packets(impl, tmp_path):
    cut = tmp_path / "cut.pcap"
    cut.write_bytes((CORPUS / "tcpdump" / "afs.pcap").read_bytes()[:3000])
    expected = cli("summary", cut, check=False)
    assert expected.returncode == 1 and len(expected.stdout.splitlines()) == 22
    proc = run_example(impl, "summarize", cut)
    assert proc.returncode == 1
    assert proc.stdout == expected.stdout          # the packets before the damage, no count
    # pktcap says "pktcap: FILE: MESSAGE (CODE)"; the example "summarize: MESSAGE (CODE)".
    assert expected.stderr.startswith(f"pktcap: {cut}: ")
    assert proc.stderr == "summarize: " + expected.stderr[len(f"pktcap: {cut}: "):]
    assert proc.stderr.endswith("(PKTCAP_E_TRUNCATED)\n")


def test_summarize_reports_a_missing_file(impl, tmp_path):
    missing = tmp_path / "missing.pcap"
    proc = run_example(impl, "summarize", missing)
    assert (proc.returncode, proc.stdout) == (1, "")
    assert proc.stderr == (f"summarize: cannot open {missing}: No such file or directory "
                           "(PKTCAP_E_NOTFOUND)\n")


# --- convert_rotate ------------------------------------------------------------

def rotated(directory):
    """The files in DIRECTORY (hidden temporaries included), sorted."""
    return sorted(str(p) for p in directory.iterdir())


def test_convert_rotate_splits_afs_as_pktcap_convert_does(impl, tmp_path):
    source = CORPUS / "tcpdump" / "afs.pcap"   # 601 packets, 512276 bytes of packet data
    ours, theirs = tmp_path / "ours", tmp_path / "theirs"
    ours.mkdir()
    theirs.mkdir()
    proc = run_example(impl, "convert_rotate", source, ours / "part.pcapng", "100k")
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    *paths, total = proc.stdout.splitlines()
    # Every file listed, in order, and nothing else (no temporary left behind).
    assert paths == rotated(ours)
    assert total == f"601 packets in {len(paths)} files"
    assert len(paths) == 6
    for i, path in enumerate(paths, 1):
        assert re.fullmatch(rf"part_{i:05d}_\d{{14}}\.pcapng", Path(path).name), path
    # A file is full once it holds 100 kB: all but the last hold at least that.
    assert all(Path(p).stat().st_size >= 100_000 for p in paths[:-1])
    # The packets add up, and are the original ones in the original order.
    described = info(*paths)
    assert [d["format"] for d in described] == ["pcapng"] * len(paths)
    assert all(d["error"] is None for d in described)
    assert sum(d["packets"] for d in described) == 601
    assert records(*paths) == records(source)
    # pktcap convert, given the same rotation, makes the same files, byte for byte.
    cli("convert", source, f"file://{theirs}/part.pcapng?rotate_bytes=100k")
    assert [Path(p).name for p in rotated(theirs)] == [Path(p).name for p in paths]
    for path in paths:
        assert Path(path).read_bytes() == (theirs / Path(path).name).read_bytes(), path


def test_convert_rotate_keeps_every_interface_of_a_multi_section_pcapng(impl, tmp_path):
    source = CORPUS / "pcapng-testgen" / "difficult" / "test202.pcapng"   # 8 packets
    proc = run_example(impl, "convert_rotate", source, tmp_path / "one.pcapng", "1")
    assert proc.returncode == 0, proc.stderr
    *paths, total = proc.stdout.splitlines()
    assert paths == rotated(tmp_path)
    assert total == "8 packets in 8 files"        # full after its first packet
    described = info(*paths)
    assert [d["packets"] for d in described] == [1] * 8
    assert records(*paths) == records(source)


def test_convert_rotate_refuses_a_bad_size_and_writes_nothing(impl, tmp_path):
    source = CORPUS / "tcpdump" / "afs.pcap"
    out = tmp_path / "part.pcapng"
    proc = run_example(impl, "convert_rotate", source, out, "1x")
    assert (proc.returncode, proc.stdout) == (1, "")
    assert proc.stderr == (f"convert_rotate: storage '{out}' option 'rotate_bytes': '1x' is not "
                           "a number (digits, optionally followed by k, M, G, T, Ki, Mi, Gi or "
                           "Ti) (PKTCAP_E_INVAL)\n")
    assert list(tmp_path.iterdir()) == []


# --- local_capture -------------------------------------------------------------

def require_root():
    if os.geteuid() == 0:
        return
    if os.environ.get("PKTCAP_ALLOW_NO_ROOT") == "1":
        pytest.skip("live captures need root (PKTCAP_ALLOW_NO_ROOT=1 set)")
    pytest.fail("live captures need root (or CAP_NET_RAW); run as root, or set "
                "PKTCAP_ALLOW_NO_ROOT=1 to skip them")


def test_local_capture_on_lo_holds_exactly_the_datagrams_sent(impl, tmp_path):
    require_root()
    port = random.randrange(20000, 32000)
    out = tmp_path / "udp.pcapng"
    proc = run_example(impl, "local_capture", "lo", f"proto=udp remote_port={port}", 2, out,
                       popen=True)
    try:
        # The first line is printed once the capture runs.
        if not select.select([proc.stdout], [], [], TIMEOUT)[0]:
            pytest.fail(f"local_capture printed nothing in {TIMEOUT} s")
        first = proc.stdout.readline()
        assert first == "capturing on lo for 2 s\n", proc.stderr.read() if not first else first
        # Three datagrams of 8, 9 and 10 bytes to PORT, read by a socket of ours
        # (so no ICMP errors), and two to another port, which the filter leaves out.
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as rx, \
                socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as tx:
            rx.bind(("127.0.0.1", port))
            rx.settimeout(5)
            tx.bind(("127.0.0.1", 0))
            sender = tx.getsockname()[1]
            for size in (8, 9, 10):
                tx.sendto(b"x" * size, ("127.0.0.1", port))
                rx.recv(100)
            for _ in range(2):
                tx.sendto(b"other", ("127.0.0.1", port + 1 if port < 31999 else port - 1))
        rest, err = proc.communicate(timeout=TIMEOUT)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
    assert err == ""
    assert first + rest == ("capturing on lo for 2 s\n"
                            "ended: COMPLETE (time limit)\n"
                            "packets     3\n"
                            f"bytes       {50 + 51 + 52}\n"
                            "dropped     0\n"
                            "if-dropped  0\n"
                            f"file        {out}\n")
    assert rotated(tmp_path) == [str(out)]
    got = [(r["protocol"], r["src_ip"], r["src_port"], r["dst_ip"], r["dst_port"], r["length"])
           for r in records(out)]
    assert got == [("UDP", "127.0.0.1", sender, "127.0.0.1", port, n) for n in (50, 51, 52)]
    # An independent judge reads the same file.
    assert shutil.which("capinfos"), "capinfos (tshark) is needed"
    judged = subprocess.run(["capinfos", "-c", "-M", str(out)], env=clean_env(),
                            capture_output=True, text=True, timeout=TIMEOUT)
    assert judged.returncode == 0, judged.stderr
    assert re.search(r"Number of packets:\s+3$", judged.stdout, re.M), judged.stdout


def test_local_capture_reports_an_unknown_interface(impl, tmp_path):
    # Interfaces are looked up before privileges matter: this runs without root too.
    proc = run_example(impl, "local_capture", "nosuch0", "", 1, tmp_path / "x.pcapng")
    assert (proc.returncode, proc.stdout) == (1, "")
    assert re.fullmatch(r'local_capture: no interface "nosuch0" \(available: .*\blo\b.*\) '
                        r'\(PKTCAP_E_NOTFOUND\)\n', proc.stderr), proc.stderr
    assert list(tmp_path.iterdir()) == []


# --- azure_capture -------------------------------------------------------------

@pytest.fixture
def blob(tmp_path):
    """The capture the emulator serves: a corpus file rewritten by pktcap."""
    out = tmp_path / "blob.pcap"
    cli("convert", "--format", "pcap", CORPUS / "tcpdump" / "afs.pcap", out)
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


def azure_args(emu, out):
    uri = (f"{emu.arm_uri()}?endpoint={emu.base_url}&blob_endpoint={emu.base_url}/blob/"
           "&poll_interval_ms=20")
    vm = (f"/subscriptions/{emu.subscription}/resourceGroups/rg1/providers/"
          "Microsoft.Compute/virtualMachines/vm1")
    account = (f"/subscriptions/{emu.subscription}/resourceGroups/rg1/providers/"
               "Microsoft.Storage/storageAccounts/acct1")
    return uri, vm, account, out


def test_azure_capture_creates_waits_fetches_and_deletes(impl, emu, blob, tmp_path):
    (tmp_path / "out").mkdir()
    out = tmp_path / "out" / "vm1.pcap"
    uri, vm, account, _ = azure_args(emu, out)
    proc = run_example(impl, "azure_capture", uri, vm, account, out)
    assert proc.returncode == 0, proc.stderr
    name = re.match(r"started (pktcap-\d{8}-\d{6}-1)\n", proc.stdout)
    assert name, proc.stdout
    name = name.group(1)
    assert proc.stdout == (f"started {name}\n"
                           "ended: COMPLETE (TimeExceeded)\n"
                           f"fetched to {out}\n"
                           f"deleted {name}\n")
    # Progress: the percentage each time it changes, up to 100.
    percents = [int(m) for m in re.findall(r"^fetching: (\d+)%$", proc.stderr, re.M)]
    assert proc.stderr == "".join(f"fetching: {p}%\n" for p in percents)
    assert percents == sorted(set(percents)) and percents[-1] == 100
    # The file is the blob, byte for byte; the capture resource is gone.
    assert out.read_bytes() == blob
    assert rotated(out.parent) == [str(out)]   # no temporary left behind
    assert emu.capture(name) is None
    (create,) = emu.requests(route="create")
    props = create.json()["properties"]
    assert props["target"] == vm
    assert props["storageLocation"]["storageId"] == account
    assert props["timeLimitInSeconds"] == 60
    assert len(emu.requests(route="delete")) == 1


def test_azure_capture_reports_refused_credentials(impl, emu, monkeypatch, tmp_path):
    monkeypatch.setenv("AZURE_CLIENT_SECRET", "not-the-secret")
    out = tmp_path / "vm1.pcap"
    proc = run_example(impl, "azure_capture", *azure_args(emu, out))
    assert (proc.returncode, proc.stdout) == (1, "")
    assert proc.stderr.startswith("azure_capture: ") and "AADSTS7000215" in proc.stderr
    assert "(PKTCAP_E_AUTH)" in proc.stderr and "not-the-secret" not in proc.stderr
    assert emu.requests(route="create") == []
    assert not out.exists()


# --- cloudflare_capture --------------------------------------------------------

CLOUDFLARE_CREDENTIALS = ("CLOUDFLARE_API_TOKEN", "CLOUDFLARE_EMAIL", "CLOUDFLARE_API_KEY")


@pytest.fixture
def cf_emu(blob, monkeypatch):
    with CloudflareEmulator(time_scale=0.01, capture_bytes=blob) as e:
        for name in CLOUDFLARE_CREDENTIALS:
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("CLOUDFLARE_API_TOKEN", e.api_token)
        yield e
        assert e.errors == []


def cloudflare_uri(emu):
    return f"{emu.provider_uri()}?endpoint={emu.endpoint}&poll_interval_ms=20"


def test_cloudflare_capture_creates_waits_and_fetches(impl, cf_emu, blob, tmp_path):
    (tmp_path / "out").mkdir()
    out = tmp_path / "out" / "edge.pcap"
    proc = run_example(impl, "cloudflare_capture", cloudflare_uri(cf_emu), 10, 100, out)
    assert proc.returncode == 0, proc.stderr
    first = re.match(r"started (pktcap-\d{8}-\d{6}-1) \(capture ([0-9a-f]{32})\)\n", proc.stdout)
    assert first, proc.stdout
    name, pcap_id = first.groups()
    assert proc.stdout == (f"started {name} (capture {pcap_id})\n"
                           "ended: COMPLETE (time or packet limit)\n"
                           f"fetched to {out}\n"
                           "packets captured: 601\n")       # afs.pcap's packets, counted
    # Progress: the percentage each time it changes, up to 100.
    percents = [int(m) for m in re.findall(r"^fetching: (\d+)%$", proc.stderr, re.M)]
    assert proc.stderr == "".join(f"fetching: {p}%\n" for p in percents)
    assert percents == sorted(set(percents)) and percents[-1] == 100
    # The file is the emulator's, byte for byte, and nothing else was left.
    assert out.read_bytes() == blob
    assert rotated(out.parent) == [str(out)]
    assert cf_emu.pcap(pcap_id)["status"] == "success"
    (create,) = cf_emu.requests(route="create")
    assert create.json() == {"type": "simple", "system": "magic-transit", "time_limit": 10,
                             "packet_limit": 100}
    assert create.headers["Authorization"] == "Bearer " + cf_emu.api_token
    assert len(cf_emu.requests(route="download")) == 1


def test_cloudflare_capture_reports_a_refused_token(impl, cf_emu, monkeypatch, tmp_path):
    monkeypatch.setenv("CLOUDFLARE_API_TOKEN", "not-the-token-0123456789")
    out = tmp_path / "edge.pcap"
    proc = run_example(impl, "cloudflare_capture", cloudflare_uri(cf_emu), 10, 100, out)
    assert (proc.returncode, proc.stdout) == (1, "")
    assert proc.stderr.startswith("cloudflare_capture: ") and "10000" in proc.stderr
    assert "(PKTCAP_E_AUTH)" in proc.stderr, proc.stderr
    assert "not-the-token" not in proc.stderr
    assert cf_emu.requests(route="download") == []
    assert not out.exists()


# --- sdwan_capture -------------------------------------------------------------

@pytest.fixture
def appliance_file(tmp_path):
    """The capture the SD-WAN emulator serves: a corpus file as pktcap writes
    pcapng. DNS over UDP, 42 packets: everything its summary lines show is in
    the appliance's rows (which carry no TCP flags, ICMP types, VLANs or
    fragment flags)."""
    out = tmp_path / "appliance.pcapng"
    cli("convert", "--format", "pcapng", CORPUS / "tcpdump" / "edns-opts.pcap", out)
    return out


def appliance_rows(path):
    """The appliance's summary rows of PATH: `pktcap summary --format json`'s
    SD-WAN fields, every value a string (absent ones empty), as the appliance
    sends them."""
    rows = []
    for line in cli("summary", "--format", "json", path).stdout.splitlines():
        record = json.loads(line)
        rows.append({k: "" if record[k] is None else str(record[k]) for k in SUMMARY_FIELDS})
    return rows


@pytest.fixture
def sd_emu(appliance_file, monkeypatch):
    with SdwanEmulator(time_scale=0.01, capture_bytes=appliance_file.read_bytes(),
                       summary_rows=appliance_rows(appliance_file)) as e:
        monkeypatch.setenv("PKTCAP_SDWAN_USER", e.username)
        monkeypatch.setenv("PKTCAP_SDWAN_PASSWORD", e.password)
        yield e
        assert e.errors == []


def test_sdwan_capture_prints_the_summaries_and_fetches(impl, sd_emu, appliance_file, tmp_path):
    (tmp_path / "out").mkdir()
    out = tmp_path / "out" / "wan.pcapng"
    proc = run_example(impl, "sdwan_capture", sd_emu.provider_uri(), "MGMT--1", 5, out)
    assert proc.returncode == 0, proc.stderr
    name = re.match(r"started (pktcap-\d{8}-\d{6}-1)\n", proc.stdout)
    assert name, proc.stdout
    # The appliance's rows, printed exactly as pktcap summary prints the file
    # they describe.
    lines = cli("summary", appliance_file).stdout
    assert len(lines.splitlines()) == 42
    assert proc.stdout == (f"started {name.group(1)}\n"
                           "ended: COMPLETE (time limit)\n"
                           + lines +
                           "42 packets\n"
                           f"fetched to {out}\n")
    percents = [int(m) for m in re.findall(r"^fetching: (\d+)%$", proc.stderr, re.M)]
    assert proc.stderr == "".join(f"fetching: {p}%\n" for p in percents)
    assert percents == sorted(set(percents)) and percents[-1] == 100
    assert out.read_bytes() == appliance_file.read_bytes()
    assert rotated(out.parent) == [str(out)]
    assert sd_emu.captures == [{"packet_capture": {"interface": "MGMT--1", "duration": 5,
                                                   "filter_str": "", "max_packets": "MAX"}}]


def test_sdwan_capture_without_out_only_prints(impl, sd_emu, appliance_file):
    proc = run_example(impl, "sdwan_capture", sd_emu.provider_uri(), "MGMT", 5)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    started, ended, *lines, total = proc.stdout.splitlines(keepends=True)
    assert re.fullmatch(r"started pktcap-\d{8}-\d{6}-1\n", started)
    assert ended == "ended: COMPLETE (time limit)\n"
    assert "".join(lines) == cli("summary", appliance_file).stdout
    assert total == "42 packets\n"
    assert sd_emu.requests(route="download") == []


def test_sdwan_capture_reports_a_refused_password(impl, sd_emu, monkeypatch, tmp_path):
    monkeypatch.setenv("PKTCAP_SDWAN_PASSWORD", "not-the-password")
    out = tmp_path / "wan.pcapng"
    proc = run_example(impl, "sdwan_capture", sd_emu.provider_uri(), "MGMT", 5, out)
    assert (proc.returncode, proc.stdout) == (1, "")
    assert proc.stderr.startswith("sdwan_capture: ") and "HTTP 401" in proc.stderr
    assert "(PKTCAP_E_AUTH)" in proc.stderr, proc.stderr
    assert "not-the-password" not in proc.stderr
    assert sd_emu.captures == []
    assert not out.exists()
