"""Drive GAMIT/GLOBK in a task directory: sh_gamit per GNSS system with GeoDE's retry rules, htoglb,
the multi-system GLOBK combination, glbtosnx, and the daily GLOBK combination of sub-networks.

Programs are found on PATH (and in ``[gamit] gamit_path`` when set); each runs in its own process group so
Ctrl-C or a revoked task ends the whole GAMIT tree. Outputs are read by ``parsers``.

Retry rules (GeoDE's, up to 3 sh_gamit attempts per system):
* a transient failure pattern in the output (file races, sh_setup/sh_preproc failures, ...): run again;
* ``Geodetic height unreasonable`` for a site: delete its RINEX, run again;
* over-constrained sites: drop their sittbl. lines (overconst_action = relax) or their RINEX (delete), again;
* GAMIT moved an a-priori coordinate by more than 0.3 m in the l-file: run again from the updated l-file.
The last attempt decides: FATAL in its output or an empty summary fails the system.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import platform
import re
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import GeodeError
from . import parsers
from .planning import StationDay
from .session_config import SessionConfig

log = logging.getLogger("geode.gamit")

MAX_ATTEMPTS = 3
LFILE_SHIFT_LIMIT = 0.3  # m
LOG_TAIL_LINES = 20


class EngineError(GeodeError):
    """A GAMIT/GLOBK program is missing or failed."""


@dataclass
class SessionJob:
    """Everything a worker needs to process one session (plain data: travels as JSON)."""

    cfg: SessionConfig
    project: str
    year: int
    doy: int
    subnet: int
    dirname: str
    directory: str
    fyear: float
    stations: list[StationDay]
    brdc_template: str = ""
    sp3_template: str = ""
    sp3_centers: list[str] = field(default_factory=list)
    atx: str = ""
    otl_model: str = "FES2014b"
    gamit_path: str = ""  # extra folder searched for the programs
    dry_run: bool = False

    @property
    def label(self) -> str:
        return f"{self.year}_{self.doy:03d} {self.dirname}"


@dataclass
class SystemResult:
    system: str
    success: bool
    nrms: float | None = None
    wl: float | None = None
    nl: float | None = None
    iterations: int = 0
    relaxed: list[str] = field(default_factory=list)  # aliases whose constraints were relaxed
    removed: list[str] = field(default_factory=list)  # aliases whose RINEX was removed
    missing: list[str] = field(default_factory=list)  # aliases htoglb found no data for
    fatals: list[str] = field(default_factory=list)
    log_tail: str = ""
    glx: str = ""  # h-file (GLOBK binary) of this system, relative to the task directory
    minutes: float = 0.0


# ---------------------------------------------------------------------------------------------------------------
# running programs


def _program_env(root: Path, job_cfg: SessionConfig, gamit_path: str) -> dict[str, str]:
    env = dict(os.environ)
    env["TMPDIR"] = str(root / "tmp")
    env["INSTITUTE"] = job_cfg.org
    if gamit_path:
        env["PATH"] = f"{gamit_path}{os.pathsep}{env.get('PATH', '')}"
    return env


class Programs:
    """Runs GAMIT/GLOBK programs for one session through ``geode.jobs.run_subprocess``: each in its own
    process group, killed with the task (Ctrl-C, revoke, worker death)."""

    def __init__(self, root: Path, cfg: SessionConfig, gamit_path: str = ""):
        self.root = root
        self.env = _program_env(root, cfg, gamit_path)

    def which(self, name: str) -> str:
        found = shutil.which(name, path=self.env.get("PATH"))
        if not found:
            raise EngineError(f"{name} not found on PATH (install GAMIT/GLOBK or set [gamit] gamit_path)")
        return found

    def require(self) -> None:
        """Every GAMIT/GLOBK program a session needs is here: checked before the products and RINEX files,
        so a machine without GAMIT says so first."""
        from .programs import REQUIRED_PROGRAMS

        missing = [n for n in REQUIRED_PROGRAMS if shutil.which(n, path=self.env.get("PATH")) is None]
        if missing:
            raise EngineError(f"GAMIT/GLOBK not found: {', '.join(missing)} missing on PATH (install GAMIT/GLOBK "
                              "or set [gamit] gamit_path)")

    def run(self, args: list[str], cwd: Path, output: Path, timeout: float | None = None) -> int:
        """Run a program with stdout+stderr appended to ``output``; returns its exit status."""
        from ..jobs import run_subprocess

        # written as it runs, so `tail -f` shows a long GAMIT run's progress
        return run_subprocess([self.which(args[0]), *args[1:]], cwd, timeout, env=self.env,
                              stdout=output).returncode


def link_tables(programs: Programs, tables: Path, year: int, eop_type: str) -> None:
    """sh_links.tables: GAMIT's standard tables of ``year`` linked into ``tables``."""
    programs.run(["sh_links.tables", "-frame", "J2000", "-year", str(year), "-eop", eop_type, "-topt", "none"],
                 tables, tables / "sh_links.out")


