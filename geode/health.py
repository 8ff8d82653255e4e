"""Health checks: the ``geode doctor`` library and the ``geode.health.check_worker`` task.

Each check returns a ``Check`` (ok / warn / fail / skip, a message, a hint for failures, and the exit code a
failure contributes: 78 configuration, 69 a service down, 1 anything else). Checks are ordered by dependency
and fast: short connect timeouts, workers asked through remote control (a worker busy with a 10-hour GAMIT
day still answers), never by queueing a task behind its work.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .errors import ConfigError, ExitCode, GeodeError
from .gamit.programs import REQUIRED_PROGRAMS as GAMIT_PROGRAMS
from .jobs.registry import task

OK, WARN, FAIL, SKIP = "ok", "warn", "fail", "skip"

# which subcommands need what
QUEUE_USERS = {"gamit": ["geode gamit run"], "compute": ["geode stack", "geode dra", "geode kml"],
               "io": ["geode scan", "geode download"]}
RINEX_PROGRAMS = ("crx2rnx", "rnx2crx")
RINEX_USERS = ["geode scan archive", "geode scan ingest", "geode download"]


@dataclass
class Check:
    name: str
    status: str
    message: str
    hint: str = ""
    code: int = 0  # exit code a failure contributes
    needed_by: list[str] = field(default_factory=list)
    seconds: float = 0.0
    missing: str = ""  # a failure that stops needed_by from running: what is missing ("sh_gamit")

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def overall_exit(checks: list[Check]) -> int:
    """78 if the configuration is broken, else 69 if a service is down, else 1 when something a subcommand needs
    is missing (a program, a folder, the schema), else 0 (warnings included)."""
    codes = {c.code or int(ExitCode.FAILURE) for c in checks if c.status == FAIL}
    for code in (ExitCode.CONFIG, ExitCode.UNAVAILABLE, ExitCode.FAILURE):
        if int(code) in codes:
            return int(code)
    return 0


def cannot_run(checks: list[Check]) -> dict[str, list[str]]:
    """{subcommand: [what it misses]} from the failed checks, e.g. {"gamit run": ["sh_gamit", "globk"]}."""
    out: dict[str, list[str]] = {}
    for c in checks:
        if c.status != FAIL or not c.missing:
            continue
        for user in c.needed_by:
            out.setdefault(user.removeprefix("geode "), []).append(c.missing)
    return out


def summary(checks: list[Check]) -> dict[str, Any]:
    """Counts of failures (✘) and warnings (!) and what cannot run: the doctor's verdict."""
    failed = [c.name for c in checks if c.status == FAIL]
    return {"failed": len(failed), "warnings": sum(c.status == WARN for c in checks), "failed_checks": failed,
            "cannot_run": cannot_run(checks), "exit_code": overall_exit(checks)}


def summary_line(checks: list[Check], fail_mark: str = "✘", warn_mark: str = "!") -> str:
    """One line: 'geode doctor: 2 ✘, 6 ! — cannot run: gamit run: sh_gamit, globk missing; ...'."""
    s = summary(checks)
    if not s["failed"] and not s["warnings"]:
        return "geode doctor: all checks passed"
    counts = f"geode doctor: {s['failed']} {fail_mark}, {s['warnings']} {warn_mark}"
    if not s["failed"]:
        return f"{counts} (warnings only: every subcommand can run here)"
    parts = [f"{cmd}: {', '.join(what)} missing" for cmd, what in s["cannot_run"].items()]
    others = [name for name in s["failed_checks"]
              if not any(c.name == name and c.missing for c in checks)]
    if others:
        parts.append(f"failed: {', '.join(others)}")
    return f"{counts} — cannot run: {'; '.join(parts)}" if s["cannot_run"] else f"{counts} — {'; '.join(parts)}"


# ---------------------------------------------------------------------------------------------------------------
# individual checks


