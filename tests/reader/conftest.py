"""Prints the corpus comparison's totals at the end of the run."""
import sys


def pytest_terminal_summary(terminalreporter):
    mod = sys.modules.get("test_corpus")
    if mod is None:
        return
    t = mod.TOTALS
    terminalreporter.write_line(
        f"corpus: {t['compared']} files compared; {t['agreed']} agree with libpcap, "
        f"{t['documented']} documented disagreements checked against tshark or written-out lines")
