"""Azure emulator: Network Watcher packet captures (ARM), Entra ID, IMDS and Blob.

One HTTP(S) server answers four services on these paths:

* ARM: ``/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Network/
  networkWatchers/{nw}/packetCaptures[/{name}[/queryStatus|/stop]]`` and the
  long-running-operation URLs ``/subscriptions/{sub}/providers/
  Microsoft.Network/locations/{loc}/operations|operationResults/{id}?...``;
* Microsoft Entra token endpoint: ``POST /{tenant}/oauth2/v2.0/token``;
* IMDS managed identity: ``GET /metadata/identity/oauth2/token``;
* Blob storage: ``GET|HEAD /blob/{account}/{container}/{path}``.

Route names (for faults and the request log): create, get, list,
query_status, stop, delete, lro, token, imds, blob.  The behaviour, the
capture timeline and the choices made where Azure's documentation is silent
are described in README.md next to this file.
"""

import collections
import datetime
import hashlib
import ipaddress
import json
import re
import secrets
import time
import urllib.parse
import uuid
from xml.sax.saxutils import escape as xml_escape

from emulator import Emulator, Response, http_date, parse_range

__all__ = ["AzureEmulator", "ARM_AUDIENCE", "STORAGE_AUDIENCE"]

ARM_AUDIENCE = "https://management.azure.com/"
STORAGE_AUDIENCE = "https://storage.azure.com/"

# Entra scopes (client credentials) and IMDS resources, to token audiences.
_SCOPES = {
    "https://management.azure.com/.default": ARM_AUDIENCE,
    "https://storage.azure.com/.default": STORAGE_AUDIENCE,
}
_IMDS_RESOURCES = {
    "https://management.azure.com/": ARM_AUDIENCE,
    "https://management.azure.com": ARM_AUDIENCE,
    "https://storage.azure.com/": STORAGE_AUDIENCE,
    "https://storage.azure.com": STORAGE_AUDIENCE,
}

# Microsoft.Network api-versions accepted for networkWatchers (a plausible subset).
API_VERSIONS = (
    "2018-06-01", "2018-08-01", "2018-10-01", "2018-12-01", "2019-02-01", "2019-04-01",
    "2019-06-01", "2019-08-01", "2019-09-01", "2019-11-01", "2019-12-01", "2020-03-01",
    "2020-04-01", "2020-05-01", "2020-06-01", "2020-07-01", "2020-08-01", "2020-11-01",
    "2021-02-01", "2021-03-01", "2021-05-01", "2021-08-01", "2022-01-01", "2022-05-01",
    "2022-07-01", "2022-09-01", "2022-11-01", "2023-02-01", "2023-04-01", "2023-05-01",
    "2023-06-01", "2023-09-01", "2023-11-01", "2024-01-01", "2024-03-01", "2024-05-01",
)
# continuousCapture and captureSettings exist from this api-version on.
CAPTURE_SETTINGS_API = "2023-11-01"
# Blob storage accepts bearer tokens from this x-ms-version on.
BLOB_BEARER_VERSION = "2017-11-09"

# (property, minimum, maximum, default) of the create request.
_LIMITS = (
    ("bytesToCapturePerPacket", 0, 4294967295, 0),
    ("totalBytesPerSession", 0, 4294967295, 1073741824),
    ("timeLimitInSeconds", 0, 18000, 18000),
)
_CAPTURE_SETTINGS = (
    ("fileCount", 0, 10000, 10),
    ("fileSizeInBytes", 0, 4294967295, 104857600),
    ("sessionTimeLimitInSeconds", 0, 604800, 86400),
)
# Default answer shape of each operation that may be long-running (see lro_style).
LRO_STYLES = {"query_status": "sync", "stop": "location", "delete": "location"}
_FILTER_FIELDS = ("localIPAddress", "remoteIPAddress", "localPort", "remotePort")

# x-ms-ratelimit-remaining-subscription-* at the start of an (emulated) hourly window.
_RATELIMITS = {"reads": 11999, "writes": 1199, "deletes": 14999}
_ARM_ROUTES = frozenset(("create", "get", "list", "query_status", "stop", "delete", "lro"))
_P = (r"/subscriptions/(?P<sub>[^/]+)/resourceGroups/(?P<rg>[^/]+)/providers/"
      r"Microsoft\.Network/networkWatchers/(?P<nw>[^/]+)")
_TARGET_RE = re.compile(r"/subscriptions/(?P<sub>[^/]+)/resourceGroups/(?P<rg>[^/]+)/providers/"
                        r"Microsoft\.Compute/(?P<kind>virtualMachines|virtualMachineScaleSets)/"
                        r"(?P<name>[^/]+)", re.IGNORECASE)
_STORAGE_ID_RE = re.compile(r"/subscriptions/[^/]+/resourceGroups/[^/]+/providers/"
                            r"Microsoft\.Storage/storageAccounts/(?P<account>[^/]+)", re.IGNORECASE)
_RESOURCE_ID_RE = re.compile(r"/subscriptions/[^/]+/(resourceGroups/[^/]+/)?providers/\S+",
                             re.IGNORECASE)
_NAME_RE = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9_.-]{0,78}[A-Za-z0-9_])?")
_API_VERSION_RE = re.compile(r"\d{4}-\d{2}-\d{2}(-preview)?")
_BLOB_ERROR_CONTENT_TYPE = "application/xml"


class _Reply(Exception):
    """Raised by a handler to answer at once with a ready Response."""

    def __init__(self, response):
        super().__init__(response.status)
        self.response = response


class _Token:
    """An issued access token: its audience, expiry (Unix time) and whether it was revoked."""

    def __init__(self, audience, expires_on):
        self.audience = audience
        self.expires_on = expires_on
        self.revoked = False


class _Capture:
    """A packet capture resource; its state is derived from the clock (see AzureEmulator)."""

    def __init__(self, name, resource_id, properties, vm_name, created):
        self.name = name
        self.id = resource_id
        self.etag = 'W/"%s"' % uuid.uuid4()
        self.properties = properties
        self.vm_name = vm_name.lower()
        self.created = created            # time.monotonic() of the PUT
        self.created_wall = time.time()
        self.stopped_at = None            # monotonic time of a stop (or delete) request
        self.delete_deadline = None       # monotonic time the deletion completes


class _Blob:
    """A blob: fixed bytes, or the file of a capture (served once the capture has ended)."""

    def __init__(self, data=None, capture=None):
        self.data = data
        self.capture = capture
        self.modified = time.time()
        self.etag = '"0x8D%s"' % secrets.token_hex(6).upper()