def check_config(config_file=None) -> tuple[Check, Any]:
    from .config import load_settings

    try:
        settings = load_settings(config_file)
    except ConfigError as exc:
        return Check("config", FAIL, str(exc), "fix the file named above (`geode config show` lists the sources)",
                     int(ExitCode.CONFIG)), None
    found = [str(f.path) for f in settings.files if f.exists]
    message = f"read {', '.join(found)}" if found else "no configuration file; defaults and environment only"
    return Check("config", OK, message), settings


def check_database(settings) -> tuple[Check, Any]:
    from dataclasses import replace

    from .db.connection import Database, resolve_target
    from .db.embedded import running_target

    try:
        target = resolve_target(settings)
    except ConfigError as exc:
        return Check("database", FAIL, str(exc), "fix [postgres] or GEODE_DATABASE_URL", int(ExitCode.CONFIG)), None
    running = running_target(target)
    if running is None:
        return Check("database", WARN, f"{target.describe()} is not running; it starts on first use",
                     "set [postgres] hostname or GEODE_DATABASE_URL to use a shared server"), None
    target = running
    try:
        db = Database.connect(replace(target, connect_timeout=min(target.connect_timeout, 2)))
    except GeodeError as exc:
        return Check("database", FAIL, str(exc), "is the server running? check [postgres] / GEODE_DATABASE_URL "
                     f"(from {target.source})", int(ExitCode.UNAVAILABLE)), None
    return Check("database", OK, f"{target.describe()} answers (PostgreSQL {db.server_version})"), db


def check_schema(db) -> Check:
    from .db.schema import current_version, latest_version

    have, want = current_version(db), latest_version()
    if have < want:
        return Check("schema", FAIL, f"schema version {have}, this geode needs {want}",
                     "run `geode db upgrade`", int(ExitCode.FAILURE))
    return Check("schema", OK, f"schema version {have} is current")


def check_runs(db, settings) -> Check:
    """Runs left running, or lost (their coordinator stopped heartbeating): each can be resumed or cancelled."""
    from .jobs.runs import unfinished_runs

    if not db.table_exists("runs"):
        return Check("runs", SKIP, "no run history in this database yet")
    runs = unfinished_runs(db, settings)
    lost = [r for r in runs if r["state"] == "lost"]
    if not runs:
        return Check("runs", OK, "no run left running or lost")
    listed = ", ".join(f"{r['id']} {r['command']} ({r['state']}, {r['units_done']}/{r['units_total']} units)"
                       for r in runs[:5]) + (f" and {len(runs) - 5} more" if len(runs) > 5 else "")
    if not lost:
        return Check("runs", OK, f"running now: {listed}")
    return Check("runs", WARN, f"{len(lost)} lost run(s): {listed}",
                 f"geode runs show {lost[0]['id']}; resume with geode runs resume {lost[0]['id']} or stop it with "
                 f"geode runs cancel {lost[0]['id']}")


def check_broker(settings) -> Check:
    from .distributed.broker import check_broker as ping, describe_broker

    configured = settings.broker_url.source != "default"
    if importlib.util.find_spec("celery") is None:
        return Check("broker", WARN if not configured else FAIL, "celery is not installed: runs are inline only",
                     "pip install 'geode-gnss[distributed]'", int(ExitCode.CONFIG))
    try:
        ping(settings, timeout=1.5)
    except ConfigError as exc:
        return Check("broker", FAIL, str(exc), "use a redis:// URL", int(ExitCode.CONFIG))
    except GeodeError as exc:
        if not configured and not settings.parallel:
            return Check("broker", WARN, f"no broker configured and none at {describe_broker(settings)}: "
                         "runs are inline only", "set CELERY_BROKER_URL or [celery] broker_url for --parallel")
        return Check("broker", FAIL, str(exc), "start Redis or fix CELERY_BROKER_URL / [celery] broker_url",
                     int(ExitCode.UNAVAILABLE))
    return Check("broker", OK, f"{describe_broker(settings)} answers")


