"""The Celery settings bundle for long, idempotent GNSS tasks on Redis.

Why each setting (Celery's defaults are tuned for short web tasks):

* JSON only. Pickle lets anyone who can write to the broker run code on every worker; it is accepted only
  with ``[celery] allow_pickle = true`` (a trusted, password-protected broker), which also enables the
  JobServer facade's calls of arbitrary importable functions.
* ``task_acks_late`` + ``task_reject_on_worker_lost``: a unit whose worker dies (OOM, spot instance, SIGKILL)
  is delivered again instead of being lost. Tasks upsert, so a second delivery writes the same rows once;
  a delivery counter in Redis (``[celery] redelivery_limit``) stops a unit that kills every worker it meets.
  A worker that vanishes entirely (machine lost) leaves its unit unacknowledged: another worker puts it back
  on the queue once it is older than ``visibility_timeout`` (swept every ``[celery] restore_interval`` s).
* No prefetch (``worker_prefetch_multiplier = 1`` and ``worker_disable_prefetch``): a worker busy with a
  10-hour GAMIT day does not hoard the next units while its siblings idle.
* ``visibility_timeout`` above the longest hard time limit, set in all three places Celery reads it
  (broker transport, result backend transport, app.conf): otherwise Redis redelivers a running GAMIT
  session after one hour and two workers process the same day.
* Per-queue soft/hard time limits; ``result_expires``; ``task_track_started`` (for the JobServer facade: geode's
  own runs send with ``ignore_result`` and get outcomes through their batch list, see ``batch_keys``).
* A unit keeps running when the worker loses the broker (``worker_cancel_long_running_tasks_on_connection_loss``
  off): a 10-hour GAMIT day survives a broker restart, reports its outcome when the broker is back, and the copy
  Redis may redeliver later is skipped because the unit is marked finished.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..jobs.registry import QUEUES

HOUR = 3600


@dataclass(frozen=True)
class QueueLimits:
    soft: int  # seconds: SoftTimeLimitExceeded is raised inside the task
    hard: int  # seconds: the pool process is killed


# A GAMIT day on a large subnetwork runs for many hours; compute (stack, ETM, DRA) and io (scan, download)
# units are minutes.
QUEUE_LIMITS = {
    "gamit": QueueLimits(soft=20 * HOUR, hard=22 * HOUR),
    "compute": QueueLimits(soft=2 * HOUR, hard=2 * HOUR + 600),
    "io": QueueLimits(soft=1 * HOUR, hard=1 * HOUR + 600),
}
assert set(QUEUE_LIMITS) == set(QUEUES)

DEFAULT_VISIBILITY_TIMEOUT = 24 * HOUR  # above the longest hard limit (gamit, 22 h)
DEFAULT_RESULT_EXPIRES = 12 * HOUR
DEFAULT_REDELIVERY_LIMIT = 3
KEY_PREFIX = "geode:"  # our own Redis keys (delivery counters, run flags); never Celery's


def visibility_timeout(settings) -> int:
    return int(settings.get("celery.visibility_timeout", DEFAULT_VISIBILITY_TIMEOUT))


def redelivery_limit(settings) -> int:
    return int(settings.get("celery.redelivery_limit", DEFAULT_REDELIVERY_LIMIT))


def celery_config(settings) -> dict:
    """app.conf for ``settings`` (broker and backend already resolved with their sources)."""
    from kombu import Exchange, Queue

    allow_pickle = bool(settings.get("celery.allow_pickle", False))
    serializer = "pickle" if allow_pickle else "json"
    accept = ["json", "pickle"] if allow_pickle else ["json"]
    vt = visibility_timeout(settings)
    transport: dict = {"visibility_timeout": vt}
    restore = settings.get("celery.restore_interval")
    if restore:  # how often a worker looks for units of dead workers older than visibility_timeout (default ~100 s)
        transport.update(unacked_restore_interval=int(restore), unacked_restore_throttle=1)
    exchange = Exchange("geode", type="direct")
    return {
        "broker_url": settings.broker_url.value,
        "result_backend": settings.result_backend.value,
        "task_serializer": serializer,
        "result_serializer": serializer,
        "accept_content": accept,
        "result_accept_content": accept,
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "worker_prefetch_multiplier": 1,
        "worker_disable_prefetch": True,
        "broker_transport_options": dict(transport),
        "result_backend_transport_options": dict(transport),
        "visibility_timeout": vt,
        "task_queues": [Queue(q, exchange, routing_key=q) for q in QUEUES],
        "task_default_queue": "compute",
        "task_default_exchange": "geode",
        "task_default_routing_key": "compute",
        "task_create_missing_queues": False,
        "worker_direct": True,  # a <hostname>.dq queue per worker: check_worker reaches each one
        "result_expires": int(settings.get("celery.result_expires", DEFAULT_RESULT_EXPIRES)),
        "result_extended": True,  # the worker's hostname travels with each result (failures name their node)
        "task_track_started": True,
        "worker_cancel_long_running_tasks_on_connection_loss": False,
        "broker_connection_retry_on_startup": True,
        "broker_connection_timeout": 3,
        "redis_socket_connect_timeout": 3,
        "worker_hijack_root_logger": False,
        "worker_send_task_events": False,
        "task_send_sent_event": False,
        "enable_utc": True,
    }
