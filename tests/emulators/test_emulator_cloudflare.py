"""Tests of the Cloudflare PCAPs emulator itself (urllib.request and http.client as clients).

Run: /usr/bin/python3 -m pytest -q tests/emulators
"""

import datetime
import http.client
import json
import os
import re
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from cloudflare import CloudflareEmulator  # noqa: E402
from emulator import make_cert  # noqa: E402

CAPTURE = bytes(range(256)) * 4  # 1024 bytes
BUCKET = "s3://pcaps-bucket/captures?region=us-east-1"
OTHER_ACCOUNT = "0123456789abcdef0123456789abcdef"
SIMPLE = {"type": "simple", "system": "magic-transit", "time_limit": 30, "packet_limit": 100}
FULL = {"type": "full", "system": "magic-transit", "time_limit": 30, "colo_name": "ord02",
        "destination_conf": BUCKET}
SIMPLE_KEYS = {"id", "status", "submitted", "system", "time_limit", "type"}
FULL_KEYS = SIMPLE_KEYS | {"colo_name", "destination_conf", "error_message", "packets_captured"}
OWNERSHIP_KEYS = {"id", "destination_conf", "filename", "ownership_challenge", "status",
                  "submitted"}
RFC3339 = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z")
RAY = re.compile(r"[0-9a-f]{16}-ORD")
HEX32 = re.compile(r"[0-9a-f]{32}")
RATE_MESSAGE = "Please wait and consider throttling your request speed"
BAD_AUTHORIZATION = (6111, "Invalid format for Authorization header")


class Reply:
    """status, headers (http.client.HTTPMessage), body bytes."""

    def __init__(self, status, headers, body):
        self.status, self.headers, self.body = status, headers, body

    def json(self):
        return json.loads(self.body)

    @property
    def result(self):
        body = self.json()
        assert body["success"] is True and body["errors"] == [], body
        return body["result"]


def call(url, method="GET", body=None, headers=None, context=None):
    """One request with urllib; HTTP errors are returned, not raised."""
    headers = dict(headers or {})
    if isinstance(body, (dict, list)):
        body = json.dumps(body).encode()
        headers.setdefault("Content-Type", "application/json")
    request = urllib.request.Request(url, data=body, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10, context=context) as r:
            return Reply(r.status, r.headers, r.read())
    except urllib.error.HTTPError as e:
        with e:
            return Reply(e.code, e.headers, e.read())


def credentials(emu, auth="token"):
    if auth == "token":
        return {"Authorization": "Bearer " + emu.api_token}
    if auth == "key":
        return {"X-Auth-Email": emu.email, "X-Auth-Key": emu.api_key}
    return dict(auth or {})


def api(emu, method, suffix="", body=None, auth="token", account=None, headers=None,
        context=None):
    """A call on ``{endpoint}/accounts/{account}/pcaps{suffix}``."""
    merged = credentials(emu, auth)
    merged.update(headers or {})
    url = "%s/accounts/%s/pcaps%s" % (emu.endpoint, account or emu.account_id, suffix)
    return call(url, method, body, merged, context)


def request_body(base, drop=(), **fields):
    body = dict(base, **fields)
    for key in drop:
        del body[key]
    return body


def create(emu, base=SIMPLE, **fields):
    reply = api(emu, "POST", "", request_body(base, **fields))
    assert reply.status == 200, reply.body
    return reply.result


def assert_error(reply, status, code, message, chain=None):
    """A failure envelope with exactly this one error."""
    assert reply.status == status, reply.body
    assert reply.headers["Content-Type"] == "application/json"
    assert RAY.fullmatch(reply.headers["cf-ray"])
    error = {"code": code, "message": message}
    if chain:
        error["error_chain"] = [{"code": c, "message": m} for c, m in chain]
    assert reply.json() == {"success": False, "errors": [error], "messages": [], "result": None}


def wait_for(predicate, timeout=5.0):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.005)


def wait_status(emu, pcap_id, status):
    assert wait_for(lambda: emu.pcap(pcap_id)["status"] == status), emu.pcap(pcap_id)


def statuses_until(emu, pcap_id, last, timeout=5.0):
    """Poll GET until *last*; the distinct statuses seen, in order."""
    seen = []
    deadline = time.monotonic() + timeout
    while not seen or seen[-1] != last:
        assert time.monotonic() < deadline, seen
        status = api(emu, "GET", "/" + pcap_id).result["status"]
        if not seen or seen[-1] != status:
            seen.append(status)
        time.sleep(0.005)
    return seen


def ago(seconds):
    stamp = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(seconds=seconds)
    return stamp.strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture
def emu():
    """A fast emulator: pending 0.05 s, conversion 0.05 s + 0.05 s, a 30 s limit lasts 0.3 s."""
    server = CloudflareEmulator(time_scale=0.01, pending_seconds=5, conversion_seconds=10,
                                capture_bytes=CAPTURE, max_lifetime=60)
    server.start()
    yield server
    server.stop()
    assert server.errors == []


# -- authentication, account, routing ------------------------------------------------

@pytest.mark.parametrize("auth", ["token", "key"])
def test_both_auth_styles(emu, auth):
    reply = api(emu, "GET", auth=auth)
    assert reply.status == 200
    assert reply.headers["Content-Type"] == "application/json"
    assert RAY.fullmatch(reply.headers["cf-ray"])
    assert reply.json() == {"success": True, "errors": [], "messages": [], "result": []}
    email_case = api(emu, "GET", auth={"X-Auth-Email": emu.email.upper(),
                                       "X-Auth-Key": emu.api_key})
    assert email_case.status == 200


