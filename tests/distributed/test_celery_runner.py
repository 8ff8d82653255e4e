"""The Celery backend against a real Redis and real worker processes."""

from __future__ import annotations

import datetime as dt
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest


from geode.config import load_settings
from geode.jobs import InlineRunner, builtin
from geode.jobs.celery_backend import CeleryRunner
from geode.jobs.compat import WorkerNode  # a geode dataclass: rebuilt on the other side

PAYLOADS = [
    {"n": i, "when": dt.date(2024, 1, 1 + i), "at": dt.datetime(2024, 2, 3, 4, 5, i), "pair": (i, "x"),
     "path": Path(f"/archive/{i}"), "nested": [{"k": (1.5, None)}], 7: "int key",
     "node": WorkerNode(f"n{i}", i)}
    for i in range(12)
]


def test_same_results_inline_and_on_two_workers(redis_url, start_workers):
    pool = start_workers(count=2, queues="compute", concurrency=1)
    items = [(p,) for p in PAYLOADS]
    inline = InlineRunner().map(builtin.noop, items)
    celery = CeleryRunner(load_settings()).map(builtin.noop, items)
    assert not inline.failures and not celery.failures
    by_index = lambda summary: [o.result for o in sorted(summary.results, key=lambda o: o.index)]  # noqa: E731
    assert by_index(celery) == by_index(inline) == PAYLOADS
    assert {o.node for o in celery.results} <= set(pool.hostnames)


def test_failure_carries_the_workers_traceback_and_hostname_and_the_run_goes_on(redis_url, start_workers):
    pool = start_workers(count=1, queues="compute", concurrency=1)
    runner = CeleryRunner(load_settings())
    seen = []
    summary = runner.map(builtin.fail, [("first broken",), ("second broken",)], on_error=seen.append)
    assert [f.message for f in sorted(summary.failures, key=lambda f: f.index)] == [
        "RuntimeError: first broken", "RuntimeError: second broken"]
    assert seen == summary.failures  # the callback ran for each, in completion order
    for failure in summary.failures:
        assert failure.node == pool.hostnames[0]
        assert "Traceback" in failure.traceback and "geode/jobs/builtin.py" in failure.traceback
    ok = runner.map(builtin.noop, [1, 2, 3])  # the same runner goes on with the next batch
    assert sorted(o.result for o in ok.results) == [1, 2, 3]


def test_a_callback_that_raises_cancels_the_rest_of_the_run(redis_url, start_workers):
    from geode.distributed.app import get_app

    pool = start_workers(count=1, queues="compute", concurrency=1)
    app = get_app(load_settings())

    def explode(outcome):
        raise ValueError("the caller's bookkeeping failed")

    with pytest.raises(ValueError):
        CeleryRunner(load_settings()).map(builtin.sleep, [(1.0, i) for i in range(10)], on_result=explode)
    deadline = time.monotonic() + 30
    while _leftovers(app, pool.hostnames) != (0, 0, 0):
        assert time.monotonic() < deadline, "units of the abandoned run are still queued or running"


def test_killed_worker_mid_batch_every_unit_delivered_and_written_once(db, redis_url, start_workers, monkeypatch):
    # the dead worker's unit comes back within seconds: by a short lease, or by a short visibility timeout and
    # restore sweep (kombu's sweep can be held up for minutes by a lock the killed worker was holding)
    fast = {"GEODE_JOBS_LEASE_TIMEOUT": "6", "GEODE_CELERY_VISIBILITY_TIMEOUT": "6",
            "GEODE_CELERY_RESTORE_INTERVAL": "1"}
    for name, value in fast.items():
        monkeypatch.setenv(name, value)
    pool = start_workers(count=2, queues="compute", concurrency=1)
    runner = CeleryRunner(load_settings())
    killed = []

    def on_result(outcome):
        if len(killed) == 0 and outcome.node == pool.hostnames[0]:
            pool.kill(0, signal.SIGKILL)  # the worker and its pool process die, mid-batch
            killed.append(outcome.index)

    keys = [f"unit-{i:03d}" for i in range(200)]
    summary = runner.map(builtin.record, [{"key": k, "value": k.upper(), "seconds": 0.02} for k in keys],
                         on_result=on_result)
    assert killed, "worker 0 never returned a result before the batch ended"
    assert pool.procs[0].wait(10) is not None
    assert not summary.failures
    assert sorted(o.result["key"] for o in summary.results) == keys
    rows = db.query("SELECT key, value, writes FROM geode_job_probe ORDER BY key")
    assert [r["key"] for r in rows] == keys  # each unit stored exactly once
    assert all(r["value"] == r["key"].upper() for r in rows)


