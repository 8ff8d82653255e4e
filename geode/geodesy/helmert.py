"""Helmert transformation between two sets of ECEF coordinates, estimated by robust weighted least squares.

Parameters c = (e1, e2, e3, tx, ty, tz[, s]): rotations in nanoradians, translations in metres, scale in ppb.
For a point (x, y, z) the correction is A(x)·c with

    dx =          - z·e2·1e-9 + y·e3·1e-9 + tx (+ x·s·1e-9)
    dy =  z·e1·1e-9           - x·e3·1e-9 + ty (+ y·s·1e-9)
    dz = -y·e1·1e-9 + x·e2·1e-9           + tz (+ z·s·1e-9)

so ``estimate_helmert(source, target)`` returns c with source + A(source)·c ≈ target. The rotation sign is the
opposite of the IERS convention (IERS: dx = -R3·y + R2·z, i.e. e = -R_IERS). GeoDE's stacks use the same
convention, so stored alignment summaries stay comparable.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .lsq import robust_lsq

NANO = 1e-9


def helmert_design(xyz: np.ndarray, scale: bool = False) -> np.ndarray:
    """Design matrix (3n, 6|7); rows interleaved per point: x1, y1, z1, x2, ..."""
    xyz = np.asarray(xyz, dtype=float).reshape(-1, 3)
    n = len(xyz)
    x, y, z = xyz[:, 0] * NANO, xyz[:, 1] * NANO, xyz[:, 2] * NANO
    A = np.zeros((n, 3, 7 if scale else 6))
    A[:, 0, 1], A[:, 0, 2], A[:, 0, 3] = -z, y, 1.0
    A[:, 1, 0], A[:, 1, 2], A[:, 1, 4] = z, -x, 1.0
    A[:, 2, 0], A[:, 2, 1], A[:, 2, 5] = -y, x, 1.0
    if scale:
        A[:, 0, 6], A[:, 1, 6], A[:, 2, 6] = x, y, z
    return A.reshape(3 * n, -1)


def apply_helmert(xyz: np.ndarray, params) -> np.ndarray:
    """source + A(source)·c, for (n, 3) coordinates."""
    xyz = np.asarray(xyz, dtype=float).reshape(-1, 3)
    params = np.asarray(params, dtype=float)
    return xyz + (helmert_design(xyz, scale=len(params) == 7) @ params).reshape(-1, 3)


@dataclass
class Helmert:
    params: np.ndarray  # e1, e2, e3 [nrad], tx, ty, tz [m] (, s [ppb])
    sigmas: np.ndarray
    wrms: float  # m
    iterations: int
    stations_used: int
    downweighted: int  # components with normalised residual > 2.5
    downweighted_components: list[str]
    residuals: np.ndarray  # (n, 3) target - aligned source, m

    def summary(self) -> dict:
        p = self.params
        out = {"rotation_nrad": [float(v) for v in p[:3]], "translation_mm": [float(v) * 1e3 for v in p[3:6]],
               "wrms_mm": self.wrms * 1e3, "iterations": self.iterations, "stations_used": self.stations_used,
               "downweighted": self.downweighted, "downweighted_components": self.downweighted_components}
        if len(p) == 7:
            out["scale_ppb"] = float(p[6])
        return out


def estimate_helmert(source: np.ndarray, target: np.ndarray, *, names: list[str] | None = None,
                     scale: bool = False) -> Helmert:
    """Robust Helmert from ``source`` to ``target`` (both (n, 3), the same points in the same order)."""
    source = np.asarray(source, dtype=float).reshape(-1, 3)
    target = np.asarray(target, dtype=float).reshape(-1, 3)
    need = 4 if scale else 3
    if len(source) < need:
        raise ValueError(f"{len(source)} common stations: a Helmert transformation needs at least {need}")
    A = helmert_design(source, scale)
    fit = robust_lsq(A, (target - source).ravel())
    names = names or [str(i) for i in range(len(source))]
    bad = np.flatnonzero(~fit.keep)
    comps = [f"{'XYZ'[i % 3]}-{names[i // 3]}" for i in bad]
    return Helmert(fit.params, fit.sigmas, fit.wrms, fit.iterations, len(source), len(bad), comps,
                   fit.residuals.reshape(-1, 3))


class HelmertDesign:
    """The 6-parameter Helmert design of k point sets (k, n) without building it: its normal equations are a
    few weighted sums of the coordinates. Observations are interleaved per point (x1, y1, z1, x2, ...), as
    ``helmert_design`` orders them; points past a set's size must have zero weight."""

    def __init__(self, xyz: np.ndarray):
        xyz = np.asarray(xyz, dtype=float) * NANO
        self.X, self.Y, self.Z = xyz[..., 0], xyz[..., 1], xyz[..., 2]
        self.shape = (xyz.shape[0], 3 * xyz.shape[1], 6)

    def _pick(self, idx):
        return (self.X, self.Y, self.Z) if idx is None else (self.X[idx], self.Y[idx], self.Z[idx])

    def normal(self, idx, p, l_):
        X, Y, Z = self._pick(idx)
        w = p.reshape(len(X), -1, 3)
        wl = (p * l_).reshape(len(X), -1, 3)
        wx, wy, wz = w[..., 0], w[..., 1], w[..., 2]
        lx, ly, lz = wl[..., 0], wl[..., 1], wl[..., 2]

        def S(a):
            return np.sum(a, axis=1)

        N = np.empty((len(X), 6, 6))
        N[:, 0, 0] = S(wy * Z * Z + wz * Y * Y)
        N[:, 1, 1] = S(wx * Z * Z + wz * X * X)
        N[:, 2, 2] = S(wx * Y * Y + wy * X * X)
        N[:, 0, 1] = N[:, 1, 0] = -S(wz * X * Y)
        N[:, 0, 2] = N[:, 2, 0] = -S(wy * X * Z)
        N[:, 1, 2] = N[:, 2, 1] = -S(wx * Y * Z)
        N[:, 0, 3] = N[:, 3, 0] = 0.0
        N[:, 0, 4] = N[:, 4, 0] = S(wy * Z)
        N[:, 0, 5] = N[:, 5, 0] = -S(wz * Y)
        N[:, 1, 3] = N[:, 3, 1] = -S(wx * Z)
        N[:, 1, 4] = N[:, 4, 1] = 0.0
        N[:, 1, 5] = N[:, 5, 1] = S(wz * X)
        N[:, 2, 3] = N[:, 3, 2] = S(wx * Y)
        N[:, 2, 4] = N[:, 4, 2] = -S(wy * X)
        N[:, 2, 5] = N[:, 5, 2] = 0.0
        N[:, 3:, 3:] = 0.0
        N[:, 3, 3], N[:, 4, 4], N[:, 5, 5] = S(wx), S(wy), S(wz)
        b = np.column_stack([S(Z * ly - Y * lz), S(X * lz - Z * lx), S(Y * lx - X * ly), S(lx), S(ly), S(lz)])
        return N, b

    def model(self, idx, x):
        X, Y, Z = self._pick(idx)
        e1, e2, e3, tx, ty, tz = (x[:, i, None] for i in range(6))
        return np.stack([-Z * e2 + Y * e3 + tx, Z * e1 - X * e3 + ty, -Y * e1 + X * e2 + tz], axis=2).reshape(len(X), -1)


