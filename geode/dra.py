"""Daily repeatability analysis (DRA) of a GAMIT project.

Each day is Helmert-aligned to the previous day *after* that day's own alignment (a chain; day 0 sets the
datum). Each station's aligned series is then differenced epoch to epoch and the robust WRMS of those
differences per north/east/up is its repeatability. For white noise of sigma per component this is about
sqrt(2)·sigma: the difference of two epochs; we do not divide by sqrt(2), as GeoDE does not.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

import numpy as np

from .stack.data import Day, StationMeta, station_series

DAY_WRMS_LIMIT_MM = 8.0


@dataclass
class DraResult:
    days: list[dict]  # per aligned day: key, fyear, wrms_mm, stations_used, flagged
    stations: dict[str, dict]  # station -> {wrms_mm: [n, e, u] | None, epochs, outliers: [...]}
    failures: list[str] = field(default_factory=list)
    series: dict[str, dict] = field(default_factory=dict)  # station -> t, diff_mm, good (for plots)

    @property
    def flagged_days(self) -> list[str]:
        return [d["day"] for d in self.days if d["flagged"]]

    def summary(self) -> dict:
        wr = np.array([s["wrms_mm"] for s in self.stations.values() if s["wrms_mm"] is not None]).reshape(-1, 3)
        return {"days": len(self.days) + 1 if self.days else 0, "stations": len(self.stations),
                "median_wrms_mm": {c: (float(np.median(wr[:, i])) if len(wr) else None) for i, c in enumerate("neu")},
                "mean_day_wrms_mm": float(np.mean([d["wrms_mm"] for d in self.days])) if self.days else None,
                "flagged_days": self.flagged_days, "failures": self.failures,
                "per_station": self.stations, "per_day": self.days}

    def to_csv(self) -> str:
        out = io.StringIO()
        w = csv.writer(out)
        w.writerow(["station", "epochs", "wrms_n_mm", "wrms_e_mm", "wrms_u_mm", "outliers"])
        for stn, s in self.stations.items():
            vals = s["wrms_mm"] or [None] * 3
            w.writerow([stn, s["epochs"], *[("" if v is None else f"{v:.3f}") for v in vals], len(s["outliers"])])
        return out.getvalue()


def chain_align(days: list[Day], limit_mm: float = DAY_WRMS_LIMIT_MM) -> tuple[list[Day], list[dict], list[str]]:
    """Align day j+1 to aligned day j. A day that cannot be aligned (< 3 common stations) starts a new chain."""
    from .geodesy.helmert import apply_helmert
    from .stack.tasks import align_day

    aligned, stats, failures = [], [], []
    for day in days:
        if not aligned:
            aligned.append(day)
            continue
        prev = aligned[-1]
        try:
            res = align_day.func(day.key, day.stations, day.xyz, prev.stations, prev.xyz)
        except ValueError as exc:
            failures.append(f"day {day.key}: {exc}; it starts a new datum")
            aligned.append(day)
            continue
        aligned.append(Day(day.year, day.doy, day.fyear, day.stations, apply_helmert(day.xyz, res["helmert"])))
        s = res["summary"]
        stats.append({"day": day.key, "fyear": day.fyear, "wrms_mm": s["wrms_mm"], "stations_used": s["stations_used"],
                      "iterations": s["iterations"], "translation_mm": s["translation_mm"],
                      "rotation_nrad": s["rotation_nrad"], "flagged": s["wrms_mm"] > limit_mm})
    return aligned, stats, failures


def run_dra(runner, days: list[Day], meta: dict[str, StationMeta], *, progress=None,
            limit_mm: float = DAY_WRMS_LIMIT_MM) -> DraResult:
    from .stack.tasks import dra_station

    aligned, stats, failures = chain_align(days, limit_mm)
    series = station_series(aligned)
    names = sorted(s for s in series if s in meta)
    keys = [d.key for d in aligned]
    items = [(s, meta[s].lat, meta[s].lon, series[s][0], series[s][1], [keys[d] for d, _ in series[s][2]])
             for s in names]
    summary = runner.map(dra_station, items, progress=progress, description="repeatability: stations")
    stations, plots = {}, {}
    for o in sorted(summary.results, key=lambda o: o.result["station"]):
        r = o.result
        outliers = [{"day": o["day"], "residual_mm": o["residual"] * 1e3} for o in r["outliers"]]  # one unit: mm
        stations[r["station"]] = {"wrms_mm": r["wrms_mm"], "epochs": r["epochs"], "outliers": outliers}
        if r["wrms_mm"] is not None:
            plots[r["station"]] = {"t": r["t"], "diff_mm": r["diff_mm"], "good": r["good"]}
    failures += [f"{f.item[0]}: {f.message}" for f in summary.failures]
    return DraResult(stats, stations, failures, plots)


def save_exclusions(db, project: str, result: DraResult) -> int:
    """Insert outlier epochs into gamit_soln_excl (existing rows are kept: nothing is deleted)."""
    rows = []
    for stn, s in result.stations.items():
        net, code = stn.split(".")
        for o in s["outliers"]:
            year, doy = o["day"].split("_")
            rows.append((net, code, project, int(year), int(doy), o["residual_mm"] / 1e3))  # GeoDE's column: metres
    with db.transaction() as cur:
        for row in rows:
            cur.execute('INSERT INTO gamit_soln_excl ("NetworkCode", "StationCode", "Project", "Year", "DOY", residual) '
                        'VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING', row)
    return len(rows)
