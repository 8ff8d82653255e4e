"""`geode stack`: align daily solutions into a stack, fit and inspect trajectory models (ETMs)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from geode.dates import DATE_FORMS_HELP

from . import console
from .context import app_context
from .options import JsonOpt, StationsArg, output_file, output_folder

stack_app = typer.Typer(
    help="Stack daily GAMIT solutions (gamit_soln) into aligned time series and fit trajectory models.\n\n"
         "Start with: geode stack run NAME STATIONS --project PROJECT  (e.g. geode stack run mystack all "
         "--project example-gamit). Then 'geode stack show NAME' for velocities and 'geode stack etm' to add or "
         "remove jumps and refit.", no_args_is_help=True)

ParallelOpt = Annotated[Optional[bool], typer.Option(
    "--parallel/--noparallel", help="Fit and align on Celery workers (queue 'compute') or in this process; "
    "default: the global option, else the configuration.", show_default=False)]
PlotOpt = Annotated[Optional[Path], typer.Option("--plot", metavar="DIR",
                                                 help="Write one PNG time series with its model per station.")]
NoiseOpt = Annotated[str, typer.Option(
    "--noise-model", metavar="MODEL", help="Noise model of the trajectory fits: white, white+flicker or "
    "powerlaw+white (maximum likelihood per component; velocity sigmas from it).")]
DetectOpt = Annotated[bool, typer.Option(
    "--detect-offsets", help="Search for unknown offsets (station-info changes, nearby earthquakes and the data "
    "itself; accepted by BIC under the noise model) and list them for review.")]


def register(app: typer.Typer) -> None:
    app.add_typer(stack_app, name="stack")


def _etm_config(noise_model: str, detect: bool):
    from geode.errors import UsageError
    from geode.etm.model import EtmConfig
    from geode.etm.noise import NOISE_MODELS

    if noise_model not in NOISE_MODELS:
        raise UsageError(f"--noise-model {noise_model}: choose one of {', '.join(NOISE_MODELS)}")
    return EtmConfig(noise_model=noise_model, detect_offsets=detect)


def _refs(actx, specs):
    from geode.stations import select_stations

    return [str(r) for r in select_stations(actx.db, specs or ["all"])]


def _plots(directory: Path, name: str, fits: dict, series: dict, meta: dict) -> int:
    from geode.geodesy.coordinates import xyz2neu
    from geode.plots import etm_png

    directory.mkdir(parents=True, exist_ok=True)
    for stn, fit in fits.items():
        t, xyz, _ = series[stn]
        m = meta[stn]
        etm_png(directory / f"{stn}_{name}.png", t, xyz2neu(xyz - m.apriori, m.lat, m.lon), fit,
                f"{stn} (stack {name})")
    return len(fits)


def _noise_text(s: dict) -> str:
    noise = s["noise"]
    if noise["white_mm"] is None:
        return ""
    pl = noise["powerlaw_mm_yr^(-kappa/4)"] or {c: 0.0 for c in "neu"}
    return " ".join(f"{noise['white_mm'][c]:.1f}/{pl[c]:.1f}" for c in "neu")


def _velocity_rows(fits: dict, how: dict | None = None):
    for stn, fit in fits.items():
        s = fit.summary()
        v, sv, w = s["velocity_mm_yr"], s["velocity_sigma_mm_yr"], s["wrms_mm"]
        mv = s["midas_velocity_mm_yr"]
        row = [stn, s["epochs"], *(f"{v[c]:.2f} ± {sv[c]:.2f}" for c in "neu"),
               "" if mv is None else " ".join(f"{mv[c]:.2f}" for c in "neu"), _noise_text(s),
               *(f"{w[c]:.2f}" for c in "neu"), len(s["jumps"]), len(s["detected_offsets"]), s["outliers"],
               "ETM≠MIDAS" if s["midas_disagrees"] else ""]
        if how is not None:
            row.append(how.get(stn, ""))
        yield row


# The key is the station; velocities are never hidden. On a narrow terminal the columns with the highest
# priority number are hidden first: counts, then noise, WRMS, MIDAS. New columns: give them a priority.
VEL_COLUMNS = [console.Column("station", key=True, priority=0, wrap=False), console.Column.num("epochs", 6),
               *(console.Column.num(f"v{c} mm/yr", 0) for c in "NEU"),
               console.Column("MIDAS vN vE vU", priority=2, wrap=False),
               console.Column("noise white/PL mm N E U", priority=4, wrap=False),
               *(console.Column.num(f"wrms{c} mm", 3) for c in "NEU"),
               console.Column.num("jumps", 5), console.Column.num("detected", 5), console.Column.num("outliers", 6),
               console.Column("flag", priority=1, wrap=False)]
OFFSET_COLUMNS = [console.Column("station", key=True, priority=0, wrap=False),
                  console.Column("date", priority=0, wrap=False),
                  *(console.Column.num(f"{c} mm", 1) for c in "NEU"), console.Column.num("chi2", 3),
                  console.Column.num("BIC cost", 3), console.Column("origin", priority=2, wrap=False),
                  console.Column("description", priority=2)]


def _offset_rows(fits: dict):
    from geode.dates import GnssDate

    for stn, fit in fits.items():
        for off in fit.detected:
            d = off.summary()
            yield [stn, GnssDate.from_fyear(off.fyear).yyyy_ddd,
                   *(f"{d['size_mm'][i]:.1f} ± {d['sigma_mm'][i]:.1f}" for i in range(3)), f"{d['chi2']:.0f}",
                   f"{d['bic_cost']:.0f}", d["origin"], d["description"]]


def _model_tables(fits: dict, title: str, how: dict | None = None) -> None:
    console.table(VEL_COLUMNS + ([console.Column("model", priority=5, wrap=False)] if how is not None else []),
                  _velocity_rows(fits, how), title=title)
    offsets = list(_offset_rows(fits))
    if offsets:
        console.table(OFFSET_COLUMNS, offsets, title="detected offsets (review: geode stack etm NAME STATIONS "
                      "--accept-offsets | --reject-offsets)")
    notes = [(stn, note) for stn, fit in fits.items() for note in fit.notes]
    if notes:
        console.table([console.Column("station", key=True, priority=0, wrap=False),
                       console.Column("model note", priority=0)], notes)


@stack_app.command("run")
def run_cmd(ctx: typer.Context,
            name: Annotated[str, typer.Argument(help="Stack name (stacks.name, up to 20 characters).")],
            stations: StationsArg = None,
            project: Annotated[str, typer.Option("--project", "-p", help="gamit_soln project to stack.")] = ...,
            redo: Annotated[bool, typer.Option("--redo", help="Rebuild an existing stack from gamit_soln (its old "
                                               "rows are replaced in the same transaction).")] = False,
            preserve: Annotated[bool, typer.Option("--preserve", help="Keep an existing stack's days and align only "
                                                   "days that are new or changed in gamit_soln.")] = False,
            exclude: Annotated[Optional[list[str]], typer.Option(
                "--exclude", "-e", metavar="NET.STN", help="Not used as alignment control (still aligned); repeat.")] = None,
            end: Annotated[Optional[str], typer.Option("--end", "-d",
                                                       help="Last day to stack. " + DATE_FORMS_HELP)] = None,
            max_iterations: Annotated[int, typer.Option("--max-iterations", min=1, max=50,
                                                        help="Stop here if not converged.")] = 10,
            tolerance_mm: Annotated[float, typer.Option("--tolerance-mm", min=0.0,
                                                        help="Converged when the aligned coordinates move less "
                                                        "than this (RMS) between iterations.")] = 0.01,
            common_modes: Annotated[bool, typer.Option("--common-modes", help="Remove network-wide annual and "
                                                       "semi-annual signals (7-parameter Helmert).")] = False,
            constraints: Annotated[Optional[Path], typer.Option(
                "--constraints", metavar="FILE", help="Tie to a frame: lines 'net.stn x y z epoch [vx vy vz]'.")] = None,
            summary: Annotated[Optional[Path], typer.Option(
                "--summary", metavar="FILE", help="Alignment summary JSON [default: NAME_alignment.json].")] = None,
            noise_model: NoiseOpt = "white+flicker", detect_offsets: DetectOpt = False,
            plot: PlotOpt = None, parallel: ParallelOpt = None, json_: JsonOpt = False) -> None:
    """Align each day to the stations' trajectories, iterate to convergence, store stack rows and ETMs."""
    import json

    from geode.dates import parse_date
    from geode.stack import alignment_summary, run_stack, station_series

    path = output_file(summary or Path(f"{name.lower()}_alignment.json"), "--summary")
    if plot is not None:
        output_folder(plot, "--plot")
    actx = app_context(ctx)
    config = _etm_config(noise_model, detect_offsets)
    refs = _refs(actx, stations)
    runner = actx.runner(parallel)
    try:
        run = run_stack(actx.db, runner, name=name, project=project, stations=refs, redo=redo, preserve=preserve,
                        exclude=[e.lower() for e in exclude or []], end=parse_date(end) if end else None,
                        max_iterations=max_iterations, tolerance=tolerance_mm / 1e3, common_modes=common_modes,
                        constraints_file=constraints, config=config, progress=actx.progress())
    finally:
        runner.close()
    res = run.result
    doc = alignment_summary(name.lower(), project, res)
    doc["frame"] = res.frame
    path.write_text(json.dumps(doc, indent=1, default=float), encoding="utf-8")
    if plot is not None:
        count = _plots(plot, name.lower(), res.fits, station_series(res.days), run.meta)
        console.notice(f"{count} plot(s) in {plot}")
    failures = run.skipped_stations + res.failures
    if not res.converged:
        failures.append(f"stack: not converged after {len(res.iterations)} iterations "
                        f"(last change {res.iterations[-1]['rms_change_mm'] or 0:.4f} mm rms); raise --max-iterations")
    if actx.want_json(json_):
        console.print_json({"stack": name.lower(), "project": project, "converged": res.converged,
                            "iterations": res.iterations, "days": len(res.days), "rows_written": run.written_rows,
                            "preserved_days": run.preserved_days, "models_written": run.models_written,
                            "summary_file": str(path), "stations": {s: f.summary() for s, f in res.fits.items()},
                            "frame": res.frame, "failures": failures})
    else:
        _model_tables(res.fits, f"stack {name.lower()}: {len(res.days)} days, {len(res.iterations)} iteration(s), "
                      f"{'converged' if res.converged else 'NOT converged'}")
        console.notice(f"{run.written_rows} stack rows written, {run.preserved_days} day(s) preserved, "
                       f"{run.models_written} model(s) stored; alignment summary: {path}")
    console.failures(failures, "unit(s) failed")
    if failures:
        raise typer.Exit(1)


