"""The files of a PPP run: control files as GeoDE writes them, the .sum parser, the product search."""

from __future__ import annotations

import gzip

import pytest
from hypothesis import given, settings, strategies as st

from geode import products
from geode.dates import GnssDate
from geode.ppp.rundir import RunOptions, commands_text, def_text, input_text
from geode.ppp.summary import PppEopError, PppError, PppNoEstimate, parse_summary

SUM = """\
 NRCan GPS Precise Point Positioning (GPSPACE)  Version 1.10/2019-02-04
 SECTION 1. File Summary
   Pole X (")    :    {pole}    0.000012
 SECTION 2. Summary of processing parameters
   Antenna phase center (TRM59800.00 SCIS) : {pcv}
   Ocean loading coefficients (LPGS)  : {olc}
 SECTION 3. Session Processing Summary
 3.2 Observation Session
   Number of epochs processed (%fix)  :   {epochs}
   Number of observations rejected    :   17
 3.3 Coordinate estimates
 CARTESIAN           NAD83(CSRS )     ITRF (IGS20)   Sigma(m) NAD-ITR(m)
 X (m)     2780103.9630  {x}    0.0021    0.000
 Y (m)    -4437419.9120  -4437418.9120    0.0034    0.000
 Z (m)    -3629405.5810  -3629404.5810    0.0027    0.000
 SIGMA/CORRELATIONS
   X(m)     {sx}    0.1200   -0.0800
   Y(m)     0.0034   -0.3100
   Z(m)     0.0027
 ELLIPSOIDAL
 3.4 Coordinate differences ITRF (IGS20)
"""
GOOD = dict(pole="0.123456", pcv="ANTEX", olc="FOUND", epochs="2880", x="2780102.9630", sx="0.0021")


def _sum(**changes) -> str:
    return SUM.format(**{**GOOD, **changes})


def test_summary_gives_the_itrf_estimate_sigmas_and_epochs():
    s = parse_summary(_sum())
    assert s.version == "1.10" and s.frame == "IGS20"
    assert s.xyz == (2780102.9630, -4437418.9120, -3629404.5810)  # the ITRF column, not NAD83
    assert s.sigmas == (0.0021, 0.0034, 0.0027, 0.12, -0.08, -0.31)
    assert (s.epochs, s.rejected) == (2880, 17)


@pytest.mark.parametrize("changes, error, message", [
    (dict(x="NaN"), PppNoEstimate, "NaN for X"),
    (dict(x="**************"), PppNoEstimate, "NaN for X"),
    (dict(sx="nan"), PppNoEstimate, "NaN for a sigma"),
    (dict(epochs="0"), PppNoEstimate, "zero epochs"),
    (dict(pole="NaN"), PppEopError, "pole"),
    (dict(pcv="NOT AVAILABLE"), PppError, "not in the ANTEX file"),
    (dict(olc="NOT FOUND"), PppError, "ocean-loading"),
])
def test_summary_failures_name_the_cause(changes, error, message):
    with pytest.raises(error, match=message):
        parse_summary(_sum(**changes))


def test_lenient_mode_accepts_missing_antenna_and_otl():
    assert parse_summary(_sum(pcv="NOT AVAILABLE", olc="NOT FOUND"), strict=False).epochs == 2880


def test_csrs_version_line_is_accepted_and_other_text_is_not_a_summary():
    assert parse_summary(_sum().replace("Version 1.10/", "CSRS-PPP ver. 1.05/")).version == "1.05"
    with pytest.raises(PppError, match="no version line"):
        parse_summary("hello\n")


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_summary_parser_raises_only_its_own_error(text):
    try:
        parse_summary(text)
    except PppError:
        pass


@given(st.lists(st.sampled_from(SUM.format(**GOOD).splitlines()), max_size=40), st.booleans())
@settings(max_examples=200, deadline=None)
def test_summary_parser_on_shuffled_real_lines_raises_only_its_own_error(lines, strict):
    try:
        parse_summary("\n".join(lines), strict)
    except PppError:
        pass


