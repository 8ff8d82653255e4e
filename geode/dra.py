"""Daily repeatability analysis (DRA) of a GAMIT project.

Each day is Helmert-aligned to the previous day *after* that day's own alignment (a chain; day 0 sets the
datum). Each station's aligned series is then differenced epoch to epoch and the robust WRMS of those
differences per north/east/up is its repeatability. For white noise of sigma per component this is about
sqrt(2)·sigma: the difference of two epochs; we do not divide by sqrt(2), as GeoDE does not.

The chain runs here (each day needs the one before); the per-station statistics run as units over blocks of
stations (``geode.dra.block``), which read the rows and the chain's transformations from the run's work:
memory inline, PostgreSQL on workers. Only the statistics come back.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

import numpy as np

from .stack.data import Day, StationMeta

DAY_WRMS_LIMIT_MM = 8.0


@dataclass
class DraResult:
    days: list[dict]  # per aligned day: key, fyear, wrms_mm, stations_used, flagged
    stations: dict[str, dict]  # station -> {wrms_mm: [n, e, u] | None, epochs, outliers: [...]}
    failures: list[str] = field(default_factory=list)
    aligned: list[Day] = field(default_factory=list, repr=False)  # the chain-aligned days (for plots)
    meta: dict[str, StationMeta] = field(default_factory=dict, repr=False)

    @property
    def flagged_days(self) -> list[str]:
        return [d["day"] for d in self.days if d["flagged"]]

    @property
    def series(self) -> dict[str, dict]:
        """station -> t, diff_mm (n, 3) NEU, good: the differenced series each statistic comes from (plots)."""
        from .geodesy.coordinates import xyz2neu
        from .stack.data import station_series

        out = {}
        by_station = station_series(self.aligned)
        keys = [d.key for d in self.aligned]
        for stn, s in self.stations.items():
            if s["wrms_mm"] is None or stn not in by_station:
                continue
            t, xyz, where = by_station[stn]
            bad = {o["day"] for o in s["outliers"]}
            out[stn] = {"t": t[1:], "diff_mm": xyz2neu(np.diff(xyz, axis=0), self.meta[stn].lat, self.meta[stn].lon) * 1e3,
                        "good": np.array([keys[d] not in bad for d, _ in where[1:]], dtype=bool)}
        return out

    def summary(self) -> dict:
        wr = np.array([s["wrms_mm"] for s in self.stations.values() if s["wrms_mm"] is not None]).reshape(-1, 3)
        return {"days": len(self.days) + 1 if self.days else 0, "stations": len(self.stations),
                "median_wrms_mm": {c: (float(np.median(wr[:, i])) if len(wr) else None) for i, c in enumerate("neu")},
                "mean_day_wrms_mm": float(np.mean([d["wrms_mm"] for d in self.days])) if self.days else None,
                "flagged_days": self.flagged_days, "failures": self.failures,
                "per_station": self.stations,
                "per_day": self.days}

    def to_csv(self) -> str:
        out = io.StringIO()
        w = csv.writer(out)
        w.writerow(["station", "epochs", "wrms_n_mm", "wrms_e_mm", "wrms_u_mm", "outliers"])
        for stn, s in self.stations.items():
            vals = s["wrms_mm"] or [None] * 3
            w.writerow([stn, s["epochs"], *[("" if v is None else f"{v:.3f}") for v in vals], len(s["outliers"])])
        return out.getvalue()


def chain_align(days: list[Day], limit_mm: float = DAY_WRMS_LIMIT_MM
                ) -> tuple[list[Day], list[dict], list[str], dict[int, list]]:
    """Align day j+1 to aligned day j. A day that cannot be aligned (< 3 common stations) starts a new chain.

    Returns (aligned days, per-day statistics, failures, {day index: its transformation(s)})."""
    from .geodesy.helmert import apply_helmert, estimate_helmert

    aligned, stats, failures, transforms = [], [], [], {}
    for i, day in enumerate(days):
        transforms[i] = []
        if not aligned:
            aligned.append(day)
            continue
        prev = aligned[-1]
        index = {s: k for k, s in enumerate(day.stations)}
        common = [(index[s], k) for k, s in enumerate(prev.stations) if s in index]
        try:
            h = estimate_helmert(np.asarray(day.xyz)[[a for a, _ in common]],
                                 np.asarray(prev.xyz)[[b for _, b in common]], names=[day.stations[a] for a, _ in common])
        except ValueError as exc:
            failures.append(f"day {day.key}: {exc}; it starts a new datum")
            aligned.append(day)
            continue
        transforms[i] = [h.params]
        aligned.append(Day(day.year, day.doy, day.fyear, day.stations, apply_helmert(day.xyz, h.params)))
        s = h.summary()
        stats.append({"day": day.key, "fyear": day.fyear, "wrms_mm": s["wrms_mm"], "stations_used": s["stations_used"],
                      "iterations": s["iterations"], "translation_mm": s["translation_mm"],
                      "rotation_nrad": s["rotation_nrad"], "flagged": s["wrms_mm"] > limit_mm})
    return aligned, stats, failures, transforms


def run_dra(runner, days: list[Day], meta: dict[str, StationMeta], *, db=None, project: str = "", progress=None,
            limit_mm: float = DAY_WRMS_LIMIT_MM) -> DraResult:
    """The chain here, the station statistics as units; ``db`` and ``project`` (where the days come from) are
    needed for runs on workers, which read the rows themselves."""
    from .stack.align import memory_work, run_units
    from .stack.tasks import repeatability_task
    from .stack.work import DatabaseWork

    aligned, stats, failures, transforms = chain_align(days, limit_mm)
    work = memory_work("dra", days, meta, project=project)
    if getattr(runner, "mode", "inline") != "inline":
        if db is None:
            raise ValueError("a DRA on workers needs the database its days come from")
        work = DatabaseWork.create(db, work.spec, work.sol)
    try:
        work.put_transforms(0, transforms)
        items = [(work.spec.run, 0, lo, hi) for lo, hi in work.spec.station_blocks()]
        names = work.spec.stations
        unit_failures: dict[str, str] = {}
        run_units(runner, repeatability_task, work, items, progress=progress, description="repeatability: stations",
                  failures=unit_failures, label=lambda item: f"stations {names[item[2]]}..{names[item[3] - 1]}")
        found = work.results(0, "dra")
    finally:
        if isinstance(work, DatabaseWork):
            work.finish()
    stations = {}
    for s, result in found.items():
        if "error" in result:
            failures.append(f"{names[s]}: {result['error']}")
        else:
            stations[names[s]] = result
    failures += [f"{k}: {v}" for k, v in sorted(unit_failures.items())]
    return DraResult(stats, dict(sorted(stations.items())), failures, aligned, meta)


def save_exclusions(db, project: str, result: DraResult) -> int:
    """Insert outlier epochs into gamit_soln_excl (existing rows are kept: nothing is deleted), set-based."""
    rows = []
    for stn, s in result.stations.items():
        net, code = stn.split(".")
        for o in s["outliers"]:
            year, doy = o["day"].split("_")
            rows.append((net, code, project, int(year), int(doy), o["residual_mm"] / 1e3))  # GeoDE's column: metres
    if not rows:
        return 0
    cols = list(zip(*rows))
    with db.transaction() as cur:
        cur.execute('INSERT INTO gamit_soln_excl ("NetworkCode", "StationCode", "Project", "Year", "DOY", residual) '
                    'SELECT * FROM unnest(%s::varchar[], %s::varchar[], %s::varchar[], %s::int[], %s::int[], '
                    '%s::numeric[]) ON CONFLICT DO NOTHING', [list(c) for c in cols])
    return len(rows)
