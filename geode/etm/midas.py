"""MIDAS velocities (Blewitt, Kreemer, Hammond and Gazeaux 2016, JGR Solid Earth 121:2054-2068): the median of
the slopes of data pairs one year apart, which is insensitive to seasonal signals, outliers and most steps.

Pairs: each epoch is paired with the first epoch at least one year later (forward in time), and each epoch with
the last epoch at least one year earlier (backward in time), so that gaps do not bias the selection; a pair is
kept only if its separation is under ``MAX_SEPARATION`` years and no known step (a model jump) lies between its
two epochs. Slopes v_k per component; then

    v0 = median(v_k),  s = 1.4826 median|v_k - v0|      (robust standard deviation, MAD)
    drop |v_k - v0| > 2 s, then v = median, s' = 1.4826 MAD of the kept slopes
    sigma_v = 1.2533 s' / sqrt(n / 4)                     (n kept pairs; sqrt(pi/2) for the median's
                                                           efficiency, n/4: the pairs are not independent)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

YEAR_TOLERANCE = 0.5 / 365.25  # a pair "one year apart" may be half a day short (epochs at noon, leap years)
MAX_SEPARATION = 1.5  # years: longer pairs (across long gaps) are not used
MIN_PAIRS = 10


@dataclass
class MidasVelocity:
    velocity: np.ndarray  # (3,) m/yr
    sigma: np.ndarray  # (3,) m/yr
    pairs: int


def _pairs(t: np.ndarray, steps) -> tuple[np.ndarray, np.ndarray]:
    n = len(t)
    fwd_j = np.searchsorted(t, t + 1.0 - YEAR_TOLERANCE, side="left")
    ok = fwd_j < n
    i_f, j_f = np.arange(n)[ok], fwd_j[ok]
    bwd_i = np.searchsorted(t, t - 1.0 + YEAR_TOLERANCE, side="right") - 1
    ok = bwd_i >= 0
    i_b, j_b = bwd_i[ok], np.arange(n)[ok]
    i = np.concatenate([i_f, i_b])
    j = np.concatenate([j_f, j_b])
    keep = (t[j] - t[i]) <= MAX_SEPARATION
    for s in steps:
        keep &= ~((t[i] < s) & (t[j] > s))  # H(t - s) is 1 only for t > s: a pair with t_i < s < t_j spans it
    return i[keep], j[keep]


def midas(t, neu, steps=()) -> MidasVelocity | None:
    """MIDAS velocity of an NEU series (t: fractional years, sorted; neu: (n, 3) metres); None when fewer than
    MIN_PAIRS usable one-year pairs exist (series under a year, or cut by steps)."""
    t = np.asarray(t, dtype=float)
    neu = np.asarray(neu, dtype=float).reshape(-1, 3)
    i, j = _pairs(t, [float(s) for s in steps])
    if len(i) < MIN_PAIRS:
        return None
    slopes = (neu[j] - neu[i]) / (t[j] - t[i])[:, None]
    v, sig, used = np.zeros(3), np.zeros(3), []
    for c in range(3):
        s = slopes[:, c]
        v0 = np.median(s)
        mad = 1.4826 * np.median(np.abs(s - v0))
        kept = s[np.abs(s - v0) <= 2.0 * mad] if mad > 0 else s
        v[c] = np.median(kept)
        mad2 = 1.4826 * np.median(np.abs(kept - v[c]))
        sig[c] = 1.2533 * mad2 / np.sqrt(len(kept) / 4.0)
        used.append(len(kept))
    return MidasVelocity(v, sig, int(min(used)))
