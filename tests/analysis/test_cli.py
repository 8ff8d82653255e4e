"""`geode stack`, `geode dra` and `geode kml` against the example workspace in a real PostgreSQL."""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pytest

from geode.example.network import EXAMPLE_STATIONS
from geode.example.solutions import PROJECT, QUAKE_STATION, velocity_neu

KML = "{http://www.opengis.net/kml/2.2}"


@pytest.fixture
def workspace(cli, database_url, tmp_path, monkeypatch):
    ws = tmp_path / "ws"
    result = cli("example", str(ws))
    assert result.exit_code == 0, result.stderr
    monkeypatch.chdir(ws)
    return ws


def _one_line_error(result, code):
    assert result.exit_code == code, (result.stdout, result.stderr)
    lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("geode: error:"), result.stderr


def test_stack_run_recovers_example_velocities_and_stores_everything(cli, db, workspace):
    result = cli("stack", "run", "ex", "all", "--project", PROJECT, "--noparallel", "--json")
    assert result.exit_code == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["converged"] and out["failures"] == []
    for i, s in enumerate(EXAMPLE_STATIONS):
        st = out["stations"][f"{s.network}.{s.code}"]
        v, sv = st["velocity_mm_yr"], st["velocity_sigma_mm_yr"]
        truth = np.array(velocity_neu(i)) * 1e3
        # within the formal sigma, plus the datum's own uncertainty (it comes from 4 mm PPP a-priori series)
        for k, c in enumerate("ne"):
            assert abs(v[c] - truth[k]) < 4 * sv[c] + 0.5, (s.code, c, v, sv, truth)
    jumps = out["stations"][QUAKE_STATION]["jumps"]
    assert [j["source"] for j in jumps] == ["earthquake"] and jumps[0]["kind"] == "geophysical"
    n_soln = db.query_one('SELECT count(*) AS n FROM gamit_soln WHERE "Project" = %s', (PROJECT,))["n"]
    assert db.query_one("SELECT count(*) AS n FROM stacks WHERE name = 'ex'")["n"] == n_soln == out["rows_written"]
    assert db.query_one("SELECT count(*) AS n FROM etms WHERE stack = 'ex' AND object = 'var_factor'")["n"] == 10
    summary = json.loads((workspace / "ex_alignment.json").read_text())
    assert len(summary["days"]) == out["days"] and summary["iterations"][-1]["rms_change_mm"] < 0.01

    again = cli("stack", "run", "ex", "all", "--project", PROJECT, "--noparallel")
    _one_line_error(again, 2)  # exists: needs --redo or --preserve

    before = db.query('SELECT "X", "Y", "Z" FROM stacks WHERE name = %s ORDER BY "Year", "DOY", "StationCode"',
                      ("ex",))
    keep = cli("stack", "run", "ex", "all", "--project", PROJECT, "--preserve", "--noparallel", "--json")
    assert keep.exit_code == 0, keep.stderr
    kept = json.loads(keep.stdout)
    assert kept["preserved_days"] == out["days"] and kept["rows_written"] == 0
    after = db.query('SELECT "X", "Y", "Z" FROM stacks WHERE name = %s ORDER BY "Year", "DOY", "StationCode"',
                     ("ex",))
    assert before == after  # preserved days are neither lost nor changed

    redo = cli("stack", "run", "ex", "all", "--project", PROJECT, "--redo", "--noparallel", "--json")
    assert redo.exit_code == 0, redo.stderr
    assert db.query_one("SELECT count(*) AS n FROM stacks WHERE name = 'ex'")["n"] == n_soln


