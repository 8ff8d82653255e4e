"""A small network in a real database, a RINEX archive and orbit products on disk, a session config, and
the GAMIT/GLOBK stand-ins on PATH (tests/gamit/standins)."""

from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import dataclass
from pathlib import Path

import pytest

from geode.geodesy.coordinates import lla2xyz

STANDINS = Path(__file__).parent / "standins"
YEAR, DOYS = 2024, (100, 101)

# (network, code, lat, lon, height): Argentine sites, enough for a backbone and two clusters at cluster_size 4
SITES = (
    ("igs", "lpgs", -34.906716, -57.932301, 29.88), ("igs", "unsa", -24.727465, -65.407635, 1257.80),
    ("igs", "cord", -31.528405, -64.470036, 746.97), ("igs", "rwsn", -43.299540, -65.104844, 36.34),
    ("arg", "vbca", -38.700839, -62.269416, 59.73), ("arg", "mzac", -32.895352, -68.875626, 859.83),
    ("arg", "tucu", -26.843278, -65.230438, 485.29), ("arg", "rio2", -53.785536, -67.751119, 32.05),
)

SESTBL = "Session Table\nScratch directory = /scratch/somewhere\nUse otl.list = N\n"



@dataclass
class GamitNetwork:
    root: Path
    cfg: Path
    solutions: Path
    control: Path
    xyz: dict  # "net.stn" -> (x, y, z) = stations.auto_x/y/z

    def steer(self, **kw) -> None:
        """Change the stand-ins' behaviour (read at every call, workers included): replaced atomically, so a
        stand-in running on a worker never reads a half-written file."""
        tmp = self.control.with_suffix(".tmp")
        tmp.write_text(json.dumps(kw))
        os.replace(tmp, self.control)

    def dirs(self, doy: int) -> list[Path]:
        return sorted(p for p in (self.solutions / f"{YEAR}" / f"{doy:03d}").iterdir() if p.is_dir())


def _insert(db, archive: Path, sites=SITES, extra_rows=(), rinex_version: float = 2.11) -> dict:
    xyz = {}
    with db.transaction() as cur:
        for net in sorted({s[0] for s in sites}):
            cur.execute('INSERT INTO networks ("NetworkCode") VALUES (%s) ON CONFLICT DO NOTHING', (net,))
        cur.execute('INSERT INTO receivers ("ReceiverCode") VALUES (%s) ON CONFLICT DO NOTHING', ("TRIMBLE NETR9",))
        cur.execute('INSERT INTO antennas ("AntennaCode", "RadomeCode") VALUES (%s, %s) ON CONFLICT DO NOTHING',
                    ("TRM59800.00", "NONE"))
        for net, code, lat, lon, h in sites:
            x, y, z = lla2xyz(lat, lon, h)
            xyz[f"{net}.{code}"] = (round(x, 5), round(y, 5), round(z, 5))
            cur.execute('INSERT INTO stations ("NetworkCode", "StationCode", auto_x, auto_y, auto_z, lat, lon, height) '
                        "VALUES (%s, %s, %s, %s, %s, %s, %s, %s)", (net, code, *xyz[f"{net}.{code}"], lat, lon, h))
            cur.execute(
                'INSERT INTO stationinfo ("NetworkCode", "StationCode", "ReceiverCode", "ReceiverSerial", '
                '"ReceiverFirmware", "ReceiverVers", "AntennaCode", "AntennaSerial", "AntennaHeight", "HeightCode", '
                '"RadomeCode", "DateStart", "DateEnd") VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)',
                (net, code, "TRIMBLE NETR9", "5214K8", "5.45", "5.45", "TRM59800.00", "1440", 0.0, "DHARP", "NONE",
                 dt.datetime(2015, 1, 1), None))
            for doy in DOYS:
                _rinex_row(cur, archive, net, code, doy, version=rinex_version)
        for row in extra_rows:
            _rinex_row(cur, archive, *row)
    return xyz


