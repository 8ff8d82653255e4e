"""Station management (``geode station``): list, show, add, move, rename, merge, delete; and station-info
proposals from RINEX headers (``geode scan stninfo --propose``).

Move, rename and merge (GeoDE's IntegrityCheck ``-r``) and delete work one station at a time, each in ONE
database transaction:

* every table with "NetworkCode" and "StationCode" columns follows (found in the catalog, so GeoDE's tables,
  geode's and tables added later alike), referenced tables before the tables referencing them; the
  sub-network partitions (gamit_subnets.stations/ties) are renamed too;
* archive files follow: each is hard-linked (or copied) to its new place (new network folder, new code in
  its name) BEFORE the transaction commits, and removed from its old place after; the transaction records
  the removals still to do in ``station_changes``, so a crash between the commit and the removals is
  finished by the next ``geode station`` command (and a crash before the commit leaves only the new links,
  which re-running the same command reuses);
* a station that joins a real network releases the locks of its files waiting in data_in
  (``geode scan ingest`` then archives them);
* a merge that would put two rows on one key (the same day in both stations, overlapping station-info
  records...) is refused and the clashes listed, unless ``keep_destination``: then the source's clashing
  rows are dropped and their files moved to ``<repository>/data_rejected/merged/``;
* delete moves the station's archive files (and files waiting in data_in) to
  ``<repository>/data_rejected/deleted_station/<net>.<stn>/`` unless ``purge_files``.

``plan_*`` compute what would change without changing anything (``--dry-run``); ``apply`` does it.
Nothing here prints: the CLI renders the plans and results.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .errors import GeodeError, UsageError
from .stations import StationRef

_NET = re.compile(r"[a-z0-9?]{1,3}", re.ASCII)
_STN = re.compile(r"[a-z0-9]{4}", re.ASCII)
ARRAY_COLUMNS = {"gamit_subnets": ("stations", "ties")}  # 'net.stn' arrays that follow a station


class StationAdminError(GeodeError):
    """A station change that cannot be made as asked (the message says why; nothing was changed)."""


# --- naming stations ------------------------------------------------------------------------------------------------

def parse_ref(text: str) -> tuple[str | None, str]:
    """'net.stn' -> (net, stn); 'stn' -> (None, stn). Temporary networks ('???.tand') are allowed here."""
    raw = (text or "").strip()
    net, dot, stn = raw.rpartition(".")
    net, stn = (net.lower() if dot else None), stn.lower()
    if dot and not _NET.fullmatch(net or ""):
        raise UsageError(f"bad network code {net!r} in {raw!r}: up to 3 letters, digits or ?")
    if not _STN.fullmatch(stn):
        raise UsageError(f"bad station code {stn!r} in {raw!r}: 4 letters or digits")
    return net, stn


def resolve(db, text: str) -> StationRef:
    """An existing station named 'net.stn' (temporary networks included) or by a code unique in the database."""
    net, stn = parse_ref(text)
    if net is not None:
        if not db.query_one('SELECT 1 AS x FROM stations WHERE "NetworkCode" = %s AND "StationCode" = %s',
                            (net, stn)):
            raise UsageError(f"unknown station {net}.{stn}")
        return StationRef(net, stn)
    rows = db.query('SELECT "NetworkCode" FROM stations WHERE "StationCode" = %s ORDER BY 1', (stn,))
    if not rows:
        raise UsageError(f"unknown station {stn}")
    if len(rows) > 1:
        raise UsageError(f"station {stn} exists in several networks ({', '.join(r['NetworkCode'] for r in rows)}): "
                         "write NET.STN")
    return StationRef(rows[0]["NetworkCode"], stn)


def is_temporary(network: str) -> bool:
    return network.startswith("?")


# --- the catalog: which tables follow a station -------------------------------------------------------------------

@dataclass(frozen=True)
class StationTable:
    name: str
    keys: tuple[tuple[str, ...], ...]  # unique keys that include the station columns, without them
    parents: tuple[str, ...]  # station tables this one references (updated first)


def station_tables(db) -> list[StationTable]:
    """Tables with "NetworkCode" and "StationCode" (but ``stations``), parents before children."""
    names = [r["table_name"] for r in db.query(
        "SELECT c.table_name FROM information_schema.columns c JOIN information_schema.tables t "
        "ON t.table_schema = c.table_schema AND t.table_name = c.table_name "
        "WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE' "
        "AND c.column_name IN ('NetworkCode', 'StationCode') AND c.table_name NOT IN ('stations', 'networks') "
        "GROUP BY c.table_name HAVING count(*) = 2 ORDER BY c.table_name")]
    keys: dict[str, list[tuple[str, ...]]] = {n: [] for n in names}
    for r in db.query(
            "SELECT cl.relname AS tbl, array_agg(a.attname::text ORDER BY a.attnum) AS cols FROM pg_index i "
            "JOIN pg_class cl ON cl.oid = i.indrelid JOIN pg_namespace ns ON ns.oid = cl.relnamespace "
            "JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) "
            "WHERE ns.nspname = current_schema() AND i.indisunique AND cl.relname = ANY(%s) "
            "GROUP BY cl.relname, i.indexrelid", (names,)):
        cols = tuple(r["cols"])
        if "NetworkCode" in cols and "StationCode" in cols:
            keys[r["tbl"]].append(tuple(c for c in cols if c not in ("NetworkCode", "StationCode")))
    parents: dict[str, set[str]] = {n: set() for n in names}
    for r in db.query(
            "SELECT c.relname AS child, p.relname AS parent FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid "
            "JOIN pg_class p ON p.oid = k.confrelid JOIN pg_namespace ns ON ns.oid = c.relnamespace "
            "WHERE k.contype = 'f' AND ns.nspname = current_schema() AND c.relname = ANY(%s) "
            "AND p.relname = ANY(%s) AND c.relname <> p.relname", (names, names)):
        parents[r["child"]].add(r["parent"])
    ordered: list[str] = []
    todo = set(names)
    while todo:  # parents first; a cycle (never in GeoDE's schema) falls back to name order
        ready = sorted(n for n in todo if not (parents[n] & todo)) or sorted(todo)[:1]
        ordered += ready
        todo -= set(ready)
    return [StationTable(n, tuple(keys[n]), tuple(sorted(parents[n]))) for n in ordered]


def _ident(name: str):
    from psycopg2 import sql

    return sql.Identifier(name)


def _where_station(alias: str = ""):
    from psycopg2 import sql

    a = sql.SQL(alias + ".") if alias else sql.SQL("")
    return sql.SQL('{a}"NetworkCode" = %s AND {a}"StationCode" = %s').format(a=a)


def row_counts(db, ref: StationRef, tables: list[StationTable] | None = None) -> dict[str, int]:
    """Rows of each station table that belong to ``ref`` (the stations row itself under 'stations')."""
    from psycopg2 import sql

    tables = tables if tables is not None else station_tables(db)
    counts = {"stations": int(db.query_one('SELECT count(*) AS n FROM stations WHERE "NetworkCode" = %s AND '
                                           '"StationCode" = %s', (ref.network, ref.code))["n"])}
    with db.transaction() as cur:
        for t in tables:
            cur.execute(sql.SQL("SELECT count(*) AS n FROM {} WHERE ").format(_ident(t.name)) + _where_station(),
                        (ref.network, ref.code))
            counts[t.name] = int(cur.fetchone()["n"])
    return counts


def _clash_sql(table: StationTable, key: tuple[str, ...]):
    """SQL true for a source row (alias s) whose key the destination already holds; params: dst net, dst stn."""
    from psycopg2 import sql

    same = [sql.SQL("d.{c} IS NOT DISTINCT FROM s.{c}").format(c=_ident(c)) for c in key]
    cond = sql.SQL(" AND ").join([_where_station("d"), *same])
    return sql.SQL("EXISTS (SELECT 1 FROM {t} d WHERE {cond})").format(t=_ident(table.name), cond=cond)


# --- archive files --------------------------------------------------------------------------------------------------

def station_files(root: Path, layout, ref: StationRef) -> dict[str, str]:
    """The station's files in the archive: {plain RINEX name (rinex.Filename): relative path}."""
    from .archive.layout import LayoutError
    from .archive.scan import walk

    base = root
    prefix = ""
    if layout.levels and layout.levels[0].key == "network":  # only its network's folder needs walking
        base, prefix = root / ref.network.lower(), ref.network.lower() + "/"
        if not base.is_dir():
            return {}
    found = {}
    for rel in walk(base):
        rel = prefix + rel
        try:
            entry = layout.parse(rel)
        except LayoutError:
            continue
        if entry.network == ref.network and entry.station == ref.code:
            found[entry.name.rinex_name] = rel
    return found


