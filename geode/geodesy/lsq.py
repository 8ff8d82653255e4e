"""Robust iterative weighted least squares, shared by the Helmert alignment and the trajectory models.

Unit weights first; then observations whose normalised residual s = |v|/wrms exceeds 2.5 get the weight
factor 10^(2.5 - s). The loop stops when the two-sided 95 % chi-square test on the a-posteriori variance
passes (a real test, not a fixed count). With millimetre data and unit weights pass 1 always fails, so clean
data takes two passes and data with outliers a few more.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

LIMIT = 2.5
MAX_PASSES = 10


@dataclass
class LsqResult:
    params: np.ndarray  # (m,)
    sigmas: np.ndarray  # (m,) formal sigmas, in the units of the observations
    covariance: np.ndarray  # (m, m)
    residuals: np.ndarray  # (n,) L - A @ params
    wrms: float  # product of the a-posteriori sigmas over the passes: the robust WRMS of the residuals
    weights: np.ndarray  # (n,) final down-weighting factors f in (0, 1]
    keep: np.ndarray  # (n,) bool, normalised residual <= LIMIT
    iterations: int
    converged: bool


def robust_lsq(A: np.ndarray, L: np.ndarray, *, limit: float = LIMIT, max_passes: int = MAX_PASSES) -> LsqResult:
    from scipy.stats import chi2

    A = np.asarray(A, dtype=float)
    L = np.asarray(L, dtype=float)
    n, m = A.shape
    dof = n - m
    if dof <= 0:
        raise ValueError(f"not enough observations: {n} for {m} parameters")
    lower, upper = chi2.ppf(0.025, dof), chi2.ppf(0.975, dof)
    P = np.ones(n)
    f = np.ones(n)
    factor = 1.0
    converged = False
    passes = 0
    while passes < max_passes:
        passes += 1
        w = np.sqrt(P)
        x, *_ = np.linalg.lstsq(A * w[:, None], L * w, rcond=None)
        v = L - A @ x
        so = float(np.sqrt(np.sum(P * v * v) / dof))
        if so == 0.0:  # exact fit: nothing left to weight
            converged = True
            break
        factor *= so
        s = np.abs(v) / factor
        if lower <= so * so * dof <= upper:
            converged = True
            break
        f = np.ones(n)
        big = s > limit
        f[big] = np.maximum(10.0 ** (limit - s[big]), np.finfo(float).eps)
        P = (f / factor) ** 2
    N = (A * P[:, None]).T @ A
    cov = np.linalg.pinv(N) * so * so
    s = np.abs(v) / factor  # factor > 0: it starts at 1 and is only multiplied by so > 0
    return LsqResult(x, np.sqrt(np.abs(np.diag(cov))), cov, v, float(factor), f, s <= limit, passes, converged)
