"""Tests of the Azure emulator itself (urllib.request and http.client as clients).

Run: /usr/bin/python3 -m pytest -q tests/emulators
"""

import http.client
import json
import os
import re
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from azure import ARM_AUDIENCE, STORAGE_AUDIENCE, AzureEmulator  # noqa: E402
from emulator import http_date, make_cert  # noqa: E402

API = "2024-05-01"
SUB = "00000000-0000-0000-0000-000000000001"
VM = "/subscriptions/%s/resourceGroups/App-RG/providers/Microsoft.Compute/virtualMachines/VM1" % SUB
STORAGE_ID = ("/subscriptions/%s/resourceGroups/App-RG/providers/Microsoft.Storage/"
              "storageAccounts/capstore" % SUB)
ARM_SCOPE = "https://management.azure.com/.default"
STORAGE_SCOPE = "https://storage.azure.com/.default"
CAPTURE = bytes(range(256)) * 4  # 1024 bytes
ISO7 = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z")


class Reply:
    """status, headers (http.client.HTTPMessage), body bytes."""

    def __init__(self, status, headers, body):
        self.status, self.headers, self.body = status, headers, body

    def json(self):
        return json.loads(self.body)


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


def token_call(emu, scope=ARM_SCOPE, secret=None, tenant=None, client_id=None, context=None):
    form = {"grant_type": "client_credentials",
            "client_id": client_id or emu.client_id,
            "client_secret": emu.client_secret if secret is None else secret,
            "scope": scope}
    return call("%s/%s/oauth2/v2.0/token" % (emu.base_url, tenant or emu.tenant), "POST",
                urllib.parse.urlencode(form).encode(),
                {"Content-Type": "application/x-www-form-urlencoded"}, context)


def get_token(emu, scope=ARM_SCOPE):
    reply = token_call(emu, scope)
    assert reply.status == 200, reply.body
    return reply.json()["access_token"]


def arm(emu, method, suffix="", body=None, token=None, api=API, headers=None, path=None):
    """An ARM call on P + suffix (or on *path*), authorised with *token* (a fresh one by default)."""
    headers = dict(headers or {})
    if token is None:
        token = get_token(emu)
    if token:
        headers["Authorization"] = "Bearer " + token
    url = emu.base_url + (path if path is not None else emu.watcher_path + suffix)
    if api is not None:
        url += ("&" if "?" in url else "?") + "api-version=" + api
    return call(url, method, body, headers)


def poll(url, token, method="GET", headers=None):
    merged = {"Authorization": "Bearer " + token}
    merged.update(headers or {})
    return call(url, method, None, merged)


def props(drop=(), **fields):
    """A create body: a VM target, a storage account, a 60 s limit; *fields* override."""
    properties = {"target": VM, "storageLocation": {"storageId": STORAGE_ID},
                  "timeLimitInSeconds": 60}
    properties.update(fields)
    for key in drop:
        del properties[key]
    return {"properties": properties}


def wait_for(predicate, timeout=5.0):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.01)


def status_of(emu, token, name):
    reply = arm(emu, "POST", "/packetCaptures/%s/queryStatus" % name, b"", token)
    assert reply.status == 200, reply.body
    return reply.json()


def blob_get(url, token=None, version="2021-08-06", headers=None, method="GET"):
    merged = {"x-ms-date": http_date()}
    if version:
        merged["x-ms-version"] = version
    if token:
        merged["Authorization"] = "Bearer " + token
    merged.update(headers or {})
    return call(url, method, None, merged)


@pytest.fixture
def emu():
    """A fast emulator: provisioning 0.2 s, start 0.3 s later, 60 s limits last 0.6 s."""
    server = AzureEmulator(time_scale=0.01, provisioning_seconds=20, start_delay_seconds=30,
                           capture_bytes=CAPTURE, max_lifetime=60)
    server.start()
    yield server
    server.stop()
    assert server.errors == []


@pytest.fixture
def token(emu):
    return get_token(emu)


def create(emu, token, name="pc1", body=None, **kwargs):
    reply = arm(emu, "PUT", "/packetCaptures/" + name, body or props(), token, **kwargs)
    assert reply.status == 201, reply.body
    return reply


def wait_provisioned(emu, token, reply, headers=None):
    """Poll the Azure-AsyncOperation URL until it leaves InProgress; its last body."""
    url = reply.headers["Azure-AsyncOperation"]
    return wait_for(lambda: (lambda body: body["status"] != "InProgress" and body)(
        poll(url, token, headers=headers).json()))


# -- Entra ID token endpoint --------------------------------------------------

def test_token_success(emu):
    reply = token_call(emu)
    assert reply.status == 200
    body = reply.json()
    assert sorted(body) == ["access_token", "expires_in", "ext_expires_in", "token_type"]
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == body["ext_expires_in"] == 3600
    assert re.fullmatch(r"emu\.[A-Za-z0-9_-]{40}", body["access_token"])
    assert reply.headers["Cache-Control"] == "no-store, no-cache"
    get_token(emu, STORAGE_SCOPE)
    assert emu.tokens_issued == {ARM_AUDIENCE: 1, STORAGE_AUDIENCE: 1}


