import gc
import os
import resource
import sys
from pathlib import Path

import pytest

# Test the package in this source tree, not an installed copy.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import api_coverage  # noqa: E402  (beside this file; pytest puts its folder on sys.path)

TESTS_DIR = Path(__file__).resolve().parent
PACKAGE_DIR = TESTS_DIR.parent / "pktcap"

# Every code object of the package that runs during the session, for the
# API-coverage check that ends a whole-suite run (api_coverage.py).
RECORDER = api_coverage.Recorder(str(PACKAGE_DIR))
# Why this run is not a whole-suite run (the check is then not added), if it is not.
_not_whole: list = []


@pytest.fixture
def assert_no_memory_growth():
    """check(run): run(n) does n iterations of something; after 2 000 to warm
    up the allocator pools, 10 000 more must not raise the peak RSS by 4 MiB
    (no per-iteration leak)."""
    def check(run):
        run(2000)
        gc.collect()
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        run(10000)
        gc.collect()
        after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        assert after - before < 4096   # KiB
    return check


# --- API coverage: a whole-suite run fails when a public callable never ran ------------

class ApiCoverageGap(Exception):
    pass


class ApiCoverageItem(pytest.Item):
    """Runs after every test of a whole-suite run: each public callable of
    ``pktcap`` (api_coverage.public_callables) must have been executed."""

    def runtest(self):
        import pktcap
        if Path(pktcap.__file__).resolve().parent != PACKAGE_DIR:
            raise ApiCoverageGap([f"pktcap was imported from {pktcap.__file__}, not {PACKAGE_DIR}"])
        gaps = api_coverage.missing(pktcap, RECORDER.executed)
        if gaps:
            raise ApiCoverageGap(gaps)

    def repr_failure(self, excinfo, style=None):
        if isinstance(excinfo.value, ApiCoverageGap):
            gaps = excinfo.value.args[0]
            return "\n".join([f"{len(gaps)} public callable(s) of pktcap never ran in the suite:"]
                             + [f"  {g}" for g in gaps])
        return super().repr_failure(excinfo, style)

    def reportinfo(self):
        return self.path, None, "API coverage of pktcap"


def pytest_configure(config):
    RECORDER.start()


def pytest_unconfigure(config):
    RECORDER.stop()


def pytest_collectreport(report):
    if report.failed:
        _not_whole.append(f"collecting {report.nodeid or 'the session'} failed")


def pytest_deselected(items):
    _not_whole.append(f"{len(items)} test(s) deselected")


def _whole_directory_selected(config):
    """Why the run does not cover every test of this folder, or None if it does."""
    if config.getoption("keyword") or config.getoption("markexpr"):
        return "-k or -m selects tests"
    if config.getoption("ignore") or config.getoption("ignore_glob") \
            or config.getoption("lf", False):
        return "--ignore, --ignore-glob or --lf leaves tests out"
    for arg in config.args:
        if "::" not in arg and (TESTS_DIR == Path(arg).resolve()
                                or Path(arg).resolve() in TESTS_DIR.parents):
            return None
    return "not run on the whole folder " + str(TESTS_DIR.name)


@pytest.hookimpl(trylast=True)   # after -k, -m and --deselect have done their part
def pytest_collection_modifyitems(session, config, items):
    reason = _not_whole[0] if _not_whole else _whole_directory_selected(config)
    if reason is not None:
        _not_whole[:] = [reason]
        return
    path = Path(api_coverage.__file__).resolve()
    nodeid = os.path.relpath(path, config.rootpath).replace(os.sep, "/") + "::api_coverage"
    items.append(ApiCoverageItem.from_parent(session, name="api_coverage", path=path,
                                             nodeid=nodeid))


def pytest_terminal_summary(terminalreporter):
    if _not_whole:
        terminalreporter.write_line(f"API coverage of pktcap not checked: {_not_whole[0]}")
