"""Database layer: psycopg2 connections, explicit transactions, versioned migrations, embedded server.

Typical use (library code, workers and CLI alike)::

    from geode.db import open_database
    db = open_database(settings)            # configured server, or the embedded one
    rows = db.query('SELECT * FROM stations WHERE "NetworkCode" = %s', ("igs",))
    with db.transaction() as cur:           # commits on success, rolls back on any exception
        cur.execute("INSERT ...", params)
"""

from .connection import Database, DatabaseTarget, resolve_target
from .schema import SCHEMA_VERSION_TABLE, apply_migrations, available_migrations, current_version, latest_version


def open_database(settings, *, migrate: bool | None = None, create: bool = False) -> Database:
    """Connect to the configured database (exit 69 when unreachable).

    The embedded server is started on demand and its schema kept current (``migrate`` defaults to True for
    it); a configured server is only migrated by ``geode db init/upgrade`` unless ``migrate=True``. With
    ``create`` (``geode db init``) a configured server's database is created when it does not exist yet.
    """
    from ..errors import ServiceUnavailable

    target = resolve_target(settings)
    if target.embedded:
        from .embedded import ensure_embedded

        target = ensure_embedded(target)
    try:
        db = Database.connect(target)
    except ServiceUnavailable as exc:
        if not (create and "does not exist" in str(exc)):
            raise
        from .embedded import create_database

        create_database(target)
        db = Database.connect(target)
    if migrate if migrate is not None else target.embedded:
        apply_migrations(db)
    return db


__all__ = [
    "Database", "DatabaseTarget", "open_database", "resolve_target", "apply_migrations", "available_migrations",
    "current_version", "latest_version", "SCHEMA_VERSION_TABLE",
]
