#!/usr/bin/env python3
"""summarize FILE: print one line per packet of a pcap or pcapng file, like
``pktcap summary FILE``, then how many packets there were.

    PKTCAP_LIBRARY=/path/to/libpktcap.so.1 python3 summarize.py capture.pcapng

The same program in C: examples/programs/summarize.c.
"""
import sys
from pathlib import Path

try:
    import pktcap
except ImportError:   # run from a source checkout: the package is next to this folder
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    import pktcap


def main(argv):
    if len(argv) != 2:
        print("usage: summarize FILE", file=sys.stderr)
        return 1
    count = 0
    try:
        # The reader recognises pcap and pcapng by their magic ("-": stdin).
        with pktcap.Reader(argv[1]) as reader:
            # Summaries come numbered from 1, their times printed with the
            # precision of the packet's interface (6 digits for microseconds).
            for summary in reader.summaries():
                print(summary.format(pktcap.SummaryFormat.TEXT))
                count += 1
    except pktcap.PktcapError as e:
        # A damaged file: what was read is printed; the message gives the offset.
        sys.stdout.flush()
        print(f"summarize: {e}", file=sys.stderr)
        return 1
    print(f"{count} packets")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
