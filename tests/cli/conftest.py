import os
import subprocess
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def cli():
    path = os.environ.get("PKTCAP_CLI")
    if not path:
        pytest.fail("PKTCAP_CLI is not set: run these tests through `meson test` or ./dev test")

    def run(*args, input=None, check_status=None):
        proc = subprocess.run([path, *map(str, args)], input=input, capture_output=True)
        if check_status is not None:
            assert proc.returncode == check_status, (proc.returncode, proc.stdout, proc.stderr)
        return proc
    run.path = path
    return run


@pytest.fixture(scope="session")
def source_root():
    return Path(__file__).resolve().parents[2]
