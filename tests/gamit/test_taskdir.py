"""Control-file writers, checked byte for byte against the formats GeoDE writes (reference §3.1)."""

from __future__ import annotations

import gzip

import pytest

from geode.dates import GnssDate
from geode.gamit import taskdir
from geode.gamit.planning import StationDay

BLQ = """\
$$ igs.lpgs
$$ comment line
  LPGS
$$ Complete FES2014b
$$ Computed by OLFG/OLMPP by H.-G. Scherneck
$$ LPGS,                              RADI TANG  lon/lat:  302.0678  -34.9067    0.000
  .00716 .00200 .00153 .00043 .00265 .00200 .00084 .00080 .00064 .00028 .00018
  .00000 .00000 .00000 .00000 .00000 .00000 .00000 .00000 .00000 .00000 .00000
"""


def station(alias="igm1", **kw) -> StationDay:
    values = dict(key="arg.igm1", network="arg", code="igm1", alias=alias, x=918129.363, y=-4346071.253,
                  z=4561977.838, sigma_n=0.1024, sigma_e=0.1013, sigma_u=99.9, apr_source="ppp_soln",
                  rinex="/a/igm10100.24d.Z", interval=30, completion=1.0, lat=-34.9067, lon=-57.9322, height=29.9)
    values.update(kw)
    return StationDay(**values)


def test_lfile_line():
    assert taskdir.lfile_text([station()], 2024.0410) == \
        " IGM1_GPS   918129.363 -4346071.253  4561977.838 0.000 0.000 0.000 2024.0410\n"


def test_sittbl():
    assert taskdir.sittbl_text([station()]) == (
        "SITE              FIX    --COORD.CONSTR.--  \n"
        "      << default for regional sites >>\n"
        "ALL               NNN    100.  100.   100. \n"
        "IGM1 IGM1_GPS     NNN    0.102 0.101 99.90\n")


def test_sites_defaults():
    assert taskdir.sites_defaults_text([station(), station("lpgs")], "rmsc") == (
        " all_sites rmsc xstinfo\n IGM1_GPS  rmsc localrx\n LPGS_GPS  rmsc localrx\n")


def test_otl_list_renames_record_to_alias():
    text = taskdir.otl_list_text([station("x1ab", otl=BLQ), station("none", otl="")], "FES2014b")
    lines = text.splitlines()
    assert lines[0] == "FES2014b   8-character GAMIT ID read by grdtab (M -> CM)"
    assert "$$ END HEADER" in lines
    start = lines.index("  X1AB")
    assert lines[start + 3] == "$$ X1AB                                  RADI TANG lon/lat:  302.0678  -34.9067"
    assert lines[start + 4].startswith("  .00716")
    assert "NONE" not in text and lines[-1] == "$$ END TABLE"


def test_sestbl_scratch_directory_blanked():
    assert taskdir.sestbl_text("A = 1\nScratch directory = /scratch/x\nB = 2") == "A = 1\nScratch directory = \nB = 2"


Day = GnssDate(2024, 100)  # GPS week 2309, day 2


def test_templates_and_product_search(tmp_path):
    assert taskdir.expand_template("p/$year/brdc${doy}0.${year2d}n", Day) == "p/2024/brdc1000.24n"
    with pytest.raises(Exception, match="template"):
        taskdir.expand_template("p/$century", Day)
    sp3 = tmp_path / "sp3" / "2309"
    sp3.mkdir(parents=True)
    for name in ("igs23092.sp3.Z", "COD0MGXFIN_20241000000_01D_05M_ORB.SP3.gz", "igs23093.sp3"):
        (sp3 / name).write_bytes(b"x")
    template = str(tmp_path / "sp3" / "$gpsweek")
    assert taskdir.find_sp3(template, Day, ["IGS0", "COD0"]).name == "igs23092.sp3.Z"
    assert taskdir.find_sp3(template, Day, ["COD0"]).name == "COD0MGXFIN_20241000000_01D_05M_ORB.SP3.gz"
    assert taskdir.find_sp3(template, Day, ["GFZ0"]) is None
    plain = tmp_path / "brdc1000.24n.gz"
    plain.write_bytes(gzip.compress(b"nav data\n"))
    out = tmp_path / "out.n"
    taskdir._uncompressed_copy(taskdir._existing(tmp_path / "brdc1000.24n"), out)
    assert out.read_text() == "nav data\n"
