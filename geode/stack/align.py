"""The iterations: align every day to its target (a-priori trajectories first, then the stations' models of
the aligned series), hold the datum of iteration 0, stop when the aligned coordinates no longer move.

Each step runs as units through the dispatch runner (``tasks``): blocks of days to align, blocks of stations
to model. Units get keys only; the run's state lives in its ``Work``. Results are
combined in block order, so inline and parallel runs give identical stacks.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import replace

import numpy as np

from ..etm.model import EtmConfig
from .data import (MAX_DAYS_PER_UNIT, MAX_STATIONS_PER_UNIT, UNITS_PER_STEP, Day, RunSpec, Solutions, StackResult,
                   StationMeta, block_size)
from .tasks import FIT_ALL, FIT_CONTROL, FIT_EXTRA, align_days_task, fit_stations_task
from .work import MemoryWork, Work, aligned, new_run_id

log = logging.getLogger("geode.stack")

DEFAULT_TOLERANCE = 1e-5  # m: 0.01 mm rms
DEFAULT_MAX_ITERATIONS = 10


@contextlib.contextmanager
def _units_see(work: Work):
    """While units run: this process's units (inline) find the work by its run id."""
    work.register()
    try:
        yield
    finally:
        work.close()


def run_units(runner, task, work: Work, items: list[tuple], *, progress=None, description: str = "",
              failures: dict[str, str] | None = None, label=None, weight=None) -> list[tuple[tuple, dict]]:
    """Run ``task`` over ``items`` (each starting with the run id); returns [(item, result)] in item order.
    A unit that fails is recorded in ``failures`` as ``label(item): message``. Progress counts the days or
    stations of the blocks (``weight``: the block's size by default)."""
    with _units_see(work):
        try:
            summary = runner.map(task, items, progress=progress, description=description,
                                 weight=weight or (lambda item: item[3] - item[2]))
        finally:
            work.units_ran()
    if failures is not None:
        for f in summary.failures:
            failures.setdefault(label(f.item) if label else str(f.item), f.message)
    return sorted(((o.item, o.result) for o in summary.results), key=lambda r: r[0])


def _day_label(work: Work):
    keys = work.spec.keys
    return lambda item: f"days {keys[item[2]]}..{keys[item[3] - 1]}"


def _station_label(work: Work):
    names = work.spec.stations
    return lambda item: f"stations {names[item[2]]}..{names[item[3] - 1]}"


def align_step(runner, work: Work, step: int, *, progress=None, failures: dict[str, str] | None = None
               ) -> dict[int, dict]:
    """Align the run's days for ``step``: {day index: {summary..., "params": [...]}} of the days aligned."""
    items = [(work.spec.run, step, lo, hi) for lo, hi in work.spec.day_blocks()]
    run_units(runner, align_days_task, work, items, progress=progress, description="alignment: days",
              failures=failures, label=_day_label(work))
    keys = work.spec.keys
    helmert: dict[int, dict] = {}
    for day, found in work.results(step, "align").items():
        if "failure" in found:
            if failures is not None:
                failures.setdefault(f"day {keys[day]}", found["failure"])  # the first reason is the real one
        else:
            helmert[day] = {**found["summary"], "params": found["params"]}
    return helmert


def fit_step(runner, work: Work, step: int, which: str = FIT_CONTROL, *, previous: int | None = None,
             final: bool = False, progress=None, failures: dict[str, str] | None = None
             ) -> tuple[float, float] | None:
    """Model the run's stations on the series of ``step`` (models stored in the work; ``final``: the configured
    model, else the white-noise one the iterations align to). With ``previous``: returns (rms, largest) change
    of the aligned coordinates since that step, metres."""
    items = [(work.spec.run, step, lo, hi, which, previous, final) for lo, hi in work.spec.station_blocks()]
    total, count, largest = 0.0, 0, 0.0
    for _, res in run_units(runner, fit_stations_task, work, items, progress=progress,
                            description="ETM fit: stations", failures=failures, label=_station_label(work)):
        if failures is not None:
            for name, message in res["failures"]:
                failures.setdefault(name, message)
        if res["change"] is not None:
            total += res["change"][0]
            count += res["change"][1]
            largest = max(largest, res["change"][2])
    if previous is None:
        return None
    return (float(np.sqrt(total / count)), largest) if count else (0.0, 0.0)


