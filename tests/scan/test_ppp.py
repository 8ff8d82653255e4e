"""`geode scan ppp` with a stand-in GPSPACE (tests/scan/standins/gpsppp): it reads the run folder geode staged
and writes a .sum report in the engine's layout; the database, archive and workers are real."""

from __future__ import annotations

import datetime as dt
import gzip
import json
import zlib
from pathlib import Path

import pytest

from geode.dates import GnssDate
from geode.geodesy.coordinates import lla2xyz
from geode.stationinfo import StationInfoRecord, insert_record
from geode.stations import StationRef

from .conftest import STATIONS, fill_archive

GPSPPP = Path(__file__).parent / "standins" / "gpsppp"
LPGS, UNSA, VBCA = STATIONS
ANTENNA = ("TRM59800.00", "SCIS")


def _atx(path: Path, antennas) -> str:
    path.write_text("     1.4            M                                       ANTEX VERSION / SYST\n"
                    + "".join(f"{a:<16}{r:<4}{'':40}TYPE / SERIAL NO\n" for a, r in antennas))
    return str(path)


def _products(root: Path, days, skip=()):
    """Precise orbits (gzip), clocks (plain) and the weekly ERP, named as IGS does, in <root>/<gpsweek>/."""
    for day in days:
        folder = root / day.wwww
        folder.mkdir(parents=True, exist_ok=True)
        if ("sp3", day.doy) not in skip:
            (folder / f"igs{day.wwwwd}.sp3.gz").write_bytes(gzip.compress(f"#dP{day.year} orbit\n".encode()))
        if ("clk", day.doy) not in skip:
            (folder / f"igs{day.wwwwd}.clk").write_text(f"{'3.00':>9}{'':11}C{'':39}RINEX VERSION / TYPE\n")
        (folder / f"igs{day.wwww}7.erp").write_text("version 2\n")


def _record(code, height=0.0, north=0.0, east=0.0, **kw):
    return StationInfoRecord(code, dt.datetime(2020, 1, 1), None, receiver_code="TRIMBLE NETR9",
                             receiver_serial="5214K81234", receiver_firmware="5.45", antenna_code=ANTENNA[0],
                             radome_code=ANTENNA[1], antenna_serial="1440911111", antenna_height=height,
                             antenna_north=north, antenna_east=east, **kw)


@pytest.fixture
def ppp(site, tmp_path, monkeypatch):
    """A configured stand-in engine, orbits for days 100-102 of 2024, station info and OTL for every station."""
    support = tmp_path / "ppp"
    support.mkdir()
    for name in ("gpsppp.svb_gnss_yrly", "gpsppp.stc", "gpsppp.flt", "gpsppp.met", "gpsppp.trf"):
        (support / name).write_text(f"{name} support file\n")
    products = tmp_path / "products"
    _products(products, [GnssDate(2024, d) for d in (100, 101, 102)])
    monkeypatch.setenv("GEODE_PPP_PPP_EXE", str(GPSPPP))
    monkeypatch.setenv("GEODE_PPP_PPP_PATH", str(support))
    monkeypatch.setenv("GEODE_PPP_FRAMES", "IGS14,IGS20")
    monkeypatch.setenv("GEODE_PPP_ATX", ",".join([_atx(tmp_path / "igs14.atx", [ANTENNA]),
                                                  _atx(tmp_path / "igs20.atx", [ANTENNA])]))
    monkeypatch.setenv("GEODE_PPP_IGS14", "1994_1, 2022_330")
    monkeypatch.setenv("GEODE_PPP_IGS20", "2022_331")
    monkeypatch.setenv("GEODE_ARCHIVE_SP3", str(products / "$gpsweek"))
    for s in STATIONS:
        insert_record(site.db, StationRef(s.network, s.code), _record(s.code))
        site.db.execute('UPDATE stations SET "Harpos_coeff_otl" = %s WHERE "StationCode" = %s',
                        (f"HARPOS Format version of 2002.12.12\nS {s.code.upper():<8} 0 0 0\n", s.code))
    site.products = products
    return site


def _solutions(site) -> dict:
    return {(r["StationCode"], int(r["DOY"])): r for r in site.db.query(
        'SELECT "StationCode", "DOY", "X"::float AS x, "Y"::float AS y, "Z"::float AS z, "ReferenceFrame" AS frame, '
        'sigmax::float, hash, orbit FROM ppp_soln')}


def _approx(s):
    return tuple(round(c, 4) for c in lla2xyz(s.lat, s.lon, s.height))


def test_not_configured_says_what_is_missing(cli, site):
    r = cli("scan", "ppp")
    assert r.exit_code == 78
    assert r.stderr.startswith("geode: error: PPP is not configured: set [ppp] ppp_exe, [ppp] ppp_path")
    assert len(r.stderr.strip().splitlines()) == 1


