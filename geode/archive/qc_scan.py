"""``geode scan qc``: the data-quality metrics of archive files (``geode.rinex.qc``) into ``rinex_qc``.

The coordinator walks the archive (the given stations and days), leaves out the files whose QC row already has
the current metric version (all of them with ``redo``), and hands the rest out in batches of consecutive files
(a day folder at a time: a unit loads that day's orbits once). Each file ends as a row (inserted, updated,
unchanged) or a problem with its reason: a file the metric code cannot read is reported, never stored and not
retried by the dispatch layer (a bad file is an answer, not a failure); a readable file without a ``rinex`` row
is reported too (``geode scan archive`` adds the row or says why it cannot).
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from pathlib import Path

from ..dates import GnssDate, doy_date
from ..errors import GeodeError, InputUnavailable, ServiceUnavailable
from .layout import ArchiveLayout, LayoutError
from .scan import ScanReport, walk

log = logging.getLogger("geode.archive")


@dataclass
class QCOutcome:
    path: str  # relative to the archive root
    status: str  # inserted | updated | unchanged | problem | transient
    reason: str = ""
    station: str = ""
    day: str = ""  # YYYY_DDD
    warnings: list[str] = field(default_factory=list)


@dataclass
class QCReport(ScanReport):
    """The outcomes (QCOutcome), files skipped as already measured, rinex rows without their file."""

    skipped: int = 0  # files whose QC row already had the current version (not dispatched)
    missing: list[QCOutcome] = field(default_factory=list)  # rinex rows without their archive file

    def count(self, status: str) -> int:
        extra = self.skipped if status == "unchanged" else len(self.missing) if status == "problem" else 0
        return super().count(status) + extra

    @property
    def problems(self) -> list[QCOutcome]:
        return super().problems + self.missing


def _yyyy_ddd(day: dt.date) -> str:
    return GnssDate.from_date(day).yyyy_ddd


def plan_qc(db, root: Path, layout: ArchiveLayout, stations: set[tuple[str, str]] | None,
            start: dt.date | None = None, end: dt.date | None = None, redo: bool = False,
            batch_size: int = 16) -> tuple[list[list[str]], int, list[QCOutcome]]:
    """(batches of relative paths to measure, files skipped as already done, rinex rows without a file).

    Files whose path does not fit the layout are left to ``geode scan archive`` (it reports them)."""
    from .qc_store import done_files, station_filter, station_params

    done = set() if redo else done_files(db, stations)
    todo, skipped, seen = [], 0, set()
    for rel in walk(root):
        try:
            entry = layout.parse(rel)
        except LayoutError:
            continue
        if stations is not None and (entry.network, entry.station) not in stations:
            continue
        if (start and entry.date < start) or (end and entry.date > end):
            continue
        key = (entry.network, entry.station, entry.name.rinex_name)
        seen.add(key)
        if key in done:
            skipped += 1
        else:
            todo.append(rel)
    missing = []
    for r in db.query('SELECT "NetworkCode", "StationCode", "ObservationYear", "ObservationDOY", "Filename" '
                      "FROM rinex r WHERE true" + station_filter("r", stations) + " ORDER BY 1, 2, 3, 4, 5",
                      station_params(stations)):
        day = doy_date(int(r["ObservationYear"]), int(r["ObservationDOY"]))
        if (start and day < start) or (end and day > end):
            continue
        if (r["NetworkCode"], r["StationCode"], r["Filename"]) not in seen:
            try:
                where = layout.row_path(r)
            except LayoutError:
                where = r["Filename"]
            missing.append(QCOutcome(where, "problem", "rinex row without its archive file (geode scan check)",
                                     f"{r['NetworkCode']}.{r['StationCode']}", _yyyy_ddd(day)))
    return [todo[i:i + batch_size] for i in range(0, len(todo), batch_size)], skipped, missing


class OrbitCache:
    """``orbits_for`` once per day within a unit; a product that cannot be used leaves the elevation metrics
    empty (with a warning), it never stops the QC of the files."""

    def __init__(self, settings):
        self.settings = settings
        self._days: dict[dt.date, tuple[object | None, str]] = {}

    def get(self, day: dt.date) -> tuple[object | None, str]:
        if day not in self._days:
            from ..rinex.qc import orbits_for

            try:
                self._days[day] = (orbits_for(day, self.settings), "")
            except ServiceUnavailable:  # not the product's fault: the unit stops (and is run again)
                raise
            except GeodeError as exc:  # a bad or unreadable product, a product search not configured
                self._days[day] = (None, f"orbits for {_yyyy_ddd(day)} not used ({exc}): elevation metrics "
                                         "left empty")
        return self._days[day]


def measure_file(db, root: Path, layout: ArchiveLayout, relpath: str, orbits: OrbitCache, *, redo: bool = False,
                 max_size: int | None = None) -> QCOutcome:
    """QC of one archive file into rinex_qc (see the module)."""
    from ..rinex.compression import RinexFileError
    from ..rinex.qc import QC_VERSION, qc_file
    from .qc_store import rinex_key, store_qc

    try:
        entry = layout.parse(relpath)
    except LayoutError as exc:
        return QCOutcome(relpath, "problem", str(exc).removeprefix(f"{relpath}: "))
    station, day = f"{entry.network}.{entry.station}", _yyyy_ddd(entry.date)
    filename = entry.name.rinex_name
    key = rinex_key(db, entry.network, entry.station, filename)
    if key is not None and key["qc_version"] == QC_VERSION and not redo:  # done meanwhile (a second delivery)
        return QCOutcome(relpath, "unchanged", "", station, day)
    product, note = orbits.get(entry.date)
    try:
        result = qc_file(root / relpath, orbits=product, max_size=max_size)
    except RinexFileError as exc:
        return QCOutcome(relpath, "problem", str(exc), station, day)
    except InputUnavailable as exc:
        return QCOutcome(relpath, "transient", str(exc), station, day)
    if key is None:
        return QCOutcome(relpath, "problem", "not in the rinex table (geode scan archive adds its row or says why "
                         "it cannot)", station, day)
    status = store_qc(db, entry.network, entry.station, filename, result)
    if status == "no row":  # the row went away while the file was measured
        return QCOutcome(relpath, "problem", "its rinex row was removed meanwhile", station, day)
    return QCOutcome(relpath, status, "", station, day, [note] if note else [])
