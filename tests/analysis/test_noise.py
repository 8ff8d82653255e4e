"""Coloured-noise trajectory models, MIDAS and offset detection on synthetic series with known truth.

Noise is simulated as Williams (2003) does (Hosking's fractional-integration filter applied to white noise), with
realistic GNSS amplitudes, so the estimator is tested against the model it approximates, not against itself.
"""

from __future__ import annotations

import math

import numpy as np

from geode.etm import EtmConfig, Jump, fit_etm
from geode.etm.midas import midas
from geode.etm.model import GEOPHYSICAL, MECHANICAL, build_design
from geode.etm.noise import FLICKER, _Likelihood, estimate_noise, hosking_filter, simulate_powerlaw

DT = 1 / 365.25


def test_white_flicker_amplitudes_and_velocity_sigma_match_truth_over_realisations():
    # 60 realisations of 4 years of daily data with 10 % gaps, white 2 mm + flicker 8 mm/yr^0.25 (typical up).
    # Tolerances: the mean of 60 amplitude estimates has a standard error of ~2 % (single estimates scatter by
    # ~10-15 %), so 20 % on the mean is a bias test with a wide margin; the RMS velocity error over 60
    # realisations has a relative standard error of 1/sqrt(2*60) = 9 %, so 25 % is a 2.7-sigma bound.
    rng = np.random.default_rng(12)
    n, white, flicker, v_true = 1461, 0.002, 0.008, 0.003
    t = 2015 + (np.arange(n) + 0.5) * DT
    A = np.column_stack([np.ones(n), t - t[0], np.sin(2 * np.pi * t), np.cos(2 * np.pi * t)])
    w_est, f_est, errors, sigmas = [], [], [], []
    for _ in range(60):
        keep = rng.random(n) > 0.1
        y = (A @ np.array([0.01, v_true, 0.002, -0.001]) + white * rng.standard_normal(n)
             + simulate_powerlaw(rng, n, -1.0, flicker, DT))
        est = estimate_noise(t[keep], A[keep], y[keep], FLICKER)
        w_est.append(est.white)
        f_est.append(est.powerlaw)
        errors.append(est.params[1] - v_true)
        sigmas.append(math.sqrt(est.covariance[1, 1]))
    assert abs(np.mean(w_est) / white - 1) < 0.2, np.mean(w_est)
    assert abs(np.mean(f_est) / flicker - 1) < 0.2, np.mean(f_est)
    scatter = math.sqrt(np.mean(np.square(errors)))
    assert abs(np.mean(sigmas) / scatter - 1) < 0.25, (np.mean(sigmas), scatter)


def test_flicker_rate_sigma_agrees_with_williams_covariance_for_a_gapless_series():
    # Williams (2003): the rate uncertainty of white + flicker noise for equally spaced data, here from generalised
    # least squares with his exact covariance sigma_w^2 I + (b dT^0.25)^2 T T' (T: Hosking's filter), computed
    # densely for 1000 daily epochs; the estimator's own noise model at the same amplitudes must agree within 20 %.
    n, white, flicker = 1000, 0.0015, 0.006
    t = 2018 + np.arange(n) * DT
    A = np.column_stack([np.ones(n), t - t[0]])
    psi = hosking_filter(n, -1.0)
    T = np.zeros((n, n))
    for k in range(n):
        T[k:, k] = psi[:n - k]
    C = white ** 2 * np.eye(n) + (flicker * DT ** 0.25) ** 2 * T @ T.T
    L = np.linalg.cholesky(C)
    W = np.linalg.solve(L, A)
    sigma_williams = math.sqrt(np.linalg.inv(W.T @ W)[1, 1])
    white_only = math.sqrt(12 * white ** 2 / (DT ** 2 * n * (n ** 2 - 1)))  # Williams' closed form for white noise
    lik = _Likelihood(t, A, np.zeros(n))
    _, _, cov, _ = lik.profile(math.log((flicker * DT ** 0.25) ** 2 / white ** 2), -1.0)
    sigma_model = math.sqrt(cov[1, 1]) * white
    assert sigma_williams > 5 * white_only  # flicker dominates: the test is about the coloured part
    assert abs(sigma_model / sigma_williams - 1) < 0.2, (sigma_model, sigma_williams)


