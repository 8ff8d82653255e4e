"""`geode worker status|stop` and the settings bundle every worker runs with."""

from __future__ import annotations

import json

from geode.config import load_settings
from geode.distributed.settings import DEFAULT_VISIBILITY_TIMEOUT, QUEUE_LIMITS, celery_config


def test_settings_bundle_for_long_idempotent_tasks():
    conf = celery_config(load_settings(environ={}))
    assert conf["accept_content"] == ["json"] and conf["task_serializer"] == "json"
    assert conf["task_acks_late"] and conf["task_reject_on_worker_lost"] and conf["task_track_started"]
    assert conf["worker_prefetch_multiplier"] == 1 and conf["worker_disable_prefetch"]
    # the visibility timeout is above the longest hard limit, in all three places Celery reads it
    assert DEFAULT_VISIBILITY_TIMEOUT > max(limit.hard for limit in QUEUE_LIMITS.values())
    assert conf["visibility_timeout"] == conf["broker_transport_options"]["visibility_timeout"] == \
        conf["result_backend_transport_options"]["visibility_timeout"] == DEFAULT_VISIBILITY_TIMEOUT
    assert sorted(q.name for q in conf["task_queues"]) == ["compute", "gamit", "io"]
    assert not conf["worker_cancel_long_running_tasks_on_connection_loss"]  # a long unit outlives a broker restart


def test_pickle_only_on_explicit_opt_in():
    conf = celery_config(load_settings(environ={"GEODE_CELERY_ALLOW_PICKLE": "true",
                                                "GEODE_CELERY_VISIBILITY_TIMEOUT": "90000"}))
    assert conf["accept_content"] == ["json", "pickle"] and conf["broker_transport_options"]["visibility_timeout"] == 90000


def test_registered_tasks_carry_their_queue_time_limits():
    from geode.distributed.app import make_app

    app = make_app(load_settings(environ={"CELERY_BROKER_URL": "memory://"}))
    assert app.conf.task_routes["geode.jobs.noop"]["queue"] == "compute"
    assert app.tasks["geode.jobs.noop"].time_limit == QUEUE_LIMITS["compute"].hard
    gamit = [name for name, route in app.conf.task_routes.items() if route["queue"] == "gamit"]
    for name in gamit:
        assert app.tasks[name].soft_time_limit == QUEUE_LIMITS["gamit"].soft


def test_status_reports_each_worker_then_stop_shuts_one_down(cli, database_url, redis_url, start_workers):
    pool = start_workers(count=2, queues="compute,io", concurrency=1)
    result = cli("worker", "status", "--json", "--check")
    assert result.exit_code == 0, result.stderr
    workers = {w["hostname"]: w for w in json.loads(result.stdout)["workers"]}
    assert sorted(workers) == sorted(pool.hostnames)
    import geode

    for w in workers.values():
        assert w["ping"] and w["queues"] == ["compute", "io"] and w["concurrency"] == 1
        assert w["geode"] == geode.__version__ and w["drift"] == []
        assert w["health"]["success"], w["health"]["errors"]
    stopped = cli("worker", "stop", pool.hostnames[0])
    assert stopped.exit_code == 0 and stopped.stdout.split() == [pool.hostnames[0]]
    assert pool.procs[0].wait(30) == 0
    after = json.loads(cli("worker", "status", "--json").stdout)["workers"]
    assert [w["hostname"] for w in after] == [pool.hostnames[1]]


def test_status_without_workers_exits_69(cli, redis_url):
    result = cli("worker", "status")
    assert result.exit_code == 69 and "no worker answered" in result.stderr
