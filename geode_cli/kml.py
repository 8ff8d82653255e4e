"""`geode kml`: Write a KMZ map of the network."""

from __future__ import annotations

import typer

from ._stub import register_stub


def register(app: typer.Typer) -> None:
    register_stub(app, "kml", "Write a KMZ map of the network.")
