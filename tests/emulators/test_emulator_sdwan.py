"""Tests of the Citrix SD-WAN emulator itself (urllib with a cookie jar, and http.client).

Run: /usr/bin/python3 -m pytest -q tests/emulators
"""

import http.client
import http.cookiejar
import json
import os
import ssl
import struct
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from emulator import make_cert  # noqa: E402
from sdwan import (EMPTY_PCAPNG, NS_COOKIE, SESSION_COOKIE, SUMMARY_FIELDS,  # noqa: E402
                   SdwanEmulator)

ADDED = "resource added succesfully"
SESSION_ERROR = {"errorcode": 444, "errormessage": "Session expired or invalid. Please login again.",
                 "severity": "ERROR"}
LOGIN_ERROR = {"errorcode": 354, "errormessage": "Invalid username or password",
               "severity": "ERROR"}


def _packet_block(index):
    """An Enhanced Packet Block with a 60-byte frame."""
    frame = bytes([index]) * 60
    return struct.pack("<IIIIIII", 6, 32 + len(frame), 0, 0, index, len(frame), len(frame)) + \
        frame + struct.pack("<I", 32 + len(frame))


CAPTURE = EMPTY_PCAPNG + b"".join(_packet_block(i) for i in range(20))  # 1888 bytes


def row(number):
    return {"number": str(number), "time": "0.%06d" % number,
            "src_mac": "00:11:22:33:44:55", "dst_mac": "66:77:88:99:aa:bb",
            "src_ip": "10.0.0.1", "dst_ip": "10.0.0.2", "src_port": "443",
            "dst_port": str(40000 + number % 1000), "protocol": "TCP", "length": "60"}


ROWS = [row(n) for n in range(1, 2501)]


class Reply:
    """status, headers (http.client.HTTPMessage), body bytes."""

    def __init__(self, status, headers, body):
        self.status, self.headers, self.body = status, headers, body

    def json(self):
        return json.loads(self.body)


class Client:
    """A NITRO client: urllib with a cookie jar (HTTP errors are returned, not raised)."""

    def __init__(self, emu, context=None):
        self.emu = emu
        self.jar = http.cookiejar.CookieJar()
        handlers = [urllib.request.HTTPCookieProcessor(self.jar)]
        if context is not None:
            handlers.append(urllib.request.HTTPSHandler(context=context))
        self.opener = urllib.request.build_opener(*handlers)

    def call(self, url, method="GET", body=None, headers=None):
        headers = dict(headers or {})
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
            headers.setdefault("Content-Type", "application/json")
        request = urllib.request.Request(url, data=body, method=method, headers=headers)
        try:
            with self.opener.open(request, timeout=10) as r:
                return Reply(r.status, r.headers, r.read())
        except urllib.error.HTTPError as e:
            with e:
                return Reply(e.code, e.headers, e.read())

    def login(self, username=None, password=None, version=2):
        return self.call(self.emu.login_url(version), "POST", {"login": {
            "username": self.emu.username if username is None else username,
            "password": self.emu.password if password is None else password}})

    def logout(self, version=2):
        return self.call(self.emu.login_url(version), "DELETE")

    def capture(self, interface="MGMT", duration=5, max_packets=1000, filter_str="", **extra):
        fields = {"interface": interface, "duration": duration, "filter_str": filter_str,
                  "max_packets": max_packets}
        fields.update(extra)
        return self.call(self.emu.capture_url(), "POST",
                         {"packet_capture": {k: v for k, v in fields.items() if v is not None}})

    def download(self, headers=None, method="GET"):
        return self.call(self.emu.download_url(), method, headers=headers)

    def cookies(self):
        return {c.name: c for c in self.jar}

    def cookie_header(self):
        return "; ".join("%s=%s" % (c.name, c.value) for c in self.jar)


@pytest.fixture
def emu():
    """A fast appliance: a 5 s capture lasts 0.05 s."""
    server = SdwanEmulator(time_scale=0.01, capture_bytes=CAPTURE, summary_rows=ROWS,
                           max_lifetime=60)
    server.start()
    yield server
    server.stop()
    assert server.errors == []


