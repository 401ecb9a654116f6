#!/usr/bin/env python3
"""Every exported symbol is documented, and Doxygen has nothing to warn about.

Runs Doxygen (with WARN_AS_ERROR) on the public headers into XML, then checks
that each symbol of the version script has a documented declaration (a brief
or detailed description) in the output.
"""
import argparse
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path


def map_symbols(path):
    text = re.sub(r"/\*.*?\*/", "", Path(path).read_text(), flags=re.S)
    names = set()
    for body in re.findall(r"global:(.*?)(?:local:|\})", text, re.S):
        names.update(s.strip() for s in body.split(";") if s.strip())
    return names


def described(member):
    text = ""
    for tag in ("briefdescription", "detaileddescription"):
        node = member.find(tag)
        if node is not None:
            text += "".join(node.itertext()).strip()
    return bool(text)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--doxygen", required=True)
    ap.add_argument("--doxyfile", required=True)
    ap.add_argument("--xml-dir", required=True)
    ap.add_argument("--map", required=True)
    args = ap.parse_args()

    proc = subprocess.run([args.doxygen, args.doxyfile], capture_output=True, text=True)
    if proc.returncode != 0 or proc.stderr.strip():
        print(proc.stdout)
        print(proc.stderr)
        print("doc check: doxygen reported warnings or failed")
        return 1

    documented, seen = set(), set()
    for xml in Path(args.xml_dir).glob("*.xml"):
        root = ET.parse(xml).getroot()
        for member in root.iter("memberdef"):
            if member.get("kind") != "function":
                continue
            name = member.findtext("name")
            seen.add(name)
            if described(member):
                documented.add(name)
    wanted = map_symbols(args.map)
    missing = sorted(wanted - documented)
    for name in missing:
        state = "undocumented" if name in seen else "not found in the documented headers"
        print(f"{name}: {state}")
    print(f"doc check: {len(wanted) - len(missing)} of {len(wanted)} exported symbols documented")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
