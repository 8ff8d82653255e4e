"""The QC metrics' series on a system's cells (the epoch/satellite places holding data, satellite by satellite)
follow the definitions written over the (epochs, satellites) grid: jumps against the median of the differences at
epochs e-2, e-1, e+1, e+2 of the same satellite, arc means, window sums, and finding cells by grid place.

Truth: direct loops over the grid on random series with holes, satellites missing for a while and epoch gaps."""

from __future__ import annotations

import numpy as np
import pytest

from geode.rinex.qc_metrics import _arc_demean, _Cells, _jumps, _runs, _same_arc, _window_sums


def _grid(seed: int, n_epochs: int = 200, n_sats: int = 7):
    rng = np.random.default_rng(seed)
    x = np.cumsum(rng.normal(size=(n_epochs, n_sats)), axis=0)
    x[rng.random(x.shape) < 0.08] = np.nan  # single missing values
    x[40:47, 1] = np.nan  # a satellite absent for a while
    x[:15, 3] = np.nan
    x[150:, 5] = np.nan
    x[:, 6] = np.nan  # never seen
    contiguous = rng.random(n_epochs) > 0.03  # a few epoch gaps
    contiguous[0] = True
    return x, contiguous


def _direct_jumps(x: np.ndarray, same: np.ndarray) -> np.ndarray:
    n_epochs, n_sats = x.shape
    d = np.full(x.shape, np.nan)
    d[1:][same[1:]] = (x[1:] - x[:-1])[same[1:]]
    out = np.full(x.shape, np.nan)
    for e in range(n_epochs):
        for s in range(n_sats):
            if np.isnan(d[e, s]):
                continue
            around = [d[k, s] for k in (e - 2, e - 1, e + 1, e + 2) if 0 <= k < n_epochs and not np.isnan(d[k, s])]
            out[e, s] = d[e, s] - (np.median(around) if around else 0.0)
    return out


@pytest.mark.parametrize("seed", range(4))
def test_jumps_on_cells_are_the_grid_definition(seed):
    x, contiguous = _grid(seed)
    present = np.isfinite(x)
    present[::9, 2] = True  # cells present (another observable) without this series' value
    cells = _Cells(present, contiguous)
    valid_grid = np.isfinite(x)
    same_grid = valid_grid.copy()
    same_grid[0] = False
    same_grid[1:] &= valid_grid[:-1] & contiguous[1:, None]
    want = _direct_jumps(x, same_grid)
    series = cells.take(x)
    same = _same_arc(cells, np.isfinite(series))
    assert np.array_equal(cells.to_grid(same.astype(float)) == 1, same_grid)
    got = cells.to_grid(_jumps(cells, series, same))
    assert np.array_equal(np.isnan(got), np.isnan(want))
    ok = ~np.isnan(want)
    np.testing.assert_allclose(got[ok], want[ok], rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("seed", range(3))
def test_arc_means_and_window_sums_are_per_run(seed):
    rng = np.random.default_rng(seed)
    values = rng.normal(size=300)
    start = rng.random(300) < 0.06
    start[0] = True
    start[100:112] = True  # runs of one value
    runs = np.cumsum(start) - 1
    res = _arc_demean(values, start, min_arc=10)
    total, count = _window_sums(values, start, w=4)
    some = np.flatnonzero(rng.random(300) < 0.2)
    total_at, count_at = _window_sums(values, start, w=4, at=some)
    for i in range(300):
        mine = values[runs == runs[i]]
        if len(mine) >= 10:
            assert res[i] == pytest.approx(values[i] - mine.mean(), abs=1e-12)
        else:
            assert np.isnan(res[i])
        around = [j for j in range(i - 4, i + 5) if j != i and 0 <= j < 300 and runs[j] == runs[i]]
        assert count[i] == len(around)
        assert total[i] == pytest.approx(np.sum(values[around] ** 2), abs=1e-9)
    assert np.array_equal(total_at, total[some]) and np.array_equal(count_at, count[some])


def test_cells_found_by_grid_place_and_runs_of_consecutive_epochs():
    x, contiguous = _grid(7)
    present = np.isfinite(x)
    cells = _Cells(present, contiguous)
    places = np.arange(x.size)
    found = cells.find(places)
    assert np.array_equal(cells.grid[found], np.flatnonzero(present))
    assert np.array_equal(cells.grid[cells.grid_order], np.flatnonzero(present))  # the grid's order
    at = np.flatnonzero(cells.take(np.isfinite(x)))
    start = _runs(cells, at)
    for k in range(1, len(at)):
        i, j = at[k - 1], at[k]
        consecutive = cells.sat[i] == cells.sat[j] and cells.row[j] == cells.row[i] + 1
        assert start[k] == (not consecutive)
