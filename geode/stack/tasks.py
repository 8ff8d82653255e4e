"""The units of stack, refit and DRA runs: what one worker does for one block of days or stations.

A unit's arguments are keys (run id, step, block bounds); it reads the run's definition and its rows through
the run's ``Work`` (PostgreSQL on a worker, memory inline), writes what it produces there, and returns only a
small summary (per day a Helmert's parameters and statistics, per block a few numbers and the failures). The
same code runs inline and on workers, on the same blocks: the results are identical.
"""

from __future__ import annotations

import importlib

import numpy as np

from ..jobs import task
from .data import Solutions
from .models import ModelTable, alignment_config, fit_series, model_xyz, with_midas
from .work import Work, aligned, lookup

FIT_CONTROL, FIT_EXTRA, FIT_ALL = "control", "extra", "all"  # which stations a fit step models

# the robust fits' chi-square bounds: loaded when a worker starts (it imports the task modules), not in its first unit
importlib.import_module("scipy.special")


def movement(spec, sol: Solutions, xyz: np.ndarray, transforms: dict[int, list], before: dict[int, list]) -> list:
    """How far rows ``sol`` (aligned by ``transforms``: ``xyz``) moved since the step of ``before``, over the days
    both steps aligned: [sum of squares, count, largest], metres."""
    both = np.zeros(len(spec.years), bool)
    both[[d for d in transforms if d in before]] = True
    both &= ~spec.preserved
    moved = sol.take(both[sol.day])
    diff = (xyz[both[sol.day]] - aligned(moved, before)).ravel()
    return [float(np.sum(diff * diff)), int(diff.size), float(np.max(np.abs(diff))) if diff.size else 0.0]


def fit_block(work: Work, step: int, lo: int, hi: int, which: str = FIT_CONTROL, previous: int | None = None,
              final: bool = False) -> dict:
    """Model the stations [lo, hi) on the aligned series of ``step`` and store the models in the work.

    ``which``: the control stations, the stations with metadata that are not control (excluded ones), or all
    with metadata. ``previous``: also measure how far the rows moved since that step (sum of squares, count,
    largest), for the convergence test. ``final``: the run's configured model (noise model, offset detection,
    MIDAS), else the white-noise model the iterations align to (``alignment_config``). Returns the movement and
    the stations that could not be modelled."""
    from ..etm.store import checksum, config_text

    spec = work.spec
    sol = work.station_rows(lo, hi)
    transforms = work.transforms(step)
    kept = spec.preserved.copy()
    kept[list(transforms)] = True
    sol = sol.take(kept[sol.day])
    xyz = aligned(sol, transforms)
    change = None if previous is None else movement(spec, sol, xyz, transforms, work.transforms(previous))
    pick = {FIT_CONTROL: spec.control,
            FIT_EXTRA: np.array([m is not None for m in spec.meta]) & ~spec.control,
            FIT_ALL: np.array([m is not None for m in spec.meta])}[which]
    bounds = np.searchsorted(sol.stn, np.arange(lo, hi + 1))
    configs = work.cache.setdefault("configs", {})  # per station: its model configuration and checksum text
    items, names, hashes = [], [], {}
    for s in range(lo, hi):
        a, b = bounds[s - lo], bounds[s - lo + 1]
        if not pick[s] or a == b:
            continue
        meta = spec.meta[s]
        t = spec.fyears[sol.day[a:b]]
        if (s, final) not in configs:
            config = meta.etm_config(spec.config if final else alignment_config(spec.config))
            configs[(s, final)] = (config, config_text(config))
        config, text = configs[(s, final)]
        items.append((t, xyz[a:b], meta.apriori, meta.lat, meta.lon, config))
        names.append(s)
        hashes[s] = checksum(t, xyz[a:b], config, text=text)
    failures, models = [], {}
    if final and alignment_config(spec.config) is spec.config:
        # white noise: the iterations' model of this very series is the final one, less its MIDAS velocity
        have = work.models_in(step, lo, hi)
        for k in reversed(range(len(names))):
            s = names[k]
            if s in have and have[s][1] == hashes[s] and have[s][0].midas_velocity is None:
                t, x, ref, lat, lon, _ = items.pop(k)
                models[names.pop(k)] = (with_midas(have[s][0], t, x, ref, lat, lon), hashes[s])
    designs = work.cache.setdefault(("designs", final), {})
    for s, fit in zip(names, fit_series(items, keys=names, designs=designs, midas=final)):
        if isinstance(fit, Exception):
            failures.append([spec.stations[s], f"{type(fit).__name__}: {fit}".splitlines()[0]])
        else:
            models[s] = (fit, hashes[s])
    if models:
        work.put_models(step, models)
    return {"failures": failures, "change": change, "fitted": len(models)}