@pytest.mark.parametrize("headers, status, chain", [
    ({}, 403, None),
    ({"Authorization": "Bearer wrongToken0123456789abcdefghijklmnopqrs"}, 403, None),
    ({"X-Auth-Email": "user@example.com", "X-Auth-Key": "0" * 37}, 403, None),
    ({"X-Auth-Email": "other@example.com", "X-Auth-Key": "KEY"}, 403, None),
    ({"Authorization": "Basic dXNlcjpwYXNz"}, 400, [BAD_AUTHORIZATION]),
    ({"Authorization": "Bearer"}, 400, [BAD_AUTHORIZATION]),
    ({"Authorization": "Bearer two words"}, 400, [BAD_AUTHORIZATION]),
    ({"X-Auth-Email": "user@example.com"}, 400, [(6103, "Invalid format for X-Auth-Key header")]),
    ({"X-Auth-Key": "KEY"}, 400, [(6102, "Invalid format for X-Auth-Email header")]),
    ({"X-Auth-Email": "user.example.com", "X-Auth-Key": "KEY"}, 400,
     [(6102, "Invalid format for X-Auth-Email header")]),
    ({"X-Auth-Email": "nobody", "X-Auth-Key": "not a key"}, 400,
     [(6102, "Invalid format for X-Auth-Email header"),
      (6103, "Invalid format for X-Auth-Key header")]),
])
def test_auth_failures(emu, headers, status, chain):
    headers = {k: v.replace("KEY", emu.api_key) for k, v in headers.items()}
    for method, suffix, body in (("GET", "", None), ("POST", "", SIMPLE),
                                 ("GET", "/ownership", None)):
        reply = api(emu, method, suffix, body, auth=headers)
        if status == 403:
            assert_error(reply, 403, 10000, "Authentication error")
        else:
            assert_error(reply, 400, 6003, "Invalid request headers", chain)
    assert emu.pcap("0" * 32) is None and api(emu, "GET").result == []


def test_bearer_takes_precedence_over_key_headers(emu):
    wrong_key = {"X-Auth-Email": emu.email, "X-Auth-Key": "0" * 37}
    assert api(emu, "GET", headers=wrong_key).status == 200
    wrong_token = dict(credentials(emu, "key"), Authorization="Bearer nope")
    assert_error(api(emu, "GET", auth=wrong_token), 403, 10000, "Authentication error")


def test_account_checks(emu):
    assert_error(api(emu, "GET", account=OTHER_ACCOUNT), 403, 10000, "Authentication error")
    assert_error(api(emu, "POST", "/ownership", {"destination_conf": BUCKET},
                     account=OTHER_ACCOUNT), 403, 10000, "Authentication error")
    assert_error(api(emu, "GET", account="acme"), 404, 7003,
                 "Could not route to /client/v4/accounts/acme/pcaps, perhaps your object "
                 "identifier is invalid?")
    assert emu.bucket_objects == {}


def test_unknown_route_and_method(emu):
    missing = call(emu.endpoint + "/user/tokens/verify", headers=credentials(emu))
    assert_error(missing, 404, 7003, "No route for GET /client/v4/user/tokens/verify.")
    pcap_id = create(emu)["id"]
    wrong = api(emu, "DELETE", "/" + pcap_id)
    assert_error(wrong, 405, 7001, "No route for DELETE /client/v4/accounts/%s/pcaps/%s."
                 % (emu.account_id, pcap_id))
    assert wrong.headers["Allow"] == "GET"
    assert api(emu, "GET", "/ownership/validate").headers["Allow"] == "DELETE, POST"


def test_unknown_pcap(emu):
    for method, suffix in (("GET", ""), ("GET", "/download"), ("PUT", "/stop")):
        reply = api(emu, method, "/" + "f" * 32 + suffix)
        assert_error(reply, 404, 1007, "PCAP '%s' not found" % ("f" * 32))
    assert emu.pcap("f" * 32) is None


# -- simple captures -----------------------------------------------------------------

def test_simple_timeline(emu):
    emu.pending_seconds, emu.conversion_seconds = 20, 40  # 0.2 s, then 0.2 s per conversion phase
    before = time.time()
    reply = api(emu, "POST", "", request_body(SIMPLE, time_limit=20))
    assert reply.status == 200 and reply.headers["Content-Type"] == "application/json"
    result = reply.result
    assert set(result) == SIMPLE_KEYS
    assert HEX32.fullmatch(result["id"])
    assert (result["status"], result["system"], result["time_limit"], result["type"]) == (
        "pending", "magic-transit", 20, "simple")
    assert RFC3339.fullmatch(result["submitted"])
    submitted = datetime.datetime.fromisoformat(result["submitted"].replace("Z", "+00:00"))
    assert before - 1 <= submitted.timestamp() <= time.time()
    seen = statuses_until(emu, result["id"], "success")
    assert seen == ["pending", "running", "conversion_pending", "conversion_running", "success"]
    final = api(emu, "GET", "/" + result["id"]).result
    assert final == dict(result, status="success")
    snapshot = emu.pcap(result["id"])
    assert (snapshot["end_reason"], snapshot["packets_captured"], snapshot["packet_limit"],
            snapshot["bucket_object"], snapshot["downloadable"]) == ("time_limit", 0, 100, None,
                                                                     True)


def test_list(emu):
    emu.pending_seconds = 3000  # every capture stays pending: the answers stay comparable
    ids = [create(emu, time_limit=1 + i)["id"] for i in range(52)]
    listed = api(emu, "GET").result
    assert [p["id"] for p in listed] == ids[-50:]
    assert [p["time_limit"] for p in listed] == list(range(3, 53))
    assert api(emu, "GET", "/").result == listed  # a trailing slash is accepted


