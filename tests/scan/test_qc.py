"""`geode scan qc`: rinex_qc rows (one per file, idempotent, bad files reported and never stored), the
report against each station's baseline, plots, `scan check` flags and the KML summary."""

from __future__ import annotations

import datetime as dt
import json
import random
from pathlib import Path

from geode.rinex.qc import QC_VERSION, QCResult

from .conftest import STATIONS, fill_archive


def _qc_rows(db):
    return db.query("SELECT * FROM rinex_qc ORDER BY 1, 2, 3, 4, 5, 6")


def _stable(rows):
    return [{k: v for k, v in r.items() if k != "computed_at"} for r in rows]


def test_qc_one_row_per_good_file_rerun_changes_nothing(cli, site):
    fill_archive(site)
    assert cli("scan", "archive", "--json").exit_code == 0
    bad = site.archive / "igs/2024/100/lpgs1000.24d.Z"
    bad.write_bytes(bad.read_bytes()[:400])  # cut short after its row was stored

    r = cli("scan", "qc", "--json")
    assert r.exit_code == 1, r.stderr
    out = json.loads(r.stdout)
    assert out["counts"] == {"inserted": 5, "updated": 0, "unchanged": 0, "problem": 1, "transient": 0}
    assert "igs/2024/100/lpgs1000.24d.Z" in r.stderr
    [problem] = [f for f in out["files"] if f["status"] == "problem"]
    assert problem["path"] == "igs/2024/100/lpgs1000.24d.Z" and problem["reason"]
    rows = _qc_rows(site.db)
    assert len(rows) == 5 and {r["qc_version"] for r in rows} == {QC_VERSION}
    assert not any(r["StationCode"] == "lpgs" and r["ObservationDOY"] == 100 for r in rows)
    for row in rows:  # the row's metrics are the QCResult, whole
        result = QCResult.from_json(row["metrics"])
        assert abs(row["completeness"] - result.completeness) < 1e-3 and row["clock_jumps"] == result.clock_jumps
        assert result.epochs_present == result.epochs_expected == 2880

    again = cli("scan", "qc", "--json")
    assert again.exit_code == 1 and json.loads(again.stdout)["counts"]["unchanged"] == 5
    assert _qc_rows(site.db) == rows  # computed_at too: nothing was written
    redo = cli("scan", "qc", "igs.unsa", "--redo", "-d", "2024_101", "2024_101", "--json")
    assert redo.exit_code == 0, redo.stderr
    assert json.loads(redo.stdout)["counts"] == {"inserted": 0, "updated": 0, "unchanged": 1, "problem": 0,
                                                 "transient": 0}
    assert _qc_rows(site.db) == rows


def test_file_without_rinex_row_and_changed_file(cli, site):
    s = STATIONS[1]
    path = site.archive_file(s, 2024, 100, "crinez3")
    r = cli("scan", "qc", "--json")  # readable, but scan archive has not seen it
    assert r.exit_code == 1 and "not in the rinex table" in r.stderr and _qc_rows(site.db) == []

    assert cli("scan", "archive", "--qc", "--json").exit_code == 0
    [row] = _qc_rows(site.db)
    assert row["completeness"] == 100.0
    site.archive_file(s, 2024, 100, "crinez3", epochs=1440)  # the file is replaced by a half day
    assert path.exists()
    rescan = cli("scan", "archive", "--json")  # its rinex row is updated: the QC row of the old file goes
    assert json.loads(rescan.stdout)["counts"]["updated"] == 1 and _qc_rows(site.db) == []
    assert cli("scan", "qc").exit_code == 0
    [row] = _qc_rows(site.db)
    assert abs(row["completeness"] - 50.0) < 0.1 and row["Completion"] == 0.5


# --- the report, plots, scan check and kml on synthetic QC rows --------------------------------------------------------

START = dt.date(2024, 1, 1)
INJECT = dt.date(2024, 6, 1)


