"""The Python package's core: loading the library, versions, errors."""
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import pktcap
from pktcap import _native, errors

ROOT = Path(__file__).resolve().parents[3]
HEADER = ROOT / "include" / "pktcap" / "error.h"
MAP = ROOT / "lib" / "libpktcap.map"


def header_codes():
    text = HEADER.read_text()
    return {name: int(value) for name, value in
            re.findall(r"PKTCAP_(OK|E_[A-Z]+)\s*=\s*(-?\d+)", text)}


def test_version_is_the_libraries_version():
    assert re.fullmatch(r"\d+\.\d+\.\d+", pktcap.version())
    major, minor, patch = (int(x) for x in pktcap.version().split("."))
    assert pktcap.version_num() == (major << 16) | (minor << 8) | patch
    assert pktcap.__version__ == pktcap.version()


def test_status_enum_equals_the_c_header():
    codes = header_codes()
    assert {s.name: s.value for s in errors.Status} == codes


def test_every_error_code_has_an_exception_class_with_the_c_name():
    for status in errors.Status:
        if status == errors.Status.OK:
            continue
        cls = errors.exception_class(status)
        assert issubclass(cls, errors.PktcapError)
        assert cls is not errors.PktcapError, status
        assert _native.lib.pktcap_error_name(status).decode() == "PKTCAP_" + status.name


def test_families_group_related_codes():
    assert issubclass(errors.exception_class(errors.Status.E_TLS), errors.NetworkError)
    assert issubclass(errors.exception_class(errors.Status.E_TIMEOUT), TimeoutError)
    assert issubclass(errors.exception_class(errors.Status.E_THROTTLED), errors.RemoteError)
    assert issubclass(errors.exception_class(errors.Status.E_TRUNCATED), errors.FormatError)
    assert issubclass(errors.exception_class(errors.Status.E_INVAL), ValueError)
    assert issubclass(errors.exception_class(errors.Status.E_NOMEM), MemoryError)
    assert issubclass(errors.exception_class(errors.Status.E_IO), OSError)
    assert errors.exception_class(-999) is errors.PktcapError


def test_check_passes_success_through_and_raises_on_failure():
    assert errors.check(0) == 0
    assert errors.check(7) == 7
    pktcap_error_clear = _native.lib.pktcap_error_clear
    pktcap_error_clear()
    with pytest.raises(errors.StateError) as info:
        errors.check(errors.Status.E_STATE)
    exc = info.value
    assert exc.code == errors.Status.E_STATE
    # Nothing was recorded for this code, so the text is the code's own.
    assert exc.message == "invalid in the current state"
    assert exc.http_status == 0
    assert exc.provider_code == ""
    assert str(exc) == "invalid in the current state (PKTCAP_E_STATE)"


def test_last_error_without_an_error_is_ok():
    _native.lib.pktcap_error_clear()
    err = _native.lib.pktcap_error_last()
    assert err
    assert _native.lib.pktcap_error_code(err) == 0
    assert _native.lib.pktcap_error_message(err) == b""
    assert _native.lib.pktcap_error_message(None) == b""


def test_every_exported_symbol_has_a_prototype():
    text = re.sub(r"/\*.*?\*/", "", MAP.read_text(), flags=re.S)
    exported = set()
    for body in re.findall(r"global:(.*?)(?:local:|\})", text, re.S):
        exported.update(s.strip() for s in body.split(";") if s.strip())
    assert exported == set(_native.PROTOTYPES)


def test_library_is_found_through_pktcap_library(tmp_path):
    code = "import pktcap, pktcap._native as n; print(n.find_library())"
    env = dict(os.environ)
    lib = env.get("PKTCAP_LIBRARY") or _native.find_library()
    env["PKTCAP_LIBRARY"] = lib
    env["PYTHONPATH"] = str(ROOT / "bindings" / "python")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                         text=True, check=True).stdout.strip()
    assert out == lib


def test_a_missing_pktcap_library_is_a_clear_error(tmp_path):
    env = dict(os.environ)
    env["PKTCAP_LIBRARY"] = str(tmp_path / "nope.so")
    env["PYTHONPATH"] = str(ROOT / "bindings" / "python")
    proc = subprocess.run([sys.executable, "-c", "import pktcap"], env=env,
                          capture_output=True, text=True)
    assert proc.returncode != 0
    assert "PKTCAP_LIBRARY=" in proc.stderr and "does not exist" in proc.stderr
