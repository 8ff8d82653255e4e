"""`geode doctor`: is this machine ready? Configuration, database, broker, workers, programs, paths."""

from __future__ import annotations

import sys

import typer

from . import console
from .context import app_context
from .options import JsonOpt

MARKS = {"ok": "✔", "fail": "✘", "warn": "!", "skip": "–"}
STYLES = {"ok": "green", "fail": "red", "warn": "yellow", "skip": "dim"}


def register(app: typer.Typer) -> None:
    @app.command("doctor")
    def doctor(ctx: typer.Context, json_: JsonOpt = False) -> None:
        """Check configuration, database, broker, workers and external programs, in that order.

        Exit 0 when all is well (warnings included), 69 when a service is down, 78 when the configuration is
        broken, 1 for other failures (a missing program, an unwritable archive, version drift).
        """
        from geode.health import overall_exit, run_doctor

        actx = app_context(ctx)
        checks = run_doctor(actx.config_file)
        code = overall_exit(checks)
        if actx.want_json(json_):
            console.print_json({"exit_code": code, "checks": [c.as_dict() for c in checks]})
        else:
            from rich.markup import escape

            for c in checks:
                users = f" [dim](needed by {', '.join(c.needed_by)})[/]" if c.needed_by and c.status != "ok" else ""
                console.out.print(f"[{STYLES[c.status]}]{MARKS[c.status]}[/] {escape(c.name):<18} "
                                  f"{escape(c.message)}{users}", highlight=False)
                if c.hint and c.status in ("fail", "warn"):
                    console.out.print(f"  {'':<18} [dim]hint: {escape(c.hint)}[/]", highlight=False)
            failed = sum(c.status == "fail" for c in checks)
            verdict = "all checks passed" if not failed else f"{failed} check(s) failed"
            sys.stderr.write(f"geode doctor: {verdict}\n")
        raise typer.Exit(code)
