"""libpktcap for Python: packet captures wherever the packets are.

A thin layer over the C library through ctypes. Set ``PKTCAP_LIBRARY`` to the
path of ``libpktcap.so.1`` to choose which library is loaded.
"""

from __future__ import annotations

from ._native import lib as _lib
from . import errors as _errors
from .errors import *  # noqa: F401,F403  (the exception hierarchy is public API)
from .file import (Direction, Format, Interface, Packet, Reader, Writer, linktype_description,
                   linktype_name, read_all)
from .filter import Field, Filter, Protocol
from .group import Group, GroupEvent, GroupEventType, GroupOp, GroupResult
from .session import (Capability, LogLevel, Provider, Session, SessionInfo, Stat, State, Stats,
                      Target, TargetFlag)
from .storage import Storage
from .summary import Summary, SummaryFlag, SummaryFormat, summarize, summary_header

__all__ = ["version", "version_num", "Direction", "Format", "Interface", "Packet", "Reader",
           "Writer", "Storage", "linktype_name", "linktype_description",
           "read_all", "Summary", "SummaryFlag", "SummaryFormat", "summarize",
           "summary_header", "Filter", "Protocol", "Field", "Provider", "Session", "State",
           "Capability", "LogLevel", "TargetFlag", "Stat", "Stats", "SessionInfo",
           "Target", "Group", "GroupEvent", "GroupEventType", "GroupOp",
           "GroupResult"] + list(_errors.__all__)


def version() -> str:
    """The version of the loaded libpktcap, e.g. ``"1.0.0"``."""
    return _lib.pktcap_version().decode()


def version_num() -> int:
    """The loaded library's version as ``0xMMmmpp``."""
    return _lib.pktcap_version_num()


__version__ = version()