def _result(day: dt.date, mp2: float, rnd) -> QCResult:
    first = dt.datetime.combine(day, dt.time())
    return QCResult(rinex_version=2.11, interval=30.0, first_epoch=first,
                    last_epoch=first + dt.timedelta(seconds=86370), epochs_present=2880, epochs_expected=2880,
                    completeness=100.0, sats_mean={"G": 9.5}, observations=50000,
                    mp_rms={"G1": round(rnd.gauss(0.30, 0.01), 4), "G2": round(mp2, 4)},
                    mp_signal={"G1": "C1", "G2": "P2"}, slips=10, obs_per_slip=5000.0, slips_per_1000=0.2,
                    sat_gaps=3, epoch_gaps=0, snr_mean={"G1": 45.0, "G2": 38.0}, clock_jumps=0,
                    elev_completeness=round(rnd.gauss(98.0, 0.3), 2))


def _synthetic_station(db, network: str, code: str, days: int, degrade: bool, seed: int) -> None:
    from geode.archive.qc_store import store_qc

    rnd = random.Random(seed)
    for i in range(days):
        day = START + dt.timedelta(days=i)
        doy = day.timetuple().tm_yday
        name = f"{code}{doy:03d}0.24o"
        first = dt.datetime.combine(day, dt.time())
        db.execute('INSERT INTO rinex ("NetworkCode", "StationCode", "ObservationYear", "ObservationMonth", '
                   '"ObservationDay", "ObservationDOY", "ObservationFYear", "ObservationSTime", "ObservationETime", '
                   '"Filename", "Interval", "Completion") VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,30,1.0)',
                   (network, code, day.year, day.month, day.day, doy, day.year + doy / 366, first,
                    first + dt.timedelta(seconds=86370), name))
        mp2 = rnd.gauss(0.42, 0.01) * (1.5 if degrade and day >= INJECT else 1.0)
        assert store_qc(db, network, code, name, _result(day, mp2, rnd)) == "inserted"