def test_token_wrong_secret(emu):
    reply = token_call(emu, secret="wrong-secret")
    assert reply.status == 401
    body = reply.json()
    assert body["error"] == "invalid_client"
    assert body["error_codes"] == [7000215]
    assert body["error_description"].startswith(
        "AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the "
        "request is the client secret value, not the client secret ID, for a secret added to "
        "app '%s'." % emu.client_id)
    assert {"timestamp", "trace_id", "correlation_id"} <= set(body)
    assert b"wrong-secret" not in reply.body and emu.client_secret.encode() not in reply.body
    assert emu.tokens_issued == {}


@pytest.mark.parametrize("kwargs, status, error, number", [
    ({"scope": "https://graph.microsoft.com/.default"}, 400, "invalid_scope", 70011),
    ({"scope": "https://management.azure.com/user_impersonation"}, 400, "invalid_scope", 70011),
    ({"tenant": "99999999-9999-9999-9999-999999999999"}, 400, "invalid_request", 90002),
    ({"client_id": "33333333-3333-3333-3333-333333333333"}, 400, "unauthorized_client", 700016),
    ({"secret": ""}, 401, "invalid_client", 7000218),
])
def test_token_errors(emu, kwargs, status, error, number):
    reply = token_call(emu, **kwargs)
    assert reply.status == status
    body = reply.json()
    assert (body["error"], body["error_codes"]) == (error, [number])
    assert body["error_description"].startswith("AADSTS%d: " % number)
    if "tenant" in kwargs:
        assert "Tenant '99999999-9999-9999-9999-999999999999' not found." in body["error_description"]


def test_token_needs_form_encoding(emu):
    reply = call(emu.token_url(), "POST", {"grant_type": "client_credentials"})
    assert reply.status == 400
    assert reply.json()["error_description"].startswith(
        "AADSTS900144: The request body must contain the following parameter: 'grant_type'.")
    assert call(emu.token_url(), "GET").status == 405


# -- IMDS ---------------------------------------------------------------------

IMDS_QUERY = "?api-version=2018-02-01&resource=https://management.azure.com/"


def test_imds_requires_metadata_header(emu):
    reply = call(emu.imds_url() + IMDS_QUERY)
    assert reply.status == 400
    assert reply.json() == {"error": "invalid_request",
                            "error_description": "Required metadata header not specified"}


def test_imds_token_fields_are_strings(emu):
    reply = call(emu.imds_url() + IMDS_QUERY, headers={"Metadata": "true"})
    assert reply.status == 200
    body = reply.json()
    assert set(body) >= {"access_token", "refresh_token", "expires_in", "expires_on",
                         "not_before", "resource", "token_type"}
    assert all(isinstance(v, str) for v in body.values())
    assert body["resource"] == "https://management.azure.com/"
    assert body["token_type"] == "Bearer" and body["expires_in"] == "3600"
    assert int(body["expires_on"]) - int(body["not_before"]) == 3600
    assert arm(emu, "GET", "/packetCaptures", token=body["access_token"]).status == 200
    storage = call(emu.imds_url() + "?api-version=2018-02-01&resource=https://storage.azure.com/",
                   headers={"Metadata": "true"})
    assert storage.status == 200
    assert emu.tokens_issued == {ARM_AUDIENCE: 1, STORAGE_AUDIENCE: 1}


def test_imds_identity_gone_and_faults(emu):
    emu.imds_client_id = "44444444-4444-4444-4444-444444444444"
    url = emu.imds_url() + IMDS_QUERY
    wrong = call(url + "&client_id=55555555-5555-5555-5555-555555555555", headers={"Metadata": "true"})
    assert (wrong.status, wrong.json()) == (400, {"error": "invalid_request",
                                                  "error_description": "Identity not found"})
    right = call(url + "&client_id=" + emu.imds_client_id, headers={"Metadata": "true"})
    assert right.status == 200 and right.json()["client_id"] == emu.imds_client_id
    emu.imds_gone = 2
    assert [call(url, headers={"Metadata": "true"}).status for _ in range(3)] == [410, 410, 200]
    emu.faults.throttle(1, route="imds", retry_after="5")
    throttled = call(url, headers={"Metadata": "true"})
    assert (throttled.status, throttled.headers["Retry-After"]) == (429, "5")
    assert throttled.json()["error"] == "temporarily_unavailable"
    missing = call(emu.imds_url() + "?api-version=2018-02-01", headers={"Metadata": "true"})
    assert missing.json() == {"error": "invalid_request",
                              "error_description": "Required query variable 'resource' is missing"}


# -- ARM lifecycle ------------------------------------------------------------

