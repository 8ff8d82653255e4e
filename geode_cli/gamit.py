"""`geode gamit`: Plan and run GAMIT/GLOBK processing of a network."""

from __future__ import annotations

import typer

from ._stub import register_stub


def register(app: typer.Typer) -> None:
    register_stub(app, "gamit", "Plan and run GAMIT/GLOBK processing of a network.")
