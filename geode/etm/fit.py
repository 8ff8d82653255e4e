"""Fit a trajectory model to one station's NEU series and use it (evaluate, velocities, WRMS, outliers).

The fit: a robust white-noise least-squares pass per component flags outliers (all three components within
2.5 sigma, as GeoDE); optionally offsets are detected (``offsets.py``); then, unless the noise model is
``white``, each component's noise (white + flicker by default) is estimated by restricted maximum likelihood
jointly with the model and the parameters and their sigmas are the generalised least-squares ones under that
noise (``noise.py``); the MIDAS velocity (``midas.py``) is computed beside it, skipping pairs across steps."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from ..geodesy.lsq import robust_lsq
from .model import GEOPHYSICAL, MECHANICAL, EtmConfig, Jump, build_design, columns

MIN_SOLUTIONS = 4
DETECTION_PASSES = 3


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
    noise_model: str = "white"
    noise_white: np.ndarray | None = None  # (3,) m
    noise_powerlaw: np.ndarray | None = None  # (3,) m / yr^(-kappa/4) (flicker: m / yr^0.25)
    noise_kappa: np.ndarray | None = None  # (3,) spectral index
    midas_velocity: np.ndarray | None = None  # (3,) m/yr, None when the series has too few one-year pairs
    midas_sigma: np.ndarray | None = None
    detected: list = field(default_factory=list)  # DetectedOffset, for review
    notes: list[str] = field(default_factory=list)

    def midas_disagrees(self, factor: float = 3.0) -> bool:
        """ETM and MIDAS velocities differ by more than ``factor`` x their combined sigma in some component."""
        if self.midas_velocity is None or self.poly_terms < 2:
            return False
        diff = np.abs(self.velocity - np.asarray(self.midas_velocity))
        comb = np.sqrt(self.velocity_sigma ** 2 + np.asarray(self.midas_sigma) ** 2)
        return bool(np.any(diff > factor * comb))

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

        def neu(values, scale=1e3, digits=3):
            return None if values is None else {c: round(float(values[i]) * scale, digits) for i, c in enumerate("neu")}

        return {"t_ref": self.t_ref, "epochs": self.epochs, "span": list(self.span),
                "velocity_mm_yr": {c: round(float(v[i]), 3) for i, c in enumerate("neu")},
                "velocity_sigma_mm_yr": {c: round(float(sv[i]), 3) for i, c in enumerate("neu")},
                "wrms_mm": {c: round(float(self.wrms[i]) * 1e3, 3) for i, c in enumerate("neu")},
                "outliers": int((~self.good).sum()),
                "jumps": [{"fyear": j.fyear, "kind": j.kind, "source": j.source, "description": j.description}
                          for j in self.jumps],
                "frequencies": list(self.frequencies),
                "noise": {"model": self.noise_model, "white_mm": neu(self.noise_white),
                          "powerlaw_mm_yr^(-kappa/4)": neu(self.noise_powerlaw),
                          "spectral_index": neu(self.noise_kappa, 1.0)},
                "midas_velocity_mm_yr": neu(self.midas_velocity),
                "midas_sigma_mm_yr": neu(self.midas_sigma),
                "midas_disagrees": self.midas_disagrees(),
                "detected_offsets": [d.summary() for d in self.detected],
                "notes": list(self.notes)}


def _robust(design, neu):
    fits = [robust_lsq(design.A, neu[:, i]) for i in range(3)]
    return fits, fits[0].keep & fits[1].keep & fits[2].keep


def fit_etm(t, neu, config: EtmConfig | None = None) -> EtmFit:
    """Fit each NEU component (t: (n,) fractional years, neu: (n, 3) metres) as the module docstring says."""
    from .midas import midas
    from .noise import WHITE, estimate_noise

    config = config or EtmConfig()
    t = np.asarray(t, dtype=float)
    neu = np.asarray(neu, dtype=float).reshape(-1, 3)
    if len(t) < MIN_SOLUTIONS:
        raise EtmError(f"{len(t)} solutions: a trajectory model needs at least {MIN_SOLUTIONS}")
    design = build_design(t, config)
    if design.A.shape[1] >= len(t):
        raise EtmError(f"{len(t)} solutions for {design.A.shape[1]} model parameters")
    fits, good = _robust(design, neu)
    detected = []
    if config.detect_offsets:
        from .offsets import as_jumps, detect, local_blunders

        usable = ~local_blunders(neu)

        # detection works on all epochs but blunders (an undetected offset makes the epochs after it look like
        # outliers of the model); each pass starts from the model with the offsets found so far
        for _ in range(DETECTION_PASSES):
            new = detect(t, neu, usable, design, config, config.noise_model)
            if not new:
                break
            detected = sorted(detected + new, key=lambda d: d.fyear)
            design = build_design(t, replace(config, jumps=list(config.jumps) + as_jumps(detected)))
            fits, good = _robust(design, neu)
    params = np.array([f.params for f in fits])
    sigmas = np.array([f.sigmas for f in fits])
    white = np.array([f.wrms for f in fits])
    powerlaw, kappa = np.zeros(3), np.zeros(3)
    if config.noise_model != WHITE and good.sum() > design.A.shape[1] + 8:
        for i in range(3):
            est = estimate_noise(t[good], design.A[good], neu[good, i], config.noise_model)
            params[i], sigmas[i] = est.params, np.sqrt(np.abs(np.diag(est.covariance)))
            white[i], powerlaw[i], kappa[i] = est.white, est.powerlaw, est.kappa
    kept = []
    for off in detected:  # sizes and sigmas from the final model (the detection saw intermediate ones)
        label = f"step@{off.fyear:.4f}"
        if label in design.labels:
            k = design.labels.index(label)
            off.size, off.sigma = params[:, k].copy(), sigmas[:, k].copy()
            kept.append(off)
    detected = kept
    steps = [j.fyear for j in design.jumps if j.kind in (MECHANICAL, GEOPHYSICAL)]
    mid = midas(t[good], neu[good], steps)
    return EtmFit(design.t_ref, config.poly_terms, design.frequencies, design.jumps, design.labels, params, sigmas,
                  np.array([f.wrms for f in fits]), good, [f.iterations for f in fits], len(t),
                  (float(t.min()), float(t.max())), config.noise_model, white, powerlaw, kappa,
                  None if mid is None else mid.velocity, None if mid is None else mid.sigma, detected,
                  list(design.notes))