def test_lifecycle(emu, token):
    client_id = {"x-ms-client-request-id": "c0ffee00-0000-4000-8000-000000000001"}
    reply = create(emu, token, headers=client_id)
    body = reply.json()
    assert body["name"] == "pc1"
    assert body["id"] == emu.watcher_path + "/packetCaptures/pc1"
    assert re.fullmatch(r'W/"[0-9a-f-]{36}"', body["etag"])
    properties = body["properties"]
    assert properties["provisioningState"] == "Updating"
    assert (properties["bytesToCapturePerPacket"], properties["totalBytesPerSession"],
            properties["timeLimitInSeconds"]) == (0, 1073741824, 60)
    assert properties["target"] == VM and properties["filters"] == []
    storage_path = properties["storageLocation"]["storagePath"]
    assert re.fullmatch(
        re.escape(emu.base_url) + r"/blob/capstore/network-watcher-logs/subscriptions/" + SUB
        + r"/resourcegroups/app-rg/providers/microsoft\.compute/virtualmachines/vm1/"
          r"\d{4}/\d\d/\d\d/packetcapture_\d\d_\d\d_\d\d_\d{3}\.cap", storage_path)
    assert reply.headers["Retry-After"] == "1"
    assert reply.headers["x-ms-client-request-id"] == client_id["x-ms-client-request-id"]
    assert re.fullmatch(r"[0-9a-f-]{36}", reply.headers["x-ms-request-id"])
    writes = int(reply.headers["x-ms-ratelimit-remaining-subscription-writes"])
    async_url = reply.headers["Azure-AsyncOperation"]
    assert len(async_url) > 4096
    assert async_url.startswith("%s/subscriptions/%s/providers/Microsoft.Network/locations/"
                                "westus/operations/" % (emu.base_url, SUB))

    in_progress = poll(async_url, token, headers=client_id)
    assert (in_progress.status, in_progress.json()) == (200, {"status": "InProgress"})
    assert in_progress.headers["Retry-After"] == "1"
    assert arm(emu, "GET", "/packetCaptures/pc1", token=token).json()[
        "properties"]["provisioningState"] == "Updating"
    assert wait_provisioned(emu, token, reply, client_id) == {"status": "Succeeded"}
    assert all(r.headers["x-ms-client-request-id"] == client_id["x-ms-client-request-id"]
               for r in emu.requests(route="lro"))
    got = arm(emu, "GET", "/packetCaptures/pc1", token=token)
    assert got.status == 200 and got.json()["properties"]["provisioningState"] == "Succeeded"
    assert int(got.headers["x-ms-ratelimit-remaining-subscription-reads"]) > 0

    first = status_of(emu, token, "pc1")
    assert first["packetCaptureStatus"] == "NotStarted"
    assert (first["name"], first["id"], first["stopReason"], first["packetCaptureError"]) == (
        "pc1", body["id"], "", [])
    blob = blob_get(storage_path, get_token(emu, STORAGE_SCOPE))
    assert blob.status == 404 and b"<Code>BlobNotFound</Code>" in blob.body
    running = wait_for(lambda: status_of(emu, token, "pc1")["packetCaptureStatus"] == "Running")
    assert running
    status = status_of(emu, token, "pc1")
    assert ISO7.fullmatch(status["captureStartTime"]) and status["stopReason"] == ""
    stopped = wait_for(lambda: (lambda s: s["packetCaptureStatus"] == "Stopped" and s)(
        status_of(emu, token, "pc1")))
    assert stopped["stopReason"] == "TimeExceeded"
    assert stopped["captureStartTime"] == status["captureStartTime"]
    blob = blob_get(storage_path, get_token(emu, STORAGE_SCOPE))
    assert blob.status == 200 and blob.body == CAPTURE

    again = arm(emu, "POST", "/packetCaptures/pc1/stop", b"", token)
    assert (again.status, again.body) == (200, b"")

    deleted = arm(emu, "DELETE", "/packetCaptures/pc1", token=token)
    assert deleted.status == 202 and deleted.body == b""
    assert int(deleted.headers["x-ms-ratelimit-remaining-subscription-deletes"]) > 0
    assert arm(emu, "GET", "/packetCaptures/pc1", token=token).json()[
        "properties"]["provisioningState"] == "Deleting"
    location = deleted.headers["Location"]
    assert "/operationResults/" in location and len(location) > 4096
    assert poll(location, token).status == 202
    final = poll(location, token)
    assert (final.status, final.body) == (204, b"")
    gone = arm(emu, "GET", "/packetCaptures/pc1", token=token)
    assert gone.status == 404 and gone.json()["error"]["code"] == "ResourceNotFound"
    assert blob_get(storage_path, get_token(emu, STORAGE_SCOPE)).body == CAPTURE
    assert int(arm(emu, "PUT", "/packetCaptures/pc9", props(), token).headers[
        "x-ms-ratelimit-remaining-subscription-writes"]) < writes


def test_stop_manual_location(emu, token):
    reply = create(emu, token)
    assert wait_provisioned(emu, token, reply) == {"status": "Succeeded"}
    stop = arm(emu, "POST", "/packetCaptures/pc1/stop", b"", token)
    assert stop.status == 202 and stop.body == b"" and stop.headers["Retry-After"] == "1"
    assert poll(stop.headers["Location"], token).status == 202
    final = poll(stop.headers["Location"], token)
    assert (final.status, final.body) == (200, b"null")
    status = status_of(emu, token, "pc1")
    assert (status["packetCaptureStatus"], status["stopReason"]) == ("Stopped", "Manual")
    path = reply.json()["properties"]["storageLocation"]["storagePath"]
    assert blob_get(path, get_token(emu, STORAGE_SCOPE)).body == CAPTURE
    assert emu.capture("PC1")["blob_available"] is True