def test_control_files_as_geode_writes_them():
    cmd = commands_text(RunOptions(clock_interpolation=True), 0.1234).splitlines()
    assert cmd[0] == "' UT DAYS OBSERVED                      (1-45)'                   1"
    assert cmd[6] == "' SATELLITE CLOCK INTERPOLATION   (1=NO,2=YES)'                   2"
    assert cmd[9] == "' SOLVE TROP. (1=NO,2-5=RW MM/HR) (+100=grad) '                   105"
    assert cmd[15] == "' LATITUDE  (ddmmss.sss,+N) or ECEF X      (m)'              0.0000   0.000"
    assert cmd[18] == "' ANTENNA HEIGHT                           (m)'              0.1234"
    assert cmd[19] == "' CUTOFF ELEVATION                       (deg)'             10.0000"
    assert len(cmd) == 21
    assert def_text("igs20.atx", "lpgs", "igs23097.erp", "IGN", "x").splitlines()[3:8] == [
        "'PCV' 'igs20.atx'", "'FLT' 'gpsppp.flt'", "'OLC' 'LPGS.olc'", "'MET' 'gpsppp.met'", "'ERP' 'igs23097.erp'"]
    assert input_text("lpgs1000.24o", ("a.sp3", "b.sp3"), ("a.clk", "b.clk")) == (
        "lpgs1000.24o\ncommands.cmd\n0 0\n0 0\norbits/a.sp3\norbits/a.clk\norbits/b.sp3\norbits/b.clk\n")


Day = GnssDate(2024, 100)  # GPS week 2309, day 2


def test_templates_and_product_search(tmp_path):
    assert products.expand_template("p/$year/brdc${doy}0.${year2d}n", Day) == "p/2024/brdc1000.24n"
    with pytest.raises(products.ProductError, match="template"):
        products.expand_template("p/$century", Day)
    folder = tmp_path / "2309"
    folder.mkdir()
    for name in ("igs23092.sp3.Z", "COD0MGXFIN_20241000000_01D_05M_ORB.SP3.gz", "igs23093.sp3",
                 "igs23092.clk_30s", "COD0MGXFIN_20241000000_01D_30S_CLK.CLK.gz", "igs23097.erp",
                 "COD0MGXFIN_20240980000_07D_01D_ERP.ERP", "COD0MGXFIN_20241000000_07D_01D_ERP.ERP"):
        (folder / name).write_bytes(b"x")
    template = str(tmp_path / "$gpsweek")
    assert products.find_product(template, Day, ["IGS0", "COD0"]).name == "igs23092.sp3.Z"
    assert products.find_product(template, Day, ["COD0"]).name == "COD0MGXFIN_20241000000_01D_05M_ORB.SP3.gz"
    assert products.find_product(template, Day, ["GFZ0"]) is None
    assert products.find_product(template, Day, ["COD0", "IGS0"], "clk").name == (
        "COD0MGXFIN_20241000000_01D_30S_CLK.CLK.gz")
    assert products.find_product(template, Day, ["IGS0"], "clk").name == "igs23092.clk_30s"
    # the weekly ERP starts on the week's Sunday (doy 98), whichever day of the week is processed
    assert products.find_product(template, Day, ["COD0"], "erp").name == "COD0MGXFIN_20240980000_07D_01D_ERP.ERP"
    assert products.find_product(template, Day, [], "erp").name == "COD0MGXFIN_20240980000_07D_01D_ERP.ERP"
    assert products.find_product(template, Day, ["IGS"], "erp").name == "igs23097.erp"
    plain = tmp_path / "brdc1000.24n.gz"
    plain.write_bytes(gzip.compress(b"nav data\n"))
    out = tmp_path / "out.n"
    products.uncompressed_copy(products.existing(tmp_path / "brdc1000.24n"), out)
    assert out.read_text() == "nav data\n"
