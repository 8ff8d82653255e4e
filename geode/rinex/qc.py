"""Data-quality metrics of one RINEX observation file, as teqc and G-Nut/Anubis report them.

The interface (``QCResult``, ``qc_file``, ``orbits_for``) is shared by the metric code here and by storage,
trends and reports (``geode scan qc``); the metric set's ``QC_VERSION`` is stored with every row so a change of
definition never mixes with older values in a trend.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import BinaryIO

QC_VERSION = 1


@dataclass(frozen=True)
class QCResult:
    """Metrics of one file. Keys of the per-signal maps are ``<system><band>`` ("G1", "G2", "R1", "E5", ...);
    ``None`` (or an absent key) means not measurable from this file, never a guess."""

    rinex_version: float
    interval: float  # s, the file's real sampling interval
    first_epoch: dt.datetime
    last_epoch: dt.datetime
    epochs_present: int
    epochs_expected: int  # over the file's day at its interval
    completeness: float  # percent, 100 * present / expected
    sats_mean: dict[str, float]  # system letter -> mean satellites tracked per epoch
    observations: int  # satellite-epochs with phase on two bands (what slips are counted over)
    mp_rms: dict[str, float]  # band key -> code multipath RMS (m), arc-wise mean removed
    mp_signal: dict[str, str]  # band key -> the RINEX code observable the MP value was computed from
    slips: int  # cycle slips (geometry-free and Melbourne-Wuebbena), gaps not counted
    obs_per_slip: float | None  # teqc's o/slps; None when there was no slip
    slips_per_1000: float
    sat_gaps: int  # breaks in a satellite's arc while the receiver kept recording epochs
    epoch_gaps: int  # breaks in the epoch sequence (missing epochs, the receiver recorded nothing)
    snr_mean: dict[str, float]  # band key -> mean SNR (dB-Hz)
    clock_jumps: int  # receiver millisecond clock jumps
    elev_completeness: float | None = None  # percent of expected observations above 10 deg; None without orbits
    mp_by_elevation: dict[str, dict[int, float]] | None = None  # band key -> {bin floor (deg): RMS m}
    orbit_source: str | None = None  # the orbit/navigation file used, when there was one
    version: int = QC_VERSION
    extra: dict = field(default_factory=dict)  # further diagnostics, stored but not trended

    @property
    def mp1(self) -> float | None:
        """teqc's MP1 (GPS L1)."""
        return self.mp_rms.get("G1")

    @property
    def mp2(self) -> float | None:
        """teqc's MP2 (GPS L2)."""
        return self.mp_rms.get("G2")

    def to_json(self) -> dict:
        """A JSON-able dict (datetimes as ISO strings, int keys as strings)."""
        d = asdict(self)
        d["first_epoch"] = self.first_epoch.isoformat()
        d["last_epoch"] = self.last_epoch.isoformat()
        if self.mp_by_elevation is not None:
            d["mp_by_elevation"] = {k: {str(b): v for b, v in bins.items()}
                                    for k, bins in self.mp_by_elevation.items()}
        return d

    @classmethod
    def from_json(cls, d: dict) -> "QCResult":
        d = dict(d)
        d["first_epoch"] = dt.datetime.fromisoformat(d["first_epoch"])
        d["last_epoch"] = dt.datetime.fromisoformat(d["last_epoch"])
        if d.get("mp_by_elevation") is not None:
            d["mp_by_elevation"] = {k: {int(b): v for b, v in bins.items()}
                                    for k, bins in d["mp_by_elevation"].items()}
        return cls(**d)


def qc_file(src: Path | str | BinaryIO, *, orbits=None, max_size: int | None = None) -> QCResult:
    """The metrics of one observation file (RINEX 2.11, 3.x, 4.x, any compression ``open_rinex`` takes).

    ``orbits``: what ``orbits_for`` returned for the file's day, or None (elevation fields stay None).
    A file that cannot be read raises ``RinexFileError`` (a BadInput) naming why.

    Definitions (``geode.rinex.qc_metrics``): code multipath MPi = Ci - Phi_i - 2 fj^2/(fi^2 - fj^2)(Phi_i - Phi_j)
    with arc-wise mean removal (teqc: Estey & Meertens 1999, GPS Solutions 3(1):42-49; Anubis: Vaclavovic &
    Dousa 2016, IAG Symposia 143:775-782); cycle slips from geometry-free and Melbourne-Wuebbena (Blewitt 1990,
    GRL 17(3):199-202) jumps, gaps apart; receiver millisecond clock jumps."""
    from .observations import read_observations
    from .qc_metrics import qc_observations, select_signals

    obs = read_observations(src, max_size=max_size, select=select_signals, plain_text=False)
    return qc_observations(obs, orbits=orbits)


def qc_with_info(src: Path | str | BinaryIO, *, orbits=None, max_size: int | None = None):
    """``(qc_file(src), read_rinex(src))`` from one read of the file (``scan archive --qc`` needs both; for
    Compact RINEX, crx2rnx runs beside the decoding only for the plain text's digest and size)."""
    from .observations import read_observations
    from .qc_metrics import qc_observations, select_signals

    obs = read_observations(src, max_size=max_size, select=select_signals)
    return qc_observations(obs, orbits=orbits), obs.info()


def orbits_for(day: dt.date, settings) -> object | None:
    """Satellite positions for ``day`` from the product archive (broadcast navigation or SP3 through
    ``geode.products``), or None when none is available."""
    from .orbits import orbits_for as find

    return find(day, settings)
