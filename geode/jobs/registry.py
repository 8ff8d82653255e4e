"""Task registry: library functions registered under stable names, routed to a queue.

A task takes and returns JSON-serialisable data (through ``geode.jobs.codec``). Workers import
``TASK_MODULES`` so every name is known on both sides.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any, Callable

QUEUES = ("gamit", "compute", "io")

# Modules that define tasks; the Celery worker imports them all at start.
TASK_MODULES = [
    "geode.jobs.builtin",
    "geode.jobs.compat",
    "geode.health",
    "geode.archive.tasks",
    "geode.sources.tasks",
    "geode.gamit.tasks",
    "geode.stack.tasks",
]


@dataclass(frozen=True)
class Task:
    name: str
    queue: str
    func: Callable[..., Any]
    label: Callable[..., str] | None = None  # the unit's name for people (run history), from the same args

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.func(*args, **kwargs)


_REGISTRY: dict[str, Task] = {}


def task(name: str, queue: str = "compute", label: Callable[..., str] | None = None
         ) -> Callable[[Callable[..., Any]], Task]:
    """Register ``func`` as task ``name`` on ``queue`` (gamit, compute or io); ``label(*args)`` names a unit in
    the run history (default: its arguments, shortened)."""
    if queue not in QUEUES:
        raise ValueError(f"unknown queue {queue!r}; expected one of {', '.join(QUEUES)}")

    def wrap(func: Callable[..., Any]) -> Task:
        existing = _REGISTRY.get(name)
        if existing is not None and existing.func.__qualname__ != func.__qualname__:
            raise ValueError(f"task name {name!r} is already registered by {existing.func.__module__}")
        registered = Task(name, queue, func, label)
        _REGISTRY[name] = registered
        return registered

    return wrap


def get_task(name: str) -> Task:
    if name not in _REGISTRY:
        load_task_modules()
    return _REGISTRY[name]


def all_tasks() -> dict[str, Task]:
    return dict(_REGISTRY)


def load_task_modules() -> None:
    """Import every task module that exists (a module is listed before its issue lands)."""
    for module in TASK_MODULES:
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as exc:
            # the module (or its package) has not landed yet; a missing dependency inside it is a real error
            if exc.name is None or not (module == exc.name or module.startswith(exc.name + ".")):
                raise
