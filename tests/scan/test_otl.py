"""`geode scan otl`: optional grdtab run (stand-in executable), clear message when not configured."""

from __future__ import annotations

import json
from pathlib import Path

GRDTAB = Path(__file__).parent / "standins" / "grdtab"


def test_not_configured_says_what_is_missing(cli, site):
    r = cli("scan", "otl")
    assert r.exit_code == 78
    assert "ocean loading is not configured: set [otl] grdtab and [otl] otlgrid" in r.stderr


def test_grdtab_fills_harpos_and_reports_failures(cli, site, tmp_path, monkeypatch):
    grid = tmp_path / "otl.grid"
    grid.write_text("FES2004 test grid\n")
    monkeypatch.setenv("GEODE_OTL_GRDTAB", str(GRDTAB))
    monkeypatch.setenv("GEODE_OTL_OTLGRID", str(grid))
    site.db.execute('INSERT INTO stations ("NetworkCode", "StationCode") VALUES (%s, %s)', ("igs", "nopo"))
    site.db.execute('INSERT INTO stations ("NetworkCode", "StationCode", auto_x, auto_y, auto_z) '
                    'VALUES (%s, %s, 1, 2, 3)', ("igs", "fail"))
    r = cli("scan", "otl", "--json")
    assert r.exit_code == 1
    out = json.loads(r.stdout)
    assert [d["station"] for d in out["stored"]] == ["arg.vbca", "igs.lpgs", "igs.unsa"]
    assert {f["station"]: f["message"] for f in out["failures"]} == {
        "igs.fail": "grdtab failed for FAIL (exit 1): FATAL :grdtab: station position outside the grid",
        "igs.nopo": "igs.nopo has no coordinates (stations.auto_x/y/z): nothing to compute OTL at"}
    harpos = site.db.query_one('SELECT "Harpos_coeff_otl" AS h FROM stations WHERE "StationCode" = %s', ("lpgs",))["h"]
    assert harpos.startswith("HARPOS Format") and "grid FES2004 test grid" in harpos and "S LPGS" in harpos
    again = cli("scan", "otl", "igs.lpgs", "--json")  # already done: nothing to run
    assert again.exit_code == 0 and json.loads(again.stdout) == {"stored": [], "failures": []}