def test_other_lro_styles(emu, token):
    emu.lro_style = {"query_status": "location", "stop": "sync", "delete": "sync"}
    emu.location_polls = 2
    emu.lro_retry_after = None
    create(emu, token)
    query = arm(emu, "POST", "/packetCaptures/pc1/queryStatus", b"", token)
    assert query.status == 202 and "Retry-After" not in query.headers
    assert [poll(query.headers["Location"], token).status for _ in range(2)] == [202, 202]
    final = poll(query.headers["Location"], token)
    assert final.status == 200 and final.json()["packetCaptureStatus"] == "NotStarted"
    stop = arm(emu, "POST", "/packetCaptures/pc1/stop", b"", token)
    assert (stop.status, stop.body) == (200, b"")
    assert emu.capture("pc1")["stopReason"] == "Manual"
    assert arm(emu, "DELETE", "/packetCaptures/pc1", token=token).status == 200
    assert arm(emu, "GET", "/packetCaptures/pc1", token=token).status == 404
    assert arm(emu, "DELETE", "/packetCaptures/pc1", token=token).status == 204


def test_list_pagination(emu, token):
    emu.page_size = 2
    for index in range(5):
        create(emu, token, "pc%d" % index)
    pages, url = [], emu.base_url + emu.watcher_path + "/packetCaptures?api-version=" + API
    while url:
        reply = poll(url, token)
        assert reply.status == 200
        page = reply.json()
        pages.append([c["name"] for c in page["value"]])
        url = page.get("nextLink")
        if url:
            assert url.startswith(emu.base_url + emu.watcher_path + "/packetCaptures?")
            assert "$skiptoken=" in url
    assert pages == [["pc0", "pc1"], ["pc2", "pc3"], ["pc4"]]
    emu.page_size = None
    whole = arm(emu, "GET", "/packetCaptures", token=token).json()
    assert [c["name"] for c in whole["value"]] == ["pc0", "pc1", "pc2", "pc3", "pc4"]
    assert "nextLink" not in whole


def test_agentless_and_failprovision(emu, token):
    agentless = VM.replace("VM1", "agentless")
    create(emu, token, "a", props(target=agentless))
    error = wait_for(lambda: (lambda s: s["packetCaptureStatus"] == "Error" and s)(
        status_of(emu, token, "a")))
    assert error["packetCaptureError"] == ["AgentStopped"] and error["stopReason"] == ""
    assert emu.capture("a")["blob_available"] is False

    reply = create(emu, token, "f", props(target=VM.replace("VM1", "failprovision")))
    assert wait_provisioned(emu, token, reply) == {"status": "Failed", "error": {
        "code": "PacketCaptureProvisioningFailed",
        "message": "Packet capture 'f' could not be provisioned on the target virtual machine."}}
    assert arm(emu, "GET", "/packetCaptures/f", token=token).json()[
        "properties"]["provisioningState"] == "Failed"
    assert status_of(emu, token, "f")["packetCaptureError"] == ["CaptureFailed"]


def test_total_bytes_and_unlimited_time(emu, token):
    emu.bytes_per_second = 1000
    create(emu, token, "b", props(totalBytesPerSession=20000))  # 20 s → 0.2 s of running
    stopped = wait_for(lambda: (lambda s: s["packetCaptureStatus"] == "Stopped" and s)(
        status_of(emu, token, "b")))
    assert stopped["stopReason"] == "TotalBytesExceeded"
    emu.bytes_per_second = 0
    create(emu, token, "u", props(timeLimitInSeconds=0))
    assert emu.capture("u")["properties"]["timeLimitInSeconds"] == 0
    time.sleep(0.6)
    assert status_of(emu, token, "u")["packetCaptureStatus"] == "Running"


def test_another_operation_in_progress(emu, token):
    create(emu, token)
    assert arm(emu, "DELETE", "/packetCaptures/pc1", token=token).status == 202
    for method, suffix in (("POST", "/stop"), ("POST", "/queryStatus"), ("PUT", "")):
        reply = arm(emu, method, "/packetCaptures/pc1" + suffix, props() if method == "PUT" else b"",
                    token)
        assert reply.status == 429 and reply.headers["Retry-After"] == "1"
        assert reply.json()["error"]["code"] == "RetryableErrorDueToAnotherOperation"
    # Nobody polls the Location: the deletion still completes after provisioning_seconds.
    assert wait_for(lambda: arm(emu, "GET", "/packetCaptures/pc1", token=token).status == 404)


def test_operation_url_must_be_verbatim(emu, token):
    url = create(emu, token).headers["Azure-AsyncOperation"]
    altered = re.sub(r"&c=([^&]{10})", r"&c=XXXXXXXXXX", url)
    reply = poll(altered, token)
    assert reply.status == 400 and reply.json()["error"]["code"] == "InvalidOperationSignature"
    truncated = poll(url[:2048], token)
    assert truncated.status == 400
    assert poll(url, token).status == 200


# -- ARM validation and errors ---------------------------------------------------