@dataclass
class FileMove:
    old: str  # absolute path
    new: str | None  # absolute path; None: removed without a copy (delete --purge-files)
    why: str = "follows"  # follows | merged away | deleted


@dataclass
class Clash:
    table: str
    rows: int
    detail: str


@dataclass
class StationPlan:
    action: str  # move | rename | merge | delete
    source: str
    destination: str | None
    rows: dict[str, int] = field(default_factory=dict)  # rows of the source per table (all of them change)
    clashes: list[Clash] = field(default_factory=list)  # merge: source rows whose key the destination holds
    files: list[FileMove] = field(default_factory=list)
    locks_released: int = 0  # files waiting in data_in whose station joins a real network
    notes: list[str] = field(default_factory=list)
    keep_destination: bool = False
    purge_files: bool = False

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())

    def as_dict(self) -> dict:
        d = asdict(self)
        d["total_rows"] = self.total_rows
        return d


@dataclass
class Context:
    """What every station change needs: the database, the archive root and layout, the repository."""

    db: object
    archive: Path | None
    repository: Path | None

    @property
    def layout(self):
        from .archive.layout import ArchiveLayout

        return ArchiveLayout.from_db(self.db)


def _file_moves(ctx: Context, src: StationRef, dst: StationRef | None, *, reject_folder: str | None = None,
                purge: bool = False) -> tuple[list[FileMove], list[str]]:
    """Where each of the source's archive files goes; (moves, problems such as a taken destination)."""
    from .dates import doy_date
    from .rinex.names import RinexName, RinexNameError

    if ctx.archive is None:
        return [], []
    layout = ctx.layout
    on_disk = station_files(ctx.archive, layout, src)
    moves, problems = [], []
    for rinex_name, rel in sorted(on_disk.items()):
        old = ctx.archive / rel
        if dst is None:
            if purge or reject_folder is None:
                moves.append(FileMove(str(old), None, "deleted"))
            else:
                moves.append(FileMove(str(old), str(_reject_path(ctx, reject_folder, src, rel)), "deleted"))
            continue
        try:
            name = RinexName.parse(Path(rel).name)
        except RinexNameError as exc:  # pragma: no cover - layout.parse accepted it
            problems.append(str(exc))
            continue
        new_rel = f"{layout.folder(dst.network, dst.code, doy_date(name.year, name.doy))}/" \
                  f"{name.with_(station=dst.code).name}"
        new = ctx.archive / new_rel
        if new.exists() and not _same_file(old, new):
            problems.append(f"{new_rel} already exists (another file)")
        moves.append(FileMove(str(old), str(new)))
    return moves, problems


