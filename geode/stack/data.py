"""The data a stack works on: daily polyhedra (``Day``), station metadata (``StationMeta``), the result of
the iterations (``StackResult``) and each station's series across days."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from ..etm.model import EtmConfig, Jump


@dataclass
class Day:
    year: int
    doy: int
    fyear: float
    stations: list[str]  # "net.stn", sorted
    xyz: np.ndarray  # (n, 3)
    preserved: bool = False  # already in the stack (--preserve): used, never changed

    @property
    def key(self) -> str:
        return f"{self.year:04d}_{self.doy:03d}"


@dataclass
class StationMeta:
    name: str
    lat: float
    lon: float
    apriori: np.ndarray  # (3,) stations.auto_x/y/z
    jumps: list[Jump] = field(default_factory=list)
    apriori_fit: object = None  # EtmFit of the station's PPP series (NEU about ``apriori``), when there is one
    candidates: list[Jump] = field(default_factory=list)  # metadata offset candidates (only with detection)
    rejected: tuple[float, ...] = ()  # epochs whose jumps the user switched off (never detected again)

    def position(self, fit, t) -> np.ndarray:
        """ECEF position(s) at epoch(s) t of a model of this station (fitted in NEU about ``apriori``)."""
        return fit.xyz(t, self.apriori, self.lat, self.lon)

    def etm_config(self, config: EtmConfig) -> EtmConfig:
        """The stack's model configuration with this station's jumps (and, with offset detection, its metadata
        candidates and rejected epochs)."""
        if not config.detect_offsets:
            return replace(config, jumps=list(self.jumps))
        return replace(config, jumps=list(self.jumps), candidates=list(self.candidates), rejected=tuple(self.rejected))


@dataclass
class StackResult:
    days: list[Day]  # aligned
    helmert: dict[str, dict]  # day key -> summary of its final (total) transformation
    fits: dict[str, object]  # station -> EtmFit fitted to the final aligned series
    iterations: list[dict]  # per iteration: max change (mm), days aligned, etc.
    converged: bool
    failures: list[str]  # "what: why" lines
    frame: dict = field(default_factory=dict)  # common-mode removal and frame tie reports


# --- pure numerics ------------------------------------------------------------------------------------------------

def station_series(days: list[Day]) -> dict[str, tuple[np.ndarray, np.ndarray, list[tuple[int, int]]]]:
    """station -> (t, xyz (n, 3), [(day index, row)]) from a list of days."""
    acc: dict[str, list] = {}
    for d, day in enumerate(days):
        for r, stn in enumerate(day.stations):
            acc.setdefault(stn, []).append((day.fyear, day.xyz[r], (d, r)))
    return {s: (np.array([a[0] for a in v]), np.array([a[1] for a in v]), [a[2] for a in v]) for s, v in acc.items()}

