"""Capture filters: written once, matched locally and rendered for libpcap,
Azure Network Watcher, Cloudflare Magic Transit and Citrix SD-WAN (filter.h).

>>> f = Filter.parse("proto=tcp remote_port=80;443 or proto=udp remote=10.0.0.0/8")
>>> g = Filter()
>>> g.add_rule(Protocol.TCP, remote_port=[80, 443])
0
>>> g.add_rule(Protocol.UDP, remote="10.0.0.0/8")
1
>>> g == f
True
>>> print(f.to_bpf())      # doctest: +SKIP
"""

from __future__ import annotations

import ctypes
import enum
import ipaddress
import json
from typing import Any, Iterable, List, Optional, Union

from . import errors
from ._handle import Handle, decode, encode
from ._native import PacketStruct, lib

__all__ = ["Filter", "Protocol", "Field", "MAX_RULES", "MAX_ITEMS", "MAX_BPF"]

MAX_RULES = 100      # PKTCAP_FILTER_MAX_RULES
MAX_ITEMS = 256      # PKTCAP_FILTER_MAX_ITEMS
MAX_BPF = 65536      # PKTCAP_FILTER_MAX_BPF


class Protocol(enum.IntEnum):
    """``pktcap_filter_protocol_t``: the protocol of a rule (IP protocol numbers)."""

    ANY = 0
    TCP = 6
    UDP = 17


class Field(enum.IntEnum):
    """``pktcap_filter_field_t``: the four fields of a rule."""

    LOCAL_ADDRESS = 0
    REMOTE_ADDRESS = 1
    LOCAL_PORT = 2
    REMOTE_PORT = 3

    @property
    def is_address(self) -> bool:
        return self in (Field.LOCAL_ADDRESS, Field.REMOTE_ADDRESS)


# The names the one-line syntax uses (and the C library in its messages).
_FIELD_NAMES = {Field.LOCAL_ADDRESS: "local", Field.REMOTE_ADDRESS: "remote",
                Field.LOCAL_PORT: "local_port", Field.REMOTE_PORT: "remote_port"}

# A field's value: notation text ("10.0.0.0/8", "80;443;"), a port (80), an
# address object, a (first, last) range, or a list of these.
Value = Union[str, int, ipaddress.IPv4Address, ipaddress.IPv6Address, ipaddress.IPv4Network,
              ipaddress.IPv6Network, tuple, list]


def _take_string(func: Any, *args: Any) -> str:
    """Call ``func(&out, *args)``; return ``*out`` as text and release it with pktcap_free."""
    out = ctypes.c_void_p()
    errors.check(func(ctypes.byref(out), *args))
    try:
        return ctypes.string_at(out.value).decode("utf-8", "replace") if out.value else ""
    finally:
        lib.pktcap_free(out)


def _invalid(message: str) -> errors.PktcapError:
    return errors.InvalidArgumentError(errors.Status.E_INVAL, message)


def _packet_struct(packet: Any) -> Any:
    """A ``pktcap_packet`` for a ``Packet`` (or anything with ``data`` and
    ``linktype``), or a ctypes PacketStruct / pointer to one passed through.
    Returns what to hand to C and the buffer to keep alive during the call."""
    if isinstance(packet, PacketStruct):
        return ctypes.byref(packet), None
    if isinstance(packet, ctypes.POINTER(PacketStruct)):
        return packet, None
    p = PacketStruct()
    p.struct_size = ctypes.sizeof(PacketStruct)
    data = bytes(packet.data)
    p.caplen = len(data)
    length = getattr(packet, "wire_length", None)
    p.len = len(data) if length is None else length
    p.linktype = getattr(packet, "linktype", 1)
    p.interface = getattr(packet, "interface", 0)
    p.ts_sec = getattr(packet, "ts_sec", 0)
    p.ts_nsec = getattr(packet, "ts_nsec", 0)
    buf = ctypes.create_string_buffer(data, len(data))
    p.data = ctypes.cast(buf, ctypes.POINTER(ctypes.c_uint8))
    return ctypes.byref(p), (p, buf)


