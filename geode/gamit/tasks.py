"""The dispatch tasks of geode gamit (queue ``gamit``): one GAMIT session, and one day's combination.

Both are idempotent. A session claims a lease in ``gamit_sessions`` before touching its directory, renews
it while GAMIT runs, and records its outcome only while it still holds it; a redelivered session that
already finished returns at once. A day's combination replaces the day's rows in one transaction.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import platform
import threading
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import GeodeError
from ..jobs import task
from ..jobs.process import SubprocessTerminated
from . import engine, parsers, store, taskdir
from .engine import SessionJob
from .session_config import SessionConfig

log = logging.getLogger("geode.gamit")


class SessionFailed(GeodeError):
    """GAMIT failed for every system of a session (the message carries the reason)."""


class _Heartbeat:
    """Renews the session's lease from a thread with its own connection while GAMIT runs."""

    def __init__(self, key: store.SessionKey, owner: str):
        from ..config import load_settings
        from ..db import open_database

        self.key, self.owner = key, owner
        self.db = open_database(load_settings(), migrate=False)
        self.lock = threading.Lock()
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=self._loop, name="gamit-lease", daemon=True)
        self.thread.start()

    def _loop(self) -> None:
        while not self.stop_event.wait(store.LEASE_SECONDS / 5):
            self.renew()

    def renew(self) -> None:
        with self.lock:
            try:
                if not store.renew(self.db, self.key, self.owner):
                    log.warning("%s subnet %d: lease lost to another worker", self.key.project, self.key.subnet)
            except Exception as exc:  # a database hiccup must not kill the GAMIT run; the next renew retries
                log.warning("lease renewal failed: %s", exc)

    def stop(self) -> None:
        self.stop_event.set()
        self.thread.join(timeout=10)
        self.db.close()


def _station_info(db, job: SessionJob) -> str:
    """station.info of the session's stations: the SITE column holds the alias GAMIT sees, and antenna heights
    are converted to DHARP with gamit_htc (H = sqrt(h^2 - h_offset^2) - v_offset), as GeoDE does."""
    from dataclasses import replace

    from ..stationinfo import format_station_info, height_offsets, records_for, to_dharp
    from ..stations import StationRef

    offsets = height_offsets(db)
    records = []
    for s in job.stations:
        for rec in records_for(db, StationRef(s.network, s.code)):
            rec = replace(rec, station_code=s.alias.upper())
            converted = to_dharp(rec, offsets)
            if converted is None:
                log.warning("%s: no gamit_htc conversion of height code %s for %s; written as is",
                            s.key, rec.height_code, rec.antenna_code)
            records.append(converted or rec)
    return format_station_info(records)


def _session_key(job: SessionJob) -> store.SessionKey:
    return store.SessionKey(job.project, job.subnet, job.year, job.doy)


