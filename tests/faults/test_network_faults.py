"""Network faults against every remote backend, through the Python bindings.

Each case runs one real operation of one backend (azure, cloudflare, sdwan)
against its emulator (tests/emulators) while the emulator injects one fault
on that operation's route, and checks what doc/errors.md promises:

* the exact PKTCAP_E_* code (and so the exception class), and a message that
  names the request, the server and the problem;
* the call returns within its time budget (attempts x per-attempt timeout +
  Retry-After waits) plus a 5 s margin, and no sooner than the waits it must
  honour;
* the retry policy of lib/net/http.c, counted at the emulator: retries=2 ->
  exactly 3 attempts where a retry is allowed (idempotent requests on broken
  connections, timeouts and 408/5xx; any request on 429 or a Retry-After),
  exactly 1 where it is not (POST create, the SD-WAN capture);
* a huge body never grows the process (library and emulator both) by 64 MiB;
* a failed download leaves nothing in the destination folder;
* a redirect is never followed (the listener on 127.0.0.2 receives nothing,
  so no credential reaches it) and the message says so, secrets redacted;
* TLS: a certificate for another name, or an expired one, signed by the CA
  given as ca_file, fails with PKTCAP_E_TLS; the same CA with a good
  certificate works.

Operations: list (GET), refresh (Azure: POST queryStatus; Cloudflare: GET),
start (Azure: PUT create; Cloudflare: POST create; SD-WAN: the login POST),
capture (SD-WAN: the capture POST, run by the session's thread: its outcome
is the FAILED session's details) and fetch (the download).
"""
import gc
import os
import socket
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "emulators"))
sys.path.insert(0, str(ROOT / "bindings" / "python"))

import pktcap  # noqa: E402
from pktcap import Provider, State  # noqa: E402
from pktcap.errors import Status, exception_class  # noqa: E402

import clients  # noqa: E402
from emulator import RedirectTarget, issue_cert, make_ca  # noqa: E402

RETRIES = 2               # so a retried request is sent exactly 3 times
TIMEOUT_MS = 1000         # per attempt (downloads: 1 s without a byte)
MARGIN_S = 5.0            # liveness bound on top of the budget, not a performance target
STORM = 10                # faults armed: more than any call may use
WAIT = 30.0               # bound for a wait() that should end at once
SDWAN_DURATION_S = 5      # the shortest SD-WAN capture: its request's timeout is
SDWAN_MARGIN_MS = 1000    # duration + capture_margin_ms
MAX_GROWTH = 64 << 20     # bytes of RSS a huge body may add
HUGE = 300 << 20          # bytes the emulator streams for a huge body
MAX_DOWNLOAD = 1 << 20    # max_download_bytes for the huge download
SECRET = "REDIRECT-SECRET-0123"   # in the redirect's Location: must not reach a message
PCAP_HEADER = clients.CAPTURE[:24]


# ---- the operations ------------------------------------------------------------------------

class Op:
    """One operation of one backend: the route it sends, whether the retry
    policy may repeat it, what its answer is (json: parsed; ignored: the
    body is not read; file: a download), the start of its messages and its
    message for a body that is not the JSON it wants."""

    def __init__(self, backend, name, route, idempotent, body, what, not_json=None):
        self.backend, self.name, self.route = backend, name, route
        self.idempotent, self.body, self.what, self.not_json = idempotent, body, what, not_json

    @property
    def attempt_s(self):
        """How long one attempt may wait for an answer."""
        if self.name == "capture":
            return SDWAN_DURATION_S + SDWAN_MARGIN_MS / 1000
        return TIMEOUT_MS / 1000


