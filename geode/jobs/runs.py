"""Reading and steering the run history: ``geode runs list/show/resume/cancel`` and doctor's look at it.

A run is ``lost`` once its coordinator stopped heartbeating for ``[jobs] lease_timeout`` (killed, or its host
vanished); whoever looks first marks it so. Resume re-runs the same command line with the run's id: the
command plans its units again with its own logic, and the recorder hands back the outcome of every unit already
done. Before that, whatever the earlier attempt's units reported to the broker after their coordinator died is
collected into the history, so those units are not run twice.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from ..errors import GeodeError, ServiceUnavailable, UsageError
from .history import lease_timeout, record_units

log = logging.getLogger("geode.jobs")

RESUMABLE = ("failed", "interrupted", "lost")


def mark_lost(db, settings) -> int:
    """Runs still 'running' whose heartbeat is older than the lease timeout become 'lost'; how many did."""
    return db.execute(
        "UPDATE runs SET state = 'lost', message = coalesce(message, 'the coordinator stopped heartbeating') "
        "WHERE state = 'running' AND heartbeat < now() - make_interval(secs => %s)", (lease_timeout(settings),))


def list_runs(db, settings, *, limit: int = 20, state: str | None = None, command: str | None = None
              ) -> list[dict[str, Any]]:
    mark_lost(db, settings)
    where, params = [], []
    if state:
        where.append("state = %s")
        params.append(state)
    if command:
        where.append("command LIKE %s")
        params.append(command.replace("%", r"\%").replace("_", r"\_") + "%")
    sql = ("SELECT id, command, argv, state, mode, host, username, started, ended, heartbeat, units_total, "
           "units_done, units_failed, attempts, exit_code, message FROM runs"
           + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY id DESC LIMIT %s")
    return db.query(sql, params + [limit])


def get_run(db, settings, run_id: int) -> dict[str, Any]:
    mark_lost(db, settings)
    row = db.query_one("SELECT * FROM runs WHERE id = %s", (run_id,))
    if row is None:
        raise UsageError(f"no run {run_id} in the run history (geode runs list shows the recent ones)")
    return row


def run_units(db, run_id: int) -> list[dict[str, Any]]:
    return db.query("SELECT task, unit_key, label, state, attempts, node, started, ended, error FROM run_units "
                    "WHERE run_id = %s ORDER BY ended NULLS LAST, label", (run_id,))


def summarise(run: dict[str, Any], units: list[dict[str, Any]]) -> dict[str, Any]:
    """Units by state, failures with their messages, and per node: units and their durations."""
    by_state: dict[str, int] = {}
    nodes: dict[str, dict[str, Any]] = {}
    failures = []
    for u in units:
        by_state[u["state"]] = by_state.get(u["state"], 0) + 1
        if u["state"] == "failed":
            failures.append({"unit": u["label"] or u["unit_key"], "task": u["task"], "node": u["node"],
                             "attempts": u["attempts"], "error": u["error"]})
        if u["node"] and u["started"] and u["ended"]:
            n = nodes.setdefault(u["node"], {"node": u["node"], "units": 0, "seconds": 0.0, "longest_s": 0.0})
            seconds = (u["ended"] - u["started"]).total_seconds()
            n["units"] += 1
            n["seconds"] += seconds
            n["longest_s"] = max(n["longest_s"], seconds)
    for n in nodes.values():
        n["mean_s"] = round(n.pop("seconds") / n["units"], 3)
        n["longest_s"] = round(n["longest_s"], 3)
    return {"run": run, "units_by_state": by_state, "failures": failures,
            "nodes": sorted(nodes.values(), key=lambda n: n["node"])}


# ---------------------------------------------------------------------------------------------------------------
# steering


def prepare_resume(db, settings, run_id: int) -> dict[str, Any] | None:
    """The run to resume (None when it is done), after collecting what its earlier units reported."""
    run = get_run(db, settings, run_id)
    if run["state"] == "done":
        return None
    if run["state"] == "running":
        raise UsageError(f"run {run_id} is still running (pid {run['pid']} on {run['host']}, last heartbeat "
                         f"{run['heartbeat']:%H:%M:%S}); cancel it first (geode runs cancel {run_id}) or wait")
    if run["mode"] == "celery" and run["batches"]:
        harvest(db, settings, run)
    return run


def harvest(db, settings, run: dict[str, Any]) -> int:
    """Close the earlier attempt's batches, wait (up to one lease) for units still running on workers, and
    record the outcomes they reported after the coordinator was gone; how many were collected."""
    from ..distributed.app import get_app
    from ..distributed.batch_keys import batch_key, key_ttl, lease_key
    from ..distributed.broker import check_broker, redis_for

    try:
        check_broker(settings)
    except (ServiceUnavailable, GeodeError) as exc:
        log.warning("cannot collect what run %s's workers reported: %s", run["id"], exc)
        return 0
    client = redis_for(get_app(settings))
    batches = list(run["batches"] or [])
    for batch in batches:  # no unit of the earlier attempt starts from now on
        client.set(batch_key(batch, "state"), "closed", ex=key_ttl(settings))
    deadline = time.monotonic() + lease_timeout(settings)
    while True:
        held = [tid for batch in batches for tid in client.hkeys(batch_key(batch, "running"))]
        live = sum(bool(client.exists(lease_key(t.decode() if isinstance(t, bytes) else t))) for t in held)
        if not live or time.monotonic() > deadline:
            break
        log.warning("run %s: waiting for %d unit(s) of the earlier attempt still running on workers", run["id"], live)
        time.sleep(min(5.0, max(0.5, deadline - time.monotonic())))
    rows = []
    for batch in batches:  # outcomes its coordinator took but did not write, then those nobody took
        raws = list(client.lrange(batch_key(batch, "taken"), 0, -1))
        while True:
            chunk = client.lpop(batch_key(batch, "results"), 500) or []
            if not chunk:
                break
            raws += chunk
        rows += [_harvested_row(run["id"], json.loads(raw)) for raw in raws]
    rows = [r for r in rows if r is not None]
    if rows:
        record_units(db, rows, keep_done=True)
    for batch in batches:
        client.delete(batch_key(batch, "taken"))
    if rows:
        log.warning("run %s: collected %d outcome(s) reported after its coordinator stopped", run["id"], len(rows))
    return len(rows)


def _harvested_row(run_id: int, data: dict) -> tuple | None:
    from .history import TRACEBACK_TAIL, timestamp

    if not data.get("k") or not data.get("g"):
        return None
    ok = bool(data.get("ok"))
    return (run_id, data["g"], data["k"], "", "done" if ok else "failed", 1, data.get("n"), timestamp(data.get("t0")),
            timestamp(data.get("t1")), None if ok else data.get("m"), None if ok else (data.get("tb") or "")[-TRACEBACK_TAIL:],
            json.dumps(data.get("r"), separators=(",", ":"), allow_nan=True) if ok else None)


def cancel_run(db, settings, run_id: int) -> str:
    """Ask a running run to stop (its coordinator cancels its units within a heartbeat); a lost run's units
    are cancelled on the broker here. Returns what was done, for the message."""
    run = get_run(db, settings, run_id)
    if run["state"] not in ("running", "lost"):
        return f"run {run_id} is not running ({run['state']})"
    db.execute("UPDATE runs SET cancel_requested = true WHERE id = %s", (run_id,))
    if run["state"] == "running":
        return f"run {run_id}: cancellation requested; its coordinator stops it within a few seconds"
    if run["mode"] == "celery" and run["batches"]:
        from ..distributed.app import get_app
        from .celery_backend import cancel_batches
        from .registry import QUEUES

        cancel_batches(get_app(settings), settings, list(run["batches"]), [], list(QUEUES))
    with db.transaction() as cur:
        cur.execute("UPDATE run_units SET state = 'cancelled' WHERE run_id = %s AND state = 'queued'", (run_id,))
        cur.execute("UPDATE runs SET state = 'interrupted', ended = now(), message = 'cancelled (geode runs cancel)' "
                    "WHERE id = %s", (run_id,))
    return f"run {run_id} (lost) cancelled: its queued units removed, running ones revoked"


def unfinished_runs(db, settings) -> list[dict[str, Any]]:
    """Runs left running or lost (for doctor)."""
    mark_lost(db, settings)
    return db.query("SELECT id, command, state, host, started, units_done, units_total FROM runs "
                    "WHERE state IN ('running', 'lost') ORDER BY id")
