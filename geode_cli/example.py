"""`geode example DIR`: write a small, realistic workspace to try every subcommand on."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from . import console
from .context import app_context


def register(app: typer.Typer) -> None:
    @app.command("example")
    def example(
        ctx: typer.Context,
        directory: Annotated[Path, typer.Argument(help="Folder to create (must be empty or absent).")],
    ) -> None:
        """Create an example workspace: config, networks, ~10 stations with station information, and a RINEX
        archive of synthetic observation files; then load it into the database."""
        from geode.example import create_example

        from .options import output_folder

        output_folder(directory, "DIR")
        summary = create_example(directory, config_file=app_context(ctx).config_file)
        for line in summary:
            console.notice(line)