def model_positions(work: Work, step: int, days: np.ndarray, stations: np.ndarray) -> np.ndarray:
    """ECEF positions (k, 3) of the stations' step models at the days (rows: station ``stations[i]`` on day
    ``days[i]``); NaN where the station has no model. ``step`` -1: the a-priori positions (the PPP trajectory
    when the station has one, else its fixed a-priori coordinates)."""
    spec = work.spec
    t = spec.fyears[days]
    if step >= 0:
        fits = {s: fit for s, (fit, _) in work.models(step).items()}
    else:
        fits = {s: m.apriori_fit for s, m in enumerate(spec.meta) if m is not None and m.apriori_fit is not None}
    key, ids = ("model table", step), [(s, id(fit)) for s, fit in sorted(fits.items())]
    cached = work.cache.get(key)
    if cached is None or cached[0] != ids:  # built once per step and process, for all its blocks
        cached = work.cache[key] = (ids, ModelTable.build(fits, spec.meta) if fits else None)
    out = model_xyz(fits, spec.meta, stations, t, cached[1])
    if step < 0:  # stations without a PPP trajectory: their fixed a-priori position
        apriori = np.array([m.apriori if m is not None else np.full(3, np.nan) for m in spec.meta]).reshape(-1, 3)
        fixed = np.ones(len(spec.meta), bool)
        fixed[list(fits)] = False
        rows = fixed[stations]
        out[rows] = apriori[stations[rows]]
    return out


def align_block(work: Work, step: int, lo: int, hi: int) -> dict:
    """Helmert-align days [lo, hi) (the non-preserved ones) to their targets: the station models of step-1 on
    the days that step kept (step 0: the a-priori positions), over the control stations the day has.

    Each day's outcome goes to the work's results (kind 'align': {"params", "summary"} or {"failure"}); the
    caller reads them, holds the datum and stores the transformations. Returns counts only."""
    from ..geodesy.helmert import estimate_helmert_batch

    spec = work.spec
    sol = work.day_rows(lo, hi)
    usable = spec.control.copy()
    if step > 0:
        previous = work.transforms(step - 1)
        kept = spec.preserved.copy()
        kept[list(previous)] = True
        models = work.models(step - 1)
        usable &= np.isin(np.arange(len(usable)), list(models))
        rows = sol.take(usable[sol.stn] & kept[sol.day] & ~spec.preserved[sol.day])
    else:
        rows = sol.take(usable[sol.stn] & ~spec.preserved[sol.day])
    target = model_positions(work, step - 1 if step > 0 else -1, rows.day, rows.stn)
    bounds = np.searchsorted(rows.day, np.arange(lo, hi + 1))
    todo = [d for d in range(lo, hi) if not spec.preserved[d]]
    station_names = work.cache.get("names")
    if station_names is None:
        station_names = work.cache["names"] = np.array(spec.stations, dtype=object)
    sources, targets, names = [], [], []
    for d in todo:
        a, b = bounds[d - lo], bounds[d - lo + 1]
        sources.append(rows.xyz[a:b])
        targets.append(target[a:b])
        names.append(station_names[rows.stn[a:b]])
    keys = spec.keys
    found: dict[int, dict] = {}
    for d, h in zip(todo, estimate_helmert_batch(sources, targets, names)):
        if isinstance(h, Exception):
            found[d] = {"failure": f"{type(h).__name__}: {h}"}
        else:
            found[d] = {"params": [float(v) for v in h.params], "summary": h.summary()}
    work.put_results(step, "align", found)
    failed = sum(1 for v in found.values() if "failure" in v)
    return {"aligned": len(found) - failed, "failed": failed, "days": [keys[lo], keys[hi - 1]]}


