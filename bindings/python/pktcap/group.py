"""Fleet captures: many sessions, of any providers, driven together from one
thread (group.h; doc/fleet.md).

>>> with Group() as g:                                            # doctest: +SKIP
...     for vm in vms:
...         s = azure.session(vm.name)
...         s.target, s.time_limit, s.storage = vm.id, 60, account
...         g.add(s, fetch_to=f"captures/{vm.name}.cap")
...     g.on_event(lambda ev: print(ev.session.name, ev.type.name, ev.state.name))
...     g.start()
...     g.wait()
...     for r in g.results():
...         print(r.session.name, r.state.name, r.fetched, r.error)

The group starts every NEW session, follows each until it ends (adaptive
polling, the providers' rate limits) and fetches the capture of those given
a ``fetch_to``. One failing session never stops the others: its result says
what failed. ``wait()`` blocks; ``step()`` with ``fileno()`` fits an event
loop of your own (``selectors``, ``asyncio``'s ``add_reader``).

Event callbacks run on the thread that calls ``step()`` or ``wait()``. An
exception a callback raises never reaches C: the first one is kept and
raised by the ``step()`` or ``wait()`` that ran the callback (the group's
work goes on with the next call).
"""

from __future__ import annotations

import ctypes
import enum
import json
import os
import weakref
from dataclasses import dataclass
from typing import Any, Callable, Iterator, List, Optional, Tuple, Union

from . import errors
from ._handle import Handle, decode, encode, sliced_wait
from ._native import GROUP_EVENT_CB, GroupEventStruct, GroupResultStruct, lib
from .filter import _take_string
from .session import Session, State
from .storage import Storage

__all__ = ["Group", "GroupEvent", "GroupEventType", "GroupOp", "GroupResult"]

# How long one C wait lasts inside Group.wait(): between slices Python runs
# its signal handlers, so Ctrl-C interrupts a wait without a timeout.
_WAIT_SLICE_MS = 100


class GroupOp(enum.IntEnum):
    """``pktcap_group_op_t``: the operations a group runs on a session."""

    NONE = 0
    START = 1
    POLL = 2
    STOP = 3
    FETCH = 4


class GroupEventType(enum.IntEnum):
    """``pktcap_group_event_type_t``."""

    STATE = 1
    PROGRESS = 2
    ERROR = 3
    DONE = 4


@dataclass(frozen=True)
class GroupEvent:
    """One event: ``type``; the ``session`` (the ``Session`` object added) and
    its ``index``; its ``state`` now; for ERROR and DONE the operation
    (``op``), ``code`` (0 or a ``PKTCAP_E_*`` value) and ``message``; for
    PROGRESS the bytes ``done`` of ``total`` (0 when unknown)."""

    type: GroupEventType
    session: Session
    index: int
    state: State
    op: GroupOp
    code: int
    message: str
    done: int
    total: int


@dataclass(frozen=True)
class GroupResult:
    """A session's result so far (``Group.result()``)."""

    session: Session
    state: State
    done: bool
    op: GroupOp
    code: int
    message: str
    fetched: bool
    bytes: int
    requests: int

    @property
    def error(self) -> Optional[errors.PktcapError]:
        """The failure as the package's exception (not raised), or None."""
        if not self.code:
            return None
        return errors.exception_class(self.code)(self.code, self.message)


def _free_group(ptr: ctypes.c_void_p, keep: list) -> None:
    """The group is freed before what it borrows (sessions, storages, the callback)."""
    lib.pktcap_group_free(ptr)
    for item in keep:
        if isinstance(item, Session):
            item._group = None
    keep.clear()


