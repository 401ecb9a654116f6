"""Packet summaries: the decoded one-line view of a packet (summary.h)."""

from __future__ import annotations

import ctypes
import enum
import ipaddress
from typing import List, Optional, Union

from . import errors
from ._native import PacketStruct, SummaryStruct, lib


class SummaryFormat(enum.IntEnum):
    """``pktcap_summary_format_t``."""

    TEXT = 0
    JSON = 1
    CSV = 2


class SummaryFlag(enum.IntFlag):
    """``pktcap_summary_flag_t``."""

    TRUNCATED = 1 << 0
    MALFORMED = 1 << 1
    FRAGMENT = 1 << 2
    UNKNOWN_LINKTYPE = 1 << 3
    HAS_MAC = 1 << 4
    HAS_IP = 1 << 5
    HAS_PORTS = 1 << 6
    HAS_ICMP = 1 << 7
    ARP = 1 << 8
    NO_TCP_FLAGS = 1 << 9


def _mac(raw: ctypes.Array) -> str:
    return ":".join(f"{b:02x}" for b in bytes(raw))


class Summary:
    """A decoded packet: addresses, ports, protocol, lengths and flags.

    Made by ``summarize(packet)`` or by iterating ``Reader.summaries()``.
    Fields the packet did not have are ``None``.
    """

    def __init__(self, struct: SummaryStruct) -> None:
        self._s = struct

    # Numbers and times.
    @property
    def number(self) -> int:
        return self._s.number

    @number.setter
    def number(self, value: int) -> None:
        self._s.number = value

    @property
    def ts_sec(self) -> int:
        return self._s.ts_sec

    @property
    def ts_nsec(self) -> int:
        return self._s.ts_nsec

    @property
    def time_digits(self) -> int:
        return self._s.time_digits

    @time_digits.setter
    def time_digits(self, value: int) -> None:
        self._s.time_digits = value

    @property
    def linktype(self) -> int:
        return self._s.linktype

    @property
    def wire_len(self) -> int:
        return self._s.wire_len

    @property
    def cap_len(self) -> int:
        return self._s.cap_len

    @property
    def flags(self) -> SummaryFlag:
        return SummaryFlag(self._s.flags)

    # Link layer.
    @property
    def src_mac(self) -> Optional[str]:
        return _mac(self._s.src_mac) if self._s.flags & SummaryFlag.HAS_MAC else None

    @property
    def dst_mac(self) -> Optional[str]:
        return _mac(self._s.dst_mac) if self._s.flags & SummaryFlag.HAS_MAC else None

    @property
    def ethertype(self) -> int:
        return self._s.ethertype

    @property
    def vlans(self) -> List[int]:
        return list(self._s.vlan[: self._s.vlan_count])

    @property
    def mpls_count(self) -> int:
        return self._s.mpls_count

    # Network layer.
    @property
    def ip_version(self) -> int:
        return self._s.ip_version

    def _ip(self, raw: ctypes.Array) -> Optional[Union[ipaddress.IPv4Address,
                                                        ipaddress.IPv6Address]]:
        if not self._s.flags & SummaryFlag.HAS_IP:
            return None
        data = bytes(raw)
        return ipaddress.ip_address(data[:4] if self._s.ip_version == 4 else data)

    @property
    def src_ip(self):
        return self._ip(self._s.src_ip)

    @property
    def dst_ip(self):
        return self._ip(self._s.dst_ip)

    @property
    def ip_proto(self) -> int:
        return self._s.ip_proto

    # Transport layer.
    @property
    def src_port(self) -> Optional[int]:
        return self._s.src_port if self._s.flags & SummaryFlag.HAS_PORTS else None

    @property
    def dst_port(self) -> Optional[int]:
        return self._s.dst_port if self._s.flags & SummaryFlag.HAS_PORTS else None

    @property
    def icmp_type(self) -> Optional[int]:
        return self._s.icmp_type if self._s.flags & SummaryFlag.HAS_ICMP else None

    @property
    def icmp_code(self) -> Optional[int]:
        return self._s.icmp_code if self._s.flags & SummaryFlag.HAS_ICMP else None

    @property
    def tcp_flags(self) -> Optional[int]:
        """The TCP flags byte; None when not TCP or when the source did not say
        (a provider's summary with ``SummaryFlag.NO_TCP_FLAGS``)."""
        if self._s.flags & SummaryFlag.NO_TCP_FLAGS or self.protocol != "TCP" \
                or not self._s.flags & SummaryFlag.HAS_PORTS:
            return None
        return self._s.tcp_flags

    @property
    def protocol(self) -> str:
        return self._s.protocol.decode("ascii", "replace")

    def format(self, fmt: SummaryFormat = SummaryFormat.TEXT) -> str:
        """The summary as a text line, a JSON object or a CSV row (no newline)."""
        length = ctypes.c_size_t()
        buf = ctypes.create_string_buffer(512)
        rc = lib.pktcap_summary_format(ctypes.byref(length), buf, len(buf), int(fmt),
                                       ctypes.byref(self._s))
        if rc == errors.Status.E_LIMIT:
            buf = ctypes.create_string_buffer(length.value + 1)
            rc = lib.pktcap_summary_format(ctypes.byref(length), buf, len(buf), int(fmt),
                                           ctypes.byref(self._s))
        errors.check(rc)
        return buf.value.decode("utf-8", "replace")

    def __str__(self) -> str:
        return self.format(SummaryFormat.TEXT)

    def __repr__(self) -> str:
        return f"<Summary {self.format(SummaryFormat.TEXT)}>"


def summary_header(fmt: SummaryFormat) -> str:
    """The CSV header line ("" for text and JSON)."""
    raw = lib.pktcap_summary_header(int(fmt))
    if raw is None:
        raise errors.InvalidArgumentError(errors.Status.E_INVAL, f"unknown format {fmt!r}")
    return raw.decode()


def _summarize_struct(packet: "ctypes._Pointer | PacketStruct") -> Summary:
    s = SummaryStruct()
    s.struct_size = ctypes.sizeof(SummaryStruct)
    errors.check(lib.pktcap_summarize(ctypes.byref(s), packet))
    return Summary(s)


def summarize(packet) -> Summary:
    """Decode a ``Packet`` (from a Reader, or built by hand) into a ``Summary``."""
    p = PacketStruct()
    p.struct_size = ctypes.sizeof(PacketStruct)
    data = bytes(packet.data)
    p.ts_sec, p.ts_nsec = packet.ts_sec, packet.ts_nsec
    p.caplen, p.len = len(data), packet.wire_length
    p.linktype, p.interface, p.flags = packet.linktype, packet.interface, packet.flags
    buf = ctypes.create_string_buffer(data, len(data))
    p.data = ctypes.cast(buf, ctypes.POINTER(ctypes.c_uint8))
    return _summarize_struct(ctypes.byref(p))
