"""Orbit, clock and Earth-rotation products in the local product archive ([archive] brdc / sp3 templates).

A template is a path with ``$year $doy $gpsweek $gpswkday $year2d $month $day``; it names either the file
itself or a folder searched for the IGS long names (``IGS0OPSFIN_20241000000_01D_05M_ORB.SP3``) and the
legacy short ones (``igs23092.sp3``), analysis centres in the configured order. Files may be gzip or
Unix-compressed; ``uncompressed_copy`` gives the engines plain text.
"""

from __future__ import annotations

import re
import shutil
import string
from dataclasses import dataclass
from pathlib import Path

from .errors import GeodeError

COMPRESSED = (".gz", ".Z")


class ProductError(GeodeError):
    """A product the engine needs is missing or unreadable; the message names what was looked for."""


@dataclass(frozen=True)
class Kind:
    long_content: str  # the content-type part of a long name (ORB.SP3, CLK.CLK, ERP.ERP)
    short_suffixes: tuple[str, ...]  # extensions of the legacy short names
    period: str = "01D"  # the file period of a long name
    weekly: bool = False  # short names carry day 7 (the week) and long names start on the week's Sunday


KINDS = {
    "sp3": Kind("ORB.SP3", ("sp3",)),
    "clk": Kind("CLK.CLK", ("clk", "clk_30s", "clk_05s")),
    "erp": Kind("ERP.ERP", ("erp",), period="07D", weekly=True),
}


def expand_template(template: str, day) -> str:
    """A product template for one GnssDate (an unknown ``$variable`` is a ProductError naming it)."""
    try:
        return string.Template(template).substitute(day.template_values())
    except (KeyError, ValueError) as exc:
        raise ProductError(f"product path template {template!r}: unknown or malformed variable {exc}") from None


def existing(path: Path) -> Path | None:
    """``path`` itself or its compressed sibling, whichever exists."""
    for candidate in (path, *(path.with_name(path.name + ext) for ext in COMPRESSED)):
        if candidate.is_file():
            return candidate
    return None


def uncompressed_copy(src: Path, dst: Path) -> None:
    """Copy a product file, uncompressing .gz and .Z (either suffix may hold gzip or Unix compress data: the
    magic bytes decide, as gzip -d does)."""
    if src.suffix not in COMPRESSED:
        shutil.copyfile(src, dst)
        return
    from .errors import InputUnavailable
    from .rinex.compression import RinexFileError, unwrap_file

    try:
        unwrap_file(src, dst)
    except (OSError, InputUnavailable) as exc:
        raise ProductError(f"cannot uncompress {src}: {getattr(exc, 'strerror', None) or exc}") from None
    except RinexFileError as exc:
        raise ProductError(f"cannot uncompress {src}: {exc}") from None


def find_product(template: str, day, centers: list[str], kind: str = "sp3") -> Path | None:
    """The day's product of ``kind`` (sp3, clk, erp): the template is a file, or a folder searched for long
    and short names, analysis centres in ``centers`` order (any centre when empty), long names first."""
    spec = KINDS[kind]
    path = Path(expand_template(template, day))
    if not path.is_dir():
        return existing(path)
    start = day - day.gpswkday if spec.weekly else day
    comp = r"(\.gz|\.Z)?$"
    long_re = re.compile(rf"^(\w{{3}})\d\w{{6}}_{start.year:04d}{start.doy:03d}0000_{spec.period}_\w+_"
                         rf"{re.escape(spec.long_content)}{comp}", re.I)
    short_day = "7" if spec.weekly else str(day.gpswkday)
    suffixes = "|".join(re.escape(s) for s in spec.short_suffixes)
    short_re = re.compile(rf"^(\w{{3}}){day.gpsweek:04d}{short_day}\.({suffixes}){comp}", re.I)
    found = sorted(p for p in path.iterdir() if long_re.match(p.name) or short_re.match(p.name))
    order = [c.lower()[:3] for c in centers]
    if order:
        found = [p for p in found if p.name[:3].lower() in order]

    def rank(p: Path):
        ac = p.name[:3].lower()
        return (order.index(ac) if ac in order else 0, 0 if long_re.match(p.name) else 1, p.name)

    return min(found, key=rank) if found else None
