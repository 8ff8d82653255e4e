"""``geode scan ingest``: files dropped in ``<repository>/data_in`` go into the archive and the database.

Every file ends one of three ways: archived (with its ``rinex`` row), rejected into
``data_rejected/<reason>/`` with a ``.reason.txt`` next to it, or left in ``data_in`` for a reason that is not
the file's (its station is new and waits for a network; the database or a disk was unavailable: "transient").
A file that cannot be read is never left to fail again on every run.

Each file is one transaction, and the order of steps makes a crash at any point safe to re-run:

1. the archive copy is written under a temporary name in ``<archive>/.geode-ingest/`` (locked by its writer,
   never visible to scans, removed on every failure path; see ``staging``);
2. inside the transaction (holding the station's advisory lock) the row is inserted and the copy renamed
   into place; then the transaction commits;
3. only then is the repository file deleted.

Killed before 3, the file is still in the repository; the re-run finds its row and an identical archive
copy and just deletes it. Killed before the commit, the row is not there and the re-run does it all again;
the killed run's temporary file is stale (nobody holds its lock) and the next ingest removes it.
Two ingests at once serialise on the station lock, and the second sees the first one's row.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import math
import os
from dataclasses import dataclass, field
from pathlib import Path

from ..dates import doy_date
from ..db.live import connection_lost
from ..errors import BadInput, InputUnavailable, ServiceUnavailable
from ..rinex.compression import RinexFileError, plain_digest, write_archive_copy
from ..rinex.names import RinexName
from ..rinex.reader import read_rinex
from ..stations import DEFAULT_MAX_DIST
from .layout import ArchiveLayout, LayoutError
from .rows import lock_station, rinex_row, store_warnings, upsert_rinex
from .staging import staged_file

TEMP_REUSE_DIST = 100.0  # a temporary station within this distance is the same new station
REASON_SUFFIX = ".reason.txt"


@dataclass
class IngestOutcome:
    source: str  # relative to data_in
    status: str  # archived | already archived | temporary | locked | rejected | transient | gone
    reason: str = ""
    station: str = ""
    destination: str = ""  # archive path, or the data_rejected path
    warnings: list[str] = field(default_factory=list)  # header values that did not parse (stored with the row)


@dataclass
class IngestReport:
    outcomes: list[IngestOutcome] = field(default_factory=list)
    failures: list[dict] = field(default_factory=list)
    released_locks: int = 0
    stale_removed: list[str] = field(default_factory=list)  # temporary files of killed ingests, now removed

    def count(self, status: str) -> int:
        return sum(1 for o in self.outcomes if o.status == status)


class Rejected(Exception):
    def __init__(self, folder: str, reason: str):
        super().__init__(reason)
        self.folder, self.reason = folder, reason


def temporary_networks():
    """GeoDE's temporary network codes, in the order they are used: ???, ??0..??f, ?10..?ff."""
    yield "???"
    for i in range(256):
        yield format(i, "x").rjust(3, "?")


def _station_xyz(row) -> tuple[float, float, float] | None:
    if row["auto_x"] is None or row["auto_y"] is None or row["auto_z"] is None:
        return None
    return float(row["auto_x"]), float(row["auto_y"]), float(row["auto_z"])


def match_station(db, code: str, xyz) -> tuple[str, str] | None:
    """The known (non-temporary) station this file belongs to, None for a new station; Rejected on a conflict."""
    rows = db.query('SELECT "NetworkCode", "StationCode", auto_x, auto_y, auto_z, max_dist FROM stations '
                    'WHERE "StationCode" = %s AND "NetworkCode" NOT LIKE %s ORDER BY "NetworkCode"', (code, "?%"))
    near, far = [], []
    for r in rows:
        where = _station_xyz(r)
        limit = float(r["max_dist"] or DEFAULT_MAX_DIST)
        distance = None if xyz is None or where is None else math.dist(xyz, where)
        if distance is None or distance <= limit:
            near.append(r)
        else:
            far.append((r, distance, limit))
    if len(near) == 1:
        return near[0]["NetworkCode"], code
    if len(near) > 1:
        names = ", ".join(f"{r['NetworkCode']}.{code}" for r in near)
        raise Rejected("station_conflict", f"matches several stations ({names}); move it by hand")
    if far:
        r, d, limit = far[0]
        raise Rejected("station_conflict", f"approximate position is {d:.0f} m from {r['NetworkCode']}.{code} "
                                           f"(max_dist {limit:.0f} m)")
    return None


