"""Shared scaffolding for the provider emulators (standard library only).

An :class:`Emulator` is a real HTTP/1.1 server (optionally HTTPS) on
127.0.0.1 that runs in a daemon thread.  Subclasses register routes
(``method``, path regex, handler, short route name); every request is
recorded in a request log and passes through the shared fault switches
(:class:`Faults`) before it reaches its handler.

Typical use::

    with SomeEmulator(time_scale=0.01) as emu:
        urllib.request.urlopen(emu.base_url + "/...")
        assert emu.requests(route="get")[0].headers["User-Agent"]
"""

import collections.abc
import email.utils
import http
import http.server
import json
import os
import re
import select
import shutil
import socket
import socketserver
import ssl
import struct
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import urllib.parse

__all__ = [
    "CREDENTIAL_HEADERS", "Emulator", "Faults", "HTML_PAGE", "Headers", "INVALID_JSON",
    "RedirectTarget", "Request", "Response", "http_date", "huge_json", "issue_cert", "make_ca",
    "make_cert",
]

# What the ``wrong_content_type`` fault serves by default: a proxy's or
# captive portal's sign-in page where the API's JSON was expected.
HTML_PAGE = (b"<!DOCTYPE html>\n<html><head><title>Sign in</title></head>"
             b"<body><h1>Sign in to continue</h1><form method=\"post\"></form></body></html>\n")
# What the ``invalid_json`` fault serves by default: JSON-looking, not JSON.
INVALID_JSON = b'{"value": [{"name": "cap1",, "id": }]'
# How long a ``stall`` holds a connection at most: it ends sooner when the
# client gives up (closes) or the emulator stops.
STALL_SECONDS = 120.0
# Credential-bearing request headers a RedirectTarget watches for.
CREDENTIAL_HEADERS = ("Authorization", "Cookie", "X-Auth-Key", "X-Auth-Email",
                      "X-Auth-User-Service-Key")


def http_date(when=None):
    """An HTTP date (RFC 9110 IMF-fixdate) for the Unix time *when* (default now)."""
    return email.utils.formatdate(time.time() if when is None else when, usegmt=True)


class Headers(collections.abc.Mapping):
    """Read-only, case-insensitive view of HTTP headers.

    Iteration yields the names as the client spelled them; repeated headers
    are joined with ``", "`` as RFC 9110 allows.
    """

    def __init__(self, pairs=()):
        self._items = {}
        for name, value in pairs:
            key = name.lower()
            if key in self._items:
                first_name, first_value = self._items[key]
                self._items[key] = (first_name, first_value + ", " + value)
            else:
                self._items[key] = (name, value)

    def __getitem__(self, name):
        return self._items[name.lower()][1]

    def __contains__(self, name):
        return isinstance(name, str) and name.lower() in self._items

    def __iter__(self):
        return (name for name, _ in self._items.values())

    def __len__(self):
        return len(self._items)

    def __repr__(self):
        return "Headers(%r)" % dict(self)


class Request:
    """One request as received; also the entry kept in the request log.

    Attributes: ``method``, ``path`` (percent-decoded, without the query),
    ``raw_path`` (the request target exactly as sent), ``raw_query``,
    ``query`` (first value of each parameter), ``headers`` (:class:`Headers`),
    ``body`` (bytes), ``time`` (Unix time of arrival), ``route`` (the route
    name or None), ``match`` (the route's ``re.Match``), ``status`` (the
    status finally sent, set once answered).
    """

    def __init__(self, method, target, headers, body):
        self.method = method
        self.raw_path = target
        path, _, self.raw_query = target.partition("?")
        self.path = urllib.parse.unquote(path)
        self.query = {k: v[0] for k, v in
                      urllib.parse.parse_qs(self.raw_query, keep_blank_values=True).items()}
        self.headers = headers
        self.body = body
        self.time = time.time()
        self.route = None
        self.match = None
        self.status = None

    def json(self):
        """The body parsed as JSON (raises ``ValueError`` when it is not)."""
        return json.loads(self.body.decode("utf-8"))

    def __repr__(self):
        return "<Request %s %s route=%s status=%s>" % (
            self.method, self.raw_path[:120], self.route, self.status)


