"""libpktcap status codes as Python exceptions.

Every negative status a C call returns becomes an exception. The classes form
families (``NetworkError`` covers ``PKTCAP_E_NET``, ``PKTCAP_E_TLS`` and
``PKTCAP_E_TIMEOUT``, say), so callers can catch as broadly or as narrowly as
they need; each exception carries the thread's last-error detail.
"""

from __future__ import annotations

import enum
from typing import Dict, Optional, Type

from ._native import lib

__all__ = [
    "Status", "PktcapError", "InvalidArgumentError", "OutOfMemoryError", "StorageError",
    "IOFailureError", "ExistsError", "FormatError", "TruncatedError", "NotSupportedError",
    "NotFoundError", "AccessError", "AuthError", "PermissionDeniedError", "RemoteError",
    "ConflictError", "ThrottledError", "ProviderError", "NetworkError", "ConnectionFailedError",
    "TLSError", "OperationTimeoutError", "StateError", "LimitError", "CanceledError",
    "EndOfIteration", "EXCEPTIONS", "exception_class", "last_error", "check",
]


class Status(enum.IntEnum):
    """The C enum ``pktcap_error_code_t``."""

    OK = 0
    E_INVAL = -1
    E_NOMEM = -2
    E_IO = -3
    E_FORMAT = -4
    E_NOTSUP = -5
    E_NOTFOUND = -6
    E_AUTH = -7
    E_PERM = -8
    E_CONFLICT = -9
    E_THROTTLED = -10
    E_REMOTE = -11
    E_NET = -12
    E_TLS = -13
    E_TIMEOUT = -14
    E_STATE = -15
    E_LIMIT = -16
    E_CANCELED = -17
    E_TRUNCATED = -18
    E_END = -19
    E_EXISTS = -20


class PktcapError(Exception):
    """A libpktcap call failed.

    Attributes:
        code: the ``Status`` value the C call returned.
        message: the library's one-line explanation.
        http_status: the HTTP status of the response involved, or 0.
        provider_code: the provider's own error code, or "".
        provider_message: the provider's own error text, or "".
    """

    def __init__(self, code: int, message: str, http_status: int = 0,
                 provider_code: str = "", provider_message: str = "") -> None:
        super().__init__(message)
        try:
            self.code: object = Status(code)
        except ValueError:
            self.code = code
        self.message = message
        self.http_status = http_status
        self.provider_code = provider_code
        self.provider_message = provider_message

    def __str__(self) -> str:
        name = lib.pktcap_error_name(int(self.code)).decode()
        text = f"{self.message} ({name})"
        if self.http_status:
            text += f" [HTTP {self.http_status}]"
        if self.provider_code:
            text += f" [{self.provider_code}]"
        return text


# Families.
class InvalidArgumentError(PktcapError, ValueError):
    """PKTCAP_E_INVAL: an argument is invalid."""


class OutOfMemoryError(PktcapError, MemoryError):
    """PKTCAP_E_NOMEM: memory could not be allocated."""


class StorageError(PktcapError, OSError):
    """Reading or writing data failed."""


class IOFailureError(StorageError):
    """PKTCAP_E_IO: a read or write failed."""


class ExistsError(StorageError):
    """PKTCAP_E_EXISTS: the thing to create already exists."""


class FormatError(PktcapError):
    """PKTCAP_E_FORMAT: input is not in the expected format."""


class TruncatedError(FormatError):
    """PKTCAP_E_TRUNCATED: input ended in the middle of a record."""


class NotSupportedError(PktcapError):
    """PKTCAP_E_NOTSUP: the operation or option is not supported."""


class NotFoundError(PktcapError, LookupError):
    """PKTCAP_E_NOTFOUND: the named thing does not exist."""


class AccessError(PktcapError):
    """Credentials or permissions stood in the way."""


class AuthError(AccessError):
    """PKTCAP_E_AUTH: authentication failed or credentials are missing."""


class PermissionDeniedError(AccessError):
    """PKTCAP_E_PERM: authenticated but not allowed."""


class RemoteError(PktcapError):
    """The provider refused or failed the request."""


class ConflictError(RemoteError):
    """PKTCAP_E_CONFLICT: conflicts with the current remote state."""


class ThrottledError(RemoteError):
    """PKTCAP_E_THROTTLED: rate-limited and the retry budget ran out."""


class ProviderError(RemoteError):
    """PKTCAP_E_REMOTE: the provider reported an error of its own."""


class NetworkError(PktcapError):
    """The network between us and the provider failed."""


class ConnectionFailedError(NetworkError):
    """PKTCAP_E_NET: DNS, connection refused or reset."""


class TLSError(NetworkError):
    """PKTCAP_E_TLS: certificate not verified or handshake failed."""


class OperationTimeoutError(NetworkError, TimeoutError):
    """PKTCAP_E_TIMEOUT: an operation did not finish in its time limit."""


class StateError(PktcapError):
    """PKTCAP_E_STATE: the object is in the wrong state for this operation."""


class LimitError(PktcapError):
    """PKTCAP_E_LIMIT: a size or count limit was exceeded."""


class CanceledError(PktcapError):
    """PKTCAP_E_CANCELED: the operation was canceled."""


class EndOfIteration(PktcapError):
    """PKTCAP_E_END: an iteration reached its end (not a failure)."""


EXCEPTIONS: Dict[Status, Type[PktcapError]] = {
    Status.E_INVAL: InvalidArgumentError,
    Status.E_NOMEM: OutOfMemoryError,
    Status.E_IO: IOFailureError,
    Status.E_FORMAT: FormatError,
    Status.E_NOTSUP: NotSupportedError,
    Status.E_NOTFOUND: NotFoundError,
    Status.E_AUTH: AuthError,
    Status.E_PERM: PermissionDeniedError,
    Status.E_CONFLICT: ConflictError,
    Status.E_THROTTLED: ThrottledError,
    Status.E_REMOTE: ProviderError,
    Status.E_NET: ConnectionFailedError,
    Status.E_TLS: TLSError,
    Status.E_TIMEOUT: OperationTimeoutError,
    Status.E_STATE: StateError,
    Status.E_LIMIT: LimitError,
    Status.E_CANCELED: CanceledError,
    Status.E_TRUNCATED: TruncatedError,
    Status.E_END: EndOfIteration,
    Status.E_EXISTS: ExistsError,
}


def exception_class(code: int) -> Type[PktcapError]:
    """The exception class for a status code (``PktcapError`` if unknown)."""
    try:
        return EXCEPTIONS[Status(code)]
    except ValueError:
        return PktcapError


def last_error(code: Optional[int] = None) -> PktcapError:
    """Build the exception for the calling thread's last error.

    ``code`` is the status the failing call returned; when given it wins over
    the recorded one (they agree unless the caller mixed up calls).
    """
    err = lib.pktcap_error_last()
    recorded = lib.pktcap_error_code(err)
    if code is None:
        code = recorded
    message = lib.pktcap_error_message(err).decode("utf-8", "replace")
    if recorded != code or not message:
        message = lib.pktcap_strerror(code).decode()
    cls = exception_class(code)
    return cls(code, message,
               http_status=lib.pktcap_error_http_status(err) if recorded == code else 0,
               provider_code=lib.pktcap_error_provider_code(err).decode("utf-8", "replace")
               if recorded == code else "",
               provider_message=lib.pktcap_error_provider_message(err).decode("utf-8", "replace")
               if recorded == code else "")


def check(rc: int) -> int:
    """Raise the matching exception for a negative status; return it otherwise."""
    if rc < 0:
        raise last_error(rc)
    return rc
