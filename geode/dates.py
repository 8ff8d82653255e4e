"""GNSS days and the date syntax of the command line.

A ``GnssDate`` is one whole UTC day (00:00 to 24:00), stored as year + day of year. Every other
representation (calendar date, GPS week/weekday, MJD, fractional year) is derived from it with the
full Gregorian calendar, and the fractional year is always the middle of the day, so the same day
gives the same ``fyear`` everywhere.

Dates given as text (``parse_date``) use one of the forms in ``DATE_FORMS_HELP``; the separator
decides the form, so a dot always means a fractional year: ``2024.001`` is a moment of January 1st
(0.001 year = 8.8 hours), never "day of year 1" -- day of year is written ``2024_001``.
"""

from __future__ import annotations

import datetime as _dt
import math
import re
from dataclasses import dataclass
from typing import Sequence

from .errors import UsageError

GPS_EPOCH = _dt.date(1980, 1, 6)  # GPS week 0, day 0 (a Sunday)
GPS_EPOCH_MJD = 44244
_MJD_EPOCH_ORDINAL = _dt.date(1858, 11, 17).toordinal()
MIN_YEAR, MAX_YEAR = 1900, 2199  # generous: station histories predate GPS; anything else is a typo

DATE_FORMS_HELP = (
    "Dates: yyyy/mm/dd or yyyy-mm-dd (calendar, e.g. 2024/02/29), yyyy_ddd (day of year, e.g. 2024_060), "
    "wwww-d (GPS week and weekday 0=Sunday..6, e.g. 2303-4) or yyyy.yyyy (fractional year, e.g. 2024.16). "
    "A dot always means a fractional year: 2024.001 is January 1st, not day of year 1 (write 2024_001). "
    "One date selects that single day; two dates select every day from the first to the second, inclusive."
)

_FORMS = "yyyy/mm/dd, yyyy-mm-dd, yyyy_ddd, wwww-d (GPS week-day) or yyyy.yyyy (fractional year)"


class DateError(UsageError):
    """A date that cannot be understood or does not exist; the message names the text."""


def is_leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def days_in_year(year: int) -> int:
    return 366 if is_leap(year) else 365


def doy_date(year: int, doy: int) -> _dt.date:
    """The calendar date of a day of year, without GnssDate's checks (a file name may carry any year)."""
    return _dt.date(year, 1, 1) + _dt.timedelta(days=doy - 1)


def _check_year(year: int, text: object) -> None:
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise DateError(f"invalid date {text!r}: year {year} is outside {MIN_YEAR}..{MAX_YEAR}")


@dataclass(frozen=True, order=True)
class GnssDate:
    """One GNSS day (00:00 UTC to 24:00). Ordered, hashable, and JSON-able through geode.jobs.codec."""

    year: int
    doy: int

    def __post_init__(self) -> None:
        if type(self.year) is not int or type(self.doy) is not int:  # bool/float would break arithmetic
            raise DateError(f"invalid date {self.year!r} {self.doy!r}: year and day of year must be integers")
        _check_year(self.year, f"{self.year} {self.doy}")
        if not 1 <= self.doy <= days_in_year(self.year):
            raise DateError(f"invalid date '{self.year} {self.doy:03d}': day of year must be "
                            f"1..{days_in_year(self.year)} in {self.year}")

    # --- constructors -------------------------------------------------------------------------------------------

    @classmethod
    def from_date(cls, date: _dt.date) -> "GnssDate":
        return cls(date.year, date.timetuple().tm_yday)

    @classmethod
    def from_ymd(cls, year: int, month: int, day: int) -> "GnssDate":
        text = f"{year}/{month}/{day}"
        _check_year(year, text)
        try:
            return cls.from_date(_dt.date(year, month, day))
        except ValueError as exc:  # month 13, Feb 30, ...
            raise DateError(f"invalid date {text!r}: {exc}") from None

    @classmethod
    def from_doy(cls, year: int, doy: int) -> "GnssDate":
        return cls(year, doy)

    @classmethod
    def from_gps(cls, week: int, wkday: int) -> "GnssDate":
        if week < 0 or not 0 <= wkday <= 6:
            raise DateError(f"invalid date '{week}-{wkday}': GPS week must be >= 0 and weekday 0..6 (0 = Sunday)")
        return cls.from_mjd(GPS_EPOCH_MJD + 7 * week + wkday)

    @classmethod
    def from_mjd(cls, mjd: int) -> "GnssDate":
        ordinal = _MJD_EPOCH_ORDINAL + int(mjd)
        if not _dt.date(MIN_YEAR, 1, 1).toordinal() <= ordinal <= _dt.date(MAX_YEAR, 12, 31).toordinal():
            raise DateError(f"invalid date 'MJD {mjd}': outside the years {MIN_YEAR}..{MAX_YEAR}")
        return cls.from_date(_dt.date.fromordinal(ordinal))

    @classmethod
    def from_fyear(cls, fyear: float) -> "GnssDate":
        """The day containing the instant ``fyear`` (inverse of ``.fyear``, which is mid-day)."""
        if not math.isfinite(fyear):
            raise DateError(f"invalid date {fyear!r}: not a finite fractional year")
        year = math.floor(fyear)
        _check_year(year, str(fyear))
        diy = days_in_year(year)
        # +1e-7 day (9 ms): an instant at exactly 00:00 must not fall into the previous day by float rounding;
        # the clamp guards the round-up at the end of the year
        doy = min(math.floor((fyear - year) * diy + 1e-7) + 1, diy)
        return cls(year, doy)

    @classmethod
    def from_datetime(cls, when: _dt.datetime | _dt.date) -> "GnssDate":
        """The UTC day of an instant; naive datetimes are taken as UTC."""
        if isinstance(when, _dt.datetime):
            if when.tzinfo is not None:
                when = when.astimezone(_dt.timezone.utc)
            when = when.date()
        _check_year(when.year, when.isoformat())
        return cls.from_date(when)

    @classmethod
    def today(cls) -> "GnssDate":
        return cls.from_datetime(_dt.datetime.now(_dt.timezone.utc))

    # --- representations ----------------------------------------------------------------------------------------

    @property
    def date(self) -> _dt.date:
        return doy_date(self.year, self.doy)

    @property
    def month(self) -> int:
        return self.date.month

    @property
    def day(self) -> int:
        return self.date.day

    @property
    def mjd(self) -> int:
        return self.date.toordinal() - _MJD_EPOCH_ORDINAL

    @property
    def gpsweek(self) -> int:
        return (self.mjd - GPS_EPOCH_MJD) // 7  # negative before 1980-01-06

    @property
    def gpswkday(self) -> int:
        return (self.mjd - GPS_EPOCH_MJD) % 7

    @property
    def fyear(self) -> float:
        """Middle of the day as a fractional year: year + (doy - 0.5) / days_in_year."""
        return self.year + (self.doy - 0.5) / days_in_year(self.year)

    @property
    def datetime(self) -> _dt.datetime:
        """00:00 of the day (naive, UTC)."""
        return _dt.datetime.combine(self.date, _dt.time())

    @property
    def iso(self) -> str:
        return self.date.isoformat()

    @property
    def wwww(self) -> str:
        return f"{self.gpsweek:04d}"

    @property
    def wwwwd(self) -> str:
        return f"{self.gpsweek:04d}{self.gpswkday}"

    @property
    def yyyy_ddd(self) -> str:
        return f"{self.year:04d}_{self.doy:03d}"

    @property
    def ddd(self) -> str:
        return f"{self.doy:03d}"

    @property
    def year2d(self) -> str:
        return f"{self.year % 100:02d}"

    def template_values(self) -> dict[str, str]:
        """The date variables of path templates (product archive and remote sources):
        year doy gpsweek gpswkday year2d month day."""
        return {"year": f"{self.year:04d}", "doy": self.ddd, "gpsweek": self.wwww, "gpswkday": str(self.gpswkday),
                "year2d": self.year2d, "month": f"{self.month:02d}", "day": f"{self.day:02d}"}

    def __str__(self) -> str:
        return f"{self.year:04d} {self.doy:03d}"

    # --- arithmetic ---------------------------------------------------------------------------------------------

    def __add__(self, days: int) -> "GnssDate":
        if isinstance(days, bool) or not isinstance(days, int):
            return NotImplemented
        return GnssDate.from_mjd(self.mjd + days)

    __radd__ = __add__

    def __sub__(self, other):
        if isinstance(other, GnssDate):
            return self.mjd - other.mjd
        if isinstance(other, bool) or not isinstance(other, int):
            return NotImplemented
        return GnssDate.from_mjd(self.mjd - other)


