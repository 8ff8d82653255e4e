"""Placeholder for a command group whose issue has not landed yet (exit 1, one line)."""

from __future__ import annotations

import typer

from geode.errors import GeodeError


def register_stub(app: typer.Typer, name: str, help_text: str) -> None:
    sub = typer.Typer(help=help_text, invoke_without_command=True)

    @sub.callback()
    def _not_yet() -> None:
        raise GeodeError(f"'geode {name}' is not implemented yet")

    app.add_typer(sub, name=name)