def test_one_antex_file_per_frame_is_required(cli, ppp, monkeypatch, tmp_path):
    monkeypatch.setenv("GEODE_PPP_ATX", _atx(tmp_path / "only.atx", [ANTENNA]))
    r = cli("scan", "ppp")
    assert r.exit_code == 78 and "[ppp] frames lists 2 frame(s) but [ppp] atx 1 ANTEX file(s)" in r.stderr


def test_ppp_stores_every_station_day_once(cli, ppp):
    fill_archive(ppp)  # lpgs and vbca as RINEX 2 (.d.Z), unsa as RINEX 3 (.crx.gz): converted for the engine
    assert cli("scan", "archive").exit_code == 0
    r = cli("scan", "ppp", "--json")
    assert r.exit_code == 0, r.stderr
    out = json.loads(r.stdout)
    assert sorted((d["station"], d["day"]) for d in out["stored"]) == [
        (f"{s.network}.{s.code}", f"2024_{d}") for s in sorted(STATIONS, key=lambda s: (s.network, s.code))
        for d in (100, 101)]
    assert all(d["epochs"] == 2880 and d["frame"] == "IGS20" and not d["reruns"] for d in out["stored"])
    rows = _solutions(ppp)
    assert len(rows) == 6
    for s in STATIONS:
        for doy in (100, 101):
            row = rows[(s.code, doy)]
            assert (row["x"], row["y"], row["z"]) == pytest.approx(_approx(s), abs=1e-4)
            assert row["frame"] == "IGS20" and row["sigmax"] == 0.0021
            orbit = f"igs{GnssDate(2024, doy).wwwwd}.sp3.gz"
            expected = zlib.crc32(b"0.0000 0.0000 0.0000 DHARP TRM59800.00 SCIS TRIMBLE NETR9") + zlib.crc32(
                orbit.encode())
            assert row["orbit"] == orbit and row["hash"] == expected
    again = cli("scan", "ppp", "--json")
    assert again.exit_code == 0 and json.loads(again.stdout) == {"stored": [], "failures": []}
    forced = cli("scan", "ppp", "igs.lpgs", "--force", "-d", "2024_100", "2024_100", "--json")
    assert [d["day"] for d in json.loads(forced.stdout)["stored"]] == ["2024_100"]
    assert _solutions(ppp) == rows  # replaced in place, nothing duplicated


def test_station_information_decides_antenna_and_offsets(cli, ppp):
    """The header says another antenna and no offsets; the station information (what PPP is given) wins, and
    the north/east offset the engine's position includes is removed again."""
    ppp.db.execute('UPDATE stationinfo SET "AntennaNorth" = 0.512, "AntennaEast" = -0.307, "AntennaHeight" = 0.1')
    ppp.archive_file(LPGS, 2024, 100, "crinez2", antenna_type="ASH701945E_M", antenna_radome="NONE")
    assert cli("scan", "archive").exit_code == 0
    r = cli("scan", "ppp", "--json")
    assert r.exit_code == 0, r.stderr
    row = _solutions(ppp)[("lpgs", 100)]
    assert (row["x"], row["y"], row["z"]) == pytest.approx(_approx(LPGS), abs=1e-4)
    assert row["hash"] == zlib.crc32(b"0.5120 -0.3070 0.1000 DHARP TRM59800.00 SCIS TRIMBLE NETR9") + zlib.crc32(
        b"igs23092.sp3.gz")


def test_fast_sampled_file_is_decimated_to_30_s(cli, ppp):
    ppp.archive_file(LPGS, 2024, 100, "crinez3", interval=5.0, epochs=17280)
    assert cli("scan", "archive").exit_code == 0
    r = cli("scan", "ppp", "--json")
    assert r.exit_code == 0, r.stderr
    assert json.loads(r.stdout)["stored"][0]["epochs"] == 2880


def test_recheck_recomputes_only_days_whose_station_information_changed(cli, ppp):
    fill_archive(ppp)
    assert cli("scan", "archive").exit_code == 0
    assert cli("scan", "ppp").exit_code == 0
    before = _solutions(ppp)
    ppp.db.execute('UPDATE stationinfo SET "AntennaHeight" = 0.25 WHERE "StationCode" = %s', ("vbca",))
    assert json.loads(cli("scan", "ppp", "--json").stdout)["stored"] == []  # no hash check without --recheck
    r = cli("scan", "ppp", "--recheck", "--json")
    assert sorted(d["station"] + " " + d["day"] for d in json.loads(r.stdout)["stored"]) == [
        "arg.vbca 2024_100", "arg.vbca 2024_101"]
    after = _solutions(ppp)
    assert after[("vbca", 100)]["hash"] != before[("vbca", 100)]["hash"]
    assert {k: v for k, v in after.items() if k[0] != "vbca"} == {k: v for k, v in before.items() if k[0] != "vbca"}


