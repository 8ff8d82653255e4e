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
from pathlib import Path

import pytest

from geode.config import load_settings

from ..fixtures.services import launch_redis
from ..fixtures.workers import launch_workers, wait_for_ping


def _geode(*args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "geode_cli", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


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
    proc = _selftest(16, 1.5)
    try:
        _wait_for(lambda: len(_rows(db)) >= 2 and _active(pool.hostnames[0]) == 1, 90, "worker 0 holding a unit",
                  proc)
        pool.kill(0)  # the whole process group, no goodbye: a preempted spot instance
        killed = time.monotonic()
        out, err = proc.communicate(timeout=150)
    finally:
        if proc.poll() is None:
            proc.kill()
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
    proc = _selftest(24, 0.5)
    try:
        _wait_for(lambda: len(_rows(db)) >= 4, 90, "four units done", proc)
        broker.kill()
        killed = time.monotonic()
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
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
    proc = _selftest(24, 0.5)
    try:
        _wait_for(lambda: len(_rows(db)) >= 4, 90, "four units done", proc)
        broker.kill()
        time.sleep(2)
        broker.restart()  # empty: what was queued is gone, and the coordinator must notice
        out, err = proc.communicate(timeout=150)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert "the broker is back without its data" in err
    _every_unit_once(db, 24)


def test_sigterm_exits_143_and_leaves_nothing_of_the_run_queued_or_running(db, start_workers):
    from geode.distributed.app import get_app

    from .test_celery_runner import _leftovers

    pool = start_workers(count=2, queues="compute", concurrency=1)
    app = get_app(load_settings())
    proc = _selftest(30, 30)
    try:
        _wait_for(lambda: _leftovers(app, pool.hostnames)[0] == 2, 90, "both workers busy", proc)
        proc.send_signal(signal.SIGTERM)
        sent = time.monotonic()
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 143, err
    assert time.monotonic() - sent < 5
    assert "terminated (SIGTERM): 0 of 30 finished" in err
    time.sleep(15)
    assert _leftovers(app, pool.hostnames) == (0, 0, 0)
    assert _rows(db) == {}  # the two running units were stopped before they wrote


def test_workers_survive_an_embedded_database_restart_between_two_runs(start_workers):
    """No GEODE_DATABASE_URL: the CLI and the workers share the embedded server under XDG_DATA_HOME."""
    from geode.config import user_data_dir
    from geode.db import open_database
    from geode.db.embedded import stop_embedded

    start_workers(count=2, queues="compute", concurrency=1)
    try:
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
    finally:
        stop_embedded(user_data_dir() / "postgres")


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
