"""`geode download`: Download RINEX files from the configured data sources."""

from __future__ import annotations

import typer

from ._stub import register_stub


def register(app: typer.Typer) -> None:
    register_stub(app, "download", "Download RINEX files from the configured data sources.")
