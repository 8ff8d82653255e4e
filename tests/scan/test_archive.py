"""`geode scan archive` on a real database: rows from headers, idempotence, changed files, bad files."""

from __future__ import annotations

import datetime as dt
import json

from geode.archive.layout import ArchiveLayout, LayoutError
from geode.rinex.names import RinexName

from .conftest import STATIONS, fill_archive

import pytest


def test_layout_paths_both_ways(db):
    layout = ArchiveLayout.from_db(db)  # GeoDE's seed: network/year/doy
    name = RinexName.parse("lpgs1000.24o")
    assert layout.path("igs", name) == "igs/2024/100/lpgs1000.24d.Z"
    entry = layout.parse("igs/2024/100/lpgs1000.24d.Z")
    assert (entry.network, entry.station, entry.date) == ("igs", "lpgs", dt.date(2024, 4, 9))
    for bad, why in (("igs/2024/101/lpgs1000.24d.Z", "wrong folder"), ("igs/2024/lpgs1000.24d.Z", "expected"),
                     ("igs/24/100/lpgs1000.24d.Z", "not a 4-character year")):
        with pytest.raises(LayoutError, match=why):
            layout.parse(bad)


def test_scan_inserts_rows_from_headers_then_changes_nothing(cli, site):
    fill_archive(site)
    r = cli("scan", "archive", "--json")
    assert r.exit_code == 0, r.stderr
    assert json.loads(r.stdout)["counts"] == {"inserted": 6, "updated": 0, "unchanged": 0, "problem": 0, "transient": 0}
    rows = site.rows()
    lpgs = next(r for r in rows if r["Filename"] == "lpgs1000.24o")
    assert (lpgs["NetworkCode"], lpgs["ObservationYear"], lpgs["ObservationDOY"], lpgs["ObservationMonth"],
            lpgs["ObservationDay"]) == ("igs", 2024, 100, 4, 9)
    assert (lpgs["Interval"], lpgs["Completion"], lpgs["ReceiverSerial"], lpgs["AntennaType"],
            lpgs["AntennaDome"]) == (30.0, 1.0, "5214K81234", "TRM59800.00", "SCIS")
    assert lpgs["ObservationSTime"] == dt.datetime(2024, 4, 9) and lpgs["ObservationETime"] == dt.datetime(
        2024, 4, 9, 23, 59, 30)
    assert {r["Filename"] for r in rows if r["StationCode"] == "unsa"} == {
        "UNSA00ARG_R_20241000000_01D_30S_MO.rnx", "UNSA00ARG_R_20241010000_01D_30S_MO.rnx"}
    before = site.rows()
    again = cli("scan", "archive", "--json")
    assert json.loads(again.stdout)["counts"] == {"inserted": 0, "updated": 0, "unchanged": 6, "problem": 0, "transient": 0}
    assert site.rows() == before


def test_a_changed_file_updates_its_row(cli, site):
    fill_archive(site)
    assert cli("scan", "archive").exit_code == 0
    site.archive_file(STATIONS[0], 2024, 100, "crinez2", epochs=1440, receiver_serial="NEWSERIAL")
    r = cli("scan", "archive", "igs.lpgs", "--json")
    assert json.loads(r.stdout)["counts"] == {"inserted": 0, "updated": 1, "unchanged": 1, "problem": 0, "transient": 0}
    row = next(r for r in site.rows() if r["Filename"] == "lpgs1000.24o")
    assert (row["Completion"], row["ReceiverSerial"]) == (0.5, "NEWSERIAL")
    assert len(site.rows()) == 6


def test_bad_files_are_reported_and_the_rest_is_scanned(cli, site):
    fill_archive(site)
    corrupt = site.archive_file(STATIONS[1], 2024, 102, "crinez3")
    corrupt.write_bytes(corrupt.read_bytes()[:300])
    wrong_day = site.archive_file(STATIONS[0], 2024, 102, "crinez2", start=dt.datetime(2024, 4, 12))
    multi = site.archive_file(STATIONS[2], 2024, 102, "crinez2", start=dt.datetime(2024, 4, 11, 12), epochs=2000)
    (site.archive / "igs" / "2024" / "100" / "notes.txt").write_text("hello")
    (site.archive / "igs" / "2024" / "103").mkdir(parents=True)
    misplaced = site.archive / "igs" / "2024" / "103" / "lpgs1000.24d.Z"
    misplaced.write_bytes((site.archive / "igs/2024/100/lpgs1000.24d.Z").read_bytes())
    unknown = site.archive / "igs" / "2024" / "100" / "zzzz1000.24d.Z"
    unknown.write_bytes(misplaced.read_bytes())
    r = cli("scan", "archive")
    assert r.exit_code == 1
    err = " ".join(r.stderr.split())
    assert "6 problem(s)" in err
    assert f"{corrupt.relative_to(site.archive)}: gz data is corrupt or truncated" in err
    assert f"{wrong_day.relative_to(site.archive)}: its epochs are centred on 2024-04-12" in err
    assert f"{multi.relative_to(site.archive)}: multi-day file" in err
    assert "igs/2024/100/notes.txt: notes.txt: not a RINEX observation file name" in err
    assert "igs/2024/103/lpgs1000.24d.Z: wrong folder for this file name (expected igs/2024/100/)" in err
    assert "station igs.zzzz is not in the database" in err
    assert len(site.rows()) == 6  # every good file stored, none of the bad ones
    assert corrupt.exists() and misplaced.exists()  # a scan never moves or deletes


def test_scan_needs_a_configured_archive(cli, db, monkeypatch):
    monkeypatch.delenv("GEODE_ARCHIVE_PATH", raising=False)
    r = cli("scan", "archive")
    assert r.exit_code == 78 and "[archive] path is not configured" in r.stderr
    monkeypatch.setenv("GEODE_ARCHIVE_PATH", "/nonexistent/archive")
    r = cli("scan", "archive")
    assert r.exit_code == 78 and "does not exist" in r.stderr


def test_archive_package_imports_go_one_way():
    """run → tasks → ingest / scan → rows / layout / staging: no module of geode.archive imports one that
    (directly or not) imports it back, function-level imports included."""
    import ast
    from pathlib import Path

    import geode.archive as package

    root = Path(package.__file__).parent
    graph: dict[str, set[str]] = {}
    for path in root.glob("*.py"):
        name = path.stem
        graph[name] = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level == 1:
                if node.module:
                    graph[name].add(node.module.split(".")[0])
                else:
                    graph[name].update(alias.name for alias in node.names)
    graph = {k: {m for m in v if m in graph and m != "__init__"} for k, v in graph.items()}

    def reaches(start: str, goal: str, seen: set[str]) -> bool:
        return any(m == goal or (m not in seen and reaches(m, goal, seen | {m})) for m in graph[start])

    assert not [m for m in graph if reaches(m, m, {m})], graph
    assert "tasks" in graph["run"] and not any("tasks" in graph[m] for m in ("ingest", "scan"))