def test_stack_etm_reuses_models_and_applies_user_jumps(cli, db, workspace, tmp_path):
    assert cli("stack", "run", "ex", "igs.all", "--project", PROJECT, "--noparallel").exit_code == 0
    show = cli("stack", "show", "--json")
    assert [r["name"] for r in json.loads(show.stdout)] == ["ex"]
    reused = cli("stack", "etm", "ex", "igs.cord", "--json", "--noparallel")
    assert reused.exit_code == 0, reused.stderr
    assert json.loads(reused.stdout)["stations"]["igs.cord"]["model"] == "reused"
    refit = cli("stack", "etm", "ex", "igs.cord", "--jump", "2023_100", "--json", "--noparallel",
                "--plot", str(tmp_path / "plots"))
    assert refit.exit_code == 0, refit.stderr
    cord = json.loads(refit.stdout)["stations"]["igs.cord"]
    assert cord["model"] == "fitted" and [j["source"] for j in cord["jumps"]] == ["user"]
    assert (tmp_path / "plots" / "igs.cord_ex.png").stat().st_size > 1000
    shown = json.loads(cli("stack", "show", "ex", "--json").stdout)
    assert [j["source"] for j in shown["igs.cord"]["jumps"]] == ["user"]
    bad = cli("stack", "etm", "ex", "igs.cord", "--jump", "2023_100:sideways")
    _one_line_error(bad, 2)


def test_a_failing_day_is_listed_and_the_rest_is_stored(cli, db, workspace):
    # a day with two stations cannot be aligned (a Helmert needs three): reported, exit 1, others stored
    rows = db.query('SELECT * FROM gamit_soln WHERE "Project" = %s AND "Year" = 2021 AND "DOY" = 2 '
                    'ORDER BY "StationCode" LIMIT 2', (PROJECT,))
    for r in rows:
        db.execute('INSERT INTO gamit_soln ("NetworkCode", "StationCode", "Project", "Year", "DOY", "FYear", "X", '
                   '"Y", "Z") VALUES (%s, %s, %s, 2021, 3, 2021.006, %s, %s, %s)',
                   (r["NetworkCode"], r["StationCode"], PROJECT, r["X"], r["Y"], r["Z"]))
    result = cli("stack", "run", "ex", "all", "--project", PROJECT, "--noparallel")
    assert result.exit_code == 1
    assert "day 2021_003: ValueError: 2 common stations" in result.stderr
    n_soln = db.query_one('SELECT count(*) AS n FROM gamit_soln WHERE "Project" = %s', (PROJECT,))["n"]
    assert db.query_one("SELECT count(*) AS n FROM stacks WHERE name = 'ex'")["n"] == n_soln - 2


def test_stack_errors_are_one_line(cli, db, workspace, tmp_path):
    _one_line_error(cli("stack", "run", "ex", "all", "--project", "nope", "--noparallel"), 1)
    bad = tmp_path / "frame.txt"
    bad.write_text("igs.lpgs 1 2\n")
    _one_line_error(cli("stack", "run", "ex", "all", "--project", PROJECT, "--constraints", str(bad)), 2)
    _one_line_error(cli("stack", "run", "x" * 21, "all", "--project", PROJECT), 2)
    assert cli("stack", "show", "--json").stdout.strip() == "[]"  # nothing was written


def test_dra_reports_repeatability_and_saves_exclusions(cli, db, workspace):
    result = cli("dra", PROJECT, "all", "--json", "--save-excluded", "--noparallel", "-o", "dra")
    assert result.exit_code == 0, result.stderr
    out = json.loads(result.stdout)
    # example noise: 2 mm horizontal, 4 mm up → about sqrt(2)·sigma (a little less: the Helmert absorbs some)
    assert 0.8 * 2.83 < out["median_wrms_mm"]["n"] < 1.05 * 2.83
    assert 0.7 * 5.66 < out["median_wrms_mm"]["u"] < 1.05 * 5.66
    for ext in ("json", "csv", "png"):
        assert (workspace / "dra" / f"{PROJECT}_dra.{ext}").stat().st_size > 100
    saved = db.query_one("SELECT count(*) AS n FROM gamit_soln_excl")["n"]
    assert saved == out["excluded_saved"] > 0
    assert cli("dra", PROJECT, "--save-excluded", "--noparallel", "-o", "dra").exit_code == 0
    assert db.query_one("SELECT count(*) AS n FROM gamit_soln_excl")["n"] == saved  # no duplicates, no loss


