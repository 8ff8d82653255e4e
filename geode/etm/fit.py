"""Fit a trajectory model to one station's NEU series and use it (evaluate, velocities, WRMS, outliers)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..geodesy.lsq import robust_lsq
from .model import EtmConfig, Jump, build_design, columns

MIN_SOLUTIONS = 4


class EtmError(ValueError):
    """The series cannot support a model (too few solutions, singular design)."""


@dataclass
class EtmFit:
    t_ref: float
    poly_terms: int
    frequencies: tuple[float, ...]
    jumps: list[Jump]
    labels: list[str]
    params: np.ndarray  # (3, m) north, east, up; metres (per year for rates)
    sigmas: np.ndarray  # (3, m)
    wrms: np.ndarray  # (3,) metres
    good: np.ndarray  # (n,) bool: all three components within 2.5 sigma
    iterations: list[int] = field(default_factory=list)
    epochs: int = 0
    span: tuple[float, float] = (0.0, 0.0)

    def evaluate(self, t) -> np.ndarray:
        """Model NEU (n, 3) at epochs t (fractional years)."""
        A, _ = columns(t, self.t_ref, self.poly_terms, self.frequencies, self.jumps)
        return A @ self.params.T

    def xyz(self, t, reference: np.ndarray, lat: float, lon: float) -> np.ndarray:
        """ECEF position at epoch(s) t of a model fitted in NEU about ``reference`` at (lat, lon):
        (3,) for a scalar t, (n, 3) for n epochs."""
        from ..geodesy.coordinates import neu2xyz

        neu = self.evaluate(np.atleast_1d(t))
        return reference + neu2xyz(neu[0] if np.ndim(t) == 0 else neu, lat, lon)

    def column(self, label: str) -> int:
        return self.labels.index(label)

    @property
    def velocity(self) -> np.ndarray:
        """NEU velocity, m/yr (zeros for an offset-only model)."""
        return self.params[:, 1] if self.poly_terms > 1 else np.zeros(3)

    @property
    def velocity_sigma(self) -> np.ndarray:
        return self.sigmas[:, 1] if self.poly_terms > 1 else np.zeros(3)

    def periodic(self) -> dict[float, np.ndarray]:
        """{frequency: (3, 2) [sin, cos] amplitudes per NEU component}."""
        return {f: np.column_stack([self.params[:, self.column(f"sin{f:g}")], self.params[:, self.column(f"cos{f:g}")]])
                for f in self.frequencies}

    def summary(self) -> dict:
        v, sv = self.velocity * 1e3, self.velocity_sigma * 1e3
        return {"t_ref": self.t_ref, "epochs": self.epochs, "span": list(self.span),
                "velocity_mm_yr": {c: round(float(v[i]), 3) for i, c in enumerate("neu")},
                "velocity_sigma_mm_yr": {c: round(float(sv[i]), 3) for i, c in enumerate("neu")},
                "wrms_mm": {c: round(float(self.wrms[i]) * 1e3, 3) for i, c in enumerate("neu")},
                "outliers": int((~self.good).sum()),
                "jumps": [{"fyear": j.fyear, "kind": j.kind, "source": j.source, "description": j.description}
                          for j in self.jumps],
                "frequencies": list(self.frequencies)}


def fit_etm(t, neu, config: EtmConfig | None = None) -> EtmFit:
    """Robust fit of each NEU component (t: (n,) fractional years, neu: (n, 3) metres)."""
    config = config or EtmConfig()
    t = np.asarray(t, dtype=float)
    neu = np.asarray(neu, dtype=float).reshape(-1, 3)
    if len(t) < MIN_SOLUTIONS:
        raise EtmError(f"{len(t)} solutions: a trajectory model needs at least {MIN_SOLUTIONS}")
    design = build_design(t, config)
    if design.A.shape[1] >= len(t):
        raise EtmError(f"{len(t)} solutions for {design.A.shape[1]} model parameters")
    fits = [robust_lsq(design.A, neu[:, i]) for i in range(3)]
    return EtmFit(design.t_ref, config.poly_terms, design.frequencies, design.jumps, design.labels,
                  np.array([f.params for f in fits]), np.array([f.sigmas for f in fits]),
                  np.array([f.wrms for f in fits]), fits[0].keep & fits[1].keep & fits[2].keep,
                  [f.iterations for f in fits], len(t), (float(t.min()), float(t.max())))