def test_create_accepts_and_echoes(emu):
    offset = ago(3600)
    filter_v1 = {"source_address": "198.51.100.7", "destination_address": "2001:db8::1",
                 "source_port": 0, "destination_port": 443.0, "protocol": 6}
    result = create(emu, time_limit=300.0, packet_limit=10000, filter_v1=filter_v1,
                    offset_time=offset, byte_limit=5, colo_name="x", unknown_field=True)
    assert set(result) == SIMPLE_KEYS | {"filter_v1", "offset_time"}
    assert result["time_limit"] == 300 and isinstance(result["time_limit"], int)
    assert result["filter_v1"] == dict(filter_v1, destination_port=443)
    assert result["offset_time"] == offset
    assert emu.requests(route="create")[0].json()["filter_v1"] == filter_v1
    empty = create(emu, time_limit=1, packet_limit=1, filter_v1={}, offset_time=None)
    assert empty["filter_v1"] == {} and "offset_time" not in empty
    protocol_only = create(emu, filter_v1={"protocol": 17, "source_port": None})
    assert protocol_only["filter_v1"] == {"protocol": 17}


def _invalid(field, bounds, got, what=""):
    return (1003, "Invalid '%s': must be an integer from %d to %d%s, got %s"
            % (field, bounds[0], bounds[1], what, got))


_SIMPLE_LIMIT = " for a simple capture"
_DESTINATION = ("must be a bucket URI s3://BUCKET[/DIR]?region=REGION, gs://BUCKET[/DIR] or "
                "r2://BUCKET[/DIR]")
_FILTER_KNOWN = "source_address, destination_address, source_port, destination_port, protocol"


@pytest.mark.parametrize("body, code, message", [
    (b"not json", 1001, "Malformed request body: expected a JSON object"),
    (b"", 1001, "Malformed request body: expected a JSON object"),
    ([SIMPLE], 1001, "Malformed request body: expected a JSON object"),
    (request_body(SIMPLE, drop=["type"]), 1002, "Missing required field 'type'"),
    (request_body(SIMPLE, type=None), 1002, "Missing required field 'type'"),
    (request_body(SIMPLE, type="sampled"), 1003,
     "Invalid 'type': must be 'simple' or 'full', got \"sampled\""),
    (request_body(SIMPLE, drop=["system"]), 1002, "Missing required field 'system'"),
    (request_body(SIMPLE, system="magic-wan"), 1003,
     "Invalid 'system': must be 'magic-transit', got \"magic-wan\""),
    (request_body(SIMPLE, drop=["time_limit"]), 1002, "Missing required field 'time_limit'"),
    (request_body(SIMPLE, time_limit=0), *_invalid("time_limit", (1, 300), "0", _SIMPLE_LIMIT)),
    (request_body(SIMPLE, time_limit=301),
     *_invalid("time_limit", (1, 300), "301", _SIMPLE_LIMIT)),
    (request_body(SIMPLE, time_limit="60"),
     *_invalid("time_limit", (1, 300), '"60"', _SIMPLE_LIMIT)),
    (request_body(SIMPLE, time_limit=1.5),
     *_invalid("time_limit", (1, 300), "1.5", _SIMPLE_LIMIT)),
    (request_body(SIMPLE, time_limit=True),
     *_invalid("time_limit", (1, 300), "true", _SIMPLE_LIMIT)),
    (request_body(FULL, time_limit=86401),
     *_invalid("time_limit", (1, 86400), "86401", " for a full capture")),
    (request_body(FULL, time_limit=0),
     *_invalid("time_limit", (1, 86400), "0", " for a full capture")),
    (request_body(SIMPLE, drop=["packet_limit"]), 1002, "Missing required field 'packet_limit'"),
    (request_body(SIMPLE, packet_limit=0), *_invalid("packet_limit", (1, 10000), "0")),
    (request_body(SIMPLE, packet_limit=10001), *_invalid("packet_limit", (1, 10000), "10001")),
    (request_body(FULL, packet_limit=10001), *_invalid("packet_limit", (1, 10000), "10001")),
    (request_body(FULL, byte_limit=0), *_invalid("byte_limit", (1, 1000000000), "0")),
    (request_body(FULL, byte_limit=1000000001),
     *_invalid("byte_limit", (1, 1000000000), "1000000001")),
    (request_body(FULL, drop=["colo_name"]), 1002, "Missing required field 'colo_name'"),
    (request_body(FULL, colo_name="ord 02"), 1003,
     "Invalid 'colo_name': must be a colo name such as 'ord02', got \"ord 02\""),
    (request_body(FULL, colo_name=7), 1003,
     "Invalid 'colo_name': must be a colo name such as 'ord02', got 7"),
    (request_body(FULL, drop=["destination_conf"]), 1002,
     "Missing required field 'destination_conf'"),
    (request_body(FULL, destination_conf="https://bucket.example.com/x"), 1003,
     "Invalid 'destination_conf': %s, got \"https://bucket.example.com/x\"" % _DESTINATION),
    (request_body(FULL, destination_conf="s3://Bad_Bucket/x?region=us-east-1"), 1003,
     "Invalid 'destination_conf': %s, got \"s3://Bad_Bucket/x?region=us-east-1\"" % _DESTINATION),
    (request_body(FULL, destination_conf="s3://pcaps-bucket/captures"), 1003,
     "Invalid 'destination_conf': an s3 bucket URI needs its region: "
     "s3://BUCKET[/DIR]?region=REGION, got \"s3://pcaps-bucket/captures\""),
    (request_body(SIMPLE, filter_v1="tcp"), 1004,
     "Invalid 'filter_v1': must be an object, got \"tcp\""),
    (request_body(SIMPLE, filter_v1={"src": "192.0.2.1"}), 1004,
     "Invalid 'filter_v1.src': unknown field (known: %s)" % _FILTER_KNOWN),
    (request_body(SIMPLE, filter_v1={"source_address": "10.0.0.0/8"}), 1004,
     "Invalid 'filter_v1.source_address': must be one IPv4 or IPv6 address, got \"10.0.0.0/8\""),
    (request_body(SIMPLE, filter_v1={"destination_address": 5}), 1004,
     "Invalid 'filter_v1.destination_address': must be one IPv4 or IPv6 address, got 5"),
    (request_body(SIMPLE, filter_v1={"source_port": 65536}), 1004,
     "Invalid 'filter_v1.source_port': must be an integer from 0 to 65535, got 65536"),
    (request_body(SIMPLE, filter_v1={"destination_port": -1}), 1004,
     "Invalid 'filter_v1.destination_port': must be an integer from 0 to 65535, got -1"),
    (request_body(SIMPLE, filter_v1={"destination_port": "443"}), 1004,
     "Invalid 'filter_v1.destination_port': must be an integer from 0 to 65535, got \"443\""),
    (request_body(FULL, filter_v1={"protocol": 256}), 1004,
     "Invalid 'filter_v1.protocol': must be an integer from 0 to 255 (an IP protocol number), "
     "got 256"),
    (request_body(SIMPLE, filter_v1={"protocol": "tcp"}), 1004,
     "Invalid 'filter_v1.protocol': must be an integer from 0 to 255 (an IP protocol number), "
     "got \"tcp\""),
    (request_body(SIMPLE, offset_time="yesterday"), 1005,
     "Invalid 'offset_time': must be an RFC 3339 timestamp, got \"yesterday\""),
    (request_body(SIMPLE, offset_time="2026-13-01T00:00:00Z"), 1005,
     "Invalid 'offset_time': must be an RFC 3339 timestamp, got \"2026-13-01T00:00:00Z\""),
    (request_body(SIMPLE, offset_time="2026-11-23T10:00:00"), 1005,
     "Invalid 'offset_time': must be an RFC 3339 timestamp, got \"2026-11-23T10:00:00\""),
    (request_body(SIMPLE, offset_time=1700000000), 1005,
     "Invalid 'offset_time': must be an RFC 3339 timestamp, got 1700000000"),
])
def test_create_validation(emu, body, code, message):
    reply = api(emu, "POST", "", body)
    assert_error(reply, 400, code, message)
    assert api(emu, "GET").result == []


