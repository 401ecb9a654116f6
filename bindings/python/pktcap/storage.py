"""Storage targets: where capture bytes go (storage.h)."""

from __future__ import annotations

import ctypes
from typing import Callable, List, Optional

from . import errors
from ._handle import Handle, decode, encode
from ._native import STORAGE_WRITE_CB, lib


class Storage(Handle):
    """A storage target: a file path or URI, ``"mem:"``, ``"-"``, ``"fd:N"``.

    >>> with Storage("file:///tmp/cap.pcapng?rotate_bytes=10M&rotate_files=5") as st:
    ...     ...
    """

    def __init__(self, uri: str, **options: object) -> None:
        ptr = ctypes.c_void_p()
        errors.check(lib.pktcap_storage_open(ctypes.byref(ptr), encode(uri)))
        self._adopt(ptr, lib.pktcap_storage_free)
        self.uri = uri
        self._callback = None
        self._callback_error: Optional[BaseException] = None
        for key, value in options.items():
            self.set(key, value)

    @classmethod
    def memory(cls) -> "Storage":
        """A growing in-memory buffer; read it with ``getvalue()``."""
        return cls("mem:")

    @classmethod
    def callback(cls, write: Callable[[Optional[bytes]], None]) -> "Storage":
        """A target that calls ``write(chunk)`` with each chunk of bytes, and
        ``write(None)`` once when the stream is complete. An exception raised by
        ``write`` fails the writer with ``PKTCAP_E_IO`` and is re-raised,
        chained, from the writer call that triggered it."""
        self = cls.__new__(cls)
        self.uri = "callback"
        self._callback_error = None

        def trampoline(data: Optional[int], size: int, _userdata: object) -> int:
            try:
                write(ctypes.string_at(data, size) if data else None)
                return 0
            except BaseException as exc:  # noqa: BLE001 - handed back to the caller
                self._callback_error = exc
                return errors.Status.E_IO

        # Kept on the object: the C side holds only a raw pointer to it.
        self._callback = STORAGE_WRITE_CB(trampoline)
        ptr = ctypes.c_void_p()
        errors.check(lib.pktcap_storage_new_callback(ctypes.byref(ptr), self._callback, None))
        self._adopt(ptr, lib.pktcap_storage_free)
        return self

    def set(self, key: str, value: object) -> None:
        """Set an option (``format``, ``rotate_bytes``, ``rotate_seconds``,
        ``rotate_files``, ``overwrite``, ``fsync``); booleans are accepted."""
        if isinstance(value, bool):
            value = "true" if value else "false"
        errors.check(lib.pktcap_storage_set(self._handle(), encode(key), encode(str(value))))

    def getvalue(self) -> bytes:
        """The bytes a ``mem:`` target holds."""
        data = ctypes.c_void_p()
        size = ctypes.c_size_t()
        errors.check(lib.pktcap_storage_memory(ctypes.byref(data), ctypes.byref(size),
                                               self._handle()))
        return ctypes.string_at(data, size.value) if size.value else b""

    @property
    def files(self) -> List[str]:
        """Final paths of the files completed so far, in order."""
        h = self._handle()
        return [decode(lib.pktcap_storage_file_path(h, i)) or ""
                for i in range(lib.pktcap_storage_file_count(h))]

    def _raise_callback_error(self, exc: errors.PktcapError) -> None:
        if self._callback_error is not None:
            error, self._callback_error = self._callback_error, None
            raise exc from error
        raise exc
