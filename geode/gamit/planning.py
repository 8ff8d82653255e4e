"""Plan GAMIT sessions: per day, the active stations, their a-priori coordinates, the sub-networks and
what is already processed. Reads the database only; ``store.save_subnets`` persists a new partition.

A station is active on a day when ``rinex_proc`` has a file for it with an interval of at most 120 s and a
completion of at least 0.5, and one station-info record covers the file's observation span (GeoDE's rules).

A-priori coordinates, first that exists: the station's stored trajectory model evaluated at the day
(``geode.etm.apriori``: newest model, None more than a year outside its data; sigmas = model WRMS x 2.5), the
day's PPP solution (``ppp_soln``), the day's ``apr_coords`` row, the station's ``auto_x/y/z``. Sigmas get the
session's floors added in quadrature, as in GeoDE.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import math
from dataclasses import dataclass, field
from pathlib import Path

from .clustering import split_network
from .session_config import SessionConfig

log = logging.getLogger("geode.gamit")

MAX_INTERVAL = 120.0  # s
MIN_COMPLETION = 0.5
AUTO_SIGMA = 1.0  # m: a-priori sigma of a coordinate that comes from stations.auto_x (no daily solution)


@dataclass
class StationDay:
    """One active station on one day: everything a task directory needs about it."""

    key: str  # "net.stn"
    network: str
    code: str
    alias: str  # 4-character site id GAMIT sees (stations.alias, else the code)
    x: float
    y: float
    z: float
    sigma_n: float
    sigma_e: float
    sigma_u: float
    apr_source: str  # etm | ppp_soln | apr_coords | stations.auto_x
    rinex: str  # archive path of the file to use
    interval: float
    completion: float
    lat: float = 0.0
    lon: float = 0.0
    height: float = 0.0
    otl: str = ""  # Harpos_coeff_otl (BLQ record)


@dataclass
class SessionPlan:
    project: str
    year: int
    doy: int
    subnet: int
    dirname: str
    directory: str  # <solutions_dir>/<yyyy>/<ddd>/<dirname>
    stations: list[str]  # keys, ties last
    ties: list[str] = field(default_factory=list)
    centroid: list[float] = field(default_factory=list)
    stored: bool = False  # the partition came from gamit_subnets
    state: str = "new"  # new | planned | running | done | failed
    stats: list[dict] = field(default_factory=list)  # gamit_stats rows (one per system)
    message: str = ""

    @property
    def label(self) -> str:
        return f"{self.year}_{self.doy:03d} {self.dirname}"


@dataclass
class DayPlan:
    year: int
    doy: int
    stations: dict[str, StationDay]
    sessions: list[SessionPlan]
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (key, reason) of stations with data
    notes: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        return f"{self.year}_{self.doy:03d}"


def session_dirname(project: str, org: str, subnet: int, split: bool) -> str:
    """GeoDE's names: the project for a whole network, ``project.<ORG>NNN`` for sub-networks."""
    return f"{project}.{org.upper()}{subnet:03d}" if split else project


def day_directory(cfg: SessionConfig, year: int, doy: int) -> Path:
    return Path(cfg.solutions_dir) / f"{year:04d}" / f"{doy:03d}"


def resolve_aliases(rows: list[dict]) -> dict[str, str]:
    """key -> 4-character alias. Stations sharing a code get a stable generated alias unless they have one."""
    aliases: dict[str, str] = {}
    by_code: dict[str, list[dict]] = {}
    for r in rows:
        by_code.setdefault(r["StationCode"].lower(), []).append(r)
    taken = {(r.get("alias") or "").lower() for r in rows if r.get("alias")}
    for code, group in sorted(by_code.items()):
        group = sorted(group, key=lambda r: (float(r.get("DateStart") or 0), r["NetworkCode"]))
        for i, r in enumerate(group):
            key = f"{r['NetworkCode']}.{r['StationCode']}"
            if r.get("alias"):
                aliases[key] = r["alias"].lower()
            elif i == 0 and code not in taken:
                aliases[key] = code
            else:
                aliases[key] = _generated_alias(key, taken)
            taken.add(aliases[key])
    return aliases


def _generated_alias(key: str, taken: set[str]) -> str:
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
    salt = 0
    while True:
        digest = hashlib.sha1(f"{key}:{salt}".encode()).digest()
        alias = "".join(alphabet[b % len(alphabet)] for b in digest[:4])
        if alias not in taken and not alias.isdigit():
            return alias
        salt += 1