def _datum_design(t: np.ndarray, t0: float) -> np.ndarray:
    w = 2 * np.pi * t
    return np.column_stack([np.ones_like(t), t - t0, np.sin(w), np.cos(w), np.sin(2 * w), np.cos(2 * w)])


def hold_datum(fyears: np.ndarray, helmert: dict[int, dict], datum: dict[int, np.ndarray]) -> None:
    """Keep the stack in the a-priori frame of iteration 0 (adjusts ``helmert``'s params in place).

    Aligning days to models fitted to those same days leaves the frame free to move by any Helmert
    transformation, Helmert rate and annual/semi-annual Helmert signal (the datum defect: every station's
    model absorbs it). Left alone the stack drifts a little each iteration and never converges. We fit those
    terms to the per-day parameter differences from iteration 0 and remove them; for small angles the
    transformation is linear in its parameters, so this is exact.
    """
    used = [d for d in helmert if d in datum]
    if len(used) < 2:
        return
    t = np.array([fyears[d] for d in used])
    diff = np.array([np.array(helmert[d]["params"]) - datum[d] for d in used])
    coef = np.linalg.lstsq(_datum_design(t, t.mean()), diff, rcond=None)[0]
    for d, h in helmert.items():
        params = np.array(h["params"]) - (_datum_design(np.array([fyears[d]]), t.mean()) @ coef)[0]
        h["params"] = params.tolist()
        h["rotation_nrad"], h["translation_mm"] = params[:3].tolist(), (params[3:6] * 1e3).tolist()


def predicted_change(work: Work, transforms: dict[int, list], before: dict[int, list]) -> float:
    """The rms movement ``fit_step`` will report for a step aligned by ``transforms`` (the previous one by
    ``before``): the same blocks, the same arithmetic in the same order as its units, so the same value."""
    from .tasks import movement

    spec = work.spec
    kept = spec.preserved.copy()
    kept[list(transforms)] = True
    total, count = 0.0, 0
    for lo, hi in spec.station_blocks():
        sol = work.station_rows(lo, hi)
        sol = sol.take(kept[sol.day])
        moved = movement(spec, sol, aligned(sol, transforms), transforms, before)
        total += moved[0]
        count += moved[1]
    return float(np.sqrt(total / count)) if count else 0.0


def iterate(runner, work: Work, *, max_iterations: int = DEFAULT_MAX_ITERATIONS,
            tolerance: float = DEFAULT_TOLERANCE, progress=None, on_aligned=None, models: bool = True) -> StackResult:
    """The stack's iterations on a run's work (see the package docstring). ``models=False``: the result's
    ``fits`` are left empty (the caller fits the final models next and reads those).

    ``on_aligned(step, helmert, last)``, when given, is called once a step's days are aligned and the step may
    be the last: ``last()`` tells (from the transformations alone, while the step's models are fitted) whether
    it will be, or is None when it must be (the last iteration allowed). What it returns is aborted
    (``.abort()``) when the step turns out not to be the last. ``helmert``: {day index: summary}."""
    spec = work.spec
    failures: dict[str, str] = {}
    history, converged = [], False
    datum: dict[int, np.ndarray] = {}
    helmert: dict[int, dict] = {}
    step = 0
    for step in range(max_iterations):
        helmert = align_step(runner, work, step, progress=progress, failures=failures)
        if step == 0:
            datum = {d: np.array(h["params"]) for d, h in helmert.items()}
        else:
            hold_datum(spec.fyears, helmert, datum)
        work.put_transforms(step, {d: [np.array(h["params"])] for d, h in helmert.items()})
        ahead = None
        if on_aligned is not None and (step > 0 or step == max_iterations - 1):
            if step == max_iterations - 1:
                ahead = on_aligned(step, helmert, None)
            else:
                now, before = work.transforms(step), work.transforms(step - 1)
                ahead = on_aligned(step, helmert, lambda: predicted_change(work, now, before) < tolerance)
        moved = fit_step(runner, work, step, FIT_CONTROL, previous=step - 1 if step else None, progress=progress,
                         failures=failures)
        change, largest = moved if moved is not None else (None, None)
        history.append({"iteration": step, "days_aligned": len(helmert),
                        "rms_change_mm": None if change is None else change * 1e3,
                        "max_change_mm": None if largest is None else largest * 1e3,
                        "mean_wrms_mm": float(np.mean([h["wrms_mm"] for h in helmert.values()])) if helmert else None})
        log.info("iteration %d: %d days aligned%s", step, len(helmert),
                 "" if change is None else f", coordinates moved {change * 1e3:.3f} mm rms ({largest * 1e3:.3f} max)")
        if change is not None and change < tolerance:
            converged = True
            break
        if ahead is not None and step < max_iterations - 1:
            ahead.abort()
    # stations outside the control set still get a model of their aligned series
    if any(m is not None for m, c in zip(spec.meta, spec.control) if not c):
        fit_step(runner, work, step, FIT_EXTRA, progress=progress, failures=failures)
    keys = spec.keys
    return StackResult({keys[d]: h for d, h in helmert.items()}, models_by_name(work, step) if models else {},
                       history, converged,
                       [f"{k}: {v}" for k, v in sorted(failures.items())], work, step, kept=work.kept(step))


