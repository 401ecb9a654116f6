#!/usr/bin/env python3
"""The emulators of `./dev bench fleet`, in one process, and the plan of sessions.

    fleet-emulators.py --capture FILE --plan OUT --azure N --cloudflare N --sdwan N
                       [--lifetime S]

Starts, on 127.0.0.1, one Azure Network Watcher emulator, one Cloudflare
emulator with Cloudflare's documented rate limit on (1200 requests in any
300 s: beyond, 429) and one SD-WAN appliance emulator per SD-WAN session (an
appliance runs one capture at a time and keeps only the last: a fleet has
one session per appliance). Time runs at its real pace (time_scale 1): the
library's adaptive polling reads the sessions' real time limits. Every
capture serves FILE.

Writes the plan: one line per session, `PROVIDER_URI<TAB>TARGET<TAB>STORAGE`
(STORAGE: the Azure storage account id, "-" for the others), sessions of the
three providers interleaved. Then prints "ready" and serves. Commands on
stdin, one per line:
  stats   prints one JSON line: per provider the requests received, the 429
          answers and the 429s counted against the documented limit; then
          forgets the log (so each mode is counted apart)
  quit    (or end of input) stops everything
"""

import argparse
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "emulators"))

from azure import AzureEmulator  # noqa: E402
from cloudflare import CloudflareEmulator  # noqa: E402
from sdwan import SdwanEmulator  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--capture", required=True)
    ap.add_argument("--plan", required=True)
    ap.add_argument("--azure", type=int, default=0)
    ap.add_argument("--cloudflare", type=int, default=0)
    ap.add_argument("--sdwan", type=int, default=0)
    ap.add_argument("--lifetime", type=int, default=3600)
    args = ap.parse_args()
    with open(args.capture, "rb") as f:
        capture = f.read()

    az = AzureEmulator(time_scale=1, capture_bytes=capture,
                       max_lifetime=args.lifetime)
    cf = CloudflareEmulator(time_scale=1, capture_bytes=capture, rate_limit=1200,
                            rate_window=300, max_lifetime=args.lifetime)
    sd = [SdwanEmulator(time_scale=1, capture_bytes=capture, max_lifetime=args.lifetime)
          for _ in range(args.sdwan)]
    emus = {"azure": [az], "cloudflare": [cf], "sdwan": sd}
    for group in emus.values():
        for e in group:
            e.start()

    az_uri = ("%s?endpoint=%s&blob_endpoint=%s/blob/&tenant_id=%s&client_id=%s"
              "&client_secret=%s&authority=%s" % (az.arm_uri(), az.base_url, az.base_url,
                                                  az.tenant, az.client_id, az.client_secret,
                                                  az.authority))
    cf_uri = "%s?endpoint=%s&api_token=%s" % (cf.provider_uri(), cf.endpoint, cf.api_token)
    account = ("/subscriptions/%s/resourceGroups/rg1/providers/Microsoft.Storage/"
               "storageAccounts/fleet" % az.subscription)
    rows = {"azure": [], "cloudflare": [], "sdwan": []}
    for i in range(args.azure):
        target = ("/subscriptions/%s/resourceGroups/rg1/providers/Microsoft.Compute/"
                  "virtualMachines/vm%d" % (az.subscription, i))
        rows["azure"].append("%s\t%s\t%s" % (az_uri, target, account))
    for _ in range(args.cloudflare):
        rows["cloudflare"].append("%s\t%s\t-" % (cf_uri, "magic-transit"))
    for e in sd:
        uri = "%s&username=%s&password=%s" % (e.provider_uri(), e.username, e.password)
        rows["sdwan"].append("%s\t%s\t-" % (uri, "MGMT"))
    plan = []
    while any(rows.values()):
        for kind in ("azure", "cloudflare", "sdwan"):
            if rows[kind]:
                plan.append(rows[kind].pop(0))
    with open(args.plan, "w") as f:
        f.write("\n".join(plan) + ("\n" if plan else ""))
    print("ready", flush=True)

    for line in sys.stdin:
        command = line.strip()
        if command == "stats":
            out = {}
            for kind, group in emus.items():
                log = [r for e in group for r in e.requests()]
                out[kind] = {"requests": len(log),
                             "throttled": sum(1 for r in log if r.status == 429)}
                for e in group:
                    e.clear_log()
            print(json.dumps(out), flush=True)
        elif command == "quit":
            break
    for group in emus.values():
        for e in group:
            e.stop()


if __name__ == "__main__":
    main()
