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
        """Check configuration, database, broker, workers, external programs and folders, in that order, and
        say which subcommands cannot run here.

        Marks: ✔ ok, ✘ something a subcommand needs is missing or down, ! worth knowing (nothing is stopped by
        it), – skipped (optional and not configured, or what it needs is down). The last line (stderr) counts
        ✘ and ! and names the subcommands that cannot run, e.g. 'gamit run: sh_gamit, globk missing'.

        Exit codes: 0 every subcommand can run here (warnings allowed); 1 a subcommand cannot run: a program,
        folder or the schema it needs is missing (optional engines, PPP and grdtab, count only once
        configured); 69 a service is down (database, a configured broker, workers for --parallel); 78 the
        configuration is broken. The most severe wins: 78, then 69, then 1.
        """
        from geode.health import overall_exit, run_doctor, summary, summary_line

        actx = app_context(ctx)
        checks = run_doctor(actx.config_file)
        code = overall_exit(checks)
        if actx.want_json(json_):
            console.print_json({"exit_code": code, "summary": summary(checks),
                                "checks": [c.as_dict() for c in checks]})
        else:
            _render(checks)
            sys.stderr.write(console.elide(summary_line(checks), limit=2000) + "\n")
        raise typer.Exit(code)


def _render(checks) -> None:
    """One row per check through the table renderer: wrapped at the terminal's width, whole lines when piped."""
    rows = []
    for c in checks:
        text = c.message
        if c.needed_by and c.status in ("fail", "warn"):
            text += f" (needed by {', '.join(c.needed_by)})"
        if c.hint and c.status in ("fail", "warn"):
            text += f"; hint: {c.hint}"
        rows.append((MARKS[c.status], c.name, text))
    console.table([console.Column("", priority=0, wrap=False), console.Column("check", key=True, priority=0, wrap=False),
                   console.Column("result", priority=0)], rows)