@pytest.mark.parametrize("body, code, target", [
    (props(drop=["target"]), "InvalidRequestFormat", "properties.target"),
    (props(drop=["storageLocation"]), "InvalidRequestFormat", "properties.storageLocation"),
    (props(storageLocation={}), "PacketCaptureStorageLocationRequired", "properties.storageLocation"),
    (props(storageLocation={"storageId": "capstore"}), "LinkedInvalidPropertyId",
     "properties.storageLocation.storageId"),
    (props(storageLocation={"filePath": "/var/captures/x.pcap"}), "PacketCaptureInvalidFilePath",
     "properties.storageLocation.filePath"),
    (props(bytesToCapturePerPacket=-1), "InvalidRequestFormat", "properties.bytesToCapturePerPacket"),
    (props(totalBytesPerSession=4294967296), "InvalidRequestFormat",
     "properties.totalBytesPerSession"),
    (props(timeLimitInSeconds=18001), "InvalidRequestFormat", "properties.timeLimitInSeconds"),
    (props(timeLimitInSeconds="60"), "InvalidRequestFormat", "properties.timeLimitInSeconds"),
    (props(captureSettings={"fileCount": 10001}), "InvalidRequestFormat",
     "properties.captureSettings.fileCount"),
    (props(captureSettings={"sessionTimeLimitInSeconds": 604801}), "InvalidRequestFormat",
     "properties.captureSettings.sessionTimeLimitInSeconds"),
    (props(target="vm1"), "LinkedInvalidPropertyId", "properties.target"),
    (props(target=STORAGE_ID), "PacketCaptureTargetNotSupported", "properties.target"),
    (props(targetType="AzureVMSS"), "InvalidRequestFormat", "properties.targetType"),
    (props(filters=[{"protocol": "ICMP"}]), "InvalidRequestFormat", "properties.filters[0].protocol"),
    (props(filters=[{"localPort": "1-2;3-4"}]), "PacketCaptureInvalidFilter",
     "properties.filters[0].localPort"),
    (props(filters=[{}, {"remoteIPAddress": "10.0.0.1-10.0.0.5;10.0.0.9"}]),
     "PacketCaptureInvalidFilter", "properties.filters[1].remoteIPAddress"),
    (props(filters=[{"remotePort": "1-2-3"}]), "PacketCaptureInvalidFilter",
     "properties.filters[0].remotePort"),
    (props(filters=[{"localIPAddress": "10.0.0.300"}]), "PacketCaptureInvalidFilter",
     "properties.filters[0].localIPAddress"),
])
def test_create_validation(emu, token, body, code, target):
    reply = arm(emu, "PUT", "/packetCaptures/bad", body, token)
    assert reply.status == 400
    error = reply.json()["error"]
    assert (error["code"], error["target"]) == (code, target)
    assert error["message"]
    assert emu.capture("bad") is None


def test_create_accepts_azure_notations(emu, token):
    filters = [{"protocol": "tcp", "localIPAddress": "10.0.0.1-10.0.0.9", "remotePort": "80;443;"},
               {"remoteIPAddress": "2001:db8::1", "localPort": "1-65535"}]
    body = create(emu, token, body=props(filters=filters, targetType="azurevm",
                                         continuousCapture=False,
                                         captureSettings={"fileCount": 2})).json()
    properties = body["properties"]
    assert properties["filters"] == [dict(filters[0], protocol="TCP"),
                                     dict(filters[1], protocol="Any")]
    assert properties["targetType"] == "AzureVM"
    assert properties["continuousCapture"] is False
    assert properties["captureSettings"] == {"fileCount": 2, "fileSizeInBytes": 104857600,
                                             "sessionTimeLimitInSeconds": 86400}
    old = create(emu, token, "old", props(captureSettings={"fileCount": 2}), api="2023-09-01")
    assert "captureSettings" not in old.json()["properties"]
    local = create(emu, token, "local",
                   props(storageLocation={"filePath": "/var/captures/pc.cap"})).json()
    assert local["properties"]["storageLocation"] == {"filePath": "/var/captures/pc.cap"}


def test_create_bad_json_name_and_media_type(emu, token):
    headers = {"Authorization": "Bearer " + token, "Content-Type": "application/json"}
    url = emu.base_url + emu.watcher_path + "/packetCaptures/pc1?api-version=" + API
    reply = call(url, "PUT", b"{not json", headers)
    assert (reply.status, reply.json()["error"]["code"]) == (400, "InvalidRequestFormat")
    reply = call(url, "PUT", json.dumps(props()).encode(), dict(headers, **{"Content-Type": "text/plain"}))
    assert (reply.status, reply.json()["error"]["code"]) == (415, "UnsupportedMediaType")
    reply = arm(emu, "PUT", "/packetCaptures/-bad-", props(), token)
    assert (reply.status, reply.json()["error"]["code"]) == (400, "InvalidResourceName")


def test_conflict(emu, token):
    create(emu, token)
    reply = arm(emu, "PUT", "/packetCaptures/PC1", props(), token)
    assert reply.status == 409
    assert reply.json() == {"error": {
        "code": "PacketCaptureAlreadyExists",
        "message": "A packet capture named 'pc1' already exists in network watcher "
                   "'NetworkWatcher_westus'. Packet captures cannot be updated: delete it first."}}


