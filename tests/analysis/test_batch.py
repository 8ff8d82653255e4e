"""The batched numerics give what the one-problem-at-a-time functions give (to rounding): robust least squares,
Helmert alignments, trajectory fits, model evaluation and the application of day transformations."""

from __future__ import annotations

import numpy as np
import pytest

from geode.etm import EtmConfig, Jump, fit_etm
from geode.etm.model import GEOPHYSICAL, MECHANICAL
from geode.geodesy.coordinates import xyz2neu
from geode.geodesy.helmert import apply_helmert, estimate_helmert, estimate_helmert_batch
from geode.geodesy.lsq import robust_lsq, robust_lsq_batch
from geode.stack.data import Solutions, StationMeta
from geode.stack.models import fit_series, model_xyz
from geode.stack.work import aligned

from .synth import network


def test_robust_lsq_batch_matches_robust_lsq_on_ragged_problems():
    rng = np.random.default_rng(20)
    k, n, m = 60, 120, 5
    rows = np.zeros((k, n), bool)
    cols = np.zeros((k, m), bool)
    A = np.zeros((k, n, m))
    L = np.zeros((k, n))
    sizes = rng.integers(12, n, k)
    params = rng.integers(2, m + 1, k)
    for i in range(k):
        a = np.column_stack([np.ones(sizes[i]), rng.normal(size=(sizes[i], params[i] - 1))])
        y = a @ rng.normal(size=params[i]) + rng.normal(0, 0.002, sizes[i])
        y[rng.choice(sizes[i], 2, replace=False)] += 0.03  # outliers: more passes, down-weighting
        A[i, :sizes[i], :params[i]], L[i, :sizes[i]] = a, y
        rows[i, :sizes[i]], cols[i, :params[i]] = True, True
    batch = robust_lsq_batch(A, L, rows, cols)
    for i in range(k):
        one = robust_lsq(A[i, :sizes[i], :params[i]], L[i, :sizes[i]])
        assert batch.iterations[i] == one.iterations and batch.converged[i] == one.converged
        assert np.array_equal(batch.keep[i, :sizes[i]], one.keep)
        assert np.allclose(batch.params[i, :params[i]], one.params, rtol=0, atol=1e-12)
        assert np.allclose(batch.sigmas[i, :params[i]], one.sigmas, rtol=1e-9)
        assert batch.wrms[i] == pytest.approx(one.wrms, rel=1e-9)
        assert not batch.params[i, params[i]:].any() and not batch.keep[i, sizes[i]:].any()
    with pytest.raises(ValueError):
        robust_lsq_batch(A[:, :3], L[:, :3])


def test_helmert_batch_matches_estimate_helmert():
    rng = np.random.default_rng(21)
    sources, targets, names = [], [], []
    for day in range(40):
        pts = np.array([p[3] for p in network(int(rng.integers(2, 30)), rng)])
        c = np.concatenate([rng.normal(0, 3, 3), rng.normal(0, 0.01, 3)])
        src = apply_helmert(pts, -c) + rng.normal(0, 0.002, pts.shape)
        if day % 5 == 0 and len(pts) > 6:
            src[3, 2] += 0.04
        sources.append(src)
        targets.append(pts)
        names.append([f"s{i}" for i in range(len(pts))])
    for scale in (False, True):
        for src, tgt, nm, got in zip(sources, targets, names, estimate_helmert_batch(sources, targets, names,
                                                                                      scale=scale)):
            try:
                want = estimate_helmert(src, tgt, names=nm, scale=scale)
            except ValueError as exc:
                assert isinstance(got, ValueError) and str(got) == str(exc)
                continue
            assert np.abs(apply_helmert(src, got.params) - apply_helmert(src, want.params)).max() <= 1e-9
            assert (got.iterations, got.downweighted_components) == (want.iterations, want.downweighted_components)
            assert got.wrms == pytest.approx(want.wrms, rel=1e-9)


