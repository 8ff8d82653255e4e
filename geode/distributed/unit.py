"""A unit on a worker: guard, lease, run, report.

Before it runs, one script counts the delivery, skips a unit whose run was cancelled or closed or that another
copy already finished, registers the holder and takes its lease. While it runs, a thread of this process keeps
the lease fresh. When it ends, one script pushes its outcome to the coordinator's list, marks it finished and
drops the lease. The outcome travels in that list, not in Celery's result backend (``ignore_result``): the
coordinator reads it with a blocking pop, and it survives the coordinator being away (`geode runs resume`
collects it).
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time

from ..errors import GeodeError
from ..jobs import codec
from ..jobs.outcomes import failure_from_exception
from ..jobs.registry import Task
from ..jobs.units import call_unit
from .batch_keys import (BATCH_HEADER, BEAT, FINISH, KEY_HEADER, START, UNIT_HEADER, batch_key, delivery_key, key_ttl,
                         lease_key)
from .broker import redis_for
from .settings import redelivery_limit

log = logging.getLogger("geode.worker")

PUSH_PATIENCE = 60.0  # seconds a finished unit keeps trying to report while the broker is away


class RedeliveryLimitExceeded(GeodeError):
    """A unit was delivered more times than allowed: its worker died each time (OOM? a crash?)."""


def header(request, name: str):
    """A custom message header (Celery exposes them as request attributes; older versions inside headers)."""
    headers = request.headers if isinstance(request.headers, dict) else {}
    return getattr(request, name, None) or headers.get(name)


def execute(celery_task, gtask: Task, args, kwargs):
    """Run one unit on a worker (the body of every registered Celery task)."""
    request = celery_task.request
    batch = header(request, BATCH_HEADER)
    client = redis_for(celery_task.app)
    if batch is None or client is None or not request.id:  # JobServer and health checks: Celery's own results
        _count_delivery(client, celery_task, gtask, request.id)
        return _call(gtask, args, kwargs)
    settings = celery_task.app.geode_settings
    unit = int(header(request, UNIT_HEADER))
    holder = f"{unit} {request.hostname} {os.getpid()}"
    deliveries, verdict = _script(client, START)(
        keys=[delivery_key(request.id), batch_key(batch, "state"), batch_key(batch, "finished"),
              batch_key(batch, "running"), lease_key(request.id)],
        args=[request.id, unit, holder, _lease_ttl(settings), key_ttl(settings)])
    if _text(verdict) != "run":
        from celery.exceptions import Ignore

        raise Ignore()  # the run was cancelled or has ended, or another copy of this unit already finished
    started = time.time()
    outcome = {"u": unit, "k": header(request, KEY_HEADER), "g": gtask.name, "t": request.id, "n": request.hostname,
               "a": int(deliveries), "t0": started}
    limit = redelivery_limit(settings)
    _heartbeat.hold(client, request.id, holder, batch, settings)
    try:
        if int(deliveries) > limit:
            raise RedeliveryLimitExceeded(_over_limit(gtask, deliveries, limit))
        outcome.update(ok=True, r=_call(gtask, args, kwargs))
    except Exception as exc:  # reported to the coordinator as this unit's failure; the worker goes on
        failure = failure_from_exception(unit, None, exc, request.hostname)
        outcome.update(ok=False, m=failure.message, x=failure.unavailable, tb=failure.traceback)
    finally:
        _heartbeat.release()
    outcome["t1"] = time.time()
    _report(client, batch, request.id, unit, outcome, settings)
    return None


def _call(gtask: Task, args, kwargs):
    call_args = [codec.from_wire(a) for a in args]
    call_kwargs = {k: codec.from_wire(v) for k, v in kwargs.items()}
    return codec.to_wire(call_unit(gtask.func, call_args, call_kwargs))


def _count_delivery(client, celery_task, gtask: Task, task_id) -> None:
    if client is None or not task_id:
        return
    limit = redelivery_limit(celery_task.app.geode_settings)
    pipe = client.pipeline()
    pipe.incr(delivery_key(task_id))
    pipe.expire(delivery_key(task_id), key_ttl(celery_task.app.geode_settings))
    deliveries = int(pipe.execute()[0])
    if deliveries > limit:
        raise RedeliveryLimitExceeded(_over_limit(gtask, deliveries, limit))


def _over_limit(gtask: Task, deliveries, limit: int) -> str:
    return (f"{gtask.name} was delivered {deliveries} times (limit {limit}, [celery] redelivery_limit): "
            "its worker died each time; not trying again")


def _report(client, batch: str, task_id: str, unit: int, outcome: dict, settings) -> None:
    """Push the outcome; while the broker is away keep trying for a while (the coordinator is waiting for it)."""
    import redis

    payload = json.dumps(outcome, separators=(",", ":"), allow_nan=True)
    deadline = time.monotonic() + PUSH_PATIENCE
    while True:
        try:
            _script(client, FINISH)(
                keys=[batch_key(batch, "results"), batch_key(batch, "finished"), batch_key(batch, "running"),
                      lease_key(task_id)],
                args=[payload, unit, task_id, key_ttl(settings)])
            return
        except (redis.ConnectionError, redis.TimeoutError) as exc:
            if time.monotonic() > deadline:
                log.warning("unit %s of batch %s: outcome not reported, the broker is unreachable (%s); the "
                            "coordinator will send the unit again", unit, batch, exc)
                return
            time.sleep(1.0)


def _lease_ttl(settings) -> int:
    from ..jobs.history import lease_timeout

    return max(1, int(round(lease_timeout(settings))))


def _text(value) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


_scripts: dict[tuple[int, int, str], object] = {}


def _script(client, source: str):
    """A registered script (EVALSHA; reloaded by redis-py after a broker restart forgot it)."""
    key = (os.getpid(), id(client), source)
    script = _scripts.get(key)
    if script is None:
        script = _scripts[key] = client.register_script(source)
    return script


class _Heartbeat:
    """One thread per worker process refreshes the lease of the unit this process is running."""

    def __init__(self):
        self._lock = threading.Lock()
        self._current: tuple | None = None
        self._pid = 0
        self._wake = threading.Event()

    def hold(self, client, task_id: str, holder: str, batch: str, settings) -> None:
        from ..jobs.history import heartbeat_every

        with self._lock:
            self._current = (client, task_id, holder, batch, _lease_ttl(settings), key_ttl(settings),
                             heartbeat_every(settings))
            if self._pid != os.getpid():  # first unit in this (forked) process
                self._pid = os.getpid()
                threading.Thread(target=self._loop, name="geode-lease", daemon=True).start()

    def release(self) -> None:
        with self._lock:
            self._current = None

    def _loop(self) -> None:
        every = 1.0
        while True:
            self._wake.wait(every)
            with self._lock:
                current = self._current
            if current is None:
                continue
            client, task_id, holder, batch, lease_ttl, ttl, every = current
            try:
                _script(client, BEAT)(
                    keys=[lease_key(task_id), batch_key(batch, "running"), batch_key(batch, "finished")],
                    args=[task_id, holder, lease_ttl, ttl, holder.split(" ", 1)[0]])
            except Exception as exc:  # the broker is away: the lease resumes when it is back
                log.debug("lease refresh failed: %s", exc)


_heartbeat = _Heartbeat()
