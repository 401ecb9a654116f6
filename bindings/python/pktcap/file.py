"""Capture files: the pcap/pcapng reader and writer (file.h)."""

from __future__ import annotations

import ctypes
import enum
import os
from dataclasses import dataclass
from typing import Iterator, List, Optional, Tuple, Union

from . import errors
from ._handle import Handle, decode, encode
from ._native import PacketStruct, lib
from .storage import Storage


class Format(enum.IntEnum):
    """``pktcap_format_t``."""

    AUTO = 0
    PCAP = 1
    PCAP_NSEC = 2
    PCAPNG = 3
    PCAP_MODIFIED = 4


class Direction(enum.IntEnum):
    """``pktcap_direction_t``: the direction bits of ``Packet.flags``."""

    UNKNOWN = 0
    INBOUND = 1
    OUTBOUND = 2


def linktype_name(linktype: int) -> Optional[str]:
    """libpcap's short name of a LINKTYPE_* value (``1`` → ``"EN10MB"``)."""
    return decode(lib.pktcap_linktype_name(linktype))


def linktype_description(linktype: int) -> Optional[str]:
    """A description of a LINKTYPE_* value (``1`` → ``"Ethernet"``)."""
    return decode(lib.pktcap_linktype_description(linktype))


@dataclass
class Packet:
    """One packet. ``data`` holds the captured bytes (``caplen == len(data)``)."""

    data: bytes
    ts_sec: int = 0
    ts_nsec: int = 0
    length: Optional[int] = None   # on the wire; None means len(data)
    interface: int = 0
    linktype: int = 1
    flags: int = 0
    comment: Optional[str] = None

    @property
    def caplen(self) -> int:
        return len(self.data)

    @property
    def wire_length(self) -> int:
        return len(self.data) if self.length is None else self.length

    @property
    def timestamp(self) -> float:
        """Seconds since the epoch as a float (loses precision below ~100 ns)."""
        return self.ts_sec + self.ts_nsec / 1e9

    @property
    def direction(self) -> Direction:
        return Direction(self.flags & 3) if self.flags & 3 != 3 else Direction.UNKNOWN

    @classmethod
    def _from_c(cls, p: PacketStruct) -> "Packet":
        comment = None
        if p.comment:
            comment = ctypes.string_at(p.comment, p.comment_len).decode("utf-8", "replace")
        return cls(data=ctypes.string_at(p.data, p.caplen) if p.caplen else b"",
                   ts_sec=p.ts_sec, ts_nsec=p.ts_nsec, length=p.len, interface=p.interface,
                   linktype=p.linktype, flags=p.flags, comment=comment)


@dataclass(frozen=True)
class Interface:
    """An interface of a capture file (a pcapng IDB, or a pcap file's one link type)."""

    index: int
    linktype: int
    snaplen: int
    tsresol: int
    name: Optional[str]
    description: Optional[str]
    os: Optional[str]
    hardware: Optional[str]
    filter: Optional[str]

    @property
    def linktype_name(self) -> Optional[str]:
        return linktype_name(self.linktype)


def _resolution_digits(units_per_second: int) -> int:
    """Fraction digits for a resolution: n for 10**n (10**6 -> 6), else 9 (every
    nanosecond), as ``pktcap info`` and ``pktcap summary`` print times."""
    digits, scale = 0, 1
    while digits < 9 and scale < units_per_second:
        scale *= 10
        digits += 1
    return digits if scale == units_per_second else 9


class Reader(Handle):
    """Read a pcap or pcapng capture; iterate over it for ``Packet`` objects.

    ``source`` is a path (``"-"`` for standard input), ``bytes``-like data, or
    an open file descriptor (``int``; it is not closed by the reader).
    """

    def __init__(self, source: Union[str, os.PathLike, bytes, bytearray, memoryview, int]) -> None:
        ptr = ctypes.c_void_p()
        self._buffer = None
        if isinstance(source, int):
            rc = lib.pktcap_reader_open_fd(ctypes.byref(ptr), source)
        elif isinstance(source, (bytes, bytearray, memoryview)):
            # The C reader does not copy: keep the bytes alive as long as it lives.
            self._buffer = ctypes.create_string_buffer(bytes(source), len(source))
            rc = lib.pktcap_reader_open_memory(ctypes.byref(ptr), self._buffer, len(source))
        else:
            rc = lib.pktcap_reader_open(ctypes.byref(ptr), encode(os.fspath(source)))
        errors.check(rc)
        self._adopt(ptr, lib.pktcap_reader_close)
        self._packet = ctypes.POINTER(PacketStruct)()

    def next(self) -> Optional[Packet]:
        """The next packet, or None at the end of the capture."""
        rc = lib.pktcap_reader_next(ctypes.byref(self._packet), self._handle())
        if rc == errors.Status.E_END:
            return None
        errors.check(rc)
        return Packet._from_c(self._packet.contents)

    def __iter__(self) -> Iterator[Packet]:
        while True:
            packet = self.next()
            if packet is None:
                return
            yield packet

    def summaries(self, filter: Optional["Filter"] = None) -> Iterator["Summary"]:
        """Decode the remaining packets into ``Summary`` objects, numbered from 1,
        their times printed at their interface's resolution (like ``pktcap summary``).
        With a ``Filter``, only the packets it matches are decoded; they keep
        their number in the file (like ``pktcap summary --filter``)."""
        from .summary import _summarize_struct  # noqa: PLC0415 - summary imports this module

        digits = {}
        number = 0
        while True:
            rc = lib.pktcap_reader_next(ctypes.byref(self._packet), self._handle())
            if rc == errors.Status.E_END:
                return
            errors.check(rc)
            number += 1
            if filter is not None and not filter.match(self._packet):
                continue
            summary = _summarize_struct(self._packet)
            summary.number = number
            iface = self._packet.contents.interface
            if iface not in digits:
                digits[iface] = _resolution_digits(
                    lib.pktcap_reader_interface_tsresol(self._handle(), iface))
            summary.time_digits = digits[iface]
            yield summary

    @property
    def format(self) -> Format:
        return Format(lib.pktcap_reader_format(self._handle()))

    @property
    def interfaces(self) -> List[Interface]:
        """The interfaces seen so far (pcapng may declare more as reading goes on)."""
        h = self._handle()

        def opt(i: int, key: str) -> Optional[str]:
            return decode(lib.pktcap_reader_interface_option(h, i, key.encode()))

        return [Interface(index=i,
                          linktype=lib.pktcap_reader_interface_linktype(h, i),
                          snaplen=lib.pktcap_reader_interface_snaplen(h, i),
                          tsresol=lib.pktcap_reader_interface_tsresol(h, i),
                          name=opt(i, "if_name"), description=opt(i, "if_description"),
                          os=opt(i, "if_os"), hardware=opt(i, "if_hardware"),
                          filter=opt(i, "if_filter"))
                for i in range(lib.pktcap_reader_interface_count(h))]

    def section_option(self, key: str) -> Optional[str]:
        """``shb_userappl``, ``shb_os``, ``shb_hardware`` or ``shb_comment`` of the current section."""
        return decode(lib.pktcap_reader_section_option(self._handle(), encode(key)))

    @property
    def offset(self) -> int:
        """Bytes of input consumed so far."""
        return lib.pktcap_reader_offset(self._handle())


