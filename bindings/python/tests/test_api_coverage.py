"""The API-coverage check itself (api_coverage.py), on a small fake package:
what it lists as public, that it reports what never ran, and that its
recorder sees calls, including on other threads."""
import importlib
import os
import re
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

import api_coverage
import pktcap

FILES = {
    "__init__.py": """
        from . import widgets
        from .widgets import Widget, covered, uncovered
        __all__ = ["Widget", "covered", "uncovered", "LIMIT"]
        LIMIT = 3
        """,
    "_base.py": """
        class Base:
            def close(self):
                return "closed"

            def __enter__(self):
                return self

            def __exit__(self, *exc):
                self.close()

            def _private(self):
                return "private"
        """,
    "widgets.py": """
        import dataclasses
        import enum

        from ._base import Base


        def covered():
            return 1


        def uncovered():
            return 2


        def _helper():
            return 3


        class Widget(Base):
            def __init__(self):
                self._value = 0

            @property
            def value(self):
                return self._value

            @value.setter
            def value(self, value):
                self._value = value

            @classmethod
            def make(cls):
                return cls()

            @staticmethod
            def twice(x):
                return 2 * x

            def __len__(self):
                return 0

            def _hidden(self):
                return "hidden"


        class Color(enum.IntEnum):
            RED = 1

            @property
            def warm(self):
                return True


        @dataclasses.dataclass
        class Point:
            x: int = 0   # the generated __init__ is not the package's code
        """,
}

ALL = [
    "{p}._base.Base.__enter__", "{p}._base.Base.__exit__", "{p}._base.Base.close",
    "{p}.widgets.Color.warm (getter)",
    "{p}.widgets.Widget.__init__", "{p}.widgets.Widget.__len__", "{p}.widgets.Widget.make",
    "{p}.widgets.Widget.twice", "{p}.widgets.Widget.value (getter)",
    "{p}.widgets.Widget.value (setter)", "{p}.widgets.covered", "{p}.widgets.uncovered",
]


@pytest.fixture
def fake(tmp_path):
    """The fake package, imported under a name of its own; yields (package, directory)."""
    name = "fake_api_coverage_pkg"
    root = tmp_path / name
    root.mkdir()
    for filename, text in FILES.items():
        (root / filename).write_text(textwrap.dedent(text))
    sys.path.insert(0, str(tmp_path))
    try:
        yield importlib.import_module(name), root
    finally:
        sys.path.remove(str(tmp_path))
        for module in [m for m in sys.modules if m == name or m.startswith(name + ".")]:
            del sys.modules[module]


def labels(package, names):
    return [n.format(p=package.__name__) for n in names]


def test_public_callables_are_every_public_and_dunder_callable_of_the_packages_code(fake):
    package, _ = fake
    assert sorted(api_coverage.public_callables(package).values()) == labels(package, ALL)


def test_what_never_ran_is_reported_with_its_place(fake):
    package, root = fake
    recorder = api_coverage.Recorder(str(root))
    before = sys.gettrace()
    recorder.start()
    try:
        package.covered()
        with package.Widget.make() as w:   # __init__, make, __enter__, __exit__, close
            assert w.value == 0
    finally:
        recorder.stop()
    assert sys.gettrace() is before   # the session's own recorder goes on
    package.uncovered()   # after stop: not recorded
    # A decorated function is placed at its decorator's line.
    assert api_coverage.missing(package, recorder.executed) == labels(package, [
        "{p}.widgets.Color.warm (getter) (widgets.py:50)",
        "{p}.widgets.Widget.__len__ (widgets.py:40)",
        "{p}.widgets.Widget.twice (widgets.py:36)",
        "{p}.widgets.Widget.value (setter) (widgets.py:28)",
        "{p}.widgets.uncovered (widgets.py:12)",
    ])


def test_calls_on_threads_started_while_recording_are_seen_and_all_covered_is_empty(fake):
    package, root = fake
    recorder = api_coverage.Recorder(str(root))

    def use_everything():
        w = package.Widget()
        w.value = 5
        assert (w.value, len(w), w.twice(2), w.close()) == (5, 0, 4, "closed")
        with package.Widget.make():
            pass
        assert (package.covered(), package.uncovered()) == (1, 2)
        assert package.widgets.Color.RED.warm is True

    failures = []

    def run():
        try:
            use_everything()
        except BaseException as exc:  # noqa: BLE001 - re-raised below
            failures.append(exc)

    recorder.start()
    try:
        thread = threading.Thread(target=run)
        thread.start()
        thread.join()
    finally:
        recorder.stop()
    assert failures == []
    assert api_coverage.missing(package, recorder.executed) == []
    # Only the package's own code is recorded (not this test, not threading).
    assert {c.co_filename for c in recorder.executed} == \
        {str(root / "_base.py"), str(root / "widgets.py")}


def test_the_real_package_is_enumerated_through_its_classes_and_submodules():
    found = set(api_coverage.public_callables(pktcap).values())
    for label in ["pktcap.version", "pktcap.errors.check", "pktcap.file.read_all",
                  "pktcap._handle.Handle.close", "pktcap._handle.Handle.__enter__",
                  "pktcap.filter.Filter.__eq__", "pktcap.filter.Filter.__deepcopy__",
                  "pktcap.filter.Field.is_address (getter)",
                  "pktcap.session.State.terminal (getter)",
                  "pktcap.session.Session.packet_limit (setter)",
                  "pktcap.storage.Storage.callback", "pktcap.summary.summary_header"]:
        assert label in found
    # Private helpers and what dataclass/NamedTuple generate are not listed.
    names = [label.split(" ")[0].rsplit(".", 1)[1] for label in found]
    assert [n for n in names if n.startswith("_") and not n.endswith("__")] == []
    assert "pktcap.file.Packet.__init__" not in found
    assert "pktcap.session.SessionInfo.__new__" not in found


def test_a_run_of_part_of_the_suite_says_the_check_was_not_made():
    """The check is added only when every test of the folder runs: with -k it
    is not run (it would report everything the other tests cover)."""
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
         str(Path(__file__).resolve().parent), "-k", "test_linktype_names"],
        env=dict(os.environ), capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    assert re.fullmatch(r"API coverage of pktcap not checked: \d+ test\(s\) deselected",
                        lines[-2]), proc.stdout
    assert re.fullmatch(r"1 passed, \d+ deselected in [\d.]+s", lines[-1]), proc.stdout
