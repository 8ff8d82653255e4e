"""Parsers of GAMIT/GLOBK outputs, on the sample lines of the reference (§4) and on random input."""

from __future__ import annotations

import datetime as dt
import math
import re

import pytest
from hypothesis import given, settings, strategies as st

from geode.gamit import parsers
from geode.gamit.parsers import GamitParseError

SUMMARY = """\
 sh_gamit summary for day 034
 Prefit nrms:  0.41331E+01    Postfit nrms: 0.31542E+00
 Prefit nrms:  0.41331E+00    Postfit nrms: 0.23542E+00
 Phase ambiguities WL fixed  97.8% NL fixed  85.4%
 Phase ambiguities WL fixed  12.0% NL fixed  10.0%
"""

SINEX = """\
%=SNX 2.01 IGN 24:100:00000 IGN 24:100:00000 24:100:86370 P 00006 2 S
+SITE/ID
 ALGO  A 40104M002 P Algonquin Park                 281 55 44.4  45 57 20.9   200.9
 LPGS  A 41510M001 P La Plata                       302  4  3.7 -34 54 24.2    29.9
-SITE/ID
+SOLUTION/STATISTICS
 VARIANCE FACTOR                    0.900000000000000
-SOLUTION/STATISTICS
+SOLUTION/ESTIMATE
*INDEX TYPE__ CODE PT SOLN _REF_EPOCH__ UNIT S __ESTIMATED VALUE____ _STD_DEV___
     1 STAX   ALGO  A    1 19:001:43200 m    2 0.918129363310430E+06 0.25113E-02
     2 STAY   ALGO  A    1 19:001:43200 m    2 -.434607125300000E+07 0.36000E-02
     3 STAZ   ALGO  A    1 19:001:43200 m    2 0.456197783800000E+07 0.49000E-02
     4 STAX   LPGS  A    1 19:001:43200 m    2 0.272440744600000E+07 0.10000E-02
     5 STAY   LPGS  A    1 19:001:43200 m    2 -.433998732700000E+07 0.20000E-02
     6 STAZ   LPGS  A    1 19:001:43200 m    2 -.362850432900000E+07 0.30000E-02
-SOLUTION/ESTIMATE
+SOLUTION/MATRIX_ESTIMATE L COVA
     1     1  0.6306627690000E-05
     2     1  0.1000000000000E-05  0.1296000000000E-04
     3     1  0.2000000000000E-05  0.3000000000000E-05  0.2401000000000E-04
     4     1  0.1000000000000E-07  0.0000000000000E+00  0.0000000000000E+00
     4     4  0.1000000000000E-05
     5     4  0.4000000000000E-06  0.4000000000000E-05
     6     4  0.5000000000000E-06  0.6000000000000E-06  0.9000000000000E-05
-SOLUTION/MATRIX_ESTIMATE L COVA
%ENDSNX
"""


def test_summary_takes_last_nrms_and_first_ambiguities():
    s = parsers.parse_summary(SUMMARY)
    assert s.nrms == pytest.approx(0.23542)
    assert (s.wl, s.nl) == (97.8, 85.4)
    assert s.overconstrained == []


def test_summary_reads_postfit_whatever_the_prefit_exponent():
    s = parsers.parse_summary(" Prefit nrms:  0.41331E-01    Postfit nrms: 0.23542D+00\n WL fixed 90.0% NL fixed 80.0%\n")
    assert s.nrms == pytest.approx(0.23542)


@pytest.mark.parametrize("text", ["", " Phase ambiguities WL fixed  97.8% NL fixed  85.4%\n",
                                  " Prefit nrms:  0.41331E+00    Postfit nrms: 0.23542E+00\n"])
def test_summary_without_required_lines_is_an_error(text):
    with pytest.raises(GamitParseError):
        parsers.parse_summary(text)


def test_overconstrained_sites_are_the_four_character_alias():
    text = SUMMARY + (" WARNING: 2 sites over constrained\n"
                      " GCR APTOL ALGO_GPS  N   0.0500    12.5000\n"
                      " GCR APTOL BRMU_GPS  U   0.0500    -3.2500\n"
                      " GCR APTOL XXXX_GPS  U   0.0500    99.0000\n")
    assert parsers.parse_summary(text).overconstrained == [("algo", 12.5), ("brmu", -3.25)]