def _covers(record: dict, start: dt.datetime, end: dt.datetime) -> bool:
    return record["DateStart"] <= start and (record["DateEnd"] is None or record["DateEnd"] >= end)


def _apriori(key: str, year: int, doy: int, row: dict, ppp: dict, apr: dict, cfg: SessionConfig, models=None):
    """(x, y, z, sn, se, su, source) with the floors of the session applied. ``models``: key -> StoredModel."""
    from ..dates import GnssDate

    pos = models[key].position(GnssDate(year, doy)) if models and models.get(key) is not None else None
    if pos is not None:
        xyz, sig, source = (pos.x, pos.y, pos.z), pos.sigma_neu, "etm"
    elif (key, year, doy) in ppp:
        p = ppp[(key, year, doy)]
        sx, sy, sz = (p.get(s) or AUTO_SIGMA for s in ("sigmax", "sigmay", "sigmaz"))
        s = math.sqrt((sx ** 2 + sy ** 2 + sz ** 2) / 3.0)  # ECEF sigmas: spread evenly over N, E, U
        xyz, sig, source = (p["X"], p["Y"], p["Z"]), (s, s, s), "ppp_soln"
    elif (key, year, doy) in apr:
        a = apr[(key, year, doy)]
        xyz = (a["x"], a["y"], a["z"])
        sig = tuple(a.get(s) or AUTO_SIGMA for s in ("sn", "se", "su"))
        source = "apr_coords"
    else:
        xyz, sig, source = (row["auto_x"], row["auto_y"], row["auto_z"]), (AUTO_SIGMA,) * 3, "stations.auto_x"
    if any(v is None for v in xyz):
        return None
    fh, fv = cfg.sigma_floor_h, cfg.sigma_floor_v
    sn, se, su = (math.sqrt(sig[0] ** 2 + fh ** 2), math.sqrt(sig[1] ** 2 + fh ** 2), math.sqrt(sig[2] ** 2 + fv ** 2))
    return (*[float(v) for v in xyz], sn, se, su, source)


def plan_days(db, cfg: SessionConfig, days: list, extra_specs: list[str] = (), settings=None) -> list[DayPlan]:
    """Plan every day of ``days`` (geode.dates.GnssDate). Raises StationListError for unknown stations."""
    from ..stations import select_stations, station_days_sql, station_key_sql, station_rows

    refs = [r for r in select_stations(db, list(cfg.stn_list) + list(extra_specs))
            if not str(r.network).startswith("?")]
    rows = station_rows(db, refs)
    by_key = {f"{r['NetworkCode']}.{r['StationCode']}": r for r in rows}
    aliases = resolve_aliases(rows)
    keys = sorted(by_key)
    if not days:
        return []
    first, last = min(days), max(days)
    rinex_sql, rinex_params = station_days_sql(keys, first, last)
    day_sql, day_params = station_days_sql(keys, first, last, year="Year", doy="DOY")

    rinex: dict[tuple[int, int], list[dict]] = {}
    for r in db.query(f'SELECT * FROM rinex_proc WHERE {rinex_sql}', rinex_params):
        rinex.setdefault((int(r["ObservationYear"]), int(r["ObservationDOY"])), []).append(r)
    info: dict[str, list[dict]] = {}
    for r in db.query('SELECT "NetworkCode", "StationCode", "DateStart", "DateEnd" FROM stationinfo WHERE '
                      + station_key_sql(), (keys,)):
        info.setdefault(f"{r['NetworkCode']}.{r['StationCode']}", []).append(r)
    ppp = {(f"{r['NetworkCode']}.{r['StationCode']}", int(r["Year"]), int(r["DOY"])): r
           for r in db.query(f'SELECT * FROM ppp_soln WHERE {day_sql} ORDER BY "ReferenceFrame" DESC', day_params)}
    apr = {(f"{r['NetworkCode']}.{r['StationCode']}", int(r["Year"]), int(r["DOY"])): r
           for r in db.query(f'SELECT * FROM apr_coords WHERE {day_sql}', day_params)}
    from ..etm.apriori import load_station_model

    models: dict = {}  # key -> StoredModel or None, loaded on first use: only stations active some day need one
    from ..archive.layout import ArchiveLayout

    layout = ArchiveLayout.from_db(db)
    archive = settings.archive_path if settings is not None else None

    plans = []
    for day in sorted(days):
        year, doy = day.year, day.doy
        day_start = day.datetime
        active: dict[str, StationDay] = {}
        skipped: list[tuple[str, str]] = []
        for r in sorted(rinex.get((year, doy), []), key=lambda r: (r["NetworkCode"], r["StationCode"])):
            key = f"{r['NetworkCode']}.{r['StationCode']}"
            if key in active:
                continue
            interval, completion = float(r["Interval"]), float(r["Completion"])
            start = r["ObservationSTime"] or day_start
            end = r["ObservationETime"] or (day_start + dt.timedelta(days=1, seconds=-1))
            if interval > MAX_INTERVAL:
                skipped.append((key, f"RINEX interval {interval:g} s > {MAX_INTERVAL:g} s"))
                continue
            if completion < MIN_COMPLETION:
                skipped.append((key, f"RINEX completion {completion:.2f} < {MIN_COMPLETION}"))
                continue
            if not any(_covers(rec, start, end) for rec in info.get(key, [])):
                skipped.append((key, f"no station info record covers {start:%Y-%m-%d %H:%M} - {end:%H:%M}"))
                continue
            row = by_key[key]
            if key not in models:
                models[key] = load_station_model(db, row["NetworkCode"], row["StationCode"])
            coords = _apriori(key, year, doy, row, ppp, apr, cfg, models)
            if coords is None:
                skipped.append((key, "no a-priori coordinates (etm, ppp_soln, apr_coords or stations.auto_x)"))
                continue
            rel = layout.row_path(r)
            active[key] = StationDay(
                key, r["NetworkCode"], r["StationCode"], aliases[key], *coords[:6], apr_source=coords[6],
                rinex=str(Path(archive) / rel) if archive else rel, interval=interval, completion=completion,
                lat=float(row.get("lat") or 0), lon=float(row.get("lon") or 0), height=float(row.get("height") or 0),
                otl=row.get("Harpos_coeff_otl") or "")
        plans.append(_plan_sessions(db, cfg, year, doy, active, skipped))
    return plans


