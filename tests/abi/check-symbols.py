#!/usr/bin/env python3
"""The library exports exactly the symbols of its version script.

Three lists must agree: the functions the public headers declare with
PKTCAP_API, the symbols of lib/libpktcap.map, and what `nm -D` shows the
built shared library exporting. Every exported symbol must start with
`pktcap_` and carry the default version (`@@`) of the node that lists it.
"""
import argparse
import re
import subprocess
import sys
from pathlib import Path


def parse_map(path):
    """Return {symbol: node} from a GNU ld version script."""
    text = re.sub(r"/\*.*?\*/", "", Path(path).read_text(), flags=re.S)
    symbols = {}
    for node, body in re.findall(r"([A-Za-z0-9_.]+)\s*\{(.*?)\}\s*[A-Za-z0-9_.]*\s*;", text, re.S):
        section = None
        for item in re.split(r"[;\s]+", body):
            if item in ("global:", "local:"):
                section = item
            elif item.endswith(":") and item[:-1] in ("global", "local"):
                section = item
            elif item and section == "global:":
                if item in symbols:
                    sys.exit(f"{path}: {item} listed twice ({symbols[item]} and {node})")
                symbols[item] = node
    return symbols


def parse_headers(paths):
    """Return the names of functions declared with PKTCAP_API."""
    names = set()
    for path in paths:
        text = re.sub(r"/\*.*?\*/", "", Path(path).read_text(), flags=re.S)
        text = re.sub(r"^\s*#.*?(?<!\\)$", "", text, flags=re.M | re.S)  # macro definitions
        for decl in re.findall(r"PKTCAP_API\b([^;]*?)\(", text, re.S):
            names.add(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", decl)[-1])
    return names


def exported(lib):
    out = subprocess.run(["nm", "-D", "--defined-only", lib], check=True,
                         capture_output=True, text=True).stdout
    symbols = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) < 3 or parts[1] == "A":   # "A LIBPKTCAP_1.0": the node itself
            continue
        name = parts[2]
        base, sep, version = name.partition("@@")
        if not sep:
            base, sep, version = name.partition("@")
            version = ("non-default:" + version) if sep else ""
        symbols[base] = version
    return symbols


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lib", required=True)
    ap.add_argument("--map", required=True)
    ap.add_argument("headers", nargs="+")
    args = ap.parse_args()

    mapped = parse_map(args.map)
    declared = parse_headers(args.headers)
    actual = exported(args.lib)
    problems = []
    for name in sorted(declared - set(mapped)):
        problems.append(f"{name}: declared PKTCAP_API in a header but missing from {args.map}")
    for name in sorted(set(mapped) - declared):
        problems.append(f"{name}: in {args.map} but declared in no public header")
    for name in sorted(set(mapped) - set(actual)):
        problems.append(f"{name}: in {args.map} but not exported by {args.lib}")
    for name, version in sorted(actual.items()):
        if not name.startswith("pktcap_"):
            problems.append(f"{name}: exported but not a pktcap_ symbol (leak)")
        elif name not in mapped:
            problems.append(f"{name}: exported but not in {args.map}")
        elif version != mapped[name]:
            problems.append(f"{name}: exported with version '{version}', expected '@@{mapped[name]}'")
    if problems:
        print("\n".join(problems))
        print(f"symbol check: {len(problems)} problem(s)")
        return 1
    print(f"symbol check: {len(actual)} symbols exported, all pktcap_*, all in the version script "
          f"and the headers")
    return 0


if __name__ == "__main__":
    sys.exit(main())
