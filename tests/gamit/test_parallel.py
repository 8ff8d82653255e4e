"""geode gamit run --parallel on real Celery workers (queue 'gamit'), with the GAMIT/GLOBK stand-ins."""

from __future__ import annotations

import json
import os
import signal
import subprocess

import pytest

from .conftest import DOYS, YEAR
from .test_interrupt import _wait_for
from .test_run import DATES, check_solutions


def test_parallel_run_on_two_workers(cli, db, redis_url, network, start_workers):
    start_workers(count=2, queues="gamit", concurrency=1)
    result = cli("gamit", "run", str(network.cfg), *DATES, "--parallel", "--json")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert len(report["sessions"]) == 6 and len(report["days"]) == 2
    check_solutions(db, network)
    stats = db.query("SELECT * FROM gamit_stats")
    assert len(stats) == 6 and all(s["nrms"] == pytest.approx(0.23542) for s in stats)


def test_failed_subnetwork_on_workers_rerun_alone(cli, db, redis_url, network, start_workers):
    start_workers(count=2, queues="gamit", concurrency=1)
    network.steer(fail=["arg.IGN001"])
    result = cli("gamit", "run", str(network.cfg), DATES[0], "--parallel")
    assert result.exit_code == 1 and "stand-in failure" in result.stderr
    assert db.query_one("SELECT count(*) AS n FROM gamit_stats")["n"] == 2
    network.steer()
    again = cli("gamit", "run", str(network.cfg), DATES[0], "--parallel", "--json")
    assert again.exit_code == 0, again.stderr
    assert [s["label"] for s in json.loads(again.stdout)["sessions"]] == [f"{YEAR}_{DOYS[0]} arg.IGN001"]
    check_solutions(db, network, doys=DOYS[:1])


def test_killed_worker_session_is_redelivered_and_stored_once(db, redis_url, network, start_workers):
    start_workers(count=2, queues="gamit", concurrency=1)
    network.steer(block=["arg.IGN001"])
    env = dict(os.environ)
    proc = subprocess.Popen(["geode", "gamit", "run", str(network.cfg), DATES[0], "--parallel"], cwd=network.root,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        marker = network.solutions / f"{YEAR}" / f"{DOYS[0]:03d}" / "arg.IGN001" / "standin.blocked"
        _wait_for(marker, timeout=120)
        _, task_process = (int(v) for v in marker.read_text().split())
        network.steer()  # the redelivered session runs normally
        os.kill(task_process, signal.SIGKILL)  # the worker process running the session dies mid-GAMIT
        out, err = proc.communicate(timeout=300)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    check_solutions(db, network, doys=DOYS[:1])
    stats = db.query('SELECT subnet, system FROM gamit_stats ORDER BY subnet')
    assert [(int(s["subnet"]), s["system"]) for s in stats] == [(0, "G"), (1, "G"), (2, "G")]
    row = db.query_one("SELECT state, attempts FROM gamit_sessions WHERE subnet = 1")
    assert row["state"] == "done" and row["attempts"] == 2
