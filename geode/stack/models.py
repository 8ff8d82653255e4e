"""Per-station trajectory models: many stations' series fitted at once.

``fit_series`` is the white-noise least-squares core: every station's design comes from ``build_design`` and
all of them are solved together with ``robust_lsq_batch``, giving what ``fit_etm`` gives station by station
(to rounding), MIDAS velocity included. A configuration asking for anything else (a coloured noise model,
offset detection) is fitted by ``fit_etm`` itself, one station at a time: this module decides only who takes
the fast path. ``alignment_config`` is the model a stack aligns its days to while it iterates.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from ..etm.fit import MIN_SOLUTIONS, EtmError, EtmFit, fit_etm
from ..etm.model import EtmConfig, build_design

ROWS_PER_BATCH = 400_000  # station-epochs solved together (memory: about 100 bytes per epoch and parameter)


def batched(config: EtmConfig) -> bool:
    """Whether ``fit_series`` solves this configuration in the batch (white noise, no offset detection)."""
    return config.noise_model == "white" and not config.detect_offsets


def alignment_config(config: EtmConfig) -> EtmConfig:
    """The model of a stack's iterations: its days are aligned to the stations' positions, which the same terms,
    jumps and offset detection give under white noise (GeoDE's stacker fits white noise too); the configured
    noise model is fitted once, on the final series (a white+flicker fit costs ~20x a white one)."""
    return config if config.noise_model == "white" else replace(config, noise_model="white")


def with_midas(fit: EtmFit, t, xyz, reference, lat, lon) -> EtmFit:
    """``fit`` (a white-noise fit of this series without MIDAS) with its MIDAS velocity, as ``fit_etm`` adds it."""
    from ..etm.midas import midas
    from ..etm.model import GEOPHYSICAL, MECHANICAL
    from ..geodesy.coordinates import xyz2neu

    neu = xyz2neu(np.asarray(xyz, dtype=float).reshape(-1, 3) - reference, lat, lon)
    t = np.asarray(t, dtype=float)
    mid = midas(t[fit.good], neu[fit.good], [j.fyear for j in fit.jumps if j.kind in (MECHANICAL, GEOPHYSICAL)])
    return replace(fit, midas_velocity=None if mid is None else mid.velocity,
                   midas_sigma=None if mid is None else mid.sigma)


def fit_series(items: list[tuple], *, keys: list | None = None, designs: dict | None = None, midas: bool = True
               ) -> list[EtmFit | Exception]:
    """Fit each ``(t, xyz, reference, lat, lon, config)``: the series' ECEF coordinates are modelled in
    north/east/up about ``reference``. Returns per item its EtmFit or the EtmError/ValueError fit_etm raises.

    ``designs`` (with ``keys``, one per item): a cache of design matrices between calls, e.g. the iterations of a
    stack, where a station's epochs and configuration rarely change. ``midas=False``: no MIDAS velocity (a
    model only evaluated, e.g. a stack's iteration targets)."""
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
        design = None
        if designs is not None and keys is not None:
            hit = designs.get(keys[i])
            if hit is not None and hit[1] is config and np.array_equal(hit[0], t):
                design = hit[2]
        if design is None:
            design = build_design(t, config)
            if designs is not None and keys is not None:
                designs[keys[i]] = (t, config, design)
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
        for i, fit in _fit_batch(batch[start:stop], midas):
            out[i] = fit
        start = stop
    return out  # type: ignore[return-value]


def _fit_batch(batch, with_midas: bool) -> list[tuple[int, EtmFit]]:
    from ..etm.midas import midas
    from ..etm.model import GEOPHYSICAL, MECHANICAL
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
    for j, (i, t, neu, design, config) in enumerate(batch):
        nt, mc, c = len(t), design.A.shape[1], slice(3 * j, 3 * j + 3)
        keep = fit.keep[c, :nt]
        good = keep[0] & keep[1] & keep[2]
        mid = None
        if with_midas:  # as fit_etm: the good epochs, no pair across a step
            mid = midas(t[good], neu[good], [jp.fyear for jp in design.jumps if jp.kind in (MECHANICAL, GEOPHYSICAL)])
        out.append((i, EtmFit(design.t_ref, config.poly_terms, design.frequencies, design.jumps, design.labels,
                              fit.params[c, :mc].copy(), fit.sigmas[c, :mc].copy(), fit.wrms[c].copy(), good,
                              [int(v) for v in fit.iterations[c]], nt, (float(t.min()), float(t.max())),
                              config.noise_model, fit.wrms[c].copy(), np.zeros(3), np.zeros(3),
                              None if mid is None else mid.velocity, None if mid is None else mid.sigma, [],
                              list(design.notes))))
    return out


@dataclass
class ModelTable:
    """Many stations' models as coefficient tables, for evaluating them all at once (``model_xyz``)."""

    index: list[int]  # stations, sorted
    lookup: np.ndarray  # station -> row of the tables, -1 without a model
    freqs: list[float]
    poly: np.ndarray  # (k, terms, 3) NEU
    sin_c: np.ndarray  # (k, freqs, 3)
    cos_c: np.ndarray
    t_ref: np.ndarray  # (k,)
    ref: np.ndarray  # (k, 3) ECEF reference the NEU are about
    rot: np.ndarray  # (k, 3, 3) NEU -> ECEF rows
    jumps: list[int]  # stations whose models have jumps (evaluated with their own columns)

    @classmethod
    def build(cls, fits: dict[int, EtmFit], meta: list) -> "ModelTable":
        from ..geodesy.coordinates import neu_rotation

        index = sorted(fits)
        lookup = np.full((index[-1] + 1) if index else 0, -1)
        lookup[index] = np.arange(len(index))
        freqs = sorted({f for fit in fits.values() for f in fit.frequencies})
        terms = max((fit.poly_terms for fit in fits.values()), default=0)
        k = len(index)
        table = cls(index, lookup, freqs, np.zeros((k, terms, 3)), np.zeros((k, len(freqs), 3)),
                    np.zeros((k, len(freqs), 3)), np.zeros(k), np.zeros((k, 3)), np.zeros((k, 3, 3)), [])
        for i, s in enumerate(index):
            fit, m = fits[s], meta[s]
            table.t_ref[i], table.ref[i], table.rot[i] = fit.t_ref, m.apriori, neu_rotation(m.lat, m.lon)
            table.poly[i, :fit.poly_terms] = fit.params[:, :fit.poly_terms].T
            for f in fit.frequencies:
                table.sin_c[i, freqs.index(f)] = fit.params[:, fit.column(f"sin{f:g}")]
                table.cos_c[i, freqs.index(f)] = fit.params[:, fit.column(f"cos{f:g}")]
            if fit.jumps:
                table.jumps.append(s)
        return table


def model_xyz(fits: dict[int, EtmFit], meta: list, stations: np.ndarray, t: np.ndarray,
              table: ModelTable | None = None) -> np.ndarray:
    """ECEF positions (k, 3) of the models ``fits`` ({station: fit}, NEU about ``meta[station].apriori``) of
    the stations ``stations[i]`` at epochs ``t[i]``; NaN for stations without a fit. Every row at once: the
    polynomial and periodic terms of all stations from coefficient tables (``table``: built once for many
    calls), jumps station by station; the same values as ``StationMeta.position`` to rounding."""
    out = np.full((len(t), 3), np.nan)
    if not len(t) or not fits:
        return out
    table = table if table is not None else ModelTable.build(fits, meta)
    slot = np.full(len(stations), -1)
    inside = stations < len(table.lookup)
    slot[inside] = table.lookup[stations[inside]]
    rows = np.flatnonzero(slot >= 0)
    if not len(rows):
        return out
    j = slot[rows]
    tr = t[rows]
    dt = tr - table.t_ref[j]
    neu = np.zeros((len(rows), 3))
    for k in range(table.poly.shape[1]):
        neu += table.poly[j, k] * (dt ** k)[:, None]
    for q, f in enumerate(table.freqs):
        w = 2 * np.pi * f * tr
        neu += table.sin_c[j, q] * np.sin(w)[:, None] + table.cos_c[j, q] * np.cos(w)[:, None]
    xyz = table.ref[j] + np.einsum("ri,rij->rj", neu, table.rot[j])
    for s in table.jumps:  # jump terms: the model's own columns
        mine = stations[rows] == s
        xyz[mine] = meta[s].position(fits[s], tr[mine])
    out[rows] = xyz
    return out
