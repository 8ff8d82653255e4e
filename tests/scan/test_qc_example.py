"""Acceptance of `geode scan qc` on the example archive: one row per good file, a rerun changes nothing, two real
Celery workers store identical rows (through `scan qc` and `scan archive --qc`), the corrupt example file is
reported and not stored."""

from __future__ import annotations

import json

CORRUPT = "arg/2024/104/SL0100ARG_R_20241040000_01D_30S_MO.crx.gz"


def _rows(db):
    return db.query("SELECT * FROM rinex_qc ORDER BY 1, 2, 3, 4, 5, 6")


def _without_time(rows):
    return [{k: v for k, v in r.items() if k != "computed_at"} for r in rows]


def test_scan_qc_on_the_example_archive_inline_rerun_and_two_workers(cli, db, redis_url, start_workers, tmp_path,
                                                                      monkeypatch):
    ws = tmp_path / "example"
    assert cli("example", str(ws)).exit_code == 0
    monkeypatch.chdir(ws)
    good = db.query_one("SELECT count(*) AS n FROM rinex")["n"]
    assert good == 49

    first = cli("scan", "qc", "--noparallel", "--json")
    assert first.exit_code == 1, first.stderr  # the corrupt file
    out = json.loads(first.stdout)
    assert out["counts"] == {"inserted": good, "updated": 0, "unchanged": 0, "problem": 1, "transient": 0}
    [bad] = [f for f in out["files"] if f["status"] == "problem"]
    assert bad["path"] == CORRUPT and bad["reason"] and CORRUPT in first.stderr
    rows = _rows(db)
    assert len(rows) == good  # one per good file (each rinex row), none for the corrupt file
    keys = {(r["NetworkCode"], r["StationCode"], r["ObservationYear"], r["ObservationDOY"]) for r in rows}
    assert len(keys) == good and ("arg", "sl01", 2024, 104) not in keys

    again = cli("scan", "qc", "--noparallel", "--json")
    assert again.exit_code == 1 and CORRUPT in again.stderr
    assert json.loads(again.stdout)["counts"] == {"inserted": 0, "updated": 0, "unchanged": good, "problem": 1,
                                                  "transient": 0}
    assert _rows(db) == rows  # nothing written, computed_at included

    db.execute("DELETE FROM rinex_qc")
    start_workers(count=2, queues="compute,io", concurrency=1)
    par = cli("scan", "qc", "--parallel", "--json")
    assert par.exit_code == 1, par.stderr
    assert json.loads(par.stdout)["counts"] == out["counts"] and CORRUPT in par.stderr
    assert _without_time(_rows(db)) == _without_time(rows)

    # scan archive --qc on the workers: rows stored again (their QC went with them) are measured during the scan
    db.execute('DELETE FROM rinex WHERE "StationCode" = %s', ("unsa",))
    scan = cli("scan", "archive", "--qc", "--parallel", "--json")
    gone = len([r for r in rows if r["StationCode"] == "unsa"])
    counts, qc_counts = json.loads(scan.stdout)["counts"], json.loads(scan.stdout)["qc_counts"]
    assert counts["inserted"] == qc_counts["inserted"] == gone > 0 and counts["updated"] == qc_counts["updated"] == 0
    assert counts["unchanged"] == qc_counts["unchanged"] == good - gone  # one read gives the same row as scan's
    assert _without_time(_rows(db)) == _without_time(rows)

    # the rows follow their files when a station is renamed (through rinex's key), and stay measured
    lpgs = [r for r in _without_time(_rows(db)) if r["StationCode"] == "lpgs"]
    files = db.query_one('SELECT count(*) AS n FROM rinex WHERE "StationCode" = %s', ("lpgs",))["n"]
    assert len(lpgs) == files > 0
    assert cli("station", "rename", "igs.lpgs", "lpg2", "--yes").exit_code == 0
    assert [{**r, "StationCode": "lpgs"} for r in _without_time(_rows(db)) if r["StationCode"] == "lpg2"] == lpgs
    rerun = cli("scan", "qc", "igs.lpg2", "--noparallel", "--json")
    assert rerun.exit_code == 0 and json.loads(rerun.stdout)["counts"]["unchanged"] == files