@pytest.fixture
def client(emu):
    c = Client(emu)
    assert c.login().status == 200
    return c


# -- login / logout -------------------------------------------------------------

@pytest.mark.parametrize("version", [1, 2])
def test_login(emu, version):
    c = Client(emu)
    reply = c.login(version=version)
    assert reply.status == 200
    assert reply.json() == {"login": {"message": ADDED}}
    assert reply.headers["Content-Type"] == "application/json"
    set_cookies = reply.headers.get_all("Set-Cookie")
    assert len(set_cookies) == 2
    assert set_cookies[0].startswith(SESSION_COOKIE + "=")
    assert set_cookies[0].endswith("; Path=/; HttpOnly")
    assert set_cookies[1].startswith(NS_COOKIE + "=")
    assert set_cookies[1].endswith("; Path=/; HttpOnly")
    cookies = c.cookies()
    assert sorted(cookies) == sorted([SESSION_COOKIE, NS_COOKIE])
    assert len(cookies[SESSION_COOKIE].value) == 32 and len(cookies[NS_COOKIE].value) == 16
    assert cookies[SESSION_COOKIE].path == "/" and not cookies[SESSION_COOKIE].secure
    assert (emu.logins, emu.logouts, emu.live_sessions()) == (1, 0, 1)
    assert c.capture().status == 200
    assert [r.route for r in emu.requests()] == ["login", "capture"]


@pytest.mark.parametrize("username, password", [
    ("admin", "wrong"), ("root", "Pa55w0rd!"), ("ADMIN", "Pa55w0rd!"), ("admin", ""),
])
def test_login_wrong_credentials(emu, username, password):
    c = Client(emu)
    reply = c.login(username, password)
    assert (reply.status, reply.json()) == (401, LOGIN_ERROR)
    assert reply.headers.get_all("Set-Cookie") is None
    assert emu.logins == 0 and emu.live_sessions() == 0
    assert c.capture().status == 401


@pytest.mark.parametrize("body, errorcode, message", [
    ({"login": {"username": "admin"}}, 1092, "Required argument missing [password]"),
    ({"login": {"password": "Pa55w0rd!"}}, 1092, "Required argument missing [username]"),
    ({"login": {"username": "admin", "password": 5}}, 1093,
     "Invalid argument value [password]: must be a string"),
    ({"username": "admin", "password": "Pa55w0rd!"}, 1092, "Required argument missing [login]"),
    ({"login": {"username": "admin", "password": "Pa55w0rd!", "otp": "1"}}, 278,
     "Invalid argument [otp]"),
    ({"login": "admin"}, 1093, "Invalid argument value [login]: must be an object"),
])
def test_login_bad_request(emu, body, errorcode, message):
    reply = Client(emu).call(emu.login_url(), "POST", body)
    assert reply.status == 400
    assert reply.json() == {"errorcode": errorcode, "errormessage": message, "severity": "ERROR"}
    assert emu.logins == 0


def test_logout_invalidates(emu, client):
    old = client.cookie_header()
    reply = client.logout(version=1)
    assert (reply.status, reply.json()) == (200, {"login": {"message": "resource deleted succesfully"}})
    assert reply.headers.get_all("Set-Cookie") == [
        "%s=; Path=/; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly" % name
        for name in (SESSION_COOKIE, NS_COOKIE)]
    assert client.cookies() == {}  # the jar honoured Max-Age=0
    assert (emu.logins, emu.logouts, emu.live_sessions()) == (1, 1, 0)
    for route_call in (lambda h: Client(emu).call(emu.capture_url(), "POST",
                                                  {"packet_capture": {}}, h),
                       lambda h: Client(emu).call(emu.download_url(), headers=h),
                       lambda h: Client(emu).call(emu.login_url(), "DELETE", headers=h)):
        reply = route_call({"Cookie": old})
        assert (reply.status, reply.json()) == (401, SESSION_ERROR)
    assert emu.logouts == 1
    assert client.login().status == 200 and client.capture().status == 200


