"""One database connection per process for units of work, checked before each use and re-opened after a
server restart (``geode db stop``, a failover) instead of failing the next unit with "connection already closed".

The check costs no round trip: an idle connection's socket has nothing to read unless the server said goodbye
(a restart sends a termination message, a dead server closes the socket), so ``select`` with a zero timeout
tells a dead connection from a live one. A connection lost without a word (a vanished host) fails its next
query instead; ``geode.jobs.units.call_unit`` then reconnects and runs the unit once more.
"""

from __future__ import annotations

import logging
import os
import select
import time

from ..errors import ServiceUnavailable
from .connection import Database, DatabaseUnavailable

log = logging.getLogger("geode.db")

RECONNECT_WAIT = 30.0  # seconds a unit waits for a restarting server before the run stops with 69
                      # ([postgres] reconnect_timeout)

_shared: dict[tuple[int, str], Database] = {}
_opened: set[tuple[int, str]] = set()  # (process, target) pairs that had a connection once


def shared_database(settings=None) -> Database:
    """This process's connection to the configured database, re-opened if the server dropped it.

    The embedded server is started for a process's first connection only: one that was stopped under a running
    command (`geode db stop --force`) stays stopped, and the command ends with 69 instead of restarting it."""
    from ..config import load_settings
    from . import open_database
    from .connection import resolve_target

    settings = settings if settings is not None else load_settings()
    target = resolve_target(settings)
    key = (os.getpid(), repr(target))
    db = _shared.get(key)
    if db is not None and alive(db):
        return db
    reopening = db is not None or key in _opened
    if db is not None:
        log.info("the database connection was closed by the server; reconnecting")
    forget_shared()
    if reopening and target.embedded:
        from .embedded import running_target

        running = running_target(target)
        if running is None:
            raise DatabaseUnavailable(f"{target.describe()} was stopped")
        db = Database.connect(running)
    else:
        db = open_database(settings, migrate=False)
    _shared[key] = db
    _opened.add(key)
    return db


def reconnect_shared(settings=None) -> Database:
    """Drop this process's connection and open a new one, waiting up to [postgres] reconnect_timeout seconds
    for the server to return."""
    from ..config import load_settings

    settings = settings if settings is not None else load_settings()
    wait = float(settings.get("postgres.reconnect_timeout", RECONNECT_WAIT))
    forget_shared()
    deadline = time.monotonic() + wait
    while True:
        try:
            return shared_database(settings)
        except ServiceUnavailable as exc:
            if time.monotonic() >= deadline:
                raise DatabaseUnavailable(f"{exc} (still unreachable after {wait:.0f} s)") from None
            time.sleep(1.0)


def forget_shared() -> None:
    for db in _shared.values():
        db.close()
    _shared.clear()


def alive(db: Database) -> bool:
    """False when the connection is closed or the server has written to it unasked (goodbye, or EOF)."""
    conn = db.conn
    if conn is None or conn.closed:
        return False
    try:
        readable, _, _ = select.select([conn.fileno()], [], [], 0)
    except (OSError, ValueError):
        return False
    return not readable


def connection_lost(exc: BaseException) -> bool:
    """Whether ``exc`` says the database connection broke (not that a statement was wrong)."""
    import sys

    psycopg2 = sys.modules.get("psycopg2")
    if psycopg2 is None:
        return False
    if isinstance(exc, psycopg2.InterfaceError):  # "connection already closed"
        return True
    if isinstance(exc, psycopg2.OperationalError):
        errors = sys.modules.get("psycopg2.errors")
        # lock timeouts, cancelled statements and the like are OperationalErrors too, but not connection losses
        not_lost = tuple(getattr(errors, n) for n in ("QueryCanceled", "LockNotAvailable", "DiskFull", "OutOfMemory")
                         if errors is not None and hasattr(errors, n))
        return not isinstance(exc, not_lost)
    return False
