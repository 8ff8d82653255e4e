"""Is the broker there, and who consumes which queue? Fast answers, never a hang.

Every message names the broker URL with its password masked and where the URL came from
(env CELERY_BROKER_URL, a config file line, or the default).
"""

from __future__ import annotations

import os
from urllib.parse import urlsplit

from ..config import mask_url
from ..errors import ConfigError, ServiceUnavailable

REDIS_SCHEMES = ("redis", "rediss", "unix")


def describe_broker(settings) -> str:
    cv = settings.broker_url
    return f"{mask_url(cv.value)} (from {cv.source})"


def check_broker(settings, timeout: float = 3.0) -> None:
    """Raise ServiceUnavailable (exit 69) unless the broker answers a PING within ``timeout`` seconds."""
    url = settings.broker_url.value
    scheme = urlsplit(url).scheme
    if scheme == "memory":
        return
    if scheme not in REDIS_SCHEMES:
        raise ConfigError(f"broker {describe_broker(settings)}: only Redis brokers (redis://, rediss://) are supported")
    import redis

    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout)
        try:
            client.ping()
        finally:
            client.close()
    except redis.AuthenticationError as exc:
        raise ServiceUnavailable(f"broker {describe_broker(settings)} refused the credentials: {exc}") from None
    except (redis.RedisError, OSError, ValueError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ServiceUnavailable(
            f"broker {describe_broker(settings)} is unreachable: {reason} "
            "(start Redis, or point CELERY_BROKER_URL / [celery] broker_url at it)") from None


def inspect(app, timeout: float = 1.0, destination: list[str] | None = None, limit: int | None = None):
    """Remote control of the workers; with ``limit`` the call returns as soon as that many have replied."""
    return app.control.inspect(timeout=timeout, destination=destination, limit=limit)


def queue_consumers(app, timeout: float = 1.0, limit: int | None = None) -> dict[str, list[str]]:
    """{worker hostname: [queue names it consumes]} from the workers that answer within ``timeout`` (at most
    ``limit`` of them)."""
    replies = inspect(app, timeout, limit=limit).active_queues() or {}
    return {host: sorted(q["name"] for q in queues or []) for host, queues in replies.items()}


def consumes(app, queue: str, timeout: float = 1.0) -> bool:
    """Whether some worker consumes ``queue``. A broadcast waits its whole timeout for workers that may never
    answer, so the first reply is asked for alone: when that worker consumes the queue (the usual case) the
    answer takes milliseconds; only otherwise are all the workers heard out."""
    for limit in (1, None):
        if any(queue in queues for queues in queue_consumers(app, timeout, limit).values()):
            return True
    return False


def require_consumers(app, settings, queue: str, timeout: float = 1.0) -> None:
    """ServiceUnavailable naming the queue unless some worker consumes it."""
    if not consumes(app, queue, timeout):
        raise ServiceUnavailable(
            f"no worker is consuming the '{queue}' queue on broker {describe_broker(settings)}: "
            f"start one with `geode worker start --queues {queue}` (or run with --noparallel)")


_redis_clients: dict[tuple[int, str], object] = {}


def redis_for(app):
    """A Redis client on the broker (one per process: pool children must not share a parent's socket), or None
    for a broker that is not Redis. Every call has a deadline: a dead broker is an error within seconds."""
    url = app.conf.broker_url or ""
    if urlsplit(url).scheme not in REDIS_SCHEMES:
        return None
    key = (os.getpid(), url)
    client = _redis_clients.get(key)
    if client is None:
        import redis

        client = _redis_clients[key] = redis.Redis.from_url(url, socket_timeout=10, socket_connect_timeout=5)
    return client
