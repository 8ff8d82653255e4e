"""The whole commands: ``geode stack run`` (load, stack, post-process, store) and ``geode stack etm``
(refit or reuse the stack's models).

Inline, the run's work lives in this process (one COPY in, one transaction out). On Celery workers it lives
in PostgreSQL: the coordinator writes the run's definition, units read their blocks and write their results
(transformations, models, statistics). Either way the coordinator, which holds the rows it read, applies the
final transformations and moves the rows into ``stacks`` in one transaction. Redis carries keys only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..dates import GnssDate
from ..errors import GeodeError, UsageError
from ..etm.model import EtmConfig
from .align import DEFAULT_MAX_ITERATIONS, DEFAULT_TOLERANCE, final_models, fit_step, iterate, make_spec
from .data import RunSpec, Solutions, StackResult, StationMeta
from .read import load_meta, preserved_flags, read_rows, read_solutions, stack_exists
from .tasks import FIT_CONTROL
from .work import DatabaseWork, MemoryWork, Work
from .write import StackWrite, save_models


def alignment_summary(name: str, project: str, result: StackResult) -> dict:
    return {"stack": name, "project": project, "converged": result.converged, "iterations": result.iterations,
            "days": [{"day": k, **v} for k, v in sorted(result.helmert.items())],
            "stations": {s: f.summary() for s, f in result.fits.items()}, "failures": result.failures}


def check_name(name: str) -> str:
    if not name or len(name) > 20:
        raise UsageError(f"stack name {name!r} must be 1 to 20 characters (stacks.name is varchar(20))")
    return name.lower()


def require_days(days, project: str) -> None:
    if not len(days):
        raise GeodeError(f"no daily solutions in gamit_soln for project {project!r} and these stations")


def open_work(runner, db, spec: RunSpec, sol: Solutions | None) -> Work:
    """The run's work where its units will find it: in this process for the inline runner, else in PostgreSQL
    (with a snapshot of the rows the coordinator has read: every unit works on the same data)."""
    if getattr(runner, "mode", "inline") == "inline":
        return MemoryWork(spec, sol)
    return DatabaseWork.create(db, spec, sol)


def fyears_of(years, doys) -> np.ndarray:
    return np.array([GnssDate.from_doy(y, d).fyear for y, d in zip(np.asarray(years).tolist(),
                                                                   np.asarray(doys).tolist())])


def _with_preserved(db, name: str, years, doys, stations: list[str], sol: Solutions, preserved) -> Solutions:
    """Rows of the preserved days from the stack (the rest from gamit_soln as read)."""
    if not preserved.any():
        return sol
    kept = read_rows(db, project="", name=name, years=years, doys=doys, preserved=preserved, day_offset=0,
                     stations=stations, station_offset=0)
    sol = Solutions.concat([sol.take(~preserved[sol.day]), kept])
    return sol.take(np.lexsort((sol.stn, sol.day)))


# --- the whole command --------------------------------------------------------------------------------------------

@dataclass
class StackRun:
    result: StackResult
    written_rows: int
    preserved_days: int
    models_written: int
    skipped_stations: list[str]
    meta: dict[str, StationMeta]  # what the stack was built with (a-priori positions, jumps), e.g. for plots


def run_stack(db, runner, *, name: str, project: str, stations: list[str], redo: bool = False,
              preserve: bool = False, exclude=(), end: GnssDate | None = None,
              max_iterations: int = DEFAULT_MAX_ITERATIONS, tolerance: float = DEFAULT_TOLERANCE,
              config: EtmConfig | None = None, common_modes: bool = False, constraints_file=None,
              progress=None, timings: dict | None = None) -> StackRun:
    """Load, stack, post-process and store. Without --redo/--preserve an existing stack is an error.

    ``timings``: filled with the seconds spent loading, computing and writing (benchmarks)."""
    import time

    clock = {"start": time.perf_counter()}

    def lap(what: str) -> None:
        now = time.perf_counter()
        if timings is not None:
            timings[what] = timings.get(what, 0.0) + now - clock["start"]
        clock["start"] = now

    name = check_name(name)
    if redo and preserve:
        raise UsageError("--redo rebuilds the stack and --preserve keeps it: choose one")
    exists = stack_exists(db, name)
    if exists and not (redo or preserve):
        raise UsageError(f"stack {name!r} already exists: --redo rebuilds it, --preserve adds new days to it")
    constraints = None
    if constraints_file is not None:
        from .frame import read_constraints

        constraints = read_constraints(constraints_file)
    years, doys, present, sol = read_solutions(db, project, stations, end)
    require_days(years, project)
    fyears = fyears_of(years, doys)
    preserved = np.zeros(len(years), bool)
    if preserve and exists:
        preserved = preserved_flags(db, name, years, doys, present, sol)
        sol = _with_preserved(db, name, years, doys, present, sol, preserved)
    meta = load_meta(db, present, span=(float(fyears[0]), float(fyears[-1])),
                     detect=bool(config is not None and config.detect_offsets))
    skipped = [s for s in present if s not in meta]
    spec = make_spec("stack", years, doys, fyears, preserved, present, meta, config=config, exclude=exclude,
                     project=project, name=name, size=len(sol))
    work = open_work(runner, db, spec, sol)
    lap("load")
    # the rows go into stacks on a connection of their own while the last step's models and the final models
    # are fitted: started as soon as the last step's days are aligned (committed only if the run gets as far)
    pending: StackWrite | None = None
    keys = spec.keys

    def on_aligned(step, helmert, last):
        nonlocal pending
        if pending is not None:
            pending.abort()
        pending = StackWrite(db, work, project, name, step, {keys[d]: h for d, h in helmert.items()},
                             replace=redo, when=last).start()
        return pending

    try:
        frame = common_modes or constraints  # they change the final rows: the write waits for them
        result = iterate(runner, work, max_iterations=max_iterations, tolerance=tolerance, progress=progress,
                         on_aligned=None if frame else on_aligned, models=bool(frame))
        if frame:
            from .frame import remove_common_modes, tie_to_frame

            if common_modes:
                result = remove_common_modes(runner, result, exclude=set(exclude))
            if constraints:
                result = tie_to_frame(runner, result, constraints)
        lap("compute")
        ahead = pending is not None and pending.step == result.step and pending.writes()
        if not ahead:
            if pending is not None:
                pending.abort()
            pending = StackWrite(db, work, project, name, result.step, result.helmert, replace=redo).start()
        result = final_models(runner, result, progress=progress)
        lap("final models")
        written = pending.commit()
        lap("stacks")
        if timings is not None:
            timings["stacks write"] = pending.seconds
            timings["stacks write ahead"] = float(ahead)  # started while the last step's models were fitted
        models = save_models(db, name, result)
        lap("etms")
    finally:
        if pending is not None:
            pending.abort()  # after an error or Ctrl-C: nothing reaches stacks (a no-op after the commit)
        if isinstance(work, DatabaseWork):
            work.finish()
    lap("cleanup")
    return StackRun(result, written, int(spec.preserved[result.kept].sum()), models,
                    [f"{s}: no a-priori position in stations" for s in skipped], meta)


def refit_models(db, runner, name: str, stations: list[str], config: EtmConfig | None = None, progress=None):
    """(Re)fit the stack's models for these stations with the current jumps; reuse unchanged ones.

    Returns ({station: fit}, {station: "reused"|"fitted"}, failures, series, meta)."""
    from ..etm.store import checksum, load_fits, save_fits

    config = config or EtmConfig()
    years, doys, present, sol = read_solutions(db, "", stations, table="stacks", name=name)
    if not len(years):
        raise GeodeError(f"stack {name!r} has no rows for these stations: run 'geode stack run' first")
    fyears = fyears_of(years, doys)
    meta = load_meta(db, present, span=(float(fyears[0]), float(fyears[-1])), detect=config.detect_offsets)
    by_stn = sol.by_station()
    bounds = np.searchsorted(by_stn.stn, np.arange(len(present) + 1))
    series, hashes = {}, {}
    for s, stn in enumerate(present):
        t, xyz = fyears[by_stn.day[bounds[s]:bounds[s + 1]]], by_stn.xyz[bounds[s]:bounds[s + 1]]
        series[stn] = (t, xyz, None)
        if stn in meta:
            hashes[stn] = checksum(t, xyz, meta[stn].etm_config(config))
    reused = load_fits(db, "gamit", name, {tuple(s.split(".", 1)): h for s, h in hashes.items()})
    fits = {s: reused[tuple(s.split(".", 1))] for s in hashes if tuple(s.split(".", 1)) in reused}
    how = {s: "reused" for s in fits}
    todo = {s: m for s, m in meta.items() if s not in fits}
    failures: dict[str, str] = {}
    if todo:
        # every day is the stack's own ("preserved"): the models are fitted to the stack as it is
        spec = make_spec("refit", years, doys, fyears, np.ones(len(years), bool), present, meta, config=config,
                         exclude=[s for s in present if s not in todo], project="", name=name, size=len(sol))
        work = open_work(runner, db, spec, sol)
        try:
            fit_step(runner, work, 0, FIT_CONTROL, final=True, progress=progress, failures=failures)
            new = work.models(0)
        finally:
            if isinstance(work, DatabaseWork):
                work.finish()
        save_fits(db, "gamit", name, [(*present[s].split(".", 1), fit, h) for s, (fit, h) in sorted(new.items())])
        for s, (fit, _) in new.items():
            fits[present[s]], how[present[s]] = fit, "fitted"
    return dict(sorted(fits.items())), how, [f"{k}: {v}" for k, v in sorted(failures.items())], series, meta

