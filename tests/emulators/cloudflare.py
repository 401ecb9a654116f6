"""Cloudflare emulator: the Magic Transit / Magic WAN packet captures (PCAPs) API.

One HTTP(S) server answers the Cloudflare API v4 under ``/client/v4`` (the
library's ``endpoint`` is ``{base_url}/client/v4``):

* ``POST|GET /accounts/{account_id}/pcaps`` (create, list);
* ``GET /accounts/{account_id}/pcaps/{pcap_id}`` (get);
* ``GET|HEAD /accounts/{account_id}/pcaps/{pcap_id}/download`` (a simple
  capture's file);
* ``PUT /accounts/{account_id}/pcaps/{pcap_id}/stop``;
* ``GET|POST /accounts/{account_id}/pcaps/ownership``,
  ``POST …/pcaps/ownership/validate`` and ``DELETE …/pcaps/ownership/{id}``
  (the buckets full captures are written to).

Route names (for faults and the request log): create, list, get, download,
stop, ownership_list, ownership_add, ownership_validate, ownership_delete.
Every JSON answer is Cloudflare's envelope ``{"success", "errors": [{"code",
"message"}], "messages", "result"}``.  The behaviour, the error codes, the
capture timeline and the choices made where Cloudflare's documentation is
silent are described in README.md next to this file.
"""

import collections
import datetime
import hmac
import http
import ipaddress
import json
import math
import re
import secrets
import time
import urllib.parse

from emulator import Emulator, Response, parse_range

__all__ = [
    "CloudflareEmulator", "envelope", "STATUSES", "FAIL_COLO", "FAIL_SOURCE_ADDRESS",
    "PCAP_CONTENT_TYPE", "SIMPLE_TIME_LIMIT", "FULL_TIME_LIMIT", "PACKET_LIMIT",
    "BYTE_LIMIT", "LIST_MAX",
    "E_AUTH", "E_HEADERS", "E_AUTHORIZATION_FORMAT", "E_EMAIL_FORMAT", "E_KEY_FORMAT",
    "E_ROUTE", "E_METHOD", "E_RATE", "E_OTHER", "E_BODY", "E_MISSING", "E_INVALID",
    "E_FILTER", "E_OFFSET_TIME", "E_NOT_VALIDATED", "E_PCAP_NOT_FOUND", "E_NOT_READY",
    "E_FULL_DOWNLOAD", "E_RANGE", "E_STOP_SIMPLE", "E_OWNERSHIP_NOT_FOUND",
    "E_CHALLENGE", "E_OWNERSHIP_EXISTS",
]

STATUSES = ("unknown", "success", "pending", "running", "conversion_pending",
            "conversion_running", "complete", "failed")
FAIL_COLO = "failcolo"                 # a full capture in this colo fails when it would start
FAIL_SOURCE_ADDRESS = "192.0.2.66"     # a simple capture filtering on it fails its conversion
PCAP_CONTENT_TYPE = "application/vnd.tcpdump.pcap"
JSON_CONTENT_TYPE = "application/json"
SYSTEMS = ("magic-transit",)
SIMPLE_TIME_LIMIT = (1, 300)
FULL_TIME_LIMIT = (1, 86400)
PACKET_LIMIT = (1, 10000)
BYTE_LIMIT = (1, 1000000000)
PORT_RANGE = (0, 65535)
PROTOCOL_RANGE = (0, 255)
LIST_MAX = 50                          # list answers the 50 most recent captures
OFFSET_WINDOW = 86400                  # offset_time: within the last 24 hours ...
OFFSET_LEEWAY = 5                      # ... give or take this much clock skew (seconds)
RAY_COLO = "ORD"