def repeatability_block(work: Work, step: int, lo: int, hi: int) -> dict:
    """Daily repeatability of stations [lo, hi) on the chain-aligned days of ``step``: the robust mean of each
    station's consecutive-epoch differences in NEU (differences span gaps and are tagged with the later epoch).

    Per station {"wrms_mm", "epochs", "outliers"} (fewer than 3 epochs: no statistics) or {"error"} goes to the
    work's results (kind 'dra'); returns the count only."""
    from ..etm.model import EtmConfig
    from ..geodesy.coordinates import xyz2neu

    spec = work.spec
    transforms = work.transforms(step)
    sol = work.station_rows(lo, hi)
    xyz = aligned(sol, transforms)
    keys = spec.keys
    bounds = np.searchsorted(sol.stn, np.arange(lo, hi + 1))
    config = EtmConfig(poly_terms=1, frequencies=(), noise_model="white")
    out, items, who = [], [], []
    for s in range(lo, hi):
        a, b = bounds[s - lo], bounds[s - lo + 1]
        meta = spec.meta[s]
        if meta is None or a == b:
            continue
        t = spec.fyears[sol.day[a:b]]
        if len(t) < 3:
            out.append([s, {"wrms_mm": None, "epochs": len(t), "outliers": []}])
            continue
        diff = np.diff(xyz[a:b], axis=0)
        items.append((t[1:], diff, np.zeros(3), meta.lat, meta.lon, config))
        who.append((s, a, b, t, xyz2neu(diff, meta.lat, meta.lon)))
    for (s, a, b, t, diff), fit in zip(who, fit_series(items, midas=False)):
        if isinstance(fit, Exception):
            out.append([s, {"error": f"{type(fit).__name__}: {fit}"}])
            continue
        residual = diff - fit.evaluate(t[1:])
        day = sol.day[a:b]
        outliers = [{"day": keys[day[i + 1]], "residual_mm": float(np.linalg.norm(residual[i])) * 1e3}
                    for i in np.flatnonzero(~fit.good)]
        out.append([s, {"wrms_mm": [float(w) * 1e3 for w in fit.wrms], "epochs": len(t), "outliers": outliers}])
    work.put_results(step, "dra", dict(out))
    return {"stations": len(out)}


@task("geode.stack.align_block", queue="compute", label=lambda run, step, lo, hi: f"iteration {step}: days {lo}-{hi - 1}")
def align_days_task(run: str, step: int, lo: int, hi: int) -> dict:
    return align_block(lookup(run), step, lo, hi)


@task("geode.stack.fit_block", queue="compute",
      label=lambda run, step, lo, hi, *rest: f"step {step}: stations {lo}-{hi - 1}")
def fit_stations_task(run: str, step: int, lo: int, hi: int, which: str = FIT_CONTROL,
                      previous: int | None = None, final: bool = False) -> dict:
    return fit_block(lookup(run), step, lo, hi, which, previous, final)


@task("geode.dra.block", queue="compute", label=lambda run, step, lo, hi: f"stations {lo}-{hi - 1}")
def repeatability_task(run: str, step: int, lo: int, hi: int) -> dict:
    return repeatability_block(lookup(run), step, lo, hi)
