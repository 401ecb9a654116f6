"""Tests of the scaffolding's network fault switches (emulator.py): what each
one puts on the wire, seen from raw sockets, http.client and ssl; the second
listener redirects point at; the test CA and its certificates.

Run: /usr/bin/python3 -m pytest -q tests/emulators
"""

import gc
import http.client
import json
import os
import socket
import ssl
import sys
import time

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from emulator import (HTML_PAGE, INVALID_JSON, Emulator, RedirectTarget, Response,  # noqa: E402
                      huge_json, issue_cert, make_ca)

BODY = {"value": [{"name": "cap%d" % i} for i in range(20)]}
BODY_BYTES = json.dumps(BODY, separators=(",", ":")).encode()


class Plain(Emulator):
    """Two JSON routes, "x" and "y", on the bare scaffolding."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.add_route(["GET", "HEAD", "POST"], r"/x", lambda req: Response.json(200, BODY), "x")
        self.add_route("GET", r"/y", lambda req: Response.json(200, {"y": 1}), "y")


@pytest.fixture
def emu():
    with Plain(max_lifetime=60) as e:
        yield e
        assert e.errors == []


def raw(emu, path="/x", timeout=5.0, limit=None):
    """Sends one GET on a new connection; (bytes received, how it ended:
    "eof", "reset", "timeout", "limit")."""
    sock = socket.create_connection(("127.0.0.1", emu.port), timeout=timeout)
    sock.sendall(b"GET %s HTTP/1.1\r\nHost: test\r\n\r\n" % path.encode())
    data = b""
    try:
        while limit is None or len(data) < limit:
            chunk = sock.recv(65536)
            if not chunk:
                return data, "eof"
            data += chunk
        return data, "limit"
    except ConnectionResetError:
        return data, "reset"
    except socket.timeout:
        return data, "timeout"
    finally:
        sock.close()


def head_and_body(data):
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    return lines[0], headers, body


def get(emu, path="/x", method="GET", timeout=5):
    conn = http.client.HTTPConnection("127.0.0.1", emu.port, timeout=timeout)
    try:
        conn.request(method, path)
        reply = conn.getresponse()
        return reply.status, {k.lower(): v for k, v in reply.getheaders()}, reply.read()
    finally:
        conn.close()


def wait_idle(emu, seconds=5.0):
    """Whether every connection's handler has ended within *seconds*."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with emu._conn_lock:
            if not emu._connections:
                return True
        time.sleep(0.01)
    return False


# -- connection faults ------------------------------------------------------------

@pytest.mark.parametrize("how, ending", [("rst", "reset"), ("close", "eof")])
def test_reset_headers_sends_part_of_the_head_then_resets_or_closes(emu, how, ending):
    emu.faults.reset_headers(2, 12, route="x", how=how)
    for _ in range(2):
        assert raw(emu) == (b"HTTP/1.1 200", ending)
    assert raw(emu, "/y")[0].startswith(b"HTTP/1.1 200 OK\r\n")   # another route: unharmed
    status, _, body = get(emu)                                      # after n: the answer
    assert (status, body) == (200, BODY_BYTES)
    assert [r.status for r in emu.requests(route="x")] == [200, 200, 200]   # all logged
    with pytest.raises(ValueError):
        emu.faults.reset_headers(1, how="linger")


def test_reset_body_sends_the_head_and_some_body_then_resets(emu):
    emu.faults.reset_body(1, 7, route="x")
    data, ending = raw(emu)
    status_line, headers, body = head_and_body(data)
    assert ending == "reset" and status_line == "HTTP/1.1 200 OK"
    assert headers["content-length"] == str(len(BODY_BYTES)) and body == BODY_BYTES[:7]
    assert get(emu)[2] == BODY_BYTES


def test_cut_body_still_closes_cleanly(emu):
    emu.faults.cut_body(1, 7, route="x")
    data, ending = raw(emu)
    assert ending == "eof" and head_and_body(data)[2] == BODY_BYTES[:7]


def test_stall_sends_nothing_until_its_time_is_up(emu):
    emu.faults.stall(1, route="x", seconds=0.5)
    started = time.monotonic()
    assert raw(emu) == (b"", "eof")
    assert 0.45 <= time.monotonic() - started < 3
    assert len(emu.requests(route="x")) == 1      # the request was read and logged


def test_stall_after_headers_sends_only_the_head(emu):
    emu.faults.stall(1, route="x", after_headers=True, seconds=0.5)
    data, ending = raw(emu)
    status_line, headers, body = head_and_body(data)
    assert ending == "eof" and status_line == "HTTP/1.1 200 OK"
    assert headers["content-length"] == str(len(BODY_BYTES)) and body == b""


def test_a_stall_ends_when_the_client_gives_up(emu):
    emu.faults.stall(1, route="x")               # 120 s unless the client goes away
    assert raw(emu, timeout=0.3) == (b"", "timeout")
    assert wait_idle(emu, 3)                      # the handler saw the client close


