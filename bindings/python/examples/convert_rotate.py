#!/usr/bin/env python3
"""convert_rotate IN OUTPATTERN BYTES: rewrite a pcap or pcapng capture as
pcapng through a storage target that starts a new file whenever the current
one holds BYTES bytes, then list the files it made.

    python3 convert_rotate.py big.pcap /tmp/part.pcapng 10M
    -> /tmp/part_00001_20240101120000.pcapng, /tmp/part_00002_....pcapng, ...

OUTPATTERN is a path or a storage URI (file:///tmp/part.pcapng?rotate_files=5);
BYTES takes the suffixes k, M, G (x1000) and Ki, Mi, Gi (x1024). Each file
appears under its name only once it is complete (doc/storage.md).
The same program in C: examples/programs/convert_rotate.c.
"""
import sys
from pathlib import Path

try:
    import pktcap
except ImportError:   # run from a source checkout: the package is next to this folder
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    import pktcap


def add_interfaces(writer, reader, declared):
    """pcapng declares interfaces as it goes: give the writer those the reader
    has seen since, in the same order, so packet.interface means the same in
    both files. Returns how many the writer has now."""
    for iface in reader.interfaces[declared:]:
        writer.add_interface(iface.linktype, iface.snaplen, iface.name, iface.description)
        declared += 1
    return declared


def main(argv):
    if len(argv) != 4:
        print("usage: convert_rotate IN OUTPATTERN BYTES", file=sys.stderr)
        return 1
    source, pattern, size = argv[1:]
    packets = 0
    try:
        # The storage target decides where bytes go and when a new file starts.
        with pktcap.Reader(source) as reader, pktcap.Storage(pattern, rotate_bytes=size) as storage:
            # Leaving the block completes the last file (on an exception the
            # unfinished file is removed instead).
            with pktcap.Writer(storage, pktcap.Format.PCAPNG) as writer:
                declared = 0
                for packet in reader:
                    if packet.interface >= declared:
                        declared = add_interfaces(writer, reader, declared)
                    writer.write(packet)
                    packets += 1
                add_interfaces(writer, reader, declared)   # interfaces without packets too
            files = storage.files   # the files completed, in order
    except pktcap.PktcapError as e:
        print(f"convert_rotate: {e}", file=sys.stderr)
        return 1
    for path in files:
        print(path)
    print(f"{packets} packets in {len(files)} files")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
