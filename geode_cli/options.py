"""Shared option types, so every command spells the same option the same way."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from geode.stations import STATION_LIST_HELP

JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON on stdout.")]

StationsArg = Annotated[Optional[list[str]], typer.Argument(help=STATION_LIST_HELP, show_default=False)]
