"""Run NRCan PPP for one station-day, with GeoDE's reruns.

A run that ends without ``*END - NORMAL COMPLETION`` fails; Fortran's "End of file" error (the engine trips on
it now and then) is retried once. A NaN estimate or zero processed epochs is rerun with clock interpolation
(only after 2001-05-01, when Selective Availability ended); a NaN pole is rerun without the ERP file.
Each attempt has a fresh folder under the node's scratch space, removed afterwards.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

from ..stationinfo import StationInfoRecord
from .rundir import RunOptions, Staged, stage, with_station_info
from .setup import PppSetup
from .summary import PppEopError, PppError, PppNoEstimate, PppSummary, parse_summary

TIMEOUT = 600.0  # seconds for one engine run (a day of 30 s data takes well under a minute)
NORMAL_END = "*END - NORMAL COMPLETION"
FORTRAN_EOF = "Fortran runtime error: End of file"
SA_OFF = dt.date(2001, 5, 1)  # clock interpolation is meaningless while Selective Availability was on


@dataclass(frozen=True)
class DayInput:
    station: str  # the 4-character code
    day: dt.date
    rinex_file: str  # absolute path of the archived file (any compression)
    interval: float
    otl: str  # HARPOS text
    record: StationInfoRecord  # the day's station information, antenna height as DHARP


@dataclass(frozen=True)
class PppSolution:
    frame: str
    xyz: tuple[float, float, float]
    sigmas: tuple[float, float, float, float, float, float]
    orbit: str
    epochs: int
    rejected: int
    engine_frame: str
    reruns: tuple[str, ...]  # why the run was repeated, if it was


def _execute(setup: PppSetup, staged: Staged) -> str:
    """Run the engine in its folder; the .sum text, or PppError with the engine's last words."""
    from ..jobs import run_subprocess

    stdin = (staged.root / "input.inp").read_text()
    for attempt in range(2):
        done = run_subprocess([setup.exe], cwd=staged.root, timeout=TIMEOUT, stdin_text=stdin)
        if NORMAL_END in done.output:
            break
        if FORTRAN_EOF in done.output and attempt == 0:
            continue
        last = [line for line in done.output.strip().splitlines() if line.strip()]
        raise PppError(f"PPP ended abnormally (exit {done.returncode}): {last[-1].strip() if last else 'no output'}")
    summary = staged.root / (staged.rinex[:-3] + "sum")
    if not summary.is_file():
        raise PppError(f"PPP reported normal completion but wrote no {summary.name}")
    return summary.read_text(errors="replace")


def _remove_horizontal_offset(summary: PppSummary, north: float, east: float) -> tuple[float, float, float]:
    """PPP is given the antenna height only, so its position is the ARP moved by the north/east offset."""
    if not north and not east:
        return summary.xyz
    from ..geodesy.coordinates import neu2xyz, xyz2lla

    lat, lon, _ = xyz2lla(*summary.xyz)
    dx, dy, dz = neu2xyz([north, east, 0.0], lat, lon)
    x, y, z = summary.xyz
    return (x - float(dx), y - float(dy), z - float(dz))


def run_day(setup: PppSetup, job: DayInput, scratch: Path) -> PppSolution:
    from ..dates import GnssDate
    from ..rinex.compression import read_plain
    from ..rinex.convert import to_rinex2

    day = GnssDate.from_date(job.day)
    frame = setup.frame_for(day)
    rinex2 = with_station_info(to_rinex2(read_plain(Path(job.rinex_file)), day=job.day,
                                         decimate_to=30.0 if job.interval < 15 else None), job.station, job.record)
    options, reruns = RunOptions(), []
    scratch.mkdir(parents=True, exist_ok=True)
    while True:
        with tempfile.TemporaryDirectory(prefix="ppp-", dir=scratch) as tmp:
            staged = stage(Path(tmp), setup, frame, day, job.station, rinex2, job.otl, job.record.antenna_height,
                           options)
            try:
                summary = parse_summary(_execute(setup, staged))
                break
            except PppNoEstimate as exc:
                if options.clock_interpolation or job.day < SA_OFF:
                    raise
                reruns.append(f"{exc}; rerun with clock interpolation")
                options = replace(options, clock_interpolation=True)
            except PppEopError as exc:
                if not options.use_erp:
                    raise
                reruns.append(f"{exc}; rerun without it")
                options = replace(options, use_erp=False)
    return PppSolution(frame.name, _remove_horizontal_offset(summary, job.record.antenna_north,
                                                             job.record.antenna_east),
                       summary.sigmas, staged.orbit, summary.epochs, summary.rejected, summary.frame, tuple(reruns))

