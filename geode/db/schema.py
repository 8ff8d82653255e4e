"""Versioned schema migrations: ``migrations/NNNN_name.sql`` applied in order, recorded in a version table.

Safe to run twice (applied versions are skipped) and from two processes at once (a transaction-level
advisory lock serialises them; the loser finds the work done).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources

SCHEMA_VERSION_TABLE = "geode_schema_version"
_LOCK_KEY = 0x6765_6F64  # 'geod': any constant shared by every geode process


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


def available_migrations() -> list[Migration]:
    out = []
    for entry in resources.files("geode.db.migrations").iterdir():
        m = re.fullmatch(r"(\d{4})_(\w+)\.sql", entry.name)
        if m:
            out.append(Migration(int(m.group(1)), m.group(2), entry.read_text(encoding="utf-8")))
    return sorted(out, key=lambda x: x.version)


def latest_version() -> int:
    """The schema version this geode brings: its newest migration."""
    return available_migrations()[-1].version


def _ensure_version_table(cur) -> None:
    cur.execute(f"""CREATE TABLE IF NOT EXISTS {SCHEMA_VERSION_TABLE} (
        version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())""")


def current_version(db) -> int:
    if not db.table_exists(SCHEMA_VERSION_TABLE):
        return 0
    row = db.query_one(f"SELECT coalesce(max(version), 0) AS v FROM {SCHEMA_VERSION_TABLE}")
    return int(row["v"]) if row else 0


def apply_migrations(db) -> list[Migration]:
    """Apply what is missing; returns the migrations applied by this call."""
    applied = []
    for migration in available_migrations():
        with db.transaction() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_KEY,))
            _ensure_version_table(cur)
            cur.execute(f"SELECT 1 FROM {SCHEMA_VERSION_TABLE} WHERE version = %s", (migration.version,))
            if cur.fetchone():
                continue
            cur.execute(migration.sql)
            cur.execute(f"INSERT INTO {SCHEMA_VERSION_TABLE} (version, name) VALUES (%s, %s)",
                        (migration.version, migration.name))
            applied.append(migration)
    return applied
