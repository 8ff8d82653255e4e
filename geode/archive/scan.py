"""``geode scan archive``: walk the archive, read every file, upsert its ``rinex`` row.

Every file ends as a row (inserted, updated, unchanged) or a problem with its reason: files that do not belong
(bad name, wrong folder, unknown station, unreadable, too large, multi-day, wrong day) never touch the
database, and nothing is deleted or moved by a scan. A file that could not be looked at for a reason outside it
(database or disk unavailable) is reported as ``transient``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import InputUnavailable
from ..rinex.compression import RinexFileError
from ..rinex.reader import read_rinex
from .layout import ArchiveLayout, LayoutError
from .rows import lock_station, rinex_row, store_warnings, upsert_rinex
from .staging import STAGING_DIR, TEMP_PREFIX


STATUSES = ("inserted", "updated", "unchanged", "problem", "transient")  # what becomes of a file, in report order


@dataclass
class FileOutcome:
    path: str  # relative to the archive root
    status: str  # inserted | updated | unchanged | problem | transient
    reason: str = ""
    station: str = ""
    warnings: list[str] = field(default_factory=list)  # header values that did not parse (stored with the row)
    qc: str = ""  # scan archive --qc, for a stored file: its rinex_qc status (inserted | updated | unchanged | problem)
    qc_reason: str = ""


@dataclass
class ScanReport:
    outcomes: list[FileOutcome] = field(default_factory=list)
    failures: list[dict] = field(default_factory=list)  # units (batches) that crashed

    def count(self, status: str) -> int:
        return sum(1 for o in self.outcomes if o.status == status)

    def counts(self) -> dict[str, int]:
        return {s: self.count(s) for s in STATUSES}

    @property
    def problems(self) -> list[FileOutcome]:
        return [o for o in self.outcomes if o.status == "problem"]

    @property
    def transient(self) -> list[FileOutcome]:
        return [o for o in self.outcomes if o.status == "transient"]

    @property
    def ok(self) -> bool:
        return not self.problems and not self.failures and not self.transient


def walk(root: Path) -> list[str]:
    """Every file under root, relative posix paths, sorted; macOS litter and ingest temp files skipped."""
    found = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d != STAGING_DIR)
        for name in sorted(files):
            if name == ".DS_Store" or name.startswith("._") or name.startswith(TEMP_PREFIX):
                continue
            found.append(Path(folder, name).relative_to(root).as_posix())
    return found


def scan_file(db, root: Path, layout: ArchiveLayout, relpath: str, known: set[tuple[str, str]],
              max_size: int | None = None, orbits=None) -> FileOutcome:
    """Scan one file into its rinex row; with ``orbits`` (a ``qc_scan.OrbitCache``: ``scan archive --qc``) also
    measure its quality, from the same read of the file, into rinex_qc."""
    try:
        entry = layout.parse(relpath)
    except LayoutError as exc:
        return FileOutcome(relpath, "problem", str(exc).removeprefix(f"{relpath}: "))
    station = f"{entry.network}.{entry.station}"
    if (entry.network, entry.station) not in known:
        return FileOutcome(relpath, "problem", f"station {station} is not in the database", station)
    try:
        info, qc, qc_note = _read(root / relpath, entry, max_size, orbits)
    except RinexFileError as exc:
        return FileOutcome(relpath, "problem", str(exc), station)
    except InputUnavailable as exc:
        return FileOutcome(relpath, "transient", str(exc), station)
    if info.multiday:
        days = ", ".join(sorted(info.epochs_per_day))
        return FileOutcome(relpath, "problem", f"multi-day file (epochs on {days}): split it per day", station)
    if info.date != entry.date:
        return FileOutcome(relpath, "problem", f"its epochs are centred on {info.date.isoformat()}, the name says "
                           f"{entry.date.isoformat()}", station)
    outcome = store_row(db, relpath, station, rinex_row(entry.network, entry.name, info), info.warnings)
    if orbits is not None and outcome.status in ("inserted", "updated", "unchanged"):
        if qc is None:
            outcome.qc, outcome.qc_reason = "problem", qc_note
        else:
            from .qc_store import store_qc

            outcome.qc = store_qc(db, entry.network, entry.station, entry.name.rinex_name, qc)
            if qc_note:
                outcome.warnings.append(qc_note)
    return outcome


def _read(path: Path, entry, max_size: int | None, orbits):
    """(RinexInfo, QCResult or None, note): one read of the file, with its QC when ``orbits`` is given. A bug
    in the metric code does not stop the file's scan: it is read again without QC, and the note says why."""
    if orbits is None:
        return read_rinex(path, max_size=max_size), None, ""
    from ..rinex.qc import qc_with_info

    product, note = orbits.get(entry.date)
    try:
        qc, info = qc_with_info(path, orbits=product, max_size=max_size)
    except (RinexFileError, InputUnavailable):
        raise
    except Exception as exc:
        from .ingest import unexpected_reason, unit_must_stop

        if unit_must_stop(exc):
            raise
        return read_rinex(path, max_size=max_size), None, unexpected_reason("measuring its quality", exc)
    return info, qc, note


def store_row(db, relpath: str, station: str, row: dict, warnings: dict[str, str]) -> FileOutcome:
    """Upsert one file's row and its header warnings under the station's lock."""
    import psycopg2

    try:
        with db.transaction() as cur:
            lock_station(cur, row["NetworkCode"], row["StationCode"])
            status = upsert_rinex(cur, row)
            store_warnings(cur, row, warnings, status)
    except psycopg2.IntegrityError:  # another file already holds this day/interval/completion
        return FileOutcome(relpath, "problem", "another file of this station-day has the same interval and "
                           "completion (rinex primary key)", station)
    return FileOutcome(relpath, status, "", station, [f"{k}: {v}" for k, v in sorted(warnings.items())])


def known_stations(db) -> set[tuple[str, str]]:
    return {(r["NetworkCode"], r["StationCode"]) for r in db.query('SELECT "NetworkCode", "StationCode" FROM stations')}


def scan_batch(db, root: Path, relpaths: list[str]) -> list[FileOutcome]:
    layout = ArchiveLayout.from_db(db)
    known = known_stations(db)
    return [scan_file(db, Path(root), layout, p, known) for p in relpaths]


def plan_batches(root: Path, layout: ArchiveLayout, stations: set[tuple[str, str]] | None,
                 batch_size: int = 16) -> list[list[str]]:
    """Files to scan, in batches of consecutive files (walk order), at most batch_size each.

    With a station list, files of other stations are skipped silently; files whose path cannot be parsed
    are scanned (and so reported) only when scanning everything: they belong to no station.
    """
    files = []
    for rel in walk(root):
        if stations is not None:
            try:
                entry = layout.parse(rel)
            except LayoutError:
                continue
            if (entry.network, entry.station) not in stations:
                continue
        files.append(rel)
    return [files[i:i + batch_size] for i in range(0, len(files), batch_size)]
