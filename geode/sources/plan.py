"""What to download and the run around the units: pick the missing station-days, build one ``StationJob``
per station, dispatch them, record every attempt in ``download_attempts``.

A day is missing (GeoDE's rule) when the archive has no ``rinex_proc`` row for it with Completion >= 0.5,
the station was not inactive that day (it has station information, none of which covers the day), and
``data_in/<net>.<stn>/`` does not already hold a file for it (downloaded earlier, not ingested yet).
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from pathlib import Path

from ..dates import GnssDate
from ..errors import ConfigError
from ..rinex.names import RinexName, RinexNameError
from ..stations import StationRef, station_rows
from . import catalog, templates
from .fetch import (Candidate, DayJob, FetchOptions, ServerSpec, StationJob, StationResult, clean_stale_parts,
                    close_idle)

log = logging.getLogger("geode.sources")
MIN_COMPLETION = 0.5


@dataclass
class Skipped:
    station: str
    year: int
    doy: int
    reason: str  # in archive | in data_in | inactive


@dataclass
class Plan:
    jobs: list[StationJob] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    problems: list[tuple[str, str]] = field(default_factory=list)  # (station, why) stations we cannot try


@dataclass
class Report:
    plan: Plan
    results: list[StationResult] = field(default_factory=list)
    failures: list[dict] = field(default_factory=list)  # units that raised: {"unit", "message"}

    def days(self, status: str) -> list[tuple[str, object]]:
        return [(f"{r.network}.{r.station}", d) for r in self.results for d in r.days if d.status == status]

    def counts(self) -> dict[str, int]:
        out = {s: len(self.days(s)) for s in ("downloaded", "not_found", "failed")}
        out["skipped"] = len(self.plan.skipped)
        out["bytes"] = sum(d.bytes for r in self.results for d in r.days)
        return out

    @property
    def ok(self) -> bool:
        return not self.failures and not self.plan.problems and not self.days("failed")


def _archived_days(db, ref: StationRef, start: GnssDate, end: GnssDate) -> set[tuple[int, int]]:
    rows = db.query('SELECT DISTINCT "ObservationYear" AS y, "ObservationDOY" AS d FROM rinex_proc '
                    'WHERE "NetworkCode" = %s AND "StationCode" = %s AND "Completion" >= %s '
                    'AND "ObservationYear" BETWEEN %s AND %s',
                    (ref.network, ref.code, MIN_COMPLETION, start.year, end.year))
    return {(int(r["y"]), int(r["d"])) for r in rows}


def _active(db, ref: StationRef):
    """A predicate day -> active, from the station's information (no records: always active, as GeoDE)."""
    rows = db.query('SELECT "DateStart" AS s, "DateEnd" AS e FROM stationinfo '
                    'WHERE "NetworkCode" = %s AND "StationCode" = %s', (ref.network, ref.code))
    if not rows:
        return lambda day: True

    def active(day: GnssDate) -> bool:
        t0, t1 = day.datetime, day.datetime + dt.timedelta(days=1)
        return any(r["s"] < t1 and (r["e"] is None or r["e"] > t0) for r in rows)

    return active


def _in_data_in(folder: Path, code: str) -> set[tuple[int, int]]:
    days = set()
    if folder.is_dir():
        for entry in folder.iterdir():
            try:
                name = RinexName.parse(entry.name)
            except RinexNameError:
                continue
            if name.station == code.lower() and entry.is_file() and entry.stat().st_size > 0:
                days.add((name.year, name.doy))
    return days