CF_NOT_ENVELOPE = "HTTP 200, but the answer is not a Cloudflare API envelope"
INVALID_JSON = "invalid JSON at line 1 column"
OPS = {(op.backend, op.name): op for op in [
    Op("azure", "list", "list", True, "json",
       'list packet captures of network watcher "NetworkWatcher_westus": ', INVALID_JSON),
    Op("azure", "refresh", "query_status", True, "json", 'query status of packet capture "cap1": ',
       "the answer is not a JSON object"),
    Op("azure", "start", "create", True, "ignored", 'create packet capture "cap1": '),
    Op("azure", "fetch", "blob", True, "file", 'download packet capture "cap1": '),
    Op("cloudflare", "list", "list", True, "json", "list packet captures of account {account}: ",
       CF_NOT_ENVELOPE),
    Op("cloudflare", "refresh", "get", True, "json", 'get packet capture {id} (session "cap1"): ',
       CF_NOT_ENVELOPE),
    Op("cloudflare", "start", "create", False, "json",
       'create packet capture for session "cap1": ', CF_NOT_ENVELOPE),
    Op("cloudflare", "fetch", "download", True, "file",
       'download packet capture {id} (session "cap1"): '),
    Op("sdwan", "start", "login", True, "ignored", "log in to SD-WAN appliance 127.0.0.1:{port}: "),
    Op("sdwan", "capture", "capture", False, "json",
       'packet capture "cap1" on MGMT of 127.0.0.1:{port}: ', INVALID_JSON),
    Op("sdwan", "fetch", "download", True, "file",
       'download the capture of session "cap1" from 127.0.0.1:{port}: '),
]}
FIRST = {"azure": "list", "cloudflare": "list", "sdwan": "start"}   # a provider's first request


# ---- the faults ----------------------------------------------------------------------------

class Fault:
    """A fault and what every operation must make of it.

    ``arm(emu, route, ctx)`` switches it on; ``applies(op)``; ``code``;
    ``attempts(op)`` (None: not countable at the server); ``message(op,
    ctx)`` fragments; ``stalls``: each attempt waits its whole timeout;
    ``waits``: seconds of Retry-After between attempts; ``options``: extra
    provider options; ``huge``: the memory bound is checked."""

    def __init__(self, name, code, arm=None, applies=lambda op: True, attempts=None,
                 message=(), stalls=False, waits=0.0, options=None, huge=False, kind="fault"):
        self.name, self.code, self.arm, self.applies = name, code, arm, applies
        self.attempts = attempts or (lambda op: 1)
        self.message = message if callable(message) else (lambda op, ctx, m=message: list(m))
        self.stalls, self.waits, self.options, self.huge = stalls, waits, options or {}, huge
        self.kind = kind   # fault | refused | tls


def retried_if_idempotent(op):
    return RETRIES + 1 if op.idempotent else 1


def always_retried(op):
    return RETRIES + 1


def timed_out(op, ctx):
    return ["Operation too slow. Less than 1 bytes/sec transferred the last 1 seconds"
            if op.body == "file" else "Operation timed out after"]


def not_json(op, ctx):
    return [op.not_json]


def not_a_capture(op, ctx):
    return [op.not_json] if op.body == "json" else \
        ["the downloaded file is not a capture file (begins with 3c 21 44 4f)"]


def redirected(status):
    def message(op, ctx):
        reason = {302: "Found", 307: "Temporary Redirect"}[status]
        return ["HTTP %d %s (a redirect to http://127.0.0.2:%d/" % (status, reason, ctx.target.port),
                "sig=***", ": not followed)"]
    return message


def redirect(status):
    def arm(emu, route, ctx):
        def location(req):
            url = ctx.target.url_for(req)
            return url + ("&" if "?" in url else "?") + "sig=" + SECRET
        emu.faults.redirect(STORM, location, route=route, status=status)
    return arm


def status_message(text):
    return lambda op, ctx: [text]


def json_ops(op):
    return op.body == "json"


def not_files(op):
    return op.body != "file"


def files(op):
    return op.body == "file"