def test_session_needs_both_cookies(emu, client):
    cookies = client.cookies()
    session = "%s=%s" % (SESSION_COOKIE, cookies[SESSION_COOKIE].value)
    ns_id = "%s=%s" % (NS_COOKIE, cookies[NS_COOKIE].value)
    bare = Client(emu)
    for header in (None, session, ns_id, session + "; %s=0000000000000000" % NS_COOKIE,
                   "%s=forged; %s" % (SESSION_COOKIE, ns_id)):
        reply = bare.call(emu.download_url(), headers={"Cookie": header} if header else None)
        assert (reply.status, reply.json()) == (401, SESSION_ERROR)
        assert reply.headers["Content-Type"] == "application/json"
    reply = bare.call(emu.download_url(), headers={"Cookie": "other=1; %s; %s" % (ns_id, session)})
    assert reply.status == 404  # authenticated; no capture yet


def test_session_expiry_and_expire_sessions(emu):
    emu.session_lifetime = 0.3
    c = Client(emu)
    assert c.login().status == 200
    assert c.download().status == 404
    time.sleep(0.35)
    assert (c.download().status, c.download().json()) == (401, SESSION_ERROR)
    assert emu.live_sessions() == 0
    emu.session_lifetime = 600
    assert c.login().status == 200 and c.capture().status == 200
    other = Client(emu)
    assert other.login().status == 200
    emu.expire_sessions()
    assert c.capture().status == 401 and other.download().status == 401
    assert c.logout().status == 401
    assert c.login().status == 200 and c.download().status == 200
    assert (emu.logins, emu.logouts) == (4, 0)


# -- capture ----------------------------------------------------------------------

def test_capture_current_shape_and_duration(emu, client):
    emu.time_scale = 0.02
    started = time.monotonic()
    reply = client.capture("MGMT--1--2", 10, 1000, "ip host 10.0.0.1 and tcp port 443")
    assert time.monotonic() - started >= 0.2
    assert reply.status == 200 and reply.headers["Content-Type"] == "application/json"
    body = reply.json()
    assert isinstance(body, list) and len(body) == 1
    answer = body[0]
    assert list(answer) == ["duration", "filter_str", "interface", "max_packets", "message",
                            "summary"]
    assert {k: v for k, v in answer.items() if k != "summary"} == {
        "duration": "10", "filter_str": "ip host 10.0.0.1 and tcp port 443",
        "interface": "MGMT--1--2", "max_packets": "1000", "message": ADDED}
    assert answer["summary"] == ROWS[:1000]
    assert all(list(r) == list(SUMMARY_FIELDS) for r in answer["summary"])
    assert all(isinstance(v, str) for r in answer["summary"] for v in r.values())
    assert emu.captures == [{"packet_capture": {
        "interface": "MGMT--1--2", "duration": 10, "filter_str": "ip host 10.0.0.1 and tcp port 443",
        "max_packets": 1000}}]


@pytest.mark.parametrize("max_packets, echoed, count", [
    (2000, "2000", 2000), ("5000", "5000", 2500), ("MAX", "MAX", 2500), ("1000", "1000", 1000),
])
def test_capture_max_packets(emu, client, max_packets, echoed, count):
    reply = client.capture("LTE-1--MGMT--1/2", "15", max_packets)
    assert reply.status == 200
    answer = reply.json()[0]
    assert (answer["duration"], answer["max_packets"], answer["interface"]) == (
        "15", echoed, "LTE-1--MGMT--1/2")
    assert answer["summary"] == ROWS[:count]


def test_capture_legacy_shape(emu, client):
    emu.response_shape = "legacy"
    emu.summary_rows = [dict(row(1), number=1, length=60), row(2)]  # numbers sent as strings
    reply = client.capture(duration=30, filter_str="")
    assert reply.status == 200
    assert reply.json() == {"packet_capture": {"message": ADDED, "summary": [row(1), row(2)]}}


