"""A fit unit's block of models (``geode.stack.packing``, ``stack_work_model_blocks``): what the run's other
units and the coordinator read back equals what the task codec's round trip gives, field by field and type by
type, for the models the stack fits (white noise, jumps, MIDAS or not), for models of the configured noise model
and for anything else (which travels whole); in PostgreSQL a later block's model of a station replaces an
earlier one's, and a run's blocks go with the run."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from geode.dates import GnssDate
from geode.etm.fit import fit_etm
from geode.etm.model import EtmConfig, Jump
from geode.etm.offsets import DetectedOffset
from geode.jobs import codec
from geode.stack.align import make_spec
from geode.stack.models import fit_series
from geode.stack.packing import pack_models, unpack_models
from geode.stack.work import DatabaseWork

REF = np.array([4.0e6, -4.5e6, -2.0e6])


def _series(rng, n, jump=None):
    t = 2020.0 + np.sort(rng.uniform(0, 3, n))
    neu_rate = np.array([0.012, -0.004, 0.001])
    xyz = REF + np.outer(t - 2020.0, neu_rate) + rng.normal(0, 0.002, (n, 3))
    if jump is not None:
        xyz[t >= jump] += 0.01
    return t, xyz


def _same(a, b) -> bool:
    """Equal values of the same types (arrays: dtype, shape, values, writable)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, np.ndarray):
        return (a.dtype == b.dtype and a.shape == b.shape and a.flags.writeable == b.flags.writeable
                and np.array_equal(a, b, equal_nan=True))
    if dataclasses.is_dataclass(a):
        return all(_same(getattr(a, f.name), getattr(b, f.name)) for f in dataclasses.fields(a))
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    return a == b or (a != a and b != b)


@pytest.fixture(scope="module")
def models():
    rng = np.random.default_rng(11)
    items = []
    for i in range(12):
        jump = 2021.5 if i % 3 == 0 else None
        t, xyz = _series(rng, 80 + 7 * i, jump)
        config = EtmConfig(noise_model="white", jumps=[Jump(jump)] if jump else [])
        items.append((t, xyz, REF, -30.0, -60.0, config))
    iteration = fit_series(items[:6], midas=False)  # what an iteration stores: no MIDAS velocity
    final = fit_series(items[6:], midas=True)
    t, xyz = _series(rng, 200)
    from geode.geodesy.coordinates import xyz2neu

    coloured = fit_etm(t, xyz2neu(xyz - REF, -30.0, -60.0), EtmConfig(noise_model="white+flicker"))
    out = {2 * i: (fit, 1000 + i) for i, fit in enumerate(iteration + final)}
    out[101] = (coloured, -7)
    detected = DetectedOffset(2021.2, np.array([0.01, 0.0, -0.002]), np.full(3, 1e-3), 40.0, 12.0, "data", "x")
    out[103] = (dataclasses.replace(final[0], detected=[detected], notes=["a note"]), 2 ** 40)
    out[105] = (dataclasses.replace(final[1], params=final[1].params.astype(np.float32)), 5)  # not the layout
    return out


def test_a_block_decodes_to_the_task_codecs_round_trip(models):
    assert not any(isinstance(fit, Exception) for fit, _ in models.values())
    back = unpack_models(pack_models(models))
    assert list(back) == sorted(models)
    for s, (fit, data_hash) in models.items():
        expected = codec.round_trip(fit)
        assert back[s][1] == data_hash
        assert _same(back[s][0], expected), s


def test_decoded_models_do_not_share_their_arrays(models):
    back = unpack_models(pack_models(models))
    a, b = back[0][0], back[2][0]
    a.params[:] = 0.0
    a.good[:] = False
    assert np.array_equal(b.params, models[2][0].params) and np.array_equal(b.good, models[2][0].good)


def test_an_empty_block_and_a_foreign_value():
    assert unpack_models(pack_models({})) == {}
    with pytest.raises(ValueError):
        unpack_models(b"not a block")


def test_blocks_in_postgresql_a_later_model_replaces_an_earlier_one(db, models):
    days = [(2024, d) for d in range(1, 4)]
    stations = [f"tst.s{i:03d}" for i in range(120)]
    spec = make_spec("stack", [y for y, _ in days], [d for _, d in days],
                     [GnssDate.from_doy(y, d).fyear for y, d in days], np.zeros(len(days), bool), stations, {},
                     project="p", name="s")
    work = DatabaseWork.create(db, spec)
    first = {s: models[s] for s in (0, 2, 4, 101)}
    work.put_models(1, first)
    work.put_models(1, {2: models[6], 103: models[103]})  # station 2 fitted once more (e.g. the final fit)
    work.put_models(2, {4: models[8]})
    got = work.models(1)
    assert list(got) == [0, 2, 4, 101, 103]
    assert _same(got[2][0], codec.round_trip(models[6][0])) and got[2][1] == models[6][1]
    assert _same(got[101][0], codec.round_trip(models[101][0]))
    inside = work.models_in(1, 2, 101)
    assert list(inside) == [2, 4] and _same(inside[4][0], codec.round_trip(models[4][0]))
    assert list(work.models(2)) == [4]
    other = DatabaseWork.open(db, spec.run)  # what a worker sees
    assert list(other.models(1)) == [0, 2, 4, 101, 103]
    work.finish()
    assert db.query_one("SELECT count(*) AS n FROM stack_work_model_blocks WHERE run = %s", (spec.run,))["n"] == 0