@pytest.mark.parametrize("seconds_ago, accepted", [
    (3600, True), (86400 - 60, True), (0, True), (86400 + 60, False), (-3600, False),
])
def test_offset_time_window(emu, seconds_ago, accepted):
    offset = ago(seconds_ago)
    reply = api(emu, "POST", "", request_body(SIMPLE, offset_time=offset))
    if accepted:
        assert reply.result["offset_time"] == offset
    else:
        assert_error(reply, 400, 1005, "Invalid 'offset_time': must be within the last 24 "
                                       "hours, got \"%s\"" % offset)


def test_offset_time_notations(emu):
    stamp = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(hours=2)
    for text in (stamp.strftime("%Y-%m-%dT%H:%M:%S.123456789Z"),
                 stamp.astimezone(datetime.timezone(datetime.timedelta(hours=-5)))
                 .strftime("%Y-%m-%dT%H:%M:%S-05:00"),
                 stamp.strftime("%Y-%m-%dt%H:%M:%S.5z")):
        assert create(emu, offset_time=text)["offset_time"] == text


# -- stop -----------------------------------------------------------------------

def test_stop_running(emu):
    emu.conversion_seconds = 40  # 0.2 s per conversion phase
    pcap_id = create(emu, time_limit=300)["id"]
    wait_status(emu, pcap_id, "running")
    before = time.time()
    reply = api(emu, "PUT", "/%s/stop" % pcap_id)
    after = time.time()
    assert (reply.status, reply.body) == (204, b"")
    assert reply.headers["Content-Type"] is None and reply.headers["Content-Length"] is None
    assert RAY.fullmatch(reply.headers["cf-ray"])
    got = api(emu, "GET", "/" + pcap_id).result
    assert got["status"] == "conversion_pending"
    assert set(got) == SIMPLE_KEYS | {"stop_requested"}
    assert RFC3339.fullmatch(got["stop_requested"])
    stopped = datetime.datetime.fromisoformat(got["stop_requested"].replace("Z", "+00:00"))
    assert before - 0.001 <= stopped.timestamp() <= after + 0.001
    assert statuses_until(emu, pcap_id, "success") == [
        "conversion_pending", "conversion_running", "success"]
    assert emu.pcap(pcap_id)["end_reason"] == "stop"
    again = api(emu, "PUT", "/%s/stop" % pcap_id)
    assert again.status == 204
    assert api(emu, "GET", "/" + pcap_id).result == dict(got, status="success")
    assert api(emu, "GET", "/%s/download" % pcap_id).body == CAPTURE


def test_stop_while_pending(emu):
    emu.pending_seconds = 500  # 5 s
    emu.packets_per_second = 1000
    pcap_id = create(emu)["id"]
    assert api(emu, "PUT", "/%s/stop/" % pcap_id).status == 204
    snapshot = emu.pcap(pcap_id)
    assert snapshot["status"] in ("conversion_pending", "conversion_running", "success")
    wait_status(emu, pcap_id, "success")
    assert (emu.pcap(pcap_id)["end_reason"], emu.pcap(pcap_id)["packets_captured"]) == ("stop", 0)


def test_stop_after_the_end_only_records_the_request(emu):
    pcap_id = create(emu, time_limit=1)["id"]
    wait_status(emu, pcap_id, "success")
    assert api(emu, "PUT", "/%s/stop" % pcap_id).status == 204
    snapshot = emu.pcap(pcap_id)
    assert (snapshot["status"], snapshot["end_reason"]) == ("success", "time_limit")
    assert RFC3339.fullmatch(snapshot["stop_requested"])