def test_capture_without_filter_and_no_rows(emu, client):
    emu.summary_rows = []
    reply = client.capture(filter_str=None)
    assert reply.status == 200
    assert reply.json() == [{"duration": "5", "filter_str": "", "interface": "MGMT",
                             "max_packets": "1000", "message": ADDED, "summary": []}]


@pytest.mark.parametrize("fields, errorcode, message", [
    ({"duration": 7}, 1093, "Invalid argument value [duration]: 7 is not one of 5, 10, 15, 30"),
    ({"duration": "7"}, 1093,
     'Invalid argument value [duration]: "7" is not one of 5, 10, 15, 30'),
    ({"duration": "05"}, 1093,
     'Invalid argument value [duration]: "05" is not one of 5, 10, 15, 30'),
    ({"duration": 5.0}, 1093, "Invalid argument value [duration]: 5.0 is not one of 5, 10, 15, 30"),
    ({"duration": True}, 1093,
     "Invalid argument value [duration]: true is not one of 5, 10, 15, 30"),
    ({"duration": 60}, 1093, "Invalid argument value [duration]: 60 is not one of 5, 10, 15, 30"),
    ({"max_packets": 999}, 1093,
     "Invalid argument value [max_packets]: 999 is not one of 1000, 2000, 5000, MAX"),
    ({"max_packets": "max"}, 1093,
     'Invalid argument value [max_packets]: "max" is not one of 1000, 2000, 5000, MAX'),
    ({"max_packets": 10000}, 1093,
     "Invalid argument value [max_packets]: 10000 is not one of 1000, 2000, 5000, MAX"),
    ({"interface": "eth0"}, 1093,
     "Invalid argument value [interface]: unknown interface 'eth0' (known: MGMT, 1, 2, LTE-1, 1/2)"),
    ({"interface": "mgmt"}, 1093,
     "Invalid argument value [interface]: unknown interface 'mgmt' (known: MGMT, 1, 2, LTE-1, 1/2)"),
    ({"interface": "MGMT--"}, 1093,
     "Invalid argument value [interface]: unknown interface '' (known: MGMT, 1, 2, LTE-1, 1/2)"),
    ({"interface": "MGMT,1"}, 1093,
     "Invalid argument value [interface]: unknown interface 'MGMT,1' (known: MGMT, 1, 2, LTE-1, 1/2)"),
    ({"interface": "1--MGMT--1"}, 1093,
     "Invalid argument value [interface]: an interface is named twice in '1--MGMT--1'"),
    ({"interface": ""}, 1093,
     "Invalid argument value [interface]: must be interface names joined by '--'"),
    ({"interface": ["MGMT"]}, 1093,
     "Invalid argument value [interface]: must be interface names joined by '--'"),
    ({"filter_str": 443}, 1093, "Invalid argument value [filter_str]: must be a string"),
    ({"interface": None}, 1092, "Required argument missing [interface]"),
    ({"duration": None}, 1092, "Required argument missing [duration]"),
    ({"max_packets": None}, 1092, "Required argument missing [max_packets]"),
    ({"snaplen": 96}, 278, "Invalid argument [snaplen]"),
])
def test_capture_validation(emu, client, fields, errorcode, message):
    reply = client.capture(**fields)
    assert reply.status == 400 and reply.headers["Content-Type"] == "application/json"
    assert reply.json() == {"errorcode": errorcode, "errormessage": message, "severity": "ERROR"}
    assert emu.captures == [] and not emu.file_available


