"""GAMIT a-priori coordinates come first from the station's stored trajectory model (geode.etm.apriori),
then ppp_soln, apr_coords and stations.auto_x as before. Models are fitted and stored with the real etm code
on a real database."""

from __future__ import annotations

import json

import numpy as np
import pytest

from geode.dates import GnssDate
from geode.etm import EtmConfig, fit_etm
from geode.etm.apriori import MAX_EXTRAPOLATION_YEARS, etm_position
from geode.etm.store import checksum, save_fit
from geode.geodesy.coordinates import neu2xyz, xyz2neu

from .conftest import DOYS, SITES, YEAR, make_network

DATES = (f"{YEAR}_{DOYS[0]}", f"{YEAR}_{DOYS[-1]}")
VELOCITY = np.array([0.012, -0.021, 0.003])  # m/yr north, east, up
OFFSET = np.array([0.05, -0.08, 0.02])  # m at T0, about stations.auto_x/y/z
T0 = 2022.5


def _site(key):
    net, code = key.split(".")
    return next(s for s in SITES if s[0] == net and s[1] == code)


def truth(network, key, fyear):
    """The synthetic trajectory's ECEF position (what a perfect model returns)."""
    _, _, lat, lon, _ = _site(key)
    return np.array(network.xyz[key]) + neu2xyz(OFFSET + VELOCITY * (fyear - T0), lat, lon)


def store_model(db, network, key, t0=T0, t1=2024.2, stack="stk1", velocity=VELOCITY):
    """Weekly synthetic XYZ with a known velocity (and 1 mm noise), fitted and stored like the stack does:
    NEU about stations.auto_x/y/z."""
    net, code = key.split(".")
    _, _, lat, lon, _ = _site(key)
    t = np.arange(t0, t1, 7 / 365.25)
    rng = np.random.default_rng(7)
    neu = OFFSET + np.outer(t - T0, velocity) + rng.normal(0, 0.001, (len(t), 3))
    ref = np.array(network.xyz[key])
    xyz = ref + neu2xyz(neu, lat, lon)
    config = EtmConfig()
    fit = fit_etm(t, xyz2neu(xyz - ref, lat, lon), config)
    save_fit(db, net, code, "gamit", stack, fit, checksum(t, xyz, config))
    return fit


def plan(cli, network):
    result = cli("gamit", "plan", str(network.cfg), *DATES, "--json")
    assert result.exit_code == 0, result.stderr
    return {d["date"]: {s["station"]: s for s in d["stations"]} for d in json.loads(result.stdout)}


@pytest.fixture
def net(db, tmp_path, monkeypatch):
    (tmp_path / "ws").mkdir()
    return make_network(db, tmp_path / "ws", monkeypatch)


def test_plan_apriori_equals_the_stored_models_evaluation(cli, db, net):
    fit = store_model(db, net, "igs.lpgs")
    assert fit.velocity == pytest.approx(VELOCITY, abs=5e-4)
    days = plan(cli, net)
    for doy in DOYS:
        date = GnssDate(YEAR, doy)
        stn = days[f"{YEAR}_{doy:03d}"]["igs.lpgs"]
        assert stn["apr_source"] == "etm"
        pos = etm_position(db, "igs.lpgs", date)
        assert pos is not None and pos.soln == "gamit" and pos.stack == "stk1"
        got = np.array([stn["x"], stn["y"], stn["z"]])
        assert got == pytest.approx([pos.x, pos.y, pos.z], abs=1e-3)  # mm level: the plan uses the model
        assert got == pytest.approx(truth(net, "igs.lpgs", date.fyear), abs=3e-3)  # and the model the velocity
    # the two days differ by one day of motion, as the velocity says
    a, b = (np.array([days[f"{YEAR}_{d:03d}"]["igs.lpgs"][c] for c in "xyz"]) for d in DOYS)
    _, _, lat, lon, _ = _site("igs.lpgs")
    assert xyz2neu(b - a, lat, lon) == pytest.approx(VELOCITY / 366, abs=2e-4)


def test_stations_without_a_model_fall_back_as_before(cli, db, net):
    store_model(db, net, "igs.lpgs")
    with db.transaction() as cur:  # a PPP solution for cord only, and one for lpgs that the model overrides
        for key, dx in (("igs.cord", 0.5), ("igs.lpgs", 0.7)):
            x, y, z = net.xyz[key]
            cur.execute('INSERT INTO ppp_soln ("NetworkCode", "StationCode", "X", "Y", "Z", "Year", "DOY", '
                        '"ReferenceFrame", sigmax, sigmay, sigmaz) VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s)',
                        (*key.split("."), x + dx, y, z, YEAR, DOYS[0], "IGS14", 0.01, 0.01, 0.01))
    first = plan(cli, net)[f"{YEAR}_{DOYS[0]:03d}"]
    assert first["igs.lpgs"]["apr_source"] == "etm"
    assert first["igs.cord"]["apr_source"] == "ppp_soln"
    assert first["igs.cord"]["x"] == pytest.approx(net.xyz["igs.cord"][0] + 0.5, abs=1e-4)
    for key, s in first.items():
        if key not in ("igs.lpgs", "igs.cord"):
            assert s["apr_source"] == "stations.auto_x"
            assert [s["x"], s["y"], s["z"]] == pytest.approx(list(net.xyz[key]), abs=1e-6)


def test_model_far_outside_its_data_span_is_not_used(cli, db, net):
    fit = store_model(db, net, "igs.lpgs", t0=2019.0, t1=2022.0)
    date = GnssDate(YEAR, DOYS[0])
    assert date.fyear > fit.span[1] + MAX_EXTRAPOLATION_YEARS
    assert etm_position(db, "igs.lpgs", date) is None
    assert etm_position(db, "igs.lpgs", GnssDate.from_fyear(fit.span[1] + 0.5)) is not None
    first = plan(cli, net)[f"{YEAR}_{DOYS[0]:03d}"]
    assert first["igs.lpgs"]["apr_source"] == "stations.auto_x"
    assert first["igs.lpgs"]["x"] == pytest.approx(net.xyz["igs.lpgs"][0], abs=1e-6)


def test_newest_stored_model_is_used(cli, db, net):
    store_model(db, net, "igs.lpgs", stack="old", velocity=np.zeros(3))
    store_model(db, net, "igs.lpgs", stack="new")
    date = GnssDate(YEAR, DOYS[0])
    pos = etm_position(db, "igs.lpgs", date)
    assert pos.stack == "new"
    assert [pos.x, pos.y, pos.z] == pytest.approx(truth(net, "igs.lpgs", date.fyear), abs=3e-3)
    assert etm_position(db, "igs.cord", date) is None  # no model at all