def test_stop_full_only(emu):
    emu.stop_full_only = True
    pcap_id = create(emu, time_limit=300)["id"]
    assert_error(api(emu, "PUT", "/%s/stop" % pcap_id), 400, 1011,
                 "Only full packet captures can be stopped")
    assert "stop_requested" not in emu.pcap(pcap_id)
    emu.validate_ownership_for(BUCKET)
    full_id = create(emu, FULL, time_limit=3000)["id"]
    wait_status(emu, full_id, "running")
    assert api(emu, "PUT", "/%s/stop" % full_id).status == 204
    wait_status(emu, full_id, "complete")
    assert emu.pcap(full_id)["end_reason"] == "stop"


# -- packets ----------------------------------------------------------------------

def test_packets_per_second(emu):
    emu.validate_ownership_for(BUCKET)
    emu.packets_per_second = 10
    growing = create(emu, FULL, time_limit=3000)["id"]  # 30 s; 1000 packets per real second
    wait_status(emu, growing, "running")
    time.sleep(0.05)
    first = api(emu, "GET", "/" + growing).result["packets_captured"]
    time.sleep(0.1)
    second = api(emu, "GET", "/" + growing).result["packets_captured"]
    assert 0 < first < second < 30000
    assert api(emu, "PUT", "/%s/stop" % growing).status == 204
    wait_status(emu, growing, "complete")
    stopped = api(emu, "GET", "/" + growing).result["packets_captured"]
    assert second <= stopped < 30000 and emu.pcap(growing)["end_reason"] == "stop"
    time.sleep(0.02)
    assert api(emu, "GET", "/" + growing).result["packets_captured"] == stopped

    timed = create(emu, FULL, time_limit=10)["id"]  # 0.1 s: 100 packets
    wait_status(emu, timed, "complete")
    assert api(emu, "GET", "/" + timed).result["packets_captured"] == 100
    assert emu.pcap(timed)["end_reason"] == "time_limit"

    limited = create(emu, FULL, time_limit=60, packet_limit=50)["id"]  # reached after 5 s: 0.05 s
    wait_status(emu, limited, "complete")
    assert api(emu, "GET", "/" + limited).result["packets_captured"] == 50
    assert emu.pcap(limited)["end_reason"] == "packet_limit"

    simple = create(emu, time_limit=300, packet_limit=20)["id"]
    wait_status(emu, simple, "success")
    snapshot = emu.pcap(simple)
    assert (snapshot["end_reason"], snapshot["packets_captured"]) == ("packet_limit", 20)
    assert "packets_captured" not in api(emu, "GET", "/" + simple).result


# -- download -----------------------------------------------------------------------

@pytest.fixture
def done(emu):
    """The id of a simple capture that has succeeded."""
    pcap_id = create(emu, time_limit=1)["id"]
    wait_status(emu, pcap_id, "success")
    return pcap_id


def test_download_not_ready(emu):
    emu.pending_seconds = 20
    pcap_id = create(emu, time_limit=300)["id"]
    assert_error(api(emu, "GET", "/%s/download" % pcap_id), 400, 1008,
                 "PCAP '%s' is not ready for download: its status is 'pending'" % pcap_id)
    wait_status(emu, pcap_id, "running")
    assert_error(api(emu, "GET", "/%s/download" % pcap_id), 400, 1008,
                 "PCAP '%s' is not ready for download: its status is 'running'" % pcap_id)


def test_download(emu, done):
    reply = api(emu, "GET", "/%s/download" % done)
    assert (reply.status, reply.body) == (200, CAPTURE)
    assert reply.headers["Content-Type"] == "application/vnd.tcpdump.pcap"
    assert reply.headers["Content-Length"] == "1024"
    assert reply.headers["Accept-Ranges"] == "bytes"
    assert reply.headers["Content-Disposition"] == 'attachment; filename="pcap_%s.pcap"' % done
    assert RAY.fullmatch(reply.headers["cf-ray"])
    head = api(emu, "HEAD", "/%s/download" % done)
    assert (head.status, head.body, head.headers["Content-Length"]) == (200, b"", "1024")
    assert api(emu, "GET", "/%s/download" % done, auth="key").body == CAPTURE


@pytest.mark.parametrize("spec, status, content_range, data", [
    ("bytes=1000-", 206, "bytes 1000-1023/1024", CAPTURE[1000:]),
    ("bytes=0-", 206, "bytes 0-1023/1024", CAPTURE),
    ("bytes=5-9", 206, "bytes 5-9/1024", CAPTURE[5:10]),
    ("bytes=-4", 206, "bytes 1020-1023/1024", CAPTURE[1020:]),
    ("bytes=1024-", 416, "bytes */1024", None),
    ("lines=1-", 200, None, CAPTURE),
])
def test_download_range(emu, done, spec, status, content_range, data):
    reply = api(emu, "GET", "/%s/download" % done, headers={"Range": spec})
    assert reply.status == status
    assert reply.headers["Content-Range"] == content_range
    if data is not None:
        assert reply.body == data and reply.headers["Content-Length"] == str(len(data))
        assert reply.headers["Content-Type"] == "application/vnd.tcpdump.pcap"
    else:
        assert_error(reply, 416, 1010, "Requested range not satisfiable: the file has 1024 bytes")


def test_download_cut_body_then_resume(emu, done):
    emu.faults.cut_body(1, 100, route="download")
    conn = http.client.HTTPConnection("127.0.0.1", emu.port, timeout=5)
    conn.request("GET", "/client/v4/accounts/%s/pcaps/%s/download" % (emu.account_id, done),
                 headers=credentials(emu))
    response = conn.getresponse()
    assert response.status == 200 and response.getheader("Content-Length") == "1024"
    with pytest.raises(http.client.IncompleteRead) as cut:
        response.read()
    assert cut.value.partial == CAPTURE[:100]
    conn.close()
    resumed = api(emu, "GET", "/%s/download" % done, headers={"Range": "bytes=100-"})
    assert resumed.status == 206 and resumed.headers["Content-Range"] == "bytes 100-1023/1024"
    assert CAPTURE[:100] + resumed.body == CAPTURE
    assert emu.faults.pending() == 0


