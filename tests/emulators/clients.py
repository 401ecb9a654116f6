"""How the library is pointed at each emulator: one place for the suites that
drive libpktcap's backends against them (standard library only; nothing here
imports the library itself).

    with clients.emulator("cloudflare") as emu:
        provider = pktcap.Provider(clients.provider_uri("cloudflare", emu),
                                   **clients.provider_options("cloudflare", emu, retries=2))

``emulator`` makes an emulator (start it with ``with``) with fast protocol timings (time scale 0.01,
Azure's long-running operations without a Retry-After wait) serving
``CAPTURE``; ``provider_options`` gives the endpoints, credentials and quick
retry settings; ``capture_settings`` what a session needs to be started.
"""

import struct

from azure import AzureEmulator
from cloudflare import CloudflareEmulator
from sdwan import SdwanEmulator

__all__ = [
    "BACKENDS", "CAPTURE", "EMULATORS", "capture_settings", "pcap_bytes", "provider_options",
    "provider_uri", "emulator",
]

BACKENDS = ("azure", "cloudflare", "sdwan")
EMULATORS = {"azure": AzureEmulator, "cloudflare": CloudflareEmulator, "sdwan": SdwanEmulator}
TIME_SCALE = 0.01        # a "60 s" capture takes 0.6 s


def pcap_bytes(count=200, snaplen=65535):
    """A classic pcap file (microsecond, Ethernet) of *count* 60-byte UDP frames."""
    out = [struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, snaplen, 1)]
    for i in range(count):
        payload = bytes([i & 0xFF]) * 18
        udp = struct.pack("!HHHH", 5000 + i % 1000, 53, 8 + len(payload), 0) + payload
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), i & 0xFFFF, 0, 64, 17, 0,
                         bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2]))
        frame = b"\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01\x08\x00" + ip + udp
        out.append(struct.pack("<IIII", 1_760_000_000 + i, i * 1000, len(frame), len(frame)))
        out.append(frame)
    return b"".join(out)


CAPTURE = pcap_bytes()   # what every emulator started here serves as the capture file


def emulator(backend, **kwargs):
    """An emulator of *backend* with fast timings, serving CAPTURE (start it with ``with``).
    Keywords go to its constructor (certfile, keyfile, port, …) and win."""
    options = dict(time_scale=TIME_SCALE, capture_bytes=CAPTURE)
    if backend == "azure":
        options["lro_retry_after"] = "0"   # not scaled: "1" would make every poll wait 1 s
    options.update(kwargs)
    return EMULATORS[backend](**options)


def provider_uri(backend, emu):
    """The library's provider URI for *emu*."""
    return emu.arm_uri() if backend == "azure" else emu.provider_uri()


def provider_options(backend, emu, **extra):
    """Provider options that point every endpoint of *backend* at *emu*, with its
    credentials and quick retries; *extra* overrides (None removes an option)."""
    if backend == "azure":
        options = dict(endpoint=emu.base_url, authority=emu.authority,
                       blob_endpoint=emu.base_url + "/blob/", tenant_id=emu.tenant,
                       client_id=emu.client_id, client_secret=emu.client_secret,
                       auth="client_secret", poll_interval_ms=20)
    elif backend == "cloudflare":
        options = dict(endpoint=emu.endpoint, api_token=emu.api_token, poll_interval_ms=20)
    else:
        options = dict(username=emu.username, password=emu.password)
    options.update(retry_base_ms=10, retry_max_ms=200)
    options.update(extra)
    return {k: v for k, v in options.items() if v is not None}


def capture_settings(backend, emu, seconds=None):
    """What a session of *backend* needs to start on *emu*: target, time limit
    (seconds; default the backend's shortest sensible one), and the session
    options and storage the backend wants, as a dict of
    ``target``, ``time_limit``, ``packet_limit``, ``storage`` (None: none)."""
    if backend == "azure":
        prefix = "/subscriptions/%s/resourceGroups/rg1/providers/" % emu.subscription
        return dict(target=prefix + "Microsoft.Compute/virtualMachines/vm1",
                    time_limit=seconds or 10, packet_limit=None,
                    storage=prefix + "Microsoft.Storage/storageAccounts/acct1")
    if backend == "cloudflare":
        return dict(target="magic-transit", time_limit=seconds or 10, packet_limit=100,
                    storage=None)
    return dict(target="MGMT", time_limit=seconds or 5, packet_limit=None, storage=None)
