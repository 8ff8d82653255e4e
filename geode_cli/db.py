"""`geode db`: create and upgrade the schema, show status, stop the embedded server."""

from __future__ import annotations

from typing import Annotated

import typer

from . import console
from .context import app_context
from .options import JsonOpt

db_app = typer.Typer(help="Create, upgrade and inspect the GeoDE database.", no_args_is_help=True)

COUNTED_TABLES = ("networks", "stations", "stationinfo", "rinex", "gamit_soln", "gamit_stats", "stacks", "etms",
                  "sources_servers", "sources_stations")


def _migrate(ctx: typer.Context, verb: str) -> None:
    from geode.db import apply_migrations, current_version

    actx = app_context(ctx)
    db = actx.open_database(migrate=False, create=verb == "initialised")
    try:
        applied = apply_migrations(db)
        version = current_version(db)
    finally:
        db.close()
    if applied:
        for m in applied:
            console.notice(f"applied migration {m.version:04d} {m.name}")
    console.err.print(f"{verb}: schema version {version} on {db.target.describe()}", highlight=False)


@db_app.command("init")
def init(ctx: typer.Context) -> None:
    """Create the database if needed and GeoDE's tables (safe on an existing GeoDE database, and safe to run
    twice or from several processes at once)."""
    _migrate(ctx, "initialised")


@db_app.command("upgrade")
def upgrade(ctx: typer.Context) -> None:
    """Apply pending schema migrations (safe from several processes at once)."""
    _migrate(ctx, "upgraded")


@db_app.command("status")
def status(ctx: typer.Context, json_: JsonOpt = False) -> None:
    """Which server and database are in use and why, the PostgreSQL version, schema version and row counts."""
    from geode.db import current_version, latest_version
    from geode.db.choice import database_choice

    actx = app_context(ctx)
    choice = database_choice(actx.settings)
    db = actx.open_database()  # the embedded server is initialised on first use; others are not touched
    try:
        version = current_version(db)
        latest = latest_version()
        counts = {}
        for table in COUNTED_TABLES:
            if db.table_exists(table):
                counts[table] = db.query_one(f"SELECT count(*) AS n FROM {table}")["n"]  # fixed names only
        info = {"server": db.target.describe(), "database": choice.database, "server_version": db.server_version,
                "source": choice.source, "schema_version": version, "latest_schema_version": latest,
                "rows": counts}
    finally:
        db.close()
    if actx.want_json(json_):
        console.print_json(info)
        return
    console.table([console.Column("item", key=True, priority=0, wrap=False), console.Column("value", priority=0)], [
        ("server", choice.server), ("database", choice.database), ("chosen by", choice.source),
        ("PostgreSQL", info["server_version"]),
        ("schema", f"{version} (latest {latest})" + ("" if version == latest else " — run 'geode db upgrade'")),
    ])
    console.table([console.Column("table", key=True, priority=0, wrap=False), console.Column.num("rows", 0)],
                  counts.items())


@db_app.command("stop")
def stop(ctx: typer.Context,
         force: Annotated[bool, typer.Option("--force", help="Stop even while other commands use it (they lose "
                                             "their database and exit 69).")] = False) -> None:
    """Stop the embedded PostgreSQL server (a configured server is never touched).

    Refused (exit 1) while other commands are connected to it; the message names them (command, pid, since
    when). Idle workers do not count: they reconnect before their next unit. --force stops it anyway.
    """
    from geode.db import resolve_target
    from geode.db.embedded import sessions, stop_embedded
    from geode.errors import GeodeError

    target = resolve_target(app_context(ctx).settings)
    if not target.embedded:
        console.notice(f"the database is a configured server ({target.describe()}); nothing to stop")
        return
    everyone = sessions(target)
    users = [u for u in everyone if not _idle_worker(u)]
    if len(everyone) > len(users):
        console.notice(f"{console.plural(len(everyone) - len(users), 'idle worker connection')} will reconnect "
                       "when the server is back")
    if users and not force:
        raise GeodeError(f"the embedded PostgreSQL is in use by {_describe(users)}: let them finish (or stop them), "
                         "or use --force")
    if users:
        console.warn(f"stopping while in use by {_describe(users)}")
    if stop_embedded(target.data_dir):
        console.notice(f"stopped the embedded PostgreSQL in {target.data_dir}")
    else:
        console.notice("the embedded PostgreSQL was not running")


def _idle_worker(session: dict) -> bool:
    return (session["application_name"] or "").startswith("geode worker start") and session["state"] == "idle"


def _describe(users: list[dict]) -> str:
    """'geode stack run [4242] since 13:02:11, psql (pid 77)' — one entry per client process."""
    seen: dict[str, str] = {}
    for u in users:
        name = (u["application_name"] or "").strip() or "an unnamed client"
        if name.startswith("geode ") and name.endswith("]"):
            key = name
        else:
            key = f"{name} (server pid {u['pid']})"
        since = u["since"].strftime("%H:%M:%S") if u.get("since") is not None else ""
        seen.setdefault(key, f"{key} since {since}" if since else key)
    return ", ".join(seen.values())


def register(app: typer.Typer) -> None:
    app.add_typer(db_app, name="db")