def test_paths_are_checked(emu, token):
    def path(sub=SUB, rg="NetworkWatcherRG", nw="NetworkWatcher_westus"):
        return ("/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Network/"
                "networkWatchers/%s/packetCaptures" % (sub, rg, nw))
    cases = [(path(sub="00000000-0000-0000-0000-00000000ffff"), "SubscriptionNotFound"),
             (path(rg="OtherRG"), "ResourceGroupNotFound"),
             (path(nw="NetworkWatcher_eastus"), "ParentResourceNotFound")]
    for where, code in cases:
        reply = arm(emu, "GET", token=token, path=where)
        assert (reply.status, reply.json()["error"]["code"]) == (404, code)
    lower = path(rg="networkwatcherrg", nw="networkwatcher_westus").replace(
        "resourceGroups", "resourcegroups").replace("Microsoft.Network", "microsoft.network")
    assert arm(emu, "GET", token=token, path=lower).status == 200
    missing = arm(emu, "GET", "/packetCaptures/nope", token=token)
    assert (missing.status, missing.json()["error"]["code"]) == (404, "ResourceNotFound")
    assert arm(emu, "POST", "/packetCaptures/nope/stop", b"", token).status == 404
    assert arm(emu, "POST", "/packetCaptures/nope/queryStatus", b"", token).status == 404
    assert arm(emu, "DELETE", "/packetCaptures/nope", token=token).status == 204
    unknown = arm(emu, "GET", "/nothing", token=token)
    assert unknown.status == 404 and "error" in unknown.json()
    assert arm(emu, "PATCH", "/packetCaptures/nope", {}, token).status == 405


def test_api_version_required(emu, token):
    reply = arm(emu, "GET", "/packetCaptures", token=token, api=None)
    assert reply.status == 400
    assert reply.json() == {"error": {
        "code": "MissingApiVersionParameter",
        "message": "The api-version query parameter (?api-version=) is required for all requests."}}
    reply = arm(emu, "GET", "/packetCaptures", token=token, api="2099-01-01")
    assert (reply.status, reply.json()["error"]["code"]) == (400, "NoRegisteredProviderFound")
    reply = arm(emu, "GET", "/packetCaptures", token=token, api="latest")
    assert (reply.status, reply.json()["error"]["code"]) == (400, "InvalidApiVersionParameter")


def test_length_required(emu, token):
    conn = http.client.HTTPConnection("127.0.0.1", emu.port, timeout=5)
    conn.putrequest("POST", emu.watcher_path + "/packetCaptures/pc1/stop?api-version=" + API)
    conn.putheader("Authorization", "Bearer " + token)
    conn.endheaders()
    reply = conn.getresponse()
    assert reply.status == 411
    assert json.loads(reply.read())["error"]["code"] == "LengthRequired"
    conn.close()


def test_authentication(emu):
    def code(reply):
        assert reply.status == 401
        assert 'error="invalid_token"' in reply.headers["WWW-Authenticate"]
        assert reply.headers["WWW-Authenticate"].startswith(
            'Bearer authorization_uri="%s/%s"' % (emu.base_url, emu.tenant))
        return reply.json()["error"]["code"]

    assert code(arm(emu, "GET", "/packetCaptures", token="")) == "AuthenticationFailed"
    assert code(arm(emu, "GET", "/packetCaptures", token="forged")) == "InvalidAuthenticationToken"
    storage = get_token(emu, STORAGE_SCOPE)
    assert code(arm(emu, "GET", "/packetCaptures", token=storage)) == \
        "InvalidAuthenticationTokenAudience"
    token = get_token(emu)
    assert arm(emu, "GET", "/packetCaptures", token=token).status == 200
    emu.revoke_tokens()
    revoked = arm(emu, "GET", "/packetCaptures", token=token)
    assert code(revoked) == "ExpiredAuthenticationToken"
    assert "is earlier than current UTC time" in revoked.json()["error"]["message"]
    assert arm(emu, "GET", "/packetCaptures", token=get_token(emu)).status == 200
    emu.token_lifetime = 0
    assert code(arm(emu, "GET", "/packetCaptures", token=get_token(emu))) == \
        "ExpiredAuthenticationToken"
    lro = poll(emu.base_url + "/subscriptions/%s/providers/Microsoft.Network/locations/westus/"
               "operations/x?api-version=%s" % (SUB, API), "forged")
    assert lro.status == 401


# -- faults ---------------------------------------------------------------------

@pytest.mark.parametrize("header, value", [
    ("Retry-After", "2"),
    ("Retry-After", http_date(time.time() + 3)),
    ("retry-after-ms", "1500"),
    ("x-ms-retry-after-ms", "250"),
    (None, None),
])
def test_throttle(emu, token, header, value):
    emu.faults.throttle(2, route="get", retry_after=value, header=header)
    emu.faults.throttle(1, route="list")
    create(emu, token)
    for _ in range(2):
        reply = arm(emu, "GET", "/packetCaptures/pc1", token=token)
        assert reply.status == 429
        assert reply.json()["error"]["code"] == "SubscriptionRequestsThrottled"
        hints = {k.lower(): v for k, v in reply.headers.items()
                 if k.lower() in ("retry-after", "retry-after-ms", "x-ms-retry-after-ms")}
        assert hints == ({} if header is None else {header.lower(): value})
        assert "x-ms-request-id" in reply.headers
    assert arm(emu, "GET", "/packetCaptures/pc1", token=token).status == 200
    assert emu.faults.pending() == 1
    emu.faults.reset()
    assert arm(emu, "GET", "/packetCaptures", token=token).status == 200


