"""``geode gamit run`` as library calls: plan → store partitions → sessions through the dispatch layer →
the day combinations of complete days → a report the CLI renders.

Only what is not done is processed: a session with gamit_stats rows and its directory is skipped, and a day
is re-combined only when one of its sessions ran in this call or it has no gamit_soln rows yet (GeoDE
re-combined every day on every run).
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field

from ..dates import GnssDate
from ..errors import ConfigError, GeodeError
from . import store
from .engine import SessionJob
from .planning import DayPlan, day_directory, plan_days
from .session_config import SessionConfig
from .tasks import DayJob, DaySession, combine_day, run_session


@dataclass
class RunReport:
    plans: list[DayPlan]
    sessions: list[dict] = field(default_factory=list)  # results of run_session
    days: list[dict] = field(default_factory=list)  # results of combine_day
    failures: list[dict] = field(default_factory=list)  # {"unit", "message", "log_tail"}
    skipped_done: int = 0
    incomplete_days: list[str] = field(default_factory=list)


def product_settings(settings) -> dict:
    atx = settings.get("ppp.atx") or []
    return {"brdc_template": str(settings.get("archive.brdc") or ""),
            "sp3_template": str(settings.get("archive.sp3") or ""),
            "sp3_centers": list(settings.get("archive.sp3_ac") or []),
            "atx": str(atx[-1]) if atx else "",
            "otl_model": str(settings.get("otl.otlmodel") or "FES2014b"),
            "gamit_path": str(settings.get("gamit.gamit_path") or "")}


def session_jobs(plans: list[DayPlan], cfg: SessionConfig, products: dict, dry_run: bool) -> list[SessionJob]:
    """``products``: product_settings() of the run."""
    jobs = []
    for plan in plans:
        for s in plan.sessions:
            if s.state == "done" and not dry_run:
                continue
            jobs.append(SessionJob(cfg=cfg, project=s.project, year=s.year, doy=s.doy, subnet=s.subnet,
                                   dirname=s.dirname, directory=s.directory, fyear=GnssDate(s.year, s.doy).fyear,
                                   stations=[plan.stations[k] for k in s.stations], dry_run=dry_run, **products))
    return jobs


def purge(db, cfg: SessionConfig, plans: list[DayPlan]) -> None:
    """Delete the days' directories and rows (gamit_soln, gamit_stats, gamit_subnets, gamit_ztd, sessions).
    Refused while a session of those days runs somewhere (its lease is live): nothing is deleted then."""
    for plan in plans:
        live = [r for r in store.session_rows(db, cfg.project, plan.year, plan.doy)
                if r["state"] == "running" and r["live"]]
        if live:
            raise GeodeError(f"cannot purge {plan.label}: subnet {int(live[0]['subnet'])} is running on "
                             f"{live[0]['lease_owner']}")
    for plan in plans:
        for s in plan.sessions:
            shutil.rmtree(s.directory, ignore_errors=True)
        shutil.rmtree(day_directory(cfg, plan.year, plan.doy) / cfg.project, ignore_errors=True)
        store.purge_day(db, cfg.project, plan.year, plan.doy)


def run(db, settings, cfg: SessionConfig, days: list, runner, *, dry_run: bool = False, purge_first: bool = False,
        extra_specs: list[str] = (), progress=None) -> RunReport:
    if not dry_run and getattr(runner, "mode", "") == "inline":  # workers check their own engine, first too
        from .programs import missing_programs

        missing = missing_programs(str(settings.get("gamit.gamit_path") or ""))
        if missing:
            raise ConfigError(f"GAMIT/GLOBK not found: {', '.join(missing)} missing (install GAMIT/GLOBK, put it on "
                              "PATH or set [gamit] gamit_path; 'geode doctor' lists what is missing)")
    if settings.archive_path is None:
        raise ConfigError("[archive] path is not set: geode gamit run reads the RINEX files from the archive")
    plans = plan_days(db, cfg, days, list(extra_specs), settings)
    if purge_first:
        purge(db, cfg, plans)
        plans = plan_days(db, cfg, days, list(extra_specs), settings)
    for plan in plans:
        new = [s for s in plan.sessions if not s.stored]
        if new:
            aliases = {k: st.alias for k, st in plan.stations.items()}
            store.save_aliases(db, aliases)
            store.save_subnets(db, new, aliases)
    report = RunReport(plans)
    products = product_settings(settings)
    jobs = session_jobs(plans, cfg, products, dry_run)
    report.skipped_done = sum(len(p.sessions) for p in plans) - len(jobs)
    ran_days: set[tuple[int, int]] = set()

    def on_session(outcome) -> None:
        report.sessions.append(outcome.result)
        ran_days.add((outcome.item.year, outcome.item.doy))

    summary = runner.map(run_session, jobs, on_result=on_session, progress=progress,
                         description="GAMIT: sessions")
    for failure in summary.failures:
        job = failure.item
        row = next((r for r in store.session_rows(db, job.project, job.year, job.doy)
                    if int(r["subnet"]) == job.subnet), None)
        message = (row or {}).get("message") or failure.message.split(": ", 1)[-1]
        report.failures.append({"unit": job.label, "message": message,
                                "log_tail": (row or {}).get("log_tail") or "", "node": failure.node})
    if dry_run:
        return report

    day_jobs = []
    for plan in plan_days(db, cfg, days, list(extra_specs), settings):
        pending = [s for s in plan.sessions if s.state != "done"]
        if pending:
            report.incomplete_days.append(f"{plan.label}: not combined, {len(pending)} of {len(plan.sessions)} "
                                          "session(s) not done")
            continue
        if not plan.sessions:
            continue
        if (plan.year, plan.doy) not in ran_days and store.day_has_solution(db, cfg.project, plan.year, plan.doy):
            continue
        sessions = []
        for s in plan.sessions:
            row = db.query_one('SELECT stations, alias FROM gamit_subnets WHERE "Project" = %s AND subnet = %s '
                               'AND "Year" = %s AND "DOY" = %s', (cfg.project, s.subnet, s.year, s.doy))
            aliases = dict(zip(row["alias"], row["stations"])) if row else {}
            sessions.append(DaySession(s.subnet, s.dirname, s.directory, aliases))
        day_jobs.append(DayJob(cfg, plan.year, plan.doy, GnssDate(plan.year, plan.doy).fyear, sessions,
                               products["gamit_path"]))
    if day_jobs:
        days_summary = runner.map(combine_day, day_jobs, on_result=lambda o: report.days.append(o.result),
                                  progress=progress, description="GLOBK: days")
        for failure in days_summary.failures:
            report.failures.append({"unit": f"{failure.item.label} combination",
                                    "message": failure.message.split(": ", 1)[-1], "log_tail": "",
                                    "node": failure.node})
    return report



def status(db, cfg: SessionConfig, days: list) -> list[dict]:
    """Per day and sub-network: state (planned, running, stalled, done, failed, or not planned) and GAMIT
    statistics."""
    out = []
    for day in sorted(days):
        params = (cfg.project, day.year, day.doy)
        subnets = db.query('SELECT subnet, stations, ties FROM gamit_subnets WHERE "Project" = %s AND "Year" = %s '
                           'AND "DOY" = %s ORDER BY subnet', params)
        sessions = {int(r["subnet"]): r for r in store.session_rows(db, *params)}
        stats = db.query('SELECT * FROM gamit_stats WHERE "Project" = %s AND "Year" = %s AND "DOY" = %s '
                         'ORDER BY subnet, system', params)
        solved = db.query_one('SELECT count(*) AS n FROM gamit_soln WHERE "Project" = %s AND "Year" = %s '
                              'AND "DOY" = %s', params)["n"]
        if not subnets:
            out.append({"date": day.yyyy_ddd, "subnet": None, "state": "not planned",
                        "stations": 0, "ties": 0, "systems": [], "message": "", "solutions": solved})
            continue
        for r in subnets:
            n = int(r["subnet"])
            row = sessions.get(n) or {}
            st = [s for s in stats if int(s["subnet"]) == n]
            state = row.get("state") or ("done" if st else "planned")
            if state == "running" and not row.get("live"):
                state = "stalled"  # its worker stopped renewing the lease: lost, or killed before redelivery
            out.append({
                "date": day.yyyy_ddd, "subnet": n, "state": state,
                "stations": len(r["stations"] or []), "ties": len(r["ties"] or []),
                "systems": [{"system": s["system"], "nrms": s["nrms"], "wl": s["wl"], "nl": s["nl"],
                             "iterations": int(s["iterations"] or 0)} for s in st],
                "message": row.get("message") or "", "log_tail": row.get("log_tail") or "",
                "lease_owner": row.get("lease_owner") or "", "solutions": solved})
    return out