# -- full captures and buckets ------------------------------------------------------

def test_full_capture_to_validated_bucket(emu):
    owner = emu.validate_ownership_for(BUCKET)
    assert owner["status"] == "success" and RFC3339.fullmatch(owner["validated"])
    result = create(emu, FULL, byte_limit=1000000000, packet_limit=1, time_limit=86400,
                    offset_time=ago(60), filter_v1={"destination_port": 53, "protocol": 17})
    assert set(result) == FULL_KEYS | {"byte_limit", "filter_v1"}
    assert (result["status"], result["type"], result["colo_name"], result["destination_conf"],
            result["byte_limit"], result["time_limit"], result["error_message"],
            result["packets_captured"]) == ("pending", "full", "ord02", BUCKET, 1000000000, 86400,
                                            "", 0)
    emu.pending_seconds, emu.conversion_seconds = 15, 30  # 0.15 s per phase
    short = create(emu, FULL, time_limit=15)
    assert set(short) == FULL_KEYS
    name = "pcap_%s.pcap" % short["id"]
    assert name not in emu.bucket_objects[BUCKET]
    assert statuses_until(emu, short["id"], "complete") == [
        "pending", "running", "conversion_pending", "conversion_running", "complete"]
    assert emu.bucket_objects[BUCKET][name] == CAPTURE
    assert sorted(emu.bucket_objects[BUCKET]) == sorted([name, owner["filename"]])
    assert emu.pcap(short["id"])["bucket_object"] == name
    assert emu.pcap(short["id"])["downloadable"] is False
    assert_error(api(emu, "GET", "/%s/download" % short["id"]), 400, 1009,
                 "PCAP '%s' is a full capture: its file is written to %s as %s and cannot be "
                 "downloaded" % (short["id"], BUCKET, name))
    assert api(emu, "GET", "/" + result["id"]).result["status"] == "running"


def test_full_capture_needs_a_validated_bucket(emu):
    message = ("destination_conf '%s' has no validated ownership: add it with POST "
               "/accounts/%s/pcaps/ownership, then validate its challenge"
               % (BUCKET, emu.account_id))
    assert_error(api(emu, "POST", "", FULL), 400, 1006, message)
    assert api(emu, "POST", "/ownership", {"destination_conf": BUCKET}).status == 200
    assert_error(api(emu, "POST", "", FULL), 400, 1006, message)  # pending is not enough
    other = "gs://other-bucket/pcaps"
    emu.validate_ownership_for(other)
    assert_error(api(emu, "POST", "", FULL), 400, 1006, message)  # another bucket is not enough
    assert create(emu, FULL, destination_conf=other)["destination_conf"] == other
    emu.validate_ownership_for(BUCKET)
    assert create(emu, FULL)["status"] == "pending"
    with pytest.raises(ValueError):
        emu.validate_ownership_for("ftp://bucket")


# -- ownership ------------------------------------------------------------------------

def test_ownership(emu):
    assert api(emu, "GET", "/ownership").result == []
    before = time.time()
    added = api(emu, "POST", "/ownership", {"destination_conf": BUCKET}).result
    assert set(added) == OWNERSHIP_KEYS
    assert HEX32.fullmatch(added["id"])
    assert (added["status"], added["destination_conf"]) == ("pending", BUCKET)
    assert re.fullmatch(r"ownership-challenge-[0-9a-f]{8}\.txt", added["filename"])
    assert RFC3339.fullmatch(added["submitted"])
    assert datetime.datetime.fromisoformat(
        added["submitted"].replace("Z", "+00:00")).timestamp() >= before - 0.001
    challenge = added["ownership_challenge"]
    assert len(challenge) >= 32
    assert emu.bucket_objects == {BUCKET: {added["filename"]: challenge.encode()}}
    r2 = api(emu, "POST", "/ownership/", {"destination_conf": "r2://logs-bucket"}).result
    assert api(emu, "GET", "/ownership").result == [added, r2]

    assert_error(api(emu, "POST", "/ownership", {"destination_conf": BUCKET}), 400, 1022,
                 "destination_conf '%s' was already added (ownership id %s): delete it first"
                 % (BUCKET, added["id"]))
    assert_error(api(emu, "POST", "/ownership", {"destination_conf": "bucket"}), 400, 1003,
                 "Invalid 'destination_conf': %s, got \"bucket\"" % _DESTINATION)
    assert_error(api(emu, "POST", "/ownership", {}), 400, 1002,
                 "Missing required field 'destination_conf'")
    assert_error(api(emu, "POST", "/ownership", b"[]"), 400, 1001,
                 "Malformed request body: expected a JSON object")

    validate = "/ownership/validate"
    wrong = api(emu, "POST", validate, {"destination_conf": BUCKET, "ownership_challenge": "x"})
    assert_error(wrong, 400, 1021, "Invalid 'ownership_challenge': it does not match the "
                                   "challenge written to %s as %s" % (BUCKET, added["filename"]))
    assert api(emu, "GET", "/ownership").result[0]["status"] == "failed"
    assert_error(api(emu, "POST", validate, {"destination_conf": BUCKET}), 400, 1002,
                 "Missing required field 'ownership_challenge'")
    assert_error(api(emu, "POST", validate, {"ownership_challenge": challenge}), 400, 1002,
                 "Missing required field 'destination_conf'")
    assert_error(api(emu, "POST", validate, {"destination_conf": "gs://nowhere",
                                             "ownership_challenge": challenge}), 404, 1020,
                 "No ownership challenge was requested for destination_conf \"gs://nowhere\"")
    right = api(emu, "POST", validate, {"destination_conf": BUCKET,
                                        "ownership_challenge": challenge}).result
    assert set(right) == OWNERSHIP_KEYS | {"validated"}
    assert right == dict(added, status="success", validated=right["validated"])
    assert RFC3339.fullmatch(right["validated"])
    again = api(emu, "POST", validate, {"destination_conf": BUCKET,
                                        "ownership_challenge": challenge}).result
    assert again == right
    assert_error(api(emu, "POST", validate, {"destination_conf": BUCKET,
                                             "ownership_challenge": "typo"}), 400, 1021,
                 "Invalid 'ownership_challenge': it does not match the challenge written to %s "
                 "as %s" % (BUCKET, added["filename"]))
    assert api(emu, "GET", "/ownership").result[0]["status"] == "success"  # a typo does not undo

    deleted = api(emu, "DELETE", "/ownership/" + added["id"])
    assert (deleted.status, deleted.body) == (204, b"")
    assert_error(api(emu, "DELETE", "/ownership/" + added["id"]), 404, 1020,
                 "Ownership '%s' not found" % added["id"])
    assert api(emu, "GET", "/ownership").result == [r2]
    assert_error(api(emu, "POST", "", FULL), 400, 1006,
                 "destination_conf '%s' has no validated ownership: add it with POST "
                 "/accounts/%s/pcaps/ownership, then validate its challenge"
                 % (BUCKET, emu.account_id))
    assert emu.bucket_objects[BUCKET] == {added["filename"]: challenge.encode()}  # file stays