def test_midas_recovers_velocity_across_a_known_step_within_its_sigma():
    rng = np.random.default_rng(3)
    t = 2012 + (np.arange(2200) + 0.5) * DT
    t = t[rng.random(len(t)) > 0.15]
    v = np.array([0.006, -0.002, 0.001])
    inside = 0
    for r in range(30):
        neu = (np.outer(t - t[0], v) + np.outer(np.sin(2 * np.pi * t), [0.002, 0.001, 0.004])
               + np.outer(t > 2014.4, [0.015, -0.01, 0.02]) + rng.normal(0, [0.002, 0.002, 0.005], (len(t), 3)))
        m = midas(t, neu, steps=[2014.4])
        inside += int(np.all(np.abs(m.velocity - v) <= m.sigma))
        if r == 0:
            assert np.all(np.abs(m.velocity - v) <= m.sigma), (m.velocity, m.sigma)
            skipped = midas(t, neu)  # pairs across the step bias the unguarded estimate
            assert np.any(np.abs(skipped.velocity - v) > np.abs(m.velocity - v))
    # all three components within 1 sigma has probability ~0.68^3 = 0.31 for honest Gaussian sigmas
    assert inside >= 5, inside


def test_detection_finds_unknown_offsets_and_rejects_a_quiet_metadata_change():
    rng = np.random.default_rng(21)
    n = 2000
    t = 2016 + (np.arange(n) + 0.5) * DT
    keep = rng.random(n) > 0.1
    neu = np.outer(t - t[0], [0.01, -0.004, 0.002])
    for c, (w, f) in enumerate([(0.0015, 0.004), (0.0015, 0.004), (0.004, 0.012)]):
        neu[:, c] += w * rng.standard_normal(n) + simulate_powerlaw(rng, n, -1.0, f, DT)
    offsets = {2017.3: [0.009, -0.005, 0.0], 2019.05: [-0.004, 0.003, 0.015]}
    for tau, size in offsets.items():
        neu += np.outer(t > tau, size)
    t, neu = t[keep], neu[keep]
    config = EtmConfig(detect_offsets=True, candidates=[Jump(2019.05, source="stationinfo", description="receiver"),
                                                          Jump(2020.2, source="stationinfo", description="firmware")])
    fit = fit_etm(t, neu, config)
    found = sorted(round(d.fyear, 2) for d in fit.detected)
    assert found == [2017.3, 2019.05], [d.summary() for d in fit.detected]
    assert {d.origin for d in fit.detected} == {"data", "stationinfo"}
    assert all(j.source == "detected" for j in fit.jumps)
    big = max(fit.detected, key=lambda d: d.fyear)
    assert abs(big.size[2] - 0.015) < 3 * big.sigma[2]
    again = fit_etm(t, neu, EtmConfig(detect_offsets=True, rejected=(2017.3 - 0.5 / 365.25,)))
    assert all(abs(d.fyear - 2017.3) * 365.25 >= 5 for d in again.detected)  # not proposed again nearby


def test_jump_hygiene_merges_close_jumps_and_reduces_late_quakes_to_steps():
    t = 2020 + (np.arange(1000) + 0.5) * DT
    cfg = EtmConfig(jumps=[Jump(2020.5, MECHANICAL, source="stationinfo"),
                           Jump(2020.5 + 3 / 365.25, GEOPHYSICAL, source="earthquake"),
                           Jump(2022.6, GEOPHYSICAL, source="earthquake")])
    d = build_design(t, cfg)
    assert [(round(j.fyear, 4), j.kind) for j in d.jumps] == [(round(2020.5 + 3 / 365.25, 4), GEOPHYSICAL),
                                                              (2022.6, MECHANICAL)]
    assert len(d.notes) == 2 and "merged" in d.notes[0] and "step" in d.notes[1]
    fit = fit_etm(t, np.random.default_rng(1).normal(0, 0.002, (1000, 3)), cfg)
    assert fit.notes == d.notes
    assert not any(lab.startswith("log") for lab in fit.labels if lab.endswith("@2022.6000"))