def glbtosnx(programs: Programs, cwd: Path, glx: Path, snx: Path, output: Path) -> Path:
    """The SINEX of a GLOBK h-file (both named relative to ``cwd``); raises with the log's tail if none appears."""
    programs.run(["glbtosnx", ".", "", os.path.relpath(glx, cwd), os.path.relpath(snx, cwd)], cwd, output)
    if not snx.exists():
        raise EngineError(f"glbtosnx did not write {snx.name}: {tail(output, 3)}")
    return snx


def tail(path: Path, lines: int = LOG_TAIL_LINES) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def _read(path: Path) -> str:
    try:
        return path.read_text(errors="replace")
    except OSError:
        return ""


# ---------------------------------------------------------------------------------------------------------------
# one system


def _day_of(job):
    from ..dates import GnssDate

    return GnssDate(job.year, job.doy)


def _remove_rinex(root: Path, alias: str) -> None:
    for f in (root / "rinex").glob(f"{alias.lower()}*"):
        f.unlink()


def _relax(root: Path, aliases: list[str], attempt: int) -> None:
    """Drop the sites' sittbl. lines so they fall back to the loose ALL default (GeoDE's 'relax')."""
    sittbl = root / "tables" / "sittbl."
    text = sittbl.read_text()
    shutil.copyfile(sittbl, sittbl.with_name(f"sittbl.{attempt}"))
    ids = {f"{a.upper()}_GPS" for a in aliases}
    sittbl.write_text("".join(line for line in text.splitlines(keepends=True)
                              if not any(i in line for i in ids)))


