"""Migrations: idempotent, concurrent-safe, compatible with tables GeoDE created itself."""

import subprocess
import sys

from geode.config import load_settings
from geode.db import apply_migrations, available_migrations, current_version, open_database


def test_template_has_every_geode_table(db):
    for table in ("stations", "networks", "receivers", "antennas", "stationinfo", "stationalias", "rinex",
                  "rinex_tank_struct", "keys", "locks", "apr_coords", "ppp_soln", "gamit_soln", "gamit_soln_excl",
                  "gamit_stats", "gamit_subnets", "gamit_ztd", "gamit_htc", "stacks", "etms", "etm_params",
                  "events", "earthquakes", "sources_servers", "sources_formats", "sources_stations", "executions"):
        assert db.table_exists(table), table
    assert current_version(db) == available_migrations()[-1].version
    levels = db.query('SELECT "Level", "KeyCode" FROM rinex_tank_struct ORDER BY "Level"')
    assert [r["KeyCode"] for r in levels] == ["network", "year", "doy"]


def test_init_twice_changes_nothing(cli, db):
    before = db.query("SELECT version, applied_at FROM geode_schema_version ORDER BY version")
    for _ in range(2):
        result = cli("db", "init")
        assert result.exit_code == 0, result.stderr
    assert db.query("SELECT version, applied_at FROM geode_schema_version ORDER BY version") == before


def test_two_concurrent_upgrades_leave_one_schema(pg_admin_url, monkeypatch):
    import psycopg2
    from urllib.parse import urlsplit, urlunsplit

    conn = psycopg2.connect(pg_admin_url)
    conn.autocommit = True
    conn.cursor().execute('CREATE DATABASE "geode_concurrent"')
    parts = urlsplit(pg_admin_url)
    url = urlunsplit((parts.scheme, parts.netloc, "/geode_concurrent", parts.query, ""))
    env = {"GEODE_DATABASE_URL": url, "PATH": "/usr/bin:/bin", "HOME": "/tmp"}
    import os

    env = {**os.environ, **env}
    procs = [subprocess.Popen([sys.executable, "-m", "geode_cli", "db", "upgrade"], env=env,
                              stderr=subprocess.PIPE, text=True) for _ in range(2)]
    codes = [p.wait(60) for p in procs]
    errors = [p.stderr.read() for p in procs]
    assert codes == [0, 0], errors
    db = open_database(load_settings(environ={"GEODE_DATABASE_URL": url}), migrate=False)
    rows = db.query("SELECT version FROM geode_schema_version")
    assert sorted(r["version"] for r in rows) == [m.version for m in available_migrations()]
    db.close()
    conn.cursor().execute('DROP DATABASE "geode_concurrent" WITH (FORCE)')
    conn.close()


def test_works_on_tables_created_by_geode_dump(pg_admin_url):
    """A database whose tables came from GeoDE's own dump (no version table, extra columns) upgrades cleanly."""
    import psycopg2
    from urllib.parse import urlsplit, urlunsplit

    admin = psycopg2.connect(pg_admin_url)
    admin.autocommit = True
    admin.cursor().execute('CREATE DATABASE "geode_legacy"')
    parts = urlsplit(pg_admin_url)
    url = urlunsplit((parts.scheme, parts.netloc, "/geode_legacy", parts.query, ""))
    legacy = psycopg2.connect(url)
    with legacy, legacy.cursor() as cur:
        cur.execute('''CREATE TABLE public.networks ("NetworkCode" varchar NOT NULL PRIMARY KEY,
                       "NetworkName" varchar, api_id integer NOT NULL)''')
        cur.execute('''INSERT INTO networks VALUES ('igs', 'IGS', 1)''')
        # GeoDE's dump definition, as it was before GeoDE's own migration added "plate"
        cur.execute('''CREATE TABLE public.stations ("NetworkCode" varchar(3) NOT NULL, "StationCode" varchar(4)
                       NOT NULL, "StationName" varchar(40), "DateStart" numeric(7,3), "DateEnd" numeric(7,3),
                       auto_x numeric(16,5), auto_y numeric(16,5), auto_z numeric(16,5), "Harpos_coeff_otl" text,
                       lat numeric(12,9), lon numeric(12,9), height numeric(10,5), max_dist numeric,
                       dome varchar(9), country_code varchar(3), marker integer, alias varchar(4),
                       api_id integer NOT NULL, PRIMARY KEY ("NetworkCode", "StationCode"))''')
        cur.execute('''INSERT INTO stations ("NetworkCode", "StationCode", api_id) VALUES ('igs', 'algo', 7)''')
    legacy.close()
    db = open_database(load_settings(environ={"GEODE_DATABASE_URL": url}), migrate=False)
    apply_migrations(db)
    assert db.query('SELECT "StationCode", plate FROM stations') == [{"StationCode": "algo", "plate": None}]
    assert db.table_exists("gamit_soln")
    db.close()
    admin.cursor().execute('DROP DATABASE "geode_legacy" WITH (FORCE)')
    admin.close()