def test_fail(emu, token):
    emu.faults.fail(2, 503, route="token")
    assert [token_call(emu).status for _ in range(3)] == [503, 503, 200]
    assert [r.status for r in emu.requests(route="token")[-3:]] == [503, 503, 200]
    emu.faults.fail(1, 500, route="create", code="InternalServerError", message="boom",
                    headers=[("Retry-After", "3")])
    reply = arm(emu, "PUT", "/packetCaptures/pc1", props(), token)
    assert (reply.status, reply.json()) == (500, {"error": {"code": "InternalServerError",
                                                            "message": "boom"}})
    assert reply.headers["Retry-After"] == "3"
    assert emu.capture("pc1") is None
    create(emu, token)
    emu.faults.fail(1, 503, route="blob")
    emu.put_blob("acct", "c", "f.cap", b"x")
    reply = blob_get(emu.blob_url("acct", "c", "f.cap"), get_token(emu, STORAGE_SCOPE))
    assert reply.status == 503 and b"<Code>ServerBusy</Code>" in reply.body


def test_delay(emu, token):
    emu.faults.delay(1, 0.3, route="list")
    started = time.monotonic()
    assert arm(emu, "GET", "/packetCaptures", token=token).status == 200
    assert time.monotonic() - started >= 0.3
    started = time.monotonic()
    assert arm(emu, "GET", "/packetCaptures", token=token).status == 200
    assert time.monotonic() - started < 0.3


# -- blob -----------------------------------------------------------------------

@pytest.fixture
def blob(emu):
    emu.put_blob("capstore", "network-watcher-logs", "dir/pc.cap", CAPTURE)
    return emu.blob_url("capstore", "network-watcher-logs", "dir/pc.cap")


def test_blob_bearer(emu, blob):
    reply = blob_get(blob, get_token(emu, STORAGE_SCOPE))
    assert reply.status == 200 and reply.body == CAPTURE
    headers = reply.headers
    assert headers["Content-Type"] == "application/octet-stream"
    assert headers["Content-Length"] == str(len(CAPTURE))
    assert headers["Accept-Ranges"] == "bytes" and headers["x-ms-version"] == "2021-08-06"
    assert headers["ETag"].startswith('"0x8D') and headers["Last-Modified"].endswith(" GMT")
    assert re.fullmatch(r"[0-9a-f-]{36}", headers["x-ms-request-id"])
    head = blob_get(blob, get_token(emu, STORAGE_SCOPE), method="HEAD")
    assert (head.status, head.body, head.headers["Content-Length"]) == (200, b"", "1024")


def test_blob_sas(emu, blob):
    reply = call(blob + "?" + emu.sas_token, headers={"x-ms-version": "2021-08-06"})
    assert reply.status == 200 and reply.body == CAPTURE
    bad = call(blob + "?" + emu.sas_token.replace("EMUSIGNATURE", "FORGED"),
               headers={"x-ms-version": "2021-08-06"})
    assert bad.status == 403 and b"<Code>AuthenticationFailed</Code>" in bad.body
    assert bad.headers["x-ms-error-code"] == "AuthenticationFailed"


def test_blob_errors(emu, blob):
    storage = get_token(emu, STORAGE_SCOPE)
    missing = blob_get(blob, storage, version=None)
    assert missing.status == 400 and missing.headers["Content-Type"] == "application/xml"
    assert missing.body.startswith(
        b'<?xml version="1.0" encoding="utf-8"?><Error><Code>MissingRequiredHeader</Code>'
        b"<Message>An HTTP header that's mandatory for this request is not specified.\nRequestId:")
    assert missing.body.endswith(b"</Message><HeaderName>x-ms-version</HeaderName></Error>")
    arm_token = blob_get(blob, get_token(emu))
    assert arm_token.status == 403
    assert b"<AuthenticationErrorDetail>Audience validation failed." in arm_token.body
    anonymous = blob_get(blob)
    assert anonymous.status == 404 and b"<Code>ResourceNotFound</Code>" in anonymous.body
    old = blob_get(blob, storage, version="2017-07-29")
    assert old.status == 403 and b"not supported in this version" in old.body
    undated = call(blob, headers={"x-ms-version": "2021-08-06", "Authorization": "Bearer " + storage})
    assert undated.status == 403
    nothing = blob_get(emu.blob_url("capstore", "network-watcher-logs", "dir/none.cap"), storage)
    assert nothing.status == 404 and nothing.headers["x-ms-error-code"] == "BlobNotFound"
    container = blob_get(emu.blob_url("capstore", "other", "x.cap"), storage)
    assert container.headers["x-ms-error-code"] == "ContainerNotFound"
    emu.revoke_tokens()
    assert blob_get(blob, storage).status == 403


