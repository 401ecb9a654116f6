"""Citrix SD-WAN emulator: the appliance's NITRO v2 packet capture API.

One HTTP(S) server answers, under ``/sdwan/nitro``:

* ``POST|DELETE /sdwan/nitro/v1/config/login`` and ``/sdwan/nitro/v2/config/login``
  (log in: session cookies; log out);
* ``POST /sdwan/nitro/v2/diag/packet_capture`` (a synchronous capture: the
  answer comes after ``duration * time_scale`` seconds, with the packet
  summary);
* ``GET|HEAD /sdwan/nitro/v2/download/pcap_download`` (the last capture as
  pcapng, sent as ``Content-Type: application/json`` like the appliance).

Route names (for faults and the request log): login, logout, capture,
download.  Errors are NITRO JSON ``{"errorcode": N, "errormessage": "…",
"severity": "ERROR"}``.  The behaviour, the error codes and the choices made
where Citrix's documentation is silent are described in README.md next to
this file.
"""

import http
import json
import re
import secrets
import struct
import time

from emulator import Emulator, Response, parse_range

__all__ = [
    "SdwanEmulator", "SESSION_COOKIE", "NS_COOKIE", "SUMMARY_FIELDS", "DURATIONS",
    "MAX_PACKETS", "EMPTY_PCAPNG", "ADDED", "DELETED",
    "E_INVALID_ARGUMENT", "E_MISSING_ARGUMENT", "E_INVALID_VALUE", "E_LOGIN_FAILED",
    "E_SESSION", "E_NO_RESOURCE", "E_MEDIA_TYPE", "E_METHOD", "E_BUSY", "E_RANGE",
    "E_THROTTLED", "E_INTERNAL", "E_UNAVAILABLE",
]

# The session cookie (the appliance's real name is undocumented) and a second
# cookie that must come back too: a client has to keep every cookie it is given.
SESSION_COOKIE = "SDWANSESSIONID"
NS_COOKIE = "citrix_ns_id"

# The ten fields of a summary row, in the order the appliance writes them; all strings.
SUMMARY_FIELDS = ("number", "time", "src_mac", "dst_mac", "src_ip", "dst_ip",
                  "src_port", "dst_port", "protocol", "length")
DURATIONS = (5, 10, 15, 30)
MAX_PACKETS = (1000, 2000, 5000, "MAX")
ADDED = "resource added succesfully"      # sic: the appliance's spelling
DELETED = "resource deleted succesfully"  # sic

# NITRO error codes (SD-WAN does not document them: NetScaler-like choices).
E_INVALID_ARGUMENT = 278    # 400 an argument the resource does not have
E_MISSING_ARGUMENT = 1092   # 400 a required argument is missing
E_INVALID_VALUE = 1093      # 400 an argument's value is not accepted
E_LOGIN_FAILED = 354        # 401 wrong username or password
E_SESSION = 444             # 401 no, unknown, expired or logged-out session
E_NO_RESOURCE = 258         # 404 unknown path; download before any capture
E_METHOD = 1091             # 405
E_BUSY = 1097               # 409 a capture is already running
E_MEDIA_TYPE = 1090         # 415 not a JSON body
E_RANGE = 1096              # 416 a Range starting past the end of the file
E_THROTTLED = 1104          # 429 (faults)
E_INTERNAL = 1021           # 500 (faults, fail_captures)
E_UNAVAILABLE = 1105        # 503 (faults)

SESSION_MESSAGE = "Session expired or invalid. Please login again."

_DEFAULT_ERRORS = {
    400: (E_INVALID_VALUE, "Invalid argument value."),
    401: (E_SESSION, SESSION_MESSAGE),
    404: (E_NO_RESOURCE, "No such resource."),
    405: (E_METHOD, "Method not allowed."),
    409: (E_BUSY, "A packet capture is already running. Retry when it has finished."),
    415: (E_MEDIA_TYPE, "Unsupported media type: the request body must be JSON "
                        "(Content-Type: application/json)."),
    416: (E_RANGE, "The requested range is not satisfiable."),
    429: (E_THROTTLED, "Too many requests. Retry later."),
    500: (E_INTERNAL, "Internal error while processing the request."),
    503: (E_UNAVAILABLE, "The service is temporarily unavailable. Retry later."),
}

