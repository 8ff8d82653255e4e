"""The data a stack works on: daily polyhedra (``Day``), station metadata (``StationMeta``), the result of
the iterations (``StackResult``) and each station's series across days; for bulk work the same solutions in
long form (``Solutions``: one row per station-day, as arrays) and the definition of a run (``RunSpec``)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from ..dates import GnssDate
from ..etm.model import EtmConfig, Jump

UNITS_PER_STEP = 4  # a step's days (or stations) are split in about this many units, whatever the workers
MAX_DAYS_PER_UNIT = 128  # ... of at most this many days
MAX_STATIONS_PER_UNIT = 256  # ... or stations (bounds a unit's memory)

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
class Solutions:
    """Station-day solutions in long form: row i is station ``stn[i]`` on day ``day[i]`` (indices into a
    RunSpec's days and stations), ordered by day then station unless said otherwise."""

    day: np.ndarray  # (k,) int
    stn: np.ndarray  # (k,) int
    xyz: np.ndarray  # (k, 3)

    def __len__(self) -> int:
        return len(self.day)

    def take(self, index) -> "Solutions":
        return Solutions(self.day[index], self.stn[index], self.xyz[index])

    def by_station(self) -> "Solutions":
        """The same rows ordered by station, then day."""
        return self.take(np.lexsort((self.day, self.stn)))

    @staticmethod
    def empty() -> "Solutions":
        return Solutions(np.zeros(0, int), np.zeros(0, int), np.zeros((0, 3)))

    @staticmethod
    def concat(parts: list["Solutions"]) -> "Solutions":
        parts = [p for p in parts if len(p)]
        if not parts:
            return Solutions.empty()
        return Solutions(np.concatenate([p.day for p in parts]), np.concatenate([p.stn for p in parts]),
                         np.concatenate([p.xyz for p in parts]))


@dataclass
class RunSpec:
    """What a stack (or refit, or DRA) run works on: its days, its stations and their metadata. Sent to the
    workers through PostgreSQL (``stack_work_runs``), never through the broker."""

    run: str  # random hex id
    kind: str  # stack | refit | dra
    project: str  # gamit_soln "Project" of the days that are not preserved
    name: str | None  # the stack preserved days come from (stacks.name)
    years: np.ndarray  # (D,) int
    doys: np.ndarray  # (D,) int
    fyears: np.ndarray  # (D,) GnssDate.from_doy(year, doy).fyear
    preserved: np.ndarray  # (D,) bool: rows from the stack, used as they are, never transformed or written
    stations: list[str]  # (S,) "net.stn", sorted
    meta: list  # (S,) StationMeta, or None: no a-priori position (aligned, never control, never modelled)
    control: np.ndarray  # (S,) bool: alignment control (has meta, not excluded)
    config: EtmConfig
    day_block: int  # days per unit
    station_block: int  # stations per unit
    size: int = 0  # solutions in the run (all days and stations)

    @property
    def keys(self) -> list[str]:
        return [f"{y:04d}_{d:03d}" for y, d in zip(self.years.tolist(), self.doys.tolist())]

    def day_blocks(self) -> list[tuple[int, int]]:
        return _blocks(len(self.years), self.day_block)

    def station_blocks(self) -> list[tuple[int, int]]:
        return _blocks(len(self.stations), self.station_block)


def _blocks(n: int, size: int) -> list[tuple[int, int]]:
    return [(lo, min(lo + size, n)) for lo in range(0, n, max(size, 1))]


def block_size(n: int, units: int, largest: int) -> int:
    """Items per unit: ``n`` split in about ``units`` parts, at most ``largest`` each (a unit's memory)."""
    return max(1, min(largest, -(-n // units)))


@dataclass
class StackResult:
    helmert: dict[str, dict]  # day key -> summary of its final (total) transformation
    fits: dict[str, object]  # station -> EtmFit fitted to the final aligned series
    iterations: list[dict]  # per iteration: max change (mm), days aligned, etc.
    converged: bool
    failures: list[str]  # "what: why" lines
    work: object  # the run's Work: its days, stations and transformations
    step: int  # the step whose transformations give the final days
    frame: dict = field(default_factory=dict)  # common-mode removal and frame tie reports
    kept: np.ndarray | None = None  # (D,) bool: days in the result (preserved, or aligned in the final step)

    @property
    def days(self) -> list[Day]:
        """The final days (aligned, and preserved ones as they were), built from the run's work on first use."""
        if self._days is None:
            self._days = self.work.days(self.step, self.kept)
        return self._days

    _days: list[Day] | None = field(default=None, repr=False, compare=False)


# --- pure numerics ------------------------------------------------------------------------------------------------

def station_series(days: list[Day]) -> dict[str, tuple[np.ndarray, np.ndarray, list[tuple[int, int]]]]:
    """station -> (t, xyz (n, 3), [(day index, row)]) from a list of days."""
    acc: dict[str, list] = {}
    for d, day in enumerate(days):
        for r, stn in enumerate(day.stations):
            acc.setdefault(stn, []).append((day.fyear, day.xyz[r], (d, r)))
    return {s: (np.array([a[0] for a in v]), np.array([a[1] for a in v]), [a[2] for a in v]) for s, v in acc.items()}


def to_days(years, doys, stations: list[str], sol: Solutions, preserved=None, fyears=None) -> list[Day]:
    """Solutions in long form → one Day per day with rows (stations sorted)."""
    bounds = np.searchsorted(sol.day, np.arange(len(years) + 1))
    out = []
    for i, (y, d) in enumerate(zip(np.asarray(years).tolist(), np.asarray(doys).tolist())):
        lo, hi = bounds[i], bounds[i + 1]
        if lo == hi:
            continue
        fy = GnssDate.from_doy(y, d).fyear if fyears is None else float(fyears[i])
        out.append(Day(y, d, fy, [stations[s] for s in sol.stn[lo:hi].tolist()], sol.xyz[lo:hi].copy(),
                       bool(preserved[i]) if preserved is not None else False))
    return out