def _same_file(a: Path, b: Path) -> bool:
    try:
        if os.path.samefile(a, b):
            return True
        if a.stat().st_size != b.stat().st_size:
            return False
        return a.read_bytes() == b.read_bytes()
    except OSError:
        return False


def _reject_path(ctx: Context, folder: str, ref: StationRef, rel: str) -> Path:
    if ctx.repository is None:
        raise StationAdminError("no [archive] repository configured to keep the station's files in "
                                "(data_rejected): configure it, or purge the files")
    return ctx.repository / "data_rejected" / folder / f"{ref.network}.{ref.code}" / rel


def _place(move: FileMove) -> None:
    """The file at its new place (hard link, else copy), before the transaction commits; idempotent."""
    if move.new is None:
        return
    old, new = Path(move.old), Path(move.new)
    new.parent.mkdir(parents=True, exist_ok=True)
    if new.exists():
        if _same_file(old, new):
            return
        raise StationAdminError(f"{new} already exists (another file): nothing was changed")
    tmp = new.with_name(f".geode-ingest-move-{os.getpid()}-{new.name}")  # invisible to scans while written
    try:
        os.link(old, tmp)
    except OSError:
        shutil.copy2(old, tmp)
    os.replace(tmp, new)


def _remove_old(paths: list[str]) -> None:
    for p in paths:
        try:
            os.unlink(p)
        except FileNotFoundError:
            pass
        _prune(Path(p).parent)


def _prune(folder: Path) -> None:
    """Remove folders left empty (up to the first one that is not)."""
    for _ in range(4):
        try:
            folder.rmdir()
        except OSError:
            return
        folder = folder.parent


def finish_pending(db) -> int:
    """Old archive files of committed station changes that a crash left in place: removed now. Returns how many
    changes were finished."""
    if not db.table_exists("station_changes"):
        return 0
    rows = db.query("SELECT id, files_pending FROM station_changes WHERE done IS NULL ORDER BY id")
    for r in rows:
        pending = r["files_pending"] or []
        _remove_old([p for p in pending])
        db.execute("UPDATE station_changes SET done = now(), files_pending = '[]' WHERE id = %s", (r["id"],))
    return len(rows)


# --- locks of files waiting in data_in ------------------------------------------------------------------------------

def _locked_files(db, ref: StationRef) -> list[str]:
    return [r["filename"] for r in db.query('SELECT filename FROM locks WHERE "NetworkCode" = %s AND '
                                            '"StationCode" = %s ORDER BY filename', (ref.network, ref.code))]


# --- plans ----------------------------------------------------------------------------------------------------------

def _check_destination(db, dst: StationRef, *, must_exist: bool) -> None:
    exists = bool(db.query_one('SELECT 1 AS x FROM stations WHERE "NetworkCode" = %s AND "StationCode" = %s',
                               (dst.network, dst.code)))
    if must_exist and not exists:
        raise UsageError(f"unknown station {dst} (merge needs an existing destination; rename/move create it)")
    if not must_exist and exists:
        raise StationAdminError(f"station {dst} already exists: use 'geode station merge' to merge into it")
    if not db.query_one('SELECT 1 AS x FROM networks WHERE "NetworkCode" = %s', (dst.network,)):
        raise UsageError(f"unknown network {dst.network} (create it with 'geode station add {dst} "
                         "--network-name NAME')")


