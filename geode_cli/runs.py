"""`geode runs`: the run history — what ran, where, with what result; resume or cancel a run."""

from __future__ import annotations

import os
import sys
from typing import Annotated, Optional

import typer

from . import console
from .context import app_context
from .options import JsonOpt

sub = typer.Typer(help="The run history: every command that dispatched units, inline or on workers. "
                       "Show what ran where, resume what did not finish, cancel a run from another terminal.",
                  no_args_is_help=True)

STATES = ("running", "done", "failed", "interrupted", "lost")
RunArg = Annotated[int, typer.Argument(help="Run id, as shown by `geode runs list`.", metavar="RUN")]


def _duration(run) -> str:
    end = run["ended"] or run["heartbeat"]
    if not end or not run["started"]:
        return ""
    seconds = int((end - run["started"]).total_seconds())
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


def _plain(run) -> dict:
    """A run row for JSON: times as ISO 8601 UTC, durations in seconds."""
    out = dict(run)
    for key in ("started", "ended", "heartbeat"):
        if out.get(key) is not None:
            out[key] = out[key].isoformat()
    return out


@sub.command("list")
def list_(
    ctx: typer.Context,
    state: Annotated[Optional[str], typer.Option(
        "--state", help=f"Only runs in this state: {', '.join(STATES)}.", show_default=False)] = None,
    command: Annotated[Optional[str], typer.Option(
        "--command", help="Only runs of this command (a prefix, e.g. 'scan' or 'stack run').",
        show_default=False)] = None,
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, help="How many of the newest runs.")] = 20,
    json_: JsonOpt = False,
) -> None:
    """Recent runs, newest first: state, command, when, how long, units done/failed/total, mode, host."""
    from geode.errors import UsageError
    from geode.jobs.runs import list_runs

    if state is not None and state not in STATES:
        raise UsageError(f"--state must be one of {', '.join(STATES)} (got {state!r})")
    actx = app_context(ctx)
    runs = list_runs(actx.db, actx.settings, limit=limit, state=state, command=command)
    if actx.want_json(json_):
        console.print_json([_plain(r) for r in runs])
        return
    Column = console.Column
    console.table([Column("run", key=True, priority=0, justify="right", wrap=False), Column("state", priority=0),
                   Column("command", priority=1), Column("started (UTC)", priority=5, wrap=False),
                   Column("took", priority=4, wrap=False), Column.num("done", 2), Column.num("failed", 2),
                   Column.num("units", 3), Column("mode", priority=6), Column("host", priority=7)],
                  [[r["id"], r["state"], r["command"], f"{r['started']:%Y-%m-%d %H:%M:%S}", _duration(r),
                    r["units_done"], r["units_failed"], r["units_total"], r["mode"], r["host"]] for r in runs])


@sub.command("show")
def show(ctx: typer.Context, run_id: RunArg, json_: JsonOpt = False) -> None:
    """One run: its command line, state, units by state, failures with their messages, nodes and durations."""
    from geode.jobs.runs import get_run, run_units, summarise

    actx = app_context(ctx)
    run = get_run(actx.db, actx.settings, run_id)
    report = summarise(run, run_units(actx.db, run_id))
    if actx.want_json(json_):
        report["run"] = _plain(run)
        console.print_json(report)
        return
    write = sys.stdout.write
    write(f"run {run['id']}: geode {' '.join(run['argv'])}\n")
    write(f"state: {run['state']}" + (f" (exit {run['exit_code']})" if run["exit_code"] is not None else "")
          + (f" — {run['message']}" if run["message"] else "") + "\n")
    write(f"mode: {run['mode']}, host {run['host']}, user {run['username']}, geode {run['geode_version']}, "
          f"attempts {run['attempts']}\n")
    write(f"started {run['started']:%Y-%m-%d %H:%M:%S} UTC, took {_duration(run)}, in {run['cwd']}\n")
    counts = report["units_by_state"]
    write("units: " + (", ".join(f"{counts[s]} {s}" for s in ("done", "failed", "queued", "cancelled")
                                 if counts.get(s)) or "none") + "\n")
    if report["nodes"]:
        console.table(["node", console.Column.num("units"), console.Column.num("mean s", 2),
                       console.Column.num("longest s", 3)],
                      [[n["node"], n["units"], f"{n['mean_s']:.2f}", f"{n['longest_s']:.2f}"] for n in report["nodes"]])
    console.failures([(f["unit"] + (f" on {f['node']}" if f["node"] else ""), f["error"] or "")
                      for f in report["failures"]], heading="failed unit(s)")


@sub.command("resume")
def resume(ctx: typer.Context, run_id: RunArg) -> None:
    """Run again what did not finish: the same command line, in the same folder; units already done are not run
    again (their stored results are used). For a run that failed, was interrupted, or was lost."""
    from geode.jobs.runs import prepare_resume

    from .main import RESUME_OPTION, app

    actx = app_context(ctx)
    run = prepare_resume(actx.db, actx.settings, run_id)
    if run is None:
        console.notice(f"run {run_id} is done: nothing to resume")
        return
    argv = [RESUME_OPTION, str(run_id), *run["argv"]]
    console.notice(f"resuming run {run_id}: geode {' '.join(run['argv'])}")
    here = os.getcwd()
    if os.path.isdir(run["cwd"]):
        os.chdir(run["cwd"])
    try:
        code = typer.main.get_command(app).main(args=argv, prog_name="geode", standalone_mode=False)
    finally:
        os.chdir(here)
    if code:
        raise typer.Exit(int(code))


@sub.command("cancel")
def cancel(ctx: typer.Context, run_id: RunArg) -> None:
    """Stop a run from another terminal: its queued units are removed and running ones revoked."""
    from geode.jobs.runs import cancel_run

    actx = app_context(ctx)
    console.notice(cancel_run(actx.db, actx.settings, run_id))


def register(app: typer.Typer) -> None:
    app.add_typer(sub, name="runs")