def test_classify_output_transient_fatal_and_height():
    assert parsers.classify_output("FATAL :120101:1200 FIXDRV/dcheck: something\n", True).transient
    assert parsers.classify_output("Failure in sh_setup. -- sh_gamit terminated", False).transient
    assert parsers.classify_output("yr: Subscript out of range.", True).transient
    assert not parsers.classify_output("yr: Subscript out of range.", False).transient
    out = parsers.classify_output(" MODEL/open: Site ABCD\n MODEL/open: Site IGM1_GPS\n"
                                  "Geodetic height unreasonable\n", False)
    assert out.unreasonable_height_site == "igm1"
    fatal = parsers.classify_output("ok\n  FATAL: SOLVE/lcloos: bad\nok\n", True)
    assert fatal.fatals == ["FATAL: SOLVE/lcloos: bad"] and not fatal.transient


def test_lfile_shifts_only_updated_sites():
    before = (" IGM1_GPS   918129.363 -4346071.253  4561977.838 0.000 0.000 0.000 2024.0410\n"
              " LPGS_GPS  2724407.446 -4339987.327 -3628504.329 0.000 0.000 0.000 2024.0410\n")
    after = (" IGM1_GPS   918129.663 -4346071.253  4561977.438 0.000 0.000 0.000 2024.0410 Updated\n"
             " LPGS_GPS  2724408.446 -4339987.327 -3628504.329 0.000 0.000 0.000 2024.0410\n")
    shifts = parsers.lfile_shifts(before, after)
    assert list(shifts) == ["igm1"] and shifts["igm1"] == pytest.approx(0.5)


def test_sinex_sample():
    snx = parsers.parse_sinex(SINEX)
    assert snx.variance_factor == pytest.approx(0.9)
    algo = snx.sites["ALGO"]
    assert (algo.x, algo.y, algo.z) == (pytest.approx(918129.36331043), pytest.approx(-4346071.253),
                                        pytest.approx(4561977.838))
    assert (algo.sx, algo.sy, algo.sz) == (pytest.approx(0.0025113), pytest.approx(0.0036), pytest.approx(0.0049))
    assert algo.cxy == pytest.approx(1e-6) and algo.cxz == pytest.approx(2e-6) and algo.cyz == pytest.approx(3e-6)
    lpgs = snx.sites["LPGS"]
    assert (lpgs.cxy, lpgs.cxz, lpgs.cyz) == (pytest.approx(4e-7), pytest.approx(5e-7), pytest.approx(6e-7))
    assert snx.domes == {"ALGO": "40104M002", "LPGS": "41510M001"}


def test_sinex_tolerates_trailing_blanks_large_variance_factor_and_no_matrix():
    text = SINEX.replace("0.900000000000000", "12.5   ").replace("0.25113E-02", "0.25113E-02   ")
    text = text[:text.index("+SOLUTION/MATRIX_ESTIMATE")] + "%ENDSNX\n"
    snx = parsers.parse_sinex(text)
    assert snx.variance_factor == 12.5
    assert snx.sites["ALGO"].sx == pytest.approx(0.0025113)
    assert snx.sites["ALGO"].cxy is None


def test_sinex_skips_point_codes_other_than_a():
    text = SINEX.replace("     4 STAX   LPGS  A", "     4 STAX   LPGS  B")
    with pytest.raises(GamitParseError, match="LPGS"):
        parsers.parse_sinex(text)  # LPGS lost its X: an incomplete site is an error, not a silent zero


def test_sinex_corr_matrix_becomes_covariance():
    text = SINEX.replace("L COVA", "L CORR").replace("0.6306627690000E-05", "0.2511300000000E-02") \
        .replace("0.1296000000000E-04", "0.3600000000000E-02").replace("0.1000000000000E-05  0.3600", "0.5000000000000E+00  0.3600")
    snx = parsers.parse_sinex(text)
    assert snx.sites["ALGO"].cxy == pytest.approx(0.5 * 0.0025113 * 0.0036)


@pytest.mark.parametrize("text", ["", "hello", "%=SNX 2.01\n", SINEX.replace("+SOLUTION/ESTIMATE", "+SOLUTION/X")])
def test_sinex_without_estimates_is_an_error(text):
    with pytest.raises(GamitParseError):
        parsers.parse_sinex(text)


ZND = """\
ATM_ZEN X ABRA  1 2019  1  1  0  0    0.0123 +-   0.0021    2.3456
ATM_ZEN X ABRA  1 2019  1  1  0  0    0.0143 +-   0.0023    2.3476
ATM_ZEN X ABRA  1 2019  1  1  2  0   -0.0100 +-   0.0020    2.3000
ATM_ZEN X LPGS  1 2019  1  2  0  0    .0200 +-   0.0030    2.4000
 other line
"""


