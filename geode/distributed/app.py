"""The Celery app: every ``geode.jobs`` task registered under its own name, wrapped for the wire.

The wrapper (``geode.distributed.unit.execute``) decodes arguments and encodes the result with
``geode.jobs.codec`` (so a worker sees exactly what the inline runner sees), holds a lease while the unit runs,
skips units of a run that was cancelled, and counts deliveries so a unit that keeps killing its worker fails
after ``[celery] redelivery_limit`` attempts instead of looping forever.
"""

from __future__ import annotations

import threading

from ..jobs.registry import Task, all_tasks, load_task_modules
from .settings import QUEUE_LIMITS, celery_config, redelivery_limit, visibility_timeout
from .unit import execute

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