def _geode(*args: str, **kw) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "geode_cli", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, **kw)


def test_broker_down_exits_69_naming_the_masked_url(monkeypatch):
    from tests.fixtures.services import free_port

    monkeypatch.setenv("CELERY_BROKER_URL", f"redis://:secretpw@127.0.0.1:{free_port()}/0")
    proc = _geode("--parallel", "worker", "selftest", "--tasks", "2")
    out, err = proc.communicate(timeout=10)  # never hangs
    assert proc.returncode == 69, err
    assert "****" in err and "secretpw" not in err and "env CELERY_BROKER_URL" in err
    assert len(err.strip().splitlines()) == 1


def test_no_worker_on_the_queue_exits_69_naming_the_queue(redis_url, start_workers):
    start_workers(count=1, queues="io", concurrency=1)  # consumes io only; selftest needs compute
    proc = _geode("--parallel", "worker", "selftest", "--tasks", "2")
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 69, err
    assert "'compute' queue" in err and "geode worker start --queues compute" in err


def _leftovers(app, hostnames) -> tuple[int, int, int]:
    import redis

    insp = app.control.inspect(timeout=1.0, destination=hostnames)
    active = sum(len(v or []) for v in (insp.active() or {}).values())
    reserved = sum(len(v or []) for v in (insp.reserved() or {}).values())
    queued = redis.Redis.from_url(app.conf.broker_url).llen("compute")
    return active, reserved, queued


def test_sigint_exits_130_and_leaves_nothing_running_or_queued(redis_url, start_workers):
    from geode.distributed.app import get_app

    pool = start_workers(count=2, queues="compute", concurrency=1)
    app = get_app(load_settings())
    proc = _geode("--parallel", "worker", "selftest", "--tasks", "30", "--sleep", "30")
    try:
        deadline = time.monotonic() + 60
        while _leftovers(app, pool.hostnames)[0] < 2:  # both workers busy with this run's units
            assert proc.poll() is None and time.monotonic() < deadline, proc.stderr.read() if proc.poll() else ""
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    assert "interrupted: 0 of 30 finished" in err
    time.sleep(10)
    assert _leftovers(app, pool.hostnames) == (0, 0, 0)
    # a second run is not disturbed by anything the first one left behind
    again = _geode("--parallel", "worker", "selftest", "--tasks", "4", "--json")
    out, err = again.communicate(timeout=60)
    assert again.returncode == 0, err
    assert '"done": 4' in out


def test_a_ctrl_c_that_lands_in_a_finaliser_is_raised_again_by_the_wait_loop(redis_url, capfd):
    """Python drops an exception raised inside ``__del__``; celery's AsyncResult finaliser runs while we wait."""
    import os

    runner = CeleryRunner(load_settings())

    class Finalised:
        def __del__(self):
            os.kill(os.getpid(), signal.SIGINT)  # the handler runs here, inside the finaliser

    with runner._signals_recorded():
        Finalised()
        with pytest.raises(KeyboardInterrupt):
            runner._raise_interrupt()
    assert "Exception ignored" not in capfd.readouterr().err
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # restored afterwards


def test_a_unit_whose_worker_dies_is_redelivered_once_then_the_limit_stops_the_loop(redis_url, start_workers,
                                                                                   tmp_path, monkeypatch):
    monkeypatch.setenv("GEODE_CELERY_REDELIVERY_LIMIT", "2")
    start_workers(count=1, queues="compute", concurrency=1)
    runner = CeleryRunner(load_settings())
    # first delivery kills its pool process; the redelivered copy finds the marker and succeeds
    recovered = runner.map(builtin.crash, [{"marker": str(tmp_path / "crashed-once")}])
    assert not recovered.failures and recovered.results[0].result["redelivered"]
    # a unit that kills every process it meets fails after the limit instead of looping forever
    looping = runner.map(builtin.crash, [()])
    assert not looping.results
    assert "delivered 3 times (limit 2" in looping.failures[0].message


def test_every_worker_gone_mid_run_exits_69_instead_of_waiting_forever(redis_url, start_workers, monkeypatch):
    from geode.distributed.app import get_app

    monkeypatch.setenv("GEODE_JOBS_WORKER_TIMEOUT", "3")
    pool = start_workers(count=1, queues="compute", concurrency=1)
    app = get_app(load_settings())
    proc = _geode("--parallel", "worker", "selftest", "--tasks", "4", "--sleep", "60")
    try:
        deadline = time.monotonic() + 60
        while _leftovers(app, pool.hostnames)[0] < 1:
            assert proc.poll() is None and time.monotonic() < deadline
        pool.kill(0, signal.SIGKILL)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 69, err
    assert "no worker has consumed the 'compute' queue for 3 s" in err
