"""The run history in PostgreSQL: a ``runs`` row per command that dispatches units, a ``run_units`` row per unit.

The recorder writes from a background thread on its own connection (a command may hold its own transaction
open, e.g. ``stack run --redo``): unit rows in batches as they finish, and a heartbeat every few seconds that
marks the coordinator alive and picks up ``geode runs cancel``. A run whose heartbeat is older than
``[jobs] lease_timeout`` is shown as lost. On ``geode runs resume`` the recorder re-opens the run and hands the
stored outcome of every unit already done back to the command instead of running it again.
"""

from __future__ import annotations

import datetime as dt
import getpass
import json
import logging
import os
import platform
import signal
import threading
import time
from collections import deque
from typing import Any

from ..errors import ExitCode, GeodeError, ServiceUnavailable, first_line
from . import codec
from .outcomes import Outcome
from .registry import Task
from .units import Unit

log = logging.getLogger("geode.jobs")

DEFAULT_LEASE_TIMEOUT = 60.0
TRACEBACK_TAIL = 4000  # characters of a failure's traceback kept in the history
FLUSH_EVERY = 0.5  # seconds between batched writes of finished units

_UPSERT = """
INSERT INTO run_units (run_id, task, unit_key, label, state, attempts, node, started, ended, error, traceback,
                       result)
VALUES %s
ON CONFLICT (run_id, task, unit_key) DO UPDATE SET
    label = coalesce(nullif(EXCLUDED.label, ''), run_units.label), state = EXCLUDED.state, attempts = run_units.attempts + EXCLUDED.attempts,
    node = coalesce(EXCLUDED.node, run_units.node), started = coalesce(EXCLUDED.started, run_units.started),
    ended = EXCLUDED.ended, error = EXCLUDED.error, traceback = EXCLUDED.traceback, result = EXCLUDED.result
"""

_COUNTS = """
units_total = (SELECT count(*) FROM run_units WHERE run_id = runs.id),
units_done = (SELECT count(*) FROM run_units WHERE run_id = runs.id AND state = 'done'),
units_failed = (SELECT count(*) FROM run_units WHERE run_id = runs.id AND state = 'failed')
"""


def lease_timeout(settings) -> float:
    return float(settings.get("jobs.lease_timeout", DEFAULT_LEASE_TIMEOUT))


def heartbeat_every(settings) -> float:
    """Seconds between heartbeats: six per lease, so one lost write never makes a live holder look dead."""
    return min(10.0, max(0.5, lease_timeout(settings) / 6))


def state_for_exit(code: int) -> str:
    if code == 0:
        return "done"
    if code in (ExitCode.INTERRUPTED, ExitCode.TERMINATED):
        return "interrupted"
    return "failed"


def timestamp(epoch: float | None) -> dt.datetime | None:
    return dt.datetime.fromtimestamp(epoch, dt.timezone.utc) if epoch else None


def record_units(db, rows: list[tuple], keep_done: bool = False) -> None:
    """Upsert run_units rows (run_id, task, unit_key, label, state, attempts, node, started, ended, error,
    traceback, result) in one statement; ``keep_done`` leaves units already done as they are."""
    import psycopg2.extras

    merged: dict[tuple, tuple] = {}
    for row in rows:  # one statement may touch a row once: keep the latest state, add up the attempts
        key = row[1:3]
        previous = merged.get(key)
        merged[key] = row if previous is None else row[:5] + (previous[5] + row[5],) + row[6:]
    sql = _UPSERT + (" WHERE run_units.state <> 'done'" if keep_done else "")
    with db.transaction() as cur:
        psycopg2.extras.execute_values(cur, sql, list(merged.values()), page_size=500)


