"""The ``.sum`` report NRCan PPP writes next to the RINEX file.

What GeoDE reads from it: the version line (``Version x.xx/`` or ``CSRS-PPP ver. x.xx/``); SECTION 1's pole
(a NaN means the ERP file was unusable); SECTION 2's antenna and ocean-loading lines (strict mode fails when
either was not found); 3.2 epochs processed and observations rejected; 3.3 the ITRF estimate (the second
number of each ``X (m)`` line) and the sigma/correlation block (``X(m) sx sxy sxz``, ``Y(m) sy syz``,
``Z(m) sz``). NaN or Fortran's ``****`` overflow marks a failed estimate.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from ..errors import GeodeError

NUMBER = r"(-?\d+\.\d+|[nN]a[nN]|\*+)"


class PppError(GeodeError):
    """PPP ran but gave no usable solution; the message says why."""


class PppNoEstimate(PppError):
    """NaN coordinates or sigmas, or no processed epoch: GeoDE reruns with other settings."""


class PppEopError(PppError):
    """The pole came out NaN: GeoDE reruns without the ERP file."""


@dataclass(frozen=True)
class PppSummary:
    version: str
    frame: str  # the ITRF realisation the engine reports (3.3)
    xyz: tuple[float, float, float]
    sigmas: tuple[float, float, float, float, float, float]  # sx, sy, sz, sxy, sxz, syz
    epochs: int
    rejected: int


def section(text: str, start: str, end: str) -> str:
    """The lines between the line containing ``start`` and the next one containing ``end``."""
    out, inside = [], False
    for line in text.splitlines():
        if start in line:
            inside = True
        elif end in line and inside:
            break
        elif inside:
            out.append(line)
    return "\n".join(out)


def _number(text: str, what: str, error=PppNoEstimate) -> float:
    value = float("nan") if "*" in text else float(text)
    if math.isnan(value):
        raise error(f"PPP returned NaN for {what}")
    return value


def _find(pattern: str, text: str, what: str) -> tuple[str, ...]:
    m = re.search(pattern, text)
    if m is None:
        raise PppError(f"the PPP summary has no {what}")
    return m.groups()


def parse_summary(text: str, strict: bool = True) -> PppSummary:
    """The solution in a ``.sum`` text; PppError (or a subclass, see above) naming what is wrong."""
    version = re.search(r"Version\s+(\d\.\d+)/", text) or re.search(r"CSRS-PPP ver\.\s+(\d\.\d+)/", text)
    if version is None:
        raise PppError("not a PPP summary (no version line)")
    files = section(text, "SECTION 1.", "SECTION 2.")
    params = section(text, "SECTION 2.", "SECTION 3.")
    session = section(text, "3.2 Observation Session", "3.3 Coordinate estimates")
    coords = section(text, "3.3 Coordinate estimates", "3.4 Coordinate differences")
    pole = re.search(r"Pole X[^:\n]*:\s+(-?\d+\.\d+|[nN]a[nN])", files)
    if pole and "nan" in pole.group(1).lower():
        raise PppEopError("PPP returned NaN for the pole (unusable ERP file)")
    if strict and re.search(r"Antenna phase center.+NOT AVAILABLE", params):
        raise PppError("the antenna/radome is not in the ANTEX file (check ANT # / TYPE in the RINEX header)")
    if strict and re.search(r"Ocean loading coefficients.+NOT FOUND", params):
        raise PppError("PPP did not accept the ocean-loading coefficients (APPROX POSITION XYZ too far from "
                       "the HARPOS position?)")
    epochs = re.search(r"Number of epochs processed(?: \(%fix\))?\s+:\s+(\d+)", session)
    if epochs is None:
        raise PppError("the PPP summary has no 'Number of epochs processed' line (3.2)")
    if int(epochs.group(1)) == 0:
        raise PppNoEstimate("PPP processed zero epochs")
    rejected = re.search(r"Number of observations rejected\s+:\s+(\d+)", session)
    frame = re.search(r"ITRF\s\(\s*(\w+)\s*\)", coords)
    xyz = tuple(_number(_find(rf"{c}\s\(m\)\s+{NUMBER}\s+{NUMBER}", coords, f"{c} estimate (3.3)")[1], c)
                for c in "XYZ")
    sx, sxy, sxz = _find(rf"X\(m\)\s+{NUMBER}\s+{NUMBER}\s+{NUMBER}", coords, "X sigma line (3.3)")
    sy, syz = _find(rf"Y\(m\)\s+{NUMBER}\s+{NUMBER}", coords, "Y sigma line (3.3)")
    (sz,) = _find(rf"Z\(m\)\s+{NUMBER}", coords, "Z sigma line (3.3)")
    sigmas = tuple(_number(v, "a sigma") for v in (sx, sy, sz, sxy, sxz, syz))
    return PppSummary(version.group(1), frame.group(1) if frame else "", xyz, sigmas,  # type: ignore[arg-type]
                      int(epochs.group(1)), int(rejected.group(1)) if rejected else 0)
