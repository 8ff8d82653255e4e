"""``geode scan ingest``: files dropped in ``<repository>/data_in`` go into the archive and the database.

Each file is one transaction, and the order of steps makes a crash at any point safe to re-run:

1. the archive copy is written under a temporary name next to its destination (never visible to scans);
2. inside the transaction (holding the station's advisory lock) the row is inserted and the copy renamed
   into place; then the transaction commits;
3. only then is the repository file deleted.

Killed before 3, the file is still in the repository; the re-run finds its row and an identical archive
copy and just deletes it. Killed before the commit, the row is not there and the re-run does it all again.
Two ingests at once serialise on the station lock, and the second sees the first one's row.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from ..dates import doy_date
from ..rinex.compression import RinexFileError, compress_bytes, read_plain
from ..rinex.names import RinexName, RinexNameError
from ..rinex.reader import rinex_info
from ..stations import DEFAULT_MAX_DIST
from .layout import ArchiveLayout, LayoutError
from .rows import lock_station, rinex_row, upsert_rinex
from .scan import TEMP_PREFIX

TEMP_REUSE_DIST = 100.0  # a temporary station within this distance is the same new station
REASON_SUFFIX = ".reason.txt"


@dataclass
class IngestOutcome:
    source: str  # relative to data_in
    status: str  # archived | already archived | temporary | locked | rejected | gone
    reason: str = ""
    station: str = ""
    destination: str = ""  # archive path, or the data_rejected path


@dataclass
class IngestReport:
    outcomes: list[IngestOutcome] = field(default_factory=list)
    failures: list[dict] = field(default_factory=list)
    released_locks: int = 0

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


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_temp(dest: Path, data: bytes) -> Path:
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.parent / f"{TEMP_PREFIX}{uuid.uuid4().hex[:12]}-{dest.name}"
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    return tmp


def reject(repository: Path, relpath: str, folder: str, reason: str) -> str:
    """Move a repository file to data_rejected/<folder>/ with a reason file next to it; returns the new path."""
    src = repository / "data_in" / relpath
    dest = repository / "data_rejected" / folder / relpath
    dest.parent.mkdir(parents=True, exist_ok=True)
    n = 1
    while dest.exists():  # never overwrite an earlier rejected file
        dest = dest.with_name(f"{Path(relpath).name}.{n}")
        n += 1
    dest.with_name(dest.name + REASON_SUFFIX).write_text(
        f"{relpath}: {reason}\nrejected {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M:%S} UTC\n", encoding="utf-8")
    os.replace(src, dest)
    return dest.relative_to(repository).as_posix()


def ingest_file(db, archive: Path, repository: Path, layout: ArchiveLayout, relpath: str) -> IngestOutcome:
    src = repository / "data_in" / relpath
    if not src.exists():
        return IngestOutcome(relpath, "gone", "already taken by another ingest")
    if db.query_one("SELECT 1 AS x FROM locks WHERE filename = %s", (relpath,)):
        return IngestOutcome(relpath, "locked", "waiting for its temporary station to join a network")
    try:
        return _ingest(db, archive, repository, layout, relpath, src)
    except Rejected as exc:
        if not src.exists():
            return IngestOutcome(relpath, "gone", "already taken by another ingest")
        where = reject(repository, relpath, exc.folder, exc.reason)
        return IngestOutcome(relpath, "rejected", exc.reason, destination=where)


def _ingest(db, archive: Path, repository: Path, layout: ArchiveLayout, relpath: str, src: Path) -> IngestOutcome:
    import psycopg2

    try:
        name = RinexName.parse(src.name)
    except RinexNameError as exc:
        raise Rejected("bad_name", str(exc)) from None
    try:
        plain = read_plain(src)
        info = rinex_info(plain)
    except RinexFileError as exc:
        raise Rejected("bad_rinex", str(exc)) from None
    if info.multiday:
        raise Rejected("multiday", f"epochs on {', '.join(sorted(info.epochs_per_day))}: split it per day")
    name_day = doy_date(name.year, name.doy)
    if info.date != name_day:
        raise Rejected("wrong_date", f"epochs centred on {info.date.isoformat()}, the name says {name_day.isoformat()}")
    xyz = info.header.approx_xyz
    if xyz is not None and math.hypot(*xyz) < 6.0e6:  # 0,0,0 or nonsense: no position to match on
        xyz = None
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
    tmp = _write_temp(dest, compress_bytes(plain, hatanaka=True, compression=name.archive_name.rsplit(".", 1)[1]))
    status = "archived"
    try:
        with db.transaction() as cur:
            lock_station(cur, network, code)
            cur.execute('SELECT 1 FROM rinex WHERE "NetworkCode" = %s AND "StationCode" = %s AND "Filename" = %s',
                        (network, code, row["Filename"]))
            if cur.fetchone() and dest.exists():
                if read_plain(dest) != plain:
                    raise Rejected("duplicate", f"a different file named {row['Filename']} is already archived at "
                                                f"{dest_rel}")
                status = "already archived"
            else:
                try:
                    upsert_rinex(cur, row)
                except psycopg2.IntegrityError:
                    raise Rejected("duplicate", "another file of this station-day with the same interval and "
                                                "completion is already archived") from None
                os.replace(tmp, dest)
                _fsync_dir(dest.parent)
    finally:
        if tmp.exists():
            tmp.unlink()
    src.unlink(missing_ok=True)  # only now: the file is safely in archive + database
    return IngestOutcome(relpath, status, "", f"{network}.{code}", dest_rel)


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


def ingest_repository(db, archive: Path, repository: Path, runner, progress=None, batch_size: int = 8) -> IngestReport:
    from . import tasks

    archive, repository = Path(archive), Path(repository)
    for sub in ("data_in", "data_rejected"):
        (repository / sub).mkdir(parents=True, exist_ok=True)
    report = IngestReport(released_locks=release_locks(db))
    files = pending_files(repository)
    batches = [files[i:i + batch_size] for i in range(0, len(files), batch_size)]
    summary = runner.map(tasks.ingest_files, [(str(archive), str(repository), b) for b in batches],
                         progress=progress, description="ingest: files", weight=lambda item: len(item[2]),
                         failed_units=lambda outcome: sum(o.status in ("rejected", "failed") for o in outcome.result))
    for outcome in summary.results:
        report.outcomes.extend(outcome.result)
    for f in summary.failures:
        report.failures.append({"unit": ", ".join(f.item[2][:3]), "message": f.message})
    report.outcomes.sort(key=lambda o: o.source)
    return report
