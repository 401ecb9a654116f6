"""Ownership of C handles: freed by close(), by ``with``, or by the garbage collector."""

from __future__ import annotations

import ctypes
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


def encode(text: Optional[str]) -> Optional[bytes]:
    return None if text is None else text.encode("utf-8")


def decode(raw: Optional[bytes]) -> Optional[str]:
    return None if raw is None else raw.decode("utf-8", "replace")
