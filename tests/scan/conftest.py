"""A small network, archive and repository for the scan tests (real database; files from geode.rinex.synth)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pytest

from geode.example.archive import KINDS, file_name, station_spec
from geode.example.network import EquipmentRecord, ExampleStation
from geode.rinex.synth import write_rinex

_REC = EquipmentRecord("TRIMBLE NETR9", "5214K81234", "5.45", "TRM59800.00", "1440911111", "SCIS", 0.0,
                       dt.datetime(2015, 1, 1), None)
STATIONS = (
    ExampleStation("igs", "lpgs", "La Plata", -34.906716, -57.932301, 29.88, "ARG", (_REC,)),
    ExampleStation("igs", "unsa", "Salta", -24.727465, -65.407635, 1257.80, "ARG", (_REC,)),
    ExampleStation("arg", "vbca", "Bahia Blanca", -38.700839, -62.269416, 59.73, "ARG", (_REC,)),
)
DAYS = ((2024, 100), (2024, 101))


@dataclass
class Site:
    root: Path
    archive: Path
    repository: Path
    db: object

    def archive_file(self, station: ExampleStation, year: int, doy: int, kind: str, **spec) -> Path:
        name = file_name(station.code, year, doy, kind)
        path = self.archive / station.network / f"{year}" / f"{doy:03d}" / name
        return write_rinex(path, station_spec(station, year, doy, KINDS[kind][0]).with_(**spec))

    def incoming(self, rel: str, station: ExampleStation, year: int, doy: int, kind: str, **spec) -> Path:
        path = self.repository / "data_in" / rel / file_name(station.code, year, doy, kind)
        return write_rinex(path, station_spec(station, year, doy, KINDS[kind][0]).with_(**spec))

    def rows(self) -> list[dict]:
        return self.db.query('SELECT * FROM rinex ORDER BY "NetworkCode", "StationCode", "Filename"')


@pytest.fixture
def site(db, tmp_path, monkeypatch) -> Site:
    from geode.geodesy.coordinates import lla2xyz

    archive, repository = tmp_path / "archive", tmp_path / "repository"
    archive.mkdir()
    (repository / "data_in").mkdir(parents=True)
    # environment, so inline tasks and Celery workers (started later) see the same folders
    monkeypatch.setenv("GEODE_ARCHIVE_PATH", str(archive))
    monkeypatch.setenv("GEODE_ARCHIVE_REPOSITORY", str(repository))
    for net in {s.network for s in STATIONS}:
        db.execute('INSERT INTO networks ("NetworkCode") VALUES (%s)', (net,))
    for s in STATIONS:
        x, y, z = lla2xyz(s.lat, s.lon, s.height)
        db.execute('INSERT INTO stations ("NetworkCode", "StationCode", auto_x, auto_y, auto_z, lat, lon, height, '
                   'max_dist) VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s)', (s.network, s.code, x, y, z, s.lat, s.lon,
                                                                    s.height, 20))
    return Site(tmp_path, archive, repository, db)


def fill_archive(site: Site) -> list[Path]:
    """Every station × day, RINEX 2 (.d.Z) for even stations, RINEX 3 (.crx.gz) for odd ones."""
    return [site.archive_file(s, y, d, "crinez2" if i % 2 == 0 else "crinez3")
            for i, s in enumerate(STATIONS) for y, d in DAYS]