class Response:
    """What a handler returns.

    ``headers`` is a list of (name, value) pairs (Content-Length is added by
    the server).  ``stream``, when not None, is an iterable of bytes sent as
    the body instead of ``body`` (never held whole: hundreds of MB can go
    out); it is announced as ``Content-Length: length``, or sent chunked
    when ``length`` is None.

    Fault behaviours: ``cut_after=N`` sends the headers (with the full
    Content-Length) and only N body bytes, then closes the connection, or
    resets it (TCP RST: SO_LINGER 0) when ``cut_how`` is ``"rst"``;
    ``head_cut=N`` sends only the first N bytes of the status line and
    headers, then closes or resets (``cut_how``); ``stall`` (seconds) sends
    nothing at all, or only the headers when ``stall_after_headers``, and
    holds the connection that long, until the client closes it or the
    emulator stops; ``delay`` waits that many seconds before answering;
    ``close`` closes the connection after a complete answer.
    """

    def __init__(self, status, headers=None, body=b"", cut_after=None, delay=0.0, close=False,
                 stream=None, length=None):
        self.status = status
        self.headers = list(headers or [])
        self.body = body
        self.cut_after = cut_after
        self.delay = delay
        self.close = close
        self.stream = stream
        self.length = length
        self.cut_how = "close"
        self.head_cut = None
        self.stall = None
        self.stall_after_headers = False

    @classmethod
    def json(cls, status, obj, headers=None, content_type="application/json; charset=utf-8"):
        """A JSON response."""
        body = json.dumps(obj, separators=(",", ":")).encode("utf-8")
        return cls(status, [("Content-Type", content_type)] + list(headers or []), body)

    def header(self, name):
        """The value of the first header called *name* (case-insensitive), or None."""
        for key, value in self.headers:
            if key.lower() == name.lower():
                return value
        return None

    def set_header(self, name, value):
        """Replace every header called *name* with one (name, value)."""
        self.headers = [(k, v) for k, v in self.headers if k.lower() != name.lower()]
        self.headers.append((name, value))


class _Fault:
    """One armed fault: *kind*, remaining count, route filter and parameters."""

    def __init__(self, kind, count, route, **params):
        self.kind = kind
        self.remaining = count
        self.route = route
        self.params = params


