#!/usr/bin/env python3
"""Every public header compiles on its own, as strict C99 and as C++11.

Each header is included twice (its include guard must hold) in an otherwise
empty translation unit; warnings are errors.
"""
import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

C_FLAGS = ["-std=c99", "-pedantic", "-Wall", "-Wextra", "-Werror", "-fsyntax-only"]
CXX_FLAGS = ["-std=c++11", "-pedantic", "-Wall", "-Wextra", "-Werror", "-fsyntax-only"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cc", required=True)
    ap.add_argument("--cxx", required=True)
    ap.add_argument("-I", dest="includes", action="append", default=[])
    ap.add_argument("headers", nargs="+")
    args = ap.parse_args()
    incs = [f"-I{d}" for d in args.includes]
    failures = 0
    with tempfile.TemporaryDirectory() as tmp:
        for header in args.headers:
            for lang, compiler, flags, ext in (("C99", args.cc, C_FLAGS, "c"),
                                               ("C++11", args.cxx, CXX_FLAGS, "cpp")):
                src = Path(tmp) / f"{header.replace('.', '_')}.{ext}"
                src.write_text(f"#include <pktcap/{header}>\n#include <pktcap/{header}>\n"
                               "int main(void) { return 0; }\n")
                proc = subprocess.run(compiler.split() + flags + incs + [str(src)],
                                      capture_output=True, text=True)
                status = "ok" if proc.returncode == 0 else "FAILED"
                print(f"{status:6} {lang:5} pktcap/{header}")
                if proc.returncode != 0:
                    failures += 1
                    print(proc.stderr)
    print(f"header check: {len(args.headers) * 2 - failures} passed, {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
