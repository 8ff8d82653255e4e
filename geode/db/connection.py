"""psycopg2 connection wrapper: parameterised queries and explicit transactions, nothing hidden."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Sequence
from urllib.parse import unquote, urlsplit

from ..errors import ConfigError, ServiceUnavailable

DEFAULT_DATABASE = "gnss_data"
# What pg_stat_activity shows for this process's connections: the CLI sets "geode <command> [pid]" so that
# `geode db stop` can name the commands still using the server.
APPLICATION_NAME = "geode"


class DatabaseUnavailable(ServiceUnavailable):
    """The database server does not answer (exit 69)."""


@dataclass(frozen=True)
class DatabaseTarget:
    """Where the database is. ``embedded`` targets get host/port filled in once the server runs."""

    host: str | None = None  # a host name, or a socket directory (absolute path)
    port: int = 5432
    user: str = "postgres"
    password: str | None = field(default=None, repr=False)
    database: str = DEFAULT_DATABASE
    embedded: bool = False
    data_dir: Path | None = None  # embedded only
    connect_timeout: int = 10
    source: str = "default"  # which setting chose this target

    def describe(self) -> str:
        """host:port/db, for messages (never the password)."""
        if self.embedded:
            return f"embedded PostgreSQL ({self.data_dir})"
        where = self.host or "localhost"
        return f"{where}:{self.port}/{self.database}"

    def dsn_kwargs(self) -> dict[str, Any]:
        kw: dict[str, Any] = {"dbname": self.database, "user": self.user, "port": self.port,
                              "connect_timeout": self.connect_timeout, "application_name": APPLICATION_NAME[:63]}
        if self.host:
            kw["host"] = self.host
        if self.password:
            kw["password"] = self.password
        return kw


def _from_url(url: str, source: str, timeout: int) -> DatabaseTarget:
    parts = urlsplit(url)
    if parts.scheme not in ("postgres", "postgresql"):
        found = f"it starts with {parts.scheme}://" if parts.scheme and "://" in url else "it is not a URL"
        raise ConfigError(f"{source}: the database URL must look like postgresql://USER:PASSWORD@HOST:PORT/DATABASE "
                          f"({found})")
    query = dict(p.split("=", 1) for p in parts.query.split("&") if "=" in p)
    host = unquote(query.get("host", "")) or parts.hostname
    try:
        port = int(query.get("port") or parts.port or 5432)
    except ValueError:
        raise ConfigError(f"{source}: database URL has an invalid port") from None
    return DatabaseTarget(
        host=host, port=port, user=unquote(parts.username or "postgres"),
        password=unquote(parts.password) if parts.password else None,
        database=(parts.path or "/").lstrip("/") or DEFAULT_DATABASE, connect_timeout=timeout, source=source,
    )


def resolve_target(settings) -> DatabaseTarget:
    """The configured server ([postgres] url, or hostname & co.), else the embedded default."""
    timeout = int(settings.get("postgres.connect_timeout", 10))
    if settings.get("postgres.url"):
        return _from_url(settings.get("postgres.url"), settings.source("postgres.url"), timeout)
    if settings.get("postgres.hostname"):
        return DatabaseTarget(
            host=settings.get("postgres.hostname"), port=int(settings.get("postgres.port", 5432)),
            user=settings.get("postgres.username", "postgres"), password=settings.get("postgres.password"),
            database=settings.get("postgres.database", DEFAULT_DATABASE), connect_timeout=timeout,
            source=settings.source("postgres.hostname"),
        )
    from ..config import user_data_dir

    data_dir = settings.path("postgres.embedded_dir") or (user_data_dir() / "postgres")
    return DatabaseTarget(embedded=True, data_dir=data_dir, database=settings.get("postgres.database", DEFAULT_DATABASE),
                          source="embedded default (no [postgres] hostname configured)")


def _float_numeric() -> None:
    """numeric -> float for every connection (GeoDE's use_float): geodesy wants floats, not Decimals."""
    import psycopg2.extensions as ext

    dec2float = ext.new_type(ext.DECIMAL.values, "GEODE_DEC2FLOAT",
                             lambda value, cur: float(value) if value is not None else None)
    ext.register_type(dec2float)
    ext.register_type(ext.new_array_type((1231,), "GEODE_DEC2FLOAT_ARRAY", dec2float))


class Database:
    """One psycopg2 connection. Reads and single statements run in their own short transaction;
    multi-statement work uses ``with db.transaction() as cur``. No helper commits behind your back."""

    _types_registered = False

    def __init__(self, conn, target: DatabaseTarget):
        self.conn = conn
        self.target = target

    @classmethod
    def connect(cls, target: DatabaseTarget) -> "Database":
        import psycopg2

        if not cls._types_registered:
            _float_numeric()
            cls._types_registered = True
        try:
            conn = psycopg2.connect(**target.dsn_kwargs())
        except psycopg2.OperationalError as exc:
            reason = (str(exc).strip().splitlines() or ["connection failed"])[0]
            raise DatabaseUnavailable(f"cannot reach PostgreSQL at {target.describe()}: {reason}") from None
        return cls(conn, target)

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Any]:
        """A cursor (rows as dicts) inside one transaction: commit on success, rollback on error."""
        import psycopg2.extras

        cur = self.conn.cursor(cursor_factory=psycopg2.extras.RealDictCursor)
        try:
            yield cur
        except BaseException:
            self.conn.rollback()
            raise
        else:
            self.conn.commit()
        finally:
            cur.close()

    def query(self, sql: str, params: Sequence[Any] | dict | None = None) -> list[dict[str, Any]]:
        with self.transaction() as cur:
            cur.execute(sql, params)
            return [dict(r) for r in cur.fetchall()] if cur.description else []

    def query_one(self, sql: str, params: Sequence[Any] | dict | None = None) -> dict[str, Any] | None:
        rows = self.query(sql, params)
        return rows[0] if rows else None

    def execute(self, sql: str, params: Sequence[Any] | dict | None = None) -> int:
        """One statement in its own transaction; returns the row count."""
        with self.transaction() as cur:
            cur.execute(sql, params)
            return cur.rowcount

    def table_exists(self, name: str) -> bool:
        row = self.query_one("SELECT to_regclass(%s) AS oid", (f"public.{name}",))
        return bool(row and row["oid"])

    @property
    def server_version(self) -> str:
        v = self.conn.server_version  # e.g. 160002
        return f"{v // 10000}.{v % 100}"

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.conn.close()

    def __enter__(self) -> "Database":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