def test_a_stall_ends_when_the_emulator_stops():
    with Plain() as e:
        e.faults.stall(1, route="x")
        sock = socket.create_connection(("127.0.0.1", e.port), timeout=5)
        sock.sendall(b"GET /x HTTP/1.1\r\nHost: t\r\n\r\n")
        deadline = time.monotonic() + 5
        while not e.requests(route="x"):
            assert time.monotonic() < deadline
            time.sleep(0.01)
        started = time.monotonic()
        e.stop()
        assert sock.recv(100) == b""
        assert time.monotonic() - started < 3
        sock.close()


def test_delay_and_stall_combine(emu):
    emu.faults.delay(1, 0.3, route="x")
    emu.faults.stall(1, route="x", seconds=0.3)
    started = time.monotonic()
    assert raw(emu) == (b"", "eof")
    assert time.monotonic() - started >= 0.55


# -- answers that are not what the route promises ------------------------------------------

@pytest.mark.parametrize("keep, expected", [(0.5, BODY_BYTES[:len(BODY_BYTES) // 2]),
                                            (10, BODY_BYTES[:10]),
                                            (10 ** 6, BODY_BYTES[:-1])])
def test_truncate_json_keeps_a_matching_content_length(emu, keep, expected):
    emu.faults.truncate_json(1, route="x", keep=keep)
    status, headers, body = get(emu)
    assert status == 200 and body == expected
    assert headers["content-length"] == str(len(expected))
    assert headers["content-type"] == "application/json; charset=utf-8"
    with pytest.raises(ValueError):
        json.loads(body)
    assert get(emu)[2] == BODY_BYTES


def test_invalid_json(emu):
    emu.faults.invalid_json(1, route="x")
    status, headers, body = get(emu)
    assert (status, body) == (200, INVALID_JSON)
    assert headers["content-type"] == "application/json; charset=utf-8"
    with pytest.raises(ValueError):
        json.loads(body)
    emu.faults.invalid_json(1, route="x", status=201, body=b"{", content_type="application/json")
    assert get(emu)[0] == 201


def test_wrong_content_type(emu):
    emu.faults.wrong_content_type(1, route="x")
    status, headers, body = get(emu)
    assert (status, headers["content-type"], body) == (200, "text/html; charset=utf-8", HTML_PAGE)
    emu.faults.wrong_content_type(1, route="x", content_type="text/plain", body=BODY_BYTES)
    status, headers, body = get(emu)
    assert (headers["content-type"], body) == ("text/plain", BODY_BYTES)


def test_huge_json_is_exactly_as_long_as_it_says():
    for size in (1000, 300_000, 3 << 20):
        length, chunks = huge_json(size, block=4096)
        data = b"".join(chunks)
        items = json.loads(data)["value"]
        step = len(json.dumps(items[0], separators=(",", ":"))) + 1    # an item and its comma
        assert len(data) == length and size - step < length <= size
        assert len(items) == (length - len('{"value":[]}') + 1) // step
        assert all(item == items[0] for item in items)
    length, chunks = huge_json(1, prefix=b"[", item=b"1", suffix=b"]")
    assert (length, b"".join(chunks)) == (3, b"[1]")              # at least one item
    length, chunks = huge_json(10_000, prefix=b"[", item=b"1", suffix=b"]", block=64)
    assert json.loads(b"".join(chunks)) == [1] * 4999 and length == 9999


@pytest.mark.parametrize("announce", [True, False])
def test_huge_body_streams_whole_json(emu, announce):
    emu.faults.huge_body(1, 3 << 20, route="x", announce=announce)
    status, headers, body = get(emu, timeout=30)
    assert status == 200 and json.loads(body)["value"]
    if announce:
        assert headers["content-length"] == str(len(body)) and "transfer-encoding" not in headers
    else:
        assert headers["transfer-encoding"] == "chunked" and "content-length" not in headers
    assert abs(len(body) - (3 << 20)) < 200
    assert headers["connection"] == "close"


def proc_kib(field):
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith(field + ":"))


@pytest.mark.parametrize("announce", [True, False])
def test_a_huge_body_is_never_held_and_a_client_may_hang_up(emu, announce):
    gc.collect()
    before = proc_kib("VmRSS")
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")                                 # VmHWM from here on
    emu.faults.huge_body(1, 300 << 20, route="x", announce=announce)
    data, ending = raw(emu, limit=4 << 20)
    assert ending == "limit" and data.startswith(b"HTTP/1.1 200 OK\r\n")
    assert wait_idle(emu, 10)                        # the handler noticed, and ended
    assert get(emu)[2] == BODY_BYTES                 # the server goes on
    assert proc_kib("VmHWM") - before < 64 << 10     # KiB: 300 MB were never in memory
    headers = head_and_body(data)[1]
    if announce:
        assert 0 <= (300 << 20) - int(headers["content-length"]) < 200
    else:
        assert headers["transfer-encoding"] == "chunked"


def test_a_huge_body_is_announced_to_head_but_not_sent(emu):
    emu.faults.huge_body(1, 300 << 20, route="x")
    status, headers, body = get(emu, method="HEAD")
    assert status == 200 and body == b"" and int(headers["content-length"]) > 300_000_000


# -- redirects and the second listener ----------------------------------------------------

def test_redirect_to_another_host_and_what_arrives_there(emu):
    with RedirectTarget() as target:
        assert target.base_url.startswith("http://127.0.0.2:")
        emu.faults.redirect(1, target.url_for, route="x")
        emu.faults.redirect(1, "http://127.0.0.2:1/fixed", route="x", status=307)
        status, headers, _ = get(emu, "/x?a=1")
        assert (status, headers["location"]) == (302, target.base_url + "/x?a=1")
        status, headers, _ = get(emu)
        assert (status, headers["location"]) == (307, "http://127.0.0.2:1/fixed")
        assert target.requests() == [] and target.credentials_seen() == []
        conn = http.client.HTTPConnection("127.0.0.2", target.port, timeout=5)
        conn.request("GET", "/anything", headers={"Authorization": "Bearer x", "Cookie": "a=b"})
        assert conn.getresponse().read() == b"{}"
        conn.close()
        assert target.credentials_seen() == ["Authorization", "Cookie"]
        assert target.requests()[0].route == "any"
        assert target.errors == []
    with pytest.raises(ValueError):
        emu.faults.redirect(1, "http://x/", status=200)


# -- storms --------------------------------------------------------------------------------

@pytest.mark.parametrize("status, retry_after", [(503, None), (503, "2"), (429, None),
                                                 (429, "1")])
def test_storm_of_n_consecutive_errors(emu, status, retry_after):
    emu.faults.storm(3, status, route="x", retry_after=retry_after)
    for _ in range(3):
        got, headers, _ = get(emu)
        assert got == status and headers.get("retry-after") == retry_after
    assert get(emu)[0] == 200
    assert [r.status for r in emu.requests(route="x")] == [status] * 3 + [200]


def test_answers_are_taken_in_the_order_armed(emu):
    emu.faults.storm(1, 503, route="x")
    emu.faults.invalid_json(1, route="x")
    emu.faults.throttle(1, route="x", header=None)
    emu.faults.wrong_content_type(1, route="x")
    assert emu.faults.pending("reject") == 4
    emu.faults.truncate_json(1, route="x")
    emu.faults.reset_headers(1, route="y")
    emu.faults.stall(1, route="y")
    assert emu.faults.pending() == 7
    assert (emu.faults.pending("truncate"), emu.faults.pending("head"),
            emu.faults.pending("stall")) == (1, 1, 1)
    assert [get(emu)[0] for _ in range(5)] == [503, 200, 429, 200, 200]
    assert [r.status for r in emu.requests(route="x")] == [503, 200, 429, 200, 200]
    emu.faults.reset()
    assert emu.faults.pending() == 0


# -- connections ------------------------------------------------------------------------------

def test_close_connections_ends_kept_alive_connections(emu):
    conn = http.client.HTTPConnection("127.0.0.1", emu.port, timeout=5)
    conn.request("GET", "/y")
    assert conn.getresponse().read() == b'{"y":1}'
    assert not wait_idle(emu, 0.1)                  # kept alive
    assert emu.close_connections()
    assert wait_idle(emu, 0.1)
    with pytest.raises((OSError, http.client.HTTPException)):
        conn.request("GET", "/y")
        conn.getresponse().read()
    conn.close()


# -- the test CA -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def ca(tmp_path_factory):
    return make_ca(str(tmp_path_factory.mktemp("ca")))


@pytest.mark.parametrize("names, expired, error", [
    (("IP:127.0.0.1", "DNS:localhost"), False, None),
    (("DNS:wrong.example",), False, "IP address mismatch"),
    (("IP:127.0.0.1",), True, "certificate has expired"),
])
def test_issued_certificates(tmp_path, ca, names, expired, error):
    certfile, keyfile = issue_cert(str(tmp_path), ca, names=names, expired=expired)
    assert oct(os.stat(keyfile).st_mode & 0o777) == "0o600"
    with Plain(certfile=certfile, keyfile=keyfile) as server:
        context = ssl.create_default_context(cafile=ca[0])
        conn = http.client.HTTPSConnection("127.0.0.1", server.port, timeout=5, context=context)
        try:
            if error is None:
                conn.request("GET", "/y")
                assert conn.getresponse().read() == b'{"y":1}'
            else:
                with pytest.raises(ssl.SSLCertVerificationError) as e:
                    conn.request("GET", "/y")
                assert error in str(e.value)
        finally:
            conn.close()
        assert len(server.requests(route="y")) == (0 if error else 1)
        assert server.errors == []
