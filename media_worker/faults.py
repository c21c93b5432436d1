"""Telling infrastructure errors (ours, and they heal by waiting) from failures that retrying will not fix.

Infrastructure errors: the store, the database or the queue unreachable, timeouts talking to them, the store answering
"try later" (5xx, SlowDown), and no disk space. The clip is not to blame for them: the job puts it back in the queue
with backoff. Anything else (a bug in the pipeline, a missing original) fails the clip with an error id for the logs.
"""

from __future__ import annotations

import errno
import socket
from collections.abc import Iterator

import botocore.exceptions
import redis.exceptions
import sqlalchemy.exc
from boto3.exceptions import RetriesExceededError
from s3transfer.exceptions import RetriesExceededError as TransferRetriesExceededError

# The store's answers that mean "not now" rather than "never".
RETRYABLE_STORE_CODES = frozenset(
    {"SlowDown", "ServiceUnavailable", "InternalError", "RequestTimeout", "RequestTimeTooSkewed", "503", "500"}
)
DISK_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})

_TRANSIENT_TYPES: tuple[type[BaseException], ...] = (
    botocore.exceptions.ConnectionError,  # endpoint unreachable, connect timeouts, proxies
    botocore.exceptions.HTTPClientError,  # connections closed or reset mid-request, read timeouts
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
    sqlalchemy.exc.OperationalError,  # server gone, connection refused, too many connections, lock timeouts
    sqlalchemy.exc.InterfaceError,
    sqlalchemy.exc.DisconnectionError,
    sqlalchemy.exc.TimeoutError,  # pool exhausted
    ConnectionError,
    TimeoutError,
    socket.timeout,
)


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """exc and every exception it was raised from or while handling (boto3 wraps store errors in its own)."""
    seen: set[int] = set()
    todo: list[BaseException | None] = [exc]
    while todo:
        current = todo.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        todo += [current.__cause__, current.__context__, getattr(current, "last_exception", None)]


def _is_transient(exc: BaseException) -> bool:
    if isinstance(exc, _TRANSIENT_TYPES):
        return True
    if isinstance(exc, sqlalchemy.exc.DBAPIError) and exc.connection_invalidated:
        return True
    if isinstance(exc, botocore.exceptions.ClientError):
        error = exc.response.get("Error", {})
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0
        return str(error.get("Code", "")) in RETRYABLE_STORE_CODES or int(status) >= 500
    if isinstance(exc, RetriesExceededError | TransferRetriesExceededError):
        return True  # a transfer that kept losing its connection
    return isinstance(exc, OSError) and exc.errno in DISK_ERRNOS


def is_infrastructure_error(exc: BaseException) -> bool:
    """True when exc, or an error it wraps, is an outage of ours that waiting heals (see the module docstring)."""
    return any(_is_transient(e) for e in _chain(exc))
