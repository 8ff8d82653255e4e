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


@dataclass
class BatchLsqResult:
    """``robust_lsq`` of k independent problems (shapes: k problems, n rows, m parameters)."""

    params: np.ndarray  # (k, m); 0 for unused parameters
    sigmas: np.ndarray  # (k, m)
    residuals: np.ndarray  # (k, n); 0 for unused rows
    wrms: np.ndarray  # (k,)
    weights: np.ndarray  # (k, n)
    keep: np.ndarray  # (k, n) bool
    iterations: np.ndarray  # (k,) int
    converged: np.ndarray  # (k,) bool


def _solve_many(N: np.ndarray, b: np.ndarray) -> np.ndarray:
    """x with N x = b for stacked (k, m, m) systems; a singular one gets the least-squares solution (as
    ``np.linalg.lstsq`` gives it) without changing the others' results."""
    try:
        return np.linalg.solve(N, b[..., None])[..., 0]
    except np.linalg.LinAlgError:
        out = np.empty_like(b)
        for i in range(len(N)):
            try:
                out[i] = np.linalg.solve(N[i], b[i])
            except np.linalg.LinAlgError:
                out[i] = np.linalg.lstsq(N[i], b[i], rcond=None)[0]
        return out


def robust_lsq_batch(A: np.ndarray, L: np.ndarray, rows: np.ndarray | None = None, cols: np.ndarray | None = None,
                     *, limit: float = LIMIT, max_passes: int = MAX_PASSES) -> BatchLsqResult:
    """``robust_lsq`` for many independent problems at once: the same weighting, chi-square test and stop rule
    per problem, solved through stacked normal equations instead of one SVD per pass.

    A: (k, n, m) designs, L: (k, n) observations; ``rows`` (k, n) and ``cols`` (k, m) mark the rows and
    parameters each problem really has (ragged problems padded with anything finite). Every problem needs
    more used rows than used parameters (ValueError otherwise, as ``robust_lsq``). Results agree with
    ``robust_lsq`` to rounding (normal equations instead of SVD)."""
    from scipy.stats import chi2

    A = np.asarray(A, dtype=float)
    L = np.asarray(L, dtype=float)
    k, n, m = A.shape
    rows = np.ones((k, n), bool) if rows is None else np.asarray(rows, bool)
    cols = np.ones((k, m), bool) if cols is None else np.asarray(cols, bool)
    A = np.where(rows[:, :, None] & cols[:, None, :], A, 0.0)
    L = np.where(rows, L, 0.0)
    dof = rows.sum(1) - cols.sum(1)
    if k and dof.min() <= 0:
        bad = int(np.argmin(dof))
        raise ValueError(f"not enough observations: {rows[bad].sum()} for {cols[bad].sum()} parameters")
    lower, upper = chi2.ppf(0.025, dof), chi2.ppf(0.975, dof)
    pad = np.zeros((k, m, m))
    pad[:, np.arange(m), np.arange(m)] = ~cols  # unused parameters: 1 on the diagonal, 0 on the right side
    P = rows.astype(float)
    f = np.ones((k, n))
    factor = np.ones(k)
    so = np.zeros(k)
    x = np.zeros((k, m))
    v = np.zeros((k, n))
    passes = np.zeros(k, int)
    converged = np.zeros(k, bool)
    active = np.arange(k)
    AT = A.transpose(0, 2, 1)
    while len(active):
        a, at, p, l_ = A[active], AT[active], P[active], L[active]
        N = at @ (a * p[:, :, None]) + pad[active]
        xa = _solve_many(N, (at @ (p * l_)[:, :, None])[:, :, 0])
        va = l_ - (a @ xa[:, :, None])[:, :, 0]
        soa = np.sqrt(np.sum(p * va * va, axis=1) / dof[active])
        x[active], v[active], so[active] = xa, va, soa
        passes[active] += 1
        zero = soa == 0.0
        fa = factor[active] * np.where(zero, 1.0, soa)
        factor[active] = fa
        chi = soa * soa * dof[active]
        done = zero | ((lower[active] <= chi) & (chi <= upper[active]))
        converged[active[done]] = True
        go = ~done & (passes[active] < max_passes)
        left = active[~done]
        s = np.abs(v[left]) / factor[left, None]
        fl = np.where(s > limit, np.maximum(10.0 ** (limit - s), np.finfo(float).eps), 1.0)
        f[left] = np.where(rows[left], fl, 1.0)
        P[left] = np.where(rows[left], (fl / factor[left, None]) ** 2, 0.0)
        active = active[go]
    N = AT @ (A * P[:, :, None])
    cov = np.linalg.pinv(N) * (so * so)[:, None, None]
    sig = np.sqrt(np.abs(np.diagonal(cov, axis1=1, axis2=2))) * cols
    s = np.abs(v) / factor[:, None]
    return BatchLsqResult(x * cols, sig, np.where(rows, v, 0.0), factor, f, (s <= limit) & rows, passes, converged)
