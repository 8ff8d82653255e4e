"""geode gamit plan/run/status end to end, inline, with the GAMIT/GLOBK stand-ins on PATH and a real database."""

from __future__ import annotations

import json
import math

import pytest

from .conftest import DOYS, YEAR, make_network
from .standins._standin import COVARIANCE, OFFSET, SIGMAS, VARIANCE_FACTOR, ZTD_ADJUST, ZTD_SIGMA, ZTD_TOTAL

DATES = (f"{YEAR}_{DOYS[0]}", f"{YEAR}_{DOYS[-1]}")


def run(cli, network, *extra):
    return cli("gamit", "run", str(network.cfg), *DATES, "--noparallel", *extra)


def check_solutions(db, network, doys=DOYS):
    """gamit_soln holds every station once per day, at the stand-ins' known values."""
    rows = db.query('SELECT * FROM gamit_soln WHERE "Project" = %s ORDER BY "DOY", "NetworkCode", "StationCode"',
                    ("arg",))
    assert len(rows) == len(network.xyz) * len(doys)
    for r in rows:
        apr = network.xyz[f"{r['NetworkCode']}.{r['StationCode']}"]
        for comp, a, d in zip("XYZ", apr, OFFSET):
            assert r[comp] == pytest.approx(round(a, 3) + d, abs=1e-6)  # lfile. carries mm
        assert (r["sigmax"], r["sigmay"], r["sigmaz"]) == pytest.approx(
            [s * math.sqrt(VARIANCE_FACTOR) for s in SIGMAS])
        assert (r["sigmaxy"], r["sigmaxz"], r["sigmayz"]) == pytest.approx(
            [c * VARIANCE_FACTOR for c in COVARIANCE])
        assert r["VarianceFactor"] == pytest.approx(VARIANCE_FACTOR)
        assert r["FYear"] == pytest.approx(YEAR + (int(r["DOY"]) - 0.5) / 366)
    return rows


def test_plan_lists_active_stations_and_subnetworks(cli, db, tmp_path, monkeypatch):
    (tmp_path / "ws").mkdir()
    network = make_network(db, tmp_path / "ws", monkeypatch, extra_rows=[])
    with db.transaction() as cur:  # one station-day with 5-minute data, one station without station info
        cur.execute('UPDATE rinex SET "Interval" = 300 WHERE "StationCode" = %s AND "ObservationDOY" = %s',
                    ("rio2", DOYS[0]))
        cur.execute('UPDATE stationinfo SET "DateStart" = %s WHERE "StationCode" = %s', ("2024-04-10 12:00", "tucu"))
    result = cli("gamit", "plan", str(network.cfg), *DATES, "--json")
    assert result.exit_code == 0, result.stderr
    days = json.loads(result.stdout)
    assert [d["date"] for d in days] == ["2024_100", "2024_101"]
    first = days[0]
    active = {s["station"] for s in first["stations"]}
    assert active == set(network.xyz) - {"arg.rio2", "arg.tucu"}
    reasons = dict((s["station"], s["reason"]) for s in first["skipped"])
    assert "interval 300 s" in reasons["arg.rio2"] and "station info" in reasons["arg.tucu"]
    assert all(s["apr_source"] == "stations.auto_x" for s in first["stations"])
    # 6 stations, cluster_size 4: backbone + 2 clusters, every active station in some sub-network
    sessions = first["sessions"]
    assert [s["subnet"] for s in sessions] == [0, 1, 2]
    assert [s["name"] for s in sessions] == ["arg.IGN000", "arg.IGN001", "arg.IGN002"]
    assert set().union(*(s["stations"] for s in sessions)) == active
    assert all(s["state"] == "new" and not s["stored"] for s in sessions)
    # plan only reads: nothing stored
    assert db.query("SELECT * FROM gamit_subnets") == []
    table = cli("gamit", "plan", str(network.cfg), DATES[0])
    assert table.exit_code == 0 and "arg.IGN001" in table.stdout and "arg.rio2" in table.stderr


