"""What a cluster does to a run, done for real: a worker host vanishing (its whole process group SIGKILLed),
the broker killed and restarted, SIGTERM to the CLI, the database restarted between runs, the coordinator
killed. Every run here is the real CLI (`geode --parallel worker selftest --record`: units that each upsert one
row of geode_job_probe), and every test ends by counting those rows: each unit stored exactly once."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

from geode.config import load_settings

from ..fixtures.services import launch_redis
from ..fixtures.workers import launch_workers, wait_for_ping


def _geode(*args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "geode_cli", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


@contextmanager
def _killed_at_exit(proc: subprocess.Popen):
    """A geode process that a failed assertion must not leave behind."""
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()


def _selftest(tasks: int, sleep: float) -> subprocess.Popen:
    return _geode("--parallel", "worker", "selftest", "--record", "--tasks", str(tasks), "--sleep", str(sleep))


def _rows(db) -> dict[str, int]:
    return {r["key"]: r["writes"] for r in db.query("SELECT key, writes FROM geode_job_probe")}


def _wait_for(condition, timeout: float, what: str, proc: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"geode exited {proc.returncode} before {what}: {proc.stderr.read()}")
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


def _active(hostname: str) -> int:
    from geode.distributed.app import get_app

    replies = get_app(load_settings()).control.inspect(timeout=1.0, destination=[hostname]).active() or {}
    return len(replies.get(hostname) or [])


def _every_unit_once(db, tasks: int) -> dict[str, int]:
    rows = _rows(db)
    assert sorted(rows) == [f"selftest-{i:04d}" for i in range(tasks)]  # each unit stored, once
    return rows


def _run_id(err: str) -> str:
    match = re.search(r"geode runs resume (\d+)", err)
    assert match, err
    return match.group(1)


def _resume(run_id: str, timeout: float = 120) -> tuple[int, str, str]:
    proc = _geode("runs", "resume", run_id)
    out, err = proc.communicate(timeout=timeout)
    return proc.returncode, out, err


def _run_state(run_id: str) -> str:
    proc = _geode("runs", "show", run_id, "--json")
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    return json.loads(out)["run"]["state"]


@pytest.mark.slow
def test_a_vanished_worker_host_loses_no_unit_with_default_settings(db, start_workers):
    pool = start_workers(count=2, queues="compute", concurrency=1)
    with _killed_at_exit(_selftest(16, 1.5)) as proc:
        _wait_for(lambda: len(_rows(db)) >= 2 and _active(pool.hostnames[0]) == 1, 90, "worker 0 holding a unit",
                  proc)
        pool.kill(0)  # the whole process group, no goodbye: a preempted spot instance
        killed = time.monotonic()
        out, err = proc.communicate(timeout=150)
    assert proc.returncode == 0, err
    assert time.monotonic() - killed < 90
    assert "stopped renewing its lease for 60 s" in err
    _every_unit_once(db, 16)


class Broker:
    """A Redis of this test's own, to kill and restart in place (same port and password, empty)."""

    def __init__(self, workdir: Path):
        self.workdir = workdir
        self.proc, self.url = launch_redis(workdir)
        self.port = int(self.url.rsplit(":", 1)[1].split("/")[0])
        self.password = self.url.split(":", 2)[2].split("@")[0]

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait(10)

    def restart(self) -> None:
        self.proc, _ = launch_redis(self.workdir, self.port, self.password)


@pytest.fixture
def broker(tmp_path, monkeypatch):
    own = Broker(tmp_path)
    monkeypatch.setenv("CELERY_BROKER_URL", own.url)
    # for coordinator and workers alike: a shorter lease only shortens how long a coordinator whose broker came
    # back empty waits for running units to re-register before it sends the rest again
    monkeypatch.setenv("GEODE_JOBS_LEASE_TIMEOUT", "12")
    yield own
    own.kill()


@pytest.fixture
def workers(broker, tmp_path):
    pool = launch_workers(2, "compute", 1, tmp_path)
    yield pool
    pool.stop()


def test_a_dead_broker_ends_the_run_with_69_within_the_timeout_and_resume_completes_it(db, broker, workers,
                                                                                      monkeypatch):
    monkeypatch.setenv("GEODE_JOBS_BROKER_TIMEOUT", "5")
    with _killed_at_exit(_selftest(24, 0.5)) as proc:
        _wait_for(lambda: len(_rows(db)) >= 4, 90, "four units done", proc)
        broker.kill()
        killed = time.monotonic()
        out, err = proc.communicate(timeout=60)
    assert proc.returncode == 69, err
    assert time.monotonic() - killed < 5 + 10
    last = err.strip().splitlines()[-1]
    assert last.startswith("geode: error: broker") and "unreachable for 5 s" in last, err
    run_id = _run_id(last)
    assert _run_state(run_id) == "failed"
    broker.restart()
    wait_for_ping(workers.hostnames, workers.procs, workers.logs)
    code, out, err = _resume(run_id)
    assert code == 0, err
    assert _run_state(run_id) == "done"
    _every_unit_once(db, 24)


