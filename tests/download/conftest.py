"""A repository, two stations and helpers to declare sources through the CLI."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest


@dataclass
class Site:
    root: Path
    repository: Path
    data_in: Path
    served: Path  # what the local servers publish
    db: object

    def station_dir(self, stn: str = "igs.algo") -> Path:
        return self.data_in / stn

    def attempts(self) -> list[dict]:
        return self.db.query('SELECT "StationCode" AS stn, "ObservationDOY" AS doy, server_id, url, outcome, reason, '
                             "bytes FROM download_attempts ORDER BY id")


@pytest.fixture
def site(db, tmp_path, monkeypatch) -> Site:
    repository, served = tmp_path / "repository", tmp_path / "served"
    served.mkdir()
    repository.mkdir()  # a configured repository must exist (a typo must not create one)
    # environment, so inline runs and Celery workers (started later) see the same repository
    monkeypatch.setenv("GEODE_ARCHIVE_REPOSITORY", str(repository))
    monkeypatch.setenv("NETRC", str(tmp_path / "no-netrc"))  # never the developer's own ~/.netrc
    db.execute('INSERT INTO networks ("NetworkCode") VALUES (%s)', ("igs",))
    for code in ("algo", "drao"):
        db.execute('INSERT INTO stations ("NetworkCode", "StationCode", country_code, marker) VALUES (%s, %s, %s, %s)',
                   ("igs", code, "CAN", 0))
    return Site(tmp_path, repository, repository / "data_in", served, db)


@pytest.fixture
def add_source(cli):
    """add_source(protocol, server, stations=("igs.algo",), path=TEMPLATE) → server id."""
    from .helpers import TEMPLATE

    def add(protocol: str, server, stations=("igs.algo",), path: str = TEMPLATE, **extra) -> int:
        import json

        args = ["download", "sources", "add", "--protocol", protocol, "--fqdn", server.fqdn, "--path", path, "--json"]
        for key, value in extra.items():
            args += [f"--{key.replace('_', '-')}", value]
        res = cli(*args)
        assert res.exit_code == 0, res.stderr
        server_id = json.loads(res.stdout)["server"]["server_id"]
        if stations:
            res = cli("download", "sources", "add", *stations, "--server", str(server_id))
            assert res.exit_code == 0, res.stderr
        return server_id

    return add
