import numpy as np

from geode.dra import run_dra
from geode.jobs import InlineRunner
from geode.stack import stack

from .synth import make_days, network


def test_stack_recovers_daily_perturbations_global_network():
    rng = np.random.default_rng(7)
    stations = network(30, rng)
    days, truth, injected, meta, _ = make_days(stations, rng, ndays=720, step=6, sigma=0.002)
    result = stack(InlineRunner(), days, meta)
    assert result.converged and not result.failures
    assert result.iterations[-1]["rms_change_mm"] < 0.01 and result.iterations[-1]["max_change_mm"] < 0.1
    # without a frame tie the stack's datum is defined up to one Helmert transformation and one Helmert
    # rate (iteration 0 uses constant a-priori positions): remove that before comparing with the truth
    total = np.array([result.helmert[d.key]["params"] for d in days])
    err = total - np.array(injected)
    t = np.array([d.fyear for d in days])
    G = np.column_stack([np.ones_like(t), t - t.mean()])
    err -= G @ np.linalg.lstsq(G, err, rcond=None)[0]
    assert np.sqrt(np.mean(err[:, 3:] ** 2)) < 0.001  # translations within 1 mm rms
    assert np.sqrt(np.mean(err[:, :3] ** 2)) < 0.2  # rotations within 0.2 nrad rms
    assert 0.8 <= np.mean([h["wrms_mm"] for h in result.helmert.values()]) / 2.0 <= 1.1


def test_preserved_days_are_untouched():
    rng = np.random.default_rng(8)
    stations = network(12, rng)
    days, *_rest, meta, _ = make_days(stations, rng, ndays=200, step=5, sigma=0.002)
    days[0].preserved = True
    result = stack(InlineRunner(), days, meta)
    assert result.days[0] is days[0] and days[0].key not in result.helmert


def test_dra_white_noise_gives_sqrt2_sigma_and_flags_a_step():
    rng = np.random.default_rng(9)
    stations = network(25, rng, regional=True)
    days, *_rest, meta, _ = make_days(stations, rng, ndays=200, sigma=0.002, velocity=0.0)
    days[120].xyz[3] += np.array([0.02, 0.0, 0.0])  # a 20 mm blunder on one day
    res = run_dra(InlineRunner(), days, meta)
    day_wrms = np.mean([d["wrms_mm"] for d in res.days])
    assert 0.9 <= day_wrms / (np.sqrt(2) * 2.0) <= 1.05
    wr = np.array([s["wrms_mm"] for s in res.stations.values()])
    assert 0.85 <= wr.mean() / (np.sqrt(2) * 2.0) <= 1.0
    assert any(o["day"] in (days[120].key, days[121].key) for o in res.stations["syn.s003"]["outliers"])


def test_common_mode_removal_takes_out_a_network_annual_scale():
    # a network-wide annual translation would be absorbed by the 6-parameter daily alignment; an annual
    # scale (0.5 ppb ≈ 3 mm radial) survives it and is what the 7-parameter common-mode step must remove
    from geode.stack.frame import remove_common_modes

    rng = np.random.default_rng(10)
    stations = network(20, rng)
    days, truth, injected, meta, _ = make_days(stations, rng, ndays=5 * 365, step=5, sigma=0.002,
                                               t_sigma=0.0, r_sigma=0.0)
    for d in days:
        d.xyz += 0.5e-9 * np.sin(2 * np.pi * d.fyear) * d.xyz
    result = stack(InlineRunner(), days, meta)
    before = np.array([f.periodic()[1.0] for f in result.fits.values()])
    cleaned = remove_common_modes(InlineRunner(), result)
    after = np.array([f.periodic()[1.0] for f in cleaned.fits.values()])
    assert np.abs(before[:, 2, 0]).mean() > 0.002  # the up annual sine term carries the scale signal
    # down to noise level: 73 epochs/yr at 2 mm give ~0.15 mm formal sigma per amplitude
    assert np.sqrt(np.mean(after ** 2)) < 0.0003 and np.abs(after).max() < 0.0006
    assert abs(cleaned.frame["common_modes"]["sin1"]["scale_ppb"] - 0.5) < 0.05


def test_frame_tie_recovers_positions_and_velocities():
    from geode.geodesy.coordinates import neu2xyz
    from geode.stack.frame import tie_to_frame

    rng = np.random.default_rng(11)
    stations = network(15, rng)
    days, truth, injected, meta, vel = make_days(stations, rng, ndays=5 * 365, step=10, sigma=0.002)
    result = stack(InlineRunner(), days, meta)
    epoch = days[len(days) // 2].fyear
    constraints = {}
    for s, lat, lon, xyz in stations:
        constraints[s] = {"xyz": xyz + neu2xyz(vel[s] * (epoch - 2021.0), lat, lon), "epoch": epoch,
                          "velocity": neu2xyz(vel[s], lat, lon)}
    tied = tie_to_frame(InlineRunner(), result, constraints)
    for s, lat, lon, xyz in stations:
        pos = meta[s].apriori + neu2xyz(tied.fits[s].evaluate([epoch])[0], lat, lon)
        assert np.linalg.norm(pos - constraints[s]["xyz"]) < 0.001
        assert np.abs(tied.fits[s].velocity - vel[s]).max() < 0.0003
    assert tied.frame["frame_tie"]["position_residual_mm_after"] < 1.0


def test_the_last_step_is_told_from_its_transformations_before_its_models():
    """The coordinator starts the stack's write while the last step's models are fitted: its prediction of the
    movement is exactly what the fit units report, so the last step is known (and nothing else is written)."""
    from geode.stack.align import iterate, memory_work, predicted_change

    rng = np.random.default_rng(11)
    stations = network(20, rng)
    days, *_rest, meta, _ = make_days(stations, rng, ndays=300, step=3, sigma=0.002)
    work = memory_work("stack", days, meta)
    seen = []

    class Ahead:
        aborted = False

        def abort(self):
            self.aborted = True

    def on_aligned(step, helmert, last):
        ahead = Ahead()
        change = predicted_change(work, work.transforms(step), work.transforms(step - 1)) if step else None
        seen.append((step, change, None if last is None else last(), ahead))
        return ahead

    result = iterate(InlineRunner(), work, max_iterations=6, on_aligned=on_aligned)
    assert result.converged and len(result.iterations) >= 3
    assert [s for s, *_ in seen] == list(range(1, len(result.iterations)))  # every step that could be the last
    for step, change, last, ahead in seen:
        assert change * 1e3 == result.iterations[step]["rms_change_mm"]  # the same value, not a close one
        assert last == (step == result.step) and ahead.aborted == (step != result.step)