def test_run_inline_stores_the_known_solution(cli, db, network):
    result = run(cli, network)
    assert result.exit_code == 0, result.stderr
    check_solutions(db, network)
    stats = db.query('SELECT * FROM gamit_stats WHERE "Project" = %s ORDER BY "DOY", subnet', ("arg",))
    assert [(int(s["DOY"]), int(s["subnet"]), s["system"]) for s in stats] == [
        (d, n, "G") for d in DOYS for n in (0, 1, 2)]
    for s in stats:
        assert (s["nrms"], s["wl"], s["nl"], s["iterations"]) == (pytest.approx(0.23542), 97.8, 85.4, 0)
    subnets = db.query('SELECT * FROM gamit_subnets WHERE "DOY" = %s ORDER BY subnet', (DOYS[0],))
    assert len(subnets) == 3 and set().union(*(r["stations"] for r in subnets)) == set(network.xyz)
    assert all(len(r["alias"]) == len(r["stations"]) for r in subnets)
    # ZTD: every station, every 2 h knot (00:00 of the next day included), ties averaged across sub-networks
    ztd = db.query('SELECT * FROM gamit_ztd WHERE "DOY" = %s ORDER BY "StationCode", "Date"', (DOYS[0],))
    assert len(ztd) == len(network.xyz) * 13
    noon = [z for z in ztd if z["Date"].hour == 12]
    assert all(z["ZTD"] == pytest.approx(ZTD_TOTAL + 0.012) for z in noon)
    assert all(z["model"] == pytest.approx(round(ZTD_TOTAL + 0.012 - ZTD_ADJUST, 4)) for z in noon)
    assert all(z["sigma"] == pytest.approx(ZTD_SIGMA) for z in ztd)
    # task directories kept for diagnosis, bulky inputs removed
    day = network.dirs(DOYS[0])
    assert [p.name for p in day] == ["arg", "arg.IGN000", "arg.IGN001", "arg.IGN002"]
    assert (day[1] / "glbf").is_dir() and not (day[1] / "rinex").exists()

    status = cli("gamit", "status", str(network.cfg), *DATES, "--json")
    rows = json.loads(status.stdout)
    assert [(r["date"], r["subnet"], r["state"]) for r in rows] == [
        (f"{YEAR}_{d}", n, "done") for d in DOYS for n in (0, 1, 2)]
    assert rows[0]["systems"][0]["nrms"] == pytest.approx(0.23542)

    # a second run processes nothing and keeps the rows as they are
    before = db.query('SELECT api_id FROM gamit_stats ORDER BY api_id')
    again = run(cli, network, "--json")
    assert again.exit_code == 0, again.stderr
    report = json.loads(again.stdout)
    assert report["sessions"] == [] and report["days"] == [] and report["already_done"] == 6
    assert db.query('SELECT api_id FROM gamit_stats ORDER BY api_id') == before
    check_solutions(db, network)


def test_failed_subnetwork_is_reported_and_rerun_alone(cli, db, network):
    network.steer(fail=["arg.IGN002"])
    result = run(cli, network)
    assert result.exit_code == 1
    assert "2024_100 arg.IGN002: GAMIT failed" in result.stderr and "stand-in failure for this sub-network" in result.stderr
    stats = db.query('SELECT "DOY", subnet FROM gamit_stats ORDER BY "DOY", subnet')
    assert [(int(r["DOY"]), int(r["subnet"])) for r in stats] == [(d, n) for d in DOYS for n in (0, 1)]
    assert db.query("SELECT * FROM gamit_soln") == []  # an incomplete day is not combined
    states = db.query("SELECT subnet, state, log_tail FROM gamit_sessions WHERE subnet = 2")
    assert all(r["state"] == "failed" and "stand-in failure" in r["log_tail"] for r in states)
    status = json.loads(cli("gamit", "status", str(network.cfg), *DATES, "--json").stdout)
    assert [r["state"] for r in status if r["subnet"] == 2] == ["failed", "failed"]
    db.execute("UPDATE gamit_sessions SET state = 'running', lease_until = now() - interval '1 minute' "
               'WHERE subnet = 2 AND "DOY" = %s', (DOYS[0],))
    status = json.loads(cli("gamit", "status", str(network.cfg), *DATES, "--json").stdout)
    assert [r["state"] for r in status if r["subnet"] == 2] == ["stalled", "failed"]

    network.steer()
    again = run(cli, network, "--json")
    assert again.exit_code == 0, again.stderr
    report = json.loads(again.stdout)
    assert sorted(s["label"] for s in report["sessions"]) == [f"{YEAR}_{d} arg.IGN002" for d in DOYS]
    assert report["already_done"] == 4 and len(report["days"]) == 2
    check_solutions(db, network)
    assert db.query_one("SELECT count(*) AS n FROM gamit_stats")["n"] == 6