def huge_json(size, prefix=b'{"value":[', item=None, suffix=b"]}", block=64 * 1024):
    """A JSON document of about *size* bytes, as ``(length, chunks)``.

    The document is *prefix*, *item* (an object, without the comma) repeated
    with commas between, then *suffix*; *length* is its exact size and
    *chunks* a generator of blocks of about *block* bytes, so that the whole
    never exists in memory.
    """
    item = item if item is not None else (
        b'{"name":"capture-000000","id":"/subscriptions/0/packetCaptures/capture-000000",'
        b'"properties":{"provisioningState":"Succeeded"}}')
    step = len(item) + 1                          # the item and its comma
    count = max(1, (size - len(prefix) - len(suffix) + 1) // step)
    length = len(prefix) + count * step - 1 + len(suffix)
    per_block = max(1, block // step)

    def chunks():
        yield prefix
        left = count
        full = (item + b",") * per_block
        while left > per_block:
            yield full
            left -= per_block
        yield (item + b",") * (left - 1) + item + suffix

    return length, chunks()


class Faults:
    """Thread-safe fault switches, shared by every emulator.

    Each switch arms a rule for the next *n* requests whose route name
    matches *route* (None = any route).  The request is logged either way.

    * Answers that replace the handler's (``throttle``, ``fail``, ``storm``,
      ``redirect``, ``invalid_json``, ``huge_body``, ``wrong_content_type``)
      are taken in the order they were armed; the handler does not run.
    * ``truncate_json`` shortens whatever answer is sent (Content-Length
      matching the shortened body).
    * Connection faults apply on top of whatever answer is sent:
      ``cut_body`` / ``reset_body`` (close or reset after N body bytes),
      ``reset_headers`` (close or reset inside the status line and
      headers), ``stall`` (send nothing, or only the headers, and hold the
      connection), and ``delay``.
    """

    def __init__(self):
        self._lock = threading.Lock()
        self._rules = []

    # -- answers that replace the handler's ------------------------------------

    def throttle(self, n, route=None, retry_after="1", header="Retry-After",
                 code=None, message=None):
        """Answer the next *n* matching requests with 429.

        *header* names the retry hint: ``"Retry-After"`` (seconds, or an HTTP
        date: see :func:`http_date`), ``"retry-after-ms"``,
        ``"x-ms-retry-after-ms"``, or None for no hint; *retry_after* is its
        value, sent verbatim.  *code* / *message* default to the emulator's
        usual throttling error.
        """
        headers = [(header, str(retry_after))] if header and retry_after is not None else []
        self._arm(_Fault("reject", n, route, status=429, code=code, message=message,
                         headers=headers))

    def fail(self, n, status, route=None, code=None, message=None, headers=None):
        """Answer the next *n* matching requests with *status* and the emulator's error body."""
        self._arm(_Fault("reject", n, route, status=status, code=code, message=message,
                         headers=list(headers or [])))

    def storm(self, n, status, route=None, retry_after=None):
        """*n* consecutive error answers: 429 (``throttle``) or a 5xx (``fail``).

        *retry_after* (seconds, as text) adds a ``Retry-After`` header; None
        sends none, so the client must fall back on its own backoff.
        """
        if status == 429:
            self.throttle(n, route, retry_after=retry_after,
                          header="Retry-After" if retry_after is not None else None)
        else:
            self.fail(n, status, route,
                      headers=[("Retry-After", str(retry_after))] if retry_after is not None
                      else None)

    def redirect(self, n, location, route=None, status=302):
        """Answer the next *n* matching requests with *status* (301, 302, 303, 307, 308)
        and ``Location: location`` — a URL, or a callable(request) giving one
        (e.g. a :class:`RedirectTarget` URL on another host, with the same path)."""
        if status not in (301, 302, 303, 307, 308):
            raise ValueError("a redirect status is one of 301, 302, 303, 307, 308")
        self._arm(_Fault("reject", n, route, answer=lambda emu, req, name: Response(
            status, [("Location", location(req) if callable(location) else location),
                     ("Content-Type", "text/html; charset=utf-8")],
            b"<html><body>Moved</body></html>\n")))

    def invalid_json(self, n, route=None, status=200, body=INVALID_JSON,
                     content_type="application/json; charset=utf-8"):
        """Answer the next *n* matching requests with *status* and *body*, which
        claims to be JSON and is not."""
        self._arm(_Fault("reject", n, route, answer=lambda emu, req, name: Response(
            status, [("Content-Type", content_type)], body)))

    def wrong_content_type(self, n, route=None, status=200, content_type="text/html; charset=utf-8",
                           body=HTML_PAGE):
        """Answer the next *n* matching requests with *status*, *content_type*
        (not the route's) and *body* (default: an HTML sign-in page, as a
        proxy or captive portal sends)."""
        self._arm(_Fault("reject", n, route, answer=lambda emu, req, name: Response(
            status, [("Content-Type", content_type)], body)))

    def huge_body(self, n, size=300 << 20, route=None, status=200, announce=True,
                  content_type="application/json; charset=utf-8", prefix=b'{"value":[',
                  item=None, suffix=b"]}"):
        """Answer the next *n* matching requests with a JSON body of about *size*
        bytes (see :func:`huge_json`), streamed from a generator: the
        emulator never holds it.  *announce*: with its Content-Length, else
        chunked (the client learns the size only by reading).  A client that
        gives up mid-body just ends the answer."""
        def answer(emu, req, name):
            length, chunks = huge_json(size, prefix, item, suffix)
            return Response(status, [("Content-Type", content_type)], stream=chunks,
                            length=length if announce else None)
        self._arm(_Fault("reject", n, route, answer=answer))

    # -- changes to whatever answer is sent --------------------------------------

    def truncate_json(self, n, route=None, keep=0.5):
        """Shorten the body of the next *n* matching answers to *keep* bytes (an
        int) or that fraction of it (a float; at least one byte is cut), with
        a Content-Length that matches: valid headers, a body that ends early."""
        self._arm(_Fault("truncate", n, route, keep=keep))

    def cut_body(self, n, after_bytes, route=None):
        """Close the connection after *after_bytes* body bytes of the next *n* matching answers."""
        self._arm(_Fault("cut", n, route, after_bytes=after_bytes))

    def reset_body(self, n, after_bytes, route=None):
        """Like ``cut_body``, but reset the connection (TCP RST) after *after_bytes* body bytes."""
        self._arm(_Fault("cut", n, route, after_bytes=after_bytes, how="rst"))

    def reset_headers(self, n, after_bytes=20, route=None, how="rst"):
        """Send only the first *after_bytes* bytes of the next *n* matching
        answers' status line and headers, then reset the connection (*how*
        ``"rst"``: SO_LINGER 0) or close it (``"close"``)."""
        if how not in ("rst", "close"):
            raise ValueError("how is 'rst' or 'close'")
        self._arm(_Fault("head", n, route, after_bytes=after_bytes, how=how))

    def stall(self, n, route=None, after_headers=False, seconds=STALL_SECONDS):
        """Read the next *n* matching requests and answer nothing (or, with
        *after_headers*, only the status line and headers), holding each
        connection until the client closes it, the emulator stops, or
        *seconds* pass; then close it."""
        self._arm(_Fault("stall", n, route, after_headers=after_headers, seconds=seconds))

    def delay(self, n, seconds, route=None):
        """Wait *seconds* before answering the next *n* matching requests."""
        self._arm(_Fault("delay", n, route, seconds=seconds))

    # -- bookkeeping ----------------------------------------------------------

    def reset(self):
        """Disarm every fault."""
        with self._lock:
            self._rules.clear()

    def pending(self, kind=None):
        """How many fault firings are still armed (of *kind*: reject, truncate, cut, head,
        stall, delay)."""
        with self._lock:
            return sum(r.remaining for r in self._rules if kind in (None, r.kind))

    def take(self, kind, route):
        """Consume one firing of the first armed *kind* rule matching *route*; its params or None."""
        with self._lock:
            for rule in self._rules:
                if rule.kind == kind and rule.route in (None, route):
                    rule.remaining -= 1
                    if rule.remaining <= 0:
                        self._rules.remove(rule)
                    return rule.params
        return None

    def _arm(self, rule):
        if rule.remaining <= 0:
            raise ValueError("a fault needs a positive count")
        with self._lock:
            self._rules.append(rule)


class _Route:
    """One entry of the route table."""

    def __init__(self, methods, pattern, handler, name, ignore_case):
        self.methods = methods
        self.regex = re.compile(pattern, re.IGNORECASE if ignore_case else 0)
        self.handler = handler
        self.name = name


class _Handler(http.server.BaseHTTPRequestHandler):
    """HTTP/1.1 keep-alive handler that hands every request to its Emulator."""

    protocol_version = "HTTP/1.1"
    server_version = "pktcap-emulator"
    timeout = 60  # an idle keep-alive connection is dropped after this
    # Headers and body go out in separate sends: without TCP_NODELAY the body
    # waits for the client's delayed ACK (~40 ms per answer).
    disable_nagle_algorithm = True

    def setup(self):
        super().setup()
        self.server.emulator._track(self.connection, True)
        if isinstance(self.connection, ssl.SSLSocket):
            try:
                self.connection.do_handshake()
            except (OSError, ssl.SSLError):
                self.server.emulator._track(self.connection, False)
                raise

    def finish(self):
        try:
            super().finish()
        finally:
            self.server.emulator._track(self.connection, False)

    def version_string(self):
        return self.server_version

    def do_GET(self):
        self._dispatch()

    do_HEAD = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_GET

    def _read_body(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _dispatch(self):
        emu = self.server.emulator
        req = Request(self.command, self.path, Headers(self.headers.items()), self._read_body())
        resp = emu._answer(req)
        if resp.delay:
            emu._stopping.wait(resp.delay)
        if resp.stall is not None and not resp.stall_after_headers:
            self._stall(resp.stall)
            return
        self.send_response(resp.status)
        for name, value in resp.headers:
            self.send_header(name, value)
        no_body = resp.status in (204, 304) or resp.status < 200
        chunked = resp.stream is not None and resp.length is None
        if not no_body:
            if chunked:
                self.send_header("Transfer-Encoding", "chunked")
            else:
                length = resp.length if resp.stream is not None else len(resp.body)
                self.send_header("Content-Length", str(length))
        if resp.close or resp.cut_after is not None or resp.stream is not None:
            self.send_header("Connection", "close")
            self.close_connection = True
        # The head goes out as bytes of our own, so that a fault can cut it anywhere.
        head = b"".join(self._headers_buffer) + b"\r\n"
        self._headers_buffer = []
        if resp.head_cut is not None:
            self.wfile.write(head[:resp.head_cut])
            self._abort(resp.cut_how)
            return
        self.wfile.write(head)
        if resp.stall is not None:
            self._stall(resp.stall)
            return
        if self.command != "HEAD" and not no_body:
            if resp.stream is not None:
                self._send_stream(resp.stream, chunked, resp.cut_after)
            else:
                self.wfile.write(resp.body if resp.cut_after is None
                                 else resp.body[:resp.cut_after])
        if resp.cut_after is not None and resp.cut_how == "rst":
            self._abort("rst")
            return
        self.wfile.flush()

    def _send_stream(self, chunks, chunked, cut_after):
        """Writes a streamed body; a client that hangs up ends it quietly."""
        emu = self.server.emulator
        sent = 0
        try:
            for chunk in chunks:
                if emu._stopping.is_set():
                    break
                if cut_after is not None:
                    chunk = chunk[:max(cut_after - sent, 0)]
                if chunk:
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk) if chunked else chunk)
                    sent += len(chunk)
                if cut_after is not None and sent >= cut_after:
                    return
            if chunked:
                self.wfile.write(b"0\r\n\r\n")
        except (OSError, ValueError):   # the client went away (reset, broken pipe, closed)
            self.close_connection = True
        finally:
            close = getattr(chunks, "close", None)
            if close is not None:
                close()

    def _abort(self, how):
        """Ends the connection now: a TCP reset (SO_LINGER 0, then close) or a plain close.

        The descriptor is closed here, not through socket.close(), which waits
        for the handler's reader (a makefile) to be closed too."""
        self.close_connection = True
        try:
            if how == "rst":
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                           struct.pack("ii", 1, 0))
            else:
                self.connection.shutdown(socket.SHUT_WR)
            os.close(self.connection.detach())
        except OSError:
            pass

    def _stall(self, seconds):
        """Sends nothing more, until the client closes, the emulator stops or *seconds* pass."""
        emu = self.server.emulator
        self.close_connection = True
        deadline = time.monotonic() + seconds
        try:
            self.wfile.flush()
            while not emu._stopping.is_set():
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                readable, _, _ = select.select([self.connection], [], [], min(left, 0.05))
                # What the client sends now is read raw (TLS records too) and
                # dropped: only its end of the connection matters.
                if readable and not socket.socket.recv(self.connection, 65536):
                    break
        except (OSError, ValueError):
            pass
        self._abort("close")

    def log_message(self, format, *args):  # noqa: A002 - signature fixed by the base class
        if self.server.emulator.verbose:
            sys.stderr.write("%s: %s\n" % (type(self.server.emulator).__name__, format % args))


