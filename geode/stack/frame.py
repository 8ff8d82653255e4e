"""Optional stack post-processing: network-wide periodic common modes, and the tie to a reference frame
given by a constraints file (reference stations' positions at an epoch and their velocities).

Constraints file: one station per line, ``net.stn x y z epoch [vx vy vz]`` (metres, fractional year, m/yr);
blank lines and lines starting with '#' are ignored. GeoDE's 20-field lines (12 periodic values appended) are
accepted; their periodic values are not used (the frame tie is position and velocity only).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np

from ..errors import UsageError
from ..etm.model import EtmConfig
from ..geodesy.coordinates import neu2xyz
from ..geodesy.helmert import apply_helmert, estimate_helmert, helmert_design
from ..geodesy.lsq import robust_lsq
from .data import Day, StackResult, StationMeta
from .models import fit_models


def read_constraints(path) -> dict[str, dict]:
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise UsageError(f"cannot read constraints file {path}: {exc.strerror or exc}") from None
    out = {}
    for number, line in enumerate(lines, 1):
        fields = line.split()
        if not fields or fields[0].startswith("#"):
            continue
        try:
            if len(fields) not in (5, 8, 20) or "." not in fields[0]:
                raise ValueError
            values = [float(v) for v in fields[1:]]
        except ValueError:
            raise UsageError(f"{path}:{number}: expected 'net.stn x y z epoch [vx vy vz]'") from None
        out[fields[0].lower()] = {"xyz": np.array(values[:3]), "epoch": values[3],
                                  "velocity": np.array(values[4:7]) if len(values) >= 7 else None}
    if not out:
        raise UsageError(f"constraints file {path} lists no stations")
    return out


def _transform_days(days: list[Day], per_day) -> list[Day]:
    return [d if d.preserved else replace(d, xyz=per_day(d)) for d in days]


def remove_common_modes(runner, result: StackResult, meta: dict[str, StationMeta], config: EtmConfig,
                        exclude=()) -> StackResult:
    # excluded stations carry no weight in the estimate (they are not control) but are corrected too
    """Fit, per frequency and sin/cos, one 7-parameter Helmert to the stations' periodic terms and remove
    that network-wide signal from every (non-preserved) day; then refit the models."""
    report = {}
    new_days = result.days
    for f in config.frequencies:
        names = [s for s, fit in result.fits.items() if f in fit.frequencies and s in meta and s not in exclude]
        if len(names) < 4:
            continue
        ref = np.array([meta[s].apriori for s in names])
        A = helmert_design(ref, scale=True)
        for k, trig in enumerate((np.sin, np.cos)):
            amp = np.array([neu2xyz(result.fits[s].periodic()[f][:, k], meta[s].lat, meta[s].lon) for s in names])
            c = robust_lsq(A, amp.ravel()).params
            report[f"{'sin' if k == 0 else 'cos'}{f:g}"] = {"rotation_nrad": c[:3].tolist(),
                                                            "translation_mm": (c[3:6] * 1e3).tolist(),
                                                            "scale_ppb": float(c[6])}
            new_days = _transform_days(new_days, lambda d, c=c, trig=trig, f=f:
                                       apply_helmert(d.xyz, -trig(2 * np.pi * f * d.fyear) * c))
    fits, _ = fit_models(runner, new_days, meta, config)
    return replace(result, days=new_days, fits=fits, frame={**result.frame, "common_modes": report})


def tie_to_frame(runner, result: StackResult, meta: dict[str, StationMeta], config: EtmConfig,
                 constraints: dict[str, dict]) -> StackResult:
    """One Helmert at the constraints' epoch plus one Helmert rate, from the stack's models to the
    constraint positions and velocities, applied to every day. Models are evaluated at the epoch, so a
    reference station need not have observed that exact day."""
    names = [s for s in constraints if s in result.fits and s in meta]
    if len(names) < 3:
        raise UsageError(f"{len(names)} constraint station(s) are in the stack: the frame tie needs at least 3")
    epoch = float(np.mean([constraints[s]["epoch"] for s in names]))
    pos = np.array([meta[s].position(result.fits[s], constraints[s]["epoch"]) for s in names])
    target = np.array([constraints[s]["xyz"] for s in names])
    position = estimate_helmert(pos, target, names=names)
    with_v = [i for i, s in enumerate(names) if constraints[s]["velocity"] is not None]
    rate = np.zeros(6)
    if len(with_v) >= 3:
        v_stack = np.array([neu2xyz(result.fits[names[i]].velocity, meta[names[i]].lat, meta[names[i]].lon)
                            for i in with_v])
        v_target = np.array([constraints[names[i]]["velocity"] for i in with_v])
        rate = robust_lsq(helmert_design(pos[with_v]), (v_target - v_stack).ravel()).params
    new_days = _transform_days(result.days, lambda d: apply_helmert(d.xyz, position.params + (d.fyear - epoch) * rate))
    fits, _ = fit_models(runner, new_days, meta, config)
    after = np.array([meta[s].position(fits[s], constraints[s]["epoch"]) for s in names if s in fits])
    report = {"epoch": epoch, "stations": names, "helmert": position.summary(),
              "rate": {"rotation_nrad_yr": rate[:3].tolist(), "translation_mm_yr": (rate[3:] * 1e3).tolist()},
              "position_residual_mm_before": float(np.sqrt(np.mean((pos - target) ** 2)) * 1e3),
              "position_residual_mm_after": float(np.sqrt(np.mean((after - target[:len(after)]) ** 2)) * 1e3)}
    return replace(result, days=new_days, fits=fits, frame={**result.frame, "frame_tie": report})
