"""Providers and capture sessions: one lifecycle for every place that can
capture — this host (``local:``, libpcap) or, later, a provider's REST API
(session.h).

>>> with Provider.open("local:") as p, p.session("web") as s:   # doctest: +SKIP
...     s.target = "lo"
...     s.filter = "proto=udp remote_port=53"
...     s.packet_limit = 10
...     s.storage = "web.pcapng"
...     s.on_packet(lambda packet, summary: print(summary.format()))
...     s.start()
...     s.wait()
...     print(s.state.name, s.stop_reason, s.stats.packets)

Callbacks run on the library's capture thread (local provider) or inside
the call that noticed the change. An exception a callback raises never
reaches C: the first one is kept, the session's ``wait()`` is woken, and
``wait()`` raises it (the capture itself goes on until it ends or is
stopped).
"""

from __future__ import annotations

import ctypes
import enum
import os
import json
import threading
import weakref
from dataclasses import dataclass
from typing import Any, Callable, List, NamedTuple, Optional, Union

from . import errors
from ._handle import Handle, decode, encode, sliced_wait
from ._native import LOG_CB, PACKET_CB, PROGRESS_CB, STATE_CB, SummaryStruct, lib
from .file import Packet
from .filter import Filter, _take_string
from .storage import Storage
from .summary import Summary

__all__ = ["Provider", "Session", "State", "Capability", "TargetFlag", "Stat", "Stats",
           "SessionInfo", "Target"]

# How long one C wait lasts inside Session.wait(): between slices Python
# runs its signal handlers, so Ctrl-C interrupts a wait without a timeout.
_WAIT_SLICE_MS = 100


class State(enum.IntEnum):
    """``pktcap_state_t``: the portable state of a session."""

    NEW = 0
    PENDING = 1
    RUNNING = 2
    STOPPING = 3
    PROCESSING = 4
    COMPLETE = 5
    STOPPED = 6
    FAILED = 7

    @property
    def terminal(self) -> bool:
        """COMPLETE, STOPPED and FAILED never change again."""
        return self in (State.COMPLETE, State.STOPPED, State.FAILED)


class Capability(enum.IntFlag):
    """``pktcap_cap_t``: what a provider can do (``Provider.caps``)."""

    RULE_FILTER = 1 << 0
    BPF_FILTER = 1 << 1
    SNAPLEN = 1 << 2
    BYTE_LIMIT = 1 << 3
    PACKET_LIMIT = 1 << 4
    TIME_LIMIT = 1 << 5
    STOP = 1 << 6
    DELETE = 1 << 7
    LIST = 1 << 8
    OPEN = 1 << 9
    FETCH = 1 << 10
    PACKET_CALLBACK = 1 << 11
    MULTI_TARGET = 1 << 12
    SUMMARIES = 1 << 13


class TargetFlag(enum.IntFlag):
    """``pktcap_target_flag_t``."""

    UP = 1 << 0
    RUNNING = 1 << 1
    LOOPBACK = 1 << 2


class LogLevel(enum.IntEnum):
    """Levels of a provider's log (``Provider.on_log``)."""
    ERROR = 0
    WARN = 1
    INFO = 2
    DEBUG = 3


class Stat(enum.IntEnum):
    """``pktcap_stat_t``."""

    PACKETS = 0
    BYTES = 1
    WIRE_BYTES = 2
    DROPPED = 3
    IF_DROPPED = 4
    ELAPSED_MS = 5


class SessionInfo(NamedTuple):
    """One entry of ``Provider.sessions()``."""

    name: str
    id: str
    state: State
    native_status: str


class Target(NamedTuple):
    """One entry of ``Provider.targets()``: what ``Session.target`` accepts."""

    name: str
    description: str
    flags: TargetFlag


@dataclass(frozen=True)
class Stats:
    """A session's statistics at one moment (``Session.stats``).

    A field is ``None`` when the provider does not report that statistic
    (``pktcap_session_stat_known()``): Azure Network Watcher counts no packets,
    Cloudflare only packets; the local provider counts everything.
    """

    packets: Optional[int]
    bytes: Optional[int]
    wire_bytes: Optional[int]
    dropped: Optional[int]
    if_dropped: Optional[int]
    elapsed_ms: Optional[int]

    @property
    def elapsed(self) -> Optional[float]:
        """Seconds since the capture started (to its end once it ended), or None."""
        return None if self.elapsed_ms is None else self.elapsed_ms / 1000.0