def _temporary_station(cur, code: str, xyz, relpath: str) -> str:
    """Find or create the temporary station for a new marker and lock the file to it; returns 'net.stn'."""
    from ..geodesy.coordinates import xyz2lla

    cur.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"temporary-station:{code}",))
    cur.execute('SELECT "NetworkCode", auto_x, auto_y, auto_z FROM stations WHERE "StationCode" = %s '
                'AND "NetworkCode" LIKE %s ORDER BY "NetworkCode"', (code, "?%"))
    taken = set()
    network = None
    for r in cur.fetchall():
        taken.add(r["NetworkCode"])
        where = _station_xyz(r)
        if network is None and (xyz is None or where is None or math.dist(xyz, where) <= TEMP_REUSE_DIST):
            network = r["NetworkCode"]
    if network is None:
        network = next((n for n in temporary_networks() if n not in taken), None)
        if network is None:
            raise Rejected("station_conflict", f"every temporary network already has a station {code}")
        cur.execute('INSERT INTO networks ("NetworkCode", "NetworkName") VALUES (%s, %s) '
                    'ON CONFLICT ("NetworkCode") DO NOTHING', (network, "Temporary network for new stations"))
        lat = lon = h = None
        if xyz is not None:
            lat, lon, h = xyz2lla(*xyz)
        cur.execute('INSERT INTO stations ("NetworkCode", "StationCode", auto_x, auto_y, auto_z, lat, lon, height, '
                    'max_dist) VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s) ON CONFLICT DO NOTHING',
                    (network, code, *(xyz or (None, None, None)), lat, lon, h, DEFAULT_MAX_DIST))
    cur.execute('INSERT INTO locks (filename, "NetworkCode", "StationCode") VALUES (%s, %s, %s) '
                'ON CONFLICT (filename) DO UPDATE SET "NetworkCode" = EXCLUDED."NetworkCode", '
                '"StationCode" = EXCLUDED."StationCode"', (relpath, network, code))
    return f"{network}.{code}"


TRANSIENT_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EIO, errno.EROFS, errno.ENOMEM, errno.EMFILE,
                    errno.ENFILE, errno.ESTALE, errno.ETIMEDOUT, errno.EAGAIN}


def unit_must_stop(exc: BaseException) -> bool:
    """A lost connection or an unreachable database: not one file's problem. The unit stops and the dispatch
    layer reconnects and runs it again, or ends the run with 69 (geode.jobs.units.call_unit)."""
    return connection_lost(exc) or isinstance(exc, ServiceUnavailable)


def transient_reason(exc: BaseException) -> str | None:
    """Why a file could not be processed for a reason that is not the file's (the database refused the work,
    disk full, I/O error): the file stays in data_in for the next run. None for anything else. (A connection
    lost mid-unit is not handled here: the unit is run again once reconnected, see geode.jobs.units.)"""
    try:
        import psycopg2
        database_errors: tuple = (psycopg2.OperationalError, psycopg2.InterfaceError)
    except ImportError:  # pragma: no cover - psycopg2 is a dependency
        database_errors = ()
    if database_errors and isinstance(exc, database_errors):
        first = (str(exc).strip().splitlines() or ["connection lost"])[0]
        return f"database unavailable ({first})"
    if isinstance(exc, InputUnavailable):
        return str(exc)
    if isinstance(exc, OSError):
        return f"disk problem: {exc.strerror or exc}" + (f" ({exc.filename})" if exc.filename else "")
    return None


def reject(repository: Path, relpath: str, folder: str, reason: str) -> str:
    """Move a repository file to data_rejected/<folder>/ with a reason file next to it; returns the new path."""
    src = repository / "data_in" / relpath
    dest = repository / "data_rejected" / folder / relpath
    dest.parent.mkdir(parents=True, exist_ok=True)
    n = 1
    while dest.exists():  # never overwrite an earlier rejected file
        dest = dest.with_name(f"{Path(relpath).name}.{n}")
        n += 1
    note = dest.with_name(dest.name + REASON_SUFFIX)
    try:
        note.write_text(f"{relpath}: {reason}\nrejected {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M:%S} UTC\n",
                        encoding="utf-8")
        os.replace(src, dest)
    except BaseException:
        with contextlib.suppress(OSError):
            note.unlink()
        raise
    return dest.relative_to(repository).as_posix()


def ingest_file(db, archive: Path, repository: Path, layout: ArchiveLayout, relpath: str,
                max_size: int | None = None) -> IngestOutcome:
    """One repository file: archived, rejected with a reason, or kept (temporary station, locked, transient)."""
    src = repository / "data_in" / relpath
    if not src.exists():
        return IngestOutcome(relpath, "gone", "already taken by another ingest")
    try:
        if db.query_one("SELECT 1 AS x FROM locks WHERE filename = %s", (relpath,)):
            return IngestOutcome(relpath, "locked", "waiting for its temporary station to join a network")
        return _ingest(db, archive, repository, layout, relpath, src, max_size)
    except Rejected as exc:
        if not src.exists():
            return IngestOutcome(relpath, "gone", "already taken by another ingest")
        try:
            where = reject(repository, relpath, exc.folder, exc.reason)
        except OSError as err:
            return IngestOutcome(relpath, "transient", f"{exc.reason}; but it could not be moved to data_rejected "
                                 f"({transient_reason(err)}): left in data_in")
        return IngestOutcome(relpath, "rejected", exc.reason, destination=where)
    except Exception as exc:
        why = None if unit_must_stop(exc) else transient_reason(exc)
        if why is None:
            raise
        return IngestOutcome(relpath, "transient", f"{why}: left in data_in, the next run retries it")


