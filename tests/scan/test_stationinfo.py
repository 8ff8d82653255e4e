"""GAMIT station.info: lossless round trip (AntDAZ included), property tests, GeoDE's overlap rules."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from geode.stationinfo import (StationInfoError, StationInfoRecord, format_station_info, insert_record,
                               parse_station_info, records_for)
from geode.stations import StationRef

GEODE_LINE = (" LPGS  La Plata            2015 001 00 00 00  9999 999 00 00 00   0.0000  DHARP   0.0000   0.0000  "
              "TRIMBLE NETR9         5.45                  5.45   5214K81234            TRM59800.00      SCIS   "
              "1440911111           123.5  installed by IGN")
OLD_LINE = GEODE_LINE[:214] + "old layout comment"

REC = StationInfoRecord("lpgs", dt.datetime(2015, 1, 1), None, "La Plata", 0.0, "DHARP", 0.0, 0.0,
                        "TRIMBLE NETR9", "5.45", "5.45", "5214K81234", "TRM59800.00", "SCIS", "1440911111", 123.5,
                        "installed by IGN")


def test_reads_a_station_info_line_field_by_field():
    assert parse_station_info("*SITE header\n" + GEODE_LINE + "\n") == [REC]


def test_pre_azimuth_layout_reads_comments_from_column_215():
    (rec,) = parse_station_info(OLD_LINE)
    assert rec.antenna_daz == 0.0 and rec.comments == "old layout comment"


def test_round_trip_is_lossless_including_the_azimuth():
    recs = [REC, REC.with_(date_start=dt.datetime(2010, 5, 6, 7, 8, 9), date_end=dt.datetime(2014, 12, 31, 23, 59, 59),
                           antenna_daz=359.9, antenna_height=1.2345, antenna_north=-0.0012, comments="")]
    text = format_station_info(recs)
    assert parse_station_info(text) == recs
    assert format_station_info(parse_station_info(text)) == text
    assert GEODE_LINE in text  # the azimuth sits in the columns the reader reads


def test_values_too_wide_for_their_columns_are_refused():
    with pytest.raises(StationInfoError, match="receiver type"):
        format_station_info([REC.with_(receiver_code="A" * 21)])


def test_bad_lines_name_the_line():
    with pytest.raises(StationInfoError, match="line 2: session start"):
        parse_station_info("* header\n" + GEODE_LINE.replace("2015 001", "2015 4x1"))


_text = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=12).map(str.strip)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.builds(
    StationInfoRecord, station_code=st.from_regex(r"[a-z0-9]{4}", fullmatch=True),
    date_start=st.datetimes(dt.datetime(1990, 1, 1), dt.datetime(2030, 1, 1)).map(lambda d: d.replace(microsecond=0)),
    date_end=st.none() | st.datetimes(dt.datetime(1990, 1, 1), dt.datetime(2030, 1, 1)).map(
        lambda d: d.replace(microsecond=0)),
    station_name=_text, antenna_height=st.integers(0, 999999).map(lambda v: v / 10000),
    height_code=st.sampled_from(["DHARP", "DHPAB", "SLBGP"]),
    antenna_north=st.integers(-99999, 99999).map(lambda v: v / 10000),
    antenna_east=st.integers(-99999, 99999).map(lambda v: v / 10000), receiver_code=_text, receiver_vers=_text,
    receiver_firmware=_text.map(lambda s: s[:5].strip()), receiver_serial=_text, antenna_code=_text,
    radome_code=st.sampled_from(["NONE", "SCIS", "LEIT"]), antenna_serial=_text,
    antenna_daz=st.integers(0, 3600).map(lambda v: v / 10), comments=_text), max_size=4))
def test_round_trip_property(records):
    assert parse_station_info(format_station_info(records)) == records


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=400) | st.lists(st.text(alphabet=" 0123456789.-ABCxyz", min_size=70, max_size=260),
                                        max_size=3).map("\n".join))
def test_parser_raises_only_its_own_error(text):
    try:
        parse_station_info(text)
    except StationInfoError:
        pass


# -- overlap rules, on the real database ----------------------------------------------------------------------


@pytest.fixture
def station(db):
    db.execute('INSERT INTO networks ("NetworkCode") VALUES (%s)', ("igs",))
    db.execute('INSERT INTO stations ("NetworkCode", "StationCode", "StationName") VALUES (%s, %s, %s)',
               ("igs", "lpgs", "La Plata"))
    return StationRef("igs", "lpgs")


def _d(y, doy):
    return dt.datetime(y, 1, 1) + dt.timedelta(days=doy - 1)


def test_overlap_rules(db, station):
    a = REC.with_(date_start=_d(2020, 1), date_end=None)
    assert insert_record(db, station, a) == "inserted"
    assert insert_record(db, station, a) == "unchanged"
    # a new open record closes the open last one the second before it starts
    b = REC.with_(date_start=_d(2021, 1), receiver_serial="NEW")
    assert insert_record(db, station, b) == "closed previous"
    recs = records_for(db, station)
    assert recs[0].date_end == _d(2021, 1) - dt.timedelta(seconds=1) and recs[1].date_end is None
    # same equipment before the first record: the first record starts earlier
    assert insert_record(db, station, a.with_(date_start=_d(2019, 1), date_end=_d(2022, 1))) == "extended"
    assert records_for(db, station)[0].date_start == _d(2019, 1)
    # other equipment before everything: inserted, ending where the first starts
    c = REC.with_(date_start=_d(2018, 1), date_end=_d(2030, 1), receiver_code="LEICA GR50")
    assert insert_record(db, station, c) == "inserted before"
    assert records_for(db, station)[0].date_end == _d(2019, 1) - dt.timedelta(seconds=1)
    # overlapping a closed record in the middle: refused, nothing changes
    before = records_for(db, station)
    with pytest.raises(StationInfoError, match="overlaps"):
        insert_record(db, station, REC.with_(date_start=_d(2020, 100), date_end=_d(2020, 200)))
    with pytest.raises(StationInfoError, match="already exists"):
        insert_record(db, station, a.with_(date_start=_d(2019, 1), antenna_serial="X"))
    assert records_for(db, station) == before


def test_cli_loads_and_exports_station_info(cli, db, station, tmp_path):
    f = tmp_path / "station.info"
    f.write_text("* my stations\n" + GEODE_LINE + "\n" + GEODE_LINE.replace("LPGS", "NOPE") + "\n")
    r = cli("scan", "stninfo", str(f), "--json")
    assert r.exit_code == 1
    assert "station nope is not in the database" in r.stderr
    assert records_for(db, station) == [REC]
    again = cli("scan", "stninfo", "-", "--json", input=GEODE_LINE + "\n")  # stdin; already there
    assert again.exit_code == 0 and [o["status"] for o in json.loads(again.stdout)] == ["unchanged"]
    out = cli("scan", "stninfo", "--export", "igs.lpgs")
    assert out.exit_code == 0 and GEODE_LINE in out.stdout
    assert parse_station_info(out.stdout) == [REC]


_REAL = [GEODE_LINE, OLD_LINE, "*SITE  Station Name      Session Start", "",
         format_station_info([REC.with_(antenna_height=1.5, date_end=dt.datetime(2020, 1, 1))]).splitlines()[1]]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_REAL), max_size=6), st.lists(st.tuples(
    st.integers(0, 5), st.integers(0, 240), st.text(st.characters(max_codepoint=0x7f), max_size=10) | st.sampled_from(
        ["nan", "inf", "-1e999", "9999 999", "  ", "\x00"])), max_size=4), st.integers(0, 260))
def test_parser_on_shuffled_damaged_and_cut_real_lines_raises_only_its_own_error(lines, damage, cut):
    lines = list(lines)
    for i, at, junk in damage:
        if i < len(lines):
            lines[i] = lines[i][:at] + junk + lines[i][at + len(junk):]
    if lines:
        lines[-1] = lines[-1][:cut]
    try:
        for rec in parse_station_info("\n".join(lines)):
            assert rec.antenna_code is not None and rec.date_start is not None
    except StationInfoError:
        pass


def test_a_truncated_record_is_an_error_not_zeros():
    with pytest.raises(StationInfoError, match="line 1: record ends at column 96, before the antenna type"):
        parse_station_info(GEODE_LINE[:96])