def test_atm_zen_lines_and_averaging():
    values = parsers.parse_atm_zen(ZND)
    assert len(values) == 4
    assert values[0] == parsers.ZtdValue("abra", dt.datetime(2019, 1, 1), 0.0123, 0.0021, 2.3456)
    assert values[3].adjust == pytest.approx(0.02)
    knots = parsers.average_ztd(values)
    first = knots[0]
    assert (first.alias, first.epoch) == ("abra", dt.datetime(2019, 1, 1))
    assert first.ztd == pytest.approx(2.3466) and first.sigma == pytest.approx(0.0022)
    assert first.model == pytest.approx(round(2.3466 - 0.0133, 4))
    assert len(knots) == 3


def test_atm_zen_midnight_of_next_day():
    v = parsers.parse_atm_zen("ATM_ZEN X ABRA  1 2019  1  1 24  0    0.0123 +-   0.0021    2.3456\n")
    assert v[0].epoch == dt.datetime(2019, 1, 2)


def test_atm_zen_impossible_date_is_an_error():
    with pytest.raises(GamitParseError):
        parsers.parse_atm_zen("ATM_ZEN X ABRA  1 2019 13 41  0  0    0.0123 +-   0.0021    2.3456\n")


_lines = st.lists(st.one_of(
    st.text(max_size=80),
    st.sampled_from(SINEX.splitlines() + SUMMARY.splitlines() + ZND.splitlines()),
    st.builds(lambda a, b: f"     {a} STA{b}   ALGO  A    1 19:001:43200 m    2 {a}.5E+06 0.1E-02",
              st.integers(-5, 10**6), st.sampled_from("XYZ")),
), max_size=40).map("\n".join)


@settings(max_examples=300, deadline=None)
@given(_lines)
def test_parsers_fail_only_with_their_own_error(text):
    for parse in (parsers.parse_summary, parsers.parse_sinex, parsers.parse_atm_zen):
        try:
            parse(text)
        except GamitParseError:
            pass
    parsers.classify_output(text, True)
    parsers.lfile_shifts(text, text)


@settings(max_examples=100, deadline=None)
@given(st.floats(0.01, 9.99), st.floats(-1e7, 1e7, allow_nan=False), st.floats(1e-4, 1.0))
def test_sinex_values_round_trip(vf, x, sigma):
    text = SINEX.replace("0.900000000000000", f"{vf:.15f}").replace(
        "0.918129363310430E+06 0.25113E-02", f"{x:.15E} {sigma:.5E}")
    snx = parsers.parse_sinex(text)
    assert math.isclose(snx.variance_factor, vf, rel_tol=1e-12)
    assert math.isclose(snx.sites["ALGO"].x, x, rel_tol=1e-14, abs_tol=1e-9)


# -- SINEX: every point code, GeoDE's point-A rule reported, reference epoch and SOLUTION/EPOCHS ---------------

IGS_WEEKLY = """\
%=SNX 2.02 IGS 24:107:00000 IGS 24:098:00000 24:104:86370 P 00012 2 S
+SOLUTION/EPOCHS
*CODE PT SOLN T _DATA_START_ __DATA_END__ _MEAN_EPOCH_
 ALGO  A    1 P 24:098:00000 24:104:86370 24:101:43185
 KOKB  B    2 P 24:098:00000 24:104:86370 24:101:43185
 TWIN  A    1 P 24:099:00000 24:104:86370 24:102:00000
 TWIN  B    1 P 24:099:00000 24:104:86370 24:102:00000
-SOLUTION/EPOCHS
+SOLUTION/ESTIMATE
*INDEX TYPE__ CODE PT SOLN _REF_EPOCH__ UNIT S __ESTIMATED VALUE____ _STD_DEV___
     1 STAX   ALGO  A    1 24:101:43200 m    2 0.918129363310430E+06 0.25113E-02
     2 STAY   ALGO  A    1 24:101:43200 m    2 -.434607125300000E+07 0.36000E-02
     3 STAZ   ALGO  A    1 24:101:43200 m    2 0.456197783800000E+07 0.49000E-02
     4 STAX   KOKB  B    2 24:101:43200 m    2 -.554391265000000E+07 0.10000E-02
     5 STAY   KOKB  B    2 24:101:43200 m    2 -.205430620000000E+07 0.20000E-02
     6 STAZ   KOKB  B    2 24:101:43200 m    2 0.238794800000000E+07 0.30000E-02
     7 STAX   TWIN  A    1 24:101:43200 m    2 0.100000000000000E+07 0.10000E-02
     8 STAY   TWIN  A    1 24:101:43200 m    2 -.500000000000000E+07 0.10000E-02
     9 STAZ   TWIN  A    1 24:101:43200 m    2 0.370000000000000E+07 0.10000E-02
    10 STAX   TWIN  B    1 24:101:43200 m    2 0.100000100000000E+07 0.10000E-02
    11 STAY   TWIN  B    1 24:101:43200 m    2 -.500000000000000E+07 0.10000E-02
    12 STAZ   TWIN  B    1 24:101:43200 m    2 0.370000000000000E+07 0.10000E-02
-SOLUTION/ESTIMATE
%ENDSNX
"""


