"""RINEX file names: RINEX 2 short names (``ssssdddf.yyt``) and RINEX 3/4 long names, both ways.

GeoDE's conventions: the database stores the plain observation name (``algo0010.24o``,
``..._MO.rnx``); the archive stores Hatanaka + compressed (``algo0010.24d.Z``, ``..._MO.crx.gz``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from ..dates import days_in_year
from ..errors import BadInput

COMPRESSIONS = ("Z", "gz", "bz2", "zip")

_V2 = re.compile(r"^(?P<stn>[a-z0-9]{4})(?P<doy>\d{3})(?P<ses>[0-9a-x])\.(?P<yy>\d{2})(?P<type>[od])"
                 r"(?:\.(?P<comp>Z|gz|bz2|zip))?$")
_V3 = re.compile(r"^(?P<stn>[A-Z0-9]{4})(?P<mon>[0-9])(?P<rec>[0-9])(?P<country>[A-Z]{3})_(?P<src>[RSU])_"
                 r"(?P<year>\d{4})(?P<doy>\d{3})(?P<hh>\d{2})(?P<mm>\d{2})_(?P<period>\d{2}[MHDYU])_"
                 r"(?P<freq>\d{2}[CZSMHDU])_(?P<sys>[GRECJISM])O\.(?P<ext>crx|rnx)(?:\.(?P<comp>gz|Z|bz2|zip))?$")


class RinexNameError(BadInput):
    """A file name that is not a valid RINEX observation file name."""

    folder = "bad_name"


def year_of_2digit(yy: int) -> int:
    """RINEX 2 two-digit years: 80-99 → 1980-1999, 00-79 → 2000-2079."""
    return 1900 + yy if yy >= 80 else 2000 + yy


@dataclass(frozen=True)
class RinexName:
    station: str  # lowercase 4-character code
    year: int
    doy: int
    version: int  # 2 (short name) or 3 (long name)
    hatanaka: bool
    compression: str | None  # None, "Z", "gz", "bz2", "zip"
    session: str = "0"  # RINEX 2 session character
    monument: int = 0  # RINEX 3 fields
    receiver: int = 0
    country: str = "XXX"
    source: str = "R"
    hour: int = 0
    minute: int = 0
    period: str = "01D"
    frequency: str = "30S"
    system: str = "M"

    @classmethod
    def parse(cls, filename: str) -> "RinexName":
        """Parse a bare file name (no folders); raise RinexNameError naming what is wrong."""
        if not isinstance(filename, str) or not filename or "/" in filename:
            raise RinexNameError(f"{filename!r}: not a bare file name")
        m = _V2.match(filename)
        if m:
            doy = int(m["doy"])
            year = year_of_2digit(int(m["yy"]))
            _check_doy(filename, year, doy)
            return cls(m["stn"], year, doy, 2, m["type"] == "d", m["comp"], session=m["ses"])
        m = _V3.match(filename)
        if m:
            year, doy = int(m["year"]), int(m["doy"])
            _check_doy(filename, year, doy)
            hh, mm = int(m["hh"]), int(m["mm"])
            if hh > 23 or mm > 59:
                raise RinexNameError(f"{filename}: start time {m['hh']}:{m['mm']} is not a time of day")
            return cls(m["stn"].lower(), year, doy, 3, m["ext"] == "crx", m["comp"], monument=int(m["mon"]),
                       receiver=int(m["rec"]), country=m["country"], source=m["src"], hour=hh, minute=mm,
                       period=m["period"], frequency=m["freq"], system=m["sys"])
        raise RinexNameError(f"{filename}: not a RINEX observation file name (expected ssssdddf.yyo/.yyd "
                             f"[.Z|.gz|.bz2|.zip] or SSSSMRCCC_S_YYYYDDDHHMM_PPU_FFU_xO.rnx/.crx[.gz])")

    # -- rebuilding names ---------------------------------------------------------------------------------------

    def with_(self, **changes) -> "RinexName":
        return replace(self, **changes)

    @property
    def name(self) -> str:
        """This name rendered back (parse → name is the identity for valid names)."""
        if self.version == 2:
            base = f"{self.station}{self.doy:03d}{self.session}.{self.year % 100:02d}{'d' if self.hatanaka else 'o'}"
        else:
            base = (f"{self.station.upper()}{self.monument}{self.receiver}{self.country}_{self.source}_"
                    f"{self.year:04d}{self.doy:03d}{self.hour:02d}{self.minute:02d}_{self.period}_"
                    f"{self.frequency}_{self.system}O.{'crx' if self.hatanaka else 'rnx'}")
        return base + (f".{self.compression}" if self.compression else "")

    @property
    def rinex_name(self) -> str:
        """The plain observation name GeoDE stores in rinex.Filename (TYPE_RINEX)."""
        return self.with_(hatanaka=False, compression=None).name

    @property
    def archive_name(self) -> str:
        """The archive name (TYPE_CRINEZ): Hatanaka + Unix compress for RINEX 2, Hatanaka + gzip for RINEX 3."""
        return self.with_(hatanaka=True, compression="Z" if self.version == 2 else "gz").name

    def __str__(self) -> str:
        return self.name


def _check_doy(filename: str, year: int, doy: int) -> None:
    if not 1 <= doy <= days_in_year(year):
        raise RinexNameError(f"{filename}: day of year {doy:03d} does not exist in {year}")