def test_transient_failure_is_retried(cli, db, tmp_path, monkeypatch):
    (tmp_path / "ws").mkdir()
    network = make_network(db, tmp_path / "ws", monkeypatch, cluster_size=25)
    network.steer(transient=["arg"])
    result = cli("gamit", "run", str(network.cfg), DATES[0], "--noparallel")
    assert result.exit_code == 0, result.stderr
    (stat,) = db.query("SELECT * FROM gamit_stats")
    assert stat["iterations"] == 1 and int(stat["subnet"]) == 0
    assert [p.name for p in network.dirs(DOYS[0])] == ["arg"]  # a whole network: one session, GeoDE's name
    check_solutions(db, network, doys=DOYS[:1])


def test_two_systems_are_combined_per_session(cli, db, tmp_path, monkeypatch):
    (tmp_path / "ws").mkdir()
    network = make_network(db, tmp_path / "ws", monkeypatch, cluster_size=25, systems="G,R")
    result = cli("gamit", "run", str(network.cfg), DATES[0], "--noparallel")
    assert result.exit_code == 0, result.stderr
    assert [s["system"] for s in db.query("SELECT system FROM gamit_stats ORDER BY system")] == ["G", "R"]
    glbf = network.dirs(DOYS[0])[0] / "glbf"
    gdl = (glbf / "hfiles.gdl").read_text().splitlines()
    assert gdl == ["../gsoln/G/h241001200_test.glx 1.0", "../gsoln/R/h241001200_test.glx 4.0"]
    assert (glbf / "h2404091200_test.glx").exists()  # combined h-file: year, month, day
    check_solutions(db, network, doys=DOYS[:1])


def test_systems_without_data_are_skipped(cli, db, tmp_path, monkeypatch):
    (tmp_path / "ws").mkdir()
    network = make_network(db, tmp_path / "ws", monkeypatch, cluster_size=25, systems="G,C", rinex_version=3.04)
    result = cli("gamit", "run", str(network.cfg), DATES[0], "--noparallel", "--json")
    assert result.exit_code == 0, result.stderr
    (session,) = json.loads(result.stdout)["sessions"]
    assert session["skipped_systems"] == ["C"] and [s["system"] for s in session["systems"]] == ["G"]
    assert [s["system"] for s in db.query("SELECT system FROM gamit_stats")] == ["G"]
    assert "skipped C" in db.query_one("SELECT message FROM gamit_sessions")["message"]
    check_solutions(db, network, doys=DOYS[:1])


