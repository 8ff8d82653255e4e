"""The embedded default: a private PostgreSQL (the ``pgserver`` package) under the user data dir.

Started once and left running for the next command (cleanup_mode=None); ``geode db stop`` stops it.
Only a Unix socket is opened, in the data folder: nothing listens on the network.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import replace
from pathlib import Path

from ..errors import ServiceUnavailable
from .connection import DatabaseTarget

log = logging.getLogger("geode.db")


def _pgserver():
    with warnings.catch_warnings():  # platformdirs warns when XDG_RUNTIME_DIR is unset; harmless here
        warnings.simplefilter("ignore")
        import pgserver
        from pgserver.utils import PostmasterInfo
    return pgserver, PostmasterInfo


def running_info(data_dir: Path | None):
    """PostmasterInfo of a running embedded server, else None (also when the folder holds no cluster yet)."""
    if not data_dir or not (data_dir / "PG_VERSION").exists():
        return None
    _, PostmasterInfo = _pgserver()
    try:
        info = PostmasterInfo.read_from_pgdata(data_dir)
    except (AssertionError, ValueError, IndexError, OSError):  # postmaster.pid half written: a server is starting
        return None  # (ensure_embedded then waits on pgserver's lock for the process starting it)
    return info if info is not None and info.is_running() else None


def running_target(target: DatabaseTarget) -> DatabaseTarget | None:
    """Where to connect without starting anything: a configured server as it is, the embedded one at its socket
    if it is already running, else None (for quick looks: versions, doctor, shell completion)."""
    if not target.embedded:
        return target
    info = running_info(target.data_dir)
    if info is None:
        return None
    return replace(target, host=str(info.socket_dir), port=info.port or 5432)


def ensure_embedded(target: DatabaseTarget) -> DatabaseTarget:
    """Start the embedded server if needed, create the database, return a connectable target."""
    data_dir = Path(target.data_dir or "")
    info = running_info(data_dir)
    if info is None:
        pgserver, _ = _pgserver()
        try:
            # the folder itself, not only its parent: pgserver creates a missing one with exist_ok=False before
            # taking its lock, so two commands starting the server for the first time at once raced there
            data_dir.mkdir(parents=True, exist_ok=True)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                server = pgserver.get_server(data_dir, cleanup_mode=None)
            info = server.get_postmaster_info()
        except Exception as exc:  # initdb/pg_ctl failures come as several exception types
            raise ServiceUnavailable(f"cannot start the embedded PostgreSQL in {data_dir}: {exc}") from None
        log.info("started the embedded PostgreSQL in %s (stop it with 'geode db stop')", data_dir)
    host = str(info.socket_dir) if info.socket_dir else (info.hostname or "127.0.0.1")
    ready = replace(target, host=host, port=info.port or 5432, user="postgres")
    create_database(ready)
    return ready


def create_database(target: DatabaseTarget) -> None:
    """CREATE DATABASE unless it exists; safe when several geode processes do it at once (the losers' error,
    DuplicateDatabase or the UniqueViolation on pg_database_datname_index, means the database is there)."""
    import psycopg2
    from psycopg2 import errors, sql

    try:
        conn = psycopg2.connect(**replace(target, database="postgres").dsn_kwargs())
    except psycopg2.OperationalError as exc:
        raise ServiceUnavailable(f"cannot reach PostgreSQL at {target.describe()}: "
                                 f"{(str(exc).strip().splitlines() or ['connection failed'])[0]}") from None
    try:
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (target.database,))
            if cur.fetchone() is None:
                try:
                    cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(target.database)))
                except (errors.DuplicateDatabase, errors.UniqueViolation):  # another geode process won the race
                    pass
                except errors.InsufficientPrivilege:
                    raise ServiceUnavailable(f"database {target.database} does not exist on {target.describe()} "
                                             f"and user {target.user} may not create it (ask for CREATEDB, or "
                                             "create it with createdb)") from None
    finally:
        conn.close()


def sessions(target: DatabaseTarget) -> list[dict]:
    """Other client connections to a running server, any database: pid, application_name, database, since.

    [] when it is not running. Each geode command names its connections 'geode <command> [pid]'."""
    from .connection import Database

    running = running_target(target)
    if running is None:
        return []
    db = Database.connect(replace(running, database="postgres", connect_timeout=min(running.connect_timeout, 5)))
    try:
        return db.query("SELECT pid, application_name, datname AS database, backend_start AS since, state "
                        "FROM pg_stat_activity WHERE pid <> pg_backend_pid() AND backend_type = 'client backend' "
                        "ORDER BY backend_start")
    finally:
        db.close()


def stop_embedded(data_dir: Path) -> bool:
    """Stop the embedded server; False when it was not running."""
    info = running_info(data_dir)
    if info is None:
        return False
    from pgserver._commands import pg_ctl

    import os
    import pwd

    user = None
    if os.geteuid() == 0:  # pgserver runs the server as the 'pgserver' user when we are root
        user = pwd.getpwuid(data_dir.stat().st_uid).pw_name
    pg_ctl(["-w", "stop", "-m", "fast"], pgdata=data_dir, user=user)
    return True
