#!/usr/bin/env python3
"""cloudflare_capture PROVIDER_URI SECONDS PACKETS OUT: run a simple Magic
Transit packet capture at Cloudflare (sampled packets, at most SECONDS
seconds and PACKETS packets), wait for it to end, download the file
Cloudflare made into OUT (showing progress), and count its packets.

    export CLOUDFLARE_API_TOKEN=...   # a token allowed to write PCAPs
    python3 cloudflare_capture.py cloudflare://accounts/023e105f4ecef8ad9ca31a8372d0c353 \\
      60 5000 edge.pcap

The library reads the API token from CLOUDFLARE_API_TOKEN (or the global
key from CLOUDFLARE_EMAIL and CLOUDFLARE_API_KEY). The provider URI may
carry provider options in its query, e.g.
``cloudflare://accounts/ID?poll_interval_ms=2000`` (doc/cloudflare.md).
The same program in C: examples/programs/cloudflare_capture.c.
"""
import sys
from pathlib import Path

try:
    import pktcap
except ImportError:   # run from a source checkout: the package is next to this folder
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    import pktcap

WAIT_EXTRA_SECONDS = 10 * 60   # beyond the time limit: start and conversion


def parse_count(text, largest):
    """A whole number from 1 to LARGEST, or None. The library checks the
    limits against what Cloudflare accepts (at most 300 s and 10 000 packets)."""
    try:
        value = int(text, 10)
    except ValueError:
        return None
    return value if text.isascii() and text.isdigit() and 1 <= value <= largest else None


def main(argv):
    seconds = parse_count(argv[2], 86400) if len(argv) == 5 else None
    packets = parse_count(argv[3], 1000000) if len(argv) == 5 else None
    if seconds is None or packets is None:
        print("usage: cloudflare_capture PROVIDER_URI SECONDS PACKETS OUT", file=sys.stderr)
        return 1
    uri, out = argv[1], argv[4]
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
            # The target is the Cloudflare system that captures; a simple
            # capture is the default.
            session.target = "magic-transit"
            session.time_limit = seconds
            session.packet_limit = packets
            # start() sends the create request; the capture then runs at Cloudflare.
            session.start()
            print(f"started {session.name} (capture {session.id})", flush=True)
            # wait() polls the capture's status until Cloudflare has converted it.
            state = session.wait(seconds + WAIT_EXTRA_SECONDS)
            if not state.terminal:
                print(f"cloudflare_capture: {session.id} did not end in time; "
                      "it runs on at Cloudflare", file=sys.stderr)
                return 1
            if state == pktcap.State.FAILED:
                print(f"cloudflare_capture: the capture failed: {session.error_text}",
                      file=sys.stderr)
                return 1
            print(f"ended: {state.name} ({session.stop_reason})")
            # Download the file Cloudflare keeps into OUT: complete, or not at all.
            session.fetch(out, progress=on_progress)
            print(f"fetched to {out}")
            # Cloudflare does not count a simple capture's packets: the file does.
            with pktcap.Reader(out) as reader:
                count = sum(1 for _ in reader)
            print(f"packets captured: {count}")
    except pktcap.PktcapError as e:
        print(f"cloudflare_capture: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