def test_fit_series_matches_fit_etm_and_leaves_other_noise_models_and_detection_to_it():
    rng = np.random.default_rng(22)
    (_, lat, lon, ref), = network(1, rng)
    t = 2020 + (np.arange(0, 900, 2) + 0.5) / 365.25
    neu = np.column_stack([0.01 * (t - 2020), -0.004 * (t - 2020), 0.003 * np.sin(2 * np.pi * t)])
    neu += 0.02 * (t > 2021.1)[:, None] + rng.normal(0, 0.002, neu.shape)
    neu[17] += 0.03
    from geode.geodesy.coordinates import neu2xyz

    xyz = ref + neu2xyz(neu, lat, lon)
    configs = [EtmConfig(), EtmConfig(jumps=[Jump(2021.1, MECHANICAL), Jump(2021.6, GEOPHYSICAL)]),
               EtmConfig(poly_terms=1, frequencies=())]
    items = [(t[: 100 + 80 * i], xyz[: 100 + 80 * i], ref, lat, lon, c) for i, c in enumerate(configs)]
    items.append((t[:3], xyz[:3], ref, lat, lon, EtmConfig()))  # too short: the error fit_etm raises
    items.append((t, xyz, ref, lat, lon, EtmConfig(noise_model="white+flicker")))  # not white: fit_etm's own path
    items.append((t, xyz, ref, lat, lon, EtmConfig(noise_model="white", detect_offsets=True)))  # detection: too
    got = fit_series(items)
    for (tt, xx, r, la, lo, c), fit in zip(items, got):
        try:
            want = fit_etm(tt, xyz2neu(xx - r, la, lo), c)
        except ValueError as exc:
            assert isinstance(fit, ValueError) and str(fit) == str(exc)
            continue
        assert fit.labels == want.labels and fit.jumps == want.jumps and fit.iterations == want.iterations
        assert np.allclose(fit.params, want.params, rtol=0, atol=1e-12)
        assert np.allclose(fit.sigmas, want.sigmas, rtol=1e-9)
        assert np.array_equal(fit.good, want.good)
        assert fit.noise_model == want.noise_model and fit.notes == want.notes and len(fit.detected) == len(want.detected)
        assert np.allclose(fit.noise_white, want.noise_white, rtol=1e-9)
        assert (fit.midas_velocity is None) == (want.midas_velocity is None)
        if want.midas_velocity is not None:
            assert np.allclose(fit.midas_velocity, want.midas_velocity, rtol=0, atol=1e-12)


def test_model_xyz_matches_station_positions():
    rng = np.random.default_rng(23)
    stations = network(6, rng)
    metas, fits = [], {}
    for i, (name, lat, lon, ref) in enumerate(stations):
        metas.append(StationMeta(name, lat, lon, ref))
        t = 2020 + np.arange(0, 700, 3) / 365.25
        neu = rng.normal(0, 0.002, (len(t), 3)) + 0.01 * (t - 2020)[:, None]
        jumps = [Jump(2020.9, GEOPHYSICAL)] if i % 2 else []
        freqs = (1.0, 2.0) if i % 3 else (1.0,)
        if i != 4:  # station 4 has no model
            fits[i] = fit_etm(t, neu, EtmConfig(frequencies=freqs, jumps=jumps, poly_terms=2 + (i == 5)))
    stn = rng.integers(0, 6, 400)
    t = 2020 + rng.uniform(0, 2, 400)
    got = model_xyz(fits, metas, stn, t)
    for s, tt, g in zip(stn, t, got):
        if s in fits:
            assert np.abs(g - metas[s].position(fits[s], tt)).max() <= 1e-9
        else:
            assert np.isnan(g).all()


def test_aligned_applies_each_days_transformations_in_order():
    rng = np.random.default_rng(24)
    pts = np.array([p[3] for p in network(30, rng)])
    days = np.repeat(np.arange(5), 30)
    sol = Solutions(days, np.tile(np.arange(30), 5), np.tile(pts, (5, 1)) + rng.normal(0, 0.01, (150, 3)))
    transforms = {0: [rng.normal(0, 1, 6)], 1: [rng.normal(0, 1, 6), rng.normal(0, 1, 7)], 2: [], 4: [rng.normal(0, 1, 7)]}
    out = aligned(sol.by_station(), transforms)
    by = sol.by_station()
    for d in range(5):
        xyz = by.xyz[by.day == d]
        for p in transforms.get(d, []):
            xyz = apply_helmert(xyz, p)
        assert np.abs(out[by.day == d] - xyz).max() <= 1e-9
