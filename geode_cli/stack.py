"""`geode stack`: Stack daily solutions into aligned time series and fit trajectory models."""

from __future__ import annotations

import typer

from ._stub import register_stub


def register(app: typer.Typer) -> None:
    register_stub(app, "stack", "Stack daily solutions into aligned time series and fit trajectory models.")