def _plan_sessions(db, cfg: SessionConfig, year: int, doy: int, active: dict[str, StationDay],
                   skipped) -> DayPlan:
    plan = DayPlan(year, doy, active, [], skipped)
    stored = db.query('SELECT * FROM gamit_subnets WHERE "Project" = %s AND "Year" = %s AND "DOY" = %s '
                      'ORDER BY subnet', (cfg.project, year, doy))
    if stored:
        split = len(stored) > 1
        for r in stored:
            members = [s for s in (r["stations"] or []) if s in active]
            gone = [s for s in (r["stations"] or []) if s not in active]
            if gone:
                plan.notes.append(f"subnet {int(r['subnet'])}: {', '.join(gone)} no longer active that day")
            plan.sessions.append(SessionPlan(
                cfg.project, year, doy, int(r["subnet"]), session_dirname(cfg.project, cfg.org, int(r["subnet"]), split),
                "", members, [t for t in (r["ties"] or []) if t in active], list(r["centroid"] or []), stored=True))
        known = {s for r in stored for s in (r["stations"] or [])}
        new = sorted(set(active) - known)
        if new:
            plan.notes.append(f"active but not in the stored sub-networks (re-plan with --purge): {', '.join(new)}")
    elif active:
        subnets = split_network({k: (s.x, s.y, s.z) for k, s in active.items()}, cfg.cluster_size, cfg.ties)
        split = len(subnets) > 1
        for sn in subnets:
            plan.sessions.append(SessionPlan(cfg.project, year, doy, sn.index,
                                             session_dirname(cfg.project, cfg.org, sn.index, split), "",
                                             sn.stations, sn.ties, sn.centroid))
    for s in plan.sessions:
        s.directory = str(day_directory(cfg, year, doy) / s.dirname)
    _attach_states(db, cfg, plan)
    return plan


def _attach_states(db, cfg: SessionConfig, plan: DayPlan) -> None:
    stats = db.query('SELECT * FROM gamit_stats WHERE "Project" = %s AND "Year" = %s AND "DOY" = %s '
                     'ORDER BY system', (cfg.project, plan.year, plan.doy))
    states = {int(r["subnet"]): r for r in db.query(
        'SELECT * FROM gamit_sessions WHERE "Project" = %s AND "Year" = %s AND "DOY" = %s',
        (cfg.project, plan.year, plan.doy))}
    for s in plan.sessions:
        s.stats = [r for r in stats if int(r["subnet"]) == s.subnet]
        row = states.get(s.subnet)
        if s.stats and Path(s.directory).is_dir():
            s.state = "done"
        elif row is not None:
            s.state = row["state"] if row["state"] != "done" else "planned"  # done but its directory is gone
            s.message = row.get("message") or ""
        elif s.stored:
            s.state = "planned"
