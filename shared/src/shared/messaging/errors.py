"""Which failures are the infrastructure's (retry forever) and which are the event's (give up).

A consumer must never dead-letter an event because the database or NATS was briefly away,
and must not retry forever an event that its handler rejects. The test is on the whole chain
of causes, since SQLAlchemy wraps the driver's error, which may wrap an ``OSError``.
"""

from __future__ import annotations

from collections.abc import Iterator

import nats.errors
from sqlalchemy import exc as sa_exc

#: Connection exception (08), insufficient resources (53), operator intervention such as an
#: admin shutdown or a server still starting (57P), serialization failure and deadlock (40).
TRANSIENT_SQLSTATES = ("08", "53", "57P", "40001", "40P01")

TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    OSError,  # includes ConnectionRefusedError, ConnectionResetError
    TimeoutError,
    sa_exc.TimeoutError,  # no pooled connection in time
    sa_exc.DisconnectionError,
    sa_exc.InterfaceError,  # "connection is closed" and the like
    nats.errors.ConnectionClosedError,
    nats.errors.NoServersError,
    nats.errors.OutboundBufferLimitError,
)


def is_transient(exc: BaseException) -> bool:
    """Whether ``exc`` (or anything that caused it) says the infrastructure is unavailable."""
    for err in _causes(exc):
        if isinstance(err, sa_exc.DBAPIError) and err.connection_invalidated:
            return True
        if isinstance(err, TRANSIENT_ERRORS):
            return True
        sqlstate = getattr(err, "sqlstate", None)
        if isinstance(sqlstate, str) and sqlstate.startswith(TRANSIENT_SQLSTATES):
            return True
    return False


def _causes(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    todo: list[BaseException | None] = [exc]
    while todo:
        err = todo.pop()
        if err is None or id(err) in seen:
            continue
        seen.add(id(err))
        yield err
        todo += [err.__cause__, err.__context__, getattr(err, "orig", None)]