class Group(Handle):
    """A set of sessions driven together (``pktcap_group``)."""

    def __init__(self, **settings: object) -> None:
        ptr = ctypes.c_void_p()
        errors.check(lib.pktcap_group_new(ctypes.byref(ptr)))
        self._ptr = ptr
        self._keep: list = []
        self._finalizer = weakref.finalize(self, _free_group, ptr, self._keep)
        self._sessions: List[Session] = []
        self._cb: Optional[Any] = None
        self._callback_error: Optional[BaseException] = None
        for key, value in settings.items():
            self.set(key, value)

    def set(self, key: str, value: object) -> None:
        """A setting: ``max_requests``, ``max_downloads``, ``poll_min_ms``,
        ``poll_max_ms`` (``StateError`` while the group is busy)."""
        errors.check(lib.pktcap_group_set(self._handle(), encode(key), encode(str(value))))

    def add(self, session: Session,
            fetch_to: Union[Storage, str, "os.PathLike[str]", None] = None) -> None:
        """Add a session (in any state, in no other group). ``fetch_to``: where
        its capture goes when it ends — a ``Storage``, or a path or URI; None
        not to fetch it. The group keeps both alive; the session cannot be
        closed while the group is open."""
        if not isinstance(session, Session):
            raise TypeError(f"add: a Session, not {type(session).__name__}")
        storage = None
        if isinstance(fetch_to, (str, os.PathLike)):
            storage = Storage(os.fspath(fetch_to))
        elif fetch_to is not None:
            if not isinstance(fetch_to, Storage):
                raise TypeError(f"fetch_to: a Storage or a path, not {type(fetch_to).__name__}")
            storage = fetch_to
        errors.check(lib.pktcap_group_add(self._handle(), session._handle(),
                                          storage._handle() if storage is not None else None))
        self._sessions.append(session)
        self._keep.append(session)
        if storage is not None:
            self._keep.append(storage)
        session._group = weakref.ref(self)
        # At exit, finalizers run newest first: the group's must be newer than
        # those of the sessions and storages it borrows.
        self._finalizer.detach()
        self._finalizer = weakref.finalize(self, _free_group, self._ptr, self._keep)

    def __len__(self) -> int:
        return len(self._sessions)

    def __iter__(self) -> Iterator[Session]:
        return iter(list(self._sessions))

    def __getitem__(self, index: int) -> Session:
        return self._sessions[index]

    # -- events ------------------------------------------------------------------------

    def on_event(self, callback: Optional[Callable[[GroupEvent], Any]]) -> None:
        """Call ``callback(event)`` for every event (None removes it)."""
        ref = weakref.ref(self)

        def trampoline(event: Any, _userdata: Any) -> None:
            me = ref()
            if me is None:
                return
            try:
                ev = event.contents
                callback(GroupEvent(  # type: ignore[misc]
                    type=GroupEventType(ev.type), session=me._sessions[ev.index],
                    index=ev.index, state=State(ev.state), op=GroupOp(ev.op), code=ev.code,
                    message=decode(ev.message) or "", done=ev.done, total=ev.total))
            except BaseException as exc:  # noqa: BLE001 - raised by step()/wait()
                if me._callback_error is None:
                    me._callback_error = exc
                    lib.pktcap_group_cancel(me._ptr)   # ends the C wait now
            finally:
                del me

        cfunc = GROUP_EVENT_CB(trampoline) if callback is not None else GROUP_EVENT_CB()
        errors.check(lib.pktcap_group_set_event_callback(self._handle(), cfunc, None))
        if self._cb is not None and self._cb in self._keep:
            self._keep.remove(self._cb)
        self._cb = cfunc if callback is not None else None
        if callback is not None:
            self._keep.append(cfunc)

    def _raise_callback_error(self, rc: int) -> None:
        exc, self._callback_error = self._callback_error, None
        if exc is None:
            return
        if rc != errors.Status.E_CANCELED:
            # The cancel that came with it is still pending: take it.
            lib.pktcap_group_wait(self._ptr, 0)
        raise exc

    # -- driving ------------------------------------------------------------------------

    def start(self) -> None:
        """Plan every session not yet done: start the NEW ones, follow the
        running ones, fetch those that end. The work happens in ``wait()`` or
        ``step()``."""
        errors.check(lib.pktcap_group_start(self._handle()))

    def stop(self) -> None:
        """Stop every started capture (then fetched, as planned); sessions not
        yet started are not started (their result: ``CanceledError``)."""
        errors.check(lib.pktcap_group_stop(self._handle()))

    def step(self) -> Tuple[bool, Optional[float]]:
        """Do what is due without blocking for the network. Returns
        ``(busy, timeout)``: whether work remains, and the longest to wait in
        seconds (for ``fileno()`` to become readable) before stepping again —
        None when the group is idle."""
        timeout = ctypes.c_int64()
        rc = lib.pktcap_group_step(self._handle(), ctypes.byref(timeout))
        self._raise_callback_error(rc)
        errors.check(rc)
        return rc == 1, None if timeout.value < 0 else timeout.value / 1000.0

    def wait(self, timeout: Optional[float] = None) -> bool:
        """Drive the group until every session is done (True) or ``timeout``
        seconds pass (False). Raises ``CanceledError`` after ``cancel()`` and
        the first exception an event callback raised. Ctrl-C interrupts it."""
        h = self._handle()
        return sliced_wait(lambda ms: lib.pktcap_group_wait(h, ms), timeout,
                           self._raise_callback_error, _WAIT_SLICE_MS)

    def fileno(self) -> int:
        """A descriptor that becomes readable when ``step()`` has work."""
        return errors.check(lib.pktcap_group_fd(self._handle()))

    def cancel(self) -> None:
        """Make a ``wait()`` (in another thread, or the next one) raise
        ``CanceledError``; the work goes on with the next step or wait."""
        errors.check(lib.pktcap_group_cancel(self._handle()))

    # -- results ------------------------------------------------------------------------

    def result(self, index: int) -> GroupResult:
        """The result so far of the session at ``index``."""
        if not 0 <= index < len(self._sessions):
            raise IndexError(f"group result {index} out of range ({len(self._sessions)} sessions)")
        r = GroupResultStruct()
        r.struct_size = ctypes.sizeof(GroupResultStruct)
        errors.check(lib.pktcap_group_get_result(self._handle(), index, ctypes.byref(r)))
        return GroupResult(session=self._sessions[index], state=State(r.state),
                           done=bool(r.done), op=GroupOp(r.op), code=r.code,
                           message=r.message.decode("utf-8", "replace"),
                           fetched=bool(r.fetched), bytes=r.bytes, requests=r.requests)

    def results(self) -> List[GroupResult]:
        """Every session's result, in the order added."""
        return [self.result(i) for i in range(len(self._sessions))]

    def report(self) -> dict:
        """The group's report (``pktcap_group_report``) as a dict: totals and
        one entry per session."""
        return json.loads(_take_string(lib.pktcap_group_report, self._handle()))

    def close(self) -> None:
        """Free the group: what is in flight is abandoned (requests aborted, no
        partial file); the sessions stay open."""
        super().close()

    def __repr__(self) -> str:
        if self.closed:
            return "<Group closed>"
        done = sum(1 for r in self.results() if r.done)
        return f"<Group {len(self._sessions)} sessions, {done} done>"