# Cloudflare's own codes.
E_AUTH = 10000                  # 403 no, unknown or wrong credentials; another account
E_HEADERS = 6003                # 400 malformed auth headers, with one of these in error_chain:
E_AUTHORIZATION_FORMAT = 6111   #     "Invalid format for Authorization header"
E_EMAIL_FORMAT = 6102           #     "Invalid format for X-Auth-Email header"
E_KEY_FORMAT = 6103             #     "Invalid format for X-Auth-Key header"
E_ROUTE = 7003                  # 404 unknown path, malformed account id
E_METHOD = 7001                 # 405
E_RATE = 971                    # 429 over the rate limit (and the throttle fault)
# The emulator's choices (Cloudflare does not document the PCAPs API's codes).
E_OTHER = 10002                 # any other fault status without a code of its own
E_BODY = 1001                   # 400 the body is not a JSON object
E_MISSING = 1002                # 400 a required field is missing (or null)
E_INVALID = 1003                # 400 a field's type or value (type, system, limits, colo, bucket)
E_FILTER = 1004                 # 400 filter_v1
E_OFFSET_TIME = 1005            # 400 offset_time
E_NOT_VALIDATED = 1006          # 400 full capture to a bucket whose ownership is not validated
E_PCAP_NOT_FOUND = 1007         # 404
E_NOT_READY = 1008              # 400 download before success (or of a failed capture)
E_FULL_DOWNLOAD = 1009          # 400 download of a full capture
E_RANGE = 1010                  # 416 Range start past the end
E_STOP_SIMPLE = 1011            # 400 stop of a simple capture (only with stop_full_only)
E_OWNERSHIP_NOT_FOUND = 1020    # 404 unknown ownership id / destination_conf
E_CHALLENGE = 1021              # 400 wrong ownership challenge
E_OWNERSHIP_EXISTS = 1022       # 400 destination_conf added twice

_FAULT_DEFAULTS = {
    403: (E_AUTH, "Authentication error"),
    404: (E_ROUTE, "Could not route to the requested path, perhaps your object identifier "
                   "is invalid?"),
    405: (E_METHOD, "Method not allowed"),
    429: (E_RATE, "Please wait and consider throttling your request speed"),
}
_ACCOUNT_RE = re.compile(r"[0-9a-f]{32}")
_TOKEN_RE = re.compile(r"[A-Za-z0-9._~+/=-]+")      # RFC 7235 token68
_KEY_RE = re.compile(r"[A-Za-z0-9]+")
_EMAIL_RE = re.compile(r"[^@\s]+@[^@\s]+")
_COLO_RE = re.compile(r"[A-Za-z0-9_-]{1,64}")
_BUCKET_RE = re.compile(r"[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]")
_RFC3339_RE = re.compile(r"(\d{4}-\d\d-\d\d)[Tt](\d\d:\d\d:\d\d)(?:\.(\d+))?([Zz]|[+-]\d\d:\d\d)")
_FILTER_FIELDS = ("source_address", "destination_address", "source_port", "destination_port",
                  "protocol")
_A = r"/client/v4/accounts/(?P<account>[^/]+)/pcaps"


class _Reply(Exception):
    """Raised by a handler to answer at once with a ready Response."""

    def __init__(self, response):
        super().__init__(response.status)
        self.response = response


class _Pcap:
    """A packet capture request; its status is derived from the clock (see CloudflareEmulator)."""

    def __init__(self, pcap_id, fields, created):
        self.id = pcap_id
        self.type = fields["type"]
        self.system = fields["system"]
        self.time_limit = fields["time_limit"]
        self.packet_limit = fields.get("packet_limit")
        self.byte_limit = fields.get("byte_limit")
        self.filter_v1 = fields.get("filter_v1")          # None when the request had none
        self.offset_time = fields.get("offset_time")
        self.colo_name = fields.get("colo_name")
        self.destination_conf = fields.get("destination_conf")
        self.created = created                            # time.monotonic() of the POST
        self.submitted = time.time()
        self.stop_at = None                               # monotonic time of the stop request
        self.stop_requested = None                        # its wall time
        self.delivered = False                            # full: object written to the bucket
        if self.type == "full" and (self.colo_name or "").lower() == FAIL_COLO:
            self.fail = "colo"
        elif self.type == "simple" and (self.filter_v1 or {}).get("source_address") == \
                FAIL_SOURCE_ADDRESS:
            self.fail = "conversion"
        else:
            self.fail = None


class _Ownership:
    """A bucket added for full captures, and its ownership challenge."""

    def __init__(self, destination_conf):
        self.id = secrets.token_hex(16)
        self.destination_conf = destination_conf
        self.filename = "ownership-challenge-%s.txt" % secrets.token_hex(4)
        self.challenge = secrets.token_urlsafe(48)
        self.status = "pending"
        self.submitted = time.time()
        self.validated = None


def envelope(result=None, errors=(), success=None):
    """Cloudflare's answer envelope (``success`` defaults to "no errors")."""
    errors = list(errors)
    return {"success": not errors if success is None else success, "errors": errors,
            "messages": [], "result": result}