def _option(value: object) -> Optional[bytes]:
    """A provider or session option's value as C takes it: booleans as
    "true"/"false", anything else as its str()."""
    if isinstance(value, bool):
        value = "true" if value else "false"
    return encode(str(value))


def _state(value: int) -> State:
    try:
        return State(value)
    except ValueError:
        raise errors.PktcapError(value, f"unknown session state {value}") from None


class Provider(Handle):
    """A connection to one place that captures, named by a URI (``local:``).

    ``Provider.open(uri)`` (or ``Provider(uri)``) opens it; ``close()`` or the
    end of a ``with`` block closes it, closing its sessions first.
    """

    def __init__(self, uri: str = "local:", **options: object) -> None:
        ptr = ctypes.c_void_p()
        errors.check(lib.pktcap_provider_open(ctypes.byref(ptr), encode(uri)))
        self._adopt(ptr, lib.pktcap_provider_close)
        self.uri = uri
        self._sessions: "weakref.WeakSet[Session]" = weakref.WeakSet()
        for key, value in options.items():
            self.set(key, value)

    @classmethod
    def open(cls, uri: str = "local:", **options: object) -> "Provider":
        """Open a provider; ``NotSupportedError`` for an unknown scheme (the
        message names the supported ones), ``InvalidArgumentError`` for a bad URI."""
        return cls(uri, **options)

    def set(self, key: str, value: object) -> None:
        """Set a provider option (for ``local:``: ``buffer_size``, ``promisc``,
        ``immediate``, ``timeout_ms``); booleans are accepted."""
        errors.check(lib.pktcap_provider_set(self._handle(), encode(key), _option(value)))

    @property
    def caps(self) -> Capability:
        return Capability(lib.pktcap_provider_caps(self._handle()))

    @property
    def kind(self) -> str:
        """``"local"``, …"""
        return decode(lib.pktcap_provider_kind(self._handle())) or ""

    def sessions(self) -> List[SessionInfo]:
        """The provider's sessions (``local:``: the open sessions of this provider object)."""
        out = ctypes.c_void_p()
        errors.check(lib.pktcap_provider_list_sessions(ctypes.byref(out), self._handle()))
        try:
            return [SessionInfo(decode(lib.pktcap_session_list_name(out, i)) or "",
                                decode(lib.pktcap_session_list_id(out, i)) or "",
                                _state(lib.pktcap_session_list_state(out, i)),
                                decode(lib.pktcap_session_list_native_status(out, i)) or "")
                    for i in range(lib.pktcap_session_list_count(out))]
        finally:
            lib.pktcap_session_list_free(out)

    def targets(self) -> List[Target]:
        """What the provider can capture on (``local:``: the network interfaces and ``any``)."""
        out = ctypes.c_void_p()
        errors.check(lib.pktcap_provider_list_targets(ctypes.byref(out), self._handle()))
        try:
            return [Target(decode(lib.pktcap_target_list_name(out, i)) or "",
                           decode(lib.pktcap_target_list_description(out, i)) or "",
                           TargetFlag(lib.pktcap_target_list_flags(out, i)))
                    for i in range(lib.pktcap_target_list_count(out))]
        finally:
            lib.pktcap_target_list_free(out)

    def session(self, name: Optional[str] = None) -> "Session":
        """A new session (state NEW). ``name``: 1-80 letters, digits, ``-``, ``_``,
        ``.``; None picks ``pktcap-<time>-<n>``."""
        ptr = ctypes.c_void_p()
        errors.check(lib.pktcap_session_new(ctypes.byref(ptr), self._handle(), encode(name)))
        return Session._wrap(self, ptr)

    def open_session(self, id: str) -> "Session":
        """An existing session by its provider id; ``NotSupportedError`` for
        providers without ``Capability.OPEN`` (``local:``)."""
        ptr = ctypes.c_void_p()
        errors.check(lib.pktcap_session_open(ctypes.byref(ptr), self._handle(), encode(id)))
        return Session._wrap(self, ptr)

    def call(self, operation: str, **arguments: Any) -> Any:
        """Run a provider-specific operation (e.g. Cloudflare's
        ``ownership_add``) with keyword arguments; return its JSON result as
        Python values. ``NotSupportedError`` for an operation the provider lacks."""
        args = json.dumps(arguments).encode() if arguments else None
        return json.loads(_take_string(lib.pktcap_provider_call, self._handle(), encode(operation),
                                       args))

    def on_log(self, callback: Optional[Callable[[LogLevel, str], Any]],
               level: Union[LogLevel, int] = LogLevel.INFO) -> None:
        """Call ``callback(level, message)`` for each line of the provider's log
        (HTTP requests and responses, retries, token fetches, polling) up to
        ``level``; None turns it off. Messages never hold secrets. An exception
        the callback raises is ignored (logging must not break a capture)."""
        def trampoline(lvl: int, message: bytes, _userdata: Any) -> None:
            try:
                callback(LogLevel(lvl), message.decode("utf-8", "replace"))  # type: ignore[misc]
            except Exception:  # noqa: BLE001 - see the docstring
                pass

        cfunc = LOG_CB(trampoline) if callback is not None else LOG_CB()
        errors.check(lib.pktcap_provider_set_log_callback(self._handle(), int(level), cfunc, None))
        self._log_cb = cfunc if callback is not None else None   # kept alive while set

    def close(self) -> None:
        """Close the provider after closing its open sessions (a running local
        capture is stopped, its file completed)."""
        for s in list(getattr(self, "_sessions", ())):
            s.close()
        super().close()

    def __repr__(self) -> str:
        if self.closed:
            return "<Provider closed>"
        return f"<Provider {self.kind}>"