def check_workers(settings) -> list[Check]:
    from .distributed.worker import workers_status
    from .jobs.registry import QUEUES

    try:
        found = workers_status(settings, timeout=1.0)
    except GeodeError as exc:
        return [Check("workers", FAIL, str(exc), "", int(ExitCode.UNAVAILABLE))]
    required = settings.parallel
    if not found:
        status = FAIL if required else WARN
        return [Check("workers", status, "no worker answered", "start one: `geode worker start`",
                      int(ExitCode.UNAVAILABLE) if required else 0)]
    checks = [Check("workers", OK, f"{len(found)} worker(s): " + ", ".join(
        f"{w.hostname} [{','.join(w.queues)}] x{w.concurrency}" for w in found))]
    for queue in QUEUES:
        consumers = [w.hostname for w in found if queue in w.queues]
        if consumers:
            checks.append(Check(f"queue {queue}", OK, f"consumed by {len(consumers)} worker(s)",
                                needed_by=QUEUE_USERS[queue]))
        else:
            checks.append(Check(f"queue {queue}", WARN, "no worker consumes it: parallel runs of "
                                f"{', '.join(QUEUE_USERS[queue])} exit 69",
                                f"`geode worker start --queues {queue}`", needed_by=QUEUE_USERS[queue]))
    drifted = [f"{w.hostname}: {'; '.join(w.drift)}" for w in found if w.drift]
    if drifted:
        checks.append(Check("version drift", FAIL, " | ".join(drifted),
                            "install the same geode version and configuration on every worker",
                            int(ExitCode.FAILURE)))
    else:
        checks.append(Check("version drift", OK, "workers run the same geode and Python as this machine"))
    differ = [w.hostname for w in found if w.config_differs]
    if differ:
        checks.append(Check("worker config", WARN, f"configuration differs on {', '.join(differ)}",
                            "compare `geode config show` there and here"))
    return checks


def _hatanaka_bin() -> str:
    try:
        import importlib.util

        spec = importlib.util.find_spec("hatanaka")
    except (ImportError, ValueError):
        return ""
    if spec is None or not spec.origin:
        return ""
    return str(Path(spec.origin).parent / "bin")


def find_program(name: str, extra: list[str] | None = None) -> str | None:
    path = os.pathsep.join([*(p for p in (extra or []) if p), os.environ.get("PATH", ""),
                            str(Path(sys.executable).parent)])
    return shutil.which(name, path=path)


def check_executables(settings, remote_queues: set[str] | None = None, *, on_worker: bool = False) -> list[Check]:
    """Programs, with the subcommands that need them. A missing program fails (doctor exits 1) when a subcommand
    that runs here needs it; GAMIT only warns when parallel runs send it to workers consuming the gamit queue
    (``remote_queues``) or when this is a worker (one without GAMIT must not consume that queue), and PPP/grdtab
    are skipped until configured."""
    from .gamit import programs as gamit

    checks = []
    gamit_dir = str(settings.get("gamit.gamit_path") or "")
    users = ["geode gamit run"]
    remote = on_worker or (settings.parallel and "gamit" in (remote_queues or set()))
    where = f"not in [gamit] gamit_path {gamit_dir} nor on PATH" if gamit_dir else "not on PATH"
    for name in GAMIT_PROGRAMS:
        found = gamit.find(name, gamit_dir)
        if found:
            checks.append(Check(f"program {name}", OK, found, needed_by=users))
        elif remote:
            checks.append(Check(f"program {name}", WARN, where + (
                "" if on_worker else " here; the workers of queue gamit run it"),
                "a host without GAMIT must not consume the gamit queue" if on_worker else
                "`geode worker status --check` checks the workers' programs", needed_by=users))
        else:
            checks.append(Check(f"program {name}", FAIL, f"{where} (GAMIT/GLOBK not installed here)",
                                "install GAMIT/GLOBK or set [gamit] gamit_path (its bin folder)",
                                int(ExitCode.FAILURE), users, missing=name))
    tables = gamit.gg_tables()
    if gamit.tables_present():
        checks.append(Check("GAMIT tables", OK, str(tables), needed_by=users))
    elif remote:
        checks.append(Check("GAMIT tables", WARN, f"{tables}/pmu.usno not found here; the workers of queue gamit "
                            "need it", gamit.TABLES_HINT, needed_by=users))
    else:
        checks.append(Check("GAMIT tables", FAIL, f"{tables}/pmu.usno not found", gamit.TABLES_HINT,
                            int(ExitCode.FAILURE), users, missing="~/gg/tables"))
    for name in RINEX_PROGRAMS:
        found = find_program(name, [_hatanaka_bin()])
        checks.append(Check(f"program {name}", OK, found, needed_by=RINEX_USERS) if found else
                      Check(f"program {name}", FAIL, "not found", "pip install hatanaka (ships crx2rnx/rnx2crx)",
                            int(ExitCode.FAILURE), RINEX_USERS, missing=name))
    for key, label, users in (("ppp.ppp_exe", "PPP", ["geode scan ppp"]),
                              ("otl.grdtab", "grdtab", ["geode scan otl"])):
        configured = settings.get(key)
        if not configured:
            checks.append(Check(f"program {label}", SKIP, f"[{key.replace('.', '] ')} not set (optional)",
                                needed_by=users))
            continue
        found = configured if os.path.isfile(configured) and os.access(configured, os.X_OK) else find_program(
            configured)
        checks.append(Check(f"program {label}", OK, found, needed_by=users) if found else
                      Check(f"program {label}", FAIL, f"{configured} (from {settings.source(key)}) is not an "
                            "executable file", f"fix [{key.replace('.', '] ')}", int(ExitCode.FAILURE), users,
                            missing=Path(configured).name))
    if settings.get("ppp.ppp_exe"):
        checks.append(_ppp_setup_check(settings))
    return checks


