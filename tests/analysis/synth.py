"""Synthetic networks with known trajectories and per-day Helmert perturbations (reference §7)."""

from __future__ import annotations

import numpy as np

from geode.dates import GnssDate
from geode.geodesy.coordinates import lla2xyz, neu2xyz
from geode.geodesy.helmert import apply_helmert
from geode.stack import Day, StationMeta


def network(n: int, rng, regional: bool = False) -> list[tuple[str, float, float, np.ndarray]]:
    out = []
    for i in range(n):
        lat = rng.uniform(-40, -25) if regional else rng.uniform(-80, 80)
        lon = rng.uniform(-70, -55) if regional else rng.uniform(-180, 180)
        out.append((f"syn.s{i:03d}", lat, lon, np.array(lla2xyz(lat, lon, 100.0))))
    return out


def make_days(stations, rng, *, ndays: int, sigma: float, step: int = 1, t_sigma=0.01, r_sigma=3.0,
              velocity=0.01):
    """Returns (days, truth per day (n,3), injected helmert per day, meta, velocities NEU)."""
    vel = {s: rng.normal(0, velocity, 3) * np.array([1, 1, 0.3]) for s, *_ in stations}
    start = GnssDate.from_doy(2021, 1)
    days, truth, injected = [], [], []
    for k in range(0, ndays, step):
        d = start + k
        t = d.fyear
        true = np.array([xyz + neu2xyz(vel[s] * (t - 2021.0), lat, lon) for s, lat, lon, xyz in stations])
        c = np.concatenate([rng.normal(0, r_sigma, 3), rng.normal(0, t_sigma, 3)])
        obs = apply_helmert(true, -c) + rng.normal(0, sigma, true.shape)
        days.append(Day(d.year, d.doy, t, [s for s, *_ in stations], obs))
        truth.append(true)
        injected.append(c)
    meta = {s: StationMeta(s, lat, lon, xyz + rng.normal(0, 0.003, 3)) for s, lat, lon, xyz in stations}
    return days, truth, injected, meta, vel