# Set while a thread runs one of our callbacks: a session freed there (its
# last reference dropped inside the callback) is freed from another thread,
# since freeing joins the capture thread.
_in_callback = threading.local()
# Threads Python did not start (the capture thread, seen from a callback).
_FOREIGN_THREAD = getattr(threading, "_DummyThread", ())


def _free_session(ptr: ctypes.c_void_p, keep: list) -> None:
    """The session's release: ``keep`` holds what C borrows (callbacks,
    storage, the provider) until the C session is gone."""
    if getattr(_in_callback, "active", False) or isinstance(threading.current_thread(),
                                                            _FOREIGN_THREAD):
        def later() -> None:
            lib.pktcap_session_free(ptr)
            keep.clear()
        threading.Thread(target=later, name="pktcap-session-free", daemon=True).start()
        return
    lib.pktcap_session_free(ptr)
    keep.clear()


class Session(Handle):
    """A capture session, made by ``Provider.session()`` or ``Provider.open_session()``.

    Settings (``target``, ``snaplen``, ``byte_limit``, ``time_limit``,
    ``packet_limit``, ``filter``, ``storage``, ``set()``, ``on_state()``,
    ``on_packet()``) are allowed in state NEW only (``StateError`` after).
    ``close()`` (or the end of a ``with`` block) frees the handle: a running
    local capture is stopped first, with its file complete.
    """

    _provider: Provider

    def __init__(self) -> None:
        raise TypeError("use Provider.session() or Provider.open_session()")

    @classmethod
    def _wrap(cls, provider: Provider, ptr: ctypes.c_void_p) -> "Session":
        self = cls.__new__(cls)
        self._provider = provider
        self._keep: list = [provider]
        self._ptr = ptr
        self._finalizer = weakref.finalize(self, _free_session, ptr, self._keep)
        self._settings: dict = {}
        self._state_cb: Optional[Any] = None
        self._packet_cb: Optional[Any] = None
        self._callback_error: Optional[BaseException] = None
        self._error_lock = threading.Lock()
        self._group: Optional[Any] = None   # weakref to the Group it is in
        provider._sessions.add(self)
        return self

    # -- identity and state -----------------------------------------------------

    @property
    def provider(self) -> Provider:
        return self._provider

    @property
    def name(self) -> str:
        return decode(lib.pktcap_session_name(self._handle())) or ""

    @property
    def id(self) -> str:
        """The provider's id ("" before start for ``local:``)."""
        return decode(lib.pktcap_session_id(self._handle())) or ""

    @property
    def state(self) -> State:
        return _state(errors.check(lib.pktcap_session_state(self._handle())))

    @property
    def native_status(self) -> str:
        """The provider's own status text ("" when none yet)."""
        return decode(lib.pktcap_session_native_status(self._handle())) or ""

    @property
    def stop_reason(self) -> str:
        """Why the capture ended: "packet limit", "byte limit", "time limit",
        "stopped", a provider's reason; "" while it runs."""
        return decode(lib.pktcap_session_stop_reason(self._handle())) or ""

    @property
    def error_text(self) -> str:
        """The error text of a FAILED session ("" otherwise)."""
        return decode(lib.pktcap_session_error_text(self._handle())) or ""

    def stat(self, stat: Union[Stat, int]) -> Optional[int]:
        """One statistic, or None when the provider does not report it."""
        h = self._handle()
        known = errors.check(lib.pktcap_session_stat_known(h, int(stat)))
        return lib.pktcap_session_stat(h, int(stat)) if known else None

    @property
    def stats(self) -> Stats:
        """Every statistic at once (see :class:`Stats`)."""
        return Stats(*(self.stat(s) for s in Stat))

    # -- settings ----------------------------------------------------------------

    def _remember(self, key: str, rc: int, value: Any) -> None:
        errors.check(rc)
        self._settings[key] = value

    @property
    def target(self) -> Optional[str]:
        """Where to capture: for ``local:`` an interface (``lo``), a list
        (``eth0,eth1``) or ``any``; for Azure a VM or scale set resource id.
        None when not set (a session opened from the provider has the
        provider's)."""
        return decode(lib.pktcap_session_target(self._handle())) or None

    @target.setter
    def target(self, value: str) -> None:
        self._remember("target", lib.pktcap_session_set_target(self._handle(), encode(value)),
                       value)

    @property
    def snaplen(self) -> int:
        """Bytes kept of each packet (0 = whole packets)."""
        return self._settings.get("snaplen", 0)

    @snaplen.setter
    def snaplen(self, value: Optional[int]) -> None:
        value = _count(value, "snaplen", 0xFFFFFFFF)
        self._remember("snaplen", lib.pktcap_session_set_snaplen(self._handle(), value), value)

    @property
    def byte_limit(self) -> int:
        """End after this many captured bytes (0 or None = no limit)."""
        return self._settings.get("byte_limit", 0)

    @byte_limit.setter
    def byte_limit(self, value: Optional[int]) -> None:
        value = _count(value, "byte_limit")
        self._remember("byte_limit", lib.pktcap_session_set_byte_limit(self._handle(), value),
                       value)

    @property
    def packet_limit(self) -> int:
        """End after this many packets (0 or None = no limit)."""
        return self._settings.get("packet_limit", 0)

    @packet_limit.setter
    def packet_limit(self, value: Optional[int]) -> None:
        value = _count(value, "packet_limit")
        self._remember("packet_limit",
                       lib.pktcap_session_set_packet_limit(self._handle(), value), value)

    @property
    def time_limit(self) -> float:
        """End after this many seconds (a float; kept in milliseconds, at least
        1 ms when positive; 0 or None = no limit)."""
        return self._settings.get("time_limit_ms", 0) / 1000.0

    @time_limit.setter
    def time_limit(self, seconds: Optional[float]) -> None:
        if seconds is None:
            ms = 0
        else:
            if isinstance(seconds, bool) or not isinstance(seconds, (int, float)):
                raise TypeError(f"time_limit: seconds as an int or float, not "
                                f"{type(seconds).__name__}")
            if seconds < 0 or seconds != seconds:
                raise errors.InvalidArgumentError(errors.Status.E_INVAL,
                                                  f"time_limit: {seconds!r} is not a duration")
            ms = max(1, round(seconds * 1000)) if seconds > 0 else 0
        self._remember("time_limit_ms", lib.pktcap_session_set_time_limit(self._handle(), ms),
                       ms)

    @property
    def filter(self) -> Optional[Filter]:
        """What to capture: a ``Filter``, or text in the one-line syntax
        (parsed); None removes it. The session keeps its own copy."""
        return self._settings.get("filter")

    @filter.setter
    def filter(self, value: Union[Filter, str, None]) -> None:
        f = Filter.parse(value) if isinstance(value, str) else value
        if f is not None and not isinstance(f, Filter):
            raise TypeError(f"filter: a Filter, a str or None, not {type(value).__name__}")
        self._remember("filter", lib.pktcap_session_set_filter(
            self._handle(), f._handle() if f is not None else None),
            f.copy() if f is not None else None)

    @property
    def storage(self) -> Optional[Storage]:
        """Where the capture file goes: a ``Storage``, or a path / storage URI
        (opened here and kept with the session). None: ``local:`` keeps it in
        memory for ``fetch()``."""
        return self._settings.get("storage")

    @storage.setter
    def storage(self, value: Union[Storage, str, "os.PathLike[str]", None]) -> None:
        st = Storage(os.fspath(value)) if isinstance(value, (str, os.PathLike)) else value
        if st is not None and not isinstance(st, Storage):
            raise TypeError(f"storage: a Storage, a path, a URI or None, not "
                            f"{type(value).__name__}")
        self._remember("storage", lib.pktcap_session_set_storage(
            self._handle(), st._handle() if st is not None else None), st)
        if st is not None:
            self._keep.append(st)   # borrowed by C until the session is freed

    def set(self, key: str, value: object) -> None:
        """A provider-specific setting (``local:``: ``buffer_size``, ``promisc``,
        ``immediate``, ``timeout_ms``); booleans are accepted."""
        errors.check(lib.pktcap_session_set(self._handle(), encode(key), _option(value)))

    # -- callbacks -----------------------------------------------------------------

    def _callback_failed(self, exc: BaseException) -> None:
        with self._error_lock:
            if self._callback_error is None and not self.closed:
                self._callback_error = exc
                lib.pktcap_session_cancel(self._ptr)   # wakes wait(), which raises it

    def _set_callback(self, cftype: Any, setter: Any, attr: str, callback: Optional[Callable],
                      call: Callable[..., None]) -> None:
        """Install ``call(*c_arguments)`` as the C callback of type ``cftype``
        through ``setter`` (None for ``callback`` removes it); what ``call``
        raises is handed to ``wait()``. ``call`` must not hold the session."""
        ref = weakref.ref(self)

        def trampoline(*args: Any) -> None:
            _in_callback.active = True
            try:
                call(*args)
            except BaseException as exc:  # noqa: BLE001 - handed to wait()
                me = ref()
                if me is not None:
                    me._callback_failed(exc)
                del me   # not dropped after `active` is reset (see _free_session)
            finally:
                _in_callback.active = False

        cfunc = cftype(trampoline) if callback is not None else cftype()  # NULL
        errors.check(setter(self._handle(), cfunc, None))
        setattr(self, attr, cfunc if callback is not None else None)
        if callback is not None:
            self._keep.append(cfunc)

    def on_state(self, callback: Optional[Callable[[State], Any]]) -> None:
        """Call ``callback(state)`` on every state change (None removes it)."""
        def call(_session: Any, state: int, _userdata: Any) -> None:
            callback(State(state))  # type: ignore[misc]

        self._set_callback(STATE_CB, lib.pktcap_session_set_state_callback, "_state_cb",
                           callback, call)

    def on_packet(self, callback: Optional[Callable[[Packet, Summary], Any]]) -> None:
        """Call ``callback(packet, summary)`` for every captured packet, on the
        capture thread (None removes it). ``NotSupportedError`` for providers
        without ``Capability.PACKET_CALLBACK``. ``summary.number`` is the
        packet's position in the capture, from 1."""
        def call(_session: Any, packet: Any, summary: Any, _userdata: Any) -> None:
            s = SummaryStruct()
            ctypes.memmove(ctypes.byref(s), summary, ctypes.sizeof(s))
            callback(Packet._from_c(packet.contents), Summary(s))  # type: ignore[misc]

        self._set_callback(PACKET_CB, lib.pktcap_session_set_packet_callback, "_packet_cb",
                           callback, call)

    def _raise_callback_error(self, rc: int) -> None:
        """Raise what a callback raised, if anything, after a C wait returned rc."""
        with self._error_lock:
            exc, self._callback_error = self._callback_error, None
            if exc is not None and rc != errors.Status.E_CANCELED:
                # The cancel that came with it is still pending: take it.
                lib.pktcap_session_wait(self._ptr, 0)
        if exc is not None:
            raise exc

    # -- lifecycle -------------------------------------------------------------------

    def start(self) -> None:
        """NEW -> PENDING/RUNNING. ``PermissionDeniedError`` without capture
        privileges, ``NotFoundError`` for an unknown interface (listing the
        available ones); the session is FAILED after a failed start."""
        errors.check(lib.pktcap_session_start(self._handle()))

    def refresh(self) -> State:
        """Ask the provider for the state (one status request for remote providers)."""
        errors.check(lib.pktcap_session_refresh(self._handle()))
        return self.state

    def wait(self, timeout: Optional[float] = None) -> State:
        """Block until the session ends or ``timeout`` seconds pass; return the
        state (not terminal: the timeout passed). Raises ``CanceledError`` after
        ``cancel()``, ``StateError`` before ``start()``, and the first exception
        a callback raised. Ctrl-C interrupts it (KeyboardInterrupt)."""
        h = self._handle()
        sliced_wait(lambda ms: lib.pktcap_session_wait(h, ms), timeout,
                    self._raise_callback_error, _WAIT_SLICE_MS)
        return self.state

    def cancel(self) -> None:
        """Make a ``wait()`` in another thread raise ``CanceledError``. The capture goes on."""
        errors.check(lib.pktcap_session_cancel(self._handle()))

    def stop(self) -> None:
        """Stop a PENDING or RUNNING capture (-> STOPPED; local captures end at
        once, with the file complete)."""
        errors.check(lib.pktcap_session_stop(self._handle()))

    def delete(self) -> None:
        """Delete the session and its result at the provider."""
        errors.check(lib.pktcap_session_delete(self._handle()))

    def summaries(self) -> List[Summary]:
        """The packet summaries the provider returned with the finished session
        (providers with ``Capability.SUMMARIES``; otherwise empty)."""
        h = self._handle()
        out = []
        for i in range(lib.pktcap_session_summary_count(h)):
            st = SummaryStruct()
            st.struct_size = ctypes.sizeof(SummaryStruct)
            errors.check(lib.pktcap_session_summary(ctypes.byref(st), h, i))
            out.append(Summary(st))
        return out

    def details(self) -> dict:
        """Everything known about the session as a dict: ``provider``, ``name``,
        ``id``, ``state``, ``native_status``, ``stop_reason``, ``error_text``,
        ``stats`` and ``native`` (the provider's own description, e.g. Azure's
        ``{"resource": …, "status": …}``, or None)."""
        return json.loads(_take_string(lib.pktcap_session_details, self._handle()))

    def fetch(self, storage: Union[Storage, str, "os.PathLike[str]", None] = None,
              progress: Optional[Callable[[int, int], Any]] = None) -> Optional[bytes]:
        """Copy the finished capture into ``storage`` (a ``Storage``, or a path or
        URI); without one, return its bytes. ``progress(done, total)`` is called
        as bytes arrive (total 0 when unknown); returning True from it cancels
        the fetch (``CanceledError``, nothing kept); what it raises is raised
        here after the fetch is canceled."""
        failure: List[BaseException] = []

        def trampoline(done: int, total: int, _userdata: Any) -> int:
            try:
                return 1 if progress(done, total) else 0  # type: ignore[misc]
            except BaseException as exc:  # noqa: BLE001 - raised after the fetch
                failure.append(exc)
                return 1

        h = self._handle()
        cfunc = PROGRESS_CB(trampoline) if progress is not None else PROGRESS_CB()
        errors.check(lib.pktcap_session_set_progress_callback(h, cfunc, None))
        try:
            if storage is None:
                with Storage.memory() as mem:
                    rc = lib.pktcap_session_fetch(h, mem._handle())
                    data = mem.getvalue() if rc == 0 else None
            elif isinstance(storage, (str, os.PathLike)):
                with Storage(os.fspath(storage)) as st:
                    rc = lib.pktcap_session_fetch(h, st._handle())
                data = None
            else:
                rc = lib.pktcap_session_fetch(h, storage._handle())
                data = None
        finally:
            lib.pktcap_session_set_progress_callback(h, PROGRESS_CB(), None)
        if failure:
            raise failure[0]
        errors.check(rc)
        return data

    def close(self) -> None:
        """Free the handle (a running local capture is stopped, its file
        completed). ``StateError`` while the session is in an open ``Group``."""
        group = self._group() if getattr(self, "_group", None) is not None else None
        if group is not None and not group.closed and not self.closed:
            raise errors.StateError(errors.Status.E_STATE,
                                    f"session {self.name!r} is in a group: close the group first")
        if not self.closed:
            self._provider._sessions.discard(self)
        super().close()

    def __repr__(self) -> str:
        if self.closed:
            return "<Session closed>"
        return f"<Session {self.name!r} {self.state.name}>"


def _count(value: Optional[int], what: str, maximum: int = (1 << 64) - 1) -> int:
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{what}: an int, not {type(value).__name__}")
    if not 0 <= value <= maximum:
        raise errors.InvalidArgumentError(errors.Status.E_INVAL,
                                          f"{what}: {value} is outside 0-{maximum}")
    return value
