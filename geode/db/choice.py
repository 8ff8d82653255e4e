"""Which database a command will use, and why, without connecting (``geode db status``, ``geode config show``)."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from .connection import resolve_target


@dataclass(frozen=True)
class DatabaseChoice:
    server: str  # "embedded PostgreSQL in /path" or "host:port"
    database: str
    source: str  # the setting that chose it, or why the embedded default was taken
    note: str = ""  # a one-line warning worth showing before the command uses it (empty: nothing to say)

    @property
    def summary(self) -> str:
        return f"{self.server}, database {self.database}"

    def as_dict(self) -> dict:
        return asdict(self)


def database_choice(settings) -> DatabaseChoice:
    """The database ``open_database(settings)`` connects to; ConfigError (exit 78) for a malformed setting."""
    target = resolve_target(settings)
    if not target.embedded:
        where = f"{target.host or 'localhost'}:{target.port}"
        return DatabaseChoice(where, target.database, target.source)
    ini = next((f for f in settings.files if f.kind == "cwd-ini" and f.exists), None)
    note = ""
    source = "embedded default (no [postgres] hostname/url, POSTGRES_HOST or GEODE_DATABASE_URL)"
    if ini is not None:
        note = (f"{ini.path} has no [postgres] hostname: using geode's embedded PostgreSQL, not the database of "
                "that GeoDE configuration")
    return DatabaseChoice(f"embedded PostgreSQL in {target.data_dir}", target.database, source, note)
