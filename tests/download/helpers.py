"""Generated RINEX for the download tests: what a data source would serve."""

from __future__ import annotations

import gzip
from pathlib import Path

from geode.dates import GnssDate
from geode.rinex.synth import SynthSpec, write_rinex

DAY = GnssDate(2024, 100)
TEMPLATE = "/${year}/${doy}/${station}${doy}0.${year2d}d.Z"


def rinex2_name(station: str, day: GnssDate) -> str:
    return f"{station}{day.doy:03d}0.{day.year % 100:02d}d.Z"


def serve_rinex(root: Path, station: str, day: GnssDate, *, epochs: int = 120) -> Path:
    """A Hatanaka-compressed RINEX 2.11 file at <root>/<year>/<doy>/<ssssddd0.yyd.Z>."""
    spec = SynthSpec(version=2.11, marker_name=station.upper(), start=day.datetime, epochs=epochs, interval=30.0)
    return write_rinex(root / f"{day.year}" / f"{day.doy:03d}" / rinex2_name(station, day), spec)


def truncated_gzip(path: Path, day: GnssDate) -> Path:
    """A gzipped RINEX file cut in half, as an interrupted mirror leaves it."""
    plain = path.with_name(path.name + ".plain.o")
    whole = gzip.compress(write_rinex(plain, SynthSpec(version=2.11, start=day.datetime, epochs=120)).read_bytes())
    plain.unlink()
    path.write_bytes(whole[: len(whole) // 2])
    return path


def html_page(path: Path) -> Path:
    """What an archive that wants a login sends back under the requested file name."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"<!DOCTYPE html>\n<html><head><title>Earthdata Login</title></head><body>Sign in</body></html>\n")
    return path
