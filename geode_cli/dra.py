"""`geode dra`: daily repeatability of a GAMIT project's solutions."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from geode.dates import DATE_FORMS_HELP

from . import console
from .context import app_context
from .options import JsonOpt, StationsArg, output_folder


def register(app: typer.Typer) -> None:
    app.command("dra")(dra_cmd)


def dra_cmd(ctx: typer.Context,
            project: Annotated[str, typer.Argument(help="gamit_soln project.")],
            stations: StationsArg = None,
            dates: Annotated[Optional[list[str]], typer.Option(
                "--dates", "-d", metavar="DATE", help="First [and last] day (give twice). " + DATE_FORMS_HELP)] = None,
            output: Annotated[Path, typer.Option("--output", "-o", metavar="DIR",
                                                 help="Folder for PROJECT_dra.json/.csv/.png and plots.")] = Path("."),
            plot: Annotated[bool, typer.Option("--plot", help="Also one PNG of differences per station.")] = False,
            limit_mm: Annotated[float, typer.Option("--limit-mm", min=0.0,
                                                    help="Flag days whose alignment WRMS exceeds this.")] = 8.0,
            save_excluded: Annotated[bool, typer.Option(
                "--save-excluded", help="Record outlier epochs in gamit_soln_excl (adds rows, never deletes).")] = False,
            parallel: Annotated[Optional[bool], typer.Option("--parallel/--noparallel", show_default=False,
                                                             help="Per-station work on Celery workers.")] = None,
            json_: JsonOpt = False) -> None:
    """Daily repeatability: chain-align each day to the previous one, difference each station's series and
    report robust WRMS N/E/U per station (about sqrt(2)·noise), daily WRMS and days over --limit-mm."""
    import json

    from geode.dates import parse_date_range
    from geode.dra import run_dra, save_exclusions
    from geode.stack import load_days, load_meta, require_days
    from geode.stations import select_stations

    output_folder(output, "--output")
    actx = app_context(ctx)
    refs = [str(r) for r in select_stations(actx.db, stations or ["all"])]
    start_end = parse_date_range(dates) if dates else None
    days = load_days(actx.db, project, refs, start_end[1] if start_end else None)
    if start_end:
        days = [d for d in days if (d.year, d.doy) >= (start_end[0].year, start_end[0].doy)]
    require_days(days, project)
    meta = load_meta(actx.db, sorted({s for d in days for s in d.stations}), with_jumps=False)
    runner = actx.runner(parallel)
    try:
        result = run_dra(runner, days, meta, db=actx.db, project=project, progress=actx.progress(),
                         limit_mm=limit_mm)
    finally:
        runner.close()
    excluded = save_exclusions(actx.db, project, result) if save_excluded else 0
    output.mkdir(parents=True, exist_ok=True)
    summary = result.summary()
    summary["excluded_saved"] = excluded
    (output / f"{project}_dra.json").write_text(json.dumps(summary, indent=1), encoding="utf-8")
    (output / f"{project}_dra.csv").write_text(result.to_csv(), encoding="utf-8")
    from geode.plots import dra_png

    dra_png(output / f"{project}_dra.png", result, project)
    if plot:
        _station_plots(output / f"{project}_dra", result)
    if actx.want_json(json_):
        console.print_json({k: v for k, v in summary.items() if k != "per_day"})
    else:
        console.table([console.Column("station", key=True, priority=0, wrap=False), console.Column.num("epochs", 2),
                       *(console.Column.num(f"wrms{c} mm", 0) for c in "NEU"), console.Column.num("outliers", 1)],
                      [(s, v["epochs"], *(f"{w:.2f}" for w in (v["wrms_mm"] or [float("nan")] * 3)),
                        len(v["outliers"])) for s, v in result.stations.items()],
                      title=f"{project}: daily repeatability, {len(days)} days")
        for day in result.flagged_days:
            console.warn(f"day {day}: alignment WRMS above {limit_mm} mm")
        console.notice(f"written: {output / (project + '_dra.json')}, .csv, .png"
                       + (f"; {excluded} outlier epoch(s) saved to gamit_soln_excl" if save_excluded else ""))
    console.failures(result.failures, "unit(s) failed")
    if result.failures:
        raise typer.Exit(1)


def _station_plots(directory: Path, result) -> None:
    from geode.plots import _plt

    plt = _plt()
    directory.mkdir(parents=True, exist_ok=True)
    for stn, s in result.series.items():
        fig, axes = plt.subplots(3, 1, figsize=(10, 6), sharex=True)
        for i, (ax, comp) in enumerate(zip(axes, "NEU")):
            good = s["good"]
            ax.plot(s["t"][good], s["diff_mm"][good, i], ".", ms=2)
            ax.plot(s["t"][~good], s["diff_mm"][~good, i], ".", ms=3, color="tab:cyan")
            ax.set_ylabel(f"d{comp} [mm]")
        fig.suptitle(f"{stn}: day-to-day differences")
        fig.savefig(directory / f"{stn}.png", dpi=80)
        plt.close(fig)