class Filter(Handle):
    """A capture filter: a list of rules (a packet matches when it matches any
    rule; no rules match every packet), or a raw BPF expression.

    ``Filter()`` is the empty filter; ``Filter.parse(text)`` reads the one-line
    syntax (``doc/filters.md``); ``Filter.bpf(expr)`` holds a libpcap
    expression. ``str(f)`` gives the one-line syntax back, and
    ``Filter.parse(str(f)) == f``.
    """

    def __init__(self) -> None:
        ptr = ctypes.c_void_p()
        errors.check(lib.pktcap_filter_new(ctypes.byref(ptr)))
        self._adopt(ptr, lib.pktcap_filter_free)

    @classmethod
    def _wrap(cls, ptr: ctypes.c_void_p) -> "Filter":
        self = cls.__new__(cls)
        self._adopt(ptr, lib.pktcap_filter_free)
        return self

    @classmethod
    def parse(cls, text: str) -> "Filter":
        """Parse the one-line syntax: rules separated by ``or``, each blank-separated
        ``key=value`` terms (``proto``, ``local``, ``remote``, ``local_port``,
        ``remote_port``); ``bpf:EXPR`` gives a raw-BPF filter; ``""`` the empty one.
        Raises ``InvalidArgumentError`` naming the rule, field and offending text."""
        ptr = ctypes.c_void_p()
        errors.check(lib.pktcap_filter_parse(ctypes.byref(ptr), encode(text)))
        return cls._wrap(ptr)

    @classmethod
    def bpf(cls, expression: str) -> "Filter":
        """A filter holding a raw libpcap expression (checked with ``pcap_compile``
        for Ethernet). It matches locally and renders for libpcap and SD-WAN only."""
        ptr = ctypes.c_void_p()
        errors.check(lib.pktcap_filter_new_bpf(ctypes.byref(ptr), encode(expression)))
        return cls._wrap(ptr)

    def copy(self) -> "Filter":
        """An independent copy (``pktcap_filter_dup``)."""
        ptr = ctypes.c_void_p()
        errors.check(lib.pktcap_filter_dup(ctypes.byref(ptr), self._handle()))
        return Filter._wrap(ptr)

    __copy__ = copy

    def __deepcopy__(self, memo: dict) -> "Filter":
        return self.copy()

    def _replace_with(self, other: "Filter") -> None:
        """Take over other's C filter (the old one is freed); other is left closed."""
        ptr = other._ptr
        other._finalizer.detach()
        self._release()
        self._adopt(ptr, lib.pktcap_filter_free)

    # -- rules ---------------------------------------------------------------

    @property
    def rule_count(self) -> int:
        """Number of rules (0 for the empty filter and for raw-BPF filters)."""
        return lib.pktcap_filter_rule_count(self._handle())

    def __len__(self) -> int:
        return self.rule_count

    @property
    def bpf_expression(self) -> Optional[str]:
        """The raw expression of a filter made by ``Filter.bpf``, else None."""
        return decode(lib.pktcap_filter_bpf_expression(self._handle()))

    @property
    def is_bpf(self) -> bool:
        return self.bpf_expression is not None

    def _rule(self, rule: int) -> int:
        rule = int(rule)
        if rule < 0:
            count = self.rule_count
            if rule + count < 0:
                raise _invalid(f"no rule {rule} (the filter has {count})")
            rule += count
        return rule

    def add_rule(self, protocol: Union[Protocol, int, str] = Protocol.ANY,
                 local: Optional[Value] = None, remote: Optional[Value] = None,
                 local_port: Optional[Value] = None,
                 remote_port: Optional[Value] = None) -> int:
        """Append a rule and return its index. Each field takes notation text
        (``"10.0.0.1-10.0.0.9"``, ``"80;443"``), a port number, an ``ipaddress``
        address or network, a ``(first, last)`` range, or a list of these;
        None leaves it unset (any value). Nothing changes if any value is refused."""
        protocol = _protocol(protocol)
        values = {Field.LOCAL_ADDRESS: local, Field.REMOTE_ADDRESS: remote,
                  Field.LOCAL_PORT: local_port, Field.REMOTE_PORT: remote_port}
        work = self.copy()   # built aside, so a refused value leaves self untouched
        try:
            errors.check(lib.pktcap_filter_add_rule(work._handle(), int(protocol)))
            index = work.rule_count - 1
            for field, value in values.items():
                if value is not None:
                    _set_field(work, index, field, value)
        except BaseException:
            work.close()
            raise
        self._replace_with(work)
        return index

    def protocol(self, rule: int) -> Protocol:
        """The protocol of a rule."""
        return Protocol(errors.check(lib.pktcap_filter_rule_protocol(self._handle(),
                                                                     self._rule(rule))))

    def set_protocol(self, rule: int, protocol: Union[Protocol, int, str]) -> None:
        errors.check(lib.pktcap_filter_set_protocol(self._handle(), self._rule(rule),
                                                    int(_protocol(protocol))))

    def set_field(self, rule: int, field: Union[Field, int], value: Optional[Value]) -> None:
        """Replace a field's value (the types ``add_rule`` takes); None or ""
        clears it. Nothing changes if the value is refused."""
        rule = self._rule(rule)
        field = Field(field)
        if value is None or isinstance(value, str):
            errors.check(lib.pktcap_filter_set_field(self._handle(), rule, int(field),
                                                     encode(value)))
            return
        work = self.copy()
        try:
            _set_field(work, rule, field, value)
        except BaseException:
            work.close()
            raise
        self._replace_with(work)

    def field(self, rule: int, field: Union[Field, int]) -> str:
        """A field in its notation (``"10.0.0.0/8"``, ``"80;443"``), "" when unset."""
        return _take_string(lib.pktcap_filter_field, self._handle(), self._rule(rule),
                            int(Field(field)))

    # -- matching and renderings -------------------------------------------

    def match(self, packet: Any) -> bool:
        """Does a packet match? Takes a ``Packet`` (from a ``Reader`` or built by
        hand). Raises ``NotSupportedError`` for a rule filter on a link type the
        evaluator does not know."""
        ref, _keep = _packet_struct(packet)
        return errors.check(lib.pktcap_filter_match(self._handle(), ref)) == 1

    def __call__(self, packet: Any) -> bool:
        return self.match(packet)

    def filter(self, packets: Iterable[Any]) -> Iterable[Any]:
        """The packets that match, lazily."""
        return (p for p in packets if self.match(p))

    def to_string(self) -> str:
        """The one-line syntax ("" for the empty filter)."""
        return _take_string(lib.pktcap_filter_to_string, self._handle())

    def to_bpf(self, linktype: int = 1) -> str:
        """The libpcap (tcpdump) expression for a link type (1 = Ethernet);
        "" when the filter matches everything."""
        return _take_string(lib.pktcap_filter_to_bpf, self._handle(), int(linktype))

    def to_azure(self) -> List[dict]:
        """Azure Network Watcher's ``filters`` array."""
        return json.loads(self.to_azure_json())

    def to_azure_json(self) -> str:
        """Azure's ``filters`` array as the library writes it (compact JSON text)."""
        return _take_string(lib.pktcap_filter_to_azure, self._handle())

    def to_cloudflare(self) -> dict:
        """Cloudflare Magic Transit's ``filter_v1`` object; ``NotSupportedError``
        for what it cannot express (several rules, ranges, lists, raw BPF)."""
        return json.loads(self.to_cloudflare_json())

    def to_cloudflare_json(self) -> str:
        return _take_string(lib.pktcap_filter_to_cloudflare, self._handle())

    def to_sdwan(self) -> str:
        """The Citrix SD-WAN ``filter_str``."""
        return _take_string(lib.pktcap_filter_to_sdwan, self._handle())

    def __str__(self) -> str:
        return self.to_string()

    def __repr__(self) -> str:
        if self.closed:
            return "<Filter closed>"
        return f"Filter.parse({self.to_string()!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Filter):
            return NotImplemented
        return lib.pktcap_filter_equal(self._handle(), other._handle()) == 1

    __hash__ = None  # type: ignore[assignment]  (mutable)


