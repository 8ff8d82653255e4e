"""`geode scan ingest`: repository → archive + database, one transaction per file, safe after SIGKILL and
when two ingests run at once."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

from geode.rinex import read_rinex

from .conftest import STATIONS

LPGS, UNSA, VBCA = STATIONS


def _ingest(cli):
    r = cli("scan", "ingest", "--json")
    return r, json.loads(r.stdout)


def test_known_files_go_to_the_archive_unknown_stay_locked_bad_are_rejected(cli, site):
    site.incoming("igs.lpgs", LPGS, 2024, 102, "crinez2")
    site.incoming("igs.unsa", UNSA, 2024, 102, "zip")  # RINEX 3, zip: archived as Hatanaka + gzip
    from geode.geodesy.coordinates import lla2xyz

    stranger = site.incoming("new", LPGS.__class__("???", "tand", "", -37.3175, -59.1311, 190.0, "ARG",
                                                   LPGS.records), 2024, 102, "crinez2",
                             approx_xyz=lla2xyz(-37.3175, -59.1311, 190.0))
    bad = site.incoming("igs.vbca", VBCA, 2024, 102, "gz")
    bad.write_bytes(bad.read_bytes()[:500])
    r, out = _ingest(cli)
    assert r.exit_code == 1 and "gz data is corrupt or truncated" in r.stderr
    assert out["counts"]["archived"] == 2 and out["counts"]["temporary"] == 1 and out["counts"]["rejected"] == 1

    lpgs = site.archive / "igs/2024/102/lpgs1020.24d.Z"
    unsa = site.archive / "igs/2024/102/UNSA00ARG_R_20241020000_01D_30S_MO.crx.gz"
    assert lpgs.read_bytes()[:2] == b"\x1f\x9d"  # a real .Z (LZW), not gzip under a .Z name
    assert unsa.read_bytes()[:2] == b"\x1f\x8b"
    assert read_rinex(unsa).epochs == 2880
    assert {r["Filename"] for r in site.rows()} == {"lpgs1020.24o", "UNSA00ARG_R_20241020000_01D_30S_MO.rnx"}
    assert not (site.repository / "data_in/igs.lpgs").exists() or not any(
        (site.repository / "data_in/igs.lpgs").iterdir())

    # unknown station: temporary network, station, lock; the file waits in data_in
    assert stranger.exists()
    assert site.db.query_one('SELECT "NetworkName" FROM networks WHERE "NetworkCode" = %s', ("???",))
    assert site.db.query('SELECT filename, "NetworkCode", "StationCode" FROM locks') == [
        {"filename": "new/tand1020.24d.Z", "NetworkCode": "???", "StationCode": "tand"}]
    rejected = site.repository / "data_rejected/bad_rinex/igs.vbca/vbca1020.24o.gz"
    assert rejected.exists()
    assert "corrupt or truncated" in rejected.with_name(rejected.name + ".reason.txt").read_text()

    # re-running changes nothing; once the station joins a network the file goes in
    r, out = _ingest(cli)
    assert r.exit_code == 0 and out["counts"]["locked"] == 1 and len(site.rows()) == 2
    site.db.execute('UPDATE stations SET "NetworkCode" = %s WHERE "NetworkCode" = %s AND "StationCode" = %s',
                    ("arg", "???", "tand"))
    r, out = _ingest(cli)
    assert r.exit_code == 0 and out["released_locks"] == 1 and out["counts"]["archived"] == 1
    assert (site.archive / "arg/2024/102/tand1020.24d.Z").exists() and not stranger.exists()


def test_a_marker_far_from_its_station_is_rejected(cli, site):
    from geode.geodesy.coordinates import lla2xyz

    away = lla2xyz(LPGS.lat + 0.01, LPGS.lon, LPGS.height)  # about 1.1 km north
    f = site.incoming("igs.lpgs", LPGS, 2024, 102, "crinez2", approx_xyz=away)
    r, out = _ingest(cli)
    assert r.exit_code == 1 and "approximate position is 1109 m from igs.lpgs (max_dist 20 m)" in r.stderr
    assert not f.exists() and (site.repository / "data_rejected/station_conflict/igs.lpgs" / f.name).exists()
    assert site.rows() == []


def test_rerun_after_each_crash_point_finishes_the_job(cli, site):
    src = site.incoming("igs.lpgs", LPGS, 2024, 102, "crinez2")
    data = src.read_bytes()
    r, _ = _ingest(cli)
    assert r.exit_code == 0
    dest = site.archive / "igs/2024/102/lpgs1020.24d.Z"
    # killed after the commit, before the repository copy was deleted: the re-run only deletes it
    src.write_bytes(data)
    r, out = _ingest(cli)
    assert out["counts"]["already archived"] == 1 and not src.exists() and len(site.rows()) == 1
    # killed before the commit: an archive copy without a row; the re-run stores it properly
    site.db.execute("DELETE FROM rinex")
    src.write_bytes(data)
    r, out = _ingest(cli)
    assert out["counts"]["archived"] == 1 and not src.exists() and dest.exists() and len(site.rows()) == 1


def _spawn(site):
    return subprocess.Popen([sys.executable, "-m", "geode_cli", "-q", "scan", "ingest", "--noparallel"],
                            cwd=site.root, env=dict(os.environ), stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _invariant(site, names):
    """Every file is either still in data_in, or archived with its row; never both missing, never half."""
    rows = {r["Filename"] for r in site.rows()}
    for rel, archived_as, rinex_name in names:
        in_repo = (site.repository / "data_in" / rel).exists()
        in_archive = (site.archive / archived_as).exists() and rinex_name in rows
        assert in_repo or in_archive, rel
        if rinex_name in rows:
            assert (site.archive / archived_as).exists(), f"row without file: {rel}"


def _many_files(site, count):
    names = []
    for i in range(count):
        year, doy = 2024, 110 + i
        station = STATIONS[i % 3]
        site.incoming(f"{station.network}.{station.code}", station, year, doy, "crinez2")
        base = f"{station.code}{doy:03d}0.24"
        names.append((f"{station.network}.{station.code}/{base}d.Z", f"{station.network}/2024/{doy:03d}/{base}d.Z",
                      f"{base}o"))
    return names


def test_sigkill_mid_ingest_then_rerun_loses_nothing(site):
    names = _many_files(site, 45)
    proc = _spawn(site)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if site.db.query_one("SELECT count(*) AS n FROM rinex")["n"] >= 3:
            break
        time.sleep(0.02)
    assert proc.poll() is None, "ingest finished before it could be killed: " + proc.stderr.read().decode()
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    proc.stdout.close(), proc.stderr.close()
    done = len(site.rows())
    assert 3 <= done < 45
    _invariant(site, names)
    rerun = _spawn(site)
    out, err = rerun.communicate(timeout=300)
    assert rerun.returncode == 0, err.decode()
    _invariant(site, names)
    assert len(site.rows()) == 45
    assert not any(p.is_file() for p in (site.repository / "data_in").rglob("*"))
    archived = [p for p in site.archive.rglob("*") if p.is_file()]
    assert len(archived) == 45, [str(p) for p in archived if not p.name.endswith(".Z")]  # no temporary copies left


def test_two_ingests_at_once_insert_each_file_once(site):
    names = _many_files(site, 24)
    a, b = _spawn(site), _spawn(site)
    for p in (a, b):
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0, err.decode()
    _invariant(site, names)
    rows = site.db.query('SELECT "Filename", count(*) AS n FROM rinex GROUP BY "Filename"')
    assert len(rows) == 24 and all(r["n"] == 1 for r in rows)
    assert not any(p.is_file() for p in (site.repository / "data_in").rglob("*"))


def test_second_file_of_a_new_station_joins_its_temporary_station(cli, site):
    from geode.geodesy.coordinates import lla2xyz

    new = LPGS.__class__("???", "tand", "", -37.3175, -59.1311, 190.0, "ARG", LPGS.records)
    xyz = lla2xyz(new.lat, new.lon, new.height)
    site.incoming("a", new, 2024, 102, "crinez2", approx_xyz=xyz)
    site.incoming("b", new, 2024, 103, "crinez2", approx_xyz=tuple(c + 10 for c in xyz))  # 17 m away
    site.incoming("c", new, 2024, 104, "crinez2", approx_xyz=lla2xyz(new.lat + 1, new.lon, 0))  # 111 km away
    (site.repository / "data_in" / "readme.txt").write_text("not RINEX")
    r, out = _ingest(cli)
    assert r.exit_code == 1 and out["counts"]["temporary"] == 3 and out["counts"]["rejected"] == 1
    locks = site.db.query('SELECT filename, "NetworkCode" FROM locks ORDER BY filename')
    assert [(lk["filename"], lk["NetworkCode"]) for lk in locks] == [
        ("a/tand1020.24d.Z", "???"), ("b/tand1030.24d.Z", "???"), ("c/tand1040.24d.Z", "??0")]
    assert (site.repository / "data_rejected/bad_name/readme.txt").exists()
    assert site.rows() == []
