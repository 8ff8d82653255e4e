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
    actx = app_context(ctx)
    shown = actx.settings.shown()
    if actx.want_json(json_):
        console.print_json({"values": shown, "files": [
            {"path": str(f.path), "kind": f.kind, "exists": f.exists} for f in actx.settings.files]})
        return
    console.table(["key", "value", "source"], ((k, v["value"], v["source"]) for k, v in shown.items()))


@config_app.command("path")
def path(ctx: typer.Context, json_: JsonOpt = False) -> None:
    """List the configuration files consulted, in rising precedence."""
    actx = app_context(ctx)
    files = actx.settings.files
    if actx.want_json(json_):
        console.print_json([{"path": str(f.path), "kind": f.kind, "exists": f.exists} for f in files])
        return
    console.table(["precedence", "kind", "path", "found"],
                  ((i + 1, f.kind, f.path, "yes" if f.exists else "no") for i, f in enumerate(files)))


def register(app: typer.Typer) -> None:
    app.add_typer(config_app, name="config")