# A pcapng file without packets: a Section Header Block (version 1.0, section
# length unknown) and one Ethernet Interface Description Block (snaplen 262144).
EMPTY_PCAPNG = (struct.pack("<IIIHHqI", 0x0A0D0D0A, 28, 0x1A2B3C4D, 1, 0, -1, 28)
                + struct.pack("<IIHHII", 1, 20, 1, 0, 262144, 20))

# With download_size_override, at most this many real bytes follow the headers.
_OVERRIDE_SENT = 65536
_INTEGER_TEXT = re.compile(r"[1-9][0-9]*")


class _Reply(Exception):
    """Raised by a handler to answer at once with a ready Response."""

    def __init__(self, response):
        super().__init__(response.status)
        self.response = response


class _Announced(bytes):
    """Body bytes whose len() (hence Content-Length) is a larger announced size."""

    announced = 0

    def __len__(self):
        return self.announced


class _Session:
    """A login session: its two cookie values and its expiry (Unix time)."""

    def __init__(self, token, ns_id, expires_at):
        self.token = token
        self.ns_id = ns_id
        self.expires_at = expires_at


class SdwanEmulator(Emulator):
    """Citrix SD-WAN appliance: NITRO login, packet capture and pcap download.

    Every constructor keyword is also an attribute that tests may change
    while the server runs (under ``emu.lock`` for consistency):

    ``username`` / ``password``; ``interfaces`` (names accepted in the
    ``interface`` argument, case-sensitive); ``capture_bytes`` (the file
    served after a capture; None = :data:`EMPTY_PCAPNG`); ``summary_rows``
    (rows of the capture answer, dicts with the :data:`SUMMARY_FIELDS`);
    ``response_shape`` (``"current"``: a JSON array echoing the request,
    ``"legacy"``: ``{"packet_capture": {...}}``); ``session_lifetime``
    (seconds after login, **not scaled**); ``download_size_override``
    (announce that Content-Length, send a short start of the file, close);
    ``reject_filter`` (a filter_str containing this text gets 400; None =
    every string is accepted); ``fail_captures`` (the next n captures run
    their duration, then answer 500 and leave no new file).

    Counters and records: ``logins``, ``logouts``, ``captures`` (the parsed
    body of every capture request that passed validation, in order).
    """

    def __init__(self, username="admin", password="Pa55w0rd!", interfaces=None,
                 capture_bytes=None, summary_rows=None, response_shape="current",
                 session_lifetime=600, download_size_override=None, reject_filter=None,
                 fail_captures=0, **kwargs):
        super().__init__(**kwargs)
        self.username = username
        self.password = password
        self.interfaces = list(interfaces if interfaces is not None
                               else ["MGMT", "1", "2", "LTE-1", "1/2"])
        self.capture_bytes = capture_bytes
        self.summary_rows = list(summary_rows or [])
        self.response_shape = response_shape
        self.session_lifetime = session_lifetime
        self.download_size_override = download_size_override
        self.reject_filter = reject_filter
        self.fail_captures = fail_captures
        self.logins = 0
        self.logouts = 0
        self.captures = []
        self._sessions = {}        # SESSION_COOKIE value -> _Session
        self._running_until = 0.0  # monotonic end of the capture in progress
        self._file_ready_at = None  # monotonic time the last good capture's file appears

        login = r"/sdwan/nitro/v[12]/config/login/?"
        self.add_route("POST", login, self._replying(self._login, auth=False), "login")
        self.add_route("DELETE", login, self._replying(self._logout), "logout")
        self.add_route("POST", r"/sdwan/nitro/v2/diag/packet_capture/?",
                       self._replying(self._capture), "capture")
        self.add_route(["GET", "HEAD"], r"/sdwan/nitro/v2/download/pcap_download/?",
                       self._replying(self._download), "download")

    # -- helpers for tests -------------------------------------------------

    def provider_uri(self):
        """The library's provider URI: ``sdwan://127.0.0.1:PORT`` (+ ``?scheme=http`` without TLS)."""
        uri = "sdwan://127.0.0.1:%d" % self.port
        return uri if self.certfile else uri + "?scheme=http"

    def login_url(self, version=2):
        """``{base_url}/sdwan/nitro/v{version}/config/login``."""
        return "%s/sdwan/nitro/v%d/config/login" % (self.base_url, version)

    def capture_url(self):
        """``{base_url}/sdwan/nitro/v2/diag/packet_capture``."""
        return self.base_url + "/sdwan/nitro/v2/diag/packet_capture"

    def download_url(self):
        """``{base_url}/sdwan/nitro/v2/download/pcap_download``."""
        return self.base_url + "/sdwan/nitro/v2/download/pcap_download"

    def expire_sessions(self):
        """Expire every current session at once (the next call with its cookie gets 401)."""
        with self.lock:
            self._sessions.clear()

    def live_sessions(self):
        """How many sessions are logged in and not expired."""
        with self.lock:
            self._purge()
            return len(self._sessions)

    @property
    def file_available(self):
        """True once a capture has finished successfully (download then answers 200)."""
        with self.lock:
            return self._file_ready()

    # -- plumbing ----------------------------------------------------------

    def _replying(self, handler, auth=True):
        """Wrap a handler: session check first (when *auth*), state lock held, _Reply caught."""
        def run(req):
            try:
                with self.lock:
                    self._purge()
                    session = self._check_session(req) if auth else None
                    return handler(req, session)
            except _Reply as reply:
                return reply.response
        return run

    def error_body(self, status, code, message, route=None):
        """NITRO error JSON."""
        return "application/json", _json_bytes(
            {"errorcode": code, "errormessage": message, "severity": "ERROR"})

    def default_error(self, status, route=None):
        if status in _DEFAULT_ERRORS:
            return _DEFAULT_ERRORS[status]
        try:
            phrase = http.HTTPStatus(status).phrase
        except ValueError:
            phrase = "Error"
        return status, phrase + "."

    def _fail(self, status, code, message, headers=None):
        raise _Reply(self.error_response(status, code, message, headers=headers))

    @staticmethod
    def _ok(obj, status=200, headers=None):
        return Response.json(status, obj, headers, content_type="application/json")

    # -- sessions ------------------------------------------------------------

    def _purge(self):
        """Forget expired sessions (caller holds the lock)."""
        now = time.time()
        for token in [t for t, s in self._sessions.items() if s.expires_at <= now]:
            del self._sessions[token]

    def _check_session(self, req):
        """The request's live session (both cookies must match), else 401."""
        cookies = _cookies(req.headers.get("Cookie", ""))
        session = self._sessions.get(cookies.get(SESSION_COOKIE, ""))
        if session is None or cookies.get(NS_COOKIE) != session.ns_id:
            self._fail(401, E_SESSION, SESSION_MESSAGE)
        return session

    def _cookie(self, name, value, expire=False):
        attributes = ["%s=%s" % (name, value), "Path=/"]
        if expire:
            attributes += ["Max-Age=0", "Expires=Thu, 01 Jan 1970 00:00:00 GMT"]
        attributes.append("HttpOnly")
        if self.certfile:
            attributes.append("Secure")
        return ("Set-Cookie", "; ".join(attributes))

    # -- JSON bodies -----------------------------------------------------------

    def _object(self, req, root, fields):
        """``body[root]`` of a JSON request; 415 when not JSON, 400 for its shape."""
        content_type = req.headers.get("Content-Type", "")
        if content_type.split(";")[0].strip().lower() != "application/json":
            self._fail(415, E_MEDIA_TYPE,
                       "Unsupported media type '%s': the request body must be JSON "
                       "(Content-Type: application/json)." % content_type)
        try:
            body = req.json()
        except ValueError:
            self._fail(415, E_MEDIA_TYPE, "The request body is not valid JSON.")
        if not isinstance(body, dict) or root not in body:
            self._fail(400, E_MISSING_ARGUMENT, "Required argument missing [%s]" % root)
        for key in body:
            if key != root:
                self._fail(400, E_INVALID_ARGUMENT, "Invalid argument [%s]" % key)
        obj = body[root]
        if not isinstance(obj, dict):
            self._fail(400, E_INVALID_VALUE,
                       "Invalid argument value [%s]: must be an object" % root)
        for key in obj:
            if key not in fields:
                self._fail(400, E_INVALID_ARGUMENT, "Invalid argument [%s]" % key)
        return body, obj

    # -- login / logout ----------------------------------------------------------

    def _login(self, req, _session):
        _, login = self._object(req, "login", ("username", "password"))
        for field in ("username", "password"):
            if field not in login:
                self._fail(400, E_MISSING_ARGUMENT, "Required argument missing [%s]" % field)
            if not isinstance(login[field], str):
                self._fail(400, E_INVALID_VALUE,
                           "Invalid argument value [%s]: must be a string" % field)
        if login["username"] != self.username or login["password"] != self.password:
            self._fail(401, E_LOGIN_FAILED, "Invalid username or password")
        session = _Session(secrets.token_hex(16), secrets.token_hex(8),
                           time.time() + self.session_lifetime)
        self._sessions[session.token] = session
        self.logins += 1
        return self._ok({"login": {"message": ADDED}},
                        headers=[self._cookie(SESSION_COOKIE, session.token),
                                 self._cookie(NS_COOKIE, session.ns_id)])

    def _logout(self, req, session):
        del self._sessions[session.token]
        self.logouts += 1
        return self._ok({"login": {"message": DELETED}},
                        headers=[self._cookie(SESSION_COOKIE, "", expire=True),
                                 self._cookie(NS_COOKIE, "", expire=True)])

    # -- capture -------------------------------------------------------------------

    def _capture(self, req, _session):
        body, capture = self._object(req, "packet_capture",
                                     ("interface", "duration", "filter_str", "max_packets"))
        for field in ("interface", "duration", "max_packets"):
            if field not in capture:
                self._fail(400, E_MISSING_ARGUMENT, "Required argument missing [%s]" % field)
        self._check_interface(capture["interface"])
        duration = _enum(capture["duration"], DURATIONS)
        if duration is None:
            self._fail(400, E_INVALID_VALUE,
                       "Invalid argument value [duration]: %s is not one of 5, 10, 15, 30"
                       % _show(capture["duration"]))
        max_packets = _enum(capture["max_packets"], MAX_PACKETS)
        if max_packets is None:
            self._fail(400, E_INVALID_VALUE,
                       "Invalid argument value [max_packets]: %s is not one of 1000, 2000, "
                       "5000, MAX" % _show(capture["max_packets"]))
        filter_str = capture.get("filter_str", "")
        if not isinstance(filter_str, str):
            self._fail(400, E_INVALID_VALUE,
                       "Invalid argument value [filter_str]: must be a string")
        if self.reject_filter is not None and self.reject_filter in filter_str:
            self._fail(400, E_INVALID_VALUE,
                       "Invalid argument value [filter_str]: syntax error in filter "
                       "expression '%s'" % filter_str)
        now = time.monotonic()
        if now < self._running_until:
            self._fail(409, E_BUSY, _DEFAULT_ERRORS[409][1])
        self.captures.append(body)
        seconds = self.scaled(duration)
        self._running_until = now + seconds
        if self.fail_captures > 0:
            self.fail_captures -= 1
            failed = self.error_response(500, E_INTERNAL,
                                         "Packet capture failed: the capture process ended "
                                         "unexpectedly.")
            failed.delay = seconds
            return failed
        self._file_ready_at = now + seconds
        rows = self._rows()
        if max_packets != "MAX":
            rows = rows[:max_packets]
        if self.response_shape == "legacy":
            answer = {"packet_capture": {"message": ADDED, "summary": rows}}
        elif self.response_shape == "current":
            answer = [{"duration": str(capture["duration"]), "filter_str": filter_str,
                       "interface": capture["interface"],
                       "max_packets": str(capture["max_packets"]),
                       "message": ADDED, "summary": rows}]
        else:
            raise ValueError("response_shape must be 'current' or 'legacy', not %r"
                             % (self.response_shape,))
        response = self._ok(answer)
        response.delay = seconds
        return response

    def _check_interface(self, value):
        if not isinstance(value, str) or not value:
            self._fail(400, E_INVALID_VALUE,
                       "Invalid argument value [interface]: must be interface names joined "
                       "by '--'")
        names = value.split("--")
        for name in names:
            if name not in self.interfaces:
                self._fail(400, E_INVALID_VALUE,
                           "Invalid argument value [interface]: unknown interface '%s' "
                           "(known: %s)" % (name, ", ".join(self.interfaces)))
        if len(set(names)) != len(names):
            self._fail(400, E_INVALID_VALUE,
                       "Invalid argument value [interface]: an interface is named twice in "
                       "'%s'" % value)

    def _rows(self):
        """summary_rows as the appliance writes them: the ten fields, every value a string."""
        rows = []
        for index, row in enumerate(self.summary_rows):
            missing = [f for f in SUMMARY_FIELDS if f not in row]
            if missing:
                raise ValueError("summary_rows[%d] lacks %s" % (index, ", ".join(missing)))
            rows.append({field: str(row[field]) for field in SUMMARY_FIELDS})
        return rows

    # -- download --------------------------------------------------------------------

    def _file_ready(self):
        return self._file_ready_at is not None and time.monotonic() >= self._file_ready_at

    def _download(self, req, _session):
        if not self._file_ready():
            self._fail(404, E_NO_RESOURCE,
                       "No such resource [pcap_download]: no capture file available")
        data = EMPTY_PCAPNG if self.capture_bytes is None else bytes(self.capture_bytes)
        headers = [("Content-Type", "application/json"), ("Accept-Ranges", "bytes")]
        if self.download_size_override is not None:
            body = _Announced(data[:_OVERRIDE_SENT])
            body.announced = int(self.download_size_override)
            response = Response(200, headers, body)
            response.cut_after = min(len(data), _OVERRIDE_SENT)
            return response
        spec = req.headers.get("Range")
        span = parse_range(spec, len(data)) if spec else None
        if span == "unsatisfiable":
            self._fail(416, E_RANGE,
                       "The requested range '%s' is not satisfiable: the file has %d bytes"
                       % (spec, len(data)), headers=[("Content-Range", "bytes */%d" % len(data))])
        if span is None:
            return Response(200, headers, data)
        first, last = span
        headers.append(("Content-Range", "bytes %d-%d/%d" % (first, last, len(data))))
        return Response(206, headers, data[first:last + 1])


def _json_bytes(obj):
    return json.dumps(obj, separators=(",", ":")).encode("utf-8")


def _cookies(header):
    """``name=value; name2=value2`` → dict (the first value of a repeated name wins)."""
    out = {}
    for part in header.split(";"):
        name, sep, value = part.strip().partition("=")
        if sep and name and name not in out:
            out[name] = value.strip().strip('"')
    return out


def _enum(value, allowed):
    """*value* if it is one of *allowed* (integers also as their decimal string), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and _INTEGER_TEXT.fullmatch(value):
        value = int(value)
    return value if value in allowed and type(value) in (int, str) else None


def _show(value):
    """A rejected value as it appears in an error message."""
    return json.dumps(value)