FAULTS = [
    Fault("reset_mid_headers", Status.E_NET,
          lambda emu, route, ctx: emu.faults.reset_headers(STORM, 12, route=route),
          attempts=retried_if_idempotent, message=["Recv failure: Connection reset by peer"]),
    Fault("close_mid_headers", Status.E_NET,
          lambda emu, route, ctx: emu.faults.reset_headers(STORM, 12, route=route, how="close"),
          attempts=retried_if_idempotent, message=["Empty reply from server"]),
    Fault("reset_mid_body", Status.E_NET,
          lambda emu, route, ctx: emu.faults.reset_body(STORM, 5, route=route),
          attempts=retried_if_idempotent, message=["Recv failure: Connection reset by peer"]),
    Fault("stall", Status.E_TIMEOUT,
          lambda emu, route, ctx: emu.faults.stall(STORM, route=route),
          attempts=retried_if_idempotent, message=timed_out, stalls=True),
    Fault("stall_after_headers", Status.E_TIMEOUT,
          lambda emu, route, ctx: emu.faults.stall(STORM, route=route, after_headers=True),
          attempts=retried_if_idempotent, message=timed_out, stalls=True),
    Fault("truncated_json", Status.E_FORMAT,
          lambda emu, route, ctx: emu.faults.truncate_json(STORM, route=route),
          applies=json_ops, message=not_json),
    Fault("invalid_json", Status.E_FORMAT,
          lambda emu, route, ctx: emu.faults.invalid_json(STORM, route=route),
          applies=json_ops, message=not_json),
    Fault("html_instead_of_json", Status.E_FORMAT,
          lambda emu, route, ctx: emu.faults.wrong_content_type(STORM, route=route),
          applies=lambda op: op.body in ("json", "file"), message=not_a_capture),
    Fault("huge_json", Status.E_LIMIT,
          lambda emu, route, ctx: emu.faults.huge_body(STORM, HUGE, route=route),
          applies=not_files, huge=True,
          message=["is larger than 16777216 bytes (max_response_bytes)"]),
    Fault("huge_json_chunked", Status.E_LIMIT,
          lambda emu, route, ctx: emu.faults.huge_body(STORM, HUGE, route=route, announce=False),
          applies=not_files, huge=True,
          message=["is larger than 16777216 bytes (max_response_bytes)"]),
    Fault("huge_download", Status.E_LIMIT,
          lambda emu, route, ctx: emu.faults.huge_body(
              STORM, HUGE, route=route, announce=False, prefix=PCAP_HEADER,
              content_type="application/octet-stream"),
          applies=files, huge=True, options={"max_download_bytes": MAX_DOWNLOAD},
          message=["the file is larger than %d bytes (max_download_bytes)" % MAX_DOWNLOAD]),
    Fault("redirect_302", Status.E_REMOTE, redirect(302), message=redirected(302)),
    Fault("redirect_307", Status.E_REMOTE, redirect(307), message=redirected(307)),
    Fault("storm_503", Status.E_REMOTE,
          lambda emu, route, ctx: emu.faults.storm(STORM, 503, route=route),
          attempts=retried_if_idempotent, message=status_message("HTTP 503 Service Unavailable")),
    Fault("storm_503_retry_after", Status.E_REMOTE,
          lambda emu, route, ctx: emu.faults.storm(STORM, 503, route=route, retry_after="1"),
          attempts=always_retried, waits=1.0,
          message=status_message("HTTP 503 Service Unavailable")),
    Fault("storm_429", Status.E_THROTTLED,
          lambda emu, route, ctx: emu.faults.storm(STORM, 429, route=route),
          attempts=always_retried, message=status_message("HTTP 429 Too Many Requests")),
    Fault("storm_429_retry_after", Status.E_THROTTLED,
          lambda emu, route, ctx: emu.faults.storm(STORM, 429, route=route, retry_after="1"),
          attempts=always_retried, waits=1.0,
          message=status_message("HTTP 429 Too Many Requests")),
    # A Retry-After longer than what is left of retry_budget_ms ends the call at once.
    Fault("retry_after_over_budget", Status.E_THROTTLED,
          lambda emu, route, ctx: emu.faults.storm(STORM, 429, route=route, retry_after="30"),
          options={"retry_budget_ms": 2000},
          message=status_message("HTTP 429 Too Many Requests")),
    Fault("connection_refused", Status.E_NET, kind="refused",
          applies=lambda op: op.name in (FIRST[op.backend], "fetch"),
          message=lambda op, ctx: ["Failed to connect to 127.0.0.1 port %d" % ctx.port,
                                   "Couldn't connect to server",
                                   "after %d attempts" % (RETRIES + 1)]),
    Fault("tls_wrong_host_name", Status.E_TLS, kind="tls",
          applies=lambda op: op.name == FIRST[op.backend],
          message=["SSL: no alternative certificate subject name matches target host name "
                   "'127.0.0.1'", "give that certificate as the ca_file option"]),
    Fault("tls_expired_certificate", Status.E_TLS, kind="tls",
          applies=lambda op: op.name == FIRST[op.backend],
          message=["SSL certificate problem: certificate has expired",
                   "give that certificate as the ca_file option"]),
]

CASES = [pytest.param(fault, OPS[key], id="%s-%s-%s" % (fault.name, key[0], key[1]))
         for fault in FAULTS for key in OPS if fault.applies(OPS[key])]


# ---- helpers ---------------------------------------------------------------------------------

class Context:
    """What a case's messages refer to: the emulator's port, the redirect target."""

    def __init__(self, port, target):
        self.port, self.target = port, target