def test_report_plot_check_and_kml(cli, site, tmp_path, monkeypatch):
    _synthetic_station(site.db, "igs", "lpgs", 200, degrade=True, seed=1)
    _synthetic_station(site.db, "igs", "unsa", 200, degrade=False, seed=2)

    r = cli("scan", "qc", "--report", "igs.all", "--json")
    assert r.exit_code == 0, r.stderr
    by = {s["station"]: s for s in json.loads(r.stdout)["stations"]}
    assert by["igs.unsa"]["flags"] == []
    [flag] = by["igs.lpgs"]["flags"]
    assert (flag["kind"], flag["metric"], flag["since"]) == ("mp_up", "MP G2", INJECT.strftime("%Y_%j"))
    mp2 = next(m for m in by["igs.lpgs"]["metrics"] if m["metric"] == "MP G2")
    assert abs(mp2["baseline"] - 0.42) < 0.01 and abs(mp2["recent"] - 0.63) < 0.02

    # the same report ending before the degradation: no flag
    before = cli("scan", "qc", "--report", "igs.lpgs", "-d", "2024_100", (INJECT - dt.timedelta(days=1)).isoformat(),
                 "--json")
    assert json.loads(before.stdout)["stations"][0]["flags"] == []

    # a table that fits 80 columns on a terminal, whole values through a pipe
    monkeypatch.setenv("COLUMNS", "80")
    monkeypatch.setenv("TTY_COMPATIBLE", "1")
    tty = cli("scan", "qc", "--report", "igs.all")
    assert tty.exit_code == 0 and tty.stdout.strip()
    assert max(len(line) for line in tty.stdout.splitlines()) <= 80 and "hidden" not in tty.stderr
    assert "elev. completeness" in tty.stdout
    assert "MP G2" in tty.stdout and "mp_up" in tty.stdout
    monkeypatch.setenv("TTY_COMPATIBLE", "0")
    piped = cli("scan", "qc", "--report", "igs.all")
    assert flag["detail"] in piped.stdout  # the whole detail on one line

    plots = tmp_path / "plots"
    p = cli("scan", "qc", "--plot", str(plots), "igs.all", "--json")
    assert p.exit_code == 0, p.stderr
    assert sorted(x.name for x in plots.iterdir()) == ["igs.lpgs_qc.png", "igs.unsa_qc.png"]
    assert (plots / "igs.lpgs_qc.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    check = cli("scan", "check", "igs.all", "--json")
    findings = [f for f in json.loads(check.stdout)["findings"] if f["kind"].startswith("qc_")]
    assert [(f["station"], f["kind"], f["first"]) for f in findings] == [("igs.lpgs", "qc_mp_up",
                                                                          INJECT.strftime("%Y_%j"))]

    k = cli("kml", "igs.all", "-o", str(tmp_path / "net.kmz"), "--no-availability", "--json")
    assert k.exit_code == 0, k.stderr
    import zipfile

    doc = zipfile.ZipFile(tmp_path / "net.kmz").read("doc.kml").decode()
    assert "Latest QC" in doc and "MP G2" in doc and "mp_up" in doc
    stations = {s["name"]: s for s in json.loads(k.stdout)["stations"]}
    assert stations["igs.lpgs"]["qc"]["flags"] == ["mp_up (MP G2) since " + INJECT.strftime("%Y_%j")]
    assert stations["igs.unsa"]["qc"]["flags"] == []


def test_one_file_failing_does_not_stop_the_others(cli, site, monkeypatch):
    import geode.rinex.qc as qc

    fill_archive(site)

    def broken(real):
        def flaky(src, **kw):  # a bug in the metric code on one file
            name = Path(src).name.lower()  # the name only: the test's temporary folder may hold "101" too
            if "vbca" in name and "101" in name:
                raise ValueError("deliberate")
            return real(src, **kw)
        return flaky

    # scan archive --qc: the file's row is stored all the same, its QC is reported
    monkeypatch.setattr(qc, "qc_with_info", broken(qc.qc_with_info))
    scan = cli("scan", "archive", "--qc", "--json")
    assert scan.exit_code == 1 and "ValueError: deliberate" in scan.stderr
    assert json.loads(scan.stdout)["counts"]["inserted"] == 6
    assert json.loads(scan.stdout)["qc_counts"] == {"inserted": 5, "updated": 0, "unchanged": 0, "problem": 1,
                                                    "transient": 0}
    site.db.execute("DELETE FROM rinex_qc")

    real = qc.qc_file
    monkeypatch.setattr(qc, "qc_file", broken(real))
    r = cli("scan", "qc", "--json")
    assert r.exit_code == 1
    out = json.loads(r.stdout)
    assert out["counts"] == {"inserted": 5, "updated": 0, "unchanged": 0, "problem": 1, "transient": 0}
    [bad] = [f for f in out["files"] if f["status"] == "problem"]
    assert "vbca" in bad["path"] and "ValueError: deliberate" in bad["reason"] and "a bug in geode" in bad["reason"]
    monkeypatch.setattr(qc, "qc_file", real)  # fixed: the next run measures only that file
    again = cli("scan", "qc", "--json")
    assert again.exit_code == 0 and json.loads(again.stdout)["counts"]["inserted"] == 1
    assert len(_qc_rows(site.db)) == 6


def test_dual_frequency_file_fills_the_trended_columns(cli, site):
    """A physics-synthetic dual-frequency file (8 GPS satellites, code multipath on L1, two clock jumps): the
    columns carry the QCResult's values (MP1/MP2 from G1/G2, SNR per band, clock jumps, observations)."""
    s = STATIONS[0]
    site.archive_file(s, 2024, 100, "crinez2", physics=True, satellites=tuple(f"G{i:02d}" for i in range(1, 9)),
                      obs_types=("C1C", "L1C", "S1C", "P2W", "L2W", "S2W"), multipath=(("G1", 0.5, "random"),),
                      clock_jumps=(600, 1800), seed=3)
    r = cli("scan", "archive", "--qc", "--json")
    assert r.exit_code == 0, r.stderr
    assert json.loads(r.stdout)["qc_counts"]["inserted"] == 1
    [row] = _qc_rows(site.db)
    result = QCResult.from_json(row["metrics"])
    assert row["clock_jumps"] == result.clock_jumps == 2
    assert row["observations"] == result.observations > 0
    for column, key in (("mp1", "G1"), ("mp2", "G2")):
        assert row[column] == result.mp_rms[key]
    assert row["mp1"] > row["mp2"]  # the injected L1 multipath
    for column, key in (("snr1", "G1"), ("snr2", "G2")):
        assert row[column] == result.snr_mean[key]
    assert row["sats_mean"] == sum(result.sats_mean.values())