class _Server(http.server.ThreadingHTTPServer):
    """ThreadingHTTPServer with optional TLS and no reverse DNS lookup at bind time.

    With TLS, each accepted connection is wrapped here without handshaking;
    the handshake runs in the connection's own thread (``_Handler.setup``), so
    a client that connects and stays silent cannot block the accept loop.
    """

    daemon_threads = True
    allow_reuse_address = True
    # listen()'s backlog: socketserver's default of 5 drops the connections of
    # a fleet of clients starting at once (./dev bench fleet: 1000 sessions).
    request_queue_size = 1024

    def __init__(self, address, emulator, ssl_context):
        self.emulator = emulator
        self.ssl_context = ssl_context
        super().__init__(address, _Handler)

    def server_bind(self):
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]

    def get_request(self):
        sock, address = self.socket.accept()
        if self.ssl_context is not None:
            sock = self.ssl_context.wrap_socket(sock, server_side=True,
                                                do_handshake_on_connect=False)
        return sock, address

    def handle_error(self, request, client_address):
        if self.emulator.verbose:
            super().handle_error(request, client_address)


class Emulator:
    """A provider emulator: HTTP(S) server, route table, request log and faults.

    Keyword arguments: ``host`` (the loopback address to listen on,
    default 127.0.0.1), ``port`` (0 = any free port), ``certfile`` /
    ``keyfile`` (serve HTTPS), ``time_scale`` (multiplies every protocol
    duration), ``max_lifetime`` (seconds after ``start()`` when the server
    stops by itself), ``verbose`` (log requests and connection errors to
    stderr).

    Subclasses register routes with :meth:`add_route` and supply
    :meth:`error_body` (their error format); they may override
    :meth:`default_error` and :meth:`decorate` (headers added to every
    answer).  Handler exceptions become 500 answers, are printed to stderr
    and kept in ``errors`` so tests can assert there were none.
    """

    def __init__(self, port=0, certfile=None, keyfile=None, time_scale=1.0,
                 max_lifetime=900, verbose=False, host="127.0.0.1"):
        self.host = host
        self.port = port
        self.certfile = certfile
        self.keyfile = keyfile
        self.time_scale = float(time_scale)
        self.max_lifetime = max_lifetime
        self.verbose = verbose
        self.faults = Faults()
        self.errors = []
        self.lock = threading.RLock()  # guards the subclass's protocol state
        self._routes = []
        self._log = []
        self._log_lock = threading.Lock()
        self._connections = set()
        self._conn_lock = threading.Lock()
        self._server = None
        self._thread = None
        self._timer = None
        self._stopping = threading.Event()  # set when stop() begins: cuts delays short
        self._stopped = threading.Event()   # set when the socket is closed
        self._stop_lock = threading.Lock()

    # -- lifecycle ---------------------------------------------------------

    def start(self):
        """Bind, start serving in a daemon thread and arm the lifetime timer; returns self."""
        if self._server is not None:
            raise RuntimeError("emulator already started")
        context = None
        if self.certfile:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(self.certfile, self.keyfile)
        self._server = _Server((self.host, self.port), self, context)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.01},
                                        name="%s:%d" % (type(self).__name__, self.port),
                                        daemon=True)
        self._thread.start()
        self._timer = threading.Timer(self.max_lifetime, self.stop)
        self._timer.daemon = True
        self._timer.start()
        return self

    def stop(self):
        """Stop serving and drop open connections (idempotent, any thread)."""
        with self._stop_lock:
            if self._server is None:
                return
            if self._stopping.is_set():
                self._stopped.wait()
                return
            self._stopping.set()
        if self._timer is not None and self._timer is not threading.current_thread():
            self._timer.cancel()
        self._server.shutdown()
        self._server.server_close()
        with self._conn_lock:
            connections = list(self._connections)
        for sock in connections:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self._stopped.set()

    def close_connections(self, wait=5.0):
        """Close every open connection from the server's side (a client's kept-alive
        ones included) and wait up to *wait* seconds for their handlers to end:
        the client's next request then opens a new connection."""
        with self._conn_lock:
            connections = list(self._connections)
        for sock in connections:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            with self._conn_lock:
                if not self._connections:
                    return True
            time.sleep(0.005)
        return False

    @property
    def running(self):
        """True between start() and stop()."""
        return self._server is not None and not self._stopping.is_set()

    def wait_stopped(self, timeout=None):
        """Block until the emulator has stopped (stop() or lifetime); True if it has."""
        return self._stopped.wait(timeout)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    @property
    def base_url(self):
        """``http://HOST:PORT`` or ``https://HOST:PORT`` (HOST: 127.0.0.1 unless given)."""
        return "%s://%s:%d" % ("https" if self.certfile else "http", self.host, self.port)

    def scaled(self, seconds):
        """A protocol duration in real seconds (``seconds * time_scale``)."""
        return seconds * self.time_scale

    def _track(self, sock, opened):
        with self._conn_lock:
            if opened:
                self._connections.add(sock)
            else:
                self._connections.discard(sock)

    # -- routes --------------------------------------------------------------

    def add_route(self, methods, pattern, handler, name, ignore_case=False):
        """Register *handler(request) -> Response* for *methods* and a full-match path regex.

        *methods* is a string or a list of strings; *name* is the short route
        name used by the fault switches and the request log.
        """
        if isinstance(methods, str):
            methods = [methods]
        self._routes.append(_Route(tuple(m.upper() for m in methods), pattern, handler,
                                   name, ignore_case))

    # -- request log ---------------------------------------------------------

    def requests(self, method=None, path_re=None, route=None):
        """Logged requests, oldest first, filtered by method, path regex (search) and route name."""
        with self._log_lock:
            log = list(self._log)
        return [r for r in log
                if (method is None or r.method == method.upper())
                and (path_re is None or re.search(path_re, r.path))
                and (route is None or r.route == route)]

    def clear_log(self):
        """Forget every logged request."""
        with self._log_lock:
            self._log.clear()

    # -- errors (subclass hooks) ---------------------------------------------

    def error_body(self, status, code, message, route=None):
        """The emulator's error format: returns (content_type, body bytes). Override."""
        body = json.dumps({"error": {"code": code, "message": message}}).encode()
        return "application/json; charset=utf-8", body

    def default_error(self, status, route=None):
        """(code, message) used when a fault or the router gives none."""
        try:
            phrase = http.HTTPStatus(status).phrase
        except ValueError:
            phrase = "Error"
        return phrase.title().replace(" ", "").replace("-", ""), phrase + "."

    def error_response(self, status, code=None, message=None, route=None, headers=None):
        """A Response carrying the emulator's error body."""
        default_code, default_message = self.default_error(status, route)
        content_type, body = self.error_body(status, code or default_code,
                                             message or default_message, route)
        return Response(status, [("Content-Type", content_type)] + list(headers or []), body)

    def decorate(self, request, response):
        """Hook: add headers every answer carries (called for every answer, faults included)."""

    # -- dispatch ------------------------------------------------------------

    def _answer(self, req):
        with self._log_lock:
            self._log.append(req)
        route, allowed = self._find_route(req)
        if route is None:
            status = 405 if allowed else 404
            resp = self.error_response(status, message="No route for %s %s." % (req.method, req.path))
            if allowed:
                resp.headers.append(("Allow", ", ".join(sorted(allowed))))
        else:
            resp = self._run_route(route, req)
        self.decorate(req, resp)
        req.status = resp.status
        return resp

    def _find_route(self, req):
        allowed = set()
        for route in self._routes:
            match = route.regex.fullmatch(req.path)
            if match is None:
                continue
            if req.method in route.methods:
                req.route, req.match = route.name, match
                return route, allowed
            allowed.update(route.methods)
        return None, allowed

    def _run_route(self, route, req):
        faults = self.faults
        delay = faults.take("delay", route.name)
        reject = faults.take("reject", route.name)
        if reject is not None and "answer" in reject:
            resp = reject["answer"](self, req, route.name)
        elif reject is not None:
            resp = self.error_response(reject["status"], reject["code"], reject["message"],
                                       route.name, reject["headers"])
        else:
            try:
                resp = route.handler(req)
            except Exception:  # a bug in the emulator: make it loud and visible to tests
                text = traceback.format_exc()
                self.errors.append(text)
                sys.stderr.write(text)
                resp = self.error_response(500, route=route.name)
        if delay is not None:
            resp.delay += delay["seconds"]
        truncate = faults.take("truncate", route.name)
        if truncate is not None:
            body = bytes(resp.body)
            keep = truncate["keep"]
            keep = keep if isinstance(keep, int) else int(len(body) * keep)
            resp.body = body[:min(keep, max(len(body) - 1, 0))]
        cut = faults.take("cut", route.name)
        if cut is not None:
            resp.cut_after = cut["after_bytes"]
            resp.cut_how = cut.get("how", "close")
        head = faults.take("head", route.name)
        if head is not None:
            resp.head_cut = head["after_bytes"]
            resp.cut_how = head["how"]
        stall = faults.take("stall", route.name)
        if stall is not None:
            resp.stall = stall["seconds"]
            resp.stall_after_headers = stall["after_headers"]
        return resp