def _base_plan(ctx: Context, action: str, src: StationRef, dst: StationRef | None, **kw) -> StationPlan:
    tables = station_tables(ctx.db)
    counts = row_counts(ctx.db, src, tables)
    plan = StationPlan(action, str(src), str(dst) if dst else None, {k: v for k, v in counts.items() if v}, **kw)
    if dst is not None and not is_temporary(dst.network):
        plan.locks_released = len(_locked_files(ctx.db, src))
    return plan


def plan_move(ctx: Context, src: StationRef, dst: StationRef, action: str = "move") -> StationPlan:
    """Rename or move ``src`` to the new station ``dst`` (a new code, a new network, or both)."""
    if src == dst:
        raise UsageError(f"{src} is already called {dst}")
    _check_destination(ctx.db, dst, must_exist=False)
    plan = _base_plan(ctx, action, src, dst)
    plan.files, problems = _file_moves(ctx, src, dst)
    if problems:
        raise StationAdminError(f"cannot {action} {src} to {dst}: {'; '.join(problems[:3])}"
                                + (f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""))
    if plan.locks_released:
        plan.notes.append(f"{plan.locks_released} file(s) waiting in data_in are released: 'geode scan ingest' "
                          "archives them")
    return plan


def plan_merge(ctx: Context, src: StationRef, dst: StationRef, keep_destination: bool = False) -> StationPlan:
    """Merge ``src`` into the existing station ``dst``: every row and file of src goes to dst, src is removed."""
    from psycopg2 import sql

    if src == dst:
        raise UsageError(f"cannot merge {src} into itself")
    _check_destination(ctx.db, dst, must_exist=True)
    plan = _base_plan(ctx, "merge", src, dst, keep_destination=keep_destination)
    tables = station_tables(ctx.db)
    with ctx.db.transaction() as cur:
        for t in tables:
            if t.name == "stationinfo":
                continue  # by time, below
            for key in t.keys:
                cur.execute(sql.SQL("SELECT count(*) AS n FROM {t} s WHERE ").format(t=_ident(t.name))
                            + _where_station("s") + sql.SQL(" AND ") + _clash_sql(t, key),
                            (src.network, src.code, dst.network, dst.code))
                n = int(cur.fetchone()["n"])
                if n:
                    plan.clashes.append(Clash(t.name, n, f"same {', '.join(key) or 'station'} in {dst}"))
    for rec in _stationinfo_clashes(ctx.db, src, dst):
        plan.clashes.append(Clash("stationinfo", 1, f"record from {rec.date_start:%Y-%m-%d %H:%M:%S} overlaps "
                                                    f"{dst}'s records"))
    from .rinex.names import RinexName

    moves, problems = _file_moves(ctx, src, dst)
    files = []
    clashing_names = _clashing_rinex_names(ctx.db, src, dst) if keep_destination else set()
    for m in moves:
        name = RinexName.parse(Path(m.old).name).rinex_name
        if name in clashing_names or (m.new and Path(m.new).exists() and not _same_file(Path(m.old), Path(m.new))
                                      and keep_destination):
            rel = os.path.relpath(m.old, ctx.archive)
            files.append(FileMove(m.old, str(_reject_path(ctx, "merged", src, rel)), "merged away"))
        else:
            files.append(m)
    plan.files = files
    if problems and not keep_destination:
        plan.clashes += [Clash("archive", 1, p) for p in problems]
    if plan.locks_released:
        plan.notes.append(f"{plan.locks_released} file(s) waiting in data_in are released: 'geode scan ingest' "
                          "archives them")
    return plan


def _clashing_rinex_names(db, src: StationRef, dst: StationRef) -> set[str]:
    rows = db.query('SELECT s."Filename" FROM rinex s WHERE s."NetworkCode" = %s AND s."StationCode" = %s AND '
                    'EXISTS (SELECT 1 FROM rinex d WHERE d."NetworkCode" = %s AND d."StationCode" = %s AND '
                    'd."ObservationYear" = s."ObservationYear" AND d."ObservationDOY" = s."ObservationDOY" AND '
                    'd."Interval" = s."Interval" AND d."Completion" = s."Completion")',
                    (src.network, src.code, dst.network, dst.code))
    return {r["Filename"] for r in rows}


def _stationinfo_clashes(db, src: StationRef, dst: StationRef) -> list:
    from .stationinfo import records_for

    far = dt.datetime(9999, 1, 1)
    theirs = records_for(db, dst)
    return [r for r in records_for(db, src)
            if any(min(r.date_end or far, d.date_end or far) > max(r.date_start, d.date_start) for d in theirs)]


