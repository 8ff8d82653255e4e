"""Progress in the user's units: the keywords ``Runner.map`` takes to count files, stations or days rather than
its items (a batch of 16 files is one item and 16 units).

``weight(item)`` is how many units an item carries; ``failed_units(result)`` how many of a successful item's
units failed inside it (a batch whose files were reported as problems). ``unit_kwargs`` passes them only to a
runner that takes them, so callers can be written once for both.
"""

from __future__ import annotations

import inspect
from typing import Any, Callable


def unit_kwargs(runner, **callables: Callable[[Any], int]) -> dict[str, Callable[[Any], int]]:
    """The subset of ``callables`` (weight=, failed_units=) that ``runner.map`` accepts."""
    try:
        accepted = inspect.signature(runner.map).parameters
    except (TypeError, ValueError):  # pragma: no cover - a builtin or a mock without a signature
        return {}
    return {name: fn for name, fn in callables.items() if name in accepted}


def field_of(obj: Any, name: str) -> Any:
    """A result field whether it came back as a dataclass or as a dict (JSON)."""
    return obj.get(name) if isinstance(obj, dict) else getattr(obj, name, None)
