"""`geode station` on the example workspace: row counts and archive files before and after prove that nothing is
lost or orphaned, `geode scan check` is clean afterwards, and --dry-run changes nothing."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from geode.station_admin import row_counts, station_tables
from geode.stations import StationRef


def _ref(text: str) -> StationRef:
    net, stn = text.split(".")
    return StationRef(net, stn)


def _totals(db) -> dict[str, int]:
    """Rows of every station table (and stations, networks): what a change may move but never lose."""
    out = {}
    for name in ["stations", "networks", *(t.name for t in station_tables(db))]:
        out[name] = db.query_one(f'SELECT count(*) AS n FROM "{name}"')["n"]  # names from the catalog
    return out


def _files(root: Path) -> dict[str, str]:
    """Every file under root: relative path -> content hash."""
    return {p.relative_to(root).as_posix(): hashlib.sha1(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def _station_files(files: dict[str, str], net: str, code: str) -> dict[str, str]:
    return {k: v for k, v in files.items() if k.startswith(f"{net}/") and Path(k).name.lower().startswith(code)}


def _nonzero(counts: dict[str, int]) -> dict[str, int]:
    """The tables holding rows of a station; 'events' (the log, where every change adds a line) aside."""
    return {k: v for k, v in counts.items() if v and k != "events"}


def _same_totals(now: dict[str, int], before: dict[str, int], changes: int = 1) -> None:
    """Every table holds the same rows as before, the events log one line more per change."""
    assert now["events"] == before["events"] + changes
    assert {k: v for k, v in now.items() if k != "events"} == {k: v for k, v in before.items() if k != "events"}


def _findings(cli, *stations) -> list[tuple]:
    r = cli("scan", "check", *stations, "--json")
    return sorted((f["station"], f["kind"], f["detail"]) for f in json.loads(r.stdout)["findings"])


@pytest.fixture
def example(cli, database_url, tmp_path, monkeypatch):
    ws = tmp_path / "example"
    made = cli("example", str(ws))
    assert made.exit_code == 0, made.stderr
    monkeypatch.chdir(ws)
    assert cli("scan", "ingest").exit_code == 0  # leaves ???.tand with its file locked in data_in
    return ws


def test_dry_runs_change_nothing(cli, db, example):
    before, files = _totals(db), _files(example)
    for args in (("move", "tand", "arg"), ("rename", "igs.lpgs", "lpg2"), ("merge", "arg.mzac", "arg.tucu"),
                 ("delete", "arg.vbca", "igs.cord"), ("move", "arg.tucu", "igs")):
        r = cli("station", *args, "--dry-run", "--json")
        assert r.exit_code == 0, (args, r.stderr)
        assert json.loads(r.stdout)["dry_run"] is True
    assert _totals(db) == before and _files(example) == files


def test_move_rename_delete_keep_every_row_and_file(cli, db, example):
    archive = example / "archive"
    findings_before = _findings(cli, "all")
    totals, files = _totals(db), _files(archive)

    # a temporary station joins a network: its lock is released, ingest archives its file, station info is
    # proposed from the RINEX header and loaded, and the check is clean
    moved = cli("station", "move", "???.tand", "arg", "--yes")
    assert moved.exit_code == 0, moved.stderr
    assert db.query('SELECT * FROM locks') == []
    assert db.query_one('SELECT 1 AS x FROM networks WHERE "NetworkCode" = %s', ("???",)) is None
    ingest = json.loads(cli("scan", "ingest", "--json").stdout)
    assert ingest["counts"]["archived"] == 1
    assert cli("scan", "stninfo", "--propose", "arg.tand", "-o", "tand.info").exit_code == 0
    assert cli("scan", "stninfo", "tand.info").exit_code == 0
    assert cli("scan", "check", "arg.tand").exit_code == 0

    # rename: a new code (in the files' names too); with a stack and its models, so those follow as well
    assert cli("stack", "run", "example", "all", "--project", "example-gamit").exit_code == 0
    totals, files = _totals(db), _files(archive)
    lpgs = _nonzero(row_counts(db, _ref("igs.lpgs")))
    old_files = _station_files(files, "igs", "lpgs")
    assert lpgs["rinex"] == len(old_files) == 6 and lpgs["gamit_soln"] > 0 and lpgs["stacks"] > 0 and lpgs["etms"]
    r = cli("station", "rename", "igs.lpgs", "lpg2", "--yes")
    assert r.exit_code == 0, r.stderr
    assert _nonzero(row_counts(db, _ref("igs.lpg2"))) == lpgs
    assert _nonzero(row_counts(db, _ref("igs.lpgs"))) == {}
    _same_totals(_totals(db), totals)
    after = _files(archive)
    assert _station_files(after, "igs", "lpgs") == {}
    assert sorted(_station_files(after, "igs", "lpg2").values()) == sorted(old_files.values())
    assert len(after) == len(files)
    assert {r["Filename"][:4] for r in db.query('SELECT "Filename" FROM rinex WHERE "StationCode" = %s',
                                                ("lpg2",))} == {"lpg2"}
    assert cli("scan", "check", "igs.lpg2").exit_code == 0

    # move: another network (the archive keeps files under the network's folder)
    totals, files = _totals(db), _files(archive)
    tucu = _nonzero(row_counts(db, _ref("arg.tucu")))
    tucu_files = _station_files(files, "arg", "tucu")
    assert cli("station", "move", "arg.tucu", "igs", "--yes").exit_code == 0
    assert _nonzero(row_counts(db, _ref("igs.tucu"))) == tucu
    _same_totals(_totals(db), totals)
    after = _files(archive)
    assert _station_files(after, "arg", "tucu") == {}
    assert sorted(_station_files(after, "igs", "tucu").values()) == sorted(tucu_files.values())
    assert cli("scan", "check", "igs.tucu").exit_code == 0

    # delete: rows gone, files set aside in data_rejected (not lost, not left in the archive)
    totals, files = _totals(db), _files(archive)
    vbca = _nonzero(row_counts(db, _ref("arg.vbca")))
    vbca_files = _station_files(files, "arg", "vbca")
    r = cli("station", "delete", "arg.vbca", "--yes")
    assert r.exit_code == 0, r.stderr
    assert _nonzero(row_counts(db, _ref("arg.vbca"))) == {}
    expected = {k: v - vbca.get(k, 0) for k, v in totals.items()}
    _same_totals(_totals(db), expected)
    assert _station_files(_files(archive), "arg", "vbca") == {}
    kept = _files(example / "repository" / "data_rejected" / "deleted_station" / "arg.vbca")
    assert sorted(kept.values()) == sorted(vbca_files.values())

    # the archive as a whole: scan finds every file in the database, and the check finds only what the example
    # had on purpose before (a header typo at arg.rio2, a corrupt file at arg.sl01)
    scan = json.loads(cli("scan", "archive", "--json").stdout)
    assert scan["counts"]["problem"] == 1 and scan["counts"]["inserted"] == 0
    assert _findings(cli, "all") == findings_before


def test_merge_brings_everything_back_and_clashes_are_refused(cli, db, example):
    archive = example / "archive"
    totals, files = _totals(db), _files(archive)
    unsa = _nonzero(row_counts(db, _ref("igs.unsa")))
    unsa_files = _station_files(files, "igs", "unsa")
    # the same monument under two codes: unsa's history goes to unsb, a fresh unsa is added, then merged back
    assert cli("station", "rename", "igs.unsa", "unsb", "--yes").exit_code == 0
    assert cli("station", "add", "igs.unsa", "--lat", "-24.727465", "--lon", "-65.407635", "--height", "1257.8",
               "--name", "Salta").exit_code == 0
    r = cli("station", "merge", "igs.unsb", "igs.unsa", "--yes")
    assert r.exit_code == 0, r.stderr
    assert _nonzero(row_counts(db, _ref("igs.unsa"))) == unsa
    assert _nonzero(row_counts(db, _ref("igs.unsb"))) == {}
    _same_totals(_totals(db), totals, changes=3)  # rename, add, merge
    after = _files(archive)
    assert _station_files(after, "igs", "unsa") == unsa_files and len(after) == len(files)
    assert cli("scan", "check", "igs.unsa").exit_code == 0

    # two stations with data on the same days: refused, nothing changed, one line naming the clashes
    totals = _totals(db)
    refused = cli("station", "merge", "arg.mzac", "arg.igm1", "--yes")
    assert refused.exit_code == 1
    assert len(refused.stderr.strip().splitlines()) == 1 and "rinex" in refused.stderr
    assert _totals(db) == totals and _files(archive) == after

    # --keep-destination: the source's clashing rows are dropped, their files set aside, the rest follows
    mzac = _nonzero(row_counts(db, _ref("arg.mzac")))
    igm1 = _nonzero(row_counts(db, _ref("arg.igm1")))
    mzac_files = _station_files(after, "arg", "mzac")
    plan = json.loads(cli("station", "merge", "arg.mzac", "arg.igm1", "--keep-destination", "--dry-run",
                          "--json").stdout)["changes"][0]
    merged_away = [f for f in plan["files"] if f["why"] == "merged away"]
    assert plan["clashes"] and merged_away
    assert cli("station", "merge", "arg.mzac", "arg.igm1", "--keep-destination", "--yes").exit_code == 0
    assert _nonzero(row_counts(db, _ref("arg.mzac"))) == {}
    now = _nonzero(row_counts(db, _ref("arg.igm1")))
    assert now["rinex"] == igm1["rinex"] + mzac["rinex"] - len(merged_away)
    set_aside = _files(example / "repository" / "data_rejected" / "merged" / "arg.mzac")
    igm1_files = _station_files(_files(archive), "arg", "igm1")
    assert len(set_aside) == len(merged_away)
    assert _station_files(_files(archive), "arg", "mzac") == {}
    assert len(igm1_files) == len(_station_files(after, "arg", "igm1")) + len(mzac_files) - len(merged_away)
    assert set(mzac_files.values()) <= set(set_aside.values()) | set(igm1_files.values())  # every file kept


def test_station_errors_are_one_line(cli, db, example):
    cases = [
        (("station", "show", "nope"), 2, "unknown station nope"),
        (("station", "rename", "igs.lpgs", "igs.unsa", "--yes"), 1, "already exists"),
        (("station", "move", "igs.lpgs", "zzz", "--yes"), 2, "unknown network zzz"),
        (("station", "delete", "igs.lpgs"), 2, "add --yes"),  # stdin is not a terminal: nothing is asked
        (("station", "rename", "igs.lpgs", "toolong"), 2, "4 letters or digits"),
    ]
    totals = _totals(db)
    for args, code, text in cases:
        r = cli(*args)
        assert r.exit_code == code, (args, r.stderr)
        assert text in r.stderr, (args, r.stderr)
        assert len(r.stderr.strip().splitlines()) == 1 or args[1] == "delete", (args, r.stderr)
    assert _totals(db) == totals


def test_a_change_interrupted_after_its_commit_is_finished_next_time(cli, db, tmp_path):
    """The old archive files of a committed change that a crash left behind are removed by the next command."""
    old = tmp_path / "left" / "over.24d.Z"
    old.parent.mkdir()
    old.write_bytes(b"x")
    db.execute("INSERT INTO station_changes (action, source, destination, files_pending) VALUES "
               "('rename', 'igs.aaaa', 'igs.bbbb', %s)", (json.dumps([str(old)]),))
    r = cli("station", "list", "--json")
    assert r.exit_code == 0, r.stderr
    assert not old.exists() and "finished 1 earlier station change" in r.stderr
    assert db.query("SELECT * FROM station_changes WHERE done IS NULL") == []