class RunRecorder:
    """One command's run: created on its first dispatch, ended by the CLI with the command's exit code."""

    def __init__(self, settings, command: str, argv: list[str], cwd: str, resume_id: int | None = None):
        self.settings = settings
        self.command = command
        self.argv = list(argv)
        self.cwd = cwd
        self.resume_id = resume_id
        self.run_id: int | None = None
        self.cancel_requested = False
        self.disabled = False
        self.appended = 0  # finished units handed to the recorder so far (their sequence numbers)
        self.flushed = 0  # ... of which this many are written: an outcome up to here is safe in PostgreSQL
        self._db = None
        self._rows: deque[tuple] = deque()
        self._batches: list[str] = []
        self._done: dict[tuple[str, str], dict] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- the main thread -----------------------------------------------------------------------------------------

    def stage(self, task: Task, units: list[Unit], mode: str) -> dict[int, Outcome]:
        """Record ``units`` as queued; on resume return the stored outcomes of those already done, by index."""
        if not self._begin(mode):
            return {}
        replayed: dict[int, Outcome] = {}
        for unit in units:
            row = self._done.get((task.name, unit.key))
            if row is not None:
                replayed[unit.index] = Outcome(
                    unit.index, unit.item, result=codec.loads(row["result"]) if row["result"] else None,
                    node=row["node"] or "", attempts=row["attempts"], replayed=True)
        self._rows.extend(self._row(task, u, "queued") for u in units if u.index not in replayed)
        return replayed

    @property
    def active(self) -> bool:
        return self.run_id is not None

    def finished(self, task: Task, unit: Unit, outcome: Outcome) -> None:
        if self.run_id is None or outcome.replayed:
            return
        self.appended += 1
        failure = outcome.failure
        if failure is None:
            self._rows.append(self._row(task, unit, "done", outcome, result=codec.dumps(outcome.result)))
        else:
            self._rows.append(self._row(task, unit, "failed", outcome, error=failure.message,
                                        traceback=failure.traceback[-TRACEBACK_TAIL:]))

    def add_batch(self, batch_id: str) -> None:
        """A Celery stage's broker-side id (`geode runs cancel` and `resume` find its units through it)."""
        if self.run_id is not None:
            self._batches.append(batch_id)

    def end(self, exit_code: int, message: str = "") -> None:
        """Final flush and the run's state from the command's exit code (0 done, 130/143 interrupted, else failed)."""
        if self._thread is None:
            return
        self._stop.set()
        self._thread.join(30)
        self._thread = None
        from ..db.live import alive

        if not alive(self._db):  # the server restarted during the run
            self._reconnect()
        try:
            self._flush()
            with self._db.transaction() as cur:
                cur.execute(
                    "UPDATE run_units SET state = 'cancelled' WHERE run_id = %s AND state = 'queued'",
                    (self.run_id,))
                cur.execute(f"UPDATE runs SET state = %s, ended = now(), heartbeat = now(), exit_code = %s, "
                            f"message = %s, batches = %s, {_COUNTS} WHERE id = %s",
                            (state_for_exit(exit_code), int(exit_code), message[:2000] or None,
                             json.dumps(self._batches), self.run_id))
        except Exception as exc:  # the command's own result matters more than its history
            log.warning("run %s: could not save the end of the run history: %s", self.run_id, first_line(exc))
        finally:
            self._db.close()

    # -- setup -----------------------------------------------------------------------------------------------------

    def _begin(self, mode: str) -> bool:
        if self.run_id is not None:
            return True
        if self.disabled:
            return False
        from ..db import open_database

        try:
            self._db = open_database(self.settings)
            if not self._db.table_exists("runs"):
                raise GeodeError("the database has no run history tables (run `geode db upgrade`)")
            if self.resume_id is None:
                self._create(mode)
            else:
                self._reopen(mode)
        except ServiceUnavailable as exc:
            self.disabled = True
            log.warning("run history is off for this run: %s", first_line(exc))
            return False
        except GeodeError as exc:
            if self.resume_id is not None:
                raise
            self.disabled = True
            log.warning("run history is off for this run: %s", first_line(exc))
            return False
        self._thread = threading.Thread(target=self._loop, name="geode-run-history", daemon=True)
        self._thread.start()
        return True

    def _identity(self, mode: str) -> dict[str, Any]:
        import geode

        try:
            user = getpass.getuser()
        except Exception:  # no passwd entry (containers)
            user = str(os.getuid())
        return {"command": self.command, "argv": json.dumps(self.argv), "cwd": self.cwd, "username": user,
                "host": platform.node(), "pid": os.getpid(), "version": geode.__version__, "mode": mode}

    def _create(self, mode: str) -> None:
        with self._db.transaction() as cur:
            cur.execute(
                "INSERT INTO runs (command, argv, cwd, username, host, pid, geode_version, mode) "
                "VALUES (%(command)s, %(argv)s, %(cwd)s, %(username)s, %(host)s, %(pid)s, %(version)s, %(mode)s) "
                "RETURNING id", self._identity(mode))
            self.run_id = int(cur.fetchone()["id"])
            cur.execute("INSERT INTO executions (script) VALUES (%s)", (f"geode {self.command}"[:40],))

    def _reopen(self, mode: str) -> None:
        with self._db.transaction() as cur:
            cur.execute(
                "UPDATE runs SET state = 'running', attempts = attempts + 1, heartbeat = now(), ended = NULL, "
                "exit_code = NULL, message = NULL, cancel_requested = false, host = %(host)s, pid = %(pid)s, "
                "username = %(username)s, geode_version = %(version)s, mode = %(mode)s "
                "WHERE id = %(id)s RETURNING batches", dict(self._identity(mode), id=self.resume_id))
            row = cur.fetchone()
            if row is None:
                raise GeodeError(f"no run {self.resume_id} in the run history")
            self._batches = list(row["batches"] or [])
            cur.execute("SELECT task, unit_key, node, attempts, result FROM run_units "
                        "WHERE run_id = %s AND state = 'done'", (self.resume_id,))
            self._done = {(r["task"], r["unit_key"]): dict(r) for r in cur.fetchall()}
        self.run_id = self.resume_id

    def _row(self, task: Task, unit: Unit, state: str, outcome: Outcome | None = None, *, error: str | None = None,
             traceback: str | None = None, result: str | None = None) -> tuple:
        return (self.run_id, task.name, unit.key, unit.label, state, outcome.attempts if outcome else 0,
                outcome.node or None if outcome else None, timestamp(outcome.started) if outcome else None,
                timestamp(outcome.ended) if outcome else None, error, traceback, result)

    # -- the background thread -----------------------------------------------------------------------------------

    def _loop(self) -> None:
        every = heartbeat_every(self.settings)
        last_beat = 0.0
        while not self._stop.wait(FLUSH_EVERY):
            try:
                self._flush()
                if time.monotonic() - last_beat >= every:
                    self._heartbeat()
                    last_beat = time.monotonic()
            except Exception as exc:  # the database went away: keep the rows, try again next round
                log.debug("run history: %s", first_line(exc))
                self._reconnect()

    def _flush(self) -> None:
        if not self._rows:
            return
        taken = []
        while self._rows:
            taken.append(self._rows.popleft())
        try:
            record_units(self._db, taken)
        except Exception:
            self._rows.extendleft(reversed(taken))  # written next time, in the same order
            raise
        self.flushed += sum(row[4] != "queued" for row in taken)

    def _heartbeat(self) -> None:
        with self._db.transaction() as cur:
            cur.execute(f"UPDATE runs SET heartbeat = now(), state = 'running', batches = %s, {_COUNTS} "
                        "WHERE id = %s RETURNING cancel_requested", (json.dumps(self._batches), self.run_id))
            row = cur.fetchone()
        if row and row["cancel_requested"] and not self.cancel_requested and not self._stop.is_set():
            self.cancel_requested = True
            os.kill(os.getpid(), signal.SIGINT)  # the dispatch loop cancels the run as it does on Ctrl-C

    def _reconnect(self) -> None:
        from ..db import open_database

        self._db.close()
        try:
            self._db = open_database(self.settings, migrate=False)
        except Exception:
            pass  # still down; the next round tries again