def build_plan(db, refs: list[StationRef], days: list[GnssDate], data_in: Path, options: FetchOptions) -> Plan:
    plan = Plan()
    if not days:
        return plan
    rows = {(r["NetworkCode"], r["StationCode"]): r for r in station_rows(db, refs)}
    for ref in refs:
        sources = catalog.station_sources(db, ref)
        if not sources:
            plan.problems.append((str(ref), "no sources defined (add one with 'geode download sources add')"))
            continue
        row = rows[(ref.network, ref.code)]
        archived = _archived_days(db, ref, days[0], days[-1])
        pending = _in_data_in(data_in / f"{ref.network}.{ref.code}", ref.code)
        active = _active(db, ref)
        jobs: list[DayJob] = []
        try:
            for day in days:
                key = (day.year, day.doy)
                why = ("in archive" if key in archived else "in data_in" if key in pending
                       else None if active(day) else "inactive")
                if why:
                    plan.skipped.append(Skipped(str(ref), day.year, day.doy, why))
                    continue
                cands = [Candidate(s.server.server_id, templates.expand(s.path, day, ref.network, ref.code,
                                                                        row.get("marker"), row.get("country_code")),
                                   s.format) for s in sources]
                jobs.append(DayJob(day.year, day.doy, cands))
        except templates.TemplateError as exc:
            plan.problems.append((str(ref), str(exc)))
            continue
        if jobs:
            servers = {s.server.server_id: ServerSpec(s.server.server_id, s.server.protocol, s.server.fqdn,
                                                      s.server.username, s.server.has_password) for s in sources}
            plan.jobs.append(StationJob(ref.network, ref.code, str(data_in), jobs, list(servers.values()), options))
    return plan


def ensure_attempts_table(db) -> None:
    if not db.table_exists("download_attempts"):
        raise ConfigError("the database has no download_attempts table: run 'geode db upgrade'")


def record_attempts(db, result: StationResult) -> None:
    if not result.attempts:
        return
    with db.transaction() as cur:
        for a in result.attempts:
            cur.execute('INSERT INTO download_attempts ("NetworkCode", "StationCode", "ObservationYear", '
                        '"ObservationDOY", server_id, url, outcome, reason, bytes, attempted) '
                        "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                        (a.network, a.station, a.year, a.doy, a.server_id, a.url, a.outcome, a.reason or None,
                         a.bytes, a.when))


def run_download(db, refs: list[StationRef], days: list[GnssDate], data_in: Path, runner, *,
                 options: FetchOptions | None = None, progress=None) -> Report:
    """Plan, dispatch one unit per station on the 'io' queue, record what every unit tried."""
    from .tasks import download_station

    ensure_attempts_table(db)
    options = options or FetchOptions()
    data_in.mkdir(parents=True, exist_ok=True)
    removed = clean_stale_parts(data_in)
    if removed:
        log.info("removed %d partial file(s) left by an interrupted run", removed)
    plan = build_plan(db, refs, days, data_in, options)
    report = Report(plan)

    def on_result(outcome) -> None:
        result: StationResult = outcome.result
        record_attempts(db, result)
        report.results.append(result)

    def on_error(failure) -> None:
        job: StationJob = failure.item[0] if isinstance(failure.item, (list, tuple)) else failure.item
        name = f"{job.network}.{job.station}" if isinstance(job, StationJob) else str(failure.item)
        report.failures.append({"unit": name, "message": failure.message})

    if plan.jobs:
        try:
            runner.map(download_station, [(job,) for job in plan.jobs], on_result=on_result, on_error=on_error,
                       progress=progress, description="download: station-days", weight=lambda item: len(item[0].days),
                       failed_units=lambda outcome: sum(d.status == "failed" for d in outcome.result.days))
        finally:
            close_idle()  # inline units left their connections for the next station; the run is over
    report.results.sort(key=lambda r: (r.network, r.station))
    return report


def recent_attempts(db, refs: list[StationRef] | None = None, limit: int = 50) -> list[dict]:
    """The latest attempts, newest first, optionally for some stations only."""
    where, params = "", []
    if refs:
        where = 'WHERE ("NetworkCode", "StationCode") IN (' + ", ".join(["(%s, %s)"] * len(refs)) + ")"
        params = [v for r in refs for v in (r.network, r.code)]
    return db.query('SELECT "NetworkCode" || \'.\' || "StationCode" AS station, "ObservationYear" AS year, '
                    '"ObservationDOY" AS doy, server_id, url, outcome, reason, bytes, attempted '
                    f"FROM download_attempts {where} ORDER BY id DESC LIMIT %s", (*params, limit))
