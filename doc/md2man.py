#!/usr/bin/env python3
"""md2man: turn the project's Markdown manual pages (doc/NAME.N.md) into
roff for man(7). Python standard library only; meson runs it at build time.

    md2man.py [--version VERSION] IN.md OUT

It knows just the Markdown these pages use:

* ``# name(N)``, the first line: the page's name and section (.TH);
  ``## HEADING`` (.SH) and ``### HEADING`` (.SS);
* paragraphs; ``- item`` lists; definition lists: a line holding the term,
  then ``: text``, continued by lines indented two spaces (.TP);
* code blocks, fenced (```) or indented four spaces; they may sit inside a
  definition (indented four more);
* tables (``| a | b |`` with a ``|---|`` line): each row becomes a tagged
  paragraph, the first cell its tag, the others its text;
* inline ``code`` (bold), **bold**, *italic* or _italic_, and links
  ``[text](target)`` (their text; web addresses follow in angle brackets).

The output is ASCII: characters beyond it become groff escapes, and ``-``
becomes ``\\-`` (a minus sign, which copies as the hyphen-minus options need).
In the NAME section, `` — `` becomes the `` \\- `` that whatis(1) expects.
"""

import argparse
import re
import sys

MANUALS = {"1": "User Commands", "3": "Library Functions Manual", "5": "File Formats Manual",
           "7": "Miscellaneous Information Manual", "8": "System Manager's Manual"}

# Characters with a groff name; any other non-ASCII character becomes \[uXXXX].
GLYPHS = {"\u2014": r"\(em", "\u2013": r"\(en", "\u2192": r"\(->", "\u2190": r"\(<-",
          "\u2265": r"\(>=", "\u2264": r"\(<=", "\u00d7": r"\(mu", "\u00b5": r"\(mc",
          "\u2018": r"\(oq", "\u2019": r"\(cq", "\u201c": r"\(lq", "\u201d": r"\(rq",
          "\u2026": r"\&...", "\u00a0": r"\~", "\u2212": r"\-"}

INLINE = re.compile(
    r"(?P<code>`+)(?P<code_text>.+?)(?P=code)(?!`)"          # `code`, ``co`de``
    r"|\[(?P<link_text>[^\]]+)\]\((?P<link_target>[^)\s]+)\)"  # [text](target)
    r"|\*\*(?P<bold>\S(?:.*?\S)?)\*\*"                       # **bold**
    r"|(?<![\w*])\*(?P<star>[^\s*](?:[^*]*?[^\s*])?)\*(?![\w*])"  # *italic*
    r"|(?<![\w])_(?P<under>[^\s_](?:[^_]*?[^\s_])?)_(?![\w])")    # _italic_


def escape(text):
    """Plain text as roff text: backslashes, minus signs, non-ASCII characters."""
    out = []
    for ch in text:
        if ch == "\\":
            out.append(r"\e")
        elif ch == "-":
            out.append(r"\-")
        elif ord(ch) < 128:
            out.append(ch)
        else:
            out.append(GLYPHS.get(ch, r"\[u%04X]" % ord(ch)))
    return "".join(out)


def inline(text):
    """Markdown inline markup to roff, escaping everything else."""
    out, pos = [], 0
    for m in INLINE.finditer(text):
        out.append(escape(text[pos:m.start()]))
        pos = m.end()
        if m.group("code"):
            out.append(r"\fB" + escape(m.group("code_text").strip()) + r"\fR")
        elif m.group("link_text"):
            label, target = m.group("link_text"), m.group("link_target")
            if label == target and re.fullmatch(r"[\w.-]+\.md", target):
                label = "doc/" + target   # a page of the user guide, next to this one
            out.append(inline(label))
            if re.match(r"https?://", target) and target != label:
                out.append(" <" + escape(target) + ">")
        elif m.group("bold"):
            out.append(r"\fB" + inline(m.group("bold")) + r"\fR")
        else:
            out.append(r"\fI" + inline(m.group("star") or m.group("under")) + r"\fR")
    out.append(escape(text[pos:]))
    return "".join(out)


def text_lines(text, width=78):
    """Filled roff text in lines of about WIDTH characters, none starting
    with a control character."""
    lines, line = [], ""
    for word in text.split():
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    if line:
        lines.append(line)
    return [r"\&" + x if x[:1] in (".", "'") else x for x in lines]


def code_lines(lines):
    """Literal lines for no-fill mode."""
    out = []
    for line in lines:
        line = escape(line.rstrip())
        out.append(r"\&" + line if line[:1] in (".", "'") or not line else line)
    return out


def is_table_start(lines, i):
    return (lines[i].lstrip().startswith("|") and i + 1 < len(lines)
            and re.fullmatch(r"\s*\|?\s*:?-+:?\s*(\|\s*:?-+:?\s*)*\|?\s*", lines[i + 1]) is not None)


def cells(row):
    row = row.strip()
    if row.startswith("|"):
        row = row[1:]
    if row.endswith("|"):
        row = row[:-1]
    # A "|" inside `code` does not separate cells.
    parts, cur, in_code = [], "", False
    for ch in row:
        if ch == "`":
            in_code = not in_code
        if ch == "|" and not in_code:
            parts.append(cur.strip())
            cur = ""
        else:
            cur += ch
    parts.append(cur.strip())
    return parts


def indent_of(line):
    return len(line) - len(line.lstrip(" "))