@stack_app.command("etm")
def etm_cmd(ctx: typer.Context,
            name: Annotated[str, typer.Argument(help="Stack whose series to model.")],
            stations: StationsArg = None,
            jump: Annotated[Optional[list[str]], typer.Option(
                "--jump", metavar="DATE[:KIND]", help="Add a jump (KIND mechanical|geophysical|postseismic, default "
                "mechanical) for the selected stations; stored in etm_params. Repeat.")] = None,
            no_jump: Annotated[Optional[list[str]], typer.Option(
                "--no-jump", metavar="DATE", help="Switch off any jump within a day of DATE. Repeat.")] = None,
            accept_offsets: Annotated[bool, typer.Option(
                "--accept-offsets", help="Accept the detected offsets stored with the selected stations' models: "
                "they become jumps in etm_params.")] = False,
            reject_offsets: Annotated[bool, typer.Option(
                "--reject-offsets", help="Reject them: stored in etm_params as switched-off jumps, never proposed "
                "again.")] = False,
            noise_model: NoiseOpt = "white+flicker", detect_offsets: DetectOpt = False,
            plot: PlotOpt = None, parallel: ParallelOpt = None, json_: JsonOpt = False) -> None:
    """Fit (or reuse, when data and jumps are unchanged) the stack's trajectory models; add/remove jumps; review
    detected offsets."""
    from geode.dates import parse_date
    from geode.errors import UsageError
    from geode.etm.model import GEOPHYSICAL, MECHANICAL, POSTSEISMIC
    from geode.etm.sources import add_user_jump, review_offsets
    from geode.stack import refit_models, stored_models

    if plot is not None:
        output_folder(plot, "--plot")
    actx = app_context(ctx)
    if accept_offsets and reject_offsets:
        raise UsageError("--accept-offsets and --reject-offsets: choose one")
    config = _etm_config(noise_model, detect_offsets)
    refs = _refs(actx, stations)
    kinds = {"mechanical": MECHANICAL, "geophysical": GEOPHYSICAL, "postseismic": POSTSEISMIC}
    edits = []
    for text in jump or []:
        date, _, kind = text.partition(":")
        if (kind or "mechanical") not in kinds:
            raise UsageError(f"--jump {text}: kind must be one of {', '.join(kinds)}")
        edits.append((parse_date(date), kinds[kind or "mechanical"], False))
    edits += [(parse_date(d), MECHANICAL, True) for d in no_jump or []]
    for ref in refs:
        net, code = ref.split(".")
        for date, kind, remove in edits:
            add_user_jump(actx.db, net, code, "gamit", date, kind, remove=remove)
    if accept_offsets or reject_offsets:
        stored = stored_models(actx.db, name.lower())
        reviewed = sum(review_offsets(actx.db, *ref.split("."), "gamit", stored[ref].detected, accept_offsets)
                       for ref in refs if ref in stored)
        console.notice(f"{reviewed} detected offset(s) {'accepted' if accept_offsets else 'rejected'}")
    runner = actx.runner(parallel)
    try:
        fits, how, failures, series, meta = refit_models(actx.db, runner, name.lower(), refs, config,
                                                         progress=actx.progress())
    finally:
        runner.close()
    if plot is not None:
        console.notice(f"{_plots(plot, name.lower(), fits, series, meta)} plot(s) in {plot}")
    if actx.want_json(json_):
        console.print_json({"stack": name.lower(), "stations": {s: {**f.summary(), "model": how[s]}
                                                               for s, f in fits.items()}, "failures": failures})
    else:
        _model_tables(fits, f"stack {name.lower()}", how)
    console.failures(failures, "unit(s) failed")
    if failures:
        raise typer.Exit(1)


