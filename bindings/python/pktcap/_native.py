"""The ctypes prototypes of every public libpktcap function, in one table.

The library is found through, in order: the ``PKTCAP_LIBRARY`` environment
variable (a path to ``libpktcap.so.1``), a meson build tree beside the source
package (``build*/lib/``), then the system's dynamic loader.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
from pathlib import Path
from typing import Dict, List, Optional, Tuple

SONAME = "libpktcap.so.1"

c_int = ctypes.c_int
c_uint = ctypes.c_uint
c_char_p = ctypes.c_char_p
c_void_p = ctypes.c_void_p

# name -> (restype, argtypes). Opaque handles are c_void_p.
PROTOTYPES: Dict[str, Tuple[object, List[object]]] = {
    # version.h
    "pktcap_version": (c_char_p, []),
    "pktcap_version_num": (c_uint, []),
    # error.h
    "pktcap_strerror": (c_char_p, [c_int]),
    "pktcap_error_name": (c_char_p, [c_int]),
    "pktcap_error_last": (c_void_p, []),
    "pktcap_error_clear": (None, []),
    "pktcap_error_code": (c_int, [c_void_p]),
    "pktcap_error_message": (c_char_p, [c_void_p]),
    "pktcap_error_http_status": (c_int, [c_void_p]),
    "pktcap_error_provider_code": (c_char_p, [c_void_p]),
    "pktcap_error_provider_message": (c_char_p, [c_void_p]),
}


def _build_tree_candidates() -> List[Path]:
    root = Path(__file__).resolve().parents[3]
    found = []
    for build in sorted(root.glob("build*")):
        candidate = build / "lib" / SONAME
        if candidate.exists():
            found.append(candidate)
    return found


def find_library() -> str:
    """Return the path or name of the libpktcap to load."""
    override = os.environ.get("PKTCAP_LIBRARY")
    if override:
        if not Path(override).exists():
            raise OSError(f"PKTCAP_LIBRARY={override!r} does not exist")
        return override
    candidates = _build_tree_candidates()
    if candidates:
        return str(candidates[0])
    system = ctypes.util.find_library("pktcap")
    return system or SONAME


def load(path: Optional[str] = None) -> ctypes.CDLL:
    """Load libpktcap and give every public function its prototype."""
    lib = ctypes.CDLL(path or find_library())
    for name, (restype, argtypes) in PROTOTYPES.items():
        func = getattr(lib, name)
        func.restype = restype
        func.argtypes = argtypes
    return lib


lib = load()
