"""Dispatch tasks of ``geode scan``: a batch of archive files to scan and a batch of repository files to
ingest (queue ``io``), a batch of archive files to quality-check, one station's ocean loading and one
station-day's PPP (queue ``compute``). Batches
amortise the settings, layout and station lookups over several files; a file that fails unexpectedly is
reported (scan) or rejected with the error (ingest) and its batch goes on.

Imports go one way: ``run`` (the orchestration) → ``tasks`` → ``ingest`` / ``scan`` → ``rows`` / ``layout`` /
``staging``; nothing below imports this module.
"""

from __future__ import annotations

import logging
import traceback
from pathlib import Path

from ..errors import GeodeError
from ..jobs import task
from ..ppp.setup import PppSetup
from .ingest import (IngestOutcome, ingest_file, reject_unexpected, transient_reason, unexpected_reason,
                     unit_must_stop)
from .layout import ArchiveLayout
from .qc_scan import OrbitCache, QCOutcome, measure_file
from .scan import FileOutcome, known_stations, scan_file

log = logging.getLogger("geode.archive")


def _database():
    """This worker process's connection (tasks arrive by the thousand), re-opened after a server restart."""
    from ..db.live import shared_database

    return shared_database()


@task("geode.archive.scan_files", queue="io")
def scan_files(root: str, relpaths: list[str], max_size: int | None = None, qc: bool = False) -> list[FileOutcome]:
    """Scan a batch; with ``qc`` also measure the quality of each file stored (from the same read)."""
    db = _database()
    layout = ArchiveLayout.from_db(db)
    known = known_stations(db)
    orbits = _orbits() if qc else None
    out = []
    for rel in relpaths:
        try:
            out.append(scan_file(db, Path(root), layout, rel, known, max_size, orbits))
        except Exception as exc:  # one file never stops its batch; a lost database stops it (the unit is retried)
            if unit_must_stop(exc):
                raise
            out.append(_failed(FileOutcome, rel, exc, "scanning it"))
    return out


def _failed(outcome, rel: str, exc: Exception, doing: str):
    """The outcome (a FileOutcome or QCOutcome class) of a file that failed unexpectedly: transient when the
    cause is (a disk, the network), else a problem naming the bug."""
    log.debug("%s failed while %s:\n%s", rel, doing, traceback.format_exc())
    why = transient_reason(exc)
    return outcome(rel, "transient", why) if why else outcome(rel, "problem", unexpected_reason(doing, exc))


def _orbits() -> OrbitCache:
    from ..config import load_settings

    return OrbitCache(load_settings())


def _measure(db, root: Path, layout: ArchiveLayout, rel: str, orbits: OrbitCache, redo: bool,
             max_size: int | None) -> QCOutcome:
    try:
        return measure_file(db, root, layout, rel, orbits, redo=redo, max_size=max_size)
    except Exception as exc:  # as for scans: one file never stops its batch, a lost database stops it
        if unit_must_stop(exc):
            raise
        return _failed(QCOutcome, rel, exc, "measuring it")


@task("geode.archive.qc_files", queue="compute",
      label=lambda root, relpaths, *rest: f"{relpaths[0]}" + (f" +{len(relpaths) - 1}" if len(relpaths) > 1 else ""))
def qc_files(root: str, relpaths: list[str], redo: bool = False, max_size: int | None = None) -> list[QCOutcome]:
    """Quality metrics of a batch of archive files into rinex_qc (orbits loaded once per day)."""
    db = _database()
    layout = ArchiveLayout.from_db(db)
    orbits = _orbits()
    return [_measure(db, Path(root), layout, rel, orbits, redo, max_size) for rel in relpaths]


@task("geode.archive.ingest_files", queue="io")
def ingest_files(archive: str, repository: str, relpaths: list[str],
                 max_size: int | None = None) -> list[IngestOutcome]:
    db = _database()
    layout = ArchiveLayout.from_db(db)
    out = []
    for rel in relpaths:
        try:
            out.append(ingest_file(db, Path(archive), Path(repository), layout, rel, max_size))
        except Exception as exc:  # a bug: the file is set aside with the error, the batch goes on; a lost
            if unit_must_stop(exc):  # database stops it instead (the unit is retried once reconnected)
                raise
            log.debug("ingest %s failed:\n%s", rel, traceback.format_exc())
            out.append(reject_unexpected(Path(repository), rel, exc))
    return out


@task("geode.otl.station", queue="compute")
def otl_station(network: str, code: str, grdtab: str, otlgrid: str) -> dict:
    from ..otl import OtlTools, store_station

    return {"station": f"{network}.{code}", "harpos": store_station(_database(), network, code,
                                                                      OtlTools(grdtab, otlgrid))}


@task("geode.ppp.day", queue="compute")
def ppp_day(network: str, code: str, year: int, doy: int, setup: PppSetup) -> dict:
    """PPP for one station-day: run, check the position against the station, store ppp_soln."""
    from ..config import load_settings
    from ..ppp.engine import run_day
    from ..ppp.solutions import day_input, spatial_check, store

    settings = load_settings()
    db = _database()
    archive = settings.path("archive.path")
    if archive is None:
        raise GeodeError("[archive] path is not configured on this node")
    job, rec = day_input(db, archive, network, code, year, doy)
    sol = run_day(setup, job, settings.production_dir / "ppp")
    problem = spatial_check(db, network, code, sol.xyz)
    if problem:
        raise GeodeError(f"{problem} (not stored)")
    store(db, network, code, year, doy, sol, rec)
    return {"station": f"{network}.{code}", "day": f"{year}_{doy:03d}", "frame": sol.frame,
            "x": sol.xyz[0], "y": sol.xyz[1], "z": sol.xyz[2], "sigmas": list(sol.sigmas[:3]),
            "epochs": sol.epochs, "orbit": sol.orbit, "reruns": list(sol.reruns)}