class Writer(Handle):
    """Write a pcap or pcapng capture into a storage target.

    ``target`` is a ``Storage`` or a path/URI (a Storage is then opened and
    owned by the writer). As a context manager the file is completed on a
    normal exit and abandoned (nothing left under its name) on an exception.
    """

    def __init__(self, target: Union[Storage, str, os.PathLike], format: Format = Format.AUTO,
                 **section_options: str) -> None:
        self._owned_storage = None
        if not isinstance(target, Storage):
            target = self._owned_storage = Storage(os.fspath(target))
        self.storage = target
        ptr = ctypes.c_void_p()
        try:
            errors.check(lib.pktcap_writer_open(ctypes.byref(ptr), target._handle(), int(format)))
        except BaseException:
            if self._owned_storage:
                self._owned_storage.close()
            raise
        self._adopt(ptr, lib.pktcap_writer_abort)
        self._struct = PacketStruct()
        self._struct.struct_size = ctypes.sizeof(PacketStruct)
        for key, value in section_options.items():
            self.set_option(key, value)

    def _check(self, rc: int) -> int:
        if rc < 0:
            self.storage._raise_callback_error(errors.last_error(rc))
        return rc

    def set_option(self, key: str, value: Optional[str]) -> None:
        """A section option: ``shb_userappl``, ``shb_os``, ``shb_hardware``, ``shb_comment``."""
        self._check(lib.pktcap_writer_set_option(self._handle(), encode(key), encode(value)))

    def add_interface(self, linktype: int = 1, snaplen: int = 0, name: Optional[str] = None,
                      description: Optional[str] = None) -> int:
        """Declare an interface; returns its index."""
        index = ctypes.c_uint32()
        self._check(lib.pktcap_writer_add_interface(ctypes.byref(index), self._handle(), linktype,
                                                    snaplen, encode(name), encode(description)))
        return index.value

    def set_interface_stats(self, interface: int, received: int, dropped: int) -> None:
        """Counters written at close as an Interface Statistics Block (pcapng)."""
        self._check(lib.pktcap_writer_set_interface_stats(self._handle(), interface, received,
                                                          dropped))

    def write(self, packet: Union[Packet, bytes], **fields: object) -> None:
        """Append a packet: a ``Packet``, or bytes plus ``Packet`` fields as keywords
        (``ts_sec``, ``ts_nsec``, ``length``, ``interface``, ``flags``, ``comment``)."""
        if not isinstance(packet, Packet):
            packet = Packet(bytes(packet), **fields)  # type: ignore[arg-type]
        s = self._struct
        data = packet.data
        comment = encode(packet.comment)
        s.interface = packet.interface
        s.ts_sec = packet.ts_sec
        s.ts_nsec = packet.ts_nsec
        s.caplen = len(data)
        s.len = packet.wire_length
        s.flags = packet.flags
        s.data = ctypes.cast(ctypes.c_char_p(data), ctypes.POINTER(ctypes.c_uint8))
        s.comment = ctypes.cast(ctypes.c_char_p(comment), ctypes.c_void_p) if comment else None
        s.comment_len = len(comment) if comment else 0
        self._check(lib.pktcap_writer_write(self._handle(), ctypes.byref(s)))

    def flush(self) -> None:
        """Write out what is buffered: the bytes on disk form a valid capture."""
        self._check(lib.pktcap_writer_flush(self._handle()))

    def close(self) -> None:
        """Complete the file (final name, statistics) and release the writer."""
        if self.closed:
            return
        ptr = self._ptr
        self._finalizer.detach()
        try:
            self._check(lib.pktcap_writer_close(ptr))
        finally:
            if self._owned_storage:
                self._owned_storage.close()

    def abort(self) -> None:
        """Abandon the file: nothing is left under its final name."""
        self._release()
        if self._owned_storage:
            self._owned_storage.close()

    def __exit__(self, exc_type: object, *rest: object) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


def read_all(source: Union[str, bytes, int]) -> Tuple[Format, List[Packet]]:
    """Convenience: the format and every packet of a capture."""
    with Reader(source) as r:
        packets = list(r)
        return r.format, packets