def run_system(job: SessionJob, root: Path, system: str, programs: Programs) -> SystemResult:
    cfg = job.cfg
    day = _day_of(job)
    ddd = f"{job.doy:03d}"
    yy = f"{job.year % 100:02d}"
    daydir = root / f"{ddd}{system}"
    summary = daydir / f"sh_gamit_{ddd}{system}.summary"
    lfile = root / "tables" / "lfile."
    result = SystemResult(system, False)
    started = time.monotonic()
    for attempt in range(MAX_ATTEMPTS):
        result.iterations = attempt
        before = _read(lfile)
        (root / "tables" / f"lfile.{attempt}").write_text(before)
        out = root / f"{cfg.org}{day.wwwwd}{system}{attempt}.out"
        args = ["sh_gamit", "-gnss", system, "-update_l", "N", "-topt", "none", "-c", "-copt", "null"]
        if cfg.noftp:
            args.append("-noftp")
        args += ["-dopt", "c", "x", "-expt", cfg.expt, "-d", str(job.year), ddd, "-minspan", "12", "-remakex", "Y",
                 "-eop", cfg.eop_type]
        programs.run(args, root, out)
        text = _read(out)
        summary_text = _read(summary)
        outcome = parsers.classify_output(text, bool(summary_text.strip()))
        last = attempt == MAX_ATTEMPTS - 1
        if outcome.transient and not last:
            log.info("%s %s: transient GAMIT failure, attempt %d again", job.label, system, attempt + 2)
            continue
        if outcome.unreasonable_height_site and not last:
            alias = outcome.unreasonable_height_site
            _remove_rinex(root, alias)
            result.removed.append(alias)
            continue
        if summary_text.strip() and not outcome.fatals:
            over = parsers.overconstrained_sites(summary_text)
            if over and not last:
                aliases = [a for a, _ in over]
                if cfg.overconst_action == "delete":
                    for a in aliases:
                        _remove_rinex(root, a)
                    result.removed.extend(aliases)
                else:
                    _relax(root, aliases, attempt)
                    result.relaxed.extend(aliases)
                continue
            shifts = parsers.lfile_shifts(before, _read(lfile))
            if any(v > LFILE_SHIFT_LIMIT for v in shifts.values()) and not last:
                log.info("%s %s: a-priori coordinates moved (%s), attempt %d again", job.label, system,
                         ", ".join(f"{k} {v:.2f} m" for k, v in sorted(shifts.items())), attempt + 2)
                continue
        break
    result.minutes = round((time.monotonic() - started) / 60.0, 2)
    result.log_tail = tail(out)
    result.fatals = outcome.fatals
    if outcome.fatals or not summary_text.strip():
        if not outcome.fatals:
            result.fatals = [f"sh_gamit wrote no summary ({summary.relative_to(root)})"]
        return result
    try:
        stats = parsers.parse_summary(summary_text)
    except parsers.GamitParseError as exc:
        result.fatals = [str(exc)]
        return result
    result.nrms, result.wl, result.nl = stats.nrms, stats.wl, stats.nl

    # h-file -> GLOBK binary h-file, o-file -> troposphere file
    gsoln = root / "gsoln" / system
    gsoln.mkdir(parents=True, exist_ok=True)
    hfiles = sorted(daydir.glob(f"h*.{yy}{ddd}"))
    if not hfiles:
        result.fatals = [f"sh_gamit wrote no h-file in {daydir.name}/"]
        return result
    svnav = root / "tables" / "svnav.dat"
    if svnav.exists() and not (gsoln / "svnav.dat").exists():
        (gsoln / "svnav.dat").symlink_to(svnav)
    htoglb_out = gsoln / "htoglb.out"
    programs.run(["htoglb", ".", "tmp.svs", "-a", str(hfiles[-1])], gsoln, htoglb_out)
    result.missing = sorted({m.lower() for m in re.findall(r"No data for site (\w{4})", _read(htoglb_out))})
    glx = sorted(gsoln.glob("h*.glx"))
    if system == "R":  # htoglb writes GLONASS solutions to .glr
        for glr in sorted(gsoln.glob("h*.glr")):
            target = glr.with_suffix(".glx")
            glr.replace(target)
            glx = [target]
    if not glx:
        result.fatals = ["htoglb produced no .glx file: invalid NRMS or ambiguity resolution"]
        result.log_tail = tail(htoglb_out)
        return result
    result.glx = str(glx[0].relative_to(root))
    ofiles = sorted(daydir.glob(f"o*a.{ddd}*"))
    if ofiles:
        shutil.move(str(ofiles[-1]), gsoln / f"{cfg.org}{day.wwwwd}.trp")
    result.success = True
    return result


# ---------------------------------------------------------------------------------------------------------------
# after the systems: one h-file per session, its SINEX and ZTD


def combine_systems(job: SessionJob, root: Path, results: list[SystemResult], programs: Programs) -> Path:
    """glbf/<h-file>.glx: the one system's solution, or a GLOBK combination of several (E/R/C down-weighted)."""
    glbf = root / "glbf"
    glbf.mkdir(exist_ok=True)
    ok = [r for r in results if r.success]
    if len(ok) == 1:
        target = glbf / Path(ok[0].glx).name
        shutil.copyfile(root / ok[0].glx, target)
        return target
    day = _day_of(job)
    name = f"h{day.year2d}{day.month:02d}{day.day:02d}1200_{job.cfg.expt}.glx"
    (glbf / "globk.cmd").write_text(
        " app_ptid all\n prt_opt GDLF MIDP CMDS PLST\n"
        f" out_glb {name}\n descript Multi GNSS combination of global or regional solutions\n"
        " max_chii  1. 0.6\n apr_site  all 1 1 1 0 0 0\n")
    # GPS full weight; the other systems down-weighted (GLOBK manual: weights in the .gdl)
    (glbf / "hfiles.gdl").write_text("".join(f"../{r.glx} {1.0 if r.system == 'G' else 4.0}\n" for r in ok))
    programs.run(["globk", "0", "out.prt", "globk.log", "hfiles.gdl", "globk.cmd"], glbf, glbf / "globk.out")
    if not (glbf / name).exists():
        raise EngineError(f"globk did not write {name} (see {glbf / 'globk.out'})")
    return glbf / name


def make_sinex(job: SessionJob, root: Path, glx: Path, programs: Programs) -> Path:
    day = _day_of(job)
    snx = root / "glbf" / f"{job.cfg.org.lower()}{day.wwwwd}.snx"
    return glbtosnx(programs, root, glx, snx, root / "glbf" / "glbtosnx.out")