def test_overconstrained_site_is_relaxed_and_retried(cli, db, tmp_path, monkeypatch):
    (tmp_path / "ws").mkdir()
    network = make_network(db, tmp_path / "ws", monkeypatch, cluster_size=25)
    network.steer(overconstrained=["arg"])
    result = cli("gamit", "run", str(network.cfg), DATES[0], "--noparallel")
    assert result.exit_code == 0, result.stderr
    (stat,) = db.query("SELECT * FROM gamit_stats")
    first = sorted(network.xyz, key=lambda k: k.split(".")[1])[0]  # alias order: cord first
    assert stat["iterations"] == 1 and stat["relaxed_constrains"] == first
    tables = network.dirs(DOYS[0])[0] / "tables"
    site = first.split(".")[1].upper() + "_GPS"
    assert site in (tables / "sittbl.0").read_text() and site not in (tables / "sittbl.").read_text()
    check_solutions(db, network, doys=DOYS[:1])


def test_unreasonable_height_drops_the_site_and_retries(cli, db, tmp_path, monkeypatch):
    (tmp_path / "ws").mkdir()
    network = make_network(db, tmp_path / "ws", monkeypatch, cluster_size=25)
    network.steer(height=["arg"])
    result = cli("gamit", "run", str(network.cfg), DATES[0], "--noparallel", "--json")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["sessions"][0]["removed"] == ["cord"]
    assert report["days"][0]["missing"] == ["igs.cord"]
    stored = {r["StationCode"] for r in db.query('SELECT "StationCode" FROM gamit_soln')}
    assert stored == {k.split(".")[1] for k in network.xyz} - {"cord"}


def test_dry_run_builds_directories_and_stops_before_gamit(cli, db, network):
    result = run(cli, network, "--dry-run")
    assert result.exit_code == 0, result.stderr
    assert db.query("SELECT * FROM gamit_stats") == [] and db.query("SELECT * FROM gamit_soln") == []
    assert len(db.query("SELECT * FROM gamit_subnets")) == 6
    for doy in DOYS:
        for session in network.dirs(doy):
            tables = session / "tables"
            lfile = (tables / "lfile.").read_text()
            aliases = sorted(line.split("_")[0].strip().lower() for line in lfile.splitlines())
            assert sorted(p.name[:4] for p in (session / "rinex").iterdir()) == aliases
            assert all(p.name.endswith(f"{doy:03d}0.24o") for p in (session / "rinex").iterdir())
            info = (tables / "station.info").read_text()
            assert all(f"\n {a.upper()} " in info for a in aliases)
            assert (tables / "sestbl.").read_text() == "Session Table\nScratch directory = \nUse otl.list = N\n"
            assert (tables / "process.defaults").exists() and (tables / "sittbl.").exists()
            assert (session / "brdc" / f"brdc{doy:03d}0.24n").exists()
            assert len(list((session / "igs").glob("igs*.sp3"))) == 1
            assert not list(session.glob(f"{doy:03d}G"))  # sh_gamit never ran
    status = json.loads(cli("gamit", "status", str(network.cfg), *DATES, "--json").stdout)
    assert {r["state"] for r in status} == {"planned"}


def test_shared_station_codes_get_aliases_and_heights_become_dharp(cli, db, tmp_path, monkeypatch):
    from .conftest import SITES

    (tmp_path / "ws").mkdir()
    network = make_network(db, tmp_path / "ws", monkeypatch, cluster_size=25,
                           sites=SITES + (("arg", "lpgs", -34.9, -57.9, 30.0),))
    with db.transaction() as cur:
        cur.execute('UPDATE stationinfo SET "HeightCode" = %s, "AntennaHeight" = %s WHERE "NetworkCode" = %s '
                    'AND "StationCode" = %s', ("DHPAB", 0.25, "igs", "lpgs"))
        cur.execute("INSERT INTO gamit_htc VALUES (%s, %s, %s, %s)", ("TRM59800.00", "DHPAB", 0.05, 0.0))
    result = cli("gamit", "run", str(network.cfg), DATES[0], "--noparallel")
    assert result.exit_code == 0, result.stderr
    aliases = {f"{r['NetworkCode']}.{r['StationCode']}": r["alias"]
               for r in db.query('SELECT * FROM stations WHERE "StationCode" = %s', ("lpgs",))}
    assert aliases["arg.lpgs"] is None and len(aliases["igs.lpgs"]) == 4 and aliases["igs.lpgs"] != "lpgs"
    (session,) = network.dirs(DOYS[0])
    info = (session / "tables" / "station.info").read_text().splitlines()
    mine = [line for line in info if line.startswith(f" {aliases['igs.lpgs'].upper()} ")]
    assert len(mine) == 1 and "0.2000  DHARP" in mine[0]
    assert [line for line in info if line.startswith(" LPGS ")]
    # both stations solved and stored under their own codes
    assert db.query_one('SELECT count(*) AS n FROM gamit_soln WHERE "StationCode" = %s', ("lpgs",))["n"] == 2