@stack_app.command("show")
def show_cmd(ctx: typer.Context,
             name: Annotated[Optional[str], typer.Argument(help="A stack: show its stored models.")] = None,
             json_: JsonOpt = False) -> None:
    """List stacks, or one stack's stored trajectory models (noise-aware and MIDAS velocities, noise amplitudes,
    WRMS, jumps, detected offsets; ETM≠MIDAS flags a station whose two velocities differ by more than 3x their
    combined sigma)."""
    from geode.errors import GeodeError
    from geode.stack import list_stacks, stored_models

    actx = app_context(ctx)
    if name is None:
        from geode.dates import GnssDate

        rows = list_stacks(actx.db)
        if actx.want_json(json_):
            console.print_json([{**r, "first": GnssDate.from_fyear(r["first"]).yyyy_ddd,
                                 "last": GnssDate.from_fyear(r["last"]).yyyy_ddd} for r in rows])
        else:
            console.table([console.Column("name", key=True, priority=0, wrap=False), "project",
                           console.Column.num("days", 2), console.Column.num("stations", 2), "first", "last"],
                          [(r["name"], r["project"], r["days"], r["stations"], GnssDate.from_fyear(r["first"]).yyyy_ddd,
                            GnssDate.from_fyear(r["last"]).yyyy_ddd) for r in rows])
        return
    fits = stored_models(actx.db, name.lower())
    if not fits:
        raise GeodeError(f"stack {name.lower()!r} has no stored models (see 'geode stack show' for stacks)")
    if actx.want_json(json_):
        console.print_json({s: f.summary() for s, f in fits.items()})
    else:
        _model_tables(fits, f"stack {name.lower()}")
