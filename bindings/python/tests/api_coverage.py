"""Which public callables of a package did a test run never execute?

``Recorder`` notes every code object that runs from the package's files (a
trace function that looks at each new frame's file name and asks for no
line events, so the cost is one cheap call per Python call). ``public_callables``
lists what the package offers: the functions and classes of ``__all__`` and of
its public submodules, and of each class every public method, property getter,
setter and deleter, classmethod, staticmethod and every dunder whose code is in
the package's own files (inherited ones included; what ``dataclass``,
``NamedTuple`` or ``enum`` generate is not). ``missing`` compares the two.

Code run on a thread that Python did not start (a C library's capture thread
calling back) is not seen: a callable run only there is reported as never run,
so the gap can only make the check stricter, never hide a callable.
"""

from __future__ import annotations

import inspect
import os
import sys
import threading
import types
from typing import Any, Callable, Dict, Iterable, List, Optional, Set


class Recorder:
    """Record the code objects executed from files under ``directory``."""

    def __init__(self, directory: str) -> None:
        self.prefix = os.path.join(os.path.abspath(directory), "")
        self.executed: Set[types.CodeType] = set()
        self._previous: Optional[tuple] = None
        prefix, add = self.prefix, self.executed.add

        def trace(frame: types.FrameType, event: str, arg: Any) -> None:
            code = frame.f_code
            if code.co_filename.startswith(prefix):
                add(code)
            return None   # no line events: only each call is looked at

        self._trace: Callable[..., None] = trace

    def start(self) -> None:
        """Record from now on, in this thread and in threads started later
        (``threading.Thread``); a trace function already set is put back by ``stop``."""
        self._previous = (sys.gettrace(), threading.gettrace())
        sys.settrace(self._trace)
        threading.settrace(self._trace)

    def stop(self) -> None:
        previous, self._previous = self._previous or (None, None), None
        sys.settrace(previous[0])
        threading.settrace(previous[1])


def _public(name: str) -> bool:
    return not name.startswith("_") or (name.startswith("__") and name.endswith("__"))


def _code(obj: Any) -> Optional[types.CodeType]:
    obj = inspect.unwrap(obj) if callable(obj) else obj
    return getattr(obj, "__code__", None) if isinstance(obj, types.FunctionType) else None


def _roots(package: types.ModuleType) -> Dict[str, Any]:
    """Qualified name -> object: the package's ``__all__``, and each public
    submodule's ``__all__`` (or, without one, the public names it defines)."""
    out: Dict[str, Any] = {}
    for name in getattr(package, "__all__", ()):
        out[f"{package.__name__}.{name}"] = getattr(package, name)
    for modname, module in sorted(vars(package).items()):
        if not isinstance(module, types.ModuleType) or modname.startswith("_") \
                or not module.__name__.startswith(package.__name__ + "."):
            continue
        names = getattr(module, "__all__", None)
        if names is None:
            names = [n for n, v in vars(module).items() if not n.startswith("_")
                     and getattr(v, "__module__", None) == module.__name__]
        for name in names:
            out.setdefault(f"{module.__name__}.{name}", getattr(module, name))
    return out


def public_callables(package: types.ModuleType) -> Dict[types.CodeType, str]:
    """Code object -> a name to report it by, for every public callable of the
    package whose code lives in the package's directory."""
    root = os.path.join(os.path.dirname(os.path.abspath(package.__file__)), "")
    found: Dict[types.CodeType, str] = {}
    seen_classes: Set[type] = set()

    def add(obj: Any, label: str) -> None:
        code = _code(obj)
        if code is not None and os.path.abspath(code.co_filename).startswith(root):
            found.setdefault(code, label)

    def visit_class(cls: type) -> None:
        if cls in seen_classes:
            return
        seen_classes.add(cls)
        # The classes' own namespaces, not dir(): an Enum's dir() leaves its methods out.
        names = {n for klass in cls.__mro__ for n in vars(klass) if _public(n)}
        for name in sorted(names):
            owner = next(k for k in cls.__mro__ if name in vars(k))
            raw = vars(owner)[name]
            where = f"{owner.__module__}.{owner.__qualname__}.{name}"
            if isinstance(raw, property):
                add(raw.fget, f"{where} (getter)")
                add(raw.fset, f"{where} (setter)")
                add(raw.fdel, f"{where} (deleter)")
            elif isinstance(raw, (classmethod, staticmethod)):
                add(raw.__func__, where)
            elif isinstance(raw, type):
                visit(raw, where)
            else:
                add(raw, where)

    def visit(obj: Any, label: str) -> None:
        if isinstance(obj, type):
            visit_class(obj)
        else:
            fn = inspect.unwrap(obj) if callable(obj) else obj
            add(obj, f"{getattr(fn, '__module__', '?')}.{getattr(fn, '__qualname__', label)}")

    for label, obj in sorted(_roots(package).items()):
        visit(obj, label)
    return found


def missing(package: types.ModuleType, executed: Iterable[types.CodeType]) -> List[str]:
    """The public callables not in ``executed``, as "name (file:line)", sorted."""
    ran = set(executed)
    return sorted(f"{label} ({os.path.basename(code.co_filename)}:{code.co_firstlineno})"
                  for code, label in public_callables(package).items() if code not in ran)