def final_models(runner, result: StackResult, *, progress=None) -> StackResult:
    """The stack's stored models: every station with metadata fitted once more on the final series, with the
    run's configured model (noise model, offset detection, MIDAS velocity)."""
    failures: dict[str, str] = {}
    fit_step(runner, result.work, result.step, FIT_ALL, final=True, progress=progress, failures=failures)
    more = [f"{k}: {v}" for k, v in sorted(failures.items()) if f"{k}: {v}" not in result.failures]
    return replace(result, fits=models_by_name(result.work, result.step), failures=result.failures + more,
                   _days=result._days)


def models_by_name(work: Work, step: int) -> dict[str, object]:
    names = work.spec.stations
    return dict(sorted((names[s], fit) for s, (fit, _) in work.models(step).items()))


def make_spec(kind: str, years, doys, fyears, preserved, stations: list[str], meta: dict[str, StationMeta], *,
              config: EtmConfig | None = None, exclude=(), project: str = "", name: str | None = None,
              size: int = 0) -> RunSpec:
    """A run's definition: its days and stations (sorted), each station's metadata (None: not stackable) and
    whether it is alignment control, and the blocks its units work on."""
    years = np.asarray(years, dtype=np.int64)
    stations = list(stations)
    exclude = set(exclude)
    return RunSpec(new_run_id(), kind, project, name, years, np.asarray(doys, dtype=np.int64),
                   np.asarray(fyears, dtype=float), np.asarray(preserved, dtype=bool), stations,
                   [meta.get(s) for s in stations],
                   np.array([s in meta and s not in exclude for s in stations], dtype=bool), config or EtmConfig(),
                   block_size(len(years), UNITS_PER_STEP, MAX_DAYS_PER_UNIT),
                   block_size(len(stations), UNITS_PER_STEP, MAX_STATIONS_PER_UNIT), size)


def memory_work(kind: str, days: list[Day], meta: dict[str, StationMeta], **spec_args) -> MemoryWork:
    """A run's work in memory from Day objects (their order; each day's rows sorted by station)."""
    stations = sorted({s for d in days for s in d.stations})
    index = {s: i for i, s in enumerate(stations)}
    day = np.concatenate([np.full(len(d.stations), i) for i, d in enumerate(days)]) if days else np.zeros(0, int)
    stn = np.array([index[s] for d in days for s in d.stations], dtype=np.int64)
    xyz = np.concatenate([np.asarray(d.xyz, dtype=float).reshape(-1, 3) for d in days]) if days else np.zeros((0, 3))
    sol = Solutions(day.astype(np.int64), stn, xyz)
    sol = sol.take(np.lexsort((sol.stn, sol.day)))
    spec = make_spec(kind, [d.year for d in days], [d.doy for d in days], [d.fyear for d in days],
                     [d.preserved for d in days], stations, meta, size=len(sol), **spec_args)
    return MemoryWork(spec, sol, source_days=days)


def stack(runner, days: list[Day], meta: dict[str, StationMeta], *, config: EtmConfig | None = None,
          exclude=(), max_iterations: int = DEFAULT_MAX_ITERATIONS, tolerance: float = DEFAULT_TOLERANCE,
          progress=None) -> StackResult:
    """Stack days held in memory (inline runner: the units find them in this process)."""
    work = memory_work("stack", days, meta, config=config, exclude=exclude)
    result = iterate(runner, work, max_iterations=max_iterations, tolerance=tolerance, progress=progress)
    return final_models(runner, result, progress=progress)
