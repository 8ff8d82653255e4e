"""Trajectory model terms and the design matrix.

For one component, with t in fractional years:

    c(t) = sum_k a_k (t - t_ref)^k                                  polynomial (offset, velocity[, accel.])
         + sum_f s_f sin(2 pi f t) + c_f cos(2 pi f t)              f in cycles/year (1 = annual, 2 = semi)
         + sum_j b_j H(t - t_j)                                     steps (mechanical or co-seismic)
         + sum_j sum_r d_jr log10(1 + (t - t_j)/T_r) H(t - t_j)     post-seismic logarithmic relaxation
         + sum_j sum_r g_jr (1 - exp(-(t - t_j)/T_r)) H(t - t_j)    optional exponential relaxation

H(x) = 1 only for x > 0: a solution dated at the jump epoch is before the jump.

Jump hygiene (as GeoDE's ETM does; both noted in the model's notes):
* jumps closer than ``EtmConfig.merge_jump_days`` (5 days) are one jump: a geophysical one wins over a mechanical
  one, otherwise the later one (a few-day segment between two steps only absorbs noise);
* a geophysical jump followed by less than ``EtmConfig.min_relaxation_years`` (0.5 yr) of data is fitted as a
  plain step: too little data follows to resolve its relaxation.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

MECHANICAL = "mechanical"  # step only (equipment change, user)
GEOPHYSICAL = "geophysical"  # step + relaxation (earthquake)
POSTSEISMIC = "postseismic"  # relaxation only (event before the data)

DEFAULT_RELAXATION = (0.5,)  # years


@dataclass(frozen=True)
class Jump:
    fyear: float
    kind: str = MECHANICAL
    relaxation: tuple[float, ...] = DEFAULT_RELAXATION
    source: str = "user"  # user | stationinfo | earthquake | event
    description: str = ""
    exponential: bool = False  # add 1 - exp(-dt/T) columns besides the log ones


@dataclass
class EtmConfig:
    poly_terms: int = 2  # 1 offset, 2 + velocity, 3 + acceleration
    t_ref: float | None = None  # default: first epoch
    frequencies: tuple[float, ...] = (1.0, 2.0)  # cycles per year
    jumps: list[Jump] = field(default_factory=list)
    noise_model: str = "white+flicker"  # white | white+flicker | powerlaw+white (geode.etm.noise)
    detect_offsets: bool = False  # search for unknown offsets (geode.etm.offsets)
    candidates: list[Jump] = field(default_factory=list)  # metadata epochs the detection tests first
    rejected: tuple[float, ...] = ()  # epochs an operator rejected: never proposed again (within merge_jump_days)
    merge_jump_days: float = 5.0
    min_relaxation_years: float = 0.5


@dataclass
class Design:
    A: np.ndarray
    labels: list[str]  # one per column, e.g. "poly0", "sin1.0", "step@2022.500"
    t_ref: float
    frequencies: tuple[float, ...]  # the ones that survived the gating
    jumps: list[Jump]  # the ones that survived, with kind possibly changed to post-seismic
    notes: list[str] = field(default_factory=list)  # what jump hygiene changed, for people


def _priority(jump: Jump) -> int:
    return 1 if jump.kind in (GEOPHYSICAL, POSTSEISMIC) else 0


def tidy_jumps(t: np.ndarray, jumps, merge_days: float, min_relax_years: float) -> tuple[list[Jump], list[str]]:
    """Merge jumps closer than ``merge_days``; reduce a geophysical jump with less than ``min_relax_years`` of
    data after it to a step. Returns (jumps, notes)."""
    notes: list[str] = []
    out: list[Jump] = []
    for jump in sorted(set(jumps), key=lambda j: (j.fyear, j.kind)):
        if out and (jump.fyear - out[-1].fyear) * 365.25 < merge_days:
            prev = out[-1]
            keep, drop = (prev, jump) if _priority(prev) > _priority(jump) else (jump, prev)
            out[-1] = keep
            notes.append(f"jump {drop.fyear:.4f} ({drop.source}) merged into {keep.fyear:.4f} ({keep.source}): "
                         f"{abs(jump.fyear - prev.fyear) * 365.25:.1f} days apart")
            continue
        out.append(jump)
    t_end = float(np.max(t)) if len(t) else 0.0
    for k, jump in enumerate(out):
        if jump.kind == GEOPHYSICAL and jump.fyear > float(np.min(t)) and t_end - jump.fyear < min_relax_years:
            out[k] = replace(jump, kind=MECHANICAL)
            notes.append(f"jump {jump.fyear:.4f} ({jump.source}): only {(t_end - jump.fyear) * 365.25:.0f} days of "
                         f"data follow, fitted as a step without relaxation")
    return out, notes


def largest_phase_gap(t: np.ndarray) -> float:
    """Largest gap (years) in the sorted fractional parts of t, including the wrap-around."""
    phase = np.unique(np.round(t - np.floor(t), 6))
    if len(phase) < 2:
        return 1.0
    return float(max(np.max(np.diff(phase)), 1.0 - phase[-1] + phase[0]))


def resolvable_frequencies(t: np.ndarray, frequencies) -> tuple[float, ...]:
    """A term of period P years is kept only if no phase gap exceeds P/4 (annual 0.25 yr, semi 0.125 yr)."""
    gap = largest_phase_gap(t)
    return tuple(f for f in frequencies if gap <= 0.25 / f)


def _relax_columns(dt: np.ndarray, jump: Jump) -> tuple[list[np.ndarray], list[str]]:
    cols, labels = [], []
    after = dt > 0
    for T in jump.relaxation:
        cols.append(np.where(after, np.log10(1.0 + np.clip(dt, 0, None) / T), 0.0))
        labels.append(f"log{T:g}@{jump.fyear:.4f}")
        if jump.exponential:
            cols.append(np.where(after, 1.0 - np.exp(-np.clip(dt, 0, None) / T), 0.0))
            labels.append(f"exp{T:g}@{jump.fyear:.4f}")
    return cols, labels


def build_design(t: np.ndarray, config: EtmConfig) -> Design:
    t = np.asarray(t, dtype=float)
    t_ref = float(t.min()) if config.t_ref is None else float(config.t_ref)
    freqs = resolvable_frequencies(t, config.frequencies)
    cols, labels = _base_columns(t, t_ref, config.poly_terms, freqs)
    kept: list[Jump] = []
    tidy, notes = tidy_jumps(t, config.jumps, config.merge_jump_days, config.min_relaxation_years)
    for jump in tidy:
        dt = t - jump.fyear
        step = (dt > 0).astype(float)
        kind = jump.kind
        if kind == GEOPHYSICAL and step.all():  # the earthquake predates the data: only its relaxation shows
            kind = POSTSEISMIC
        jcols, jlabels = [], []
        if kind in (MECHANICAL, GEOPHYSICAL):
            if step.all() or not step.any():  # a step outside the data cannot be estimated
                continue
            if any(lab.startswith("step@") and np.array_equal(step, c) for lab, c in zip(labels, cols)):
                continue  # no epoch between this jump and an earlier one: keep the first
            jcols.append(step)
            jlabels.append(f"step@{jump.fyear:.4f}")
        if kind in (GEOPHYSICAL, POSTSEISMIC):
            if not step.any():
                continue
            rc, rl = _relax_columns(dt, jump)
            jcols += rc
            jlabels += rl
        trial = np.column_stack(cols + jcols)
        if np.linalg.cond(trial) > 1e10:  # this jump would make the system singular (too few epochs)
            continue
        cols += jcols
        labels += jlabels
        kept.append(replace(jump, kind=kind))
    return Design(np.column_stack(cols), labels, t_ref, freqs, kept, notes)


def _base_columns(t: np.ndarray, t_ref: float, poly_terms: int, freqs) -> tuple[list[np.ndarray], list[str]]:
    """Polynomial and periodic columns (every model has them; jumps are decided per series)."""
    cols = [(t - t_ref) ** k for k in range(poly_terms)]
    labels = [f"poly{k}" for k in range(poly_terms)]
    for kind in ("sin", "cos"):
        for f in freqs:
            cols.append(np.sin(2 * np.pi * f * t) if kind == "sin" else np.cos(2 * np.pi * f * t))
            labels.append(f"{kind}{f:g}")
    return cols, labels


def columns(t, t_ref: float, poly_terms: int, freqs, jumps: list[Jump]) -> tuple[np.ndarray, list[str]]:
    """The design matrix for already-decided terms: used to fit and to evaluate a model at any epoch."""
    t = np.atleast_1d(np.asarray(t, dtype=float))
    cols, labels = _base_columns(t, t_ref, poly_terms, freqs)
    for jump in jumps:
        dt = t - jump.fyear
        if jump.kind in (MECHANICAL, GEOPHYSICAL):
            cols.append((dt > 0).astype(float))
            labels.append(f"step@{jump.fyear:.4f}")
        if jump.kind in (GEOPHYSICAL, POSTSEISMIC):
            rc, rl = _relax_columns(dt, jump)
            cols += rc
            labels += rl
    return np.column_stack(cols), labels