@task("geode.gamit.run_session", queue="gamit")
def run_session(job: SessionJob) -> dict:
    """Build the task directory, run GAMIT per system, store gamit_stats. Returns a summary dict."""
    from ..config import load_settings
    from ..dates import GnssDate
    from ..db import open_database

    db = open_database(load_settings(), migrate=False)
    key, owner = _session_key(job), store.owner_id()
    heartbeat = None
    try:
        if store.claim(db, key, job.directory, owner) == "done":
            return {"label": job.label, "state": "done", "skipped": True}
        heartbeat = _Heartbeat(key, owner)
        root = Path(job.directory)
        day = GnssDate(job.year, job.doy)
        try:
            programs = engine.Programs(root, job.cfg, job.gamit_path)
            if not job.dry_run:
                programs.require()
            notes = _build(db, job, root, day, programs)
            if job.dry_run:
                store.finish(db, key, owner, state="planned", stats=[], message="dry run: directory built")
                return {"label": job.label, "state": "dry-run", "directory": str(root), "notes": notes}
            started = store.utcnow()
            systems, skipped = _systems_with_data(job, root)
            results = [engine.run_system(job, root, system, programs) for system in systems]
            ok = [r for r in results if r.success]
            if ok:
                glx = engine.combine_systems(job, root, results, programs)
                engine.make_sinex(job, root, glx, programs)
                engine.collect_ztd(job, root, results)
        except SubprocessTerminated:  # the unit was cancelled (revoke/SIGTERM): back to 'planned'
            store.finish(db, key, owner, state="planned", stats=[], message="interrupted")
            raise
        except (GeodeError, OSError) as exc:
            message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            store.finish(db, key, owner, state="failed", stats=[], message=message)
            raise SessionFailed(f"{job.label}: {message}") from None
        except Exception as exc:  # unexpected (a bug, Celery's soft time limit): failed, and say what it was
            store.finish(db, key, owner, state="failed", stats=[], message=f"{type(exc).__name__}: {exc}"[:500])
            raise
        except BaseException:  # Ctrl-C / revoke: the session goes back to 'planned', nothing half-stored
            store.finish(db, key, owner, state="planned", stats=[], message="interrupted")
            raise
        engine.cleanup(root)
        failed = [r for r in results if not r.success]
        summary = "; ".join(f"{r.system}: {(r.fatals or ['failed'])[0]}" for r in failed)
        if not ok:
            message = f"GAMIT failed ({summary})"
            store.finish(db, key, owner, state="failed", stats=[], message=message,
                         log_tail="\n\n".join(r.log_tail for r in failed))
            raise SessionFailed(f"{job.label}: {message}")
        stats = engine.stats_rows(job, results, started)
        notes = [f"failed systems: {summary}"] if failed else []
        notes += [f"skipped {s}: fewer than 2 stations with {s} data" for s in skipped]
        stored = store.finish(db, key, owner, state="done", stats=stats, message="; ".join(notes))
        return {"label": job.label, "state": "done" if stored else "superseded", "node": platform.node(),
                "systems": [{"system": r.system, "success": r.success, "nrms": r.nrms, "wl": r.wl, "nl": r.nl,
                             "iterations": r.iterations, "fatal": (r.fatals or [""])[0]} for r in results],
                "skipped_systems": skipped, "removed": sorted({a for r in results for a in r.removed}),
                "missing": sorted({a for r in results for a in r.missing})}
    finally:
        if heartbeat is not None:
            heartbeat.stop()
        db.close()


def _systems_with_data(job: SessionJob, root: Path) -> tuple[list[str], list[str]]:
    """The configured systems that at least 2 stations observed (GeoDE's rule), and the ones skipped."""
    counts: dict[str, int] = {}
    for f in (root / "rinex").iterdir():
        for s in taskdir.systems_in(f):
            counts[s] = counts.get(s, 0) + 1
    run = [s for s in job.cfg.systems if counts.get(s, 0) >= 2]
    if not run:
        raise SessionFailed(f"no configured system ({','.join(job.cfg.systems)}) has data from 2 stations")
    return run, [s for s in job.cfg.systems if s not in run]


def _build(db, job: SessionJob, root: Path, day, programs: engine.Programs) -> list[str]:
    """The task directory; returns notes (stations dropped, products missing in a dry run)."""
    taskdir.prepare_directory(root)
    taskdir.write_tables(root, job, _station_info(db, job))
    notes = taskdir.fetch_rinex(root, job)
    try:
        taskdir.fetch_orbits(root, job, day)
    except taskdir.TaskDirError as exc:
        if not job.dry_run:
            raise
        notes.append(str(exc))
    if not job.dry_run:
        tables = root / "tables"
        engine.link_tables(programs, tables, job.year, job.cfg.eop_type)
        (tables / "eq_rename").unlink(missing_ok=True)
        (tables / "eq_rename").write_text("\n")  # empty: GLOBK must never rename sites (keys stay ALIAS_GPS)
        if len(list((root / "rinex").iterdir())) < 2:
            raise SessionFailed(f"fewer than 2 stations with usable RINEX ({'; '.join(notes) or 'none found'})")
    return notes


# ---------------------------------------------------------------------------------------------------------------
# the day


@dataclass
class DaySession:
    subnet: int
    dirname: str
    directory: str
    aliases: dict[str, str] = field(default_factory=dict)  # alias (lower) -> "net.stn"