def collect_ztd(job: SessionJob, root: Path, results: list[SystemResult]) -> Path:
    """glbf/<org><wwww><d>.znd: the ATM_ZEN lines of every successful system's o-file."""
    day = _day_of(job)
    znd = root / "glbf" / f"{job.cfg.org}{day.wwwwd}.znd"
    lines = []
    for r in results:
        if r.success:
            trp = root / "gsoln" / r.system / f"{job.cfg.org}{day.wwwwd}.trp"
            lines += [line for line in _read(trp).splitlines() if line.lstrip().startswith("ATM_ZEN")]
    znd.write_text("".join(line + "\n" for line in lines))
    return znd


def cleanup(root: Path) -> None:
    """Keep what diagnoses a run; drop the bulky inputs (RINEX, orbits) that the archive still has."""
    for sub in ("rinex", "igs", "brdc", "tmp"):
        shutil.rmtree(root / sub, ignore_errors=True)


def stats_rows(job: SessionJob, results: list[SystemResult], started: dt.datetime) -> list[dict]:
    aliases = {s.alias: s.key for s in job.stations}
    rows = []
    for r in results:
        if not r.success:
            continue
        relaxed = [aliases.get(a, a) for a in r.relaxed]
        rows.append({
            "Project": job.project, "subnet": job.subnet, "Year": job.year, "DOY": job.doy, "FYear": job.fyear,
            "wl": r.wl, "nl": r.nl, "nrms": r.nrms, "relaxed_constrains": ",".join(relaxed) or None,
            "max_overconstrained": (relaxed[0] if relaxed else "")[:8], "iterations": r.iterations,
            "node": platform.node()[:50], "execution_time": r.minutes, "execution_date": started,
            "system": r.system})
    return rows


# ---------------------------------------------------------------------------------------------------------------
# the day: GLOBK combination of sub-networks


def combine_subnetworks(cfg: SessionConfig, year: int, doy: int, sessions: list[tuple[str, str]], programs: Programs,
                        work: Path) -> Path:
    """GLOBK combination of the day's sub-network h-files into one SINEX; ``sessions`` = [(dirname, dir)]."""
    from ..dates import GnssDate

    day = GnssDate(year, doy)
    if work.exists():
        shutil.rmtree(work)
    tables = work / "tables"
    tables.mkdir(parents=True)
    for dirname, directory in sessions:
        for glx in sorted(Path(directory, "glbf").glob("h*.glx")):
            shutil.copyfile(glx, work / f"h{dirname}{year:04d}{doy:03d}_{cfg.expt}.glx")
    link_tables(programs, tables, year, cfg.eop_type)
    pmu = Path.home() / "gg" / "tables" / "pmu.usno"
    if pmu.exists() and not (tables / "pmu.usno").exists():
        (tables / "pmu.usno").symlink_to(pmu)
    # backbone (subnet 0) first, then the clusters
    (tables / "globk.gdl").write_text("".join(f"../{p.name}\n" for p in sorted(work.glob("h*.glx"))))
    cmd = [" app_ptid all", " prt_opt GDLF MIDP CMDS", " out_glb ../file.GLX"]
    if (tables / "pmu.usno").exists():
        cmd.append(" in_pmu pmu.usno")
    cmd.append(" descript Daily combination of global and regional solutions")
    if cfg.network_type == "global":
        cmd += ["# activated for global network merge", " apr_wob    10 10  10 10", " apr_ut1    10 10",
                " apr_svs all 0.05 0.05 0.05 0.005 0.005 0.005 0.01 0.01 0.00 0.01 FR"]
    cmd += [" max_chii  1. 0.6", " apr_neu  all 1 1 1 0 0 0", "#apr_atm  all 1 1 1"]
    (tables / "globk.cmd").write_text("\n".join(cmd) + "\n")
    programs.run(["globk", "0", "../file.prt", "../globk.log", "globk.gdl", "globk.cmd"], tables, work / "globk.out")
    if not (work / "file.GLX").exists():
        raise EngineError(f"globk did not combine the sub-networks: {tail(work / 'globk.out', 3)}")
    snx = work / f"{cfg.org.lower()}{day.wwwwd}.snx"
    return glbtosnx(programs, tables, work / "file.GLX", snx, work / "glbtosnx.out")
