"""`geode config`: show the effective configuration and where each value came from."""

from __future__ import annotations

import typer

from . import console
from .context import app_context
from .options import JsonOpt

config_app = typer.Typer(help="Show the effective configuration and the files consulted.", no_args_is_help=True)


@config_app.command("show")
def show(ctx: typer.Context, json_: JsonOpt = False) -> None:
    """Print every effective value (secrets masked) with its source."""
    from geode.db.choice import database_choice

    actx = app_context(ctx)
    shown = actx.settings.shown()
    choice = database_choice(actx.settings)
    if choice.note:
        console.warn(choice.note)
    if actx.want_json(json_):
        console.print_json({"values": shown, "database": choice.as_dict(), "files": [
            {"path": str(f.path), "kind": f.kind, "exists": f.exists} for f in actx.settings.files]})
        return
    rows = [(k, v["value"], _short_source(v["source"])) for k, v in shown.items()]
    rows.append(("(database in use)", choice.summary, choice.source))
    console.table([console.Column("key", key=True, priority=0, wrap=False), console.Column("value", priority=0),
                   console.Column("source", priority=1)], rows)


def _short_source(source: str) -> str:
    """A file source under the current folder as './geode.toml:9' (the same file, fewer characters)."""
    import os

    cwd = os.getcwd().rstrip(os.sep) + os.sep
    return "./" + source[len(cwd):] if source.startswith(cwd) else source


@config_app.command("path")
def path(ctx: typer.Context, json_: JsonOpt = False) -> None:
    """List the configuration files consulted, in rising precedence."""
    actx = app_context(ctx)
    files = actx.settings.files
    if actx.want_json(json_):
        console.print_json([{"path": str(f.path), "kind": f.kind, "exists": f.exists} for f in files])
        return
    console.table([console.Column("precedence", key=True, priority=0, wrap=False, justify="right"),
                   console.Column("kind", priority=1, wrap=False), console.Column("path", priority=0),
                   console.Column("found", priority=0, wrap=False)],
                  ((i + 1, f.kind, f.path, "yes" if f.exists else "no") for i, f in enumerate(files)))


def register(app: typer.Typer) -> None:
    app.add_typer(config_app, name="config")
