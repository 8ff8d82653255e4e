"""`geode doctor`: Check configuration, database, broker, workers and external programs."""

from __future__ import annotations

import typer

from ._stub import register_stub


def register(app: typer.Typer) -> None:
    register_stub(app, "doctor", "Check configuration, database, broker, workers and external programs.")