def plan_delete(ctx: Context, src: StationRef, purge_files: bool = False) -> StationPlan:
    plan = _base_plan(ctx, "delete", src, None, purge_files=purge_files)
    moves, _ = _file_moves(ctx, src, None, reject_folder="deleted_station", purge=purge_files)
    locked = []
    if ctx.repository is not None:
        for rel in _locked_files(ctx.db, src):
            old = ctx.repository / "data_in" / rel
            if old.exists():
                locked.append(FileMove(str(old), None if purge_files else
                                       str(_reject_path(ctx, "deleted_station", src, "data_in/" + rel)), "deleted"))
    plan.files = moves + locked
    return plan


# --- applying -------------------------------------------------------------------------------------------------------

def _lock(cur, ref: StationRef) -> None:
    from .archive.rows import lock_station

    lock_station(cur, ref.network, ref.code)
    cur.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"stationinfo:{ref}",))


def _journal(cur, plan: StationPlan, pending: list[str]) -> int:
    cur.execute("INSERT INTO station_changes (action, source, destination, rows, files_pending) "
                "VALUES (%s, %s, %s, %s, %s) RETURNING id",
                (plan.action, plan.source, plan.destination, json.dumps(plan.rows), json.dumps(pending)))
    return int(cur.fetchone()["id"])


def _event(cur, ref: StationRef, text: str) -> None:
    cur.execute('INSERT INTO events ("EventType", "NetworkCode", "StationCode", "Description", module, node) '
                "VALUES (%s, %s, %s, %s, %s, %s)", ("info", ref.network, ref.code, text, "geode station",
                                                    os.uname().nodename))


def apply(ctx: Context, plan: StationPlan) -> StationPlan:
    """Make the change ``plan`` describes (computed just before, by plan_*): one transaction, files first.

    Raises StationAdminError (nothing changed) when the plan has clashes that keep_destination does not drop,
    or when the database moved on since the plan (a row appeared or went)."""
    from psycopg2 import sql

    if plan.clashes and not plan.keep_destination:
        raise StationAdminError(f"cannot merge {plan.source} into {plan.destination}: "
                                + "; ".join(f"{c.rows} {c.table} row(s) with the {c.detail}" for c in plan.clashes)
                                + " (--keep-destination drops the source's clashing rows and files)")
    db = ctx.db
    src = StationRef(*plan.source.split("."))
    dst = StationRef(*plan.destination.split(".")) if plan.destination else None
    if ctx.archive is not None:  # what was planned (and confirmed) is still all there is to move
        now = set(station_files(ctx.archive, ctx.layout, src).values())
        planned = {os.path.relpath(m.old, ctx.archive) for m in plan.files
                   if Path(m.old).is_relative_to(ctx.archive)}
        if now != planned:
            raise StationAdminError(f"the archive files of {src} changed since the plan ({len(now)} now, "
                                    f"{len(planned)} planned): nothing was changed, run the command again")
    for move in plan.files:
        _place(move)
    pending = [m.old for m in plan.files]
    tables = station_tables(db)
    with db.transaction() as cur:
        _lock(cur, src)
        if dst is not None:
            _lock(cur, dst)
        cur.execute('SELECT 1 FROM stations WHERE "NetworkCode" = %s AND "StationCode" = %s FOR UPDATE',
                    (src.network, src.code))
        if cur.fetchone() is None:
            raise StationAdminError(f"station {src} no longer exists")
        if plan.action in ("move", "rename"):
            _copy_station_row(cur, src, dst)
        if plan.action == "merge" and plan.keep_destination:
            _drop_clashes(cur, tables, src, dst)
            for move in plan.files:  # a file set aside takes its row along (a clash on the name, not the key)
                if move.why == "merged away":
                    from .rinex.names import RinexName

                    cur.execute('DELETE FROM rinex WHERE "NetworkCode" = %s AND "StationCode" = %s AND '
                                '"Filename" = %s', (src.network, src.code, RinexName.parse(Path(move.old).name)
                                                    .rinex_name))
        if dst is not None:
            for t in tables:
                cur.execute(sql.SQL('UPDATE {t} SET "NetworkCode" = %s, "StationCode" = %s WHERE ')
                            .format(t=_ident(t.name)) + _where_station(), (dst.network, dst.code, src.network,
                                                                            src.code))
            _rename_rinex_files(cur, dst, src)
            for table, columns in ARRAY_COLUMNS.items():
                if _has_table(cur, table):
                    for col in columns:
                        cur.execute(sql.SQL("UPDATE {t} SET {c} = array_replace({c}, %s, %s) WHERE %s = ANY({c})")
                                    .format(t=_ident(table), c=_ident(col)), (str(src), str(dst), str(src)))
            if not is_temporary(dst.network):
                cur.execute('DELETE FROM locks WHERE "NetworkCode" = %s AND "StationCode" = %s',
                            (dst.network, dst.code))
            _event(cur, dst, f"{plan.action}: {src} -> {dst} by geode station {plan.action}")
        else:
            for t in reversed(tables):
                cur.execute(sql.SQL("DELETE FROM {t} WHERE ").format(t=_ident(t.name)) + _where_station(),
                            (src.network, src.code))
            _event(cur, src, f"station {src} deleted by geode station delete")
        cur.execute('DELETE FROM stations WHERE "NetworkCode" = %s AND "StationCode" = %s', (src.network, src.code))
        if is_temporary(src.network):
            cur.execute('DELETE FROM networks n WHERE "NetworkCode" = %s AND NOT EXISTS '
                        '(SELECT 1 FROM stations s WHERE s."NetworkCode" = n."NetworkCode")', (src.network,))
        change = _journal(cur, plan, pending)
    _remove_old(pending)
    db.execute("UPDATE station_changes SET done = now(), files_pending = '[]' WHERE id = %s", (change,))
    return plan