def test_ownership_challenge_only_in_the_bucket(emu):
    emu.ownership_challenge_in_result = False
    added = api(emu, "POST", "/ownership", {"destination_conf": BUCKET}).result
    assert set(added) == OWNERSHIP_KEYS - {"ownership_challenge"}
    challenge = emu.bucket_objects[BUCKET][added["filename"]].decode()
    validated = api(emu, "POST", "/ownership/validate",
                    {"destination_conf": BUCKET, "ownership_challenge": challenge}).result
    assert validated["status"] == "success" and "ownership_challenge" not in validated


# -- failures ------------------------------------------------------------------------

def test_failcolo(emu):
    emu.validate_ownership_for(BUCKET)
    emu.pending_seconds = 20
    pcap_id = create(emu, FULL, colo_name="failcolo")["id"]
    assert statuses_until(emu, pcap_id, "failed") == ["pending", "failed"]
    got = api(emu, "GET", "/" + pcap_id).result
    assert got["error_message"] == ("colo_name 'failcolo': the packet capture could not be "
                                    "started in this colo")
    assert got["packets_captured"] == 0 and emu.pcap(pcap_id)["end_reason"] == "failed"
    assert list(emu.bucket_objects[BUCKET]) == [emu.validate_ownership_for(BUCKET)["filename"]]


def test_failing_source_address(emu):
    emu.pending_seconds, emu.conversion_seconds = 15, 30  # 0.15 s per phase
    pcap_id = create(emu, filter_v1={"source_address": "192.0.2.66"}, time_limit=15)["id"]
    assert statuses_until(emu, pcap_id, "failed") == [
        "pending", "running", "conversion_pending", "conversion_running", "failed"]
    got = api(emu, "GET", "/" + pcap_id).result
    assert set(got) == SIMPLE_KEYS | {"filter_v1", "error_message"}
    assert got["error_message"] == "the packet capture could not be converted to PCAP"
    assert_error(api(emu, "GET", "/%s/download" % pcap_id), 400, 1008,
                 "PCAP '%s' is not ready for download: its status is 'failed'" % pcap_id)
    other = create(emu, filter_v1={"destination_address": "192.0.2.66"}, time_limit=1)["id"]
    wait_status(emu, other, "success")


# -- rate limit and faults --------------------------------------------------------------

def test_rate_limit():
    with CloudflareEmulator(rate_limit=3, rate_window=1, retry_after_ms_header=True,
                            max_lifetime=30) as server:
        for _ in range(3):
            assert api(server, "GET").status == 200
        limited = api(server, "GET", "/ownership", auth="key")
        assert_error(limited, 429, 971, RATE_MESSAGE)
        assert limited.headers["Retry-After"] == "1"
        assert 1 <= int(limited.headers["Retry-After-Ms"]) <= 1000
        assert_error(api(server, "GET", auth={}), 403, 10000, "Authentication error")
        assert api(server, "POST", "", SIMPLE).status == 429
        assert api(server, "GET").status == 429  # refused requests do not count...
        time.sleep(1)
        assert [api(server, "GET").status for _ in range(4)] == [200, 200, 200, 429]
        server.retry_after_ms_header = False
        assert "Retry-After-Ms" not in api(server, "GET").headers
        assert server.requests(route="create")[0].status == 429
        assert server.errors == []


def test_rate_limit_long_window():
    with CloudflareEmulator(rate_limit=2, max_lifetime=30, retry_after_ms_header=True) as server:
        assert server.rate_window == 300
        assert [api(server, "GET").status for _ in range(2)] == [200, 200]
        limited = api(server, "GET")
        assert limited.headers["Retry-After"] == "300"
        assert 299000 <= int(limited.headers["Retry-After-Ms"]) <= 300000
        server.rate_limit = None
        assert api(server, "GET").status == 200


