"""``geode example DIR``: a small, realistic workspace that every subcommand can run on.

The base (this module) writes the configuration and loads networks, stations and station information.
Each part listed in ``PARTS`` then adds its own data (RINEX archive, daily solutions, GAMIT session config);
a part is a module with ``build(workspace: Workspace) -> list[str]`` returning summary lines.
"""

from __future__ import annotations

import hashlib
import importlib
import re
from dataclasses import dataclass
from pathlib import Path

from ..errors import GeodeError
from .network import EXAMPLE_DAYS, EXAMPLE_NETWORKS, EXAMPLE_STATIONS, ExampleStation

PARTS = ["geode.example.archive", "geode.example.solutions", "geode.example.gamit"]


@dataclass
class Workspace:
    root: Path
    settings: object  # geode.config.Settings read from the workspace's geode.toml
    db: object  # geode.db.Database
    stations: tuple[ExampleStation, ...] = EXAMPLE_STATIONS

    @property
    def config_file(self) -> Path:
        return self.root / "geode.toml"


def _database_name(root: Path) -> str:
    slug = re.sub(r"[^a-z0-9]+", "_", root.name.lower()).strip("_")[:20] or "ws"
    digest = hashlib.sha1(str(root).encode()).hexdigest()[:6]
    return f"example_{slug}_{digest}"


CONFIG_TEMPLATE = """\
# GeoDE example workspace. Relative paths are relative to this file.
# Every value can be overridden by GEODE_<SECTION>_<KEY> (or POSTGRES_*), and by command-line flags.

[postgres]
# No hostname: geode runs its embedded PostgreSQL. Set hostname/port/username/password for a server.
database = "{database}"

[archive]
path = "archive"             # the RINEX archive (layout from rinex_tank_struct: network/year/doy)
repository = "repository"    # data_in/, data_in_retry/, data_rejected/
production = "production"    # node-local scratch space
parallel = false             # true: dispatch on Celery workers (see [celery])
brdc = "products/brdc/$year/brdc${{doy}}0.${{year2d}}n"
sp3 = "products/sp3/$gpsweek"

[celery]
# broker_url = "redis://:password@localhost:6379/0"   # or CELERY_BROKER_URL / REDIS_URL
"""


def create_example(directory: Path, config_file: str | None = None) -> list[str]:
    """Write the workspace, load it into the database, and return summary lines.

    The workspace is built in a hidden folder next to ``directory`` and renamed into place at the end, so an
    interrupted run leaves no half-built workspace behind (and the next run starts afresh).
    """
    import os
    import shutil
    import tempfile

    root = Path(directory).expanduser().resolve()
    if root.exists() and (not root.is_dir() or any(root.iterdir())):
        raise GeodeError(f"{root} is not empty: choose a new folder for the example workspace")
    root.parent.mkdir(parents=True, exist_ok=True)
    try:
        building = Path(tempfile.mkdtemp(dir=root.parent, prefix=f".{root.name}.building-"))
    except OSError as exc:
        raise GeodeError(f"cannot create the example workspace in {root.parent}: {exc.strerror or exc}") from None
    try:
        lines = _build(building, root, config_file)
        if root.exists():
            root.rmdir()  # empty (checked above): the rename takes its place
        os.rename(building, root)
    except BaseException:
        shutil.rmtree(building, ignore_errors=True)
        raise
    lines = [line.replace(str(building), str(root)) for line in lines]
    lines.append(f"next: cd {root} && geode db status")
    return lines


def _build(root: Path, final: Path, config_file: str | None) -> list[str]:
    """Build the workspace in ``root`` (a temporary folder) for its final place ``final``."""
    from ..config import load_settings
    from ..db import apply_migrations, open_database

    for sub in ("archive", "repository/data_in", "repository/data_in_retry", "repository/data_rejected",
                "production", "products"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    (root / "geode.toml").write_text(CONFIG_TEMPLATE.format(database=_database_name(final)), encoding="utf-8")

    settings = load_settings(config_file or root / "geode.toml", cwd=root)
    db = open_database(settings, migrate=True)
    try:
        apply_migrations(db)
        _load_network(db)
        ws = Workspace(root, settings, db)
        first, last = EXAMPLE_DAYS[0], EXAMPLE_DAYS[-1]
        lines = [f"workspace: {final}", f"database: {db.target.describe()}, database {db.target.database}",
                 f"networks: {len(EXAMPLE_NETWORKS)}, stations: {len(EXAMPLE_STATIONS)}, "
                 f"days: {first[0]}_{first[1]:03d} .. {last[0]}_{last[1]:03d}"]
        for name in PARTS:
            try:
                part = importlib.import_module(name)
            except ModuleNotFoundError as exc:
                if exc.name != name:
                    raise
                continue
            lines.extend(part.build(ws))
    finally:
        db.close()
    return lines


def _load_network(db) -> None:
    """Networks, stations, receivers/antennas and station information (idempotent upserts)."""
    from ..geodesy.coordinates import lla2xyz

    with db.transaction() as cur:
        for code, name in EXAMPLE_NETWORKS:
            cur.execute('INSERT INTO networks ("NetworkCode", "NetworkName") VALUES (%s, %s) '
                        'ON CONFLICT ("NetworkCode") DO NOTHING', (code, name))
        for s in EXAMPLE_STATIONS:
            x, y, z = lla2xyz(s.lat, s.lon, s.height)
            cur.execute(
                'INSERT INTO stations ("NetworkCode", "StationCode", "StationName", auto_x, auto_y, auto_z, lat, lon, '
                'height, max_dist, country_code, marker) VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s) '
                'ON CONFLICT ("NetworkCode", "StationCode") DO NOTHING',
                (s.network, s.code, s.name, x, y, z, s.lat, s.lon, s.height, 20.0, s.country, 0))
            for rec in s.records:
                cur.execute('INSERT INTO receivers ("ReceiverCode") VALUES (%s) ON CONFLICT DO NOTHING',
                            (rec.receiver,))
                cur.execute('INSERT INTO antennas ("AntennaCode", "RadomeCode") VALUES (%s, %s) ON CONFLICT DO NOTHING',
                            (rec.antenna, rec.radome))
                cur.execute(
                    'INSERT INTO stationinfo ("NetworkCode", "StationCode", "ReceiverCode", "ReceiverSerial", '
                    '"ReceiverFirmware", "ReceiverVers", "AntennaCode", "AntennaSerial", "AntennaHeight", '
                    '"AntennaNorth", "AntennaEast", "HeightCode", "RadomeCode", "DateStart", "DateEnd", "Comments") '
                    'VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,0,0,%s,%s,%s,%s,%s) '
                    'ON CONFLICT ("NetworkCode", "StationCode", "DateStart") DO NOTHING',
                    (s.network, s.code, rec.receiver, rec.receiver_serial, rec.firmware, rec.firmware, rec.antenna,
                     rec.antenna_serial, rec.antenna_height, "DHARP", rec.radome, rec.start, rec.end,
                     "geode example"))