class Converter:
    def __init__(self, version):
        self.version = version
        self.out = []
        self.section = ""

    def emit(self, *lines):
        self.out.extend(lines)

    def paragraph(self, text, macro):
        if self.section == "NAME":
            text = text.replace(" \u2014 ", " - ", 1)
        if macro and not self.out[-1].startswith((".SH", ".SS")):
            self.emit(macro)
        self.emit(*text_lines(inline(text)))

    def blocks(self, lines, nested=False):
        """Convert a list of lines. NESTED: inside a definition or list item,
        where paragraphs and code keep the item's indentation."""
        par = ".IP" if nested else ".PP"
        first = nested   # the item's first paragraph follows its tag directly
        i = 0
        while i < len(lines):
            line = lines[i]
            stripped = line.strip()
            if not stripped:
                i += 1
                continue
            # Fenced code.
            if stripped.startswith("```"):
                j = i + 1
                while j < len(lines) and not lines[j].strip().startswith("```"):
                    j += 1
                self.code(lines[i + 1:j], nested)
                first = False
                i = j + 1
                continue
            # Indented code.
            if indent_of(line) >= 4:
                j = i
                while j < len(lines) and (not lines[j].strip() or indent_of(lines[j]) >= 4):
                    j += 1
                block = lines[i:j]
                while block and not block[-1].strip():
                    block.pop()
                self.code([x[4:] for x in block], nested)
                first = False
                i = j
                continue
            if not nested and re.match(r"#{1,3} ", stripped):
                self.heading(stripped)
                i += 1
                continue
            if is_table_start(lines, i):
                j = i + 2
                while j < len(lines) and lines[j].lstrip().startswith("|"):
                    j += 1
                self.table(cells(lines[i]), [cells(x) for x in lines[i + 2:j]])
                i = j
                continue
            # A list item: "- text", continued by lines indented two spaces.
            if re.match(r"[-*] ", stripped):
                j = i + 1
                while j < len(lines) and lines[j].strip() and indent_of(lines[j]) >= 2 \
                        and not re.match(r"[-*] ", lines[j].strip()):
                    j += 1
                self.emit(r".IP \(bu 2")
                self.paragraph(" ".join(x.strip() for x in [stripped[2:]] + lines[i + 1:j]), None)
                first = False
                i = j
                continue
            # A definition: the term, then ": text" and its indented continuation.
            if i + 1 < len(lines) and lines[i + 1].startswith(": "):
                j = i + 2
                while j < len(lines):
                    if lines[j].strip() and indent_of(lines[j]) >= 2:
                        j += 1
                    elif not lines[j].strip() and j + 1 < len(lines) \
                            and lines[j + 1].strip() and indent_of(lines[j + 1]) >= 2:
                        j += 1
                    else:
                        break
                self.tag(stripped)
                body = ["  " + lines[i + 1][2:]] + lines[i + 2:j]
                self.blocks([x[2:] if x.startswith("  ") else x.lstrip() for x in body],
                            nested=True)
                first = False
                i = j
                continue
            # A paragraph: up to a blank line or the start of another block.
            j = i + 1
            while j < len(lines) and lines[j].strip() and indent_of(lines[j]) < 4 \
                    and not lines[j].strip().startswith(("```", "|", "#", "- ", "* ")) \
                    and not (j + 1 < len(lines) and lines[j + 1].startswith(": ")):
                j += 1
            self.paragraph(" ".join(x.strip() for x in lines[i:j]), None if first else par)
            first = False
            i = j

    def tag(self, text):
        """A tagged paragraph: .TP takes its tag from exactly one input line."""
        line = inline(" ".join(text.split())) or r"\&"
        self.emit(".TP", r"\&" + line if line[:1] in (".", "'") else line)

    def heading(self, text):
        level, title = re.match(r"(#+) +(.*)", text).groups()
        if len(level) == 1:
            m = re.fullmatch(r"(\S+)\((\d\w*)\)", title.strip())
            if not m or self.out:
                sys.exit(f"md2man: the page must start with '# name(N)', not '{text}'")
            name, section = m.groups()
            self.emit(rf'.TH {escape(name.upper())} {section} "" "libpktcap {self.version}" '
                      f'"{MANUALS.get(section[0], "")}"',
                      ".ad l", ".nh")   # ragged right, no hyphenation: options stay whole
        elif len(level) == 2:
            self.section = title.strip().upper()
            self.emit(".SH " + inline(self.section))
        else:
            self.emit(".SS " + inline(title.strip()))

    def code(self, lines, nested):
        if nested:
            # .RS alone moves the margin to the item's text, .RS 4 beyond it.
            self.emit(".sp", ".RS", ".RS 4", ".nf", *code_lines(lines), ".fi", ".RE", ".RE")
        else:
            if not self.out[-1].startswith((".SH", ".SS")):
                self.emit(".PP")
            self.emit(".RS 4", ".nf", *code_lines(lines), ".fi", ".RE")

    def table(self, header, rows):
        for row in rows:
            self.tag(row[0])
            rest = [(h, c) for h, c in zip(header[1:], row[1:]) if c]
            for k, (name, cell) in enumerate(rest):
                if k:
                    self.emit(".br")
                text = cell if len(header) == 2 or not name else f"*{name}*: {cell}"
                self.emit(*text_lines(inline(text)))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--version", default="", help="the version the page footer names")
    ap.add_argument("input")
    ap.add_argument("output")
    args = ap.parse_args()
    with open(args.input, encoding="utf-8") as f:
        lines = f.read().splitlines()
    if not lines or not lines[0].startswith("# "):
        sys.exit(f"md2man: {args.input}: the page must start with '# name(N)'")
    conv = Converter(args.version)
    conv.blocks(lines)
    with open(args.output, "w", encoding="ascii") as f:
        f.write(".\\\" Generated from %s by doc/md2man.py: edit the Markdown.\n"
                % args.input.rsplit("/", 1)[-1])
        f.write("\n".join(conv.out) + "\n")


if __name__ == "__main__":
    main()
