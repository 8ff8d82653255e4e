"""The Celery backend of ``Runner``: units go to workers by task name and queue, outcomes come back as they finish.

Before anything is sent the broker must answer and a worker must consume the task's queue, otherwise
ServiceUnavailable (exit 69) names the masked URL or the queue: a parallel run never hangs and never silently
runs inline. Each ``map`` call is a *batch* with its own id (a message header and a few Redis keys, see
``geode.distributed.batch_keys``); workers push each unit's outcome to the batch's list and hold a lease on the
unit while it runs. The coordinator waits on that list and, between outcomes, watches for what clusters do:

* a holder that stops renewing its lease (a vanished host, a preempted spot instance): the unit is sent again
  after ``[jobs] lease_timeout``, without waiting for Redis's visibility timeout (24 h, kept as the backstop
  for a coordinator that is gone too); the first outcome of a unit wins, a late duplicate is dropped;
* the broker going away: every broker call has a deadline, and the coordinator keeps reconnecting for
  ``[jobs] broker_timeout``; when the broker is back the run goes on (a broker that lost its data gets every
  unfinished unit again), otherwise BrokerLost (exit 69) and the run can be resumed;
* no worker consuming the queue for ``[jobs] worker_timeout``: exit 69;
* Ctrl-C, SIGTERM, `geode runs cancel`: this batch is flagged cancelled (a worker skips its units), its queued
  messages are removed and its running units revoked, each step bounded so a dead broker never blocks it.
"""

from __future__ import annotations

import json
import logging
import signal
import threading
import time
import uuid
from collections import deque
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

from ..errors import ServiceUnavailable, Terminated, first_line
from . import codec
from .history import heartbeat_every, lease_timeout
from .outcomes import Outcome, TaskFailure
from .registry import Task
from .runner import Runner
from .units import Unit, as_call

log = logging.getLogger("geode.jobs")

LIVENESS_EVERY = 15.0  # seconds between "is anyone still consuming the queue?" checks while waiting
DEFAULT_WORKER_TIMEOUT = 300.0  # give up when no worker consumes the queue for this long ([jobs] worker_timeout)
DEFAULT_BROKER_TIMEOUT = 60.0  # keep reconnecting to a lost broker for this long ([jobs] broker_timeout)
CONTROL_TIMEOUT = 3.0  # seconds for a broadcast (revoke, inspect): kombu would retry those forever
DRAIN = 500  # outcomes taken from the list per round trip


class BrokerLost(ServiceUnavailable):
    """The broker stayed unreachable for [jobs] broker_timeout (exit 69; the run can be resumed)."""


def broker_errors() -> tuple[type[BaseException], ...]:
    import kombu.exceptions
    import redis

    return (redis.ConnectionError, redis.TimeoutError, kombu.exceptions.OperationalError, ConnectionError,
            TimeoutError, OSError)


@dataclass
class _Batch:
    id: str
    task: Task
    pending: dict[int, Unit]  # unit index -> unit, until its first outcome
    task_ids: dict[int, str] = field(default_factory=dict)  # unit index -> the Celery task id of its latest send
    sends: dict[int, int] = field(default_factory=dict)  # unit index -> how often it was sent
    running: dict[str, str] = field(default_factory=dict)  # task id -> "<unit> <worker> <pid>", last poll
    polled: float = 0.0
    leases_checked: float = 0.0
    idle_since: float | None = None  # nothing running and nothing queued while units are pending
    resend_at: float | None = None  # the broker lost its data: send what is neither finished nor running
    taken: deque[int] = field(default_factory=deque)  # per taken outcome: its history sequence number (0: none)
    cancelled: bool = False
    broker_lost: bool = False

    def key(self, what: str) -> str:
        from ..distributed.batch_keys import batch_key

        return batch_key(self.id, what)


