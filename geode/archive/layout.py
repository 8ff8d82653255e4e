"""Archive folder layout from GeoDE's ``rinex_tank_struct`` + ``keys`` tables, computed and parsed both ways.

GeoDE's default is network/year/doy: ``igs/2024/100/lpgs1000.24d.Z``. The station is not a folder level
there; it always comes from the file name. Unlike GeoDE, a folder that disagrees with the file name (another
day, another station) is reported instead of silently overridden.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import PurePosixPath

from ..dates import GPS_EPOCH, doy_date
from ..errors import ConfigError, GeodeError
from ..rinex.names import RinexName, RinexNameError

KNOWN_KEYS = ("network", "station", "year", "doy", "month", "day", "gpsweek")


class LayoutError(GeodeError):
    """A path that does not fit the archive layout (the message says which level is wrong)."""


@dataclass(frozen=True)
class Level:
    key: str
    width: int
    numeric: bool


@dataclass(frozen=True)
class ArchiveEntry:
    network: str
    station: str
    name: RinexName
    relpath: str

    @property
    def date(self) -> dt.date:
        return doy_date(self.name.year, self.name.doy)


def _values(network: str, station: str, day: dt.date) -> dict[str, object]:
    iso_year, doy = day.year, day.timetuple().tm_yday
    gpsweek = (day - GPS_EPOCH).days // 7
    return {"network": network, "station": station, "year": iso_year, "doy": doy, "month": day.month,
            "day": day.day, "gpsweek": gpsweek}


@dataclass(frozen=True)
class ArchiveLayout:
    levels: tuple[Level, ...]

    @classmethod
    def default(cls) -> "ArchiveLayout":
        return cls((Level("network", 3, False), Level("year", 4, True), Level("doy", 3, True)))

    @classmethod
    def from_db(cls, db) -> "ArchiveLayout":
        rows = db.query('SELECT t."Level", k."KeyCode", k."TotalChars", k.isnumeric::int AS numeric '
                        'FROM rinex_tank_struct t JOIN keys k USING ("KeyCode") ORDER BY t."Level"')
        if not rows:
            raise ConfigError("rinex_tank_struct is empty: the archive layout is not defined (geode db init seeds "
                              "network/year/doy)")
        levels = []
        for r in rows:
            if r["KeyCode"] not in KNOWN_KEYS:
                raise ConfigError(f"rinex_tank_struct level {r['Level']}: unknown key {r['KeyCode']!r}")
            levels.append(Level(r["KeyCode"], int(r["TotalChars"]), bool(r["numeric"])))
        return cls(tuple(levels))

    def folder(self, network: str, station: str, day: dt.date) -> str:
        """Relative folder of a station-day, e.g. 'igs/2024/100'."""
        values = _values(network, station, day)
        parts = []
        for lv in self.levels:
            value = values[lv.key]
            text = f"{value:0{lv.width}d}" if lv.numeric else str(value).lower()
            if len(text) != lv.width:
                raise LayoutError(f"{lv.key} {value!r} does not have the {lv.width} characters the layout needs")
            parts.append(text)
        return "/".join(parts)

    def path(self, network: str, name: RinexName) -> str:
        """Relative archive path of a file (its archive name, CRINEZ) for a station's network."""
        return f"{self.folder(network, name.station, doy_date(name.year, name.doy))}/{name.archive_name}"

    def row_path(self, row: dict) -> str:
        """Where the archive keeps the file of a ``rinex`` row (its archive name, in this layout)."""
        try:
            return self.path(row["NetworkCode"], RinexName.parse(row["Filename"]))
        except RinexNameError as exc:
            raise LayoutError(f"rinex row {row['NetworkCode']}.{row['StationCode']} {row['Filename']}: {exc}") from None

    def parse(self, relpath: str) -> ArchiveEntry:
        """The station and day a relative archive path stands for; LayoutError when it does not fit."""
        parts = PurePosixPath(relpath).parts
        if len(parts) != len(self.levels) + 1:
            want = "/".join(lv.key for lv in self.levels)
            raise LayoutError(f"{relpath}: expected {want}/<file> ({len(self.levels)} folders), "
                              f"found {len(parts) - 1}")
        try:
            name = RinexName.parse(parts[-1])
        except RinexNameError as exc:
            raise LayoutError(str(exc)) from None
        got: dict[str, object] = {}
        for lv, text in zip(self.levels, parts[:-1]):
            if len(text) != lv.width or (lv.numeric and not text.isdigit()):
                raise LayoutError(f"{relpath}: folder {text!r} is not a {lv.width}-character {lv.key}")
            got[lv.key] = int(text) if lv.numeric else text.lower()
        network = str(got.get("network", ""))
        if "network" not in got:
            raise LayoutError(f"{relpath}: the layout has no network level, the network cannot be known")
        expected = self.folder(network, name.station, doy_date(name.year, name.doy))
        if expected != "/".join(parts[:-1]).lower():
            raise LayoutError(f"{relpath}: wrong folder for this file name (expected {expected}/)")
        return ArchiveEntry(network, name.station, name, relpath)