def _protocol(protocol: Union[Protocol, int, str]) -> Protocol:
    if isinstance(protocol, str):
        try:
            return Protocol[protocol.upper()]
        except KeyError:
            raise _invalid(f"unknown protocol {protocol!r} (expected tcp, udp or any)") \
                from None
    try:
        return Protocol(protocol)
    except ValueError:
        raise _invalid(f"unknown protocol {protocol!r} (expected Protocol.ANY (0), "
                       f"Protocol.TCP (6) or Protocol.UDP (17))") from None


def _port(value: Any, field: Field) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{_FIELD_NAMES[field]}: a port is an int, not {type(value).__name__}")
    if not 0 <= value <= 65535:
        raise _invalid(f"{_FIELD_NAMES[field]}: port {value} is outside 0-65535")
    return value


def _address_text(value: Any, field: Field) -> str:
    if isinstance(value, (str, ipaddress.IPv4Address, ipaddress.IPv6Address,
                          ipaddress.IPv4Network, ipaddress.IPv6Network)):
        return str(value)
    raise TypeError(f"{_FIELD_NAMES[field]}: an address is a str or an ipaddress object, "
                    f"not {type(value).__name__}")


def _add_item(f: Filter, rule: int, field: Field, item: Any) -> None:
    h = f._handle()
    if field.is_address:
        if isinstance(item, tuple):
            if len(item) != 2:
                raise _invalid(f"{_FIELD_NAMES[field]}: a range is (first, last), "
                               f"not {item!r}")
            first, last = (_address_text(x, field) for x in item)
            errors.check(lib.pktcap_filter_add_address(h, rule, int(field), encode(first),
                                                       encode(last)))
        else:
            errors.check(lib.pktcap_filter_add_address(h, rule, int(field),
                                                       encode(_address_text(item, field)),
                                                       None))
        return
    if isinstance(item, tuple):
        if len(item) != 2:
            raise _invalid(f"{_FIELD_NAMES[field]}: a range is (first, last), not {item!r}")
        first, last = (_port(x, field) for x in item)
    else:
        first = last = _port(item, field)
    errors.check(lib.pktcap_filter_add_port(h, rule, int(field), first, last))


def _set_field(f: Filter, rule: int, field: Field, value: Any) -> None:
    """Replace the field with value (on a filter the caller may throw away)."""
    h = f._handle()
    if isinstance(value, str):
        errors.check(lib.pktcap_filter_set_field(h, rule, int(field), encode(value)))
        return
    errors.check(lib.pktcap_filter_set_field(h, rule, int(field), None))
    items = value if isinstance(value, (list, set, frozenset)) else [value]
    for item in (sorted(items) if isinstance(items, (set, frozenset)) else items):
        if isinstance(item, str) and not field.is_address:
            item = _port_from_text(item, field)
        _add_item(f, rule, field, item)


def _port_from_text(text: str, field: Field) -> Any:
    """A list item given as text in a port field: "80" or "80-90"."""
    first, sep, last = text.partition("-")
    try:
        return (int(first), int(last)) if sep else int(first)
    except ValueError:
        raise _invalid(f"{_FIELD_NAMES[field]}: not a port number (0-65535): "
                       f"{text!r}") from None

