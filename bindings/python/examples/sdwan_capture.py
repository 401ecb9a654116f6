#!/usr/bin/env python3
"""sdwan_capture PROVIDER_URI INTERFACES SECONDS [OUT]: run a packet capture
on a Citrix SD-WAN appliance (INTERFACES: names joined by --, e.g. MGMT--1;
SECONDS: 5, 10, 15 or 30), wait for it to end, print the summary of every
packet the appliance returned, and download the capture file (pcapng) into
OUT when given (showing progress).

    export PKTCAP_SDWAN_USER=admin PKTCAP_SDWAN_PASSWORD=...
    python3 sdwan_capture.py 'sdwan://10.1.1.1?ca_file=appliance.pem' MGMT--1 10 wan.pcapng

The library reads the appliance account from PKTCAP_SDWAN_USER and
PKTCAP_SDWAN_PASSWORD. The provider URI may carry provider options in its
query, e.g. ``sdwan://10.1.1.1?scheme=http`` (doc/sdwan.md).
The same program in C: examples/programs/sdwan_capture.c.
"""
import sys
from pathlib import Path

try:
    import pktcap
except ImportError:   # run from a source checkout: the package is next to this folder
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    import pktcap

WAIT_EXTRA_SECONDS = 2 * 60   # beyond the duration: the appliance's answer


def main(argv):
    seconds = None
    if len(argv) in (4, 5) and argv[3].isascii() and argv[3].isdigit() and 1 <= int(argv[3]) <= 3600:
        seconds = int(argv[3])
    if seconds is None:
        print("usage: sdwan_capture PROVIDER_URI INTERFACES SECONDS [OUT]", file=sys.stderr)
        return 1
    uri, interfaces = argv[1], argv[2]
    out = argv[4] if len(argv) == 5 else None
    last_percent = -1

    def on_progress(done, total):
        """Called by fetch() as bytes arrive: print the percentage whenever it
        changes. Returning True would cancel the download."""
        nonlocal last_percent
        percent = done * 100 // total if total else 0
        if total and percent != last_percent:
            print(f"fetching: {percent}%", file=sys.stderr)
            last_percent = percent

    try:
        with pktcap.Provider(uri) as provider, provider.session() as session:
            # The appliance takes a duration of 5, 10, 15 or 30 s; without a
            # packet limit it captures as many as it can ("MAX").
            session.target = interfaces
            session.time_limit = seconds
            # start() logs in and sends the capture request; the appliance
            # answers when the capture has ended.
            session.start()
            print(f"started {session.name}", flush=True)
            state = session.wait(seconds + WAIT_EXTRA_SECONDS)
            if not state.terminal:
                print(f"sdwan_capture: {session.name} did not end in time", file=sys.stderr)
                return 1
            if state == pktcap.State.FAILED:
                print(f"sdwan_capture: the capture failed: {session.error_text}",
                      file=sys.stderr)
                return 1
            print(f"ended: {state.name} ({session.stop_reason})")
            # The appliance's answer carries a summary of every packet it captured.
            summaries = session.summaries()
            for summary in summaries:
                print(summary.format(pktcap.SummaryFormat.TEXT))
            print(f"{len(summaries)} packets", flush=True)
            # Download the appliance's capture file into OUT: complete, or not at all.
            if out is not None:
                session.fetch(out, progress=on_progress)
                print(f"fetched to {out}")
    except pktcap.PktcapError as e:
        print(f"sdwan_capture: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