def parse_range(spec, total):
    """``bytes=N-``, ``bytes=N-M`` or ``bytes=-K`` → (first, last); "unsatisfiable"; None to ignore."""
    match = re.fullmatch(r"\s*bytes=(\d*)-(\d*)\s*", spec)
    if match is None or match.group(1) == match.group(2) == "":
        return None
    if match.group(1) == "":
        length = int(match.group(2))
        return (max(total - length, 0), total - 1) if length and total else "unsatisfiable"
    first = int(match.group(1))
    last = int(match.group(2)) if match.group(2) else total - 1
    if first >= total:
        return "unsatisfiable"
    if last < first:
        return None
    return first, min(last, total - 1)


class RedirectTarget(Emulator):
    """Where a ``redirect`` fault sends clients: another listener (by default on
    127.0.0.2, another host as far as a client can tell) that answers every
    request with 200 ``{}`` and logs it, so a test can assert that nothing
    followed the redirect, or that no credential came along."""

    def __init__(self, host="127.0.0.2", **kwargs):
        super().__init__(host=host, **kwargs)
        self.add_route(["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH"], r"/.*",
                       lambda req: Response.json(200, {}), "any")

    def credentials_seen(self):
        """The credential-bearing headers (CREDENTIAL_HEADERS) that arrived, in order, by name."""
        return [name for req in self.requests() for name in CREDENTIAL_HEADERS
                if name in req.headers]

    def url_for(self, req):
        """This listener's URL with the path and query of *req* (for ``Faults.redirect``)."""
        return self.base_url + req.raw_path


