"""Example daily GAMIT solutions: polyhedra with known trajectories in ``gamit_soln`` (and ``gamit_stats``)
so ``geode stack``, ``geode dra`` and ``geode kml`` have something real to work on.

Every station moves with a known velocity (South American plate-like, plus a little local motion), has an
annual signal and white noise; ``arg.mzac`` has an earthquake (stored in ``earthquakes``) with a step and
logarithmic relaxation; every day carries a random Helmert perturbation (translations and rotations).
PPP solutions (``ppp_soln``) of the same trajectories, unperturbed but noisier, give the stack its a-priori
trajectories and so its absolute velocities.
"""

from __future__ import annotations

import datetime as dt

from ..dates import GnssDate, fyear_of_datetime

PROJECT = "example-gamit"
START, END, EVERY = GnssDate.from_ymd(2021, 1, 2), GnssDate.from_ymd(2024, 4, 30), 4  # every 4th day
NOISE = (0.002, 0.002, 0.004)  # m, north/east/up
PPP_NOISE = 0.004  # m per ECEF axis: the a-priori (iteration 0) trajectories come from ppp_soln
QUAKE = {"date": dt.datetime(2022, 6, 15, 7, 30), "lat": -32.95, "lon": -69.05, "depth": 20.0, "mag": 6.1,
         "id": "example-eq-2022", "location": "near Mendoza (example)"}
QUAKE_STATION = "arg.mzac"
QUAKE_STEP_NEU = (-0.012, 0.008, -0.003)  # m
QUAKE_LOG_NEU = (-0.004, 0.003, 0.0)  # m, log10(1 + dt/0.5 yr)


def velocity_neu(index: int) -> tuple[float, float, float]:
    """Known velocities (m/yr): the truth that `geode stack` should recover."""
    return (0.010 + 0.0005 * index, -0.004 + 0.0003 * index, 0.0005 * (index % 3 - 1))


def build(ws) -> list[str]:
    import numpy as np
    from psycopg2.extras import execute_values

    from ..geodesy.coordinates import lla2xyz, neu2xyz
    from ..geodesy.helmert import apply_helmert

    rng = np.random.default_rng(2024)
    stations = [(f"{s.network}.{s.code}", s.lat, s.lon, np.array(lla2xyz(s.lat, s.lon, s.height)))
                for s in ws.stations]
    t_quake = fyear_of_datetime(QUAKE["date"])
    rows, stats, ppp = [], [], []
    day = START
    while day <= END:
        t = day.fyear
        true = []
        for i, (name, lat, lon, xyz) in enumerate(stations):
            neu = np.array(velocity_neu(i)) * (t - 2021.0)
            neu[2] += 0.003 * np.sin(2 * np.pi * t + i)
            if name == QUAKE_STATION and t > t_quake:
                neu += np.array(QUAKE_STEP_NEU) + np.array(QUAKE_LOG_NEU) * np.log10(1 + (t - t_quake) / 0.5)
            neu += rng.normal(0, NOISE)
            true.append(xyz + neu2xyz(neu, lat, lon))
        c = np.concatenate([rng.normal(0, 1.0, 3), rng.normal(0, 0.005, 3)])
        obs = apply_helmert(np.array(true), c)
        missing = rng.integers(len(stations)) if rng.random() < 0.2 else -1  # some days lack one station
        for i, (name, *_rest) in enumerate(stations):
            if i == missing:
                continue
            net, stn = name.split(".")
            rows.append((net, stn, PROJECT, day.year, day.doy, day.fyear, *map(float, obs[i]),
                         0.002, 0.002, 0.004, 1.0))
        for i, (name, *_rest) in enumerate(stations):  # PPP: absolute positions, noisier, no daily Helmert
            net, stn = name.split(".")
            ppp.append((net, stn, *map(float, true[i] + rng.normal(0, PPP_NOISE, 3)), day.year, day.doy, "IGS20"))
        stats.append((PROJECT, 0, day.year, day.doy, day.fyear, 90.0, 85.0, 0.19, 3, "example", "G"))
        day = GnssDate.from_mjd(day.mjd + EVERY)
    with ws.db.transaction() as cur:
        cur.execute("INSERT INTO earthquakes (date, lat, lon, depth, mag, id, location) VALUES "
                    "(%(date)s, %(lat)s, %(lon)s, %(depth)s, %(mag)s, %(id)s, %(location)s) ON CONFLICT DO NOTHING",
                    QUAKE)
        execute_values(cur, 'INSERT INTO gamit_soln ("NetworkCode", "StationCode", "Project", "Year", "DOY", "FYear", '
                       '"X", "Y", "Z", sigmax, sigmay, sigmaz, "VarianceFactor") VALUES %s ON CONFLICT DO NOTHING',
                       rows, page_size=5000)
        execute_values(cur, 'INSERT INTO ppp_soln ("NetworkCode", "StationCode", "X", "Y", "Z", "Year", "DOY", '
                       '"ReferenceFrame") VALUES %s ON CONFLICT DO NOTHING', ppp, page_size=5000)
        execute_values(cur, 'INSERT INTO gamit_stats ("Project", subnet, "Year", "DOY", "FYear", wl, nl, nrms, '
                       'iterations, node, system) VALUES %s ON CONFLICT DO NOTHING', stats, page_size=5000)
    return [f"daily solutions: project {PROJECT}, {len(stats)} days {START.yyyy_ddd} .. {END.yyyy_ddd} (every {EVERY} days), "
            f"{len(rows)} station-days; try: geode stack run example all --project {PROJECT}"]