def test_sinex_keeps_every_point_code_and_reports_the_point_a_rule():
    snx = parsers.parse_sinex(IGS_WEEKLY)
    assert sorted(snx.points) == [("ALGO", "A"), ("KOKB", "B"), ("TWIN", "A"), ("TWIN", "B")]
    assert snx.points[("TWIN", "B")].x == pytest.approx(1000001.0)  # two points of one site: both kept
    assert snx.sites["TWIN"].point == "A" and snx.sites["TWIN"].x == pytest.approx(1e6)
    assert snx.sites["KOKB"].point == "B"  # no point A: the site is not lost
    assert snx.notes == ["KOKB: no point A; its only point B used",
                         "TWIN: point A used; also in the file: point(s) B"]


def test_sinex_reference_epoch_header_span_and_solution_epochs():
    snx = parsers.parse_sinex(IGS_WEEKLY)
    assert snx.reference_epoch == dt.datetime(2024, 4, 10, 12)
    assert snx.sites["ALGO"].ref_epoch == dt.datetime(2024, 4, 10, 12)
    assert (snx.created, snx.start) == (dt.datetime(2024, 4, 16), dt.datetime(2024, 4, 7))
    assert snx.end == dt.datetime(2024, 4, 13, 23, 59, 30)
    assert snx.epochs[("KOKB", "B")] == parsers.SinexEpochs(dt.datetime(2024, 4, 7), dt.datetime(2024, 4, 13, 23, 59, 30),
                                                            dt.datetime(2024, 4, 10, 11, 59, 45), "2")
    mixed = IGS_WEEKLY.replace("     1 STAX   ALGO  A    1 24:101:43200", "     1 STAX   ALGO  A    1 24:100:00000")
    assert parsers.parse_sinex(mixed).reference_epoch is None  # estimates at several epochs: no common one


@pytest.mark.parametrize("damage, message", [
    (("0.25113E-02", "NaN"), "line 11: sigma of STAX of ALGO A 'NaN' is not a finite number"),
    (("0.918129363310430E+06", "0.9181x9E+06"), "line 11: STAX of ALGO A '0.9181x9E+06' is not a number"),
    (("24:101:43200 m    2 -.434607125300000E+07", "24:401:43200 m    2 -.434607125300000E+07"),
     "line 12: REF_EPOCH '24:401:43200' is not a SINEX time"),
    ((" KOKB  B    2 P 24:098:00000 24:104:86370", " KOKB  B    2 P"), "line 5: SOLUTION/EPOCHS needs"),
    (("     2 STAY   ALGO", "     1 STAY   ALGO"), "line 12: estimate index 1 is used twice"),
])
def test_sinex_damage_names_the_line(damage, message):
    with pytest.raises(GamitParseError, match=re.escape(message)):
        parsers.parse_sinex(IGS_WEEKLY.replace(*damage, 1))


def test_sinex_two_solutions_of_one_point_are_reported_not_mixed():
    text = IGS_WEEKLY.replace("    10 STAX   TWIN  B    1", "    10 STAX   TWIN  B    2")
    snx = parsers.parse_sinex(text)
    assert ("TWIN", "B") not in snx.points
    assert "TWIN point B: 2 solutions (1, 2) in one file: not used" in snx.notes


_SNX_BODY = IGS_WEEKLY.splitlines()[1:] + SINEX.splitlines()[1:]


@settings(max_examples=300, deadline=None)
@given(st.permutations(_SNX_BODY).map(lambda ls: ls[:40]), st.lists(st.tuples(
    st.integers(0, 39), st.integers(0, 80), st.text(st.characters(max_codepoint=0x7f), max_size=10)), max_size=4))
def test_sinex_parser_on_shuffled_and_damaged_real_lines_raises_only_its_own_error(lines, damage):
    lines = list(lines)
    for i, at, junk in damage:
        if i < len(lines):
            lines[i] = lines[i][:at] + junk + lines[i][at + len(junk):]
    try:
        parsers.parse_sinex("\n".join([IGS_WEEKLY.splitlines()[0], *lines]))
    except GamitParseError:
        pass
