#!/usr/bin/env python3
"""local_capture IFACE FILTER SECONDS OUT: capture on a network interface of
this host for SECONDS seconds, keeping only the packets FILTER matches, into
the capture file OUT; then print how the capture ended and its statistics.

    sudo python3 local_capture.py eth0 'proto=tcp remote_port=80;443' 30 web.pcapng

FILTER is pktcap's one-line rule syntax (doc/filters.md; '' captures
everything). OUT is a path (.pcap: classic pcap, otherwise pcapng) or a
storage URI with rotation (doc/storage.md). Capturing needs root or the
CAP_NET_RAW capability: without them start() raises PermissionDeniedError.
The same program in C: examples/programs/local_capture.c.
"""
import sys
from pathlib import Path

try:
    import pktcap
except ImportError:   # run from a source checkout: the package is next to this folder
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    import pktcap


def main(argv):
    if len(argv) != 5:
        print("usage: local_capture IFACE FILTER SECONDS OUT", file=sys.stderr)
        return 1
    iface, rules, seconds_text, out = argv[1:]
    try:
        seconds = float(seconds_text)
    except ValueError:
        seconds = 0.0
    if not 0 < seconds <= 86400:
        print(f"local_capture: SECONDS must be a number of seconds, not '{seconds_text}'",
              file=sys.stderr)
        return 1
    try:
        # "local:" is this host, through libpcap. A session is one capture on
        # it, configured while NEW (no name: pktcap-DATE-TIME-N).
        with pktcap.Provider("local:") as provider, provider.session() as session, \
                pktcap.Storage(out) as storage:
            session.target = iface
            session.filter = rules          # parsed; the session keeps a copy
            session.time_limit = seconds
            session.storage = storage
            # A local session is RUNNING when start() returns.
            session.start()
            print(f"capturing on {iface} for {seconds_text} s", flush=True)
            # Block until the session ends: here, when the time limit is reached.
            state = session.wait()
            if state == pktcap.State.FAILED:
                print(f"local_capture: the capture failed: {session.error_text}", file=sys.stderr)
                return 1
            stats = session.stats
            print(f"ended: {state.name} ({session.stop_reason})")
            print(f"packets     {stats.packets}")
            print(f"bytes       {stats.bytes}")
            print(f"dropped     {stats.dropped}")
            print(f"if-dropped  {stats.if_dropped}")
            # The file took its final name when the capture ended.
            for path in storage.files:
                print(f"file        {path}")
    except pktcap.PktcapError as e:
        print(f"local_capture: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