def estimate_helmert_batch(sources: list, targets: list, names: list | None = None, *,
                           scale: bool = False) -> list[Helmert | ValueError]:
    """``estimate_helmert`` for many point sets at once (one robust adjustment each, solved together).

    Returns one Helmert per problem, or the ValueError ``estimate_helmert`` would raise (too few points)."""
    from .lsq import robust_lsq_batch

    need = 4 if scale else 3
    out: list[Helmert | ValueError] = [ValueError(f"{len(np.reshape(s, (-1, 3)))} common stations: a Helmert "
                                                  f"transformation needs at least {need}") for s in sources]
    todo = [i for i, s in enumerate(sources) if len(np.reshape(s, (-1, 3))) >= need]
    if not todo:
        return out
    sizes = np.array([len(np.reshape(sources[i], (-1, 3))) for i in todo])
    k, width = len(todo), int(sizes.max())
    src = np.zeros((k, width, 3))
    dif = np.zeros((k, width, 3))
    for j, i in enumerate(todo):
        s = np.asarray(sources[i], dtype=float).reshape(-1, 3)
        src[j, :len(s)] = s
        dif[j, :len(s)] = np.asarray(targets[i], dtype=float).reshape(-1, 3) - s
    used = np.arange(width)[None, :] < sizes[:, None]
    rows = np.repeat(used, 3, axis=1)
    if scale:
        A = helmert_design(src.reshape(-1, 3), scale).reshape(k, 3 * width, -1)
        A[~rows] = 0.0  # padding rows: no observation
    else:
        A = HelmertDesign(src)
    fit = robust_lsq_batch(A, dif.reshape(k, -1), rows)
    for j, i in enumerate(todo):
        n = int(sizes[j])
        labels = names[i] if names is not None else [str(p) for p in range(n)]
        bad = np.flatnonzero(~fit.keep[j, :3 * n])
        comps = [f"{'XYZ'[b % 3]}-{labels[b // 3]}" for b in bad]
        out[i] = Helmert(fit.params[j], fit.sigmas[j], float(fit.wrms[j]), int(fit.iterations[j]), n, len(bad), comps,
                         fit.residuals[j, :3 * n].reshape(-1, 3))
    return out