def _ppp_setup_check(settings) -> Check:
    """The rest of what PPP needs: support files, one ANTEX file per frame, the orbit archive."""
    from .ppp.setup import ppp_setup

    users = ["geode scan ppp"]
    try:
        setup = ppp_setup(settings)
    except ConfigError as exc:
        return Check("PPP setup", FAIL, str(exc), "fix the [ppp] settings named", int(ExitCode.FAILURE), users,
                     missing="[ppp] setup")
    frames = ", ".join(f"{f.name} ({Path(f.atx).name})" for f in setup.frames)
    return Check("PPP setup", OK, f"frames {frames}; orbits {setup.sp3_template}", needed_by=users)


PATH_USERS = {"archive.path": ["geode scan", "geode gamit run"], "archive.repository": ["geode scan ingest",
                                                                                          "geode download"]}


def check_paths(settings) -> list[Check]:
    checks = []
    for key, label in (("archive.path", "archive"), ("archive.repository", "repository")):
        value = settings.get(key)
        users = PATH_USERS[key]
        if not value:
            checks.append(Check(label, SKIP, f"[{key.replace('.', '] ')} not set", needed_by=users))
            continue
        path = Path(value)
        if not path.is_dir():
            checks.append(Check(label, FAIL, f"{path} (from {settings.source(key)}) is not a folder",
                                "create it or fix the setting", int(ExitCode.FAILURE), users,
                                missing=f"{label} folder"))
        elif not os.access(path, os.R_OK | os.W_OK | os.X_OK):
            checks.append(Check(label, FAIL, f"{path} is not readable and writable by this user",
                                "fix its permissions", int(ExitCode.FAILURE), users, missing=f"{label} access"))
        else:
            checks.append(Check(label, OK, f"{path} is readable and writable", needed_by=users))
    return checks


def _timed(func, *args):
    start = time.monotonic()
    result = func(*args)
    spent = time.monotonic() - start
    for c in result if isinstance(result, list) else [result[0] if isinstance(result, tuple) else result]:
        c.seconds = round(spent, 3)
    return result


@dataclass
class DoctorContext:
    """What a registered check gets: the settings, an open database (None when it is down or not running:
    doctor never starts the embedded server) and whether the broker answered."""

    settings: Any
    db: Any = None
    broker_ok: bool = False


