"""One test per error case of the operator's day: one line on stderr, the documented exit code, nothing done."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest


def one_line(result) -> str:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("geode: error: "), result.stderr
    return lines[0]


def test_missing_option_is_one_line_exit_2(cli):
    r = cli("stack", "run", "foo", "all")
    assert r.exit_code == 2
    assert "missing option '--project'" in one_line(r) and "geode stack run --help" in r.stderr


def test_bad_boolean_in_the_environment_is_one_line_exit_2(cli, monkeypatch):
    monkeypatch.setenv("GEODE_JSON", "maybe")
    r = cli("db", "status")
    assert r.exit_code == 2 and "GEODE_JSON" in one_line(r)


def test_unknown_command_is_one_line_exit_2(cli):
    r = cli("db", "statuss")
    assert r.exit_code == 2 and "statuss" in one_line(r)


def test_help_is_unchanged(cli):
    r = cli("stack", "run", "--help")
    assert r.exit_code == 0 and r.stdout.startswith("Usage: geode stack run [OPTIONS] NAME [STATIONS]...")
    assert "<list[str]>" not in r.stdout and "{name}" not in r.stdout and "<str>" not in r.stdout


def test_exclusions_can_be_typed_as_arguments(cli, db, tmp_path):
    from geode.station_admin import add_station
    from geode.stations import StationRef

    for ref in ("igs.aaaa", "igs.bbbb", "arg.cccc"):
        add_station(db, StationRef(*ref.split(".")), lat=-30, lon=-60, network_name="x")
    out = tmp_path / "x.kmz"
    r = cli("kml", "all", "-igs.all", "-o", str(out), "--no-availability", "--json")
    assert r.exit_code == 0, r.stderr
    assert [s["name"] for s in json.loads(r.stdout)["stations"]] == ["arg.cccc"]
    r = cli("kml", "all", "-aaaa", "-o", str(out), "--no-availability", "--json")
    assert [s["name"] for s in json.loads(r.stdout)["stations"]] == ["arg.cccc", "igs.bbbb"]


@pytest.mark.parametrize("args, path", [
    (("kml", "-o", "/nonexistent/dir/x.kmz", "all"), "/nonexistent/dir/x.kmz"),
    (("stack", "etm", "example", "--plot", "/proc/plots"), "/proc/plots"),
    (("dra", "example-gamit", "-o", "/proc/dra"), "/proc/dra"),
    (("example", "/proc/newdemo"), "/proc/newdemo"),
])
def test_output_paths_are_checked_before_any_work(cli, args, path, monkeypatch):
    monkeypatch.setenv("GEODE_DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none")  # never reached
    r = cli(*args)
    assert r.exit_code == 2, r.stderr
    assert path in one_line(r)


def test_an_interrupted_example_leaves_nothing_and_runs_again(cli, database_url, tmp_path, monkeypatch):
    import geode.example.gamit as part

    def interrupted(ws):
        raise KeyboardInterrupt

    target = tmp_path / "demo"
    with monkeypatch.context() as patch:  # undoes only this patch (monkeypatch.undo() would undo the isolation too)
        patch.setattr(part, "build", interrupted)
        assert cli("example", str(target)).exit_code == 130
    assert not target.exists() and list(tmp_path.glob(".demo*")) == []
    r = cli("example", str(target))
    assert r.exit_code == 0, r.stderr
    assert (target / "geode.toml").is_file() and (target / "gamit" / "example.cfg").is_file()


def test_database_url_that_is_not_a_url(cli, monkeypatch):
    monkeypatch.setenv("GEODE_DATABASE_URL", "garbage")
    r = cli("db", "status")
    assert r.exit_code == 78
    line = one_line(r)
    assert "GEODE_DATABASE_URL" in line and "URL" in line and "nothing://" not in line


@pytest.mark.parametrize("window, text", [("0", "--window"), ("100000", "before GPS time")])
def test_download_window_bounds(cli, database_url, window, text):
    r = cli("download", "all", "--window", window)
    assert r.exit_code == 2 and text in one_line(r) and "MJD" not in r.stderr


def test_a_huge_argument_is_elided_in_the_message(cli):
    huge = "x" * 20000
    r = cli("stack", "show", "--nope" + huge)
    assert r.exit_code == 2
    line = one_line(r)
    assert len(line) < 400 and "20006 characters" in line


def test_markup_in_messages_is_printed_as_is(capsys):
    from geode_cli import console

    console.warn("no broadcast orbit (from [archive] brdc)")
    assert "(from [archive] brdc)" in capsys.readouterr().err


def test_gnss_data_cfg_without_postgres_says_which_database_in_one_line(cli, tmp_path):
    (tmp_path / "work" / "gnss_data.cfg").write_text("[archive]\npath = /data/archive\n")
    r = cli("config", "show", "--json")
    assert r.exit_code == 0
    assert [line for line in r.stderr.splitlines() if "gnss_data.cfg has no [postgres]" in line] != []
    assert len(r.stderr.strip().splitlines()) == 1
    db = json.loads(r.stdout)["database"]
    assert db["server"].startswith("embedded PostgreSQL") and "embedded default" in db["source"]


def test_db_status_and_config_show_name_the_database_and_why(cli, database_url):
    status = json.loads(cli("db", "status", "--json").stdout)
    shown = json.loads(cli("config", "show", "--json").stdout)
    from urllib.parse import urlsplit

    name = urlsplit(database_url).path.lstrip("/")
    assert status["database"] == shown["database"]["database"] == name
    assert status["source"] == shown["database"]["source"] == "env GEODE_DATABASE_URL"
    plain = cli("db", "status").stdout
    assert f"database    {name}" in plain and "chosen by   env GEODE_DATABASE_URL" in plain


# --- db stop while commands use the embedded server ----------------------------------------------------------------

@pytest.fixture
def embedded(cli):
    """The embedded server of this test (isolated data dir); stopped afterwards whatever happened."""
    from geode.config import load_settings
    from geode.db import resolve_target
    from geode.db.embedded import stop_embedded

    r = cli("db", "status", "--json")
    assert r.exit_code == 0, r.stderr
    target = resolve_target(load_settings())
    yield target
    stop_embedded(target.data_dir)


def test_db_stop_refuses_while_a_command_uses_the_server_and_names_it(cli, embedded):
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    code = ("import time\n"
            "from geode.config import load_settings\n"
            "from geode.db import connection, open_database\n"
            "connection.APPLICATION_NAME = 'geode stack run [4242]'\n"
            "db = open_database(load_settings())\n"
            "db.query('SELECT 1')\n"
            "print('ready', flush=True)\n"
            "time.sleep(60)\n")
    holder = subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "ready"
        r = cli("db", "stop")
        assert r.exit_code == 1
        assert "geode stack run [4242]" in one_line(r) and "--force" in r.stderr
        from geode.db.embedded import running_info

        assert running_info(embedded.data_dir) is not None  # still running
        forced = cli("db", "stop", "--force")
        assert forced.exit_code == 0, forced.stderr
        assert "geode stack run [4242]" in forced.stderr
        deadline = time.monotonic() + 20
        while running_info(embedded.data_dir) is not None and time.monotonic() < deadline:
            time.sleep(0.2)
        assert running_info(embedded.data_dir) is None
    finally:
        holder.send_signal(signal.SIGTERM)
        holder.wait(20)


def test_db_stop_with_nobody_connected_stops(cli, embedded):
    r = cli("db", "stop")
    assert r.exit_code == 0 and "stopped the embedded PostgreSQL" in r.stderr
