import numpy as np
import pytest

from geode.etm import EtmConfig, Jump, fit_etm
from geode.etm.fit import EtmError
from geode.etm.model import GEOPHYSICAL, MECHANICAL, POSTSEISMIC, build_design, resolvable_frequencies


def _series(rng, sigma=0.002, outliers=0):
    t = 2020 + (np.arange(1096) + 0.5) / 365.25
    truth = {"poly0": 0.01, "poly1": 0.005, "sin1": 0.003, "cos2": 0.001, "step@2021.0000": 0.02,
             "step@2022.0000": 0.015, "log0.5@2022.0000": 0.008}
    y = (0.01 + 0.005 * (t - t[0]) + 0.003 * np.sin(2 * np.pi * t) + 0.001 * np.cos(4 * np.pi * t)
         + 0.02 * (t > 2021) + (0.015 + 0.008 * np.log10(1 + np.clip(t - 2022, 0, None) / 0.5)) * (t > 2022))
    neu = np.column_stack([y, -y, 2 * y]) + rng.normal(0, sigma, (len(t), 3))
    bad = rng.choice(len(t), outliers, replace=False)
    neu[bad, 0] += 0.03
    cfg = EtmConfig(jumps=[Jump(2021.0, MECHANICAL), Jump(2022.0, GEOPHYSICAL)])
    return t, neu, truth, cfg, bad


def test_etm_recovers_parameters_within_formal_sigmas():
    t, neu, truth, cfg, bad = _series(np.random.default_rng(5), outliers=10)
    fit = fit_etm(t, neu, cfg)
    for label, value in truth.items():
        i = fit.column(label)
        for comp, scale in enumerate((1, -1, 2)):
            err = abs(fit.params[comp, i] - scale * value)
            assert err <= 4 * fit.sigmas[comp, i], (label, comp, err, fit.sigmas[comp, i])
    assert abs(fit.velocity[0] - 0.005) < 0.0003
    assert 0.85 <= fit.wrms[1] / 0.002 <= 1.05
    assert not fit.good[bad].any()  # every 30 mm outlier flagged


def test_periodic_gating_by_phase_gaps():
    t = np.concatenate([y + np.linspace(0.0, 0.7, 60) for y in (2020, 2021, 2022)])  # 0.3-yr gap each year
    assert resolvable_frequencies(t, (1.0, 2.0)) == ()
    t2 = np.concatenate([y + np.linspace(0.0, 0.8, 60) for y in (2020, 2021, 2022)])  # 0.2-yr gap
    assert resolvable_frequencies(t2, (1.0, 2.0)) == (1.0,)
    assert resolvable_frequencies(np.full(5, 2020.5) + np.arange(5), (1.0, 2.0)) == ()  # one phase only
    full = 2020 + np.arange(1000) / 365.25
    assert resolvable_frequencies(full, (1.0, 2.0)) == (1.0, 2.0)


def test_jump_edge_cases():
    t = 2020 + (np.arange(400) + 0.5) / 365.25
    d = build_design(t, EtmConfig(jumps=[Jump(2019.5, GEOPHYSICAL), Jump(2019.6, MECHANICAL), Jump(2030.0)]))
    assert [j.kind for j in d.jumps] == [POSTSEISMIC]  # quake before data → relaxation only; steps dropped
    # an epoch exactly at the jump epoch is before the jump (strict t > t_jump)
    d2 = build_design(t, EtmConfig(jumps=[Jump(float(t[100]))]))
    step = d2.A[:, d2.labels.index(f"step@{t[100]:.4f}")]
    assert step[100] == 0.0 and step[101] == 1.0
    # two jumps with no epoch between them: only the first is estimable
    d3 = build_design(t, EtmConfig(jumps=[Jump(float(t[100]) + 0.0001), Jump(float(t[100]) + 0.0002)]))
    assert len(d3.jumps) == 1


def test_too_few_solutions():
    with pytest.raises(EtmError):
        fit_etm([2020.1, 2020.2, 2020.3], np.zeros((3, 3)))


def test_fit_round_trips_through_the_task_codec():
    from geode.jobs import codec

    t, neu, _, cfg, _ = _series(np.random.default_rng(6))
    fit = fit_etm(t, neu, cfg)
    again = codec.round_trip(fit)
    assert np.allclose(again.evaluate(t), fit.evaluate(t))
    assert again.jumps == fit.jumps
