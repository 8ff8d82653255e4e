"""GNSS days: conversions against known values, round trips, and the date syntax of the command line."""

import datetime as dt

import pytest
from hypothesis import given, settings, strategies as st, HealthCheck

from geode.dates import (DATE_FORMS_HELP, DateError, GnssDate, date_range, fyear_of_datetime, parse_date,
                         parse_date_range)
from geode.errors import ExitCode, UsageError

days = st.dates(min_value=dt.date(1980, 1, 6), max_value=dt.date(2100, 12, 31))
fuzz = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def test_leap_day_2024_in_every_representation():
    d = GnssDate.from_ymd(2024, 2, 29)
    assert d == GnssDate(2024, 60) == GnssDate.from_doy(2024, 60)
    assert (d.gpsweek, d.gpswkday, d.mjd) == (2303, 4, 60369)
    assert (d.wwww, d.wwwwd, d.yyyy_ddd, d.year2d, str(d)) == ("2303", "23034", "2024_060", "24", "2024 060")
    assert (d.month, d.day, d.date) == (2, 29, dt.date(2024, 2, 29))
    assert d.datetime == dt.datetime(2024, 2, 29, 0, 0)
    assert d.fyear == pytest.approx(2024 + 59.5 / 366)
    assert GnssDate.from_gps(2303, 4) == GnssDate.from_mjd(60369) == GnssDate.from_fyear(d.fyear) == d


def test_reference_epochs():
    assert GnssDate.from_ymd(2000, 1, 1).mjd == 51544
    gps0 = GnssDate.from_gps(0, 0)
    assert gps0.date == dt.date(1980, 1, 6) and gps0.mjd == 44244 and gps0.wwwwd == "00000"
    with pytest.raises(DateError, match="outside the years"):  # MJD 0 is 1858-11-17, outside 1900..2199
        GnssDate.from_mjd(0)
    assert GnssDate.from_ymd(1999, 8, 22).wwwwd == "10240"  # first GPS week rollover (week 1024)


def test_full_gregorian_leap_rule():
    assert GnssDate(2000, 366).date == dt.date(2000, 12, 31)  # divisible by 400: leap
    with pytest.raises(DateError, match="1..365 in 2100"):  # divisible by 100: not leap (GeoDE's pyDate said it was)
        GnssDate(2100, 366)
    assert GnssDate.from_ymd(2100, 3, 1).doy == 60


def test_fyear_is_mid_day_and_consistent():
    assert GnssDate(2023, 1).fyear == pytest.approx(2023 + 0.5 / 365)
    assert GnssDate(2023, 365).fyear < 2024
    assert fyear_of_datetime(dt.datetime(2024, 2, 29, 12)) == pytest.approx(GnssDate(2024, 60).fyear)
    assert fyear_of_datetime(dt.datetime(2024, 1, 1)) == 2024.0
    aware = dt.datetime(2024, 1, 1, 3, tzinfo=dt.timezone(dt.timedelta(hours=3)))  # = 2024-01-01 00:00 UTC
    assert fyear_of_datetime(aware) == 2024.0
    assert GnssDate.from_fyear(2024.0) == GnssDate(2024, 1)
    assert GnssDate.from_fyear(2024.999999999) == GnssDate(2024, 366)


def test_arithmetic_and_order():
    d = GnssDate(2024, 366)
    assert d + 1 == GnssDate(2025, 1) and 1 + d == GnssDate(2025, 1)
    assert GnssDate(2025, 1) - 1 == d
    assert GnssDate(2025, 1) - GnssDate(2024, 1) == 366
    assert GnssDate(2023, 365) < GnssDate(2024, 1) < GnssDate(2024, 2)
    assert sorted([GnssDate(2024, 2), GnssDate(2023, 300)])[0] == GnssDate(2023, 300)
    with pytest.raises(TypeError):
        d + 1.5


def test_from_datetime_uses_utc_day():
    late = dt.datetime(2024, 2, 28, 22, tzinfo=dt.timezone(dt.timedelta(hours=-3)))  # 2024-02-29 01:00 UTC
    assert GnssDate.from_datetime(late) == GnssDate(2024, 60)
    assert GnssDate.from_datetime(dt.datetime(2024, 2, 29, 23, 59)) == GnssDate(2024, 60)
    assert GnssDate.today() == GnssDate.from_date(dt.datetime.now(dt.timezone.utc).date())