def test_capture_body_shape_and_media_type(emu, client):
    def post(body, content_type="application/json"):
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        return client.call(emu.capture_url(), "POST", data, {"Content-Type": content_type})

    for reply, errorcode, message in (
            (post({"interface": "MGMT"}), 1092, "Required argument missing [packet_capture]"),
            (post([{"packet_capture": {}}]), 1092, "Required argument missing [packet_capture]"),
            (post({"packet_capture": {}, "x": 1}), 278, "Invalid argument [x]"),
            (post({"packet_capture": "MGMT"}), 1093,
             "Invalid argument value [packet_capture]: must be an object")):
        assert reply.status == 400
        assert reply.json() == {"errorcode": errorcode, "errormessage": message,
                                "severity": "ERROR"}
    good = {"packet_capture": {"interface": "MGMT", "duration": 5, "max_packets": 1000}}
    for reply, message in (
            (post(b"{not json"), "The request body is not valid JSON."),
            (post(b""), "The request body is not valid JSON."),
            (post(good, "text/plain"), "Unsupported media type 'text/plain': the request body "
                                       "must be JSON (Content-Type: application/json)."),
            (post(b"interface=MGMT", "application/x-www-form-urlencoded"),
             "Unsupported media type 'application/x-www-form-urlencoded': the request body must "
             "be JSON (Content-Type: application/json).")):
        assert reply.status == 415
        assert reply.json() == {"errorcode": 1090, "errormessage": message, "severity": "ERROR"}
    assert post(good, "application/json; charset=utf-8").status == 200
    login = client.call(emu.login_url(), "POST", b"username=admin",
                        {"Content-Type": "application/x-www-form-urlencoded"})
    assert (login.status, login.json()["errorcode"]) == (415, 1090)


def test_filter_switch(emu, client):
    assert client.capture(filter_str="invalid syntax (").status == 200
    emu.reject_filter = "invalid"
    reply = client.capture(filter_str="tcp and invalid (")
    assert (reply.status, reply.json()) == (400, {
        "errorcode": 1093, "severity": "ERROR",
        "errormessage": "Invalid argument value [filter_str]: syntax error in filter expression "
                        "'tcp and invalid ('"})
    assert client.capture(filter_str="tcp port 443").status == 200
    assert len(emu.captures) == 2


def test_wrong_method_and_unknown_path(emu, client):
    for method, url, allow in ((("GET", emu.capture_url(), "POST")),
                               ("DELETE", emu.capture_url(), "POST"),
                               ("POST", emu.download_url(), "GET, HEAD"),
                               ("GET", emu.login_url(1), "DELETE, POST"),
                               ("PUT", emu.login_url(2), "DELETE, POST")):
        reply = client.call(url, method, b"{}" if method in ("POST", "PUT") else None,
                            {"Content-Type": "application/json"})
        assert reply.status == 405 and reply.headers["Allow"] == allow
        body = reply.json()
        assert (body["errorcode"], body["severity"]) == (1091, "ERROR")
        assert body["errormessage"] == "No route for %s %s." % (method, url[len(emu.base_url):])
    reply = client.call(emu.base_url + "/sdwan/nitro/v2/config/nothing")
    assert reply.status == 404 and reply.json()["errorcode"] == 258
    assert client.call(emu.base_url + "/sdwan/nitro/v1/diag/packet_capture", "POST",
                       {"packet_capture": {}}).status == 404  # the capture is v2 only


def test_forced_500(emu, client):
    emu.faults.fail(1, 500, route="capture")
    reply = client.capture()
    assert (reply.status, reply.json()) == (500, {
        "errorcode": 1021, "errormessage": "Internal error while processing the request.",
        "severity": "ERROR"})
    assert emu.captures == []
    emu.fail_captures = 1
    emu.time_scale = 0.04
    started = time.monotonic()
    reply = client.capture()
    assert time.monotonic() - started >= 0.2  # failed at the end of its duration
    assert (reply.status, reply.json()) == (500, {
        "errorcode": 1021, "severity": "ERROR",
        "errormessage": "Packet capture failed: the capture process ended unexpectedly."})
    assert len(emu.captures) == 1 and emu.fail_captures == 0
    assert client.download().status == 404
    assert client.capture().status == 200 and client.download().status == 200
    emu.faults.throttle(1, route="download", retry_after="2")
    throttled = client.download()
    assert (throttled.status, throttled.headers["Retry-After"]) == (429, "2")
    assert throttled.json()["errorcode"] == 1104


