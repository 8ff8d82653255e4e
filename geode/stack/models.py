"""Per-station trajectory models: many stations' series fitted at once.

``fit_series`` is the white-noise least-squares core: every station's design comes from ``build_design`` and
all of them are solved together with ``robust_lsq_batch``, giving what ``fit_etm`` gives station by station
(to rounding). A configuration asking for anything else (e.g. a coloured noise model) is fitted by
``fit_etm`` itself, one station at a time: this module decides only who takes the fast path.
"""

from __future__ import annotations

import numpy as np

from ..etm.fit import MIN_SOLUTIONS, EtmError, EtmFit, fit_etm
from ..etm.model import EtmConfig, build_design

ROWS_PER_BATCH = 400_000  # station-epochs solved together (memory: about 100 bytes per epoch and parameter)


def batched(config: EtmConfig) -> bool:
    """Whether ``fit_series`` solves this configuration in the batch (white noise only)."""
    return getattr(config, "noise_model", "white") == "white"


def fit_series(items: list[tuple]) -> list[EtmFit | Exception]:
    """Fit each ``(t, xyz, reference, lat, lon, config)``: the series' ECEF coordinates are modelled in
    north/east/up about ``reference``. Returns per item its EtmFit or the EtmError/ValueError fit_etm raises."""
    from ..geodesy.coordinates import xyz2neu

    out: list[EtmFit | Exception | None] = [None] * len(items)
    batch = []
    for i, (t, xyz, ref, lat, lon, config) in enumerate(items):
        t = np.asarray(t, dtype=float)
        neu = xyz2neu(np.asarray(xyz, dtype=float).reshape(-1, 3) - ref, lat, lon)
        if not batched(config):
            try:
                out[i] = fit_etm(t, neu, config)
            except (EtmError, ValueError) as exc:
                out[i] = exc
            continue
        if len(t) < MIN_SOLUTIONS:
            out[i] = EtmError(f"{len(t)} solutions: a trajectory model needs at least {MIN_SOLUTIONS}")
            continue
        design = build_design(t, config)
        if design.A.shape[1] >= len(t):
            out[i] = EtmError(f"{len(t)} solutions for {design.A.shape[1]} model parameters")
            continue
        batch.append((i, t, neu, design, config))
    batch.sort(key=lambda b: len(b[1]))  # similar lengths together: little padding
    start = 0
    while start < len(batch):
        stop, rows = start, 0
        while stop < len(batch) and (stop == start or rows + len(batch[stop][1]) * 3 <= ROWS_PER_BATCH):
            rows += len(batch[stop][1]) * 3
            stop += 1
        for i, fit in _fit_batch(batch[start:stop]):
            out[i] = fit
        start = stop
    return out  # type: ignore[return-value]


def _fit_batch(batch) -> list[tuple[int, EtmFit]]:
    from ..geodesy.lsq import robust_lsq_batch

    k = len(batch)
    n = max(len(b[1]) for b in batch)
    m = max(b[3].A.shape[1] for b in batch)
    A = np.zeros((k, n, m))
    L = np.zeros((k, 3, n))
    rows = np.zeros((k, n), bool)
    cols = np.zeros((k, m), bool)
    for j, (_, t, neu, design, _) in enumerate(batch):
        A[j, :len(t), :design.A.shape[1]] = design.A
        L[j, :, :len(t)] = neu.T
        rows[j, :len(t)] = True
        cols[j, :design.A.shape[1]] = True
    # three components per station: the same design, their own weights
    fit = robust_lsq_batch(np.repeat(A, 3, axis=0), L.reshape(3 * k, n), np.repeat(rows, 3, axis=0),
                           np.repeat(cols, 3, axis=0))
    out = []
    for j, (i, t, _, design, config) in enumerate(batch):
        nt, mc, c = len(t), design.A.shape[1], slice(3 * j, 3 * j + 3)
        keep = fit.keep[c, :nt]
        out.append((i, EtmFit(design.t_ref, config.poly_terms, design.frequencies, design.jumps, design.labels,
                              fit.params[c, :mc].copy(), fit.sigmas[c, :mc].copy(), fit.wrms[c].copy(),
                              keep[0] & keep[1] & keep[2], [int(v) for v in fit.iterations[c]], nt,
                              (float(t.min()), float(t.max())))))
    return out