def _error(code, message, chain=None):
    if isinstance(code, str) and code.isdigit():
        code = int(code)
    error = {"code": code, "message": message}
    if chain:
        error["error_chain"] = [{"code": c, "message": m} for c, m in chain]
    return error


def _json_bytes(obj):
    return json.dumps(obj, separators=(",", ":")).encode("utf-8")


def _rfc3339(unix):
    """RFC 3339 UTC with microseconds: ``2026-11-23T18:40:31.123456Z``."""
    stamp = datetime.datetime.fromtimestamp(unix, datetime.timezone.utc)
    return stamp.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _parse_rfc3339(text):
    """Unix time of an RFC 3339 timestamp, or None when *text* is not one."""
    match = _RFC3339_RE.fullmatch(text) if isinstance(text, str) else None
    if match is None:
        return None
    date, clock, fraction, zone = match.groups()
    try:
        stamp = datetime.datetime.fromisoformat(
            "%sT%s%s%s" % (date, clock, "." + (fraction + "00000")[:6] if fraction else "",
                           "+00:00" if zone in "Zz" else zone))
    except ValueError:
        return None
    return stamp.timestamp()


class CloudflareEmulator(Emulator):
    """Cloudflare PCAPs API emulator (Magic Transit / Magic WAN packet captures).

    Every constructor keyword is also an attribute that tests may change
    while the server runs (under ``emu.lock`` for consistency).
    ``pending_seconds``, ``conversion_seconds``, a capture's ``time_limit``
    and the time ``packets_per_second`` takes to reach ``packet_limit`` are
    multiplied by ``time_scale``; ``rate_window`` is not.

    ``rate_limit`` requests (None or 0: no limit) are accepted in any
    ``rate_window`` seconds (a sliding window over the requests that passed
    authentication; refused ones do not count); beyond, 429 with code 971,
    ``Retry-After`` (whole seconds until a request is accepted again, at
    least 1) and, when ``retry_after_ms_header``, ``Retry-After-Ms``.
    ``stop_full_only`` refuses to stop simple captures (as Cloudflare
    documents the stop call: for full captures); ``ownership_challenge_in_result``
    puts the challenge in the ownership objects (Cloudflare writes it only to
    the bucket).
    """

    def __init__(self, account_id="023e105f4ecef8ad9ca31a8372d0c353",
                 api_token="pktcapEmuToken0123456789abcdefghijklmnop",
                 email="user@example.com", api_key="c2547eb745079dac9320b638f5e225cf483cc",
                 capture_bytes=b"", pending_seconds=1, conversion_seconds=2,
                 packets_per_second=0, rate_limit=1200, rate_window=300,
                 retry_after_ms_header=False, stop_full_only=False,
                 ownership_challenge_in_result=True, **kwargs):
        super().__init__(**kwargs)
        self.account_id = account_id
        self.api_token = api_token
        self.email = email
        self.api_key = api_key
        self.capture_bytes = capture_bytes
        self.pending_seconds = pending_seconds
        self.conversion_seconds = conversion_seconds
        self.packets_per_second = packets_per_second
        self.rate_limit = rate_limit
        self.rate_window = rate_window
        self.retry_after_ms_header = retry_after_ms_header
        self.stop_full_only = stop_full_only
        self.ownership_challenge_in_result = ownership_challenge_in_result
        self._bucket_objects = {}   # destination_conf -> {object name: bytes}
        self._pcaps = {}            # id -> _Pcap, in creation order
        self._ownerships = {}       # id -> _Ownership, in creation order
        self._accepted = collections.deque()  # monotonic times of rate-counted requests

        one = _A + r"/(?P<pcap_id>[^/]+)"
        self._route("POST", _A + r"/ownership/validate/?", self._ownership_validate,
                    "ownership_validate")
        self._route("GET", _A + r"/ownership/?", self._ownership_list, "ownership_list")
        self._route("POST", _A + r"/ownership/?", self._ownership_add, "ownership_add")
        self._route("DELETE", _A + r"/ownership/(?P<ownership_id>[^/]+)/?",
                    self._ownership_delete, "ownership_delete")
        self._route("POST", _A + r"/?", self._create, "create")
        self._route("GET", _A + r"/?", self._list, "list")
        self._route(["GET", "HEAD"], one + r"/download/?", self._download, "download")
        self._route("PUT", one + r"/stop/?", self._stop, "stop")
        self._route("GET", one + r"/?", self._get, "get")

    # -- helpers for tests -------------------------------------------------

    @property
    def endpoint(self):
        """The API base the library is given: ``{base_url}/client/v4``."""
        return self.base_url + "/client/v4"

    def provider_uri(self):
        """The library's provider URI for this account: ``cloudflare://accounts/{account_id}``."""
        return "cloudflare://accounts/" + self.account_id

    @property
    def bucket_objects(self):
        """The buckets' contents: destination_conf → {object name: bytes} (live dict).

        Full captures land as ``pcap_<id>.pcap`` once ``complete``; each
        ownership challenge as its ``filename`` holding the challenge.
        """
        with self.lock:
            self._settle()
            return self._bucket_objects

    def pcap(self, pcap_id):
        """A snapshot of a capture (dict), or None when there is none with that id.

        The API object (``id``, ``status``, …) plus ``packet_limit``,
        ``packets_captured`` (simple captures too), ``end_reason`` (None until
        the running phase has ended, then ``"time_limit"``, ``"packet_limit"``,
        ``"stop"`` or ``"failed"``), ``bucket_object`` (the object name a full
        capture is written to, else None) and ``downloadable``.
        """
        with self.lock:
            self._settle()
            cap = self._pcaps.get(pcap_id)
            if cap is None:
                return None
            state = self._state(cap)
            snapshot = self._result(cap, state)
            snapshot.update({
                "packet_limit": cap.packet_limit,
                "packets_captured": state["packets"],
                "end_reason": state["reason"],
                "bucket_object": "pcap_%s.pcap" % cap.id if cap.type == "full" else None,
                "downloadable": cap.type == "simple" and state["status"] == "success",
            })
            return snapshot

    def validate_ownership_for(self, destination_conf):
        """Add (when needed) and validate the ownership of *destination_conf*; its object.

        Raises ValueError when *destination_conf* is not a bucket URI.
        """
        problem = _destination_problem(destination_conf)
        if problem:
            raise ValueError("destination_conf %r: %s" % (destination_conf, problem))
        with self.lock:
            owner = self._ownership_of(destination_conf) or self._add_ownership(destination_conf)
            if owner.status != "success":
                owner.status, owner.validated = "success", time.time()
            return self._ownership_result(owner)

    # -- plumbing ----------------------------------------------------------

    def _route(self, methods, pattern, handler, name):
        self.add_route(methods, pattern, self._replying(handler), name)

    def _replying(self, handler):
        """Wrap a handler: credentials, rate limit, account; state lock held; _Reply caught."""
        def run(req):
            try:
                self._authenticate(req)
                with self.lock:
                    self._count_request()
                    self._check_account(req)
                    self._settle()
                    return handler(req)
            except _Reply as reply:
                return reply.response
        return run

    def _ok(self, result, status=200, headers=None):
        return Response.json(status, envelope(result), headers, content_type=JSON_CONTENT_TYPE)

    def _fail(self, status, code, message, chain=None, headers=None):
        raise _Reply(Response.json(status, envelope(None, [_error(code, message, chain)]),
                                   headers, content_type=JSON_CONTENT_TYPE))

    def error_body(self, status, code, message, route=None):
        """Cloudflare's envelope with one error."""
        return JSON_CONTENT_TYPE, _json_bytes(envelope(None, [_error(code, message)]))

    def default_error(self, status, route=None):
        if status in _FAULT_DEFAULTS:
            return _FAULT_DEFAULTS[status]
        try:
            phrase = http.HTTPStatus(status).phrase
        except ValueError:
            phrase = "Error"
        return E_OTHER, phrase + "."

    def decorate(self, request, response):
        """A ``cf-ray`` on every answer."""
        response.headers.append(("cf-ray", "%s-%s" % (secrets.token_hex(8), RAY_COLO)))

    # -- checks common to every route --------------------------------------

    def _authenticate(self, req):
        """``Authorization: Bearer`` (preferred when present) or X-Auth-Email + X-Auth-Key."""
        authorization = req.headers.get("Authorization")
        if authorization is not None:
            scheme, _, token = authorization.strip().partition(" ")
            token = token.strip()
            if scheme.lower() != "bearer" or not _TOKEN_RE.fullmatch(token):
                self._fail(400, E_HEADERS, "Invalid request headers",
                           [(E_AUTHORIZATION_FORMAT, "Invalid format for Authorization header")])
            if not hmac.compare_digest(token.encode(), self.api_token.encode()):
                self._fail(403, E_AUTH, "Authentication error")
            return
        email = req.headers.get("X-Auth-Email")
        key = req.headers.get("X-Auth-Key")
        if email is None and key is None:
            self._fail(403, E_AUTH, "Authentication error")
        chain = []
        if email is None or not _EMAIL_RE.fullmatch(email.strip()):
            chain.append((E_EMAIL_FORMAT, "Invalid format for X-Auth-Email header"))
        if key is None or not _KEY_RE.fullmatch(key.strip()):
            chain.append((E_KEY_FORMAT, "Invalid format for X-Auth-Key header"))
        if chain:
            self._fail(400, E_HEADERS, "Invalid request headers", chain)
        if (email.strip().lower() != self.email.lower()
                or not hmac.compare_digest(key.strip().encode(), self.api_key.encode())):
            self._fail(403, E_AUTH, "Authentication error")

    def _count_request(self):
        """The sliding-window rate limit (caller holds the lock)."""
        if not self.rate_limit:
            return
        now = time.monotonic()
        while self._accepted and self._accepted[0] <= now - self.rate_window:
            self._accepted.popleft()
        excess = len(self._accepted) - self.rate_limit
        if excess >= 0:
            wait = max(self._accepted[excess] + self.rate_window - now, 0.001)
            headers = [("Retry-After", str(max(1, math.ceil(wait))))]
            if self.retry_after_ms_header:
                headers.append(("Retry-After-Ms", str(math.ceil(wait * 1000))))
            self._fail(429, E_RATE, _FAULT_DEFAULTS[429][1], headers=headers)
        self._accepted.append(now)

    def _check_account(self, req):
        account = req.match["account"]
        if not _ACCOUNT_RE.fullmatch(account):
            self._fail(404, E_ROUTE, "Could not route to %s, perhaps your object identifier is "
                                     "invalid?" % req.path)
        if account != self.account_id:
            self._fail(403, E_AUTH, "Authentication error")

    # -- capture state -------------------------------------------------------

    def _state(self, cap):
        """The capture now: status, packets, end reason, error message.

        pending for ``pending_seconds``, then running until the first of the
        time limit, ``packet_limit / packets_per_second`` and a stop request
        (a stop while pending skips running), then conversion_pending and
        conversion_running for half of ``conversion_seconds`` each, then
        ``success`` (simple) or ``complete`` (full).  A full capture in colo
        ``failcolo`` is ``failed`` when it would start running; a simple one
        whose filter has source_address 192.0.2.66 is ``failed`` instead of
        ``success``.
        """
        now = time.monotonic()
        start = cap.created + self.scaled(self.pending_seconds)
        if cap.fail == "colo":
            if now < start:
                return self._state_dict("pending")
            return self._state_dict("failed", reason="failed",
                                    error="colo_name '%s': the packet capture could not be "
                                          "started in this colo" % cap.colo_name)
        ends = [(start + self.scaled(cap.time_limit), "time_limit")]
        if self.packets_per_second > 0 and cap.packet_limit:
            ends.append((start + self.scaled(cap.packet_limit / self.packets_per_second),
                         "packet_limit"))
        if cap.stop_at is not None:
            ends.append((cap.stop_at, "stop"))
        run_end, reason = min(ends, key=lambda e: e[0])
        packets = self._packets(cap, now, start, run_end, reason)
        conversion = self.scaled(self.conversion_seconds)
        if now < min(start, run_end):
            return self._state_dict("pending")
        if now < run_end:
            return self._state_dict("running", packets)
        if now < run_end + conversion / 2:
            status = "conversion_pending"
        elif now < run_end + conversion:
            status = "conversion_running"
        elif cap.fail == "conversion":
            return self._state_dict("failed", packets, "failed",
                                    "the packet capture could not be converted to PCAP")
        else:
            status = "success" if cap.type == "simple" else "complete"
        return self._state_dict(status, packets, reason)

    @staticmethod
    def _state_dict(status, packets=0, reason=None, error=None):
        return {"status": status, "packets": packets, "reason": reason, "error": error}

    def _packets(self, cap, now, start, run_end, reason):
        """Packets captured by *now* at ``packets_per_second`` (capped at packet_limit)."""
        pps = self.packets_per_second
        if pps <= 0 or now < start:
            return 0
        if now >= run_end and reason == "packet_limit":
            return cap.packet_limit
        if now >= run_end and reason == "time_limit":
            seconds = cap.time_limit  # exact, whatever the time_scale
        else:  # running, or stopped (before the start: nothing)
            elapsed = max(min(now, run_end) - start, 0)
            seconds = elapsed / self.time_scale if self.time_scale > 0 else 0
        packets = int(pps * seconds)
        return min(packets, cap.packet_limit) if cap.packet_limit else packets

    def _settle(self):
        """Write the file of every newly complete full capture to its bucket (lock held)."""
        for cap in self._pcaps.values():
            if cap.type == "full" and not cap.delivered \
                    and self._state(cap)["status"] == "complete":
                self._bucket_objects.setdefault(cap.destination_conf, {})[
                    "pcap_%s.pcap" % cap.id] = bytes(self.capture_bytes or b"")
                cap.delivered = True

    def _result(self, cap, state=None):
        """The PCAP object."""
        state = state or self._state(cap)
        obj = {"id": cap.id, "status": state["status"], "submitted": _rfc3339(cap.submitted),
               "system": cap.system, "time_limit": cap.time_limit, "type": cap.type}
        if cap.filter_v1 is not None:
            obj["filter_v1"] = dict(cap.filter_v1)
        if cap.type == "simple":
            if cap.offset_time is not None:
                obj["offset_time"] = cap.offset_time
            if state["error"]:
                obj["error_message"] = state["error"]
        else:
            if cap.byte_limit is not None:
                obj["byte_limit"] = cap.byte_limit
            obj.update({"colo_name": cap.colo_name, "destination_conf": cap.destination_conf,
                        "error_message": state["error"] or "",
                        "packets_captured": state["packets"]})
        if cap.stop_requested is not None:
            obj["stop_requested"] = _rfc3339(cap.stop_requested)
        return obj

    def _find(self, req):
        cap = self._pcaps.get(req.match["pcap_id"])
        if cap is None:
            self._fail(404, E_PCAP_NOT_FOUND, "PCAP '%s' not found" % req.match["pcap_id"])
        return cap

    # -- body validation -------------------------------------------------------

    def _body(self, req):
        try:
            body = req.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            self._fail(400, E_BODY, "Malformed request body: expected a JSON object")
        return body

    def _required(self, body, field):
        if body.get(field) is None:
            self._fail(400, E_MISSING, "Missing required field '%s'" % field)
        return body[field]

    def _integer(self, body, field, bounds, required, what=""):
        """An integral number within *bounds* (None when optional and absent or null)."""
        if body.get(field) is None:
            if required:
                self._required(body, field)
            return None
        value = body[field]
        low, high = bounds
        if (isinstance(value, bool) or not isinstance(value, (int, float))
                or (isinstance(value, float) and not value.is_integer())
                or not low <= value <= high):
            self._fail(400, E_INVALID, "Invalid '%s': must be an integer from %d to %d%s, got %s"
                       % (field, low, high, what, json.dumps(value)))
        return int(value)

    def _validate(self, body):
        """The create request's fields, checked in this order; the first problem is the answer."""
        kind = self._required(body, "type")
        if kind not in ("simple", "full"):
            self._fail(400, E_INVALID, "Invalid 'type': must be 'simple' or 'full', got %s"
                       % json.dumps(kind))
        system = self._required(body, "system")
        if system not in SYSTEMS:
            self._fail(400, E_INVALID, "Invalid 'system': must be 'magic-transit', got %s"
                       % json.dumps(system))
        fields = {"type": kind, "system": system}
        simple = kind == "simple"
        fields["time_limit"] = self._integer(
            body, "time_limit", SIMPLE_TIME_LIMIT if simple else FULL_TIME_LIMIT, True,
            " for a %s capture" % kind)
        fields["packet_limit"] = self._integer(body, "packet_limit", PACKET_LIMIT, simple)
        if not simple:
            fields["byte_limit"] = self._integer(body, "byte_limit", BYTE_LIMIT, False)
            colo = self._required(body, "colo_name")
            if not isinstance(colo, str) or not _COLO_RE.fullmatch(colo):
                self._fail(400, E_INVALID, "Invalid 'colo_name': must be a colo name such as "
                                           "'ord02', got %s" % json.dumps(colo))
            fields["colo_name"] = colo
            fields["destination_conf"] = self._destination(body)
        fields["filter_v1"] = self._filter(body.get("filter_v1"))
        if simple and body.get("offset_time") is not None:
            fields["offset_time"] = self._offset_time(body["offset_time"])
        if not simple:
            owner = self._ownership_of(fields["destination_conf"])
            if owner is None or owner.status != "success":
                self._fail(400, E_NOT_VALIDATED,
                           "destination_conf '%s' has no validated ownership: add it with POST "
                           "/accounts/%s/pcaps/ownership, then validate its challenge"
                           % (fields["destination_conf"], self.account_id))
        return fields

    def _destination(self, body):
        destination = self._required(body, "destination_conf")
        problem = _destination_problem(destination)
        if problem:
            self._fail(400, E_INVALID, "Invalid 'destination_conf': %s, got %s"
                       % (problem, json.dumps(destination)))
        return destination

    def _filter(self, value):
        """filter_v1 checked and echoed (None when absent or null)."""
        if value is None:
            return None
        if not isinstance(value, dict):
            self._fail(400, E_FILTER, "Invalid 'filter_v1': must be an object, got %s"
                       % json.dumps(value))
        out = {}
        for field, item in value.items():
            where = "filter_v1." + field
            if field not in _FILTER_FIELDS:
                self._fail(400, E_FILTER, "Invalid '%s': unknown field (known: %s)"
                           % (where, ", ".join(_FILTER_FIELDS)))
            if item is None:
                continue
            if field.endswith("_address"):
                try:
                    if not isinstance(item, str):
                        raise ValueError(item)
                    ipaddress.ip_address(item)
                except ValueError:
                    self._fail(400, E_FILTER, "Invalid '%s': must be one IPv4 or IPv6 address, "
                                              "got %s" % (where, json.dumps(item)))
            else:
                low, high = PROTOCOL_RANGE if field == "protocol" else PORT_RANGE
                if (isinstance(item, bool) or not isinstance(item, (int, float))
                        or (isinstance(item, float) and not item.is_integer())
                        or not low <= item <= high):
                    self._fail(400, E_FILTER, "Invalid '%s': must be an integer from %d to %d%s, "
                                              "got %s" % (where, low, high,
                                                          " (an IP protocol number)"
                                                          if field == "protocol" else "",
                                                          json.dumps(item)))
                item = int(item)
            out[field] = item
        return out

    def _offset_time(self, value):
        unix = _parse_rfc3339(value)
        if unix is None:
            self._fail(400, E_OFFSET_TIME, "Invalid 'offset_time': must be an RFC 3339 timestamp, "
                                           "got %s" % json.dumps(value))
        now = time.time()
        if not now - OFFSET_WINDOW <= unix <= now + OFFSET_LEEWAY:
            self._fail(400, E_OFFSET_TIME, "Invalid 'offset_time': must be within the last 24 "
                                           "hours, got %s" % json.dumps(value))
        return value

    # -- handlers --------------------------------------------------------------

    def _create(self, req):
        fields = self._validate(self._body(req))
        cap = _Pcap(secrets.token_hex(16), fields, time.monotonic())
        self._pcaps[cap.id] = cap
        return self._ok(self._result(cap))

    def _list(self, req):
        return self._ok([self._result(cap) for cap in list(self._pcaps.values())[-LIST_MAX:]])

    def _get(self, req):
        return self._ok(self._result(self._find(req)))

    def _stop(self, req):
        cap = self._find(req)
        if self.stop_full_only and cap.type == "simple":
            self._fail(400, E_STOP_SIMPLE, "Only full packet captures can be stopped")
        if cap.stop_requested is None:
            cap.stop_requested = time.time()
        if self._state(cap)["status"] in ("pending", "running") and cap.stop_at is None:
            cap.stop_at = time.monotonic()
        return Response(204)

    def _download(self, req):
        cap = self._find(req)
        if cap.type == "full":
            self._fail(400, E_FULL_DOWNLOAD,
                       "PCAP '%s' is a full capture: its file is written to %s as pcap_%s.pcap "
                       "and cannot be downloaded" % (cap.id, cap.destination_conf, cap.id))
        status = self._state(cap)["status"]
        if status != "success":
            self._fail(400, E_NOT_READY, "PCAP '%s' is not ready for download: its status is "
                                         "'%s'" % (cap.id, status))
        data = bytes(self.capture_bytes or b"")
        headers = [("Content-Type", PCAP_CONTENT_TYPE), ("Accept-Ranges", "bytes"),
                   ("Content-Disposition", 'attachment; filename="pcap_%s.pcap"' % cap.id)]
        spec = req.headers.get("Range")
        span = parse_range(spec, len(data)) if spec else None
        if span == "unsatisfiable":
            self._fail(416, E_RANGE, "Requested range not satisfiable: the file has %d bytes"
                       % len(data), headers=[("Content-Range", "bytes */%d" % len(data))])
        if span is None:
            return Response(200, headers, data)
        first, last = span
        headers.append(("Content-Range", "bytes %d-%d/%d" % (first, last, len(data))))
        return Response(206, headers, data[first:last + 1])

    # -- ownership -------------------------------------------------------------

    def _ownership_of(self, destination_conf):
        for owner in self._ownerships.values():
            if owner.destination_conf == destination_conf:
                return owner
        return None

    def _add_ownership(self, destination_conf):
        """Register *destination_conf* and write its challenge file to the bucket (lock held)."""
        owner = _Ownership(destination_conf)
        self._ownerships[owner.id] = owner
        self._bucket_objects.setdefault(destination_conf, {})[owner.filename] = \
            owner.challenge.encode()
        return owner

    def _ownership_result(self, owner):
        obj = {"id": owner.id, "destination_conf": owner.destination_conf,
               "filename": owner.filename, "status": owner.status,
               "submitted": _rfc3339(owner.submitted)}
        if self.ownership_challenge_in_result:
            obj["ownership_challenge"] = owner.challenge
        if owner.validated is not None:
            obj["validated"] = _rfc3339(owner.validated)
        return obj

    def _ownership_list(self, req):
        return self._ok([self._ownership_result(o) for o in self._ownerships.values()])

    def _ownership_add(self, req):
        destination = self._destination(self._body(req))
        existing = self._ownership_of(destination)
        if existing is not None:
            self._fail(400, E_OWNERSHIP_EXISTS,
                       "destination_conf '%s' was already added (ownership id %s): delete it "
                       "first" % (destination, existing.id))
        return self._ok(self._ownership_result(self._add_ownership(destination)))

    def _ownership_validate(self, req):
        body = self._body(req)
        destination = self._required(body, "destination_conf")
        challenge = self._required(body, "ownership_challenge")
        owner = self._ownership_of(destination)
        if owner is None:
            self._fail(404, E_OWNERSHIP_NOT_FOUND,
                       "No ownership challenge was requested for destination_conf %s"
                       % json.dumps(destination))
        if not isinstance(challenge, str) or not hmac.compare_digest(
                challenge.encode(), owner.challenge.encode()):
            if owner.status != "success":
                owner.status = "failed"
            self._fail(400, E_CHALLENGE, "Invalid 'ownership_challenge': it does not match the "
                                         "challenge written to %s as %s"
                       % (destination, owner.filename))
        if owner.status != "success":
            owner.status, owner.validated = "success", time.time()
        return self._ok(self._ownership_result(owner))

    def _ownership_delete(self, req):
        if self._ownerships.pop(req.match["ownership_id"], None) is None:
            self._fail(404, E_OWNERSHIP_NOT_FOUND,
                       "Ownership '%s' not found" % req.match["ownership_id"])
        return Response(204)


def _destination_problem(destination):
    """Why *destination* is not a bucket URI Cloudflare accepts (None when it is one)."""
    expected = "must be a bucket URI s3://BUCKET[/DIR]?region=REGION, gs://BUCKET[/DIR] or " \
               "r2://BUCKET[/DIR]"
    if not isinstance(destination, str):
        return expected
    parts = urllib.parse.urlsplit(destination)
    if parts.scheme not in ("s3", "gs", "r2") or not _BUCKET_RE.fullmatch(parts.netloc) \
            or parts.fragment:
        return expected
    if parts.scheme == "s3" and not urllib.parse.parse_qs(parts.query).get("region", [""])[0]:
        return "an s3 bucket URI needs its region: s3://BUCKET[/DIR]?region=REGION"
    return None
