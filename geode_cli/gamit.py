"""`geode gamit`: plan, run and follow GAMIT/GLOBK processing of a network (session config + dates)."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from geode.dates import DATE_FORMS_HELP

from . import console
from .context import app_context
from .options import JsonOpt

CfgArg = Annotated[str, typer.Argument(
    metavar="CFG", help="Session config: GeoDE's INI .cfg ([gamit], [network]) or the same keys in a .toml file.",
    show_default=False)]
DatesArg = Annotated[list[str], typer.Argument(
    metavar="START [END]", help="Day, or first and last day, to process. " + DATE_FORMS_HELP, show_default=False)]
IncludeOpt = Annotated[Optional[list[str]], typer.Option(
    "--include", "-i", metavar="STN", help="Add stations to the config's stn_list (station-list grammar); repeat.")]
ExcludeOpt = Annotated[Optional[list[str]], typer.Option(
    "--exclude", "-e", metavar="STN", help="Leave stations out (net.stn or stn); repeat.")]

gamit_app = typer.Typer(help="Plan and run GAMIT/GLOBK processing of a network: daily sessions split into "
                             "sub-networks, run inline or on Celery workers (queue 'gamit'), results stored in "
                             "gamit_soln, gamit_stats and gamit_ztd.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(gamit_app, name="gamit")


def _setup(ctx: typer.Context, cfg_path: str, dates: list[str]):
    from geode.dates import date_range, parse_date_range
    from geode.gamit.session_config import load_session_config

    cfg = load_session_config(cfg_path)
    start, end = parse_date_range(dates)
    return app_context(ctx), cfg, date_range(start, end)


def _specs(include: list[str] | None, exclude: list[str] | None) -> list[str]:
    return list(include or []) + [f"-{s.lstrip('-*')}" for s in exclude or []]


@gamit_app.command("plan")
def plan_cmd(ctx: typer.Context, cfg: CfgArg, dates: DatesArg, include: IncludeOpt = None,
             exclude: ExcludeOpt = None, json_: JsonOpt = False) -> None:
    """Show, per day, the active stations, the sub-networks and what is already processed (no GAMIT needed)."""
    from geode.gamit.planning import plan_days

    actx, session, days = _setup(ctx, cfg, dates)
    plans = plan_days(actx.db, session, days, _specs(include, exclude), actx.settings)
    if actx.want_json(json_):
        console.print_json([{
            "date": p.label, "project": session.project,
            "stations": [{"station": s.key, "alias": s.alias, "apr_source": s.apr_source, "x": s.x, "y": s.y,
                          "z": s.z, "rinex": s.rinex, "interval": s.interval, "completion": s.completion}
                         for s in p.stations.values()],
            "skipped": [{"station": k, "reason": r} for k, r in p.skipped],
            "sessions": [{"subnet": s.subnet, "name": s.dirname, "directory": s.directory, "state": s.state,
                          "stations": s.stations, "ties": s.ties, "stored": s.stored} for s in p.sessions],
            "notes": p.notes} for p in plans])
        return
    rows = []
    for p in plans:
        if not p.sessions:
            rows.append((p.label, "", "", 0, 0, "no active stations"))
        for s in p.sessions:
            rows.append((p.label, s.subnet, s.dirname, len(s.stations), len(s.ties),
                         s.state + ("" if s.stored or s.state != "new" else " (partition not stored yet)")))
    console.table([console.Column("date", key=True, priority=0, wrap=False), console.Column.num("subnet", 3),
                   console.Column("session", priority=2, wrap=False), console.Column.num("stations", 1),
                   console.Column.num("ties", 1), console.Column("state", priority=0)], rows,
                  title=f"{session.project}: {len(plans)} day(s)")
    for p in plans:
        for key, reason in p.skipped:
            console.notice(f"{p.label} {key}: skipped, {reason}")
        for note in p.notes:
            console.warn(f"{p.label}: {note}")


@gamit_app.command("run")
def run_cmd(ctx: typer.Context, cfg: CfgArg, dates: DatesArg,
            dry_run: Annotated[bool, typer.Option("--dry-run", help="Build every task directory, then stop "
                                                  "before GAMIT (nothing is stored but the partition).")] = False,
            purge: Annotated[bool, typer.Option("--purge", help="First delete the days' directories and rows "
                                                "(gamit_soln, gamit_stats, gamit_subnets, gamit_ztd) and "
                                                "re-plan them.")] = False,
            parallel: Annotated[Optional[bool], typer.Option(
                "--parallel/--noparallel", help="Run sessions on Celery workers (queue 'gamit') or in this "
                "process; default: the global option, else the configuration.", show_default=False)] = None,
            include: IncludeOpt = None, exclude: ExcludeOpt = None, json_: JsonOpt = False) -> None:
    """Process the sessions not yet done: task directories, sh_gamit per system, GLOBK, stored results."""
    from geode.gamit import workflow

    actx, session, days = _setup(ctx, cfg, dates)
    if purge and dry_run:
        raise typer.BadParameter("--purge deletes results: it cannot be combined with --dry-run")
    runner = actx.runner(parallel)
    try:
        report = workflow.run(actx.db, actx.settings, session, days, runner, dry_run=dry_run, purge_first=purge,
                              extra_specs=_specs(include, exclude), progress=actx.progress())
    finally:
        runner.close()
    if actx.want_json(json_):
        console.print_json({"sessions": report.sessions, "days": report.days, "failures": report.failures,
                            "already_done": report.skipped_done, "incomplete_days": report.incomplete_days})
    else:
        _render_run(report, dry_run)
    for line in report.incomplete_days:
        console.notice(line)
    if report.failures:
        console.err.print(f"{len(report.failures)} unit(s) failed:", style="bold red", highlight=False)
    for f in report.failures:
        console.err.print(f"  {f['unit']}: {f['message']}", markup=False, highlight=False)
        if f.get("log_tail"):
            console.err.print("    " + f["log_tail"].replace("\n", "\n    "), markup=False, highlight=False,
                              style="dim")
    if report.failures:
        raise typer.Exit(1)


def _render_run(report, dry_run: bool) -> None:
    rows = []
    for r in report.sessions:
        if r.get("state") == "dry-run":
            rows.append((r["label"], "dry run", r["directory"]))
            continue
        systems = ", ".join(f"{s['system']} nrms {s['nrms']:.3f} WL {s['wl']:.0f}% NL {s['nl']:.0f}%"
                            if s["success"] else f"{s['system']} failed" for s in r.get("systems", []))
        rows.append((r["label"], r["state"], systems))
    if rows:
        console.table([console.Column("session", key=True, priority=0, wrap=False), console.Column("state", priority=0),
                       console.Column("detail", priority=1)], rows, title="GAMIT sessions")
    for r in report.sessions:
        for note in r.get("notes", []):
            console.warn(f"{r['label']}: {note}")
    if report.days:
        console.table([console.Column("day", key=True, priority=0, wrap=False), console.Column.num("stations stored", 0),
                       console.Column.num("ZTD values", 2), console.Column.num("variance factor", 1),
                       console.Column("missing", priority=1)],
                      [(d["label"], d["stations"], d["ztd"], f"{d['variance_factor']:.3f}", ", ".join(d["missing"]))
                       for d in report.days], title="daily solutions")
        for d in report.days:
            for note in d.get("sinex_notes", []):
                console.warn(f"{d['label']}: SINEX {note}")
    if report.skipped_done:
        console.notice(f"{report.skipped_done} session(s) already processed (use --purge to redo them)")
    if not rows and not report.days and not report.failures:
        console.notice("nothing to do")
    if dry_run:
        console.notice("dry run: task directories built, GAMIT not started")


@gamit_app.command("status")
def status_cmd(ctx: typer.Context, cfg: CfgArg, dates: DatesArg, json_: JsonOpt = False) -> None:
    """Per day and sub-network: planned, running, done or failed, with NRMS and ambiguity resolution."""
    from geode.gamit.workflow import status

    actx, session, days = _setup(ctx, cfg, dates)
    rows = status(actx.db, session, days)
    if actx.want_json(json_):
        console.print_json(rows)
        return
    console.table(
        [console.Column("date", key=True, priority=0, wrap=False), console.Column.num("subnet", 0),
         console.Column("state", priority=0, wrap=False), console.Column.num("stations", 3), console.Column.num("ties", 4),
         console.Column("systems", priority=2), console.Column.num("stored solutions", 3),
         console.Column("message", priority=1)],
        [(r["date"], "" if r["subnet"] is None else r["subnet"], r["state"], r["stations"], r["ties"],
          ", ".join(f"{s['system']} nrms {s['nrms']:.3f} WL {s['wl']:.0f}% NL {s['nl']:.0f}%" for s in r["systems"]),
          r["solutions"], r["message"]) for r in rows], title=session.project)