def test_a_broker_restarted_within_the_timeout_loses_and_duplicates_nothing(db, broker, workers):
    with _killed_at_exit(_selftest(24, 0.5)) as proc:
        _wait_for(lambda: len(_rows(db)) >= 4, 90, "four units done", proc)
        broker.kill()
        time.sleep(2)
        broker.restart()  # empty: what was queued is gone, and the coordinator must notice
        out, err = proc.communicate(timeout=150)
    assert proc.returncode == 0, err
    assert "the broker is back without its data" in err
    _every_unit_once(db, 24)


def test_sigterm_exits_143_and_leaves_nothing_of_the_run_queued_or_running(db, start_workers):
    from geode.distributed.app import get_app

    from .test_celery_runner import _leftovers

    pool = start_workers(count=2, queues="compute", concurrency=1)
    app = get_app(load_settings())
    with _killed_at_exit(_selftest(30, 30)) as proc:
        _wait_for(lambda: _leftovers(app, pool.hostnames)[0] == 2, 90, "both workers busy", proc)
        proc.send_signal(signal.SIGTERM)
        sent = time.monotonic()
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 143, err
    assert time.monotonic() - sent < 5
    assert "terminated (SIGTERM): 0 of 30 finished" in err
    time.sleep(15)
    assert _leftovers(app, pool.hostnames) == (0, 0, 0)
    assert _rows(db) == {}  # the two running units were stopped before they wrote


def test_workers_survive_an_embedded_database_restart_between_two_runs(start_workers):
    """No GEODE_DATABASE_URL: the CLI and the workers share the embedded server under XDG_DATA_HOME."""
    from geode.db import open_database

    start_workers(count=2, queues="compute", concurrency=1)
    for attempt in range(2):
        proc = _selftest(8, 0)
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err  # the workers' connections from the first run died with the server
        if attempt == 0:
            stop = _geode("db", "stop")
            stop.communicate(timeout=60)
            assert stop.returncode == 0
    with open_database(load_settings()) as db:
        rows = _rows(db)
    assert sorted(rows) == [f"selftest-{i:04d}" for i in range(8)] and set(rows.values()) == {2}


def test_a_killed_coordinator_is_lost_within_the_lease_and_resume_runs_only_what_was_not_done(
        db, start_workers, monkeypatch):
    monkeypatch.setenv("GEODE_JOBS_LEASE_TIMEOUT", "6")
    start_workers(count=2, queues="compute", concurrency=1)
    proc = _selftest(20, 1.0)
    _wait_for(lambda: len(_rows(db)) >= 3, 90, "three units done", proc)
    proc.kill()  # SIGKILL: no goodbye, no history written at the end
    killed = time.monotonic()
    proc.communicate(timeout=10)
    run_id = str(db.query_one("SELECT max(id) AS id FROM runs")["id"])

    def lost() -> bool:
        listing = _geode("runs", "list", "--json")
        out, err = listing.communicate(timeout=60)
        assert listing.returncode == 0, err
        return any(str(r["id"]) == run_id and r["state"] == "lost" for r in json.loads(out))

    _wait_for(lost, 30, "the run shown as lost")
    assert time.monotonic() - killed < 6 + 10
    code, out, err = _resume(run_id)
    assert code == 0, err
    assert _run_state(run_id) == "done"
    rows = _every_unit_once(db, 20)
    assert set(rows.values()) == {1}, rows  # no unit ran twice: what finished before the resume was kept


def _held_key(hostname: str) -> str:
    """The geode_job_probe key of the unit a worker is running (from its active list)."""
    from geode.distributed.app import get_app

    active = get_app(load_settings()).control.inspect(timeout=1.0, destination=[hostname]).active() or {}
    (unit,) = active[hostname]
    return unit["kwargs"]["key"]


def test_sigterm_to_a_worker_lets_its_running_unit_finish_within_the_grace(db, start_workers):
    pool = start_workers(count=2, queues="compute", concurrency=1, extra_env={"GEODE_JOBS_WORKER_GRACE": "30"})
    with _killed_at_exit(_selftest(4, 3)) as proc:
        _wait_for(lambda: _active(pool.hostnames[0]) == 1, 90, "worker 0 busy", proc)
        held = _held_key(pool.hostnames[0])
        pool.procs[0].send_signal(signal.SIGTERM)  # the main process only, as `kill PID` or systemd's KillMode=mixed
        assert pool.procs[0].wait(20) == 0  # it finished its unit (3 s) and left, long before the grace
        out, err = proc.communicate(timeout=90)
    assert proc.returncode == 0, err
    node = db.query_one("SELECT node FROM run_units WHERE label = %s", (held,))["node"]
    assert node == pool.hostnames[0]  # the unit it held was finished there, not handed on
    assert set(_every_unit_once(db, 4).values()) == {1}


