"""Small built-in tasks: a no-op for benchmarks and tests of the dispatch layer itself."""

from __future__ import annotations

import os
import platform
import time

from .registry import task


@task("geode.jobs.noop", queue="compute")
def noop(value=None):
    return value


@task("geode.jobs.sleep", queue="compute")
def sleep(seconds: float, value=None):
    time.sleep(seconds)
    return {"value": value, "node": platform.node(), "pid": os.getpid()}


@task("geode.jobs.fail", queue="compute")
def fail(message: str = "deliberate failure"):
    raise RuntimeError(message)


@task("geode.jobs.record", queue="compute", label=lambda key, *args, **kwargs: key)
def record(key: str, value: str | None = None, seconds: float = 0.0) -> dict:
    """Upsert one row of geode_job_probe (idempotent: a redelivered unit updates, never duplicates)."""
    from ..db.live import shared_database

    if seconds:
        time.sleep(seconds)
    with shared_database().transaction() as cur:
        cur.execute(
            "INSERT INTO geode_job_probe (key, value, node) VALUES (%s, %s, %s) "
            "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, node = EXCLUDED.node, "
            "writes = geode_job_probe.writes + 1, updated = now() RETURNING writes",
            (key, value, platform.node()))
        row = cur.fetchone()
    return {"key": key, "value": value, "writes": row["writes"]}


@task("geode.jobs.crash", queue="compute")
def crash(marker: str | None = None):
    """Kill the process running this unit (SIGKILL), as the OOM killer would: tests redelivery and its limit.

    With ``marker``, only the first delivery crashes (it creates the file), so the redelivered unit succeeds.
    """
    import signal
    from pathlib import Path

    if marker is not None:
        path = Path(marker)
        if path.exists():
            return {"node": platform.node(), "pid": os.getpid(), "redelivered": True}
        path.write_text(str(os.getpid()))
    os.kill(os.getpid(), signal.SIGKILL)