def test_bad_inputs_exit_codes(cli, db, network, tmp_path):
    bad = tmp_path / "bad.cfg"
    bad.write_text(network.cfg.read_text().replace("expt = test", "expt = toolong"))
    r = cli("gamit", "plan", str(bad), DATES[0])
    assert r.exit_code == 78 and "expt" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    r = cli("gamit", "plan", str(network.cfg), "2024_400")
    assert r.exit_code == 2
    r = cli("gamit", "run", str(network.cfg), DATES[0], "--dry-run", "--purge")
    assert r.exit_code == 2
    r = cli("gamit", "plan", str(network.cfg), DATES[0], "--include", "xyz.nope")
    assert r.exit_code == 2 and "nope" in r.stderr
    empty = tmp_path / "empty.toml"
    empty.write_text("[archive]\nparallel = false\n")
    r = cli("--config", str(empty), "gamit", "run", str(network.cfg), DATES[0], "--noparallel")
    assert r.exit_code == 78 and "[archive] path" in r.stderr
    assert db.query("SELECT * FROM gamit_subnets") == []


def test_missing_gamit_is_said_first(cli, db, network, monkeypatch):
    """No GAMIT: the engine is named before any product or RINEX problem, nothing is planned or stored."""
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    monkeypatch.setenv("GEODE_ARCHIVE_BRDC", "/nowhere/brdc${doy}0.${year2d}n")  # products missing too
    result = cli("gamit", "run", str(network.cfg), DATES[0], "--noparallel")
    assert result.exit_code == 78
    assert len(result.stderr.strip().splitlines()) == 1
    assert "sh_gamit, sh_links.tables, globk, glbtosnx, htoglb missing" in result.stderr
    assert "broadcast" not in result.stderr
    assert db.query("SELECT * FROM gamit_stats") == [] and db.query("SELECT * FROM gamit_subnets") == []


def test_a_worker_without_gamit_names_it_before_the_products(network, monkeypatch):
    """The session task itself (what a worker runs) checks the engine first."""
    from geode.gamit import engine
    from geode.gamit.session_config import load_session_config

    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    programs = engine.Programs(network.root, load_session_config(str(network.cfg)))
    with pytest.raises(engine.EngineError, match="sh_gamit, sh_links.tables, globk"):
        programs.require()


def test_purge_replans_and_reprocesses(cli, db, network):
    assert run(cli, network).exit_code == 0
    marker = network.dirs(DOYS[0])[1] / "keep.me"
    marker.write_text("x")
    db.execute("UPDATE gamit_sessions SET state = 'running', lease_owner = 'elsewhere:1', "
               "lease_until = now() + interval '1 hour' WHERE subnet = 2 AND \"DOY\" = %s", (DOYS[1],))
    refused = run(cli, network, "--purge")
    assert refused.exit_code == 1 and "running on elsewhere:1" in refused.stderr
    assert marker.exists() and db.query_one("SELECT count(*) AS n FROM gamit_soln")["n"] == 16
    db.execute("UPDATE gamit_sessions SET state = 'done', lease_owner = NULL, lease_until = NULL")
    result = run(cli, network, "--purge", "--json")
    assert result.exit_code == 0, result.stderr
    assert len(json.loads(result.stdout)["sessions"]) == 6
    assert not marker.exists()
    check_solutions(db, network)