class _Operation:
    """A long-running operation behind an Azure-AsyncOperation or Location URL."""

    def __init__(self, kind, capture, polls, signature):
        self.kind = kind            # create | query_status | stop | delete
        self.capture = capture
        self.polls_left = polls     # Location: 202 answers before the final one
        self.signature = signature  # the t, c, s, h query parameters


class AzureEmulator(Emulator):
    """Azure Network Watcher + Entra ID + IMDS + Blob emulator.

    Every constructor keyword is also an attribute that tests may change
    while the server runs (under ``emu.lock`` for consistency).  Durations
    named ``*_seconds`` and the capture's ``timeLimitInSeconds`` are
    multiplied by ``time_scale``; ``token_lifetime`` is not.

    ``lro_style`` maps ``query_status`` (``"sync"`` | ``"location"``),
    ``stop`` and ``delete`` (``"location"`` | ``"sync"``) to the answer shape;
    a Location URL answers 202 ``location_polls`` times before its final
    answer.  ``lro_retry_after`` is the Retry-After sent with 201/202 and
    InProgress answers (None = no header).  ``ratelimits`` ({"reads",
    "writes", "deletes": count}) is where the quota headers start.
    """

    def __init__(self, subscription="00000000-0000-0000-0000-000000000001",
                 resource_group="NetworkWatcherRG", watcher="NetworkWatcher_westus",
                 location="westus", tenant="11111111-1111-1111-1111-111111111111",
                 client_id="22222222-2222-2222-2222-222222222222",
                 client_secret="s3cr3t-Value~1", token_lifetime=3600, capture_bytes=b"",
                 sas_token="sv=2021-08-06&ss=b&srt=o&sp=r&se=2030-01-01T00:00:00Z"
                           "&sig=EMUSIGNATURE%3D",
                 provisioning_seconds=2, start_delay_seconds=1, bytes_per_second=0,
                 page_size=None, lro_style=None, lro_retry_after="1", location_polls=1,
                 imds_client_id=None, imds_msi_res_id=None, imds_gone=0,
                 blob_require_date=True, ratelimits=None, **kwargs):
        super().__init__(**kwargs)
        self.subscription = subscription
        self.resource_group = resource_group
        self.watcher = watcher
        self.location = location
        self.tenant = tenant
        self.client_id = client_id
        self.client_secret = client_secret
        self.token_lifetime = token_lifetime
        self.capture_bytes = capture_bytes
        self.sas_token = sas_token
        self.provisioning_seconds = provisioning_seconds
        self.start_delay_seconds = start_delay_seconds
        self.bytes_per_second = bytes_per_second
        self.page_size = page_size
        self.lro_style = dict(LRO_STYLES, **(lro_style or {}))
        self.lro_retry_after = lro_retry_after
        self.location_polls = location_polls
        self.imds_client_id = imds_client_id
        self.imds_msi_res_id = imds_msi_res_id
        self.imds_gone = imds_gone
        self.blob_require_date = blob_require_date
        self.tokens_issued = collections.Counter()
        self._tokens = {}
        self._captures = {}      # lower-case name -> _Capture, in creation order
        self._operations = {}    # operation id -> _Operation
        self._skiptokens = {}    # $skiptoken -> offset into the list
        self._blobs = {}         # (account, container, path) -> _Blob
        # x-ms-ratelimit-remaining-subscription-* counts; ``ratelimits`` sets
        # where they start (e.g. {"writes": 3}), the hourly window's reset
        # restores the defaults.
        self._ratelimits = dict(_RATELIMITS, **(ratelimits or {}))

        one = _P + r"/packetCaptures/(?P<name>[^/]+)"
        self._route("PUT", one + "/?", self._create, "create")
        self._route("GET", one + "/?", self._get, "get")
        self._route("DELETE", one + "/?", self._delete, "delete")
        self._route("GET", _P + r"/packetCaptures/?", self._list, "list")
        self._route("POST", one + r"/queryStatus/?", self._query_status, "query_status")
        self._route("POST", one + r"/stop/?", self._stop, "stop")
        self._route("GET", r"/subscriptions/(?P<sub>[^/]+)/providers/Microsoft\.Network/"
                           r"locations/(?P<location>[^/]+)/(?P<kind>operations|operationResults)/"
                           r"(?P<op>[^/]+)", self._lro, "lro")
        self._route("POST", r"/(?P<tenant>[^/]+)/oauth2/v2\.0/token", self._token, "token", False)
        self._route("GET", r"/metadata/identity/oauth2/token", self._imds, "imds", False)
        self.add_route(["GET", "HEAD"], r"/blob/(?P<account>[^/]+)/(?P<container>[^/]+)/(?P<path>.+)",
                       self._replying(self._blob), "blob")

    # -- helpers for tests -------------------------------------------------

    @property
    def watcher_path(self):
        """P: ``/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Network/networkWatchers/{nw}``."""
        return ("/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Network/"
                "networkWatchers/%s" % (self.subscription, self.resource_group, self.watcher))

    def arm_uri(self):
        """The library's provider URI for this watcher: ``azure:///subscriptions/…``."""
        return "azure://" + self.watcher_path

    @property
    def authority(self):
        """The Entra authority host to give the library (``{base_url}/``)."""
        return self.base_url + "/"

    def token_url(self):
        """The client-credentials token endpoint for the configured tenant."""
        return "%s/%s/oauth2/v2.0/token" % (self.base_url, self.tenant)

    def imds_url(self):
        """The IMDS token endpoint (without query)."""
        return self.base_url + "/metadata/identity/oauth2/token"

    def blob_url(self, account, container, path):
        """The URL of a blob on this emulator."""
        return "%s/blob/%s/%s/%s" % (self.base_url, account, container, path)

    def issue_token(self, audience=ARM_AUDIENCE):
        """Mint a valid token for *audience* directly (counted in ``tokens_issued``)."""
        with self.lock:
            return self._new_token(audience)

    def revoke_tokens(self):
        """Invalidate every token issued so far (ARM then answers 401 ExpiredAuthenticationToken)."""
        with self.lock:
            for token in self._tokens.values():
                token.revoked = True

    def put_blob(self, account, container, path, data):
        """Serve *data* at ``/blob/{account}/{container}/{path}``."""
        with self.lock:
            self._blobs[(account, container, path)] = _Blob(data=bytes(data))

    def capture(self, name):
        """A snapshot of a capture's state (dict), or None when there is none of that name."""
        with self.lock:
            self._purge()
            cap = self._captures.get(name.lower())
            if cap is None:
                return None
            state = self._state(cap)
            blob = self._blob_of(cap)
            return {
                "name": cap.name, "id": cap.id, "etag": cap.etag,
                "properties": self._result(cap)["properties"],
                "provisioningState": self._provisioning_state(cap),
                "packetCaptureStatus": state["status"], "stopReason": state["reason"],
                "packetCaptureError": list(state["errors"]),
                "captureStartTime": self._iso7(state["start_wall"]),
                "blob": blob, "blob_available": state["status"] == "Stopped",
            }

    # -- plumbing ----------------------------------------------------------

    def _route(self, method, pattern, handler, name, ignore_case=True):
        self.add_route(method, pattern, self._replying(handler, arm=name in _ARM_ROUTES),
                       name, ignore_case)

    def _replying(self, handler, arm=False):
        """Wrap a handler: ARM checks first (when *arm*), state lock held, _Reply caught."""
        def run(req):
            try:
                if arm:
                    self._check_arm(req)
                with self.lock:
                    self._purge()
                    return handler(req)
            except _Reply as reply:
                return reply.response
        return run

    def error_body(self, status, code, message, route=None):
        """ARM CloudError JSON; Entra/IMDS ``{error, error_description}``; Storage XML on blob."""
        if route in ("token", "imds"):
            return "application/json; charset=utf-8", _json_bytes(
                {"error": code, "error_description": message})
        if route == "blob":
            return _BLOB_ERROR_CONTENT_TYPE, _storage_xml(code, message, str(uuid.uuid4()))
        return "application/json; charset=utf-8", _json_bytes(
            {"error": {"code": code, "message": message}})

    def default_error(self, status, route=None):
        if route in ("token", "imds"):
            if status >= 429:
                return "temporarily_unavailable", "The service is temporarily unavailable."
            return "invalid_request", "The request could not be processed."
        if route == "blob":
            if status in (429, 503):
                return "ServerBusy", "The server is busy."
            if status == 500:
                return "InternalError", "The server encountered an internal error. Please retry the request."
        if status == 429:
            return ("SubscriptionRequestsThrottled",
                    "Number of requests for subscription '%s' exceeded the limit. "
                    "Please try again after '1' seconds." % self.subscription)
        return super().default_error(status, route)

    def decorate(self, request, response):
        """Azure's correlation and quota headers."""
        if response.header("x-ms-request-id") is None:
            response.headers.append(("x-ms-request-id", str(uuid.uuid4())))
        route = request.route
        if route in _ARM_ROUTES or (route is None and request.path.lower().startswith("/subscriptions")):
            client_id = request.headers.get("x-ms-client-request-id")
            if client_id is not None:
                response.headers.append(("x-ms-client-request-id", client_id))
            response.headers.append(("x-ms-correlation-request-id",
                                     request.headers.get("x-ms-correlation-request-id")
                                     or str(uuid.uuid4())))
            kind = {"GET": "reads", "HEAD": "reads", "DELETE": "deletes"}.get(request.method, "writes")
            with self.lock:
                remaining = self._ratelimits[kind] - 1
                if remaining < 0:  # a new hourly window
                    remaining = _RATELIMITS[kind]
                self._ratelimits[kind] = remaining
            response.headers.append(("x-ms-ratelimit-remaining-subscription-" + kind, str(remaining)))
            response.headers.append(("Cache-Control", "no-cache"))
        elif route == "token":
            response.headers.append(("Cache-Control", "no-store, no-cache"))
            response.headers.append(("Pragma", "no-cache"))
        elif route == "blob" and "x-ms-version" in request.headers:
            response.headers.append(("x-ms-version", request.headers["x-ms-version"]))

    # -- ARM: common checks and errors ---------------------------------------

    def _arm_error(self, status, code, message, target=None, headers=None):
        error = {"code": code, "message": message}
        if target is not None:
            error["target"] = target
        return Response.json(status, {"error": error}, headers)

    def _arm_fail(self, status, code, message, target=None, headers=None):
        raise _Reply(self._arm_error(status, code, message, target, headers))

    def _check_arm(self, req):
        """Length, authentication, api-version and parent resources, as ARM checks them."""
        if (req.method in ("POST", "PUT") and "Content-Length" not in req.headers
                and "chunked" not in req.headers.get("Transfer-Encoding", "").lower()):
            self._arm_fail(411, "LengthRequired",
                           "A request with a body method (POST, PUT) must carry Content-Length.")
        self._check_bearer(req)
        version = req.query.get("api-version", "")
        if not version:
            self._arm_fail(400, "MissingApiVersionParameter",
                           "The api-version query parameter (?api-version=) is required for "
                           "all requests.")
        if not _API_VERSION_RE.fullmatch(version):
            self._arm_fail(400, "InvalidApiVersionParameter",
                           "The api-version '%s' is invalid. The supported versions are '%s'."
                           % (version, ",".join(reversed(API_VERSIONS))))
        if version not in API_VERSIONS:
            self._arm_fail(400, "NoRegisteredProviderFound",
                           "No registered resource provider found for location '%s' and API "
                           "version '%s' for type 'networkWatchers'. The supported api-versions "
                           "are '%s'." % (self.location, version, ", ".join(API_VERSIONS)))
        groups = req.match.groupdict()
        if groups["sub"].lower() != self.subscription.lower():
            self._arm_fail(404, "SubscriptionNotFound",
                           "The subscription '%s' could not be found." % groups["sub"])
        if "rg" in groups and groups["rg"].lower() != self.resource_group.lower():
            self._arm_fail(404, "ResourceGroupNotFound",
                           "Resource group '%s' could not be found." % groups["rg"])
        if "nw" in groups and groups["nw"].lower() != self.watcher.lower():
            self._arm_fail(404, "ParentResourceNotFound",
                           "Can not perform requested operation on nested resource. Parent "
                           "resource '%s' not found." % groups["nw"])

    def _check_bearer(self, req):
        """401 unless the request carries a live ARM-audience token this emulator issued."""
        header = req.headers.get("Authorization")
        if header is None:
            self._unauthorized("AuthenticationFailed",
                               "Authentication failed. The 'Authorization' header is missing.")
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            self._unauthorized("AuthenticationFailed",
                               "Authentication failed. The 'Authorization' header is provided "
                               "in an invalid format.")
        with self.lock:
            token = self._tokens.get(value.strip())
        if token is None:
            self._unauthorized("InvalidAuthenticationToken",
                               "The access token is invalid.")
        if token.audience != ARM_AUDIENCE:
            self._unauthorized("InvalidAuthenticationTokenAudience",
                               "The access token has been obtained for wrong audience or "
                               "resource '%s'. It should exactly match with one of the allowed "
                               "audiences 'https://management.core.windows.net/',"
                               "'https://management.core.windows.net','%s','%s'."
                               % (token.audience.rstrip("/"), ARM_AUDIENCE,
                                  ARM_AUDIENCE.rstrip("/")))
        now = time.time()
        if token.revoked or token.expires_on <= now:
            expiry = now - 1 if token.revoked else token.expires_on
            self._unauthorized("ExpiredAuthenticationToken",
                               "The access token expiry UTC time '%s' is earlier than current "
                               "UTC time '%s'." % (_us_time(expiry), _us_time(now)))

    def _unauthorized(self, code, message):
        challenge = ('Bearer authorization_uri="%s/%s", error="invalid_token", '
                     'error_description="%s"' % (self.base_url, self.tenant, message))
        self._arm_fail(401, code, message, headers=[("WWW-Authenticate", challenge)])

    # -- ARM: capture state ----------------------------------------------------

    def _purge(self):
        """Forget captures whose deletion has completed (caller holds the lock)."""
        now = time.monotonic()
        for key in [k for k, c in self._captures.items()
                    if c.delete_deadline is not None and c.delete_deadline <= now]:
            del self._captures[key]

    def _provisioned_at(self, cap):
        return cap.created + self.scaled(self.provisioning_seconds)

    def _provisioning_state(self, cap):
        if cap.delete_deadline is not None:
            return "Deleting"
        if time.monotonic() < self._provisioned_at(cap):
            return "Updating"
        return "Failed" if cap.vm_name == "failprovision" else "Succeeded"

    def _state(self, cap):
        """The capture session now: status, stop reason, errors, start and end times.

        The session starts ``start_delay_seconds`` after provisioning; the
        first of these events that has happened ends it: a stop request
        (Manual), the time limit (TimeExceeded), totalBytesPerSession at
        ``bytes_per_second`` (TotalBytesExceeded), a missing agent (target VM
        ``agentless``: Error/AgentStopped at start) or a failed provisioning
        (target VM ``failprovision``: Error/CaptureFailed).
        """
        now = time.monotonic()
        provisioned = self._provisioned_at(cap)
        start = provisioned + self.scaled(self.start_delay_seconds)
        props = cap.properties
        events = []  # (time, status, stop reason, errors)
        if cap.stopped_at is not None:
            events.append((cap.stopped_at, "Stopped", "Manual", ()))
        if props["timeLimitInSeconds"] > 0:
            events.append((start + self.scaled(props["timeLimitInSeconds"]),
                           "Stopped", "TimeExceeded", ()))
        if self.bytes_per_second > 0 and props["totalBytesPerSession"] > 0:
            events.append((start + self.scaled(props["totalBytesPerSession"] / self.bytes_per_second),
                           "Stopped", "TotalBytesExceeded", ()))
        if cap.vm_name == "agentless":
            events.append((start, "Error", "", ("AgentStopped",)))
        if cap.vm_name == "failprovision":
            events.append((provisioned, "Error", "", ("CaptureFailed",)))
        past = [e for e in events if e[0] <= now]
        if past:
            end, status, reason, errors = min(past, key=lambda e: e[0])
        else:
            end, status, reason, errors = None, ("Running" if now >= start else "NotStarted"), "", ()
        started = start <= now and (end is None or start <= end)
        start_mono = start if started else cap.created
        return {"status": status, "reason": reason, "errors": errors, "end": end,
                "start_wall": cap.created_wall + (start_mono - cap.created),
                "end_wall": None if end is None else cap.created_wall + (end - cap.created)}

    def _result(self, cap):
        """The PacketCaptureResult body."""
        properties = {"provisioningState": self._provisioning_state(cap)}
        properties.update(cap.properties)
        return {"name": cap.name, "id": cap.id, "etag": cap.etag, "properties": properties}

    def _status_body(self, cap):
        state = self._state(cap)
        return {"name": cap.name, "id": cap.id,
                "captureStartTime": self._iso7(state["start_wall"]),
                "packetCaptureStatus": state["status"], "stopReason": state["reason"],
                "packetCaptureError": list(state["errors"])}

    def _find(self, req):
        cap = self._captures.get(req.match["name"].lower())
        if cap is None:
            self._arm_fail(404, "ResourceNotFound",
                           "The Resource 'Microsoft.Network/networkWatchers/%s/packetCaptures/%s' "
                           "under resource group '%s' was not found."
                           % (self.watcher, req.match["name"], self.resource_group))
        return cap

    def _refuse_if_deleting(self, cap, operation):
        if cap.delete_deadline is not None:
            self._arm_fail(429, "RetryableErrorDueToAnotherOperation",
                           "Operation %s on packet capture '%s' is not allowed because another "
                           "operation (Delete) is in progress. Retry later." % (operation, cap.name),
                           headers=self._retry_after())

    def _style(self, operation):
        return self.lro_style.get(operation, LRO_STYLES[operation])

    def _retry_after(self):
        return [] if self.lro_retry_after is None else [("Retry-After", str(self.lro_retry_after))]

    @staticmethod
    def _iso7(unix):
        """ISO 8601 UTC with 7 fractional digits (as .NET writes DateTime)."""
        seconds = int(unix)
        fraction = min(int((unix - seconds) * 10_000_000), 9_999_999)
        stamp = datetime.datetime.fromtimestamp(seconds, datetime.timezone.utc)
        return "%s.%07dZ" % (stamp.strftime("%Y-%m-%dT%H:%M:%S"), fraction)

    # -- ARM: long-running operations --------------------------------------------

    def _new_operation(self, kind, cap, api_version, location_style):
        """Register an operation; returns its polling URL (> 4 KB, to be used verbatim)."""
        op_id = str(uuid.uuid4())
        signature = {
            "t": str(int((time.time() + 62135596800) * 10_000_000)),  # .NET ticks
            "c": secrets.token_urlsafe(3375),
            "s": secrets.token_urlsafe(263),
            "h": secrets.token_urlsafe(32),
        }
        self._operations[op_id] = _Operation(kind, cap, self.location_polls if location_style else 0,
                                             signature)
        return ("%s/subscriptions/%s/providers/Microsoft.Network/locations/%s/%s/%s?api-version=%s"
                "&t=%s&c=%s&s=%s&h=%s"
                % (self.base_url, self.subscription, self.location,
                   "operationResults" if location_style else "operations", op_id, api_version,
                   signature["t"], signature["c"], signature["s"], signature["h"]))

    def _accepted(self, kind, cap, req):
        """202 Accepted with a Location URL for *kind* on *cap*."""
        url = self._new_operation(kind, cap, req.query["api-version"], location_style=True)
        return Response(202, [("Location", url)] + self._retry_after())

    def _lro(self, req):
        op = self._operations.get(req.match["op"])
        location_style = req.match["kind"].lower() == "operationresults"
        if (op is None or req.match["location"].lower() != self.location.lower()
                or location_style != (op.kind != "create")):
            self._arm_fail(404, "OperationNotFound",
                           "The operation '%s' could not be found." % req.match["op"])
        for key, value in op.signature.items():
            if req.query.get(key) != value:
                self._arm_fail(400, "InvalidOperationSignature",
                               "The operation URL was altered: parameter '%s' does not match. "
                               "Use the Azure-AsyncOperation or Location URL verbatim." % key)
        cap = op.capture
        if op.kind == "create":
            if time.monotonic() < self._provisioned_at(cap):
                return Response.json(200, {"status": "InProgress"}, self._retry_after())
            if cap.vm_name == "failprovision":
                return Response.json(200, {"status": "Failed", "error": {
                    "code": "PacketCaptureProvisioningFailed",
                    "message": "Packet capture '%s' could not be provisioned on the target "
                               "virtual machine." % cap.name}})
            return Response.json(200, {"status": "Succeeded"})
        if op.polls_left > 0:
            op.polls_left -= 1
            return Response(202, [("Location", self.base_url + req.raw_path)] + self._retry_after())
        if op.kind == "query_status":
            if self._captures.get(cap.name.lower()) is not cap:
                self._arm_fail(404, "ResourceNotFound",
                               "The packet capture '%s' was not found." % cap.name)
            return Response.json(200, self._status_body(cap))
        if op.kind == "stop":
            return Response(200, [("Content-Type", "application/json; charset=utf-8")], b"null")
        if self._captures.get(cap.name.lower()) is cap:  # delete: completes now
            del self._captures[cap.name.lower()]
        return Response(204)

    # -- ARM: handlers ------------------------------------------------------

    def _create(self, req):
        name = req.match["name"]
        if not _NAME_RE.fullmatch(name):
            self._arm_fail(400, "InvalidResourceName",
                           "Resource name %s is invalid. The name can be up to 80 characters "
                           "long. It must begin with a word character, and it must end with a "
                           "word character or with '_'. The name may contain word characters "
                           "or '.', '-', '_'." % name)
        content_type = req.headers.get("Content-Type", "")
        if req.body and not content_type.lower().startswith("application/json"):
            self._arm_fail(415, "UnsupportedMediaType",
                           "The content media type '%s' is not supported. Only "
                           "'application/json' is supported." % content_type)
        try:
            body = req.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            self._arm_fail(400, "InvalidRequestFormat",
                           "Cannot parse the request: the body must be a JSON object.")
        properties, target = self._validate(body.get("properties"), req.query["api-version"])
        existing = self._captures.get(name.lower())
        if existing is not None:
            self._refuse_if_deleting(existing, "PutPacketCapture")
            self._arm_fail(409, "PacketCaptureAlreadyExists",
                           "A packet capture named '%s' already exists in network watcher '%s'. "
                           "Packet captures cannot be updated: delete it first."
                           % (existing.name, self.watcher))
        now = time.monotonic()
        cap = _Capture(name, "%s/packetCaptures/%s" % (self.watcher_path, name), properties,
                       target["name"], now)
        self._attach_storage(cap, target)
        self._captures[name.lower()] = cap
        url = self._new_operation("create", cap, req.query["api-version"], location_style=False)
        return Response.json(201, self._result(cap),
                             [("Azure-AsyncOperation", url)] + self._retry_after())

    def _attach_storage(self, cap, target):
        """Fill storageLocation.storagePath and register the capture's blob."""
        storage = cap.properties["storageLocation"]
        storage_id = storage.get("storageId")
        if storage_id and not storage.get("storagePath"):
            account = _STORAGE_ID_RE.fullmatch(storage_id)["account"]
            stamp = datetime.datetime.fromtimestamp(cap.created_wall, datetime.timezone.utc)
            storage["storagePath"] = self.blob_url(
                account, "network-watcher-logs",
                "subscriptions/%s/resourcegroups/%s/providers/microsoft.compute/%s/%s/"
                "%04d/%02d/%02d/packetcapture_%02d_%02d_%02d_%03d.cap"
                % (target["sub"].lower(), target["rg"].lower(), target["kind"].lower(),
                   target["name"].lower(), stamp.year, stamp.month, stamp.day, stamp.hour,
                   stamp.minute, stamp.second, stamp.microsecond // 1000))
        key = self._blob_key(storage.get("storagePath") or "")
        if storage_id and key is not None:
            self._blobs[key] = _Blob(capture=cap)

    def _blob_key(self, url):
        """(account, container, path) of a blob URL on this emulator or on *.blob.core.windows.net."""
        parts = urllib.parse.urlsplit(url)
        path = urllib.parse.unquote(parts.path)
        host = parts.hostname or ""
        if url.startswith(self.base_url + "/blob/"):
            segments = path[len("/blob/"):].split("/", 2)
        elif host.endswith(".blob.core.windows.net"):
            segments = [host.split(".")[0]] + path.lstrip("/").split("/", 1)
        else:
            return None
        return tuple(segments) if len(segments) == 3 and all(segments) else None

    def _blob_of(self, cap):
        for key, blob in self._blobs.items():
            if blob.capture is cap:
                return key
        return None

    def _validate(self, props, api_version):
        """Check the create request's properties; return (echoed properties, target match)."""
        def bad(message, target, code="InvalidRequestFormat"):
            self._arm_fail(400, code, message, target)

        if not isinstance(props, dict):
            bad("Required property 'properties' not found in JSON.", "properties")
        out = {}
        target_id = props.get("target")
        if not isinstance(target_id, str) or not target_id:
            bad("Required property 'target' not found in JSON. Path 'properties'.",
                "properties.target")
        target = _TARGET_RE.fullmatch(target_id)
        if target is None:
            if _RESOURCE_ID_RE.fullmatch(target_id):
                bad("Packet capture target '%s' is not supported: it must be a virtual machine "
                    "or a virtual machine scale set." % target_id, "properties.target",
                    "PacketCaptureTargetNotSupported")
            bad("Property id '%s' at path 'properties.target' is invalid. Expect fully qualified "
                "resource Id that start with '/subscriptions/{subscriptionId}' or "
                "'/providers/{resourceProviderNamespace}/'." % target_id, "properties.target",
                "LinkedInvalidPropertyId")
        out["target"] = target_id
        vmss = target["kind"].lower() == "virtualmachinescalesets"
        if "targetType" in props:
            target_type = props["targetType"]
            expected = "AzureVMSS" if vmss else "AzureVM"
            if not isinstance(target_type, str) or target_type.lower() != expected.lower():
                bad("targetType '%s' does not match the target: expected '%s'."
                    % (target_type, expected), "properties.targetType")
            out["targetType"] = expected
        if "scope" in props:
            scope = props["scope"]
            if not isinstance(scope, dict) or any(
                    not isinstance(scope.get(k, []), list)
                    or not all(isinstance(i, str) for i in scope.get(k, []))
                    for k in ("include", "exclude")):
                bad("'scope' must be an object with string lists 'include' and 'exclude'.",
                    "properties.scope")
            out["scope"] = {"include": list(scope.get("include", [])),
                            "exclude": list(scope.get("exclude", []))}
        for field, low, high, default in _LIMITS:
            out[field] = _integer(props, field, low, high, default, "properties", bad)
        out["storageLocation"] = self._validate_storage(props, bad)
        out["filters"] = _validate_filters(props.get("filters", []), bad)
        if api_version >= CAPTURE_SETTINGS_API:
            if "continuousCapture" in props:
                if not isinstance(props["continuousCapture"], bool):
                    bad("'continuousCapture' must be a boolean.", "properties.continuousCapture")
                out["continuousCapture"] = props["continuousCapture"]
            if "captureSettings" in props:
                settings = props["captureSettings"]
                if not isinstance(settings, dict):
                    bad("'captureSettings' must be an object.", "properties.captureSettings")
                out["captureSettings"] = {
                    field: _integer(settings, field, low, high, default,
                                    "properties.captureSettings", bad)
                    for field, low, high, default in _CAPTURE_SETTINGS}
        return out, target

    @staticmethod
    def _validate_storage(props, bad):
        storage = props.get("storageLocation")
        if storage is None:
            bad("Required property 'storageLocation' not found in JSON. Path 'properties'.",
                "properties.storageLocation")
        if not isinstance(storage, dict) or any(
                not isinstance(v, str) for k, v in storage.items()
                if k in ("storageId", "storagePath", "filePath", "localPath")):
            bad("'storageLocation' must be an object of strings.", "properties.storageLocation")
        if not storage.get("storageId") and not storage.get("filePath"):
            bad("The packet capture storage location must give a storage account "
                "(storageId), a file path on the virtual machine (filePath), or both.",
                "properties.storageLocation", "PacketCaptureStorageLocationRequired")
        storage_id = storage.get("storageId")
        if storage_id and not _STORAGE_ID_RE.fullmatch(storage_id):
            bad("Property id '%s' at path 'properties.storageLocation.storageId' is invalid. "
                "Expect a storage account resource id." % storage_id,
                "properties.storageLocation.storageId", "LinkedInvalidPropertyId")
        file_path = storage.get("filePath")
        if file_path and not file_path.lower().endswith(".cap"):
            bad("File path '%s' is invalid: the local file of a packet capture must end in "
                "'.cap'." % file_path, "properties.storageLocation.filePath",
                "PacketCaptureInvalidFilePath")
        return {k: v for k, v in storage.items()
                if k in ("storageId", "storagePath", "filePath", "localPath") and v}

    def _get(self, req):
        return Response.json(200, self._result(self._find(req)))

    def _list(self, req):
        captures = list(self._captures.values())
        offset = 0
        token = req.query.get("$skiptoken")
        if token is not None:
            if token not in self._skiptokens:
                self._arm_fail(400, "InvalidSkipToken", "The $skiptoken '%s' is invalid." % token)
            offset = self._skiptokens[token]
        end = len(captures) if not self.page_size else offset + self.page_size
        page = {"value": [self._result(c) for c in captures[offset:end]]}
        if end < len(captures):
            token = secrets.token_urlsafe(24)
            self._skiptokens[token] = end
            page["nextLink"] = "%s%s/packetCaptures?api-version=%s&$skiptoken=%s" % (
                self.base_url, self.watcher_path, req.query["api-version"], token)
        return Response.json(200, page)

    def _query_status(self, req):
        cap = self._find(req)
        self._refuse_if_deleting(cap, "GetPacketCaptureStatus")
        if self._style("query_status") == "location":
            return self._accepted("query_status", cap, req)
        return Response.json(200, self._status_body(cap))

    def _stop(self, req):
        cap = self._find(req)
        self._refuse_if_deleting(cap, "StopPacketCapture")
        if self._state(cap)["end"] is not None:
            return Response(200)  # already ended: Azure returns nothing
        cap.stopped_at = time.monotonic()
        if self._style("stop") == "location":
            return self._accepted("stop", cap, req)
        return Response(200)

    def _delete(self, req):
        cap = self._captures.get(req.match["name"].lower())
        if cap is None:
            return Response(204)
        now = time.monotonic()
        if self._state(cap)["end"] is None:
            cap.stopped_at = now
        if self._style("delete") == "location":
            if cap.delete_deadline is None:
                cap.delete_deadline = now + self.scaled(self.provisioning_seconds)
            return self._accepted("delete", cap, req)
        del self._captures[cap.name.lower()]
        return Response(200)

    # -- Entra ID token endpoint -------------------------------------------

    def _new_token(self, audience):
        token = "emu." + secrets.token_urlsafe(30)
        self._tokens[token] = _Token(audience, time.time() + self.token_lifetime)
        self.tokens_issued[audience] += 1
        return token

    def _aad_fail(self, status, error, number, message):
        now = datetime.datetime.now(datetime.timezone.utc)
        trace, correlation = str(uuid.uuid4()), str(uuid.uuid4())
        stamp = now.strftime("%Y-%m-%d %H:%M:%SZ")
        raise _Reply(Response.json(status, {
            "error": error,
            "error_description": "AADSTS%d: %s Trace ID: %s Correlation ID: %s Timestamp: %s"
                                 % (number, message, trace, correlation, stamp),
            "error_codes": [number],
            "timestamp": stamp,
            "trace_id": trace,
            "correlation_id": correlation,
            "error_uri": "%s/error?code=%d" % (self.base_url, number),
        }))

    def _token(self, req):
        tenant = req.match["tenant"]
        if tenant.lower() != self.tenant.lower():
            self._aad_fail(400, "invalid_request", 90002,
                           "Tenant '%s' not found. Check to make sure you have the correct tenant "
                           "ID and are signing into the correct cloud. Check with your "
                           "subscription administrator, this may happen if there are no active "
                           "subscriptions for the tenant." % tenant)
        form = {}
        if req.headers.get("Content-Type", "").lower().startswith(
                "application/x-www-form-urlencoded"):
            form = {k: v[0] for k, v in urllib.parse.parse_qs(
                req.body.decode("utf-8", "replace"), keep_blank_values=True).items()}
        for field in ("grant_type", "client_id"):
            if not form.get(field):
                self._aad_fail(400, "invalid_request", 900144,
                               "The request body must contain the following parameter: '%s'."
                               % field)
        if form["grant_type"] != "client_credentials":
            self._aad_fail(400, "unsupported_grant_type", 70003,
                           "The app requested an unsupported grant type '%s'."
                           % form["grant_type"])
        if form["client_id"].lower() != self.client_id.lower():
            self._aad_fail(400, "unauthorized_client", 700016,
                           "Application with identifier '%s' was not found in the directory "
                           "'%s'. This can happen if the application has not been installed by "
                           "the administrator of the tenant or consented to by any user in the "
                           "tenant. You may have sent your authentication request to the wrong "
                           "tenant." % (form["client_id"], self.tenant))
        if not form.get("client_secret"):
            self._aad_fail(401, "invalid_client", 7000218,
                           "The request body must contain the following parameter: "
                           "'client_assertion' or 'client_secret'.")
        if form["client_secret"] != self.client_secret:
            self._aad_fail(401, "invalid_client", 7000215,
                           "Invalid client secret provided. Ensure the secret being sent in the "
                           "request is the client secret value, not the client secret ID, for a "
                           "secret added to app '%s'." % self.client_id)
        scope = form.get("scope", "")
        if scope not in _SCOPES:
            self._aad_fail(400, "invalid_scope", 70011,
                           "The provided request must include a 'scope' input parameter. The "
                           "provided value for the input parameter 'scope' is not valid. The "
                           "scope %s is not valid." % scope)
        return Response.json(200, {
            "token_type": "Bearer",
            "expires_in": self.token_lifetime,
            "ext_expires_in": self.token_lifetime,
            "access_token": self._new_token(_SCOPES[scope]),
        })

    # -- IMDS ----------------------------------------------------------------

    def _imds_fail(self, status, error, description):
        raise _Reply(Response.json(status, {"error": error, "error_description": description}))

    def _imds(self, req):
        if self.imds_gone > 0:
            self.imds_gone -= 1
            self._imds_fail(410, "service_unavailable",
                            "The instance metadata service is being updated. Retry within "
                            "70 seconds.")
        if req.headers.get("Metadata", "").lower() != "true":
            self._imds_fail(400, "invalid_request", "Required metadata header not specified")
        for field in ("api-version", "resource"):
            if not req.query.get(field):
                self._imds_fail(400, "invalid_request",
                                "Required query variable '%s' is missing" % field)
        resource = req.query["resource"]
        if resource not in _IMDS_RESOURCES:
            self._imds_fail(400, "invalid_resource",
                            "AADSTS500011: The resource principal named %s was not found in the "
                            "tenant named %s." % (resource, self.tenant))
        for param, configured in (("client_id", self.imds_client_id),
                                  ("msi_res_id", self.imds_msi_res_id)):
            given = req.query.get(param)
            if given is not None and configured is not None and given.lower() != configured.lower():
                self._imds_fail(400, "invalid_request", "Identity not found")
        now = int(time.time())
        return Response.json(200, {
            "access_token": self._new_token(_IMDS_RESOURCES[resource]),
            "client_id": self.imds_client_id or self.client_id,
            "expires_in": str(self.token_lifetime),
            "expires_on": str(now + self.token_lifetime),
            "ext_expires_in": str(self.token_lifetime),
            "not_before": str(now),
            "refresh_token": "",
            "resource": resource,
            "token_type": "Bearer",
        }, content_type="application/json")

    # -- Blob ----------------------------------------------------------------

    def _storage_fail(self, status, code, message, extra=None, headers=None):
        request_id = str(uuid.uuid4())
        response = Response(status, [("Content-Type", _BLOB_ERROR_CONTENT_TYPE),
                                     ("x-ms-request-id", request_id),
                                     ("x-ms-error-code", code)] + list(headers or []),
                            _storage_xml(code, message, request_id, extra))
        raise _Reply(response)

    def _blob(self, req):
        if "x-ms-version" not in req.headers:
            self._storage_fail(400, "MissingRequiredHeader",
                               "An HTTP header that's mandatory for this request is not "
                               "specified.", {"HeaderName": "x-ms-version"})
        self._blob_auth(req)
        key = (req.match["account"], req.match["container"], req.match["path"])
        blob = self._blobs.get(key)
        if blob is None and not any(k[:2] == key[:2] for k in self._blobs):
            self._storage_fail(404, "ContainerNotFound", "The specified container does not exist.")
        if blob is not None and blob.capture is not None:
            state = self._state(blob.capture)
            data = self.capture_bytes if state["status"] == "Stopped" else None
            modified = state["end_wall"]
            etag = '"0x8D%s"' % hashlib.sha256(
                blob.capture.etag.encode() + bytes(data or b"")).hexdigest()[:12].upper()
        elif blob is not None:
            data, modified, etag = blob.data, blob.modified, blob.etag
        if blob is None or data is None:
            self._storage_fail(404, "BlobNotFound", "The specified blob does not exist.")
        headers = [("Content-Type", "application/octet-stream"), ("Accept-Ranges", "bytes"),
                   ("ETag", etag), ("Last-Modified", http_date(modified)),
                   ("x-ms-blob-type", "BlockBlob"), ("x-ms-server-encrypted", "true")]
        if_match = req.headers.get("If-Match")
        if if_match is not None and if_match.strip() not in ("*", etag):
            self._storage_fail(412, "ConditionNotMet",
                               "The condition specified using HTTP conditional header(s) is not met.")
        if req.headers.get("If-None-Match", "").strip() in ("*", etag):
            return Response(304, headers)
        spec = req.headers.get("x-ms-range") or req.headers.get("Range")
        span = parse_range(spec, len(data)) if spec else None
        if span == "unsatisfiable":
            self._storage_fail(416, "InvalidRange", "The range specified is invalid for the "
                               "current size of the resource.",
                               headers=[("Content-Range", "bytes */%d" % len(data))])
        if span is None:
            return Response(200, headers, bytes(data))
        first, last = span
        headers.append(("Content-Range", "bytes %d-%d/%d" % (first, last, len(data))))
        return Response(206, headers, bytes(data[first:last + 1]))

    def _blob_auth(self, req):
        """SAS (``sig`` in the query) or a bearer token of the Storage audience."""
        if "sig" in req.query:
            expected = urllib.parse.parse_qs(self.sas_token).get("sig", [""])[0]
            if req.query["sig"] != expected:
                self._storage_fail(403, "AuthenticationFailed",
                                   "Server failed to authenticate the request. Make sure the "
                                   "value of Authorization header is formed correctly including "
                                   "the signature.",
                                   {"AuthenticationErrorDetail": "Signature did not match."})
            return
        header = req.headers.get("Authorization")
        if header is None:
            self._storage_fail(404, "ResourceNotFound", "The specified resource does not exist.")

        def refuse(detail):
            self._storage_fail(403, "AuthenticationFailed",
                               "Server failed to authenticate the request. Please refer to the "
                               "information in the www-authenticate header.",
                               {"AuthenticationErrorDetail": detail},
                               [("WWW-Authenticate",
                                 'Bearer authorization_uri=%s/%s/oauth2/authorize '
                                 'resource_id=https://storage.azure.com'
                                 % (self.base_url, self.tenant))])

        scheme, _, value = header.partition(" ")
        token = self._tokens.get(value.strip()) if scheme.lower() == "bearer" else None
        if token is None:
            refuse("Signature validation failed. The token is not a valid bearer token.")
        if token.audience != STORAGE_AUDIENCE:
            refuse("Audience validation failed. Audience did not match.")
        if token.revoked or token.expires_on <= time.time():
            refuse("Lifetime validation failed. The token is expired.")
        if req.headers["x-ms-version"] < BLOB_BEARER_VERSION:
            refuse("Authentication scheme Bearer is not supported in this version.")
        if self.blob_require_date and "x-ms-date" not in req.headers and "Date" not in req.headers:
            refuse("Request date header not specified.")


def _json_bytes(obj):
    return json.dumps(obj, separators=(",", ":")).encode("utf-8")


def _us_time(unix):
    """Time as ARM writes it in token errors: ``11/23/2026 18:00:01``."""
    return datetime.datetime.fromtimestamp(int(unix), datetime.timezone.utc).strftime(
        "%m/%d/%Y %H:%M:%S")


def _storage_xml(code, message, request_id, extra=None):
    """The Storage service's XML error body."""
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f0Z")
    parts = ['<?xml version="1.0" encoding="utf-8"?><Error><Code>%s</Code>'
             '<Message>%s\nRequestId:%s\nTime:%s</Message>'
             % (xml_escape(code), xml_escape(message), request_id, stamp)]
    for name, value in (extra or {}).items():
        parts.append("<%s>%s</%s>" % (name, xml_escape(value), name))
    parts.append("</Error>")
    return "".join(parts).encode("utf-8")


def _integer(obj, field, low, high, default, path, bad):
    """The integer *field* of *obj* within [low, high] (or *default* when absent)."""
    if field not in obj:
        return default
    value = obj[field]
    if isinstance(value, bool) or not isinstance(value, int):
        bad("Error converting value %r to type 'System.Int64'. Path '%s.%s'."
            % (value, path, field), "%s.%s" % (path, field))
    if not low <= value <= high:
        bad("The value %d of '%s.%s' is out of range: it must be between %d and %d."
            % (value, path, field, low, high), "%s.%s" % (path, field))
    return value


def _validate_filters(filters, bad):
    """Check filters[] (protocol, and Azure's address/port notations); return them echoed."""
    if not isinstance(filters, list):
        bad("'filters' must be an array.", "properties.filters")
    out = []
    for index, rule in enumerate(filters):
        where = "properties.filters[%d]" % index
        if not isinstance(rule, dict):
            bad("A filter must be an object.", where)
        protocol = rule.get("protocol", "Any")
        canonical = {"tcp": "TCP", "udp": "UDP", "any": "Any"}.get(str(protocol).lower())
        if not isinstance(protocol, str) or canonical is None:
            bad("Error converting value %r to type 'PcProtocol'. Path '%s.protocol'."
                % (protocol, where), where + ".protocol")
        echoed = {"protocol": canonical}
        for field in _FILTER_FIELDS:
            if field not in rule:
                continue
            value = rule[field]
            if not isinstance(value, str):
                bad("'%s.%s' must be a string." % (where, field), "%s.%s" % (where, field))
            parse = _parse_address if field.endswith("IPAddress") else _parse_port
            problem = _check_notation(value, parse)
            if problem:
                bad("Invalid value '%s' for %s.%s: %s." % (value, where, field, problem),
                    "%s.%s" % (where, field), "PacketCaptureInvalidFilter")
            echoed[field] = value
        out.append(echoed)
    return out


def _parse_address(text):
    return ipaddress.ip_address(text)


def _parse_port(text):
    if not text.isdigit() or not 0 <= int(text) <= 65535:
        raise ValueError(text)
    return int(text)


def _check_notation(value, parse):
    """Why *value* is not one item, one range ``a-b`` or a list ``a;b;`` (None when valid)."""
    if value == "":
        return None
    if ";" in value:
        items = [item for item in value.split(";") if item != ""]
        if any("-" in item for item in items):
            return "ranges cannot be mixed with lists or repeated in one field"
        for item in items:
            try:
                parse(item)
            except ValueError:
                return "'%s' is not valid" % item
        return None if items else "empty list"
    if "-" in value:
        bounds = value.split("-")
        if len(bounds) != 2:
            return "only one range is supported in one field"
        try:
            low, high = parse(bounds[0]), parse(bounds[1])
        except ValueError:
            return "'%s' is not a valid range" % value
        if type(low) is not type(high) or low > high:
            return "'%s' is not a valid range" % value
        return None
    try:
        parse(value)
    except ValueError:
        return "'%s' is not valid" % value
    return None
