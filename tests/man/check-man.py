#!/usr/bin/env python3
"""The manual pages render without a single groff warning, as man(1) shows
them, with every section of their Markdown; and doc/md2man.py converts the
Markdown they use as documented.

usage: check-man.py --md2man doc/md2man.py --doc-dir doc PAGE...

For each built PAGE (pktcap.1, libpktcap.3): ASCII only; a .TH line naming
the page; `groff -man -Tutf8 -ww -z` silent with status 0; every `##`
heading of doc/PAGE.md a section of the rendered page; the NAME line as
whatis(1) reads it (lexgrog, when man-db is installed); and `man -l PAGE`
renders it cleanly when man is installed. groff is required (Debian:
groff-base)."""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

failures = []


def check(ok, what):
    print(("ok    " if ok else "FAIL  ") + what)
    if not ok:
        failures.append(what)


def run(argv, **kw):
    env = dict(os.environ, LC_ALL="C.UTF-8", MANWIDTH="80")
    env.pop("LD_PRELOAD", None)
    return subprocess.run(argv, capture_output=True, text=True, timeout=60, env=env, **kw)


def groff_warnings(page):
    proc = run(["groff", "-man", "-Tutf8", "-ww", "-z", str(page)])
    return proc.returncode, proc.stderr


def render(page):
    """The page as plain text (no bold or underlining)."""
    proc = run(["groff", "-man", "-Tutf8", "-ww", "-P-cbu", str(page)])
    return proc.returncode, proc.stdout, proc.stderr


def check_page(page, doc_dir):
    name, section = page.name.rsplit(".", 1)
    raw = page.read_bytes()
    check(raw.isascii(), f"{page.name}: ASCII only")
    text = raw.decode("ascii", "replace")
    check(re.search(rf'^\.TH {re.escape(name.upper())} {section} ', text, re.M) is not None,
          f"{page.name}: .TH {name.upper()} {section}")
    rc, err = groff_warnings(page)
    check(rc == 0 and err == "", f"{page.name}: groff -man -Tutf8 -ww -z: no warning"
          + (f"\n{err}" if err else ""))
    rc, out, err = render(page)
    source = doc_dir / f"{page.name}.md"
    headings = re.findall(r"^## (.+)$", source.read_text(encoding="utf-8"), re.M)
    rendered = set(re.findall(r"^(\S.*?)\s*$", out, re.M))
    missing = [h for h in headings if h.upper() not in rendered]
    check(rc == 0 and headings and not missing,
          f"{page.name}: the {len(headings)} sections of {source.name} are rendered"
          + (f" (missing: {missing})" if missing else ""))
    if shutil.which("lexgrog"):
        proc = run(["lexgrog", str(page)])
        check(proc.returncode == 0 and f'"{name} - ' in proc.stdout,
              f"{page.name}: whatis line ({proc.stdout.strip()})")
    if shutil.which("man"):
        proc = run(["man", "-P", "cat", "-l", str(page)])
        check(proc.returncode == 0 and proc.stderr == "" and "NAME" in proc.stdout
              and f"{name} - " in proc.stdout,
              f"{page.name}: man -l renders it" + (f"\n{proc.stderr}" if proc.stderr else ""))


# What the converter must do with each construct, and the plain text groff
# then prints for it (a fragment of the rendered page, blanks collapsed).
SAMPLE = """\
# sample(7)

## NAME

sample \u2014 a page for the converter's test

## DESCRIPTION

.starts with a dot, 'starts with a quote', a back\\slash, `--option` and
**bold**, *italic*, _also italic_, snake_case_word, [other.md](other.md),
[a site](https://example.com/x), em\u2014dash, caf\u00e9 \u2192 \u2265 \u00b5s.

`term --x`
: the definition, continued
  on a second line.

      indented code inside the definition

  A second paragraph of the definition.

- one item
- two items,
  continued

| key | value |
|---|---|
| `a|b` | pipe in code |

| key | kind | meaning |
|---|---|---|
| k | int | what k is |

```c
.code line that starts with a dot
int main(void) { return 0; }
```
"""
EXPECTED = [
    "SAMPLE(7) Miscellaneous Information Manual SAMPLE(7)",
    "sample - a page for the converter's test",
    ".starts with a dot, 'starts with a quote', a back\\slash, --option and bold, italic,"
    " also italic, snake_case_word, doc/other.md, a site <https://example.com/x>,"
    " em\u2014dash, caf\u00e9 \u2192 \u2265 \u00b5s.",
    "term --x the definition, continued on a second line.",
    "indented code inside the definition",
    "A second paragraph of the definition.",
    "\u2022 one item",
    "\u2022 two items, continued",
    "a|b pipe in code",
    "k kind: int meaning: what k is",
    ".code line that starts with a dot",
    "int main(void) { return 0; }",
]


def check_converter(md2man):
    with tempfile.TemporaryDirectory() as tmp:
        src, page = Path(tmp) / "sample.7.md", Path(tmp) / "sample.7"
        src.write_text(SAMPLE, encoding="utf-8")
        proc = run([sys.executable, str(md2man), "--version", "9.9.9", str(src), str(page)])
        check(proc.returncode == 0, "md2man converts the sample" + proc.stderr)
        if proc.returncode != 0:
            return
        check(page.read_bytes().isascii(), "md2man: the sample's page is ASCII")
        rc, err = groff_warnings(page)
        check(rc == 0 and err == "", "md2man: the sample renders without warnings" + err)
        rc, out, _ = render(page)
        flat = " ".join(out.split())
        for fragment in EXPECTED:
            check(" ".join(fragment.split()) in flat, f"md2man: the sample shows {fragment!r}")
        # Indentation: code in the definition sits 4 columns right of its text.
        lines = out.splitlines()
        text_col = next(len(x) - len(x.lstrip()) for x in lines if "A second paragraph" in x)
        code_col = next(len(x) - len(x.lstrip()) for x in lines if "indented code inside" in x)
        check(code_col == text_col + 4, f"md2man: nested code at column {code_col}, "
              f"its definition's text at {text_col}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--md2man", required=True, type=Path)
    ap.add_argument("--doc-dir", required=True, type=Path)
    ap.add_argument("pages", nargs="+", type=Path)
    args = ap.parse_args()
    if not shutil.which("groff"):
        print("FAIL  groff is not installed (Debian: groff-base; ./dev deps installs it)")
        return 1
    check_converter(args.md2man)
    for page in args.pages:
        check_page(page, args.doc_dir)
    print(f"man check: {len(failures)} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