def _check_kml_structure(root, networks):
    """KML 2.2 element names and order as we emit them (no XSD offline)."""
    assert root.tag == f"{KML}kml"
    doc = root[0]
    assert doc.tag == f"{KML}Document" and doc[0].tag == f"{KML}name"
    styles = doc.findall(f"{KML}Style")
    assert {s.get("id") for s in styles} == {"ok", "issues", "nodata"}
    for s in styles:
        assert [c.tag for c in s] == [f"{KML}IconStyle", f"{KML}LabelStyle"]
        assert [c.tag for c in s[0]] == [f"{KML}color", f"{KML}scale", f"{KML}Icon"]
    folders = doc.findall(f"{KML}Folder")
    assert [f.findtext(f"{KML}name") for f in folders] == networks
    placemarks = []
    for folder in folders:
        for pm in folder.findall(f"{KML}Placemark"):
            assert [c.tag for c in pm] == [f"{KML}name", f"{KML}description", f"{KML}styleUrl", f"{KML}Point"]
            assert pm.findtext(f"{KML}name").startswith(folder.findtext(f"{KML}name") + ".")
            lon, lat, h = map(float, pm.find(f"{KML}Point").findtext(f"{KML}coordinates").split(","))
            assert -180 <= lon <= 180 and -90 <= lat <= 90
            placemarks.append(pm)
    return placemarks


def test_kml_writes_valid_kmz_with_one_placemark_per_station(cli, db, workspace):
    from lxml import etree

    result = cli("kml", "igs.all", "-o", "igs.kmz", "--json")
    assert result.exit_code == 0, result.stderr
    with zipfile.ZipFile(workspace / "igs.kmz") as zf:
        assert zf.namelist() == ["doc.kml"]
        root = etree.fromstring(zf.read("doc.kml"))
    pms = _check_kml_structure(root, ["igs"])
    assert sorted(pm.findtext(f"{KML}name") for pm in pms) == ["igs.cord", "igs.lpgs", "igs.rwsn", "igs.unsa"]
    lpgs = next(pm for pm in pms if pm.findtext(f"{KML}name") == "igs.lpgs")
    assert lpgs.findtext(f"{KML}Point/{KML}coordinates").startswith("-57.932301")
    assert all("data:image/png;base64," in pm.findtext(f"{KML}description") for pm in pms)
    assert "SEPT POLARX5" in lpgs.findtext(f"{KML}description")  # station-info history

    # a station without station information is flagged
    db.execute('DELETE FROM stationinfo WHERE "NetworkCode" = %s AND "StationCode" = %s', ("arg", "tucu"))
    plain = cli("kml", "-o", "all.kmz", "--no-availability", "--json")
    assert plain.exit_code == 0, plain.stderr
    reports = {r["name"]: r for r in json.loads(plain.stdout)["stations"]}
    assert reports["arg.tucu"]["style"] == "issues" and reports["igs.lpgs"]["style"] == "ok"
    with zipfile.ZipFile(workspace / "all.kmz") as zf:
        root = etree.fromstring(zf.read("doc.kml"))
    pms = _check_kml_structure(root, ["arg", "igs"])
    assert len(pms) == 10 and not any("data:image" in pm.findtext(f"{KML}description") for pm in pms)


