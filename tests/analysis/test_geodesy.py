import numpy as np
import pytest

from geode.geodesy.coordinates import lla2xyz, neu2xyz, xyz2lla, xyz2neu
from geode.geodesy.helmert import apply_helmert, estimate_helmert
from geode.geodesy.lsq import robust_lsq

from .synth import network


def test_neu_rotation_round_trip_and_axes():
    rng = np.random.default_rng(0)
    d = rng.normal(0, 10, (50, 3))
    assert np.allclose(neu2xyz(xyz2neu(d, -34.9, -57.9), -34.9, -57.9), d, atol=1e-12)
    # at lat 0, lon 0: north = +Z, east = +Y, up = +X
    assert np.allclose(xyz2neu([1.0, 2.0, 3.0], 0.0, 0.0), [3.0, 2.0, 1.0])


def test_geodetic_test_vector():
    lat, lon, h = xyz2lla(2297292.91, 1016894.94, -5843939.62)
    assert lat == pytest.approx(-66.8765400174, abs=1e-6) and lon == pytest.approx(23.876539914, abs=1e-6)
    assert h == pytest.approx(999.9984, abs=0.002)  # GRS80 vs WGS84 differ by 0.1 mm here
    assert np.allclose(lla2xyz(lat, lon, h), (2297292.91, 1016894.94, -5843939.62), atol=1e-4)


def test_helmert_noise_free_recovers_exactly():
    rng = np.random.default_rng(1)
    xyz = np.array([p[3] for p in network(40, rng)])
    c = np.array([30.0, -20.0, 50.0, 0.012, -0.020, 0.005])
    h = estimate_helmert(apply_helmert(xyz, -c), xyz)
    assert np.allclose(h.params[:3], c[:3], atol=1e-3) and np.allclose(h.params[3:], c[3:], atol=1e-6)
    assert np.abs(h.residuals).max() < 1e-6


def test_helmert_noisy_global_network():
    rng = np.random.default_rng(2)
    xyz = np.array([p[3] for p in network(40, rng)])
    c = np.array([30.0, -20.0, 50.0, 0.012, -0.020, 0.005])
    h = estimate_helmert(apply_helmert(xyz, -c) + rng.normal(0, 0.002, xyz.shape), xyz)
    assert np.abs(h.params[3:] - c[3:]).max() < 0.001
    assert np.abs(h.params[:3] - c[:3]).max() < 0.2
    assert 0.8 <= h.wrms / 0.002 <= 1.1
    assert h.iterations == 2  # pass 1 (unit weights) fails the chi-square test by construction


def test_helmert_downweights_an_outlier():
    rng = np.random.default_rng(3)
    xyz = np.array([p[3] for p in network(40, rng)])
    noisy = xyz + rng.normal(0, 0.002, xyz.shape)
    clean = estimate_helmert(noisy, xyz, names=[f"s{i}" for i in range(40)])
    noisy[7, 1] += 0.05
    bad = estimate_helmert(noisy, xyz, names=[f"s{i}" for i in range(40)])
    assert "Y-s7" in bad.downweighted_components and bad.downweighted >= 1
    assert np.abs(bad.params[3:] - clean.params[3:]).max() < 0.0005


def test_robust_lsq_weight_function_and_stop():
    rng = np.random.default_rng(4)
    A = np.column_stack([np.ones(200), np.arange(200.0)])
    L = A @ [1.0, 0.01] + rng.normal(0, 0.002, 200)
    L[10] += 0.03
    fit = robust_lsq(A, L)
    assert fit.converged and fit.iterations <= 4
    assert not fit.keep[10]
    s = np.abs(fit.residuals[10]) / fit.wrms
    # the final weight of the outlier follows 10^(2.5 - s) from the previous pass (within one pass' drift)
    assert fit.weights[10] < 10 ** (2.5 - 0.8 * s)
    with pytest.raises(ValueError):
        robust_lsq(A[:2], L[:2])


def test_reference_position_from_decimal_lat_lon_height_without_auto_xyz():
    # psycopg2 hands numeric columns over as Decimal; a station with lat/lon/height but no auto_x used to
    # raise TypeError (float + Decimal) in the ETM reference point
    from decimal import Decimal

    from geode.etm.apriori import reference_position

    row = {"auto_x": None, "auto_y": None, "auto_z": None,
           "lat": Decimal("-34.90683"), "lon": Decimal("-57.93227"), "height": Decimal("29.874")}
    ref, lat, lon = reference_position(row)
    np.testing.assert_allclose(ref, lla2xyz(-34.90683, -57.93227, 29.874), atol=1e-6)
    assert (lat, lon) == (pytest.approx(-34.90683), pytest.approx(-57.93227))
    back = xyz2lla(*ref)
    assert back[2] == pytest.approx(29.874, abs=1e-4)