def _openssl(*args, what):
    """Runs the openssl command line; RuntimeError when it is missing or fails."""
    openssl = shutil.which("openssl")
    if openssl is None:
        raise RuntimeError("%s: the openssl command is not installed" % what)
    done = subprocess.run([openssl] + list(args), stdin=subprocess.DEVNULL,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)
    if done.returncode != 0:
        raise RuntimeError("%s: openssl failed (%d): %s"
                           % (what, done.returncode, done.stderr.decode(errors="replace").strip()))


def make_cert(directory):
    """Make a self-signed certificate for 127.0.0.1 / localhost in *directory*.

    Uses the ``openssl`` command line; returns ``(certfile, keyfile)``.  The
    certificate is its own CA: pass certfile as the client's CA file.
    Raises RuntimeError when openssl is missing or fails.
    """
    os.makedirs(directory, exist_ok=True)
    certfile = os.path.join(directory, "emulator-cert.pem")
    keyfile = os.path.join(directory, "emulator-key.pem")
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
             "-subj", "/CN=127.0.0.1",
             "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
             "-addext", "keyUsage=critical,digitalSignature,keyEncipherment,keyCertSign",
             "-addext", "extendedKeyUsage=serverAuth",
             "-keyout", keyfile, "-out", certfile, what="make_cert")
    os.chmod(keyfile, 0o600)
    return certfile, keyfile