class CeleryRunner(Runner):
    mode = "celery"

    def __init__(self, settings, app=None):
        from ..distributed.app import get_app
        from ..distributed.broker import redis_for

        self.settings = settings
        self.app = app if app is not None else get_app(settings)
        self.client = redis_for(self.app)
        self.lease_timeout = lease_timeout(settings)
        self.broker_timeout = float(settings.get("jobs.broker_timeout", DEFAULT_BROKER_TIMEOUT))
        self.worker_timeout = float(settings.get("jobs.worker_timeout", DEFAULT_WORKER_TIMEOUT))
        self._checked_queues: set[str] = set()
        self._batch: _Batch | None = None
        self._interrupt: type[BaseException] | None = None
        self._last_consumer_seen = self._last_liveness = time.monotonic()

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

    def imap(self, task: Task, units: list[Unit]) -> Iterator[Outcome]:
        if not units:
            return
        self.preflight(task.queue)
        from ..distributed.batch_keys import key_ttl

        batch = self._batch = _Batch(uuid.uuid4().hex, task, {u.index: u for u in units})
        if self.history is not None:
            self.history.add_batch(batch.id)
        self._last_consumer_seen = self._last_liveness = time.monotonic()
        with self._signals_recorded():
            try:
                self._broker(lambda: self.client.set(batch.key("state"), "open", ex=key_ttl(self.settings)))
                self._send(list(units))
                while batch.pending:
                    yield from self._receive()
                    yield from self._watch()
            finally:
                self._end_batch()

    def _send(self, units: list[Unit]) -> None:
        """Publish ``units`` (again, after a lost lease or a broker restart); resumes where a lost broker cut in."""
        from ..distributed.batch_keys import BATCH_HEADER, KEY_HEADER, UNIT_HEADER

        batch = self._batch
        remaining = list(units)
        while remaining:
            try:
                with self.app.connection_for_write() as conn, self.app.amqp.Producer(conn) as producer:
                    while remaining:
                        unit = remaining[0]
                        task_id = uuid.uuid4().hex
                        args, kwargs = as_call(unit.item)
                        self.app.send_task(
                            batch.task.name, args=[codec.to_wire(a) for a in args],
                            kwargs={k: codec.to_wire(v) for k, v in kwargs.items()}, task_id=task_id,
                            queue=batch.task.queue, routing_key=batch.task.queue, producer=producer,
                            headers={BATCH_HEADER: batch.id, UNIT_HEADER: unit.index, KEY_HEADER: unit.key},
                            ignore_result=True,
                            retry=False)
                        batch.task_ids[unit.index] = task_id
                        batch.sends[unit.index] = batch.sends.get(unit.index, 0) + 1
                        remaining.pop(0)
            except broker_errors() as exc:
                self._wait_for_broker(exc)

    def _receive(self) -> Iterator[Outcome]:
        """Outcomes pushed by workers: a blocking move (1 s), then whatever else is waiting, in one round trip.
        They move to the batch's 'taken' list and leave it once the run history holds them (``_trim``)."""
        from ..distributed.batch_keys import TAKE, key_ttl

        batch = self._batch
        results, taken = batch.key("results"), batch.key("taken")
        first = self._broker(lambda: self.client.blmove(results, taken, 1, "LEFT", "RIGHT"))
        if first is None:
            return
        rest = self._broker(lambda: self.client.eval(TAKE, 2, results, taken, DRAIN, key_ttl(self.settings)))
        for payload in [first, *rest]:
            outcome = self._outcome(json.loads(payload))
            if outcome is None:
                batch.taken.append(0)
                continue
            yield outcome
            history = self.history
            batch.taken.append(history.appended if history is not None and history.active else 0)

    def _trim(self) -> None:
        """Drop taken outcomes the run history has written (all of them when there is no history)."""
        batch = self._batch
        history = self.history
        durable = history.flushed if history is not None and history.active else float("inf")
        count = 0
        while batch.taken and batch.taken[0] <= durable:
            batch.taken.popleft()
            count += 1
        if count:
            self._broker(lambda: self.client.ltrim(batch.key("taken"), count, -1))

    def _outcome(self, data: dict) -> Outcome | None:
        batch = self._batch
        index = int(data["u"])
        unit = batch.pending.pop(index, None)
        if unit is None:  # a duplicate (the unit was sent again): the first outcome won
            return None
        node = str(data.get("n") or "")
        common = dict(node=node, started=data.get("t0"), ended=data.get("t1"), attempts=batch.sends.get(index, 1))
        if data.get("ok"):
            return Outcome(index, unit.item, result=codec.from_wire(data.get("r")), **common)
        failure = TaskFailure(index, unit.item, str(data.get("m") or "failed"), str(data.get("tb") or ""), node,
                              bool(data.get("x")))
        return Outcome(index, unit.item, failure=failure, **common)

    def running(self) -> list[int]:
        batch = self._batch
        if batch is None:
            return []
        return [i for i in (_unit_of(h) for h in batch.running.values()) if i in batch.pending]

    # -- between outcomes ---------------------------------------------------------------------------------------

    def _watch(self) -> Iterator[Outcome]:
        """Re-raise a recorded interrupt, refresh who runs what, send again what lost its holder, notice when
        every worker has gone."""
        self._raise_interrupt()
        batch = self._batch
        now = time.monotonic()
        if now - batch.polled >= 0.5:
            batch.polled = now
            self._trim()
            batch.running = {_text(k): _text(v) for k, v in
                             self._broker(lambda: self.client.hgetall(batch.key("running"))).items()}
        if batch.resend_at is not None and now >= batch.resend_at:
            batch.resend_at = None
            lost = [u for i, u in batch.pending.items() if i not in set(self.running())]
            yield from self._send_again(lost, "the broker lost it in a restart")
        if now - batch.leases_checked >= heartbeat_every(self.settings):
            batch.leases_checked = now
            yield from self._check_leases()
            yield from self._check_stall(now)
        self._check_consumers(now)

    def _check_leases(self) -> Iterator[Outcome]:
        from ..distributed.batch_keys import EXPIRED, LEASE_PREFIX

        batch = self._batch
        if not any(_unit_of(h) in batch.pending for h in batch.running.values()):
            return
        flat = self._broker(lambda: self.client.eval(EXPIRED, 1, batch.key("running"), LEASE_PREFIX))
        lost = [(_text(flat[i]), _text(flat[i + 1])) for i in range(0, len(flat), 2)]
        lost = [(tid, holder) for tid, holder in lost if _unit_of(holder) in batch.pending]
        if not lost:
            return
        self._broker(lambda: self.client.hdel(batch.key("running"), *[tid for tid, _ in lost]))
        for tid, holder in lost:
            batch.running.pop(tid, None)
            worker = holder.split(" ")[1] if " " in holder else "?"
            yield from self._send_again([batch.pending[_unit_of(holder)]],
                                        f"its worker {worker} stopped renewing its lease for "
                                        f"{self.lease_timeout:.0f} s ([jobs] lease_timeout)")

    def _check_stall(self, now: float) -> Iterator[Outcome]:
        """Units pending, none running, none queued for a whole lease: their messages were lost in transit
        (taken by a worker that vanished before it started them). Send them again."""
        batch = self._batch
        if self.running() or self._queued() > 0:
            batch.idle_since = None
            return
        if batch.idle_since is None:
            batch.idle_since = now
            return
        if now - batch.idle_since >= self.lease_timeout:
            batch.idle_since = None
            yield from self._send_again(list(batch.pending.values()), "it was neither queued nor running")

    def _queued(self) -> int:
        """Messages waiting in the task's queue (kombu keeps priority sub-lists beside the plain list)."""
        queue = self._batch.task.queue
        pipe = self.client.pipeline(transaction=False)
        for name in [queue] + [f"{queue}\x06\x16{p}" for p in (3, 6, 9)]:
            pipe.llen(name)
        return sum(self._broker(pipe.execute))

    def _send_again(self, units: list[Unit], reason: str) -> Iterator[Outcome]:
        from ..distributed.settings import redelivery_limit

        limit = redelivery_limit(self.settings)
        again = []
        for unit in units:
            sends = self._batch.sends.get(unit.index, 1)
            if sends > limit:
                self._batch.pending.pop(unit.index, None)
                message = (f"unit {unit.label} was sent {sends} times and lost each time ({reason}; [celery] "
                           "redelivery_limit): not sending it again")
                yield Outcome(unit.index, unit.item, failure=TaskFailure(unit.index, unit.item, message),
                              attempts=sends)
            else:
                log.warning("unit %s: %s; sending it again", unit.label, reason)
                again.append(unit)
        if again:
            self._send(again)

    def _check_consumers(self, now: float) -> None:
        if now - self._last_liveness < min(LIVENESS_EVERY, self.worker_timeout / 2):
            return
        self._last_liveness = now
        from ..distributed.broker import consumes

        queue = self._batch.task.queue
        if _bounded(lambda: consumes(self.app, queue), CONTROL_TIMEOUT * 2, default=False):
            self._last_consumer_seen = now
            return
        if now - self._last_consumer_seen > self.worker_timeout:
            waiting = len(self._batch.pending)
            self.cancel()
            raise ServiceUnavailable(
                f"no worker has consumed the '{queue}' queue for {self.worker_timeout:.0f} s "
                f"([jobs] worker_timeout); {waiting} unit(s) were still waiting and have been cancelled")

    # -- a lost broker ----------------------------------------------------------------------------------------------

    def _broker(self, op: Callable[[], Any]) -> Any:
        """``op`` on the broker; on a lost connection, reconnect (bounded by broker_timeout) and do it again."""
        while True:
            try:
                return op()
            except broker_errors() as exc:
                self._wait_for_broker(exc)

    def _wait_for_broker(self, exc: BaseException) -> None:
        from ..distributed.broker import describe_broker

        batch = self._batch
        log.warning("lost the broker %s (%s); reconnecting for up to %.0f s ([jobs] broker_timeout)",
                    describe_broker(self.settings), first_line(exc), self.broker_timeout)
        deadline = time.monotonic() + self.broker_timeout
        while True:
            self._raise_interrupt()
            try:
                self.client.ping()
                break
            except broker_errors():
                if time.monotonic() >= deadline:
                    batch.broker_lost = True
                    done = f"{len(batch.pending)} unit(s) of this stage unfinished"
                    resume = ""
                    if self.history is not None and self.history.run_id is not None:
                        resume = f"; resume with: geode runs resume {self.history.run_id}"
                    raise BrokerLost(f"broker {describe_broker(self.settings)} unreachable for "
                                     f"{self.broker_timeout:.0f} s ([jobs] broker_timeout); {done}{resume}") from None
                time.sleep(1.0)
        from ..distributed.batch_keys import key_ttl

        if not self.client.exists(batch.key("state")):
            # a broker without persistence came back empty: queued units and outcomes are gone; give the
            # workers still running units time to re-register their leases, then send the rest again
            self.client.set(batch.key("state"), "open", ex=key_ttl(self.settings))
            batch.taken.clear()  # the taken list went with the rest; it starts again empty
            batch.resend_at = time.monotonic() + 2 * heartbeat_every(self.settings) + 1
            log.warning("the broker is back without its data; unfinished units will be sent again")
        else:
            log.warning("the broker is back; carrying on")

    # -- the end, and cancelling ----------------------------------------------------------------------------------

    def _end_batch(self) -> None:
        """Close the batch (a late or redelivered copy of a unit is skipped), unless cancel did already."""
        from ..distributed.batch_keys import key_ttl

        batch = self._batch
        if batch.cancelled or batch.broker_lost:
            return
        _bounded(lambda: self.client.set(batch.key("state"), "closed", ex=key_ttl(self.settings)),
                 CONTROL_TIMEOUT)

    def cancel(self) -> None:
        """Cancel this batch only: flag it, drop its queued messages, revoke (SIGTERM) what is running.

        Every step is bounded: with the broker gone nothing can be reached, and the run stays resumable."""
        batch = self._batch
        if batch is None or batch.cancelled or not batch.pending:
            return
        batch.cancelled = True
        if batch.broker_lost:
            return
        sent = [batch.task_ids[i] for i in batch.pending if i in batch.task_ids]  # Ctrl-C may land mid-send
        cancel_batches(self.app, self.settings, [batch.id], sent, [batch.task.queue])
        batch.pending.clear()

    # -- Ctrl-C and SIGTERM -----------------------------------------------------------------------------------------

    @contextmanager
    def _signals_recorded(self):
        """Remember Ctrl-C and SIGTERM as well as raising them. Python prints and drops an exception raised
        inside a finaliser (``__del__`` of some library object may run while we wait), so there the handler
        only records it and ``_raise_interrupt`` raises it within a second."""
        if threading.current_thread() is not threading.main_thread():
            yield
            return

        def on_signal(signum, frame):
            self._interrupt = Terminated if signum == signal.SIGTERM else KeyboardInterrupt
            while frame is not None:
                if frame.f_code.co_name == "__del__":
                    return
                frame = frame.f_back
            raise self._interrupt

        previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def _raise_interrupt(self) -> None:
        if self._interrupt is not None:
            raise self._interrupt


