"""`geode completion`: Print shell completion scripts."""

from __future__ import annotations

import typer

from ._stub import register_stub


def register(app: typer.Typer) -> None:
    register_stub(app, "completion", "Print shell completion scripts.")
