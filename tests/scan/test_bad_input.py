"""Bad input and a bad environment during `geode scan`: a mistyped folder, a full disk, a database that goes
away, temporary files of killed ingests, header values that do not parse."""

from __future__ import annotations

import errno
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from geode.archive.staging import STAGING_DIR, TEMP_PREFIX

from .conftest import STATIONS

LPGS, UNSA, VBCA = STATIONS


def _ingest(cli, *extra):
    r = cli("scan", "ingest", "--json", *extra)
    return r, json.loads(r.stdout) if r.stdout.strip() else None


def test_a_mistyped_repository_or_archive_is_exit_78_naming_the_key_and_its_source(cli, site, monkeypatch, tmp_path):
    monkeypatch.setenv("GEODE_ARCHIVE_REPOSITORY", str(tmp_path / "nope"))
    r, _ = _ingest(cli)
    assert r.exit_code == 78
    assert f"[archive] repository = {tmp_path / 'nope'} (from env GEODE_ARCHIVE_REPOSITORY) does not exist" in r.stderr
    assert not (tmp_path / "nope").exists()  # nothing created behind the user's back
    monkeypatch.setenv("GEODE_ARCHIVE_PATH", str(tmp_path / "tank"))
    assert cli("scan", "archive").exit_code == 78 and not (tmp_path / "tank").exists()
    (tmp_path / "work" / "geode.toml").write_text(f'[archive]\npath = "{tmp_path / "tank2"}"\n')
    monkeypatch.delenv("GEODE_ARCHIVE_PATH")
    r = cli("scan", "check")
    assert r.exit_code == 78 and "geode.toml:2) does not exist" in r.stderr
    # an explicit --create makes them
    monkeypatch.setenv("GEODE_ARCHIVE_PATH", str(tmp_path / "tank"))
    r, out = _ingest(cli, "--create")
    assert r.exit_code == 0, r.stderr
    assert (tmp_path / "nope" / "data_in").is_dir() and (tmp_path / "tank").is_dir()


class _FullDisk:
    """A file object that fails with ENOSPC once ``room`` bytes are written (when no tmpfs can be mounted)."""

    def __init__(self, real, room: int):
        self.real, self.room = real, room

    def write(self, data) -> int:
        if len(data) > self.room:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        self.room -= len(data)
        return self.real.write(data)

    def __getattr__(self, name):
        return getattr(self.real, name)


def _mount_tmpfs(where: Path, size: str) -> bool:
    where.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)],
                          capture_output=True, check=False)
    return done.returncode == 0


@pytest.mark.parametrize("how", ["tmpfs", "injected"])
def test_a_full_disk_during_ingest_keeps_every_source_and_leaves_no_temporary_file(cli, site, monkeypatch, tmp_path,
                                                                                   how):
    sources = [site.incoming(f"{s.network}.{s.code}", s, 2024, doy, "crinez2" if i % 2 else "crinez3")
               for i, (s, doy) in enumerate((s, d) for d in (102, 103, 104) for s in STATIONS)]
    size = max(p.stat().st_size for p in sources)
    if how == "tmpfs":
        small = tmp_path / "small"
        if not _mount_tmpfs(small, str(3 * size + 32 * 1024)):
            pytest.skip("cannot mount a tmpfs here (not root?); the injected variant covers it")
        try:
            monkeypatch.setenv("GEODE_ARCHIVE_PATH", str(small))
            _full_disk_then_room(cli, site, small, sources)
        finally:
            subprocess.run(["umount", "-l", str(small)], check=False)
    else:
        import geode.archive.staging as staging

        real_fdopen = os.fdopen
        budget = {"bytes": 3 * size}

        def fdopen(fd, *args, **kwargs):
            fh = _FullDisk(real_fdopen(fd, *args, **kwargs), budget["bytes"])
            budget["bytes"] = max(0, budget["bytes"] - size)  # the disk fills as files arrive
            return fh

        monkeypatch.setattr(staging.os, "fdopen", fdopen)
        r, out = _ingest(cli)
        _check_full_disk_outcome(site, site.archive, sources, r, out)
        monkeypatch.setattr(staging.os, "fdopen", real_fdopen)  # room again
        r, out = _ingest(cli)
        assert r.exit_code == 0, r.stderr
        assert not [p for p in (site.repository / "data_in").rglob("*") if p.is_file()]


def _full_disk_then_room(cli, site, archive: Path, sources) -> None:
    r, out = _ingest(cli)
    _check_full_disk_outcome(site, archive, sources, r, out)
    # room again (the operator cleaned up): the kept files go in
    subprocess.run(["mount", "-o", "remount,size=64m", str(archive)], check=True)
    r, out = _ingest(cli)
    assert r.exit_code == 0, r.stderr
    assert not [p for p in (site.repository / "data_in").rglob("*") if p.is_file()]
    assert len(site.rows()) == len(sources)


def _check_full_disk_outcome(site, archive: Path, sources, r, out) -> None:
    assert r.exit_code == 69, r.stderr  # a disk problem is not the files' fault: nothing rejected
    statuses = {o["source"]: o for o in out["files"]}
    kept = [o for o in statuses.values() if o["status"] == "transient"]
    assert kept and all("No space left on device" in o["reason"] and "left in data_in" in o["reason"] for o in kept)
    assert {o["status"] for o in statuses.values()} <= {"archived", "transient"}
    rows = {row["Filename"] for row in site.rows()}
    for src in sources:
        rel = src.relative_to(site.repository / "data_in").as_posix()
        if statuses[rel]["status"] == "transient":
            assert src.is_file()  # the source is kept, untouched
        else:
            assert not src.exists() and (archive / statuses[rel]["destination"]).is_file()
    assert len(rows) == len(sources) - len(kept)
    staging = archive / STAGING_DIR
    assert not staging.exists() or not any(staging.iterdir())
    assert not list(archive.rglob(f"{TEMP_PREFIX}*"))
    assert not (site.repository / "data_rejected").exists() or not any(
        p.is_file() for p in (site.repository / "data_rejected").rglob("*"))


