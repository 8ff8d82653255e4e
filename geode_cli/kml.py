"""`geode kml`: a KMZ of the network for Google Earth and other viewers."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from . import console
from .context import app_context
from .options import JsonOpt, StationsArg, output_file


def register(app: typer.Typer) -> None:
    app.command("kml")(kml_cmd)


def kml_cmd(ctx: typer.Context, stations: StationsArg = None,
            output: Annotated[Path, typer.Option("--output", "-o", metavar="FILE.kmz",
                                                 help="Where to write the KMZ.")] = Path("geode.kmz"),
            availability: Annotated[bool, typer.Option("--availability/--no-availability",
                                                       help="Embed a year × day-of-year data chart per station.")] = True,
            title: Annotated[str, typer.Option("--title", help="Document name shown in the viewer.")] = "GeoDE stations",
            json_: JsonOpt = False) -> None:
    """Write a KMZ: a folder per network, a placemark per station styled by status (green: data with
    station information; red caution: station-info gaps; grey circle: no data), with station info, the latest
    RINEX quality summary and its QC flags (geode scan qc), and data availability in each description."""
    from geode.kml import make_kmz
    from geode.stations import select_stations

    if output.suffix.lower() != ".kmz":
        output = output.with_suffix(".kmz")
    output_file(output, "--output")
    actx = app_context(ctx)
    refs = select_stations(actx.db, stations or ["all"])
    path, reports = make_kmz(actx.db, refs, output, title=title, availability=availability)
    if actx.want_json(json_):
        console.print_json({"kmz": str(path), "stations": [r.__dict__ for r in reports]})
    else:
        console.table([console.Column("station", key=True, priority=0, wrap=False), console.Column("status", priority=0),
                       console.Column.num("rinex days", 2), console.Column.num("solutions", 2),
                       console.Column("issues", priority=1), console.Column("QC flags", priority=2)],
                      [(r.name, r.style, r.rinex_days, r.solutions, "; ".join(r.issues),
                        "" if r.qc is None else "; ".join(r.qc["flags"]) or "none") for r in reports])
        console.notice(f"written: {path} ({console.plural(len(reports), 'placemark')})")