@dataclass
class DayJob:
    cfg: SessionConfig
    year: int
    doy: int
    fyear: float
    sessions: list[DaySession]
    gamit_path: str = ""

    @property
    def label(self) -> str:
        return f"{self.year}_{self.doy:03d}"


def solution_rows(job: DayJob, sinex: parsers.Sinex) -> tuple[list[dict], list[str]]:
    """gamit_soln rows from a SINEX: sigmas scaled by sqrt(VF), covariances by VF (GeoDE used sqrt(VF) for
    both, which mixes units); returns (rows, SINEX sites that are none of the day's stations)."""
    aliases = {a.upper(): k for s in job.sessions for a, k in s.aliases.items()}
    vf = sinex.variance_factor
    rows, unknown = [], []
    for code, site in sorted(sinex.sites.items()):
        key = aliases.get(code)
        if key is None:
            unknown.append(code)
            continue
        net, stn = key.split(".", 1)
        rows.append({
            "NetworkCode": net, "StationCode": stn, "Project": job.cfg.project, "Year": job.year, "DOY": job.doy,
            "FYear": job.fyear, "X": site.x, "Y": site.y, "Z": site.z,
            "sigmax": site.sx * math.sqrt(vf), "sigmay": site.sy * math.sqrt(vf), "sigmaz": site.sz * math.sqrt(vf),
            "VarianceFactor": vf,
            "sigmaxy": None if site.cxy is None else site.cxy * vf,
            "sigmaxz": None if site.cxz is None else site.cxz * vf,
            "sigmayz": None if site.cyz is None else site.cyz * vf})
    return rows, unknown


def ztd_rows(job: DayJob) -> list[dict]:
    values: list[parsers.ZtdValue] = []
    aliases: dict[str, str] = {}
    for s in job.sessions:
        aliases.update(s.aliases)
        for znd in sorted(Path(s.directory, "glbf").glob("*.znd")):
            values.extend(parsers.parse_atm_zen(znd.read_text(errors="replace")))
    rows = []
    for knot in parsers.average_ztd(values):
        key = aliases.get(knot.alias)
        if key is None:
            continue
        net, stn = key.split(".", 1)
        rows.append({"NetworkCode": net, "StationCode": stn, "Date": knot.epoch, "Project": job.cfg.project,
                     "Year": job.year, "DOY": job.doy, "ZTD": knot.ztd, "model": knot.model, "sigma": knot.sigma})
    return rows


@task("geode.gamit.combine_day", queue="gamit")
def combine_day(job: DayJob) -> dict:
    """The day's SINEX (the single session's, or a GLOBK combination of its sub-networks) and ZTD, stored."""
    from ..config import load_settings
    from ..db import open_database
    from .planning import day_directory

    if len(job.sessions) == 1:
        found = sorted(Path(job.sessions[0].directory, "glbf").glob("*.snx"))
        if not found:
            raise GeodeError(f"{job.label}: {job.sessions[0].directory}/glbf has no SINEX")
        snx = found[-1]
    else:
        work = day_directory(job.cfg, job.year, job.doy) / job.cfg.project
        programs = engine.Programs(work, job.cfg, job.gamit_path)
        snx = engine.combine_subnetworks(job.cfg, job.year, job.doy,
                                         [(s.dirname, s.directory) for s in job.sessions], programs, work)
    try:
        sinex = parsers.parse_sinex(snx.read_text(errors="replace"))
    except parsers.GamitParseError as exc:
        raise GeodeError(f"{job.label}: {snx}: {exc}") from None
    soln, unknown = solution_rows(job, sinex)
    ztd = ztd_rows(job)
    db = open_database(load_settings(), migrate=False)
    try:
        store.write_day_solution(db, job.cfg.project, job.year, job.doy, soln, ztd)
    finally:
        db.close()
    expected = {k for s in job.sessions for k in s.aliases.values()}
    return {"label": job.label, "stations": len(soln), "ztd": len(ztd), "variance_factor": sinex.variance_factor,
            "missing": sorted(expected - {f"{r['NetworkCode']}.{r['StationCode']}" for r in soln}),
            "unknown_sites": unknown, "sinex": str(snx), "sinex_notes": sinex.notes,
            "when": dt.datetime.now().isoformat(timespec="seconds")}
