"""`geode scan`: Scan the RINEX archive, ingest new files, load station information, check integrity."""

from __future__ import annotations

import typer

from ._stub import register_stub


def register(app: typer.Typer) -> None:
    register_stub(app, "scan", "Scan the RINEX archive, ingest new files, load station information, check integrity.")