def test_a_database_that_refuses_the_work_mid_ingest_leaves_the_file_in_data_in(cli, site, monkeypatch):
    """The server's disk is full (its error is not a lost connection, which the dispatch layer retries)."""
    from psycopg2 import errors

    import geode.archive.ingest as ingest

    site.incoming("igs.lpgs", LPGS, 2024, 102, "crinez2")
    site.incoming("igs.unsa", UNSA, 2024, 102, "crinez3")
    real = ingest.upsert_rinex

    def flaky(cur, row):
        if row["StationCode"] == "unsa":
            raise errors.DiskFull("could not extend file: No space left on device")
        return real(cur, row)

    monkeypatch.setattr(ingest, "upsert_rinex", flaky)
    r, out = _ingest(cli)
    assert r.exit_code == 69
    by = {o["source"].split("/")[0]: o for o in out["files"]}
    assert by["igs.lpgs"]["status"] == "archived"
    assert by["igs.unsa"]["status"] == "transient"
    assert by["igs.unsa"]["reason"] == ("database unavailable (could not extend file: No space left on device): "
                                        "left in data_in, the next run retries it")
    assert (site.repository / "data_in" / by["igs.unsa"]["source"]).is_file()
    assert not list((site.archive / STAGING_DIR).iterdir())
    monkeypatch.setattr(ingest, "upsert_rinex", real)
    r, out = _ingest(cli)
    assert r.exit_code == 0 and out["counts"]["archived"] == 1


def test_temporary_files_of_killed_ingests_are_reported_by_check_and_removed_by_ingest(cli, site):
    import fcntl

    staging = site.archive / STAGING_DIR
    staging.mkdir()
    old = time.time() - 3600
    stale = staging / "otherhost~123~abc~lpgs1020.24d.Z"
    stale.write_bytes(b"half a file")
    live = staging / "otherhost~456~def~unsa1020.24d.Z"
    live.write_bytes(b"being written")
    beside = site.archive / "igs" / "2024" / "102" / f"{TEMP_PREFIX}0123456789ab-lpgs1020.24d.Z"
    beside.parent.mkdir(parents=True)
    beside.write_bytes(b"left by an older geode")
    young = staging / "thishost~1~ghi~vbca1020.24d.Z"
    young.write_bytes(b"just created")
    ended = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    orphan = staging / f"{socket.gethostname()}~{ended.stdout.strip()}~jkl~lpgs1030.24d.Z"
    orphan.write_bytes(b"just created by an ingest of this host that was killed")  # young, but its writer is gone
    for p in (stale, live, beside):
        os.utime(p, (old, old))
    with open(live, "rb") as holder:
        fcntl.flock(holder, fcntl.LOCK_EX)  # a live ingest holds its file's lock
        r = cli("scan", "check", "--json")
        found = [f["detail"] for f in json.loads(r.stdout)["findings"] if f["kind"] == "stale_temp"]
        assert sorted(found) == sorted(f"{p.relative_to(site.archive).as_posix()}: temporary file of a killed "
                                       "ingest (geode scan ingest removes it)" for p in (stale, beside, orphan))
        r, out = _ingest(cli)
        assert r.exit_code == 0
        assert sorted(out["stale_removed"]) == sorted(p.relative_to(site.archive).as_posix() for p in (stale, orphan))
        assert "removed 2 temporary file(s) left in the archive by killed ingests" in r.stderr
        assert not stale.exists() and not orphan.exists() and live.exists() and young.exists()


def test_header_values_that_do_not_parse_are_stored_as_warnings_not_zeros(cli, site):
    path = site.incoming("igs.lpgs", LPGS, 2024, 102, "plain")
    lines = path.read_text().splitlines(keepends=True)
    for i, line in enumerate(lines):
        if "ANTENNA: DELTA H/E/N" in line:
            lines[i] = f"{'1.2O34':>14}" + line[14:]
        if "APPROX POSITION XYZ" in line:
            lines[i] = " " + line[:59] + line[60:]  # shifted by one column
    path.write_text("".join(lines))
    r, out = _ingest(cli)
    assert r.exit_code == 0, r.stderr
    (o,) = out["files"]
    assert o["status"] == "archived" and len(o["warnings"]) == 2
    assert "antenna_delta: line" in r.stderr and "antenna height, east and north unknown" in r.stderr
    row = site.db.query_one('SELECT "AntennaOffset", api_id FROM rinex')
    assert row["AntennaOffset"] is None  # unknown, not 0.0
    codes = site.db.query("SELECT code, message FROM rinex_warnings WHERE rinex_id = %s ORDER BY code",
                          (row["api_id"],))
    assert [c["code"] for c in codes] == ["antenna_delta", "approx_position"]
    assert "APPROX POSITION XYZ" in codes[1]["message"] and "does not parse" in codes[1]["message"]
    r = cli("scan", "check", "igs.lpgs", "--json")
    kinds = [f["kind"] for f in json.loads(r.stdout)["findings"]]
    assert kinds.count("header_warning") == 2
