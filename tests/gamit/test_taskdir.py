"""Control-file writers, checked byte for byte against the formats GeoDE writes (reference §3.1)."""

from __future__ import annotations

import pytest

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