@pytest.mark.parametrize("text", ["2024/02/29", "2024/2/29", "2024-02-29", "2024_060", "2024_60", "2303-4",
                                  " 2024_060 ", "2024.163"])
def test_parse_every_form(text):
    assert parse_date(text) == GnssDate(2024, 60)


def test_dot_always_means_fractional_year():
    assert parse_date("2024.001") == GnssDate(2024, 1)  # 0.001 year = 8.8 h into January 1st, not doy 1
    assert parse_date("2024.1") == GnssDate(2024, 37)  # 0.1 * 366 = 36.6 days -> day 37, not doy 1 or 100
    assert parse_date("2024.5") == GnssDate.from_ymd(2024, 7, 2)
    assert "2024.001" in DATE_FORMS_HELP and "2024_001" in DATE_FORMS_HELP


@pytest.mark.parametrize("text, reason", [
    ("2024_367", "1..366 in 2024"), ("2023_366", "1..365 in 2023"), ("2024_000", "1..366"),
    ("2023/02/29", "day is out of range"), ("2024/13/01", "month must be in 1..12"),
    ("2303-7", "weekday 0..6"), ("1850_001", "outside 1900..2199"), ("2024", "yyyy_ddd"),
    ("tomorrow", "yyyy/mm/dd"), ("", "yyyy.yyyy"), ("2024/02-29", "wwww-d"), ("２０２４_060", "yyyy_ddd"),
])
def test_bad_dates_are_one_clear_usage_error(text, reason):
    with pytest.raises(DateError) as err:
        parse_date(text)
    message = str(err.value)
    assert repr(text) in message and reason in message and "\n" not in message
    assert isinstance(err.value, UsageError) and err.value.exit_code == ExitCode.USAGE


def test_date_ranges():
    assert parse_date_range(["2024_060"]) == (GnssDate(2024, 60), GnssDate(2024, 60))
    start, end = parse_date_range(["2024/12/30", "2025_002"])
    assert [d.yyyy_ddd for d in date_range(start, end)] == ["2024_365", "2024_366", "2025_001", "2025_002"]
    assert date_range(GnssDate(2024, 2), GnssDate(2024, 1)) == []
    with pytest.raises(DateError, match="before the start"):
        parse_date_range(["2024_060", "2024_059"])
    for wrong in ([], ["2024_001", "2024_002", "2024_003"]):
        with pytest.raises(DateError, match="one date or a start and an end"):
            parse_date_range(wrong)


@fuzz
@given(days)
def test_round_trips(day):
    d = GnssDate.from_date(day)
    assert d.date == day
    assert GnssDate.from_ymd(d.year, d.month, d.day) == d
    assert GnssDate.from_doy(d.year, d.doy) == d
    assert GnssDate.from_gps(d.gpsweek, d.gpswkday) == d
    assert GnssDate.from_mjd(d.mjd) == d
    assert GnssDate.from_fyear(d.fyear) == d
    assert GnssDate.from_fyear(fyear_of_datetime(d.datetime)) == d  # start of day stays in the day
    assert GnssDate.from_fyear(fyear_of_datetime(d.datetime + dt.timedelta(hours=23, minutes=59))) == d
    assert d.mjd == 44244 + 7 * d.gpsweek + d.gpswkday
    assert parse_date(d.yyyy_ddd) == parse_date(f"{d.year}/{d.month}/{d.day}") == parse_date(
        f"{d.gpsweek}-{d.gpswkday}") == parse_date(f"{d.fyear:.6f}") == d
    assert (d + 1) - d == 1 and (d + 1) > d


@fuzz
@given(st.text(max_size=20) | st.from_regex(r"\A[0-9]{1,5}[./_-][0-9]{1,4}([/-][0-9]{1,3})?\Z"))
def test_parse_date_never_raises_anything_but_date_error(text):
    try:
        result = parse_date(text)
    except DateError as exc:
        assert "\n" not in str(exc)
    else:
        assert isinstance(result, GnssDate)
