"""A unit of work's identity and its call: the key that finds it again on resume, the label a person reads,
and the one call path (inline and on workers) that survives a database restart."""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from typing import Any, Callable

from ..errors import first_line
from . import codec
from .registry import Task

log = logging.getLogger("geode.jobs")

LABEL_WIDTH = 60


@dataclass(frozen=True)
class Unit:
    index: int  # position in the caller's list
    item: Any  # a tuple of positional args, a dict of keyword args, or one positional arg
    key: str  # stable across invocations: a hash of the arguments (what `geode runs resume` matches on)
    label: str  # e.g. "igs.braz 2024_100", "52 files from 2024/100/..."


def as_call(item: Any) -> tuple[tuple, dict]:
    """An item is a tuple of positional args, a dict of keyword args, or one positional arg."""
    if isinstance(item, tuple):
        return item, {}
    if isinstance(item, dict):
        return (), item
    return (item,), {}


def plan_units(task: Task, items: list[Any]) -> list[Unit]:
    """Units with keys from their arguments' wire form; the n-th repeat of identical arguments gets '.n'."""
    seen: dict[str, int] = {}
    units = []
    for index, item in enumerate(items):
        wire = json.dumps(codec.to_wire(item), sort_keys=True, separators=(",", ":"), allow_nan=True)
        digest = hashlib.sha1(wire.encode()).hexdigest()[:16]
        repeat = seen.get(digest, 0)
        seen[digest] = repeat + 1
        units.append(Unit(index, item, digest if not repeat else f"{digest}.{repeat}", label_for(task, item)))
    return units


def label_for(task: Task, item: Any) -> str:
    args, kwargs = as_call(item)
    if task.label is not None:
        try:
            return _elide(str(task.label(*args, **kwargs)))
        except Exception:  # a label is for reading only; never let it stop a run
            pass
    parts = [_short(a) for a in args] + [f"{k}={_short(v)}" for k, v in kwargs.items()]
    return _elide(" ".join(parts))


def _short(value: Any) -> str:
    if isinstance(value, (list, tuple)) and len(value) > 3:
        return f"[{len(value)} items]"
    if hasattr(value, "__dataclass_fields__"):
        return type(value).__name__
    return str(value)


def _elide(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= LABEL_WIDTH else text[:LABEL_WIDTH - 1] + "…"


def call_unit(func: Callable[..., Any], args: tuple | list, kwargs: dict) -> Any:
    """Call a unit; when it loses its database connection mid-way, reconnect (waiting for a restarting server)
    and run it once more. Units are idempotent, so the second call writes what the first would have.
    A database that stays unreachable raises ServiceUnavailable: the run stops with 69."""
    from ..db.connection import DatabaseUnavailable
    from ..db.live import connection_lost, reconnect_shared

    try:
        return func(*args, **kwargs)
    except Exception as exc:
        if not (connection_lost(exc) or isinstance(exc, DatabaseUnavailable)):
            raise
        log.warning("a unit lost its database connection (%s); reconnecting to run it again", first_line(exc))
    reconnect_shared()
    try:
        return func(*args, **kwargs)
    except Exception as exc:
        if connection_lost(exc):
            from ..errors import ServiceUnavailable

            raise ServiceUnavailable(f"the database connection was lost twice during one unit: {exc}") from exc
        raise
