"""Dispatch tasks for stacking and repeatability: pure numerics on plain data, no database access, so an
inline run and a run on Celery workers produce identical results."""

from __future__ import annotations

import numpy as np

from ..etm.fit import fit_etm
from ..etm.model import EtmConfig
from ..geodesy.coordinates import xyz2neu
from ..geodesy.helmert import estimate_helmert
from ..jobs import task


@task("geode.stack.align_day", queue="compute")
def align_day(day: str, stations: list, xyz, target_stations: list, target_xyz) -> dict:
    """Helmert parameters aligning one day's polyhedron to its target (common stations); the caller applies
    them (``apply_helmert``), so only six numbers travel back."""
    xyz = np.asarray(xyz, dtype=float).reshape(-1, 3)
    index = {s: i for i, s in enumerate(stations)}
    common = [(index[s], i) for i, s in enumerate(target_stations) if s in index]
    src = xyz[[a for a, _ in common]]
    tgt = np.asarray(target_xyz, dtype=float).reshape(-1, 3)[[b for _, b in common]]
    helmert = estimate_helmert(src, tgt, names=[stations[a] for a, _ in common])
    return {"day": day, "helmert": helmert.params, "summary": helmert.summary()}


@task("geode.stack.fit_station", queue="compute")
def fit_station(station: str, lat: float, lon: float, ref_xyz, t, xyz, config: EtmConfig) -> dict:
    """Fit the station's trajectory model in NEU about ``ref_xyz`` (the caller evaluates it where needed)."""
    ref = np.asarray(ref_xyz, dtype=float)
    neu = xyz2neu(np.asarray(xyz, dtype=float).reshape(-1, 3) - ref, lat, lon)
    return {"station": station, "fit": fit_etm(t, neu, config)}


@task("geode.dra.station", queue="compute")
def dra_station(station: str, lat: float, lon: float, t, xyz, days: list) -> dict:
    """Repeatability of one station: robust mean of its consecutive-epoch differences in NEU.

    Differences span gaps and are tagged with the later epoch. Fewer than 3 epochs: no statistics.
    """
    t = np.asarray(t, dtype=float)
    if len(t) < 3:
        return {"station": station, "wrms_mm": None, "epochs": len(t), "outliers": []}
    diff = xyz2neu(np.diff(np.asarray(xyz, dtype=float).reshape(-1, 3), axis=0), lat, lon)
    fit = fit_etm(t[1:], diff, EtmConfig(poly_terms=1, frequencies=(), noise_model="white"))
    residual = diff - fit.evaluate(t[1:])
    outliers = [{"day": days[i + 1], "residual": float(np.linalg.norm(residual[i]))}
                for i in np.flatnonzero(~fit.good)]
    return {"station": station, "epochs": len(t), "wrms_mm": [float(w) * 1e3 for w in fit.wrms],
            "t": t[1:], "diff_mm": diff * 1e3, "good": fit.good, "outliers": outliers}
