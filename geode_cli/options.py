"""Shared option types, so every command spells the same option the same way."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON on stdout.")]

DATES_HELP = (
    "Dates: yyyy/mm/dd, yyyy_ddd (year and day of year), wwww-d (GPS week and weekday) or yyyy.yyyy "
    "(fractional year: a dot always means fractional year, so 2024.001 is 2024-01-01 + 0.001 yr, not doy 1)."
)
StationsArg = Annotated[Optional[list[str]], typer.Argument(
    help="Stations: net.stn, stn, net.all, all, country code (ARG), wildcards [] % | _, exclusions with a "
         "leading * or -, filters such as ARG:LAT[-35,-40], BBOX[...], RADIUS[...], or a file with one per line.",
    show_default=False)]
