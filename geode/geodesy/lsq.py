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


def chi2_bounds(dof):
    """The two-sided 95 % chi-square interval for ``dof`` degrees of freedom (scalar or array): exactly
    ``scipy.stats.chi2.ppf(0.025 | 0.975, dof)``, without importing scipy.stats (a second of start-up)."""
    from scipy.special import gammaincinv

    half = np.asarray(dof, dtype=float) / 2
    return 2 * gammaincinv(half, 0.025), 2 * gammaincinv(half, 0.975)


def robust_lsq(A: np.ndarray, L: np.ndarray, *, limit: float = LIMIT, max_passes: int = MAX_PASSES) -> LsqResult:
    A = np.asarray(A, dtype=float)
    L = np.asarray(L, dtype=float)
    n, m = A.shape
    dof = n - m
    if dof <= 0:
        raise ValueError(f"not enough observations: {n} for {m} parameters")
    lower, upper = chi2_bounds(dof)
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


class DenseDesign:
    """The normal equations and model of k stacked designs A (k, n, m): what ``robust_lsq_batch`` solves with.
    A structured design (e.g. a Helmert's) can supply the same two methods without building A."""

    def __init__(self, A: np.ndarray):
        self.A = np.asarray(A, dtype=float)

    def normal(self, idx, p: np.ndarray, l_: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(A'PA, A'Pl) of the problems ``idx`` (None: all) with weights p and observations l_ (k', n)."""
        a = self.A if idx is None else self.A[idx]
        at = a.transpose(0, 2, 1)
        return at @ (a * p[:, :, None]), (at @ (p * l_)[:, :, None])[:, :, 0]

    def model(self, idx, x: np.ndarray) -> np.ndarray:
        """A x of the problems ``idx`` (None: all)."""
        a = self.A if idx is None else self.A[idx]
        return (a @ x[:, :, None])[:, :, 0]


def robust_lsq_batch(A, L: np.ndarray, rows: np.ndarray | None = None, cols: np.ndarray | None = None,
                     *, limit: float = LIMIT, max_passes: int = MAX_PASSES) -> BatchLsqResult:
    """``robust_lsq`` for many independent problems at once: the same weighting, chi-square test and stop rule
    per problem, solved through stacked normal equations instead of one SVD per pass.

    A: (k, n, m) designs (or a DenseDesign-like object with ``A.shape``-free ``normal``/``model`` and ``shape``),
    L: (k, n) observations; ``rows`` (k, n) and ``cols`` (k, m) mark the rows and parameters each problem really
    has: ragged problems are padded, and A and L must be 0 in the padding. Every problem needs more used rows
    than used parameters (ValueError otherwise, as ``robust_lsq``). Results agree with ``robust_lsq`` to
    rounding (normal equations instead of SVD)."""
    design = A if hasattr(A, "normal") else DenseDesign(A)
    L = np.asarray(L, dtype=float)
    k, n, m = design.shape if hasattr(design, "shape") else design.A.shape
    rows = np.ones((k, n), bool) if rows is None else np.asarray(rows, bool)
    cols = np.ones((k, m), bool) if cols is None else np.asarray(cols, bool)
    dof = rows.sum(1) - cols.sum(1)
    if k and dof.min() <= 0:
        bad = int(np.argmin(dof))
        raise ValueError(f"not enough observations: {rows[bad].sum()} for {cols[bad].sum()} parameters")
    lower, upper = chi2_bounds(dof)
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
    while len(active):
        idx = None if len(active) == k else active
        p, l_ = (P, L) if idx is None else (P[active], L[active])
        N, b = design.normal(idx, p, l_)
        xa = _solve_many(N + (pad if idx is None else pad[active]), b)
        va = l_ - design.model(idx, xa)
        soa = np.sqrt(np.sum(p * va * va, axis=1) / dof[active])
        x[active], v[active], so[active] = xa, va, soa
        passes[active] += 1
        zero = soa == 0.0
        factor[active] = factor[active] * np.where(zero, 1.0, soa)
        chi = soa * soa * dof[active]
        done = zero | ((lower[active] <= chi) & (chi <= upper[active]))
        converged[active[done]] = True
        go = ~done & (passes[active] < max_passes)
        left = active[~done]
        if len(left):
            s = np.abs(v[left]) / factor[left, None]
            fl = np.where(s > limit, np.maximum(10.0 ** (limit - s), np.finfo(float).eps), 1.0)
            f[left] = fl
            P[left] = np.where(rows[left], (fl / factor[left, None]) ** 2, 0.0)
        active = active[go]
    N, _ = design.normal(None, P, L)
    cov = np.linalg.pinv(N) * (so * so)[:, None, None]
    sig = np.sqrt(np.abs(np.diagonal(cov, axis1=1, axis2=2))) * cols
    s = np.abs(v) / factor[:, None]
    return BatchLsqResult(x * cols, sig, v, factor, np.where(rows, f, 1.0), (s <= limit) & rows, passes, converged)
