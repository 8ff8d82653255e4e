"""The Celery app: every ``geode.jobs`` task registered under its own name, wrapped for the wire.

The wrapper decodes arguments and encodes the result with ``geode.jobs.codec`` (so a worker sees exactly what
the inline runner sees), skips units of a run that was cancelled, and counts deliveries so a unit that keeps
killing its worker fails after ``[celery] redelivery_limit`` attempts instead of looping forever.
"""

from __future__ import annotations

import os
import threading

from ..errors import GeodeError
from ..jobs import codec
from ..jobs.registry import Task, all_tasks, load_task_modules
from .settings import KEY_PREFIX, QUEUE_LIMITS, celery_config, redelivery_limit, visibility_timeout

RUN_HEADER = "geode_run"  # message header carrying the run id (per-run cancellation and progress)


class RedeliveryLimitExceeded(GeodeError):
    """A unit was delivered more times than allowed: its worker died each time (OOM? a crash?)."""


def run_key(run_id: str, what: str) -> str:
    return f"{KEY_PREFIX}run:{run_id}:{what}"


def delivery_key(task_id: str) -> str:
    return f"{KEY_PREFIX}deliveries:{task_id}"


_app_lock = threading.Lock()
_apps: dict[tuple, object] = {}


def get_app(settings):
    """The Celery app for these settings (one per broker/backend/options, reused within a process)."""
    key = (settings.broker_url.value, settings.result_backend.value, bool(settings.get("celery.allow_pickle")),
           visibility_timeout(settings), redelivery_limit(settings), settings.get("celery.result_expires"))
    with _app_lock:
        app = _apps.get(key)
        if app is None:
            app = _apps[key] = make_app(settings)
        return app


def make_app(settings):
    from celery import Celery

    app = Celery("geode", set_as_current=False)
    app.conf.update(celery_config(settings))
    app.geode_settings = settings
    load_task_modules()
    routes = {}
    for gtask in all_tasks().values():
        _register(app, gtask)
        routes[gtask.name] = {"queue": gtask.queue, "routing_key": gtask.queue}
    app.conf.task_routes = routes
    app.finalize()
    return app


def _register(app, gtask: Task) -> None:
    limits = QUEUE_LIMITS[gtask.queue]

    def run(self, *args, **kwargs):
        return execute(self, gtask, args, kwargs)

    run.__name__ = gtask.func.__name__
    run.__qualname__ = gtask.func.__qualname__
    run.__module__ = gtask.func.__module__
    run.__doc__ = gtask.func.__doc__
    app.task(name=gtask.name, bind=True, soft_time_limit=limits.soft, time_limit=limits.hard,
             typing=False, shared=False)(run)


# ---------------------------------------------------------------------------------------------------------------
# worker side


_redis_clients: dict[tuple[int, str], object] = {}


def redis_for(app):
    """A Redis client on the broker (one per process: pool children must not share a parent's socket)."""
    from urllib.parse import urlsplit

    from .broker import REDIS_SCHEMES

    url = app.conf.broker_url or ""
    if urlsplit(url).scheme not in REDIS_SCHEMES:
        return None
    key = (os.getpid(), url)
    client = _redis_clients.get(key)
    if client is None:
        import redis

        client = _redis_clients[key] = redis.Redis.from_url(url, socket_timeout=10, socket_connect_timeout=5)
    return client


def execute(celery_task, gtask: Task, args, kwargs):
    """Run one unit on a worker: guard against cancelled runs and redelivery loops, then call the function."""
    from celery.exceptions import Ignore

    request = celery_task.request
    # custom message headers show up as request attributes (older Celery: inside request.headers)
    headers = request.headers if isinstance(request.headers, dict) else {}
    run_id = getattr(request, RUN_HEADER, None) or headers.get(RUN_HEADER)
    client = redis_for(celery_task.app)
    try:
        if client is not None and request.id:
            limit = redelivery_limit(celery_task.app.geode_settings)
            ttl = visibility_timeout(celery_task.app.geode_settings) * (limit + 1)
            pipe = client.pipeline()
            pipe.incr(delivery_key(request.id))
            pipe.expire(delivery_key(request.id), ttl)
            if run_id:
                pipe.exists(run_key(run_id, "cancelled"))
                pipe.hset(run_key(run_id, "running"), request.id, f"{request.hostname} {os.getpid()}")
                pipe.expire(run_key(run_id, "running"), ttl)
            replies = pipe.execute()
            deliveries = int(replies[0])
            if run_id and replies[2]:
                raise Ignore()  # the run was cancelled (Ctrl-C) while this unit sat in the queue
            if deliveries > limit:
                raise RedeliveryLimitExceeded(
                    f"{gtask.name} was delivered {deliveries} times (limit {limit}, [celery] redelivery_limit): "
                    "its worker died each time; not trying again")
        call_args = [codec.from_wire(a) for a in args]
        call_kwargs = {k: codec.from_wire(v) for k, v in kwargs.items()}
        return codec.to_wire(gtask.func(*call_args, **call_kwargs))
    finally:  # the unit no longer runs, whichever way it ended
        if client is not None and run_id and request.id:
            try:
                client.hdel(run_key(run_id, "running"), request.id)
            except Exception:  # progress bookkeeping only; the result matters more
                pass