def test_transaction_rolls_back_on_error(db):
    import pytest

    with pytest.raises(RuntimeError):
        with db.transaction() as cur:
            cur.execute("""INSERT INTO networks ("NetworkCode") VALUES ('tst')""")
            raise RuntimeError("boom")
    assert db.query("""SELECT 1 FROM networks WHERE "NetworkCode" = 'tst'""") == []


def test_numeric_comes_back_as_float(db):
    row = db.query_one("SELECT 1.25::numeric AS x, ARRAY[1.5, 2.5]::numeric[] AS a")
    assert row == {"x": 1.25, "a": [1.5, 2.5]}


def _concurrent_inits(env: dict, count: int = 3) -> list[tuple[int, str]]:
    import os

    procs = [subprocess.Popen([sys.executable, "-m", "geode_cli", "db", "init"], env={**os.environ, **env},
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True) for _ in range(count)]
    return [(p.wait(120), p.stderr.read()) for p in procs]


def test_three_concurrent_inits_on_a_new_database_create_it_once(pg_admin_url):
    """db init creates a configured server's database when it does not exist; three at once all succeed (the
    losers of CREATE DATABASE get DuplicateDatabase or a UniqueViolation on pg_database_datname_index)."""
    import uuid
    from urllib.parse import urlsplit, urlunsplit

    import psycopg2

    name = f"geode_new_{uuid.uuid4().hex[:8]}"
    parts = urlsplit(pg_admin_url)
    url = urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, ""))
    results = _concurrent_inits({"GEODE_DATABASE_URL": url})
    try:
        assert [code for code, _ in results] == [0, 0, 0], [err for _, err in results]
        assert not any("unexpected" in err or "Traceback" in err for _, err in results)
        db = open_database(load_settings(environ={"GEODE_DATABASE_URL": url}), migrate=False)
        rows = db.query("SELECT version FROM geode_schema_version ORDER BY version")
        assert [r["version"] for r in rows] == [m.version for m in available_migrations()]
        assert db.table_exists("rinex") and db.table_exists("rinex_warnings")
        db.close()
    finally:
        conn = psycopg2.connect(pg_admin_url)
        conn.autocommit = True
        conn.cursor().execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.close()


def test_three_concurrent_inits_on_a_new_embedded_server(tmp_path):
    """The embedded default, first use, three `geode db init` at once: one server, one database, one schema."""
    import os

    data = tmp_path / "embedded" / "pg"
    env = {"GEODE_POSTGRES_EMBEDDED_DIR": str(data)}
    try:
        results = _concurrent_inits(env)
        assert [code for code, _ in results] == [0, 0, 0], [err for _, err in results]
        assert not any("unexpected" in err or "Traceback" in err for _, err in results)
        versions = subprocess.run([sys.executable, "-m", "geode_cli", "--json", "db", "status"],
                                  env={**os.environ, **env}, capture_output=True, text=True, timeout=120)
        assert versions.returncode == 0, versions.stderr
        import json

        status = json.loads(versions.stdout)
        assert status["schema_version"] == available_migrations()[-1].version
    finally:
        subprocess.run([sys.executable, "-m", "geode_cli", "db", "stop"], env={**os.environ, **env},
                       capture_output=True, timeout=120)