def _has_table(cur, name: str) -> bool:
    cur.execute("SELECT to_regclass(%s) AS oid", (name,))
    return bool(cur.fetchone()["oid"])


def _copy_station_row(cur, src: StationRef, dst: StationRef) -> None:
    """The destination's stations row: a copy of the source's (a new api_id)."""
    from psycopg2 import sql

    cur.execute("SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND "
                "table_name = 'stations' AND column_name NOT IN ('NetworkCode', 'StationCode', 'api_id') "
                "ORDER BY ordinal_position")
    cols = [r["column_name"] for r in cur.fetchall()]
    names = sql.SQL(", ").join(_ident(c) for c in cols)
    cur.execute(sql.SQL('INSERT INTO stations ("NetworkCode", "StationCode", {cols}) SELECT %s, %s, {cols} '
                        'FROM stations WHERE "NetworkCode" = %s AND "StationCode" = %s').format(cols=names),
                (dst.network, dst.code, src.network, src.code))


def _rename_rinex_files(cur, dst: StationRef, src: StationRef) -> None:
    """rinex.Filename follows the file's new name (a new station code is part of it)."""
    from .rinex.names import RinexName, RinexNameError

    if src.code == dst.code:
        return
    cur.execute('SELECT api_id, "Filename" FROM rinex WHERE "NetworkCode" = %s AND "StationCode" = %s',
                (dst.network, dst.code))
    for r in cur.fetchall():
        try:
            name = RinexName.parse(r["Filename"])
        except RinexNameError:
            continue
        if name.station == src.code:
            cur.execute('UPDATE rinex SET "Filename" = %s WHERE api_id = %s',
                        (name.with_(station=dst.code).rinex_name, r["api_id"]))


def _drop_clashes(cur, tables: list[StationTable], src: StationRef, dst: StationRef) -> None:
    """Merge --keep-destination: the source's rows whose key the destination holds are deleted first."""
    from psycopg2 import sql

    for t in reversed(tables):
        if t.name == "stationinfo":
            continue
        for key in t.keys:
            cur.execute(sql.SQL("DELETE FROM {t} s WHERE ").format(t=_ident(t.name)) + _where_station("s")
                        + sql.SQL(" AND ") + _clash_sql(t, key), (src.network, src.code, dst.network, dst.code))
    far = dt.datetime(9999, 1, 1)
    cur.execute('SELECT "DateStart", "DateEnd" FROM stationinfo WHERE "NetworkCode" = %s AND "StationCode" = %s',
                (dst.network, dst.code))
    theirs = [(r["DateStart"], r["DateEnd"] or far) for r in cur.fetchall()]
    cur.execute('SELECT "DateStart", "DateEnd" FROM stationinfo WHERE "NetworkCode" = %s AND "StationCode" = %s',
                (src.network, src.code))
    for r in cur.fetchall():
        start, end = r["DateStart"], r["DateEnd"] or far
        if any(min(end, e) > max(start, s) for s, e in theirs):
            cur.execute('DELETE FROM stationinfo WHERE "NetworkCode" = %s AND "StationCode" = %s AND '
                        '"DateStart" = %s', (src.network, src.code, start))


# --- add --------------------------------------------------------------------------------------------------------------