def test_each_failing_day_is_reported_and_the_others_are_stored(cli, ppp, monkeypatch):
    fill_archive(ppp)
    ppp.archive_file(LPGS, 2024, 102, "crinez2")
    _products(ppp.products, [GnssDate(2024, 103)], skip={("clk", 103)})  # day 103's clocks are missing
    # vbca 101 carries lpgs's position: the solution belongs to another station
    ppp.archive_file(VBCA, 2024, 101, "crinez2", approx_xyz=_approx(LPGS))
    assert cli("scan", "archive").exit_code == 0
    ppp.db.execute('UPDATE stations SET "Harpos_coeff_otl" = NULL WHERE "StationCode" = %s', ("unsa",))
    monkeypatch.setenv("GEODE_STANDIN_PPP", "VBCA:die")
    r = cli("scan", "ppp", "--json")
    assert r.exit_code == 1
    out = json.loads(r.stdout)
    failures = {f["unit"]: f["message"] for f in out["failures"]}
    assert failures == {
        "arg.vbca 2024_100": "PPP ended abnormally (exit 1): forrtl: severe (24): end-of-file during read, unit 10",
        "arg.vbca 2024_101": "PPP ended abnormally (exit 1): forrtl: severe (24): end-of-file during read, unit 10",
        "igs.lpgs 2024_102": f"no clk file for 2024_103 in [archive] sp3 = {ppp.products}/$gpsweek (PPP needs "
                             "the day's and the next day's orbits and clocks)",
        "igs.unsa 2024_100": "the station has no ocean-loading coefficients (geode scan otl computes them)",
        "igs.unsa 2024_101": "the station has no ocean-loading coefficients (geode scan otl computes them)"}
    assert sorted(_solutions(ppp)) == [("lpgs", 100), ("lpgs", 101)]
    assert "5 problem(s)" in r.stderr and "igs.lpgs 2024_102: no clk file" in r.stderr

    monkeypatch.setenv("GEODE_STANDIN_PPP", "")
    r = cli("scan", "ppp", "arg.vbca", "--json")
    assert r.exit_code == 1
    failures = {f["unit"]: f["message"] for f in json.loads(r.stdout)["failures"]}
    assert failures == {"arg.vbca 2024_101": "the PPP position matches igs.lpgs (0.0 m), not arg.vbca: wrong "
                                             "station in the file? (not stored)"}
    assert ("vbca", 100) in _solutions(ppp) and ("vbca", 101) not in _solutions(ppp)


def test_reruns_after_a_nan_estimate_and_a_fortran_end_of_file(cli, ppp, monkeypatch):
    fill_archive(ppp)
    assert cli("scan", "archive").exit_code == 0
    monkeypatch.setenv("GEODE_STANDIN_PPP", "LPGS:nan,UNSA:eof")
    r = cli("scan", "ppp", "igs.all", "-d", "2024_100", "2024_100", "--json")
    assert r.exit_code == 0, r.stderr
    reruns = {d["station"]: d["reruns"] for d in json.loads(r.stdout)["stored"]}
    assert reruns == {"igs.lpgs": ["PPP returned NaN for X; rerun with clock interpolation"], "igs.unsa": []}
    assert ("lpgs", 100) in _solutions(ppp) and ("unsa", 100) in _solutions(ppp)


def test_antenna_missing_from_the_antex_file_is_named(cli, ppp, monkeypatch, tmp_path):
    monkeypatch.setenv("GEODE_PPP_ATX", ",".join([_atx(tmp_path / "a.atx", []), _atx(tmp_path / "igs20.atx", [])]))
    ppp.archive_file(LPGS, 2024, 100, "crinez2")
    assert cli("scan", "archive").exit_code == 0
    r = cli("scan", "ppp", "--json")
    assert r.exit_code == 1
    assert json.loads(r.stdout)["failures"][0]["message"].startswith("the antenna/radome is not in the ANTEX file")


def test_parallel_on_two_workers_stores_what_inline_stores(cli, ppp, redis_url, start_workers):
    fill_archive(ppp)
    assert cli("scan", "archive").exit_code == 0
    start_workers(count=2, queues="compute", concurrency=1)
    r = cli("scan", "ppp", "--parallel", "--json")
    assert r.exit_code == 0, r.stderr
    parallel = _solutions(ppp)
    assert len(parallel) == 6
    ppp.db.execute("DELETE FROM ppp_soln")
    assert cli("scan", "ppp", "--noparallel").exit_code == 0
    assert _solutions(ppp) == parallel


def test_doctor_checks_the_whole_ppp_setup(cli, ppp, monkeypatch, tmp_path):
    def ppp_checks():
        checks = {c["name"]: c for c in json.loads(cli("doctor", "--json").stdout)["checks"]}
        return checks["program PPP"], checks["PPP setup"]

    program, setup = ppp_checks()
    assert program["status"] == "ok" and setup["status"] == "ok"
    assert setup["message"].startswith("frames IGS14 (igs14.atx), IGS20 (igs20.atx); orbits ")
    monkeypatch.setenv("GEODE_PPP_PPP_PATH", str(tmp_path))  # no support files there
    program, setup = ppp_checks()
    assert program["status"] == "ok" and setup["status"] == "fail"
    assert "has no gpsppp.svb_gnss_yrly" in setup["message"] and setup["needed_by"] == ["geode scan ppp"]