def test_capture_in_progress(emu, client):
    emu.time_scale = 0.06  # 5 s → 0.3 s
    results = {}
    worker = threading.Thread(target=lambda: results.update(first=client.capture()))
    worker.start()
    assert wait_for(lambda: emu.captures)
    second = Client(emu)
    assert second.login().status == 200
    busy = second.capture("1")
    assert (busy.status, busy.json()) == (409, {
        "errorcode": 1097, "severity": "ERROR",
        "errormessage": "A packet capture is already running. Retry when it has finished."})
    during = second.download()
    assert (during.status, during.json()["errorcode"]) == (404, 258)
    worker.join(5)
    assert results["first"].status == 200
    assert second.download().body == CAPTURE
    assert len(emu.captures) == 1


def wait_for(predicate, timeout=5.0):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.01)


# -- download ---------------------------------------------------------------------

def test_download(emu, client):
    before = client.download()
    assert (before.status, before.json()) == (404, {
        "errorcode": 258, "severity": "ERROR",
        "errormessage": "No such resource [pcap_download]: no capture file available"})
    assert client.capture().status == 200
    reply = client.download()
    assert reply.status == 200
    assert reply.headers["Content-Type"] == "application/json"
    assert reply.headers["Content-Length"] == str(len(CAPTURE)) == "1888"
    assert reply.headers["Accept-Ranges"] == "bytes"
    assert reply.body == CAPTURE and reply.body[:4] == b"\x0a\x0d\x0d\x0a"
    head = client.download(method="HEAD")
    assert (head.status, head.body, head.headers["Content-Length"]) == (200, b"", "1888")
    emu.capture_bytes = None
    assert client.download().body == EMPTY_PCAPNG
    assert len(EMPTY_PCAPNG) == 48 and EMPTY_PCAPNG[8:12] == b"\x4d\x3c\x2b\x1a"


@pytest.mark.parametrize("spec, status, content_range, part", [
    ("bytes=1000-", 206, "bytes 1000-1887/1888", slice(1000, None)),
    ("bytes=0-", 206, "bytes 0-1887/1888", slice(None)),
    ("bytes=5-9", 206, "bytes 5-9/1888", slice(5, 10)),
    ("bytes=1888-", 416, "bytes */1888", None),
])
def test_download_range(emu, client, spec, status, content_range, part):
    assert client.capture().status == 200
    reply = client.download({"Range": spec})
    assert reply.status == status
    assert reply.headers["Content-Range"] == content_range
    if part is not None:
        data = CAPTURE[part]
        assert reply.body == data and reply.headers["Content-Length"] == str(len(data))
        assert reply.headers["Content-Type"] == "application/json"
    else:
        assert reply.json()["errorcode"] == 1096


def raw_get(emu, cookie, headers=None, method="GET"):
    conn = http.client.HTTPConnection("127.0.0.1", emu.port, timeout=5)
    merged = {"Cookie": cookie}
    merged.update(headers or {})
    conn.request(method, "/sdwan/nitro/v2/download/pcap_download", headers=merged)
    return conn, conn.getresponse()


def test_download_cut_body_then_resume(emu, client):
    assert client.capture().status == 200
    emu.faults.cut_body(1, 100, route="download")
    conn, response = raw_get(emu, client.cookie_header())
    assert response.status == 200 and response.getheader("Content-Length") == "1888"
    with pytest.raises(http.client.IncompleteRead) as cut:
        response.read()
    assert cut.value.partial == CAPTURE[:100]
    conn.close()
    resumed = client.download({"Range": "bytes=100-"})
    assert resumed.status == 206 and CAPTURE[:100] + resumed.body == CAPTURE


