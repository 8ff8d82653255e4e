"""Start, inspect and stop workers. Inspection goes through Celery remote control (broadcast), never a task:
a worker busy with a 10-hour GAMIT day still answers."""

from __future__ import annotations

import os
import platform
import socket
import threading
import time
from dataclasses import asdict, dataclass, field

from ..errors import ServiceUnavailable, UsageError
from ..jobs.registry import QUEUES


def parse_queues(text: str) -> list[str]:
    queues = [q.strip() for q in text.split(",") if q.strip()]
    unknown = [q for q in queues if q not in QUEUES]
    if not queues or unknown:
        raise UsageError(f"unknown queue(s) {', '.join(unknown) or '(none)'}: choose from {', '.join(QUEUES)}")
    return queues


def default_hostname(queues: list[str]) -> str:
    return f"geode-{'-'.join(queues)}@{socket.gethostname()}"


def worker_identity(settings) -> dict:
    """What a worker reports about itself (geode_info remote command; also used for drift checks)."""
    import geode

    return {"geode": geode.__version__, "python": platform.python_version(), "config": settings.fingerprint(),
            "pid": os.getpid(), "cwd": os.getcwd()}


def _install_remote_commands(settings) -> None:
    from celery.worker.control import inspect_command

    @inspect_command()
    def geode_info(state):  # noqa: ARG001 - Celery passes the worker state
        """geode and Python versions and the config hash of this worker."""
        return worker_identity(settings)


DEFAULT_WORKER_GRACE = 60.0  # seconds running units get to finish after SIGTERM ([jobs] worker_grace)


def _grace_on_sigterm(grace: float) -> None:
    """SIGTERM (`kill`, `geode worker stop`, systemd with KillMode=mixed, a spot instance's notice) is Celery's
    warm shutdown: no new units, running ones finish. Units still running ``grace`` seconds later are handed back
    to the queue (a cold shutdown: kombu restores the unacknowledged messages) for another worker to run."""
    import signal

    from celery import signals

    def on_ready(**_):
        warm = signal.getsignal(signal.SIGTERM)

        def on_sigterm(signum, frame):
            def cold():
                os.kill(os.getpid(), signal.SIGQUIT)

            timer = threading.Timer(grace, cold)
            timer.daemon = True
            timer.start()
            if callable(warm):
                warm(signum, frame)

        signal.signal(signal.SIGTERM, on_sigterm)

    signals.worker_ready.connect(on_ready, weak=False)


def _quiet_connection_loss_warning() -> None:
    """Units keep running when the broker goes away (see geode.distributed.settings); Celery warns about that
    choice at every reconnect."""
    import warnings

    from celery.exceptions import CPendingDeprecationWarning

    warnings.filterwarnings("ignore", category=CPendingDeprecationWarning)


def start_worker(settings, queues: list[str], concurrency: int | None = None, loglevel: str = "INFO",
                 hostname: str | None = None, max_tasks_per_child: int | None = None, pool: str = "prefork") -> None:
    """Run a Celery worker of geode's app in this process until it is shut down."""
    from .app import get_app
    from .broker import check_broker

    check_broker(settings)
    _install_remote_commands(settings)
    _quiet_connection_loss_warning()
    _grace_on_sigterm(float(settings.get("jobs.worker_grace", DEFAULT_WORKER_GRACE)))
    app = get_app(settings)
    argv = ["worker", "--queues", ",".join(queues), "--loglevel", loglevel, "--hostname",
            hostname or default_hostname(queues), "--pool", pool, "--without-gossip", "--without-mingle",
            "--without-heartbeat"]
    if concurrency:
        argv += ["--concurrency", str(concurrency)]
    if max_tasks_per_child:
        argv += ["--max-tasks-per-child", str(max_tasks_per_child)]
    app.worker_main(argv)