def proc_status_kib(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise AssertionError("/proc/self/status has no " + field)


def reset_peak_rss():
    """VmHWM starts again from the current RSS (Linux: clear_refs 5)."""
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")


def new_session(p, backend, emu, seconds=None):
    settings = clients.capture_settings(backend, emu, seconds)
    s = p.session("cap1")
    s.target = settings["target"]
    s.time_limit = settings["time_limit"]
    if settings["packet_limit"]:
        s.packet_limit = settings["packet_limit"]
    if settings["storage"]:
        s.storage = pktcap.Storage(settings["storage"])
    return s


def prepare(op, p, emu):
    """A healthy emulator brings the session to where the operation makes sense."""
    if op.name == "refresh":
        # a capture still running when the fault fires (Cloudflare's longest simple one)
        s = new_session(p, op.backend, emu, seconds=300)
        s.start()
        deadline = time.monotonic() + WAIT
        while s.refresh() != State.RUNNING:
            assert time.monotonic() < deadline, "the capture never ran"
            time.sleep(0.02)
        time.sleep(0.05)   # past poll_interval_ms: the next refresh sends a request
        return s
    if op.name == "fetch":
        s = new_session(p, op.backend, emu)
        s.start()
        assert s.wait(WAIT) == State.COMPLETE, s.error_text
        return s
    return None


def run(op, p, s, emu, out_dir):
    """The operation; returns (code, message), (None, "") when it succeeded."""
    try:
        if op.name == "list":
            p.sessions()
        elif op.name == "refresh":
            s.refresh()
        elif op.name == "fetch":
            s.fetch(str(out_dir / "capture.pcap"))
        else:
            s = new_session(p, op.backend, emu)
            s.start()
            if op.name == "capture":
                # the capture runs in the session's thread: its failure is the session's
                assert s.wait(WAIT) == State.FAILED, (s.state, s.error_text)
                native = s.details()["native"]
                return Status[native["code"][len("PKTCAP_"):]], native["message"]
        return None, ""
    except pktcap.PktcapError as e:
        assert type(e) is exception_class(e.code)
        return e.code, e.message


def credentials_in(req, backend):
    """Whether a request to the emulator carried the backend's credentials."""
    if backend == "sdwan" and req.route == "login":
        return b'"password"' in req.body
    name = "Cookie" if backend == "sdwan" else "Authorization"
    return name in req.headers


@pytest.fixture(scope="module")
def certificates(tmp_path_factory):
    """A CA and three server certificates it signed: good, for another host name, expired."""
    directory = str(tmp_path_factory.mktemp("tls"))
    ca = make_ca(directory)
    return {
        "ca": ca[0],
        "tls_good": issue_cert(directory, ca, stem="good"),
        "tls_wrong_host_name": issue_cert(directory, ca, names=("DNS:wrong.example",),
                                          stem="wrong-host"),
        "tls_expired_certificate": issue_cert(directory, ca, expired=True, stem="expired"),
    }


def options(op, emu, **extra):
    """The provider options of every case: small timeouts, retries=2; *extra* wins."""
    settings = dict(retries=RETRIES, timeout_ms=TIMEOUT_MS, connect_timeout_ms=TIMEOUT_MS,
                    retry_budget_ms=20000)
    if op.backend == "sdwan":
        settings["capture_margin_ms"] = SDWAN_MARGIN_MS
    settings.update(extra)
    return clients.provider_options(op.backend, emu, **settings)


def hold_port(port):
    """Binds *port* without listening: connections to it are refused while held."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    return sock


# ---- the table ----------------------------------------------------------------------------------

@pytest.mark.parametrize("fault,op", CASES)
def test_network_fault(fault, op, tmp_path, certificates):
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    tls = {}
    if fault.kind == "tls":
        tls = dict(zip(("certfile", "keyfile"), certificates[fault.name]))
    held = None
    with clients.emulator(op.backend, **tls) as emu, RedirectTarget() as target:
        ctx = Context(emu.port, target)
        extra = {"ca_file": certificates["ca"]} if tls else {}
        extra.update(fault.options)
        with Provider(clients.provider_uri(op.backend, emu), **options(op, emu, **extra)) as p:
            s = prepare(op, p, emu)
            session_id = s.id if s else ""
            emu.clear_log()
            if fault.kind == "refused":
                emu.stop()
                held = hold_port(emu.port)
            else:
                # Kept-alive connections closed: libcurl sends a request again by
                # itself when a reused connection dies before answering, which
                # would blur the counts (see the test after this one).
                assert emu.close_connections()
                if fault.arm:
                    fault.arm(emu, op.route, ctx)
            gc.collect()
            rss_before = proc_status_kib("VmRSS") << 10
            reset_peak_rss()
            started = time.monotonic()
            code, message = run(op, p, s, emu, out_dir)
            elapsed = time.monotonic() - started
            peak = proc_status_kib("VmHWM") << 10
        if held is not None:
            held.close()
        sent = emu.requests(route=op.route)
        attempts = fault.attempts(op)

        # the code, and a message naming the request, the server and the problem
        assert code == fault.code, message
        what = op.what.format(port=ctx.port, id=session_id,
                              account=getattr(emu, "account_id", ""))
        if fault.kind != "fault" and op.backend == "azure":
            # what fails first is the request for a token (ARM's, or Storage's to download)
            what = "token request to http%s://127.0.0.1:%d for https://%s.azure.com/: " % (
                "s" if tls else "", ctx.port, "storage" if op.name == "fetch" else "management")
        if fault.name.startswith("huge_json"):
            what = "response to " + what[:-2] + " "   # the size cap names the response
        assert message.startswith(what), message
        for fragment in fault.message(op, ctx):
            assert fragment in message, (fragment, message)
        if fault.kind != "fault" or fault.code in (Status.E_NET, Status.E_TIMEOUT):
            assert "127.0.0.1:%d/" % ctx.port in message, message     # the URL, redacted
        if attempts > 1:
            assert message.endswith(" after %d attempts" % attempts), message
        elif fault.kind != "refused":
            assert " attempts" not in message, message
        secret = {"azure": "client_secret", "cloudflare": "api_token", "sdwan": "password"}
        for text in (getattr(emu, secret[op.backend]), SECRET):
            assert text not in message

        # within the budget, and no sooner than the waits it must honour
        least = (attempts * op.attempt_s if fault.stalls else 0) + (attempts - 1) * fault.waits
        assert least * 0.9 <= elapsed <= least + MARGIN_S, (elapsed, least)

        # the retry policy, counted where the requests arrived
        if fault.kind == "fault":
            assert len(sent) == attempts, [r.status for r in sent]
        else:
            assert sent == []      # refused: nobody listened; TLS: no request got through

        if fault.huge:
            assert peak - rss_before < MAX_GROWTH, (peak - rss_before) >> 20

        if op.body == "file":
            assert os.listdir(out_dir) == []   # no final file, no temporary

        # redirects: not followed, so no credential ever reached the other host
        assert target.requests() == []
        if fault.name.startswith("redirect"):
            assert all(credentials_in(r, op.backend) for r in sent)
        assert emu.errors == []


@pytest.mark.parametrize("backend", clients.BACKENDS)
def test_the_ca_that_signed_the_faulty_certificates_works(backend, certificates):
    """The control for the TLS cases: only the certificate's fault made them fail."""
    cert, key = certificates["tls_good"]
    op = OPS[backend, FIRST[backend]]
    with clients.emulator(backend, certfile=cert, keyfile=key) as emu:
        assert emu.base_url.startswith("https://")
        with Provider(clients.provider_uri(backend, emu),
                      **options(op, emu, ca_file=certificates["ca"])) as p:
            assert run(op, p, None, emu, None) == (None, "")
        assert len(emu.requests(route=op.route)) == 1


# ---- a request that must not be repeated ----------------------------------------------------

@pytest.mark.parametrize("how", ["rst", "close"])
@pytest.mark.parametrize("backend", ["cloudflare", "sdwan"])
def test_a_request_that_must_not_be_repeated_goes_out_once_on_a_kept_alive_connection(
        backend, how):
    """libcurl sends a request again, on its own, when the kept-alive connection
    it reused dies before the first byte of the answer: a POST create must get a
    connection of its own so that this never happens to it. The connection
    of the request before (a list, the login) is kept alive here."""
    op = OPS[backend, "start" if backend == "cloudflare" else "capture"]
    with clients.emulator(backend) as emu:
        with Provider(clients.provider_uri(backend, emu),
                      **options(op, emu)) as p:
            if backend == "cloudflare":
                p.sessions()
            emu.faults.reset_headers(STORM, 12, route=op.route, how=how)
            code, message = run(op, p, None, emu, None)
        assert code == Status.E_NET, message
        assert len(emu.requests(route=op.route)) == 1
        assert emu.errors == []
