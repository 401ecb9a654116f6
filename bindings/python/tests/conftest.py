import gc
import resource
import sys
from pathlib import Path

import pytest

# Test the package in this source tree, not an installed copy.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


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