def test_download_size_override(emu, client):
    assert client.capture().status == 200
    emu.download_size_override = 600 * 1024 * 1024
    conn, response = raw_get(emu, client.cookie_header())
    assert response.status == 200
    assert response.getheader("Content-Length") == "629145600"
    assert response.getheader("Content-Type") == "application/json"
    assert response.getheader("Connection") == "close"
    with pytest.raises(http.client.IncompleteRead) as cut:
        response.read()
    assert cut.value.partial == CAPTURE  # the whole (short) file, then the connection closes
    conn.close()
    conn, head = raw_get(emu, client.cookie_header(), method="HEAD")
    assert head.getheader("Content-Length") == "629145600" and head.read() == b""
    conn.close()
    emu.download_size_override = None
    assert client.download().body == CAPTURE


# -- HTTPS, URIs, run.py ------------------------------------------------------------

def test_https(tmp_path):
    certfile, keyfile = make_cert(str(tmp_path))
    with SdwanEmulator(certfile=certfile, keyfile=keyfile, time_scale=0.01, capture_bytes=CAPTURE,
                       summary_rows=ROWS[:3], max_lifetime=30) as server:
        assert server.base_url.startswith("https://127.0.0.1:")
        assert server.provider_uri() == "sdwan://127.0.0.1:%d" % server.port
        c = Client(server, ssl.create_default_context(cafile=certfile))
        reply = c.login()
        assert reply.status == 200
        assert all(v.endswith("; Path=/; HttpOnly; Secure")
                   for v in reply.headers.get_all("Set-Cookie"))
        assert all(cookie.secure for cookie in c.jar)
        assert c.capture().json()[0]["summary"] == ROWS[:3]
        assert c.download().body == CAPTURE
        assert c.logout().status == 200
        with pytest.raises(urllib.error.URLError):
            Client(server, ssl.create_default_context()).login()
        assert server.errors == []


def test_provider_uri_and_keep_alive(emu, client):
    assert emu.provider_uri() == "sdwan://127.0.0.1:%d?scheme=http" % emu.port
    assert emu.base_url == "http://127.0.0.1:%d" % emu.port
    conn = http.client.HTTPConnection("127.0.0.1", emu.port, timeout=5)
    body = json.dumps({"packet_capture": {"interface": "2", "duration": 5,
                                          "max_packets": "MAX"}})
    for _ in range(2):
        conn.request("POST", "/sdwan/nitro/v2/diag/packet_capture", body,
                     {"Cookie": client.cookie_header(), "Content-Type": "application/json"})
        response = conn.getresponse()
        assert response.status == 200 and response.getheader("Connection") is None
        response.read()
    conn.close()
    logged = emu.requests(method="POST", route="capture")
    assert len(logged) == 2 and logged[0].json()["packet_capture"]["interface"] == "2"
    assert SESSION_COOKIE in logged[0].headers["Cookie"]


def test_run_py(tmp_path):
    capture_file = tmp_path / "c.pcapng"
    capture_file.write_bytes(CAPTURE)
    summary_file = tmp_path / "rows.json"
    summary_file.write_text(json.dumps(ROWS[:2]))
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "run.py")
    process = subprocess.Popen([sys.executable, script, "sdwan", "--time-scale", "0.01",
                                "--lifetime", "30", "--capture-file", str(capture_file),
                                "--summary-json", str(summary_file)],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        info = json.loads(process.stdout.readline())
        assert sorted(info) == ["password", "provider_uri", "url", "username"]
        assert info["provider_uri"] == info["url"].replace("http://", "sdwan://") + "?scheme=http"
        assert (info["username"], info["password"]) == ("admin", "Pa55w0rd!")
        server = SdwanEmulator()  # only for its URL helpers: never started
        server.port = int(info["url"].rsplit(":", 1)[1])
        c = Client(server)
        assert c.login(info["username"], info["password"]).status == 200
        assert c.capture(max_packets="MAX").json()[0]["summary"] == ROWS[:2]
        assert c.download().body == CAPTURE
        process.stdin.close()
        assert process.wait(5) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
