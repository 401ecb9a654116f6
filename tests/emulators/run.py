#!/usr/bin/env python3
"""Run a provider emulator from the command line.

    python3 tests/emulators/run.py azure [--tls DIR] [--time-scale X]
        [--capture-file FILE] [--lifetime S] [--port N] [--ignore-stdin] [--verbose]

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
from emulator import make_cert  # noqa: E402


def _azure(args, tls):
    capture = b""
    if args.capture_file:
        with open(args.capture_file, "rb") as f:
            capture = f.read()
    emu = AzureEmulator(time_scale=args.time_scale, capture_bytes=capture,
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


EMULATORS = {"azure": _azure}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("provider", choices=sorted(EMULATORS))
    parser.add_argument("--tls", metavar="DIR", help="serve HTTPS with a certificate made in DIR")
    parser.add_argument("--time-scale", type=float, default=1.0,
                        help="multiply every protocol duration by X (default 1)")
    parser.add_argument("--capture-file", metavar="FILE", help="capture file served as the blob")
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
        threading.Thread(target=lambda: (sys.stdin.buffer.read(), done.set()), daemon=True).start()

    sys.stdout.write(json.dumps(info) + "\n")
    sys.stdout.flush()
    while not done.wait(0.5):  # a timed wait lets signal handlers run promptly
        pass
    emu.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