def add_station(db, ref: StationRef, *, lat: float | None = None, lon: float | None = None,
                height: float | None = None, xyz: tuple[float, float, float] | None = None, name: str = "",
                country: str | None = None, max_dist: float | None = None,
                network_name: str | None = None) -> dict:
    """Insert a station (and its network when ``network_name`` is given); position from lat/lon/height or XYZ."""
    from .geodesy.coordinates import lla2xyz, xyz2lla

    if is_temporary(ref.network):
        raise UsageError("temporary networks (codes starting with ?) are made by 'geode scan ingest' only")
    if xyz is not None:
        lat, lon, height = (float(v) for v in xyz2lla(*xyz))
    elif lat is not None and lon is not None:
        xyz = tuple(float(v) for v in lla2xyz(lat, lon, height or 0.0))
        height = height or 0.0
    with db.transaction() as cur:
        cur.execute('SELECT 1 FROM networks WHERE "NetworkCode" = %s', (ref.network,))
        if cur.fetchone() is None:
            if network_name is None:
                raise UsageError(f"unknown network {ref.network}: give --network-name NAME to create it")
            cur.execute('INSERT INTO networks ("NetworkCode", "NetworkName") VALUES (%s, %s)',
                        (ref.network, network_name))
        cur.execute('SELECT 1 FROM stations WHERE "NetworkCode" = %s AND "StationCode" = %s', (ref.network, ref.code))
        if cur.fetchone() is not None:
            raise StationAdminError(f"station {ref} already exists")
        cur.execute('INSERT INTO stations ("NetworkCode", "StationCode", "StationName", auto_x, auto_y, auto_z, '
                    'lat, lon, height, max_dist, country_code) VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s)',
                    (ref.network, ref.code, name or None, *(xyz or (None, None, None)), lat, lon, height,
                     max_dist, country.upper() if country else None))
        _event(cur, ref, f"station {ref} added by geode station add")
        cur.execute('INSERT INTO station_changes (action, source, destination, rows, done) '
                    "VALUES ('add', NULL, %s, '{}', now())", (str(ref),))
    return {"station": str(ref), "lat": lat, "lon": lon, "height": height,
            "xyz": list(xyz) if xyz is not None else None}


# --- list and show --------------------------------------------------------------------------------------------------

def list_stations(db, refs: list[StationRef] | None = None) -> list[dict]:
    """One row per station (every station, temporary ones included, when ``refs`` is None): position, RINEX days
    and span, station-info records, files waiting in data_in."""
    where, params = "", []
    if refs is not None:
        where = 'WHERE (s."NetworkCode", s."StationCode") IN (SELECT * FROM unnest(%s::text[], %s::text[]))'
        params = [[r.network for r in refs], [r.code for r in refs]]
    return db.query(
        'SELECT s."NetworkCode" || \'.\' || s."StationCode" AS station, s."StationName" AS name, '
        's.country_code AS country, s.lat, s.lon, s.height, r.days, r.first_year, r.first_doy, r.last_year, '
        'r.last_doy, coalesce(i.records, 0) AS stationinfo, coalesce(l.locked, 0) AS waiting '
        'FROM stations s '
        'LEFT JOIN (SELECT "NetworkCode", "StationCode", count(DISTINCT ("ObservationYear", "ObservationDOY")) AS days, '
        '  min("ObservationYear" * 1000 + "ObservationDOY") AS first, '
        '  (array_agg("ObservationYear" ORDER BY "ObservationYear", "ObservationDOY"))[1] AS first_year, '
        '  (array_agg("ObservationDOY" ORDER BY "ObservationYear", "ObservationDOY"))[1] AS first_doy, '
        '  (array_agg("ObservationYear" ORDER BY "ObservationYear" DESC, "ObservationDOY" DESC))[1] AS last_year, '
        '  (array_agg("ObservationDOY" ORDER BY "ObservationYear" DESC, "ObservationDOY" DESC))[1] AS last_doy '
        '  FROM rinex GROUP BY 1, 2) r USING ("NetworkCode", "StationCode") '
        'LEFT JOIN (SELECT "NetworkCode", "StationCode", count(*) AS records FROM stationinfo GROUP BY 1, 2) i '
        '  USING ("NetworkCode", "StationCode") '
        'LEFT JOIN (SELECT "NetworkCode", "StationCode", count(*) AS locked FROM locks GROUP BY 1, 2) l '
        '  USING ("NetworkCode", "StationCode") '
        f'{where} ORDER BY s."NetworkCode", s."StationCode"', params or None)


