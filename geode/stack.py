"""Stacking: align daily network solutions (``gamit_soln`` polyhedra) into one consistent time series.

Iteration 0 aligns every day to a-priori trajectories (a model of the station's PPP solutions when
``ppp_soln`` has them, else the fixed ``stations.auto_x/y/z``); each later iteration fits a trajectory model
per station to the aligned series and aligns every day to those models. The loop stops when the RMS change
of all aligned coordinates since the previous iteration is below ``tolerance`` (converged) or after
``max_iterations`` (reported as not converged). RMS rather than maximum: a single component sitting on the
2.5-sigma down-weighting threshold can flip between iterations and move one coordinate by a tenth of a
millimetre forever, which says nothing about the stack as a whole. Each iteration aligns the *original* polyhedra, so a day's
stored Helmert parameters are its total transformation, not an increment.

The per-day alignments and per-station fits go through the dispatch runner; this module orders their
results by day and station, so inline and parallel runs give identical stacks.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace

import numpy as np

from .dates import GnssDate
from .errors import GeodeError, UsageError
from .etm.model import EtmConfig, Jump

log = logging.getLogger("geode.stack")

DEFAULT_TOLERANCE = 1e-5  # m: 0.01 mm rms
DEFAULT_MAX_ITERATIONS = 10


@dataclass
class Day:
    year: int
    doy: int
    fyear: float
    stations: list[str]  # "net.stn", sorted
    xyz: np.ndarray  # (n, 3)
    preserved: bool = False  # already in the stack (--preserve): used, never changed

    @property
    def key(self) -> str:
        return f"{self.year:04d}_{self.doy:03d}"


@dataclass
class StationMeta:
    name: str
    lat: float
    lon: float
    apriori: np.ndarray  # (3,) stations.auto_x/y/z
    jumps: list[Jump] = field(default_factory=list)
    apriori_fit: object = None  # EtmFit of the station's PPP series (NEU about ``apriori``), when there is one

    def position(self, fit, t) -> np.ndarray:
        """ECEF position(s) at epoch(s) t of a model of this station (fitted in NEU about ``apriori``)."""
        return fit.xyz(t, self.apriori, self.lat, self.lon)

    def etm_config(self, config: EtmConfig) -> EtmConfig:
        """The stack's model configuration with this station's jumps."""
        return replace(config, jumps=list(self.jumps))


@dataclass
class StackResult:
    days: list[Day]  # aligned
    helmert: dict[str, dict]  # day key -> summary of its final (total) transformation
    fits: dict[str, object]  # station -> EtmFit fitted to the final aligned series
    iterations: list[dict]  # per iteration: max change (mm), days aligned, etc.
    converged: bool
    failures: list[str]  # "what: why" lines
    frame: dict = field(default_factory=dict)  # common-mode removal and frame tie reports


# --- pure numerics ------------------------------------------------------------------------------------------------

def station_series(days: list[Day]) -> dict[str, tuple[np.ndarray, np.ndarray, list[tuple[int, int]]]]:
    """station -> (t, xyz (n, 3), [(day index, row)]) from a list of days."""
    acc: dict[str, list] = {}
    for d, day in enumerate(days):
        for r, stn in enumerate(day.stations):
            acc.setdefault(stn, []).append((day.fyear, day.xyz[r], (d, r)))
    return {s: (np.array([a[0] for a in v]), np.array([a[1] for a in v]), [a[2] for a in v]) for s, v in acc.items()}


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


def fit_models(runner, days: list[Day], meta: dict[str, StationMeta], config: EtmConfig, *, exclude=(),
               progress=None, failures: dict[str, str] | None = None, series=None) -> tuple[dict, dict]:
    """Per-station trajectory models of the current days: (fits, model XYZ at each station's epochs).
    ``series``: station_series(days), when the caller has it already."""
    from .stack_tasks import fit_station

    series = station_series(days) if series is None else series
    names = sorted(s for s in series if s in meta and s not in exclude)
    items = [(s, meta[s].lat, meta[s].lon, meta[s].apriori, series[s][0], series[s][1], meta[s].etm_config(config))
             for s in names]
    summary = runner.map(fit_station, items, progress=progress, description="ETM fit: stations")
    fits, models = {}, {}
    for outcome in summary.results:
        stn, fit = outcome.result["station"], outcome.result["fit"]
        fits[stn] = fit
        models[stn] = meta[stn].position(fit, series[stn][0])
    if failures is not None:
        for f in summary.failures:
            failures.setdefault(f"{f.item[0]}", f.message)
    return dict(sorted(fits.items())), dict(sorted(models.items()))


def align_days(runner, days: list[Day], targets, *, progress=None, failures: dict[str, str] | None = None):
    """Align every non-preserved day to its target; returns (aligned days, {day key: helmert summary})."""
    from .geodesy.helmert import apply_helmert
    from .stack_tasks import align_day

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
    from .geodesy.helmert import apply_helmert

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


# --- database -----------------------------------------------------------------------------------------------------

def load_days(db, project: str, stations: list[str] | None = None, end: GnssDate | None = None,
              table: str = "gamit_soln", name: str | None = None) -> list[Day]:
    """Daily polyhedra from gamit_soln (or an existing stack's rows)."""
    sql = ('SELECT "NetworkCode" AS net, "StationCode" AS stn, "Year" AS y, "DOY" AS d, "X", "Y", "Z" FROM '
           + ("stacks WHERE name = %s" if table == "stacks" else 'gamit_soln WHERE "Project" = %s'))
    args: list = [name if table == "stacks" else project]
    if end is not None:
        sql += ' AND ("Year" < %s OR ("Year" = %s AND "DOY" <= %s))'
        args += [end.year, end.year, end.doy]
    rows = db.query(sql + ' ORDER BY "Year", "DOY", "NetworkCode", "StationCode"', args)
    wanted = set(stations) if stations is not None else None
    grouped: dict[tuple[int, int], list] = {}
    for r in rows:
        name_ = f"{r['net']}.{r['stn']}"
        if wanted is None or name_ in wanted:
            grouped.setdefault((int(r["y"]), int(r["d"])), []).append((name_, (r["X"], r["Y"], r["Z"])))
    return [Day(y, d, GnssDate.from_doy(y, d).fyear, [s for s, _ in v], np.array([p for _, p in v], dtype=float))
            for (y, d), v in sorted(grouped.items())]


def load_meta(db, stations: list[str], soln: str = "gamit", with_jumps: bool = True,
              span: tuple[float, float] = (1980.0, 2100.0)) -> dict[str, StationMeta]:
    """Metadata of stations named in gamit_soln/stacks rows (so, by foreign key, in ``stations``); one without
    any a-priori position is left out, and the caller reports it as not stackable."""
    from .etm.apriori import reference_position
    from .etm.sources import earthquake_rows, station_jumps
    from .stations import StationRef, station_rows

    rows = station_rows(db, [StationRef(*name.split(".")) for name in stations])
    quakes = earthquake_rows(db, span[0], span[1]) if with_jumps and rows else []  # one query for all stations
    out = {}
    for name, row in zip(stations, rows):
        ref = reference_position(row)
        if ref is None:
            continue
        apriori, lat, lon = ref
        jumps = station_jumps(db, row, span[0], quakes, soln) if with_jumps else []
        out[name] = StationMeta(name, lat, lon, apriori, jumps, ppp_trajectory(
            db, row["NetworkCode"], row["StationCode"], lat, lon, apriori, jumps) if with_jumps else None)
    return out


def ppp_trajectory(db, net: str, stn: str, lat: float, lon: float, apriori: np.ndarray, jumps: list[Jump]):
    """Trajectory model of the station's PPP solutions (the iteration-0 target), or None without them."""
    from .etm.fit import EtmError, fit_etm
    from .geodesy.coordinates import xyz2neu

    rows = db.query('SELECT p."Year" AS y, p."DOY" AS d, p."X", p."Y", p."Z" FROM ppp_soln p WHERE '
                    'p."NetworkCode" = %s AND p."StationCode" = %s AND NOT EXISTS (SELECT 1 FROM ppp_soln_excl e '
                    'WHERE e."NetworkCode" = p."NetworkCode" AND e."StationCode" = p."StationCode" AND '
                    'e."Year" = p."Year" AND e."DOY" = p."DOY") ORDER BY 1, 2', (net, stn))
    if not rows:
        return None
    t = np.array([GnssDate.from_doy(int(r["y"]), int(r["d"])).fyear for r in rows])
    xyz = np.array([(r["X"], r["Y"], r["Z"]) for r in rows], dtype=float)
    try:
        return fit_etm(t, xyz2neu(xyz - apriori, lat, lon), EtmConfig(jumps=list(jumps)))
    except EtmError:
        return None


def stack_exists(db, name: str) -> bool:
    return db.query_one("SELECT 1 AS x FROM stacks WHERE name = %s LIMIT 1", (name,)) is not None


def preserved_days(db, project: str, name: str, days: list[Day]) -> list[Day]:
    """Mark days whose every gamit_soln vertex is already in the stack as preserved, using the stacked
    coordinates; other days are (re)aligned. Nothing is deleted here."""
    stacked = {d.key: d for d in load_days(db, project, table="stacks", name=name)}
    out = []
    for day in days:
        old = stacked.get(day.key)
        if old is not None and old.stations == day.stations:
            out.append(Day(old.year, old.doy, old.fyear, old.stations, old.xyz, preserved=True))
        else:
            out.append(day)
    return out


def save_stack(db, project: str, name: str, result: StackResult, *, replace: bool) -> int:
    """Write aligned days. ``replace`` (--redo): the stack's old rows go in the same transaction as the
    new ones are written, so a failure leaves the old stack intact. Preserved days are never touched."""
    from psycopg2.extras import execute_values

    rows = []
    for day in result.days:
        if day.preserved:
            continue
        net_stn = [s.split(".") for s in day.stations]
        vf = result.helmert.get(day.key, {}).get("wrms_mm")
        for (net, stn), (x, y, z) in zip(net_stn, day.xyz):
            rows.append((net, stn, project, day.year, day.doy, day.fyear, float(x), float(y), float(z),
                         0.0, 0.0, 0.0, vf, name))
    with db.transaction() as cur:
        if replace:
            cur.execute("DELETE FROM stacks WHERE name = %s", (name,))
        execute_values(cur, 'INSERT INTO stacks ("NetworkCode", "StationCode", "Project", "Year", "DOY", "FYear", '
                       '"X", "Y", "Z", sigmax, sigmay, sigmaz, "VarianceFactor", name) VALUES %s '
                       'ON CONFLICT ("NetworkCode", "StationCode", "Year", "DOY", name) DO UPDATE SET '
                       '"X" = EXCLUDED."X", "Y" = EXCLUDED."Y", "Z" = EXCLUDED."Z", "FYear" = EXCLUDED."FYear", '
                       '"VarianceFactor" = EXCLUDED."VarianceFactor", "Project" = EXCLUDED."Project"', rows,
                       page_size=5000)
    return len(rows)


def save_models(db, name: str, result: StackResult, meta: dict[str, StationMeta],
                config: EtmConfig | None = None) -> int:
    """Store each station's model under soln 'gamit', stack NAME (skipped when the checksum is unchanged)."""
    from .etm.store import checksum, has_fit, save_fit

    config = config or EtmConfig()
    series = station_series(result.days)
    written = 0
    for stn, fit in result.fits.items():
        net, code = stn.split(".")
        t, xyz, _ = series[stn]
        h = checksum(t, xyz, meta[stn].etm_config(config))
        if not has_fit(db, net, code, "gamit", name, h):
            save_fit(db, net, code, "gamit", name, fit, h)
            written += 1
    return written


def alignment_summary(name: str, project: str, result: StackResult) -> dict:
    return {"stack": name, "project": project, "converged": result.converged, "iterations": result.iterations,
            "days": [{"day": k, **v} for k, v in sorted(result.helmert.items())],
            "stations": {s: f.summary() for s, f in result.fits.items()}, "failures": result.failures}


def check_name(name: str) -> str:
    if not name or len(name) > 20:
        raise UsageError(f"stack name {name!r} must be 1 to 20 characters (stacks.name is varchar(20))")
    return name.lower()


def require_days(days: list[Day], project: str) -> None:
    if not days:
        raise GeodeError(f"no daily solutions in gamit_soln for project {project!r} and these stations")


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
              progress=None) -> StackRun:
    """Load, stack, post-process and store. Without --redo/--preserve an existing stack is an error."""
    name = check_name(name)
    if redo and preserve:
        raise UsageError("--redo rebuilds the stack and --preserve keeps it: choose one")
    exists = stack_exists(db, name)
    if exists and not (redo or preserve):
        raise UsageError(f"stack {name!r} already exists: --redo rebuilds it, --preserve adds new days to it")
    constraints = None
    if constraints_file is not None:
        from .stack_frame import read_constraints

        constraints = read_constraints(constraints_file)
    days = load_days(db, project, stations, end)
    require_days(days, project)
    if preserve and exists:
        days = preserved_days(db, project, name, days)
    present = sorted({s for d in days for s in d.stations})
    meta = load_meta(db, present, span=(days[0].fyear, days[-1].fyear))
    skipped = [s for s in present if s not in meta]
    result = stack(runner, days, meta, config=config, exclude=set(exclude), max_iterations=max_iterations,
                   tolerance=tolerance, progress=progress)
    if common_modes or constraints:
        from .stack_frame import remove_common_modes, tie_to_frame

        if common_modes:
            result = remove_common_modes(runner, result, meta, config or EtmConfig(), exclude=set(exclude))
        if constraints:
            result = tie_to_frame(runner, result, meta, config or EtmConfig(), constraints)
    written = save_stack(db, project, name, result, replace=redo)
    models = save_models(db, name, result, meta, config)
    return StackRun(result, written, sum(d.preserved for d in result.days), models,
                    [f"{s}: no a-priori position in stations" for s in skipped], meta)


def list_stacks(db) -> list[dict]:
    return db.query('SELECT name, min("Project") AS project, count(DISTINCT ("Year", "DOY")) AS days, '
                    'count(DISTINCT ("NetworkCode", "StationCode")) AS stations, min("FYear") AS first, '
                    'max("FYear") AS last FROM stacks GROUP BY name ORDER BY name')


def stored_models(db, name: str) -> dict[str, object]:
    from .jobs import codec

    rows = db.query('SELECT "NetworkCode" AS net, "StationCode" AS stn, metadata FROM etms WHERE soln = %s AND '
                    'stack = %s AND object = %s ORDER BY 1, 2', ("gamit", name, "var_factor"))
    return {f"{r['net']}.{r['stn']}": codec.loads(r["metadata"]) for r in rows}


def refit_models(db, runner, name: str, stations: list[str], config: EtmConfig | None = None, progress=None):
    """(Re)fit the stack's models for these stations with the current jumps; reuse unchanged ones.

    Returns ({station: fit}, {station: "reused"|"fitted"}, failures)."""
    from .etm.store import checksum, load_fit, save_fit

    config = config or EtmConfig()
    days = load_days(db, "", stations, table="stacks", name=name)
    if not days:
        raise GeodeError(f"stack {name!r} has no rows for these stations: run 'geode stack run' first")
    series = station_series(days)
    meta = load_meta(db, sorted(series), span=(days[0].fyear, days[-1].fyear))
    fits, how, todo, hashes = {}, {}, {}, {}
    for stn, m in meta.items():
        net, code = stn.split(".")
        t, xyz, _ = series[stn]
        hashes[stn] = checksum(t, xyz, m.etm_config(config))
        old = load_fit(db, net, code, "gamit", name, hashes[stn])
        if old is not None:
            fits[stn], how[stn] = old, "reused"
        else:
            todo[stn] = m
    failures: dict[str, str] = {}
    new, _ = fit_models(runner, days, todo, config, progress=progress, failures=failures, series=series)
    for stn, fit in new.items():
        net, code = stn.split(".")
        save_fit(db, net, code, "gamit", name, fit, hashes[stn])
        fits[stn], how[stn] = fit, "fitted"
    return dict(sorted(fits.items())), how, [f"{k}: {v}" for k, v in sorted(failures.items())], series, meta