EXTRA_CHECKS: list[Any] = []  # callables DoctorContext -> list[Check], run after the built-in checks, in order
EXTRA_CHECK_MODULES: list[str] = []  # modules that register checks when imported (e.g. runs left running)


def doctor_check(func):
    """Register ``func(ctx: DoctorContext) -> list[Check]`` as a doctor check (decorator)."""
    if func not in EXTRA_CHECKS:
        EXTRA_CHECKS.append(func)
    return func


def _extra_checks(ctx: DoctorContext) -> list[Check]:
    import importlib

    for name in EXTRA_CHECK_MODULES:
        importlib.import_module(name)
    checks: list[Check] = []
    for func in EXTRA_CHECKS:
        label = getattr(func, "__name__", "check").removeprefix("check_").replace("_", " ")
        try:
            checks += _timed(func, ctx)
        except Exception as exc:  # a broken check reports itself and never stops the others
            checks.append(Check(label, FAIL, f"the check itself failed: {type(exc).__name__}: {exc}",
                                code=int(ExitCode.FAILURE)))
    return checks


def run_doctor(config_file=None) -> list[Check]:
    """Every check, in dependency order; later checks are skipped when what they need is missing."""
    config, settings = _timed(check_config, config_file)
    checks = [config]
    if settings is None:
        return checks + [Check(name, SKIP, "needs a valid configuration")
                         for name in ("database", "broker", "workers", "programs", "paths")]
    # the two network checks run side by side: with both services down doctor still answers in ~2 s
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(2) as pool:
        pending_db = pool.submit(_timed, check_database, settings)
        pending_broker = pool.submit(_timed, check_broker, settings)
        database, db = pending_db.result()
        broker = pending_broker.result()
    checks.append(database)
    try:
        if db is not None:
            checks.append(_timed(check_schema, db))
            checks.append(_timed(check_runs, db, settings))
        checks.append(broker)
        queues: set[str] = set()
        if broker.status == OK:
            worker_checks = _timed(check_workers, settings)
            checks += worker_checks
            queues = {c.name.removeprefix("queue ") for c in worker_checks
                      if c.name.startswith("queue ") and c.status == OK}
        else:
            checks.append(Check("workers", SKIP, "needs a reachable broker"))
        checks += _timed(check_executables, settings, queues)
        checks += _timed(check_paths, settings)
        checks += _extra_checks(DoctorContext(settings, db, broker.status == OK))
    finally:
        if db is not None:
            db.close()
    return checks


# ---------------------------------------------------------------------------------------------------------------
# the check run on each worker


@task("geode.health.check_worker", queue="compute")
def check_worker(caller: dict | None = None) -> dict:
    """Run on one worker (through its direct queue): versions vs the caller's, database, config, programs, paths.

    Returns {"success", "node", "errors", "checks"}; ``caller`` is the caller's geode/python/config identity.
    """
    import platform

    from .distributed.worker import worker_identity

    checks: list[Check] = []
    config, settings = check_config()
    checks.append(config)
    if settings is not None:
        here = worker_identity(settings)
        for key in ("geode", "python", "config"):
            theirs = (caller or {}).get(key)
            if theirs and theirs != here[key]:
                checks.append(Check(f"{key} drift", FAIL, f"worker has {here[key]}, caller has {theirs}",
                                    "install the same version/configuration everywhere"))
        database, db = check_database(settings)
        checks.append(database)
        if db is not None:
            db.close()
        checks += check_executables(settings, on_worker=True)
        checks += check_paths(settings)
        production = settings.production_dir
        try:
            production.mkdir(parents=True, exist_ok=True)
            checks.append(Check("scratch", OK, f"{production} is writable"))
        except OSError as exc:
            checks.append(Check("scratch", FAIL, f"{production}: {exc.strerror}", "set [archive] production"))
    errors = [f"{c.name}: {c.message}" for c in checks if c.status == FAIL]
    return {"success": not errors, "node": platform.node(), "errors": errors, "checks": [c.as_dict() for c in checks]}
