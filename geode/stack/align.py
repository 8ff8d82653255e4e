"""The iterations: align every day to its target (a-priori trajectories first, then the stations' models of
the aligned series), hold the datum of iteration 0, stop when the aligned coordinates no longer move."""

from __future__ import annotations

import logging

import numpy as np

from ..etm.model import EtmConfig
from .data import Day, StackResult, StationMeta, station_series
from .models import fit_models

log = logging.getLogger("geode.stack")

DEFAULT_TOLERANCE = 1e-5  # m: 0.01 mm rms
DEFAULT_MAX_ITERATIONS = 10


def _targets_from_apriori(days: list[Day], meta: dict[str, StationMeta]) -> list[tuple[list[str], np.ndarray]]:
    t = np.array([d.fyear for d in days])
    moving = {s: m.position(m.apriori_fit, t)  # one evaluation per station
              for s, m in meta.items() if m.apriori_fit is not None}
    out = []
    for i, day in enumerate(days):
        names = [s for s in day.stations if s in meta]
        out.append((names, np.array([moving[s][i] if s in moving else meta[s].apriori for s in names]).reshape(-1, 3)))
    return out


def _targets_from_models(days: list[Day], series, models: dict[str, np.ndarray]):
    per_day: list[dict[str, np.ndarray]] = [{} for _ in days]
    for stn, model in models.items():
        for (d, _r), xyz in zip(series[stn][2], model):
            per_day[d][stn] = xyz
    out = []
    for day, got in zip(days, per_day):
        names = [s for s in day.stations if s in got]
        out.append((names, np.array([got[s] for s in names]).reshape(-1, 3)))
    return out


def align_days(runner, days: list[Day], targets, *, progress=None, failures: dict[str, str] | None = None):
    """Align every non-preserved day to its target; returns (aligned days, {day key: helmert summary})."""
    from ..geodesy.helmert import apply_helmert
    from .tasks import align_day

    todo = [i for i, d in enumerate(days) if not d.preserved]
    items = [(days[i].key, days[i].stations, days[i].xyz, targets[i][0], targets[i][1]) for i in todo]
    summary = runner.map(align_day, items, progress=progress, description="alignment: days")
    by_key = {o.result["day"]: o.result for o in summary.results}
    aligned, helmert = [], {}
    for day in days:
        res = by_key.get(day.key)
        if day.preserved:
            aligned.append(day)
        elif res is not None:
            aligned.append(Day(day.year, day.doy, day.fyear, day.stations, apply_helmert(day.xyz, res["helmert"])))
            helmert[day.key] = {**res["summary"], "params": [float(v) for v in res["helmert"]]}
    if failures is not None:
        for f in summary.failures:
            failures.setdefault(f"day {f.item[0]}", f.message)  # the first reason is the real one
    return aligned, helmert


def _datum_design(t: np.ndarray, t0: float) -> np.ndarray:
    w = 2 * np.pi * t
    return np.column_stack([np.ones_like(t), t - t0, np.sin(w), np.cos(w), np.sin(2 * w), np.cos(2 * w)])


def hold_datum(raw: list[Day], aligned: list[Day], helmert: dict[str, dict], datum: dict[str, np.ndarray]):
    """Keep the stack in the a-priori frame of iteration 0.

    Aligning days to models fitted to those same days leaves the frame free to move by any Helmert
    transformation, Helmert rate and annual/semi-annual Helmert signal (the datum defect: every station's
    model absorbs it). Left alone the stack drifts a little each iteration and never converges. We fit those
    terms to the per-day parameter differences from iteration 0 and remove them; for small angles the
    transformation is linear in its parameters, so this is exact.
    """
    from ..geodesy.helmert import apply_helmert

    used = [d for d in raw if d.key in helmert and d.key in datum]
    if len(used) < 2:
        return aligned
    keys, t = [d.key for d in used], np.array([d.fyear for d in used])
    diff = np.array([np.array(helmert[k]["params"]) - datum[k] for k in keys])
    G = _datum_design(t, t.mean())
    coef = np.linalg.lstsq(G, diff, rcond=None)[0]
    by_key = {d.key: d for d in raw}
    out = []
    for day in aligned:
        h = helmert.get(day.key)
        if day.preserved or h is None:
            out.append(day)
            continue
        params = np.array(h["params"]) - (_datum_design(np.array([day.fyear]), t.mean()) @ coef)[0]
        h["params"] = params.tolist()
        h["rotation_nrad"], h["translation_mm"] = params[:3].tolist(), (params[3:6] * 1e3).tolist()
        out.append(Day(day.year, day.doy, day.fyear, day.stations, apply_helmert(by_key[day.key].xyz, params)))
    return out


def stack(runner, days: list[Day], meta: dict[str, StationMeta], *, config: EtmConfig | None = None,
          exclude=(), max_iterations: int = DEFAULT_MAX_ITERATIONS, tolerance: float = DEFAULT_TOLERANCE,
          progress=None) -> StackResult:
    config = config or EtmConfig()
    failures: dict[str, str] = {}
    control = {s: m for s, m in meta.items() if s not in exclude}
    targets = _targets_from_apriori(days, control)
    previous: dict[str, np.ndarray] | None = None
    history, converged = [], False
    aligned, helmert, fits = days, {}, {}
    datum: dict[str, np.ndarray] = {}
    for iteration in range(max_iterations):
        aligned, helmert = align_days(runner, days, targets, progress=progress, failures=failures)
        if iteration == 0:
            datum = {k: np.array(h["params"]) for k, h in helmert.items()}
        else:
            aligned = hold_datum(days, aligned, helmert, datum)
        current = {d.key: d.xyz for d in aligned if not d.preserved and d.key in helmert}
        change = largest = None
        if previous is not None:
            diffs = [current[k] - previous[k] for k in current if k in previous]
            flat = np.concatenate([d.ravel() for d in diffs]) if diffs else np.zeros(1)
            change, largest = float(np.sqrt(np.mean(flat ** 2))), float(np.max(np.abs(flat)))
        history.append({"iteration": iteration, "days_aligned": len(helmert),
                        "rms_change_mm": None if change is None else change * 1e3,
                        "max_change_mm": None if largest is None else largest * 1e3,
                        "mean_wrms_mm": float(np.mean([h["wrms_mm"] for h in helmert.values()])) if helmert else None})
        log.info("iteration %d: %d days aligned%s", iteration, len(helmert),
                 "" if change is None else f", coordinates moved {change * 1e3:.3f} mm rms ({largest * 1e3:.3f} max)")
        kept = [d for d in aligned if d.preserved or d.key in helmert]
        series = station_series(kept)
        fits, models = fit_models(runner, kept, control, config, progress=progress, failures=failures, series=series)
        if change is not None and change < tolerance:
            converged = True
            break
        previous = current
        model_targets = _targets_from_models(kept, series, models)
        by_key = {d.key: t for d, t in zip(kept, model_targets)}
        targets = [by_key.get(d.key, ([], np.zeros((0, 3)))) for d in days]
    days_out = [d for d in aligned if d.preserved or d.key in helmert]
    # stations outside the control set still get a model of their aligned series
    extra = {s: m for s, m in meta.items() if s in exclude}
    if extra:
        more, _ = fit_models(runner, days_out, extra, config, progress=progress, failures=failures)
        fits.update(more)
    return StackResult(days_out, helmert, dict(sorted(fits.items())), history, converged,
                       [f"{k}: {v}" for k, v in sorted(failures.items())])