def test_faults_answer_with_envelopes(emu):
    pcap_id = create(emu)["id"]
    emu.faults.throttle(1, route="get")
    throttled = api(emu, "GET", "/" + pcap_id)
    assert_error(throttled, 429, 971, RATE_MESSAGE)
    assert throttled.headers["Retry-After"] == "1"
    emu.faults.throttle(1, route="list", retry_after="250", header="Retry-After-Ms")
    ms = api(emu, "GET")
    assert_error(ms, 429, 971, RATE_MESSAGE)
    assert ms.headers["Retry-After-Ms"] == "250" and ms.headers["Retry-After"] is None
    emu.faults.fail(1, 503, route="create")
    assert_error(api(emu, "POST", "", SIMPLE), 503, 10002, "Service Unavailable.")
    emu.faults.fail(1, 500, route="stop", code=1234, message="boom")
    assert_error(api(emu, "PUT", "/%s/stop" % pcap_id), 500, 1234, "boom")
    emu.faults.fail(1, 502, code="7000", message="upstream")
    assert_error(api(emu, "GET", "/ownership"), 502, 7000, "upstream")
    emu.faults.fail(1, 403)
    assert_error(api(emu, "GET"), 403, 10000, "Authentication error")
    emu.faults.delay(1, 0.2, route="ownership_list")
    start = time.monotonic()
    assert api(emu, "GET", "/ownership").status == 200
    assert time.monotonic() - start >= 0.2
    assert emu.faults.pending() == 0
    assert [r.status for r in emu.requests(route="get")] == [429]


# -- scaffolding --------------------------------------------------------------------------

def test_route_names_and_request_log(emu):
    emu.clear_log()
    conn = http.client.HTTPConnection("127.0.0.1", emu.port, timeout=5)
    auth = dict(credentials(emu), **{"User-Agent": "libpktcap/9"})
    base = "/client/v4/accounts/%s/pcaps" % emu.account_id

    def send(method, path, body=None):
        headers = dict(auth)
        if body is not None:
            body = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        conn.request(method, base + path, body=body, headers=headers)
        response = conn.getresponse()
        return response.status, response.read()

    owner = json.loads(send("POST", "/ownership", {"destination_conf": BUCKET})[1])["result"]
    sock = conn.sock
    send("GET", "/ownership")
    send("POST", "/ownership/validate", {"destination_conf": BUCKET,
                                         "ownership_challenge": owner["ownership_challenge"]})
    pcap_id = json.loads(send("POST", "", SIMPLE)[1])["result"]["id"]
    send("GET", "")
    send("GET", "/" + pcap_id)
    send("PUT", "/%s/stop" % pcap_id)
    send("GET", "/%s/download" % pcap_id)
    send("DELETE", "/ownership/" + owner["id"])
    assert conn.sock is sock  # one keep-alive connection throughout
    conn.close()
    logged = emu.requests()
    assert [r.route for r in logged] == [
        "ownership_add", "ownership_list", "ownership_validate", "create", "list", "get", "stop",
        "download", "ownership_delete"]
    assert [r.status for r in logged] == [200, 200, 200, 200, 200, 200, 204, 400, 204]
    assert logged[0].headers["user-agent"] == "libpktcap/9"
    assert logged[3].json() == SIMPLE
    stops = emu.requests(method="PUT", path_re=r"/stop$", route="stop")
    assert [r.match["pcap_id"] for r in stops] == [pcap_id]


def test_https(tmp_path):
    certfile, keyfile = make_cert(str(tmp_path))
    with CloudflareEmulator(certfile=certfile, keyfile=keyfile, max_lifetime=30) as server:
        assert server.endpoint == server.base_url + "/client/v4"
        assert server.endpoint.startswith("https://127.0.0.1:")
        context = ssl.create_default_context(cafile=certfile)
        assert api(server, "GET", context=context).result == []
        assert api(server, "POST", "/ownership", {"destination_conf": BUCKET},
                   context=context).status == 200
        with pytest.raises(urllib.error.URLError):
            api(server, "GET", context=ssl.create_default_context())
        assert server.errors == []


def test_helpers():
    server = CloudflareEmulator()
    assert server.account_id == "023e105f4ecef8ad9ca31a8372d0c353"
    assert server.provider_uri() == "cloudflare://accounts/023e105f4ecef8ad9ca31a8372d0c353"
    assert (server.pending_seconds, server.conversion_seconds, server.packets_per_second,
            server.rate_limit, server.rate_window, server.retry_after_ms_header,
            server.stop_full_only, server.ownership_challenge_in_result,
            server.capture_bytes) == (1, 2, 0, 1200, 300, False, False, True, b"")


def test_run_py(tmp_path):
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "run.py")
    capture_file = tmp_path / "capture.pcap"
    capture_file.write_bytes(CAPTURE)
    process = subprocess.Popen([sys.executable, script, "cloudflare", "--time-scale", "0.01",
                                "--lifetime", "30", "--tls", str(tmp_path / "tls"),
                                "--capture-file", str(capture_file)],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        info = json.loads(process.stdout.readline())
        assert sorted(info) == ["account_id", "api_key", "api_token", "ca_file", "email",
                                "endpoint", "provider_uri", "url"]
        assert info["endpoint"] == info["url"] + "/client/v4"
        assert info["provider_uri"] == "cloudflare://accounts/" + info["account_id"]
        context = ssl.create_default_context(cafile=info["ca_file"])
        pcaps = "%s/accounts/%s/pcaps" % (info["endpoint"], info["account_id"])
        keys = {"X-Auth-Email": info["email"], "X-Auth-Key": info["api_key"]}
        created = call(pcaps, "POST", dict(SIMPLE, time_limit=1), keys, context)
        pcap_id = created.result["id"]
        token = {"Authorization": "Bearer " + info["api_token"]}
        assert wait_for(lambda: call("%s/%s" % (pcaps, pcap_id), headers=token,
                                     context=context).result["status"] == "success")
        assert call("%s/%s/download" % (pcaps, pcap_id), headers=token,
                    context=context).body == CAPTURE
        process.stdin.close()
        assert process.wait(5) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
