"""Automatic offset detection for a trajectory model (opt-in: ``EtmConfig.detect_offsets``).

Candidates
    * metadata: ``EtmConfig.candidates`` (every station-info change, receiver included, and catalogue
      earthquakes near the station that the model does not already carry);
    * data-driven: on the residuals of the current model, a two-sample statistic (difference of the means of
      w epochs before and after each epoch, normalised, summed over N, E, U) for windows of 10, 40 and 160
      epochs; its strongest local maxima (and their neighbouring epochs) are candidates.
    Candidates within ``merge_jump_days`` of a modelled jump or of an operator-rejected epoch, or
    with fewer than ``MIN_SIDE`` epochs on a side are skipped.

Test (N, E and U together, under the coloured-noise model)
    The noise model of each component is estimated on the current model and held fixed; the generalised
    least-squares chi-square of every candidate subset then follows from one Gram matrix B' C^-1 B of
    [model columns | candidate steps | data] per component. Greedy forward selection adds the candidate with
    the largest decrease of the chi-square summed over N, E, U, while that decrease exceeds its BIC cost
    (Schwarz 1978): 3 ln n for a metadata candidate (three step sizes; the epoch is known) and 4 ln n for a
    data-driven one (the epoch is a fourth, searched parameter). n is the number of epochs. Up to MAX_ROUNDS
    rounds: after each, the noise is re-estimated with the accepted offsets in the model (missed offsets
    inflate it), the residuals are scanned again (offsets hidden behind larger ones surface) and the
    remaining candidates are tested; the search stops when a round accepts nothing.

Each accepted offset carries its epoch (the last epoch before the offset, as every jump here: a solution at the
jump epoch is before it), its size and sigma per component, the chi-square decrease and the BIC cost, and where
the candidate came from. They enter the model as steps (source ``detected``) and are listed for review:
``geode stack etm --accept-offsets`` writes them to ``etm_params``, ``--reject-offsets`` stops them being
proposed again.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .model import MECHANICAL, Jump, columns

WINDOWS = (10, 40, 160)
PEAKS_PER_WINDOW = 12
MIN_SIDE = 5
MAX_OFFSETS = 25
MAX_ROUNDS = 5


@dataclass
class DetectedOffset:
    fyear: float
    size: np.ndarray  # (3,) NEU, m
    sigma: np.ndarray  # (3,) m
    chi2: float  # decrease of the GLS chi-square (N+E+U) when the offset is added
    cost: float  # its BIC cost
    origin: str  # "data" or the metadata source ("stationinfo", "earthquake", ...)
    description: str = ""

    @property
    def source(self) -> str:
        return "detected"

    def summary(self) -> dict:
        return {"fyear": round(self.fyear, 5), "size_mm": [round(float(v) * 1e3, 2) for v in self.size],
                "sigma_mm": [round(float(v) * 1e3, 2) for v in self.sigma], "chi2": round(self.chi2, 1),
                "bic_cost": round(self.cost, 1), "source": "detected", "origin": self.origin,
                "description": self.description}


LOCAL_WINDOW = 15
LOCAL_LIMIT = 5.0


def local_blunders(neu: np.ndarray) -> np.ndarray:
    """Epochs far (> LOCAL_LIMIT robust sigmas) from the running median of LOCAL_WINDOW epochs in some component:
    blunders, not offsets (an offset moves the running median with it). The model's own 2.5-sigma outlier flags
    are no use before the offsets are known: everything after a missed offset may be flagged."""
    from scipy.ndimage import median_filter

    hp = neu - median_filter(neu, size=(LOCAL_WINDOW, 1), mode="nearest")
    mad = 1.4826 * np.median(np.abs(hp), axis=0)
    return np.any(np.abs(hp) > LOCAL_LIMIT * np.maximum(mad, 1e-9), axis=1)


def _scan(t: np.ndarray, resid: np.ndarray, scale: np.ndarray) -> list[int]:
    """Indices k (offset between epochs k-1 and k) of the strongest local maxima of the two-sample statistic."""
    n = len(t)
    z = resid / scale
    cs = np.vstack([np.zeros((1, 3)), np.cumsum(z, axis=0)])
    found: list[int] = []
    for w in WINDOWS:
        if n < 2 * w + 1:
            continue
        k = np.arange(w, n - w + 1)
        left = (cs[k] - cs[k - w]) / w
        right = (cs[k + w] - cs[k]) / w
        stat = ((right - left) ** 2).sum(axis=1) * (w / 2.0)
        order = np.argsort(stat)[::-1]
        taken: list[int] = []
        for o in order:
            if len(taken) >= PEAKS_PER_WINDOW:
                break
            if all(abs(o - p) > w for p in taken):
                taken.append(int(o))
        found += [int(k[o]) for o in taken]
    out = set()
    for k in found:
        out.update(kk for kk in (k - 1, k, k + 1) if 1 <= kk < n)
    return sorted(out)


def _chi2(G: np.ndarray, cols: list[int]) -> tuple[float, np.ndarray, np.ndarray]:
    """GLS chi-square and (params, covariance) of the columns ``cols`` of the Gram matrix (last index: data)."""
    N = G[np.ix_(cols, cols)]
    b = G[cols, -1]
    try:
        L = np.linalg.cholesky(N)
    except np.linalg.LinAlgError:
        return math.inf, np.zeros(len(cols)), np.zeros((len(cols), len(cols)))
    z = np.linalg.solve(L, b)
    Li = np.linalg.inv(L)
    return float(G[-1, -1] - z @ z), Li.T @ z, Li.T @ Li


def detect(t, neu, good, design, config, noise_model: str) -> list[DetectedOffset]:
    """Offsets to add to ``design`` (a Design of ``config``) for the series t, neu (good: epochs to use)."""
    from .noise import estimate_noise, gls_gram

    t = np.asarray(t, float)[good]
    neu = np.asarray(neu, float)[good]
    n = len(t)
    if n < 4 * MIN_SIDE:
        return []
    jumps = list(design.jumps)
    accepted: list[DetectedOffset] = []
    tested_meta = {round(c.fyear, 5): c for c in config.candidates}
    for _round in range(MAX_ROUNDS):
        A, _ = columns(t, design.t_ref, config.poly_terms, design.frequencies, jumps)
        estimates = [estimate_noise(t, A, neu[:, c], noise_model) for c in range(3)]
        resid = neu - A @ np.array([e.params for e in estimates]).T
        scale = np.array([max(float(np.std(resid[:, c])), 1e-6) for c in range(3)])
        blocked = [j.fyear for j in jumps]
        cands: list[tuple[float, str, str]] = []

        def usable(tau: float) -> bool:
            k = int(np.searchsorted(t, tau, side="right"))  # first epoch after tau
            if k < MIN_SIDE or n - k < MIN_SIDE:
                return False
            if any(abs(tau - b) * 365.25 < config.merge_jump_days for b in blocked):
                return False
            return all(abs(tau - r) * 365.25 >= config.merge_jump_days for r in config.rejected)

        for c in tested_meta.values():
            if usable(c.fyear):
                cands.append((c.fyear, c.source, c.description))
        for k in _scan(t, resid, scale):
            tau = float(t[k - 1])
            if usable(tau) and all(abs(tau - x[0]) > 1e-6 for x in cands):
                cands.append((tau, "data", ""))
        if not cands:
            break
        steps = np.column_stack([(t > tau).astype(float) for tau, _, _ in cands])
        grams = [gls_gram(t, np.column_stack([A, steps, neu[:, c]]), estimates[c]) for c in range(3)]
        m = A.shape[1]
        chosen: list[int] = []
        base = sum(_chi2(G, list(range(m)))[0] for G in grams)
        added = 0
        while added < MAX_OFFSETS:
            best = None
            for i, (tau, origin, _) in enumerate(cands):
                if i in chosen or any(abs(tau - cands[j][0]) * 365.25 < config.merge_jump_days for j in chosen):
                    continue
                cols = list(range(m)) + [m + j for j in chosen] + [m + i]
                chi = sum(_chi2(G, cols)[0] for G in grams)
                cost = (3.0 if origin != "data" else 4.0) * math.log(n)
                gain = base - chi - cost
                if gain > 0 and (best is None or gain > best[0]):
                    best = (gain, i, chi, cost)
            if best is None:
                break
            gain, i, chi, cost = best
            decrease = base - chi
            chosen.append(i)
            base = chi
            added += 1
            cols = list(range(m)) + [m + j for j in chosen]
            size, sig = np.zeros(3), np.zeros(3)
            for c, G in enumerate(grams):
                _, x, cov = _chi2(G, cols)
                size[c], sig[c] = x[-1], math.sqrt(max(cov[-1, -1], 0.0))
            tau, origin, desc = cands[i]
            accepted.append(DetectedOffset(tau, size, sig, decrease, cost, origin, desc))
            tested_meta.pop(round(tau, 5), None)
        if not chosen:
            break
        jumps = jumps + [Jump(cands[i][0], MECHANICAL, source="detected", description=_describe(cands[i]))
                         for i in chosen]
    return sorted(accepted, key=lambda d: d.fyear)


def _describe(cand) -> str:
    tau, origin, desc = cand
    return "data-driven" if origin == "data" else f"{origin}: {desc}".strip().rstrip(":")


def as_jumps(offsets: list[DetectedOffset]) -> list[Jump]:
    return [Jump(o.fyear, MECHANICAL, source="detected",
                 description=_describe((o.fyear, o.origin, o.description))) for o in offsets]