def test_stack_common_modes_and_frame_tie_from_the_command_line(cli, db, workspace):
    from geode.geodesy.coordinates import lla2xyz, neu2xyz

    epoch = 2022.5
    lines = ["# reference stations: true example positions at 2022.5 and velocities"]
    for i, s in enumerate(EXAMPLE_STATIONS):
        if s.network != "igs":
            continue
        v = np.array(velocity_neu(i))
        neu = v * (epoch - 2021.0) + np.array([0, 0, 0.003 * np.sin(2 * np.pi * epoch + i)])
        xyz = np.array(lla2xyz(s.lat, s.lon, s.height)) + neu2xyz(neu, s.lat, s.lon)
        vxyz = neu2xyz(v, s.lat, s.lon)
        lines.append(f"igs.{s.code} {xyz[0]:.4f} {xyz[1]:.4f} {xyz[2]:.4f} {epoch} "
                     f"{vxyz[0]:.5f} {vxyz[1]:.5f} {vxyz[2]:.5f}")
    (workspace / "frame.txt").write_text("\n".join(lines) + "\n")
    result = cli("stack", "run", "tied", "all", "--project", PROJECT, "--common-modes", "--constraints", "frame.txt",
                 "--noparallel", "--json")
    assert result.exit_code == 0, result.stderr
    frame = json.loads(result.stdout)["frame"]
    assert set(frame["common_modes"]) == {"sin1", "cos1", "sin2", "cos2"}
    tie = frame["frame_tie"]
    assert sorted(tie["stations"]) == ["igs.cord", "igs.lpgs", "igs.rwsn", "igs.unsa"]
    assert tie["position_residual_mm_after"] < 3.0  # 2-4 mm daily noise, 3.3 years every 4th day


def test_stack_detects_an_unknown_offset_and_the_operator_accepts_it(cli, db, workspace):
    from geode.etm.apriori import reference_position
    from geode.geodesy.coordinates import neu2xyz

    # a 15 mm offset nobody documented, in igs.rwsn's daily solutions from 2022-10-01 on
    row = db.query_one('SELECT lat, lon, auto_x, auto_y, auto_z, height FROM stations WHERE "StationCode" = %s',
                       ("rwsn",))
    _, lat, lon = reference_position(row)
    dx, dy, dz = (float(v) for v in neu2xyz(np.array([0.012, -0.009, 0.01]), lat, lon))
    db.execute('UPDATE gamit_soln SET "X" = "X" + %s, "Y" = "Y" + %s, "Z" = "Z" + %s WHERE "StationCode" = %s AND '
               '"Project" = %s AND ("Year" > 2022 OR ("Year" = 2022 AND "DOY" >= 274))', (dx, dy, dz, "rwsn", PROJECT))
    result = cli("stack", "run", "ex", "all", "--project", PROJECT, "--detect-offsets", "--noparallel", "--json")
    assert result.exit_code == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["converged"]
    rwsn = out["stations"]["igs.rwsn"]
    assert [round(d["fyear"], 1) for d in rwsn["detected_offsets"]] == [2022.7]
    assert rwsn["noise"]["model"] == "white+flicker" and rwsn["midas_velocity_mm_yr"] is not None
    others = [s for name, s in out["stations"].items() if name != "igs.rwsn" and s["detected_offsets"]]
    assert others == []  # no false alarms on the nine clean stations
    assert db.query_one("SELECT count(*) AS n FROM etm_offsets WHERE stack = 'ex'")["n"] == 1
    assert db.query_one("SELECT count(*) AS n FROM etm_noise WHERE stack = 'ex'")["n"] == 10
    shown = cli("stack", "show", "ex")
    assert shown.exit_code == 0 and "detected offsets" in shown.stdout and "igs.rwsn" in shown.stdout

    accepted = cli("stack", "etm", "ex", "igs.rwsn", "--accept-offsets", "--noparallel", "--json")
    assert accepted.exit_code == 0, accepted.stderr
    model = json.loads(accepted.stdout)["stations"]["igs.rwsn"]
    assert model["model"] == "fitted" and [j["source"] for j in model["jumps"]] == ["user"]
    assert abs(model["jumps"][0]["fyear"] - rwsn["detected_offsets"][0]["fyear"]) < 1 / 365.25
    params = db.query('SELECT action FROM etm_params WHERE "StationCode" = %s', ("rwsn",))
    assert [p["action"] for p in params] == ["+"]