def cancel_batches(app, settings, batch_ids: list[str], task_ids: list[str], queues: list[str]) -> None:
    """Flag ``batch_ids`` cancelled, remove their queued messages, revoke ``task_ids``; a few seconds at most."""
    import redis

    from ..distributed.batch_keys import batch_key, key_ttl

    url = app.conf.broker_url
    try:
        client = redis.Redis.from_url(url, socket_timeout=CONTROL_TIMEOUT, socket_connect_timeout=CONTROL_TIMEOUT)
        for batch_id in batch_ids:
            client.set(batch_key(batch_id, "state"), "cancelled", ex=key_ttl(settings))
            task_ids = list(task_ids) + [_text(t) for t in client.hkeys(batch_key(batch_id, "running"))]
        for queue in queues:
            remove_queued(client, queue, set(task_ids))
        client.close()
    except (redis.RedisError, OSError) as exc:  # the revoke below may still reach the workers
        log.debug("cancel: %s", exc)
    if task_ids:
        _bounded(lambda: app.control.revoke(sorted(set(task_ids)), terminate=True, signal="SIGTERM"),
                 CONTROL_TIMEOUT)


def remove_queued(client, queue: str, task_ids: set[str]) -> int:
    """Delete these messages still waiting in the Redis list ``queue`` (others' messages stay)."""
    removed = 0
    # kombu's Redis transport keeps priority sub-lists named "<queue>\x06\x16<priority>" next to the plain list
    names = [queue] + [_text(k) for k in client.scan_iter(f"{queue}\x06\x16*")]
    for name in names:
        for raw in client.lrange(name, 0, -1):
            try:
                task_id = json.loads(raw)["headers"]["id"]
            except (ValueError, KeyError, TypeError):
                continue
            if task_id in task_ids:
                removed += client.lrem(name, 1, raw)
    return removed


def _bounded(call: Callable[[], Any], timeout: float, default: Any = None) -> Any:
    """Run ``call`` in a daemon thread and give up after ``timeout`` s (kombu retries broadcasts forever on a
    dead broker; an abandoned call ends with the process)."""
    box: list[Any] = []

    def run():
        try:
            box.append(call())
        except Exception as exc:
            log.debug("%s", exc)

    thread = threading.Thread(target=run, name="geode-bounded", daemon=True)
    thread.start()
    thread.join(timeout)
    return box[0] if box else default


def _unit_of(holder: str) -> int:
    try:
        return int(holder.split(" ", 1)[0])
    except ValueError:
        return -1


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)

