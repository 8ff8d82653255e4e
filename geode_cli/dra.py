"""`geode dra`: Daily repeatability analysis of GAMIT solutions."""

from __future__ import annotations

import typer

from ._stub import register_stub


def register(app: typer.Typer) -> None:
    register_stub(app, "dra", "Daily repeatability analysis of GAMIT solutions.")