@pytest.mark.parametrize("spec, status, content_range, data", [
    ("bytes=1000-", 206, "bytes 1000-1023/1024", CAPTURE[1000:]),
    ("bytes=5-9", 206, "bytes 5-9/1024", CAPTURE[5:10]),
    ("bytes=1020-5000", 206, "bytes 1020-1023/1024", CAPTURE[1020:]),
    ("bytes=-4", 206, "bytes 1020-1023/1024", CAPTURE[1020:]),
    ("bytes=1024-", 416, "bytes */1024", None),
])
def test_blob_range(emu, blob, spec, status, content_range, data):
    reply = blob_get(blob, get_token(emu, STORAGE_SCOPE), headers={"Range": spec})
    assert reply.status == status
    assert reply.headers["Content-Range"] == content_range
    if data is not None:
        assert reply.body == data and reply.headers["Content-Length"] == str(len(data))
    else:
        assert b"<Code>InvalidRange</Code>" in reply.body


def test_blob_conditional(emu, blob):
    storage = get_token(emu, STORAGE_SCOPE)
    etag = blob_get(blob, storage).headers["ETag"]
    assert blob_get(blob, storage, headers={"If-Match": etag, "Range": "bytes=3-"}).status == 206
    assert blob_get(blob, storage, headers={"If-Match": '"0x8Dother"'}).status == 412


def test_blob_cut_body_then_resume(emu, blob):
    storage = get_token(emu, STORAGE_SCOPE)
    emu.faults.cut_body(1, 100, route="blob")
    conn = http.client.HTTPConnection("127.0.0.1", emu.port, timeout=5)
    headers = {"x-ms-version": "2021-08-06", "x-ms-date": http_date(),
               "Authorization": "Bearer " + storage}
    conn.request("GET", urllib.parse.urlsplit(blob).path, headers=headers)
    response = conn.getresponse()
    assert response.status == 200 and response.getheader("Content-Length") == "1024"
    with pytest.raises(http.client.IncompleteRead) as cut:
        response.read()
    assert cut.value.partial == CAPTURE[:100]
    conn.close()
    resumed = blob_get(blob, storage, headers={"Range": "bytes=100-"})
    assert resumed.status == 206 and CAPTURE[:100] + resumed.body == CAPTURE


# -- scaffolding ----------------------------------------------------------------

def test_keep_alive_and_request_log(emu, token):
    emu.clear_log()
    conn = http.client.HTTPConnection("127.0.0.1", emu.port, timeout=5)
    for _ in range(3):
        conn.request("GET", emu.watcher_path + "/packetCaptures?api-version=" + API,
                     headers={"Authorization": "Bearer " + token, "User-Agent": "libpktcap/9"})
        response = conn.getresponse()
        assert response.status == 200 and response.getheader("Connection") is None
        response.read()
        if _ == 0:
            sock = conn.sock
        assert conn.sock is sock  # the same connection every time
    conn.close()
    logged = emu.requests(method="GET", path_re=r"/packetCaptures$", route="list")
    assert len(logged) == 3 == len(emu.requests())
    assert logged[0].headers["user-agent"] == "libpktcap/9"
    assert logged[0].query == {"api-version": API} and logged[0].raw_query == "api-version=" + API
    assert logged[0].status == 200 and logged[0].body == b""
    token_call(emu)
    assert all(emu.client_secret.encode() not in r.body for r in emu.requests(route="list"))
    emu.clear_log()
    assert emu.requests() == []


def test_https(tmp_path):
    certfile, keyfile = make_cert(str(tmp_path))
    with AzureEmulator(certfile=certfile, keyfile=keyfile, max_lifetime=30) as server:
        assert server.base_url.startswith("https://127.0.0.1:")
        context = ssl.create_default_context(cafile=certfile)
        reply = token_call(server, context=context)
        assert reply.status == 200
        by_name = call(server.base_url.replace("127.0.0.1", "localhost") + "/metadata/identity/"
                       "oauth2/token" + IMDS_QUERY, headers={"Metadata": "true"}, context=context)
        assert by_name.status == 200
        with pytest.raises(urllib.error.URLError):
            call(server.base_url + "/x", context=ssl.create_default_context())
        silent = socket.create_connection(("127.0.0.1", server.port))  # never handshakes
        assert token_call(server, context=context).status == 200
        silent.close()
        assert server.errors == []


def test_lifetime_ends_server():
    server = AzureEmulator(max_lifetime=0.3).start()
    port = server.port
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    conn.request("GET", "/nothing")
    conn.getresponse().read()
    assert server.wait_stopped(5) and not server.running
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=1)
    with pytest.raises((OSError, http.client.HTTPException)):  # kept-alive connection dropped
        conn.request("GET", "/nothing")
        conn.getresponse().read()
    server.stop()  # idempotent


def test_run_py():
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "run.py")
    process = subprocess.Popen([sys.executable, script, "azure", "--time-scale", "0.01",
                                "--lifetime", "30"],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        info = json.loads(process.stdout.readline())
        assert info["provider_uri"].startswith("azure:///subscriptions/")
        assert info["authority"] == info["url"] + "/"
        form = urllib.parse.urlencode({"grant_type": "client_credentials",
                                       "client_id": info["client_id"],
                                       "client_secret": info["client_secret"],
                                       "scope": ARM_SCOPE}).encode()
        reply = call("%s%s/oauth2/v2.0/token" % (info["authority"], info["tenant"]), "POST", form,
                     {"Content-Type": "application/x-www-form-urlencoded"})
        assert reply.status == 200
        process.stdin.close()
        assert process.wait(5) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
