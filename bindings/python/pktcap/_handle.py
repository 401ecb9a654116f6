"""Ownership of C handles: freed by close(), by ``with``, or by the garbage collector."""

from __future__ import annotations

import ctypes
import time
import weakref
from typing import Any, Callable, Optional


class Handle:
    """Base of every wrapper around a C handle.

    The handle is released exactly once: by ``close()``, at the end of a
    ``with`` block, or — if the user forgets both — when the object is garbage
    collected (``weakref.finalize``).
    """

    _ptr: ctypes.c_void_p

    def _adopt(self, ptr: ctypes.c_void_p, release: Callable[[Any], Any]) -> None:
        self._ptr = ptr
        self._finalizer = weakref.finalize(self, release, ptr)

    @property
    def closed(self) -> bool:
        return not getattr(self, "_finalizer", None) or not self._finalizer.alive

    def _handle(self) -> ctypes.c_void_p:
        if self.closed:
            raise ValueError(f"{type(self).__name__} is closed")
        return self._ptr

    def _release(self) -> Optional[Any]:
        """Release now; returns what the C release function returned."""
        if self.closed:
            return None
        return self._finalizer()

    def close(self) -> None:
        self._release()

    def __enter__(self):
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def sliced_wait(wait: Callable[[int], int], timeout: Optional[float],
                after: Callable[[int], None], slice_ms: int = 100) -> bool:
    """Run the C wait ``wait(ms)`` (0: done; E_TIMEOUT: the slice passed; else
    an error) in slices, so that Python runs its signal handlers between them
    (Ctrl-C interrupts a wait without a timeout); ``after(rc)`` follows each
    slice (it raises what a callback raised). True when done, False when
    ``timeout`` seconds passed (None: no timeout)."""
    from . import errors   # errors needs the library loaded; this module does not
    deadline = None if timeout is None else time.monotonic() + max(0.0, timeout)
    while True:
        ms = slice_ms
        if deadline is not None:
            ms = min(ms, max(0, int((deadline - time.monotonic()) * 1000)))
        rc = wait(ms)
        after(rc)
        if rc == 0:
            return True
        if rc != errors.Status.E_TIMEOUT:
            errors.check(rc)
        if deadline is not None and time.monotonic() >= deadline:
            return False


def encode(text: Optional[str]) -> Optional[bytes]:
    return None if text is None else text.encode("utf-8")


def decode(raw: Optional[bytes]) -> Optional[str]:
    return None if raw is None else raw.decode("utf-8", "replace")
