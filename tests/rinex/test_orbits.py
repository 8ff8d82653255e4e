"""Orbits' vectorised broadcast and SP3 positions and its per-grid cache give exactly (bit for bit) what the former
per-satellite, per-record code gave; it is kept below, verbatim, as the reference."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pytest

from geode.rinex import orbits as orbits_module
from geode.rinex.orbits import (BDS_GEO, BDT_OFFSET, MU, OMEGA_E, WEEK, Orbits, elevation, gps_seconds,
                                kepler_xyz, parse_navigation, parse_sp3)
from geode.rinex.synth import SynthSpec
from geode.rinex.synth_physics import navigation_text, sp3_text

DAY = dt.datetime(2024, 4, 9)
# GPS, Galileo, QZSS, BeiDou MEO and BeiDou GEO (C03, C60: their own frame and OmegaDot term)
SATS = ("G05", "G24", "E11", "J02", "C25", "C03", "C60")
RX = (2780102.9630, -4437418.9120, -3629404.5810)


def _former_kepler_xyz(eph, t, sat):
    """kepler_xyz as it was before the vectorised evaluation (10 Newton steps for every point)."""
    sys_ = sat[0]
    mu = MU.get(sys_, 3.986005e14)
    t = np.asarray(t, dtype=np.float64)
    toe = eph["toe"]
    if sys_ == "C":
        t = t - BDT_OFFSET
    tk = t - toe
    a = eph["sqrtA"] ** 2
    n = math.sqrt(mu / a ** 3) + eph["DeltaN"]
    m = eph["M0"] + n * tk
    e = eph["e"]
    ecc = m.copy()
    for _ in range(10):
        ecc = ecc - (ecc - e * np.sin(ecc) - m) / (1 - e * np.cos(ecc))
    nu = np.arctan2(math.sqrt(1 - e * e) * np.sin(ecc), np.cos(ecc) - e)
    phi = nu + eph["omega"]
    s2, c2 = np.sin(2 * phi), np.cos(2 * phi)
    u = phi + eph["Cus"] * s2 + eph["Cuc"] * c2
    r = a * (1 - e * np.cos(ecc)) + eph["Crs"] * s2 + eph["Crc"] * c2
    inc = eph["i0"] + eph["Cis"] * s2 + eph["Cic"] * c2 + eph["IDOT"] * tk
    xp, yp = r * np.cos(u), r * np.sin(u)
    toe_week = toe % WEEK
    geo = sys_ == "C" and int(sat[1:]) in BDS_GEO
    if geo:
        omega = eph["Omega0"] + eph["OmegaDot"] * tk - OMEGA_E * toe_week
    else:
        omega = eph["Omega0"] + (eph["OmegaDot"] - OMEGA_E) * tk - OMEGA_E * toe_week
    x = xp * np.cos(omega) - yp * np.cos(inc) * np.sin(omega)
    y = xp * np.sin(omega) + yp * np.cos(inc) * np.cos(omega)
    z = yp * np.sin(inc)
    if geo:
        f = math.radians(-5.0)
        y2 = y * math.cos(f) + z * math.sin(f)
        z2 = -y * math.sin(f) + z * math.cos(f)
        rot = OMEGA_E * tk
        x, y, z = x * np.cos(rot) + y2 * np.sin(rot), -x * np.sin(rot) + y2 * np.cos(rot), z2
    return np.stack([x, y, z], axis=-1)


def _former_broadcast(records, sat, t):
    """Orbits.positions as it was: the nearest record by argmin, +-4 h, one kepler_xyz call per record."""
    toes = np.array([r["toe"] for r in records])
    nearest = np.argmin(np.abs(t[:, None] - toes[None, :]), axis=1)
    out = np.full((len(t), 3), np.nan)
    for k in np.unique(nearest):
        ok = (nearest == k) & (np.abs(t - toes[k]) <= 4 * 3600.0)
        if ok.any():
            out[ok] = _former_kepler_xyz(records[k], t[ok], sat)
    return out


def _former_lagrange(t, tt, xyz, order=9):
    out = np.full((len(tt), 3), np.nan)
    ok = np.isfinite(xyz[:, 0])
    t, xyz = t[ok], xyz[ok]
    if len(t) < order:
        return out
    start = np.clip(np.searchsorted(t, tt) - order // 2, 0, len(t) - order)
    inside = (tt >= t[0]) & (tt <= t[-1])
    rows = start[:, None] + np.arange(order)[None, :]
    ts = t[rows]
    num = tt[:, None, None] - ts[:, None, :]
    den = ts[:, :, None] - ts[:, None, :]
    eye = np.eye(order, dtype=bool)[None]
    w = np.prod(np.where(eye, 1.0, num / np.where(eye, 1.0, den)), axis=2)
    values = np.einsum("nj,njk->nk", w, xyz[rows])
    out[inside] = values[inside]
    return out


def _former_elevation(sat_xyz, rx):
    lat, lon = orbits_module.geodetic(rx)
    up = np.array([math.cos(lat) * math.cos(lon), math.cos(lat) * math.sin(lon), math.sin(lat)])
    d = sat_xyz - np.asarray(rx, dtype=np.float64)
    return np.degrees(np.arcsin(np.clip((d @ up) / np.linalg.norm(d, axis=-1), -1, 1)))


@pytest.fixture(scope="module")
def ephemerides():
    """A day of broadcast records (every 2 h) with harmonic corrections, and the awkward cases: a second record
    with the same toe (argmin keeps the first), records out of order, a 10 h hole (NaN there)."""
    spec = SynthSpec(satellites=SATS, start=DAY)
    eph = parse_navigation(navigation_text(spec))
    rng = np.random.default_rng(16)
    for records in eph.values():
        for r in records:
            r.update(Cuc=rng.normal(0, 1e-6), Cus=rng.normal(0, 1e-6), Crc=rng.normal(0, 200), Crs=rng.normal(0, 50),
                     Cic=rng.normal(0, 1e-7), Cis=rng.normal(0, 1e-7), DeltaN=rng.normal(0, 4e-9),
                     IDOT=rng.normal(0, 1e-10))
    eph["G05"].append(dict(eph["G05"][4], M0=eph["G05"][4]["M0"] + 0.01))
    eph["C03"].reverse()
    del eph["E11"][3:8]
    return eph


def _grid_times():
    """GPS seconds: the day at 30 s (less the signal travel time, as Orbits.elevations), exact toes and exact
    midpoints between them (ties), and times more than 4 h from any record."""
    t0 = gps_seconds(DAY)
    return np.concatenate([t0 + np.arange(2880) * 30.0 - 0.075, t0 + np.arange(-6, 31) * 3600.0])


def test_broadcast_positions_are_the_former_per_record_ones(ephemerides):
    orbits = Orbits("nav", ephemerides=ephemerides)
    t = _grid_times()
    for sat in SATS:
        former = _former_broadcast(ephemerides[sat], sat, t)
        assert np.isnan(former).any() and np.isfinite(former).any()
        assert np.array_equal(orbits.positions(sat, t), former, equal_nan=True), sat
        assert np.array_equal(kepler_xyz(ephemerides[sat][0], t, sat),
                              _former_kepler_xyz(ephemerides[sat][0], t, sat)), sat
    assert orbits.positions("R07", t) is None


@pytest.fixture
def computed(monkeypatch) -> list[list[str]]:
    """The satellites of every position computation ``Orbits`` makes, in order."""
    calls: list[list[str]] = []
    compute = Orbits._compute
    monkeypatch.setattr(Orbits, "_compute", lambda self, sats, t: calls.append(list(sats)) or compute(self, sats, t))
    return calls


def test_elevations_are_the_former_ones_and_kept_per_grid(ephemerides, computed):
    orbits = Orbits("nav", ephemerides=ephemerides)
    seconds = np.arange(2880) * 30.0
    t = gps_seconds(DAY) + seconds - 0.075
    sats = list(SATS) + ["R07"]  # no orbit: NaN
    other = (1113000.0, -4842000.0, 3985000.0)
    for rx in (RX, other):
        former = np.stack([_former_elevation(_former_broadcast(ephemerides[s], s, t), rx) for s in SATS], axis=1)
        got = orbits.elevations(sats, DAY, seconds, rx)
        assert np.array_equal(got[:, :-1], former, equal_nan=True) and np.isnan(got[:, -1]).all()
        assert np.array_equal(elevation(np.stack([_former_broadcast(ephemerides[s], s, t) for s in SATS]), rx).T,
                              former, equal_nan=True)
    assert computed == [sats]  # the second station's file reused the grid's positions
    kept = orbits._on_grid(sats, t)[0]
    assert orbits._on_grid(sats, t)[0] is kept  # the very same array
    orbits.elevations(["G24", "C03"], DAY, seconds, RX)  # fewer satellites: still nothing to compute
    orbits.elevations(["G24", "G12"], DAY, seconds, RX)  # only the missing satellite is computed
    assert computed == [sats, ["G12"]]
    orbits.elevations(sats, DAY, seconds[:100], RX)  # another grid
    assert computed[-1] == sats and len(computed) == 3
    for k in range(orbits_module.GRIDS_KEPT):  # only the most recent grids are kept
        orbits.elevations(["G05"], DAY + dt.timedelta(seconds=k + 1), seconds, RX)
    assert len(orbits._grids) == orbits_module.GRIDS_KEPT
    orbits.elevations(sats, DAY, seconds, RX)
    assert computed[-1] == sats and len(computed) == 4 + orbits_module.GRIDS_KEPT


def test_sp3_positions_are_the_former_ones_with_gaps():
    spec = SynthSpec(satellites=("G05", "G24", "E11", "C25", "R07"), start=DAY)
    times, tables = parse_sp3(sp3_text(spec))
    tables["G24"][40:45] = np.nan  # satellites with other tabulated epochs: their own weights
    tables["R07"][::2] = np.nan
    tables["C25"][:] = np.nan
    orbits = Orbits("sp3", sp3_times=times, sp3=tables)
    t = np.concatenate([_grid_times(), gps_seconds(DAY) + np.array([-7200.0, 90000.0, 200000.0])])
    former = {sat: _former_lagrange(times, t, xyz) for sat, xyz in tables.items()}
    for sat, xyz in former.items():
        assert np.array_equal(orbits.positions(sat, t), xyz, equal_nan=True), sat
    sats = sorted(tables)
    got = orbits.elevations(sats, DAY, np.arange(2880) * 30.0, RX)
    t = gps_seconds(DAY) + np.arange(2880) * 30.0 - 0.075
    assert np.array_equal(got, np.stack([_former_elevation(_former_lagrange(times, t, tables[s]), RX) for s in sats],
                                        axis=1), equal_nan=True)


def test_grids_too_large_to_keep_are_computed_a_few_satellites_at_a_time(ephemerides, computed, monkeypatch):
    monkeypatch.setattr(orbits_module, "GRID_BYTES_KEPT", 1000)
    monkeypatch.setattr(orbits_module, "CHUNK", 3000)  # 2880 epochs: one satellite at a time
    orbits = Orbits("nav", ephemerides=ephemerides)
    seconds = np.arange(2880) * 30.0
    t = gps_seconds(DAY) + seconds - 0.075
    former = np.stack([_former_elevation(_former_broadcast(ephemerides[s], s, t), RX) for s in SATS], axis=1)
    assert np.array_equal(orbits.elevations(list(SATS), DAY, seconds, RX), former, equal_nan=True)
    assert computed == [[sat] for sat in SATS] and not orbits._grids
