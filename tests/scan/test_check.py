"""`geode scan check`: station info vs headers, gaps/overlaps, files vs rows, days with several files."""

from __future__ import annotations

import datetime as dt
import json

from geode.stationinfo import StationInfoRecord, insert_record
from geode.stations import StationRef

from .conftest import STATIONS, fill_archive

LPGS, UNSA, VBCA = STATIONS


def _record(code, start, end=None, **kw):
    base = dict(receiver_code="TRIMBLE NETR9", receiver_serial="5214K81234", receiver_firmware="5.45",
                antenna_code="TRM59800.00", antenna_serial="1440911111", radome_code="SCIS")
    base.update(kw)
    return StationInfoRecord(code, start, end, **base)


def test_integrity_findings(cli, site):
    fill_archive(site)
    # lpgs: the station info says another receiver serial from day 101 on
    insert_record(site.db, StationRef("igs", "lpgs"), _record("lpgs", dt.datetime(2020, 1, 1),
                                                              dt.datetime(2024, 4, 9, 23, 59, 59)))
    insert_record(site.db, StationRef("igs", "lpgs"), _record("lpgs", dt.datetime(2024, 4, 10),
                                                              receiver_serial="OTHER"))
    # unsa: a gap over day 101 (which has data)
    insert_record(site.db, StationRef("igs", "unsa"), _record("unsa", dt.datetime(2020, 1, 1),
                                                              dt.datetime(2024, 4, 9, 23, 59, 59)))
    insert_record(site.db, StationRef("igs", "unsa"), _record("unsa", dt.datetime(2024, 4, 11)))
    # vbca: fully covered, but a second file on day 100, a missing file and a file not in the database
    insert_record(site.db, StationRef("arg", "vbca"), _record("vbca", dt.datetime(2020, 1, 1)))
    site.archive_file(VBCA, 2024, 100, "crinez2", epochs=1440).rename(site.archive / "arg/2024/100/vbca100a.24d.Z")
    fill_archive(site)
    assert cli("scan", "archive").exit_code == 0
    (site.archive / "arg/2024/101/vbca1010.24d.Z").unlink()
    site.archive_file(VBCA, 2024, 102, "crinez2")

    r = cli("scan", "check", "--json")
    assert r.exit_code == 1
    found = {(f["station"], f["kind"], f["first"], f["last"], f["detail"]) for f in json.loads(r.stdout)["findings"]}
    assert found == {
        ("igs.lpgs", "equipment", "2024_101", "2024_101",
         "receiver serial: RINEX '5214K81234' != station info 'OTHER'"),
        ("igs.unsa", "gap", "2024_100", "2024_102",
         "no station info from 2024-04-09 23:59:59 to 2024-04-11 00:00:00, 1 RINEX file(s) inside"),
        ("igs.unsa", "no_stationinfo", "2024_101", "2024_101", "no station-info record covers these files"),
        ("arg.vbca", "several_files", "2024_100", "2024_100", "2 files: vbca1000.24o, vbca100a.24o"),
        ("arg.vbca", "missing_file", "2024_101", "2024_101",
         "vbca1010.24o: no file in the archive (expected arg/2024/101/vbca1010.24d.Z)"),
        ("arg.vbca", "not_in_db", "", "", "arg/2024/102/vbca1020.24d.Z: archive file without a rinex row "
                                          "(geode scan archive adds it or says why it cannot)"),
    }
    only = cli("scan", "check", "igs.lpgs")
    assert only.exit_code == 1 and "OTHER" in only.stdout and "vbca" not in only.stdout


def test_clean_network_exits_zero(cli, site):
    fill_archive(site)
    for s in STATIONS:
        insert_record(site.db, StationRef(s.network, s.code), _record(s.code, dt.datetime(2020, 1, 1)))
    assert cli("scan", "archive").exit_code == 0
    r = cli("scan", "check", "--json")
    assert r.exit_code == 0, r.stdout
    assert json.loads(r.stdout) == {"stations": 3, "files": 6, "findings": []}
