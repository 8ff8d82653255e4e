"""The JobServer facade (GeoDE's API for users' scripts), inline and on real workers."""

from __future__ import annotations

import threading

import pytest

from geode.config import load_settings
from geode.errors import UsageError
from geode.jobs import builtin
from geode.jobs.compat import JobServer, WorkerNode


def scale(x, factor=2):
    """A plain module-level function: allowed inline, and on workers only with a trusted broker."""
    if x < 0:
        raise ValueError(f"negative {x}")
    return x * factor


def test_inline_callbacks_fire_from_a_background_thread_before_wait():
    server = JobServer(load_settings(environ={}), run_parallel=False)
    nodes, seen, second_done = [], [], threading.Event()

    def callback(job):
        seen.append((job.args, job.result, job.exception, threading.current_thread() is threading.main_thread()))
        if len(seen) == 2:
            second_done.set()

    server.create_cluster(scale, callback=callback, on_nodes_changed=nodes.extend)
    first = server.submit_async(3)
    second = server.submit_async(-1)
    assert second_done.wait(30), "callbacks must fire without wait() (DownloadSources relies on it)"
    server.wait()
    server.close_cluster()
    assert isinstance(nodes[0], WorkerNode) and nodes[0].avail_cpus >= 1
    assert seen[0][:3] == ((3,), 6, None) and not seen[0][3]
    assert seen[1][1] is None and "ValueError: negative -1" in seen[1][2] and "Traceback" in seen[1][2]
    assert first.id != second.id and first.result == 6 and first.ip_addr


def test_functions_from_main_or_lambdas_are_refused():
    server = JobServer(load_settings(environ={}), run_parallel=False)
    with pytest.raises(UsageError, match="module-level function"):
        server.create_cluster(lambda x: x)


def test_on_workers_registered_tasks_run_and_plain_functions_need_a_trusted_broker(redis_url, start_workers):
    pool = start_workers(count=2, queues="compute", concurrency=1)
    server = JobServer(load_settings(environ={"CELERY_BROKER_URL": redis_url, "GEODE_JOBS_PARALLEL": "1"}))
    nodes, done = [], []
    server.create_cluster(builtin.noop, callback=done.append, on_nodes_changed=nodes.extend)
    assert sorted(n.name for n in nodes) == sorted(pool.hostnames) and all(n.avail_cpus == 1 for n in nodes)
    for i in range(6):
        server.submit_async({"i": i})
    server.wait()
    assert sorted(j.result["i"] for j in done) == list(range(6))
    assert {j.ip_addr for j in done} <= set(pool.hostnames) and all(j.exception is None for j in done)

    refused = []
    server.create_cluster(scale, callback=refused.append)
    server.submit(4)
    server.wait()
    server.close_cluster()
    assert refused[0].result is None and "allow_pickle" in refused[0].exception