def make_ca(directory):
    """Make a test certificate authority in *directory*: ``(ca_cert, ca_key)``.

    Give ca_cert to the client as its CA file, and sign server certificates
    with :func:`issue_cert`, so that a TLS test can get everything right
    except the one fault it is about.  RuntimeError when openssl fails.
    """
    os.makedirs(directory, exist_ok=True)
    cert = os.path.join(directory, "test-ca.pem")
    key = os.path.join(directory, "test-ca-key.pem")
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
             "-subj", "/CN=pktcap test CA",
             "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign",
             "-keyout", key, "-out", cert, what="make_ca")
    os.chmod(key, 0o600)
    return cert, key


# `openssl ca` (not `x509 -req`) because it alone sets any validity period:
# -startdate/-enddate make an expired certificate with OpenSSL 3.0, whose
# req and x509 commands have no -not_before/-not_after yet.
_CA_CONFIG = """\
[ca]
default_ca = test_ca
[test_ca]
database = {db}
new_certs_dir = {dir}
serial = {serial}
default_md = sha256
policy = any
copy_extensions = none
unique_subject = no
[any]
commonName = supplied
[server]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = {names}
"""


def issue_cert(directory, ca, names=("IP:127.0.0.1", "DNS:localhost"), expired=False,
               stem="server"):
    """A server certificate signed by *ca* (``make_ca``'s pair), in *directory*.

    *names* are its subjectAltName entries (the first also gives the CN);
    *expired* makes it valid only for a day in 2020.  Returns ``(certfile,
    keyfile)`` named after *stem*.  RuntimeError when openssl fails.
    """
    ca_cert, ca_key = ca
    os.makedirs(directory, exist_ok=True)
    certfile = os.path.join(directory, stem + "-cert.pem")
    keyfile = os.path.join(directory, stem + "-key.pem")
    with tempfile.TemporaryDirectory(dir=directory) as work:
        csr = os.path.join(work, "request.csr")
        config = os.path.join(work, "ca.cnf")
        open(os.path.join(work, "index.txt"), "w").close()
        with open(os.path.join(work, "serial"), "w") as f:
            f.write("%032x\n" % int.from_bytes(os.urandom(15), "big"))
        with open(config, "w") as f:
            f.write(_CA_CONFIG.format(db=os.path.join(work, "index.txt"), dir=work,
                                      serial=os.path.join(work, "serial"),
                                      names=",".join(names)))
        _openssl("req", "-new", "-newkey", "rsa:2048", "-nodes",
                 "-subj", "/CN=" + names[0].partition(":")[2],
                 "-keyout", keyfile, "-out", csr, what="issue_cert")
        period = (["-startdate", "20200101000000Z", "-enddate", "20200102000000Z"] if expired
                  else ["-days", "2"])
        _openssl("ca", "-batch", "-notext", "-config", config, "-extensions", "server",
                 "-cert", ca_cert, "-keyfile", ca_key, "-in", csr, "-out", certfile,
                 *period, what="issue_cert")
    os.chmod(keyfile, 0o600)
    return certfile, keyfile