def _rinex_row(cur, archive: Path, net: str, code: str, doy: int, interval: float = 30.0,
               completion: float = 1.0, version: float = 2.11) -> None:
    from geode.rinex import RinexName
    from geode.rinex.synth import SynthSpec, write_rinex

    date = dt.date(YEAR, 1, 1) + dt.timedelta(days=doy - 1)
    name = f"{code}{doy:03d}0.{YEAR % 100:02d}o"  # rinex."Filename"; the archive holds the CRINEZ file
    folder = archive / net / f"{YEAR}" / f"{doy:03d}"
    folder.mkdir(parents=True, exist_ok=True)
    start = dt.datetime.combine(date, dt.time())
    write_rinex(folder / RinexName.parse(name).archive_name,
                SynthSpec(version=version, marker_name=code.upper(), start=start, epochs=20))
    cur.execute(
        'INSERT INTO rinex ("NetworkCode", "StationCode", "ObservationYear", "ObservationMonth", "ObservationDay", '
        '"ObservationDOY", "ObservationFYear", "ObservationSTime", "ObservationETime", "Filename", "Interval", '
        '"Completion") VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)',
        (net, code, YEAR, date.month, date.day, doy, YEAR + (doy - 0.5) / 366, start,
         start + dt.timedelta(hours=23, minutes=59, seconds=30), name, interval, completion))


def write_products(root: Path) -> None:
    from geode.dates import GnssDate

    for doy in DOYS:
        day = GnssDate(YEAR, doy)
        brdc = root / "products" / "brdc" / f"{YEAR}" / f"brdc{doy:03d}0.{YEAR % 100:02d}n"
        brdc.parent.mkdir(parents=True, exist_ok=True)
        brdc.write_text("broadcast stand-in\n")
        sp3 = root / "products" / "sp3" / f"{day.gpsweek:04d}" / f"igs{day.gpsweek:04d}{day.gpswkday}.sp3"
        sp3.parent.mkdir(parents=True, exist_ok=True)
        sp3.write_text("sp3 stand-in\n")


def make_network(db, root: Path, monkeypatch, *, cluster_size: int = 4, ties: int = 2, systems: str = "G",
                 sites=SITES, extra_rows=(), rinex_version: float = 2.11) -> GamitNetwork:
    archive = root / "archive"
    xyz = _insert(db, archive, sites, extra_rows, rinex_version)
    write_products(root)
    (root / "geode.toml").write_text(
        f'[archive]\npath = "{archive}"\nbrdc = "{root}/products/brdc/$year/brdc${{doy}}0.${{year2d}}n"\n'
        f'sp3 = "{root}/products/sp3/$gpsweek"\n')
    (root / "tables").mkdir(exist_ok=True)
    (root / "tables" / "sestbl.").write_text(SESTBL)
    (root / "tables" / "process.defaults").write_text("set brdc = 'brdc'\n")
    cfg = root / "session.cfg"
    cfg.write_text(
        "[gamit]\nprocess_defaults = tables/process.defaults\nsestbl = tables/sestbl.\nsolutions_dir = solutions\n"
        f"expt = test\norg = IGN\nsystems = {systems}\n\n[network]\nnetwork_id = ARG\ntype = regional\n"
        f"cluster_size = {cluster_size}\nties = {ties}\nstn_list = igs.all, arg.all\n")
    control = root / "standin.json"
    control.write_text("{}")
    monkeypatch.setenv("PATH", f"{STANDINS}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("GAMIT_STANDIN_CONFIG", str(control))
    monkeypatch.setenv("GEODE_CONFIG", str(root / "geode.toml"))
    return GamitNetwork(root, cfg, root / "solutions", control, xyz)


@pytest.fixture
def network(db, tmp_path, monkeypatch) -> GamitNetwork:
    (tmp_path / "ws").mkdir()
    return make_network(db, tmp_path / "ws", monkeypatch)
