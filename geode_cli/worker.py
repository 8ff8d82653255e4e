"""`geode worker`: Start, inspect and stop Celery workers."""

from __future__ import annotations

import typer

from ._stub import register_stub


def register(app: typer.Typer) -> None:
    register_stub(app, "worker", "Start, inspect and stop Celery workers.")
