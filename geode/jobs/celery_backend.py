"""The Celery backend of ``Runner``: units go to workers by task name and queue, results come back as they finish.

Before anything is sent the broker must answer and a worker must consume the task's queue, otherwise
ServiceUnavailable (exit 69) names the masked URL or the queue: a parallel run never hangs and never
silently runs inline. Every run has its own id (a message header), so Ctrl-C cancels exactly this run's units:
queued messages are removed from the queue, a cancel flag makes any copy a worker still picks up a no-op,
and running units are revoked with SIGTERM (``geode.jobs.process.run_subprocess`` turns that into killing the
unit's whole process tree).
"""

from __future__ import annotations

import json
import signal
import threading
import time
import uuid
from contextlib import contextmanager
from typing import Any, Iterator

from ..errors import ServiceUnavailable
from . import codec
from .registry import Task
from .runner import Outcome, Runner, TaskFailure, as_call

LIVENESS_EVERY = 15.0  # seconds between "is anyone still consuming the queue?" checks while waiting
DEFAULT_WORKER_TIMEOUT = 300.0  # give up when no worker consumes the queue for this long ([jobs] worker_timeout)


class CeleryRunner(Runner):
    mode = "celery"

    def __init__(self, settings, app=None):
        from ..distributed.app import get_app

        self.settings = settings
        self.app = app if app is not None else get_app(settings)
        self.run_id = uuid.uuid4().hex
        self._checked_queues: set[str] = set()
        self._pending: dict[str, tuple[int, Any]] = {}  # task id -> (index, item) not finished yet
        self._queue = ""
        self._running = 0
        self._last_poll = 0.0
        self._last_consumer_seen = time.monotonic()
        self._last_liveness = time.monotonic()
        self._interrupted = False

    # -- before sending ---------------------------------------------------------------------------------------

    def prepare(self, task: Task) -> None:
        self.preflight(task.queue)

    def preflight(self, queue: str) -> None:
        """Broker reachable and someone consuming ``queue``, or ServiceUnavailable within a few seconds."""
        if queue in self._checked_queues:
            return
        from ..distributed.broker import check_broker, require_consumers

        check_broker(self.settings)
        require_consumers(self.app, self.settings, queue)
        self._checked_queues.add(queue)

    # -- the run -----------------------------------------------------------------------------------------------

    def imap(self, task: Task, items: list[Any]) -> Iterator[Outcome]:
        if not items:
            return
        self.preflight(task.queue)
        from celery.result import AsyncResult, ResultSet

        from ..distributed.app import RUN_HEADER

        self._queue = task.queue
        self._last_consumer_seen = self._last_liveness = time.monotonic()
        results = []
        with self.app.producer_or_acquire() as producer:
            for index, item in enumerate(items):
                args, kwargs = as_call(item)
                task_id = uuid.uuid4().hex
                self._pending[task_id] = (index, item)  # before sending: Ctrl-C mid-send still cancels it
                self.app.send_task(
                    task.name, args=[codec.to_wire(a) for a in args],
                    kwargs={k: codec.to_wire(v) for k, v in kwargs.items()},
                    task_id=task_id, queue=task.queue, routing_key=task.queue, producer=producer,
                    headers={RUN_HEADER: self.run_id})
                results.append(AsyncResult(task_id, app=self.app))
        backend = self.app.backend
        try:
            with self._sigint_recorded():
                for task_id, meta in backend.iter_native(ResultSet(results, app=self.app), timeout=None,
                                                         interval=1.0, no_ack=True, on_interval=self._on_interval):
                    index, item = self._pending.pop(task_id)
                    yield self._outcome(index, item, meta)
        finally:
            self._release(results)

    def _release(self, results: list) -> None:
        """Unsubscribe from the results now, while the broker is up: AsyncResult's finaliser would do it at
        interpreter exit, when Redis may be gone, and print a traceback."""
        for result in results:
            try:
                self.app.backend.remove_pending_result(result)
            except Exception:  # the broker is already gone: nothing left to unsubscribe from
                pass
            result.backend = None

    def _outcome(self, index: int, item: Any, meta: dict) -> Outcome:
        node = str(meta.get("worker") or "")
        status = meta.get("status")
        if status == "SUCCESS":
            return Outcome(index, item, result=codec.from_wire(meta.get("result")), node=node)
        exc = meta.get("result")
        if status == "REVOKED":
            message = "revoked before it finished"
        elif isinstance(exc, BaseException):
            message = f"{type(exc).__name__}: {exc}".splitlines()[0]
        else:
            message = f"{status}: {exc}".splitlines()[0]
        failure = TaskFailure(index, item, message, str(meta.get("traceback") or ""), node)
        return Outcome(index, item, failure=failure, node=node)

    # -- while waiting --------------------------------------------------------------------------------------

    def _on_interval(self) -> None:
        """Between results: re-raise a lost Ctrl-C, refresh the running count, notice when every worker has gone."""
        if self._interrupted:
            raise KeyboardInterrupt
        now = time.monotonic()
        self._poll_running(now)
        limit = float(self.settings.get("jobs.worker_timeout", DEFAULT_WORKER_TIMEOUT))
        if now - self._last_liveness < min(LIVENESS_EVERY, limit / 2):
            return
        self._last_liveness = now
        from ..distributed.broker import queue_consumers

        try:
            alive = any(self._queue in qs for qs in queue_consumers(self.app).values())
        except Exception:  # the broker itself is gone: the same verdict, no worker reachable
            alive = False
        if alive:
            self._last_consumer_seen = now
            return
        if now - self._last_consumer_seen > limit:
            waiting = len(self._pending)
            self.cancel()
            raise ServiceUnavailable(
                f"no worker has consumed the '{self._queue}' queue for {limit:.0f} s ([jobs] worker_timeout); "
                f"{waiting} unit(s) were still waiting and have been cancelled")

    def _poll_running(self, now: float) -> None:
        if now - self._last_poll < 0.5:
            return
        self._last_poll = now
        client = self._redis()
        if client is None:
            return
        from ..distributed.app import run_key

        try:
            self._running = min(int(client.hlen(run_key(self.run_id, "running"))), len(self._pending))
        except Exception:
            pass

    def running_count(self, finished: int, total: int) -> int:
        self._poll_running(time.monotonic())
        return min(self._running, total - finished)

    def _redis(self):
        from ..distributed.app import redis_for

        return redis_for(self.app)

    # -- Ctrl-C ----------------------------------------------------------------------------------------------

    @contextmanager
    def _sigint_recorded(self):
        """Remember Ctrl-C as well as raising it. Python prints and drops an exception raised inside a
        finaliser (celery's ``AsyncResult.__del__`` runs while we wait), so there the handler only records it
        and ``_on_interval`` raises it within a second."""
        if threading.current_thread() is not threading.main_thread():
            yield
            return

        def on_sigint(signum, frame):
            self._interrupted = True
            while frame is not None:
                if frame.f_code.co_name == "__del__":
                    return
                frame = frame.f_back
            raise KeyboardInterrupt

        previous = signal.signal(signal.SIGINT, on_sigint)
        try:
            yield
        finally:
            signal.signal(signal.SIGINT, previous)

    def cancel(self) -> None:
        """Cancel this run only: flag it, drop its queued messages, revoke (SIGTERM) what is running."""
        ids = list(self._pending)
        if not ids:
            return
        from ..distributed.app import run_key
        from ..distributed.settings import visibility_timeout

        client = self._redis()
        if client is not None:
            ttl = visibility_timeout(self.settings) * 2
            try:
                client.set(run_key(self.run_id, "cancelled"), "1", ex=ttl)
                remove_queued(client, self._queue, set(ids))
            except Exception:  # the revoke below still stops what the workers hold
                pass
        try:
            self.app.control.revoke(ids, terminate=True, signal="SIGTERM")
        except Exception:
            pass
        self._pending.clear()


def remove_queued(client, queue: str, task_ids: set[str]) -> int:
    """Delete this run's messages still waiting in the Redis list ``queue`` (others' messages stay)."""
    removed = 0
    # kombu's Redis transport keeps priority sub-lists named "<queue>\x06\x16<priority>" next to the plain list
    names = [queue] + [k.decode() if isinstance(k, bytes) else k for k in client.scan_iter(f"{queue}\x06\x16*")]
    for name in names:
        for raw in client.lrange(name, 0, -1):
            try:
                task_id = json.loads(raw)["headers"]["id"]
            except (ValueError, KeyError, TypeError):
                continue
            if task_id in task_ids:
                removed += client.lrem(name, 1, raw)
    return removed