def fyear_of_datetime(when: _dt.datetime) -> float:
    """Exact fractional year of an instant (naive = UTC): year + elapsed seconds / seconds in that year."""
    if when.tzinfo is not None:
        when = when.astimezone(_dt.timezone.utc).replace(tzinfo=None)
    start = _dt.datetime(when.year, 1, 1)
    return when.year + (when - start).total_seconds() / (days_in_year(when.year) * 86400.0)


# --- parsing --------------------------------------------------------------------------------------------------------

_FYEAR = re.compile(r"(\d{4})\.(\d+)", re.ASCII)
_DOY = re.compile(r"(\d{4})_(\d{1,3})", re.ASCII)
_YMD = re.compile(r"(\d{4})([/-])(\d{1,2})\2(\d{1,2})", re.ASCII)
_GPS = re.compile(r"(\d{1,4})-(\d)", re.ASCII)


def parse_date(text: str) -> GnssDate:
    """One date in any of the forms of ``DATE_FORMS_HELP``; ``DateError`` otherwise."""
    if not isinstance(text, str):
        raise DateError(f"invalid date {text!r}: use {_FORMS}")
    s = text.strip()
    try:
        if m := _FYEAR.fullmatch(s):
            return GnssDate.from_fyear(float(s))
        if m := _DOY.fullmatch(s):
            return GnssDate(int(m[1]), int(m[2]))
        if m := _YMD.fullmatch(s):
            return GnssDate.from_ymd(int(m[1]), int(m[3]), int(m[4]))
        if m := _GPS.fullmatch(s):
            return GnssDate.from_gps(int(m[1]), int(m[2]))
    except DateError as exc:
        # name the text as the user typed it, then what was wrong with it
        raise DateError(f"invalid date {text!r}: {str(exc).split(': ', 1)[-1]}") from None
    raise DateError(f"invalid date {text!r}: use {_FORMS}")


def parse_date_range(texts: Sequence[str]) -> tuple[GnssDate, GnssDate]:
    """One date (that single day) or a start and an end date (inclusive, start <= end)."""
    if isinstance(texts, str):
        texts = [texts]
    texts = list(texts or [])
    if not 1 <= len(texts) <= 2:
        raise DateError(f"give one date or a start and an end date, not {len(texts)}: use {_FORMS}")
    start = parse_date(texts[0])
    end = parse_date(texts[-1])
    if end < start:
        raise DateError(f"invalid date range {texts[0]!r} .. {texts[1]!r}: the end ({end.iso}) is before "
                        f"the start ({start.iso})")
    return start, end


def date_range(start: GnssDate, end: GnssDate) -> list[GnssDate]:
    """Every day from ``start`` to ``end``, both included (empty if end < start)."""
    return [GnssDate.from_mjd(m) for m in range(start.mjd, end.mjd + 1)]
