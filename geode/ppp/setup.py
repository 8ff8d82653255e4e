"""What a PPP run needs from the configuration, checked before any unit is sent.

``[ppp] ppp_exe`` (the GPSPACE binary), ``ppp_path`` (its gpsppp.* support files), ``frames`` with one ANTEX
file each in ``atx`` (same order), and for each frame an optional validity window ``<FRAME> = start[, end]``
(GeoDE's syntax, any date form of ``geode.dates``). Orbits come from ``[archive] sp3`` (precise orbits,
clocks and ERP; centres in ``sp3_ac`` order).
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from ..errors import ConfigError, GeodeError

SUPPORT_FILES = ("gpsppp.stc", "gpsppp.svb_gnss_yrly", "gpsppp.flt", "gpsppp.met")
REQUIRED_SUPPORT = "gpsppp.svb_gnss_yrly"


@dataclass(frozen=True)
class Frame:
    name: str
    atx: str
    start_mjd: int | None = None  # first day, inclusive (None: open)
    end_mjd: int | None = None  # last day, inclusive (None: open)

    def covers(self, day) -> bool:
        return (self.start_mjd is None or day.mjd >= self.start_mjd) and (self.end_mjd is None
                                                                           or day.mjd <= self.end_mjd)


@dataclass(frozen=True)
class PppSetup:
    exe: str
    ppp_path: str
    frames: tuple[Frame, ...]
    sp3_template: str
    centers: tuple[str, ...] = ()
    institution: str = ""
    info: str = ""

    def frame_for(self, day) -> Frame:
        for frame in self.frames:
            if frame.covers(day):
                return frame
        raise GeodeError(f"no [ppp] frame covers {day.yyyy_ddd} (frames: "
                         f"{', '.join(f.name for f in self.frames)}; give each one a window, e.g. IGS20 = 2022_331)")


def _window(settings, name: str) -> tuple[int | None, int | None]:
    from ..dates import DateError, parse_date

    raw = settings.get(f"ppp.{name.lower()}")
    if raw in (None, ""):
        return None, None
    parts = [p.strip() for p in str(raw).split(",")]
    try:
        start = parse_date(parts[0]).mjd if parts[0] else None
        end = parse_date(parts[1]).mjd if len(parts) > 1 and parts[1] else None
    except DateError as exc:
        raise ConfigError(f"[ppp] {name} = {raw} ({settings.source(f'ppp.{name.lower()}')}): {exc}") from None
    return start, end


def ppp_setup(settings) -> PppSetup:
    """The configured engine, or ConfigError (exit 78) naming every missing piece."""
    exe, path = settings.get("ppp.ppp_exe"), settings.path("ppp.ppp_path")
    names = [str(f) for f in settings.get("ppp.frames") or [] if str(f).strip()]
    atx = [str(a) for a in settings.get("ppp.atx") or [] if str(a).strip()]
    sp3 = settings.get("archive.sp3")
    missing = [key for key, value in (("[ppp] ppp_exe", exe), ("[ppp] ppp_path", path), ("[ppp] frames", names),
                                      ("[ppp] atx", atx), ("[archive] sp3", sp3)) if not value]
    if missing:
        raise ConfigError(f"PPP is not configured: set {', '.join(missing)} (NRCan's GPSPACE, its gpsppp.* "
                          "files, the reference frames with their ANTEX files, and the orbit archive) in "
                          "geode.toml or the matching GEODE_* variables")
    found = shutil.which(str(exe))
    if found is None:
        raise ConfigError(f"[ppp] ppp_exe {exe!r} is not an executable file (nor on PATH)")
    if not (Path(path) / REQUIRED_SUPPORT).is_file():
        raise ConfigError(f"[ppp] ppp_path {path} has no {REQUIRED_SUPPORT} (PPP cannot run without it)")
    if len(atx) != len(names):
        raise ConfigError(f"[ppp] frames lists {len(names)} frame(s) but [ppp] atx {len(atx)} ANTEX file(s): "
                          "give one ANTEX file per frame, in the same order")
    for name, antex in zip(names, atx):
        if not Path(antex).is_file():
            raise ConfigError(f"[ppp] atx: the ANTEX file of {name}, {antex}, does not exist")
    frames = tuple(Frame(n, a, *_window(settings, n)) for n, a in zip(names, atx))
    return PppSetup(found, str(path), frames, str(sp3), tuple(str(c) for c in settings.get("archive.sp3_ac") or []),
                    str(settings.get("ppp.institution") or ""), str(settings.get("ppp.info") or ""))