@dataclass
class WorkerStatus:
    hostname: str
    ping: bool = False
    queues: list[str] = field(default_factory=list)
    active: int = 0
    reserved: int = 0
    concurrency: int | None = None
    geode: str | None = None
    python: str | None = None
    config: str | None = None
    drift: list[str] = field(default_factory=list)  # geode/Python versions that differ from this machine's
    config_differs: bool = False  # its effective configuration hashes differently (may be intended)

    def as_dict(self) -> dict:
        return asdict(self)


def workers_status(settings, timeout: float = 1.5, destination: list[str] | None = None) -> list[WorkerStatus]:
    """One WorkerStatus per worker that answers; ServiceUnavailable if the broker is down."""
    from .app import get_app
    from .broker import check_broker, inspect

    check_broker(settings)
    app = get_app(settings)
    pings = inspect(app, timeout, destination).ping() or {}
    found: dict[str, WorkerStatus] = {h: WorkerStatus(h, ping=True) for h in pings}
    if not found:
        return []
    # the rest asks only the workers that answered, and returns as soon as each has replied
    insp = app.control.inspect(timeout=timeout, destination=sorted(found), limit=len(found))

    def each(replies):
        for host, value in (replies or {}).items():
            yield found.setdefault(host, WorkerStatus(host)), value

    for st, queues in each(insp.active_queues()):
        st.queues = sorted(q["name"] for q in queues or [] if not q["name"].endswith((".dq", ".dq2")))
    for st, tasks in each(insp.active()):
        st.active = len(tasks or [])
    for st, tasks in each(insp.reserved()):
        st.reserved = len(tasks or [])
    for st, stats in each(insp.stats()):
        st.concurrency = ((stats or {}).get("pool") or {}).get("max-concurrency")
    for st, info in each(insp._request("geode_info")):
        if isinstance(info, dict) and "geode" in info:
            st.geode, st.python, st.config = info.get("geode"), info.get("python"), info.get("config")
    here = worker_identity(settings)
    for st in found.values():
        for key in ("geode", "python"):
            theirs = getattr(st, key)
            if theirs and theirs != here[key]:
                st.drift.append(f"{key} {theirs} (here {here[key]})")
        if st.config and st.config != here["config"]:
            st.config_differs = True
    return sorted(found.values(), key=lambda s: s.hostname)


def stop_workers(settings, hostnames: list[str] | None = None, timeout: float = 1.5) -> list[str]:
    """Warm shutdown (running units finish) of the named workers, or all that answer; returns their names.

    Celery's shutdown command sends no reply, so the workers are found with a ping first.
    """
    from .app import get_app
    from .broker import check_broker, inspect

    check_broker(settings)
    app = get_app(settings)
    present = sorted(inspect(app, timeout, hostnames or None).ping() or {})
    if hostnames:
        missing = sorted(set(hostnames) - set(present))
        if missing:
            raise ServiceUnavailable(f"no answer from worker(s) {', '.join(missing)}")
    if present:
        app.control.shutdown(destination=present)
    return present


def check_workers(settings, hostnames: list[str], timeout: float = 60.0) -> dict[str, dict]:
    """Run ``geode.health.check_worker`` on each named worker through its direct queue.

    {hostname: {"success", "node", "errors", "checks"}}; a worker that does not answer within ``timeout``
    (busy with long units: it runs the check when a slot frees) gets success False and says so.
    """
    from celery.utils.nodenames import worker_direct

    from .app import get_app

    app = get_app(settings)
    caller = worker_identity(settings)
    sent = {host: app.send_task("geode.health.check_worker", args=[caller], queue=worker_direct(host))
            for host in hostnames}
    deadline = time.monotonic() + timeout
    reports: dict[str, dict] = {}
    for host, result in sent.items():
        try:
            reports[host] = result.get(timeout=max(0.1, deadline - time.monotonic()), propagate=False)
        except Exception as exc:  # TimeoutError, or the broker went away
            reports[host] = {"success": False, "node": host, "errors": [f"no answer: {type(exc).__name__}"],
                             "checks": []}
        if not isinstance(reports[host], dict):
            reports[host] = {"success": False, "node": host, "errors": [str(reports[host])], "checks": []}
    return reports
