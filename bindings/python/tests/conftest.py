import sys
from pathlib import Path

# Test the package in this source tree, not an installed copy.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