def unexpected_reason(doing: str, exc: BaseException) -> str:
    """Why a file failed in an unforeseen way (a bug in geode), in one line for the bug report."""
    return (f"unexpected error while {doing} (a bug in geode: please report it with this file): "
            f"{type(exc).__name__}: {exc}".splitlines()[0])


def reject_unexpected(repository: Path, relpath: str, exc: BaseException) -> IngestOutcome:
    """A file that made the ingest fail in an unforeseen way (a bug): rejected into data_rejected/unexpected_error/
    so it cannot stop every later run, with the error in its reason file for the bug report."""
    reason = unexpected_reason("ingesting it", exc)
    src = repository / "data_in" / relpath
    if not src.exists():
        return IngestOutcome(relpath, "gone", "already taken by another ingest")
    try:
        where = reject(repository, relpath, "unexpected_error", reason)
    except OSError as err:
        return IngestOutcome(relpath, "transient", f"{reason}; it could not be moved to data_rejected "
                             f"({transient_reason(err)}): left in data_in")
    return IngestOutcome(relpath, "rejected", reason, destination=where)


def _read(fh, max_size: int | None):
    try:
        return read_rinex(fh, max_size=max_size)
    except RinexFileError as exc:
        raise Rejected(exc.folder, str(exc)) from None


def _ingest(db, archive: Path, repository: Path, layout: ArchiveLayout, relpath: str, src: Path,
            max_size: int | None) -> IngestOutcome:
    import psycopg2

    try:
        name = RinexName.parse(src.name)
    except BadInput as exc:
        raise Rejected(exc.folder, str(exc)) from None
    try:
        fh = open(src, "rb")
    except FileNotFoundError:
        return IngestOutcome(relpath, "gone", "already taken by another ingest")
    except OSError as exc:
        raise InputUnavailable(f"cannot read: {exc.strerror or exc}") from None
    with fh:
        info = _read(fh, max_size)
        if info.multiday:
            raise Rejected("multiday", f"epochs on {', '.join(sorted(info.epochs_per_day))}: split it per day")
        name_day = doy_date(name.year, name.doy)
        if info.date != name_day:
            raise Rejected("wrong_date", f"epochs centred on {info.date.isoformat()}, the name says "
                                         f"{name_day.isoformat()}")
        xyz = info.header.approx_xyz  # None when absent, zero, unreadable or not on the Earth
        match = match_station(db, name.station, xyz)
        if match is None:
            with db.transaction() as cur:
                station = _temporary_station(cur, name.station, xyz, relpath)
            return IngestOutcome(relpath, "temporary", "unknown station: kept in data_in, locked to a temporary "
                                 "station until it joins a network", station)
        network, code = match
        try:
            dest_rel = layout.path(network, name)
        except LayoutError as exc:
            raise Rejected("bad_name", str(exc)) from None
        dest = archive / dest_rel
        row = rinex_row(network, name, info)
        warnings = [f"{key}: {text}" for key, text in sorted(info.warnings.items())]
        status = "archived"
        with staged_file(archive, dest) as staged:
            try:
                write_archive_copy(fh, staged.file, name.archive_name.rsplit(".", 1)[1], max_size)
            except RinexFileError as exc:
                raise Rejected(exc.folder, str(exc)) from None
            with db.transaction() as cur:
                lock_station(cur, network, code)
                cur.execute('SELECT 1 FROM rinex WHERE "NetworkCode" = %s AND "StationCode" = %s AND '
                            '"Filename" = %s', (network, code, row["Filename"]))
                if cur.fetchone() and dest.exists():
                    if _archived_digest(dest, max_size) != info.digest:
                        raise Rejected("duplicate", f"a different file named {row['Filename']} is already archived "
                                                    f"at {dest_rel}")
                    status = "already archived"
                else:
                    try:
                        result = upsert_rinex(cur, row)
                    except psycopg2.IntegrityError:
                        raise Rejected("duplicate", "another file of this station-day with the same interval and "
                                                    "completion is already archived") from None
                    store_warnings(cur, row, info.warnings, result)
                    staged.commit()
    src.unlink(missing_ok=True)  # only now: the file is safely in archive + database
    return IngestOutcome(relpath, status, "", f"{network}.{code}", dest_rel, warnings)


def _archived_digest(dest: Path, max_size: int | None) -> str | None:
    try:
        return plain_digest(dest, max_size)
    except RinexFileError:
        return None  # a damaged archive copy is not this file


def pending_files(repository: Path) -> list[str]:
    data_in = repository / "data_in"
    found = []
    for folder, dirs, files in os.walk(data_in):
        dirs.sort()
        for fname in sorted(files):
            if fname.startswith(".") or fname.endswith(REASON_SUFFIX):
                continue
            found.append(Path(folder, fname).relative_to(data_in).as_posix())
    return found


def release_locks(db) -> int:
    """Locks of temporary stations that have since joined a real network (ON UPDATE CASCADE moved them)."""
    return db.execute('DELETE FROM locks WHERE "NetworkCode" IS NOT NULL AND "NetworkCode" NOT LIKE %s', ("?%",))