def show_station(db, ref: StationRef) -> dict:
    """Everything about one station: its row, station-info history, RINEX availability per year, solutions
    and trajectory models."""
    from .stationinfo import records_for

    row = db.query_one('SELECT * FROM stations WHERE "NetworkCode" = %s AND "StationCode" = %s',
                       (ref.network, ref.code))
    if row is None:
        raise UsageError(f"unknown station {ref}")
    years = db.query('SELECT "ObservationYear"::int AS year, count(DISTINCT "ObservationDOY") AS days, '
                     'min("ObservationDOY")::int AS first_doy, max("ObservationDOY")::int AS last_doy, '
                     'count(*) AS files FROM rinex WHERE "NetworkCode" = %s AND "StationCode" = %s '
                     'GROUP BY 1 ORDER BY 1', (ref.network, ref.code))
    gamit = db.query('SELECT "Project" AS project, count(*) AS days FROM gamit_soln WHERE "NetworkCode" = %s AND '
                     '"StationCode" = %s GROUP BY 1 ORDER BY 1', (ref.network, ref.code))
    ppp = db.query_one('SELECT count(*) AS n FROM ppp_soln WHERE "NetworkCode" = %s AND "StationCode" = %s',
                       (ref.network, ref.code))["n"]
    models = db.query('SELECT coalesce(stack, \'\') AS stack, soln, count(*) AS rows FROM etms WHERE '
                      '"NetworkCode" = %s AND "StationCode" = %s GROUP BY 1, 2 ORDER BY 1, 2', (ref.network, ref.code))
    stacks = db.query('SELECT name, count(*) AS days FROM stacks WHERE "NetworkCode" = %s AND "StationCode" = %s '
                      'GROUP BY 1 ORDER BY 1', (ref.network, ref.code))
    waiting = _locked_files(db, ref)
    station = {k: row.get(k) for k in ("StationName", "country_code", "lat", "lon", "height", "auto_x", "auto_y",
                                       "auto_z", "max_dist", "marker", "plate")}
    station["otl"] = bool(row.get("Harpos_coeff_otl"))
    return {"station": str(ref), "temporary": is_temporary(ref.network), "row": station,
            "stationinfo": [asdict(r) for r in records_for(db, ref)], "rinex_years": years,
            "gamit_solutions": gamit, "ppp_solutions": int(ppp), "stacks": stacks, "models": models,
            "waiting_in_data_in": waiting}


# --- station information from RINEX headers ------------------------------------------------------------------------

_EQUIPMENT = ("ReceiverType", "ReceiverSerial", "AntennaType", "AntennaSerial", "AntennaDome", "AntennaOffset")


def propose_stationinfo(db, ref: StationRef, ignore: int = 0) -> list:
    """Station-info records proposed from the station's RINEX headers (GeoDE's rinex_based_stninfo).

    Files are taken day by day (the file GeoDE processes: rinex_proc); a new record starts where the receiver
    or antenna (type or serial), the radome or the antenna height changes, unless the change lasts
    ``ignore`` files or fewer (a header typo). Each record runs from its first file's first epoch to the
    last file's last epoch; the last one stays open. Heights are DHARP (RINEX gives the ARP height)."""
    from .stationinfo import StationInfoRecord

    rows = db.query('SELECT * FROM rinex_proc WHERE "NetworkCode" = %s AND "StationCode" = %s '
                    'ORDER BY "ObservationSTime"', (ref.network, ref.code))
    if not rows:
        raise StationAdminError(f"station {ref} has no RINEX files in the database to propose records from")
    name = (db.query_one('SELECT "StationName" FROM stations WHERE "NetworkCode" = %s AND "StationCode" = %s',
                         (ref.network, ref.code)) or {}).get("StationName") or ""

    def key(r):
        return tuple(str(r[c] or "").strip().upper() if c != "AntennaOffset" else round(float(r[c] or 0), 4)
                     for c in _EQUIPMENT)

    groups: list[list[dict]] = []
    for r in rows:
        if groups and key(groups[-1][0]) == key(r):
            groups[-1].append(r)
        else:
            groups.append([r])
    merged: list[list[dict]] = []
    for g in groups:  # short runs (<= ignore files) belong to the record around them
        if merged and len(g) <= ignore:
            merged[-1].extend(g)
        elif merged and key(merged[-1][0]) == key(g[0]):
            merged[-1].extend(g)
        else:
            merged.append(g)
    records = []
    for i, g in enumerate(merged):
        first = g[0]
        last = g[-1]
        end = None if i == len(merged) - 1 else last["ObservationETime"]
        records.append(StationInfoRecord(
            station_code=ref.code, station_name=name[:18], date_start=first["ObservationSTime"], date_end=end,
            antenna_height=float(first["AntennaOffset"] or 0.0), height_code="DHARP",
            receiver_code=(first["ReceiverType"] or "").strip().upper()[:20],
            receiver_vers=(first["ReceiverFw"] or "").strip()[:20],
            receiver_firmware=(first["ReceiverFw"] or "").strip()[:5],
            receiver_serial=(first["ReceiverSerial"] or "").strip()[:20],
            antenna_code=(first["AntennaType"] or "").strip().upper()[:15],
            radome_code=((first["AntennaDome"] or "").strip().upper() or "NONE")[:5],
            antenna_serial=(first["AntennaSerial"] or "").strip()[:20],
            comments=f"from {len(g)} RINEX file(s) by geode scan stninfo --propose"))
    return records