def test_sigterm_to_a_worker_hands_a_unit_longer_than_the_grace_back_to_the_queue(db, start_workers):
    pool = start_workers(count=2, queues="compute", concurrency=1, extra_env={"GEODE_JOBS_WORKER_GRACE": "2"})
    with _killed_at_exit(_selftest(2, 6)) as proc:
        _wait_for(lambda: _active(pool.hostnames[0]) == 1 and _active(pool.hostnames[1]) == 1, 90,
                  "both workers busy", proc)
        held = _held_key(pool.hostnames[0])
        pool.procs[0].send_signal(signal.SIGTERM)
        pool.procs[0].wait(20)  # gone after the 2 s grace, its 6 s unit unfinished
        out, err = proc.communicate(timeout=90)
    assert proc.returncode == 0, err
    node = db.query_one("SELECT node FROM run_units WHERE label = %s", (held,))["node"]
    assert node == pool.hostnames[1]  # handed back at once and run by the other worker
    assert "stopped renewing its lease" not in err  # no lease had to expire: the message came back by itself
    assert set(_every_unit_once(db, 2).values()) == {1}


def test_a_database_that_stays_down_ends_the_run_with_69_and_resume_finishes_it_later(
        tmp_path, monkeypatch, redis_url):
    """The postmaster SIGKILLed mid-run and not restarted: units find it gone, wait [postgres] reconnect_timeout,
    and the run stops with 69 instead of failing one unit after another."""
    import os

    from geode.db import apply_migrations, open_database

    from ..fixtures.services import launch_postgres

    pgdata = tmp_path / "pg" / "data"
    pgdata.parent.mkdir()
    server, url = launch_postgres(pgdata)
    servers = [server]  # each kept referenced until the end: pgserver cleans up a server object it drops
    try:
        monkeypatch.setenv("GEODE_DATABASE_URL", url)
        monkeypatch.setenv("GEODE_POSTGRES_RECONNECT_TIMEOUT", "3")
        monkeypatch.setenv("GEODE_JOBS_LEASE_TIMEOUT", "5")
        with open_database(load_settings()) as db:
            apply_migrations(db)
        pool = launch_workers(2, "compute", 1, tmp_path)
        try:
            with _killed_at_exit(_selftest(20, 0.5)) as proc:
                with open_database(load_settings()) as db:
                    _wait_for(lambda: len(_rows(db)) >= 3, 90, "three units done", proc)
                postmaster = int((pgdata / "postmaster.pid").read_text().split()[0])
                os.kill(postmaster, signal.SIGKILL)
                killed = time.monotonic()
                out, err = proc.communicate(timeout=90)
                assert proc.returncode == 69, err
                assert time.monotonic() - killed < 3 + 15
                last = err.strip().splitlines()[-1]
                assert "PostgreSQL" in last and "still unreachable after 3 s" in last and "of 20 units" in last, err
            run_id = _run_id(last)
            # back, with everything stored so far. The killed postmaster stays a zombie where PID 1 does not reap
            # (this sandbox), which PostgreSQL and pgserver take for a live server: its stale pid file goes first
            (pgdata / "postmaster.pid").unlink()
            import pgserver

            pgserver.PostgresServer._instances.pop(pgdata.resolve(), None)
            servers.append(launch_postgres(pgdata)[0])
            _wait_for(lambda: _run_state(run_id) == "lost", 30, "the run shown as lost")
            code, out, err = _resume(run_id)
            assert code == 0, err
            with open_database(load_settings()) as db:
                _every_unit_once(db, 20)
        finally:
            pool.stop()
    finally:
        servers[-1].cleanup()


def test_db_stop_force_under_a_running_command_ends_it_with_69_and_what_finished(monkeypatch):
    """The embedded server stopped under an inline run: the run does not start it again behind the operator's
    back, it waits [postgres] reconnect_timeout and stops with 69."""
    from geode.db import open_database

    monkeypatch.setenv("GEODE_POSTGRES_RECONNECT_TIMEOUT", "2")
    proc = _geode("--noparallel", "worker", "selftest", "--record", "--tasks", "20", "--sleep", "0.5")
    with _killed_at_exit(proc):
        deadline = time.monotonic() + 90
        while True:
            try:
                with open_database(load_settings()) as db:
                    if len(_rows(db)) >= 3:
                        break
            except Exception:  # the command is still creating the embedded server and its tables
                pass
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.2)
        refused = _geode("db", "stop")
        out, err = refused.communicate(timeout=60)
        assert refused.returncode == 1 and "worker selftest" in err  # it names the command using the server
        forced = _geode("db", "stop", "--force")
        forced.communicate(timeout=60)
        assert forced.returncode == 0
        out, err = proc.communicate(timeout=60)
    assert proc.returncode == 69, err
    last = err.strip().splitlines()[-1]
    assert "was stopped (still unreachable after 2 s); stopped after" in last and "of 20 units" in last, err
