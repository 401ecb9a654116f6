#!/usr/bin/env python3
"""Run a provider emulator from the command line.

    python3 tests/emulators/run.py azure [--tls DIR] [--time-scale X]
        [--capture-file FILE] [--lifetime S] [--port N] [--ignore-stdin] [--verbose]
    python3 tests/emulators/run.py cloudflare [--tls DIR] [--time-scale X]
        [--capture-file FILE] [--lifetime S] [--port N] [--ignore-stdin] [--verbose]
    python3 tests/emulators/run.py sdwan [--tls DIR] [--time-scale X]
        [--capture-file FILE] [--summary-json FILE] [--lifetime S] [--port N]
        [--ignore-stdin] [--verbose]

Prints one JSON line describing the endpoints and credentials, then serves
until stdin closes (unless --ignore-stdin), SIGTERM/SIGINT, or the lifetime
ends.
"""

import argparse
import json
import os
import signal
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from azure import AzureEmulator  # noqa: E402
from cloudflare import CloudflareEmulator  # noqa: E402
from sdwan import SdwanEmulator  # noqa: E402
from emulator import make_cert  # noqa: E402


def _azure(args, tls):
    capture = b""
    if args.capture_file:
        with open(args.capture_file, "rb") as f:
            capture = f.read()
    emu = AzureEmulator(time_scale=args.time_scale, capture_bytes=capture,
                        lro_retry_after=args.lro_retry_after,
                        max_lifetime=args.lifetime, port=args.port, verbose=args.verbose, **tls)
    emu.start()
    info = {
        "url": emu.base_url,
        "provider_uri": emu.arm_uri(),
        "tenant": emu.tenant,
        "client_id": emu.client_id,
        "client_secret": emu.client_secret,
        "authority": emu.authority,
        "imds": emu.base_url,
        "imds_token_url": emu.imds_url(),
        "sas_token": emu.sas_token,
    }
    return emu, info


def _sdwan(args, tls):
    capture = None  # None: the emulator serves an empty pcapng
    if args.capture_file:
        with open(args.capture_file, "rb") as f:
            capture = f.read()
    rows = []  # no --summary-json: captures answer with an empty summary
    if args.summary_json:
        with open(args.summary_json, encoding="utf-8") as f:
            rows = json.load(f)
    emu = SdwanEmulator(time_scale=args.time_scale, capture_bytes=capture, summary_rows=rows,
                        max_lifetime=args.lifetime, port=args.port, verbose=args.verbose, **tls)
    emu.start()
    info = {
        "url": emu.base_url,
        "provider_uri": emu.provider_uri(),
        "username": emu.username,
        "password": emu.password,
    }
    return emu, info


def _cloudflare(args, tls):
    capture = b""
    if args.capture_file:
        with open(args.capture_file, "rb") as f:
            capture = f.read()
    emu = CloudflareEmulator(time_scale=args.time_scale, capture_bytes=capture,
                             max_lifetime=args.lifetime, port=args.port, verbose=args.verbose,
                             **tls)
    emu.start()
    info = {
        "url": emu.base_url,
        "endpoint": emu.endpoint,
        "provider_uri": emu.provider_uri(),
        "account_id": emu.account_id,
        "api_token": emu.api_token,
        "email": emu.email,
        "api_key": emu.api_key,
    }
    return emu, info


EMULATORS = {"azure": _azure, "cloudflare": _cloudflare, "sdwan": _sdwan}


def _wait_for_eof(done):
    """Set `done` when stdin reaches its end. Unbuffered reads: a daemon
    thread blocked in a buffered read makes the interpreter abort at exit."""
    while os.read(0, 4096):
        pass
    done.set()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("provider", choices=sorted(EMULATORS))
    parser.add_argument("--tls", metavar="DIR", help="serve HTTPS with a certificate made in DIR")
    parser.add_argument("--time-scale", type=float, default=1.0,
                        help="multiply every protocol duration by X (default 1)")
    parser.add_argument("--capture-file", metavar="FILE", help="capture file served as the blob")
    parser.add_argument("--summary-json", metavar="FILE",
                        help="sdwan: JSON array of summary rows returned by a capture")
    parser.add_argument("--lro-retry-after", metavar="SECONDS", default="1",
                        help="azure: the Retry-After of long-running operations, which "
                             "--time-scale does not scale (default 1)")
    parser.add_argument("--lifetime", type=float, default=900,
                        help="stop after S seconds (default 900)")
    parser.add_argument("--port", type=int, default=0, help="port (default: any free port)")
    parser.add_argument("--ignore-stdin", action="store_true",
                        help="do not stop when stdin closes")
    parser.add_argument("--verbose", action="store_true", help="log requests to stderr")
    args = parser.parse_args(argv)

    tls = {}
    if args.tls:
        tls["certfile"], tls["keyfile"] = make_cert(args.tls)
    emu, info = EMULATORS[args.provider](args, tls)
    if args.tls:
        info["ca_file"] = tls["certfile"]

    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    threading.Thread(target=lambda: (emu.wait_stopped(), done.set()), daemon=True).start()
    if not args.ignore_stdin:
        threading.Thread(target=_wait_for_eof, args=(done,), daemon=True).start()

    sys.stdout.write(json.dumps(info) + "\n")
    sys.stdout.flush()
    while not done.wait(0.5):  # a timed wait lets signal handlers run promptly
        pass
    emu.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
