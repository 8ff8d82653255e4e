"""GAMIT station.info: fixed-width parser and writer (lossless round trip) and GeoDE's insert/overlap rules.

GeoDE wrote the antenna azimuth (AntDAZ) two columns right of where it read it, so a round trip truncated
the azimuth and polluted the comments; here the writer and the reader share one column table.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from dataclasses import dataclass, replace
from typing import Iterable

from .errors import BadInput

log = logging.getLogger("geode.stationinfo")

OPEN_END = "9999 999 00 00 00"

# (name, start, end) 0-based slices; the writer pads each field to exactly this width
COLUMNS = (
    ("station_code", 1, 7), ("station_name", 7, 25), ("date_start", 25, 44), ("date_end", 44, 63),
    ("antenna_height", 63, 72), ("height_code", 72, 79), ("antenna_north", 79, 88), ("antenna_east", 88, 97),
    ("receiver_code", 97, 119), ("receiver_vers", 119, 141), ("receiver_firmware", 141, 148),
    ("receiver_serial", 148, 170), ("antenna_code", 170, 187), ("radome_code", 187, 194),
    ("antenna_serial", 194, 214), ("antenna_daz", 214, 222),
)
COMMENTS_AT = 222

HEADER = ("*SITE  Station Name      Session Start      Session Stop       Ant Ht   HtCod  Ant N    Ant E    "
          "Receiver Type         Vers                  SwVer  Receiver SN           Antenna Type     Dome   "
          "Antenna SN          AntDAZ  Comments")


class StationInfoError(BadInput):
    """A station.info text or record that cannot be read or stored; the message names the line or record."""


@dataclass(frozen=True)
class StationInfoRecord:
    station_code: str
    date_start: dt.datetime
    date_end: dt.datetime | None = None  # None: open (still installed)
    station_name: str = ""
    antenna_height: float = 0.0
    height_code: str = "DHARP"
    antenna_north: float = 0.0
    antenna_east: float = 0.0
    receiver_code: str = ""
    receiver_vers: str = ""
    receiver_firmware: str = ""
    receiver_serial: str = ""
    antenna_code: str = ""
    radome_code: str = "NONE"
    antenna_serial: str = ""
    antenna_daz: float = 0.0
    comments: str = ""

    def covers(self, when: dt.datetime) -> bool:
        return self.date_start <= when and (self.date_end is None or when <= self.date_end)

    def same_equipment(self, other: "StationInfoRecord") -> bool:
        keys = ("receiver_code", "receiver_serial", "antenna_code", "antenna_serial", "antenna_height",
                "antenna_north", "antenna_east", "height_code", "radome_code")
        return all(getattr(self, k) == getattr(other, k) for k in keys)

    def with_(self, **changes) -> "StationInfoRecord":
        return replace(self, **changes)


# -- text ----------------------------------------------------------------------------------------------------------


def _parse_date(text: str, what: str, number: int) -> dt.datetime | None:
    parts = text.split()
    if len(parts) != 5:
        raise StationInfoError(f"line {number}: {what} {text.strip()!r} is not 'YYYY DDD HH MM SS'")
    try:
        year, doy, hour, minute, sec = (int(p) for p in parts)
    except ValueError:
        raise StationInfoError(f"line {number}: {what} {text.strip()!r} is not 'YYYY DDD HH MM SS'") from None
    if year == 9999:
        return None
    if not 1900 <= year <= 2200 or not 1 <= doy <= 366 or not (0 <= minute <= 59 and 0 <= sec <= 60 and hour >= 0):
        raise StationInfoError(f"line {number}: {what} {text.strip()!r} is out of range")
    if hour > 23:  # GAMIT writes 24 00 00 or 99 99 99 for the end of a day
        hour, minute, sec = 23, 59, 59
    try:
        day = dt.datetime(year, 1, 1) + dt.timedelta(days=doy - 1)
        if day.year != year:
            raise ValueError
        return day.replace(hour=hour, minute=minute, second=min(sec, 59))
    except (ValueError, OverflowError):
        raise StationInfoError(f"line {number}: {what} {text.strip()!r} is not a date") from None


def _float(text: str, what: str, number: int) -> float:
    try:
        value = float(text)
    except ValueError:
        raise StationInfoError(f"line {number}: {what} {text.strip()!r} is not a number") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise StationInfoError(f"line {number}: {what} {text.strip()!r} is not a number")
    return value


def parse_line(line: str, number: int = 1) -> StationInfoRecord:
    if not line.startswith(" "):
        raise StationInfoError(f"line {number}: not a station.info record (it must start with a space)")
    if len(line.rstrip()) <= COLUMNS[-4][1]:  # the record must reach its antenna type (column 171)
        raise StationInfoError(f"line {number}: record ends at column {len(line.rstrip())}, before the antenna type "
                               f"(columns {COLUMNS[-4][1] + 1}-{COLUMNS[-4][2]}): truncated?")
    f = {name: line[a:b] for name, a, b in COLUMNS}
    code = f["station_code"].strip()
    if not code:
        raise StationInfoError(f"line {number}: no station code in columns 2-7")
    daz_text = f["antenna_daz"].strip()
    comments_at = COMMENTS_AT
    try:
        daz = float(daz_text) if daz_text else 0.0
        if daz != daz or not 0 <= daz <= 360:
            raise ValueError
    except ValueError:  # the pre-AntDAZ layout: comments start where the azimuth would be
        daz, comments_at = 0.0, 214
    return StationInfoRecord(
        station_code=code.lower(), station_name=f["station_name"].strip(),
        date_start=_parse_date(f["date_start"], "session start", number) or _no_start(number),
        date_end=_parse_date(f["date_end"], "session stop", number) if f["date_end"].strip() else None,
        antenna_height=_float(f["antenna_height"], "antenna height", number),
        height_code=f["height_code"].strip() or "DHARP",
        antenna_north=_float(f["antenna_north"].strip() or "0", "antenna north", number),
        antenna_east=_float(f["antenna_east"].strip() or "0", "antenna east", number),
        receiver_code=f["receiver_code"].strip(), receiver_vers=f["receiver_vers"].strip(),
        receiver_firmware=f["receiver_firmware"].strip(), receiver_serial=f["receiver_serial"].strip(),
        antenna_code=f["antenna_code"].strip(), radome_code=f["radome_code"].strip() or "NONE",
        antenna_serial=f["antenna_serial"].strip(), antenna_daz=daz, comments=line[comments_at:].strip())


def _no_start(number: int) -> dt.datetime:
    raise StationInfoError(f"line {number}: the session start cannot be 9999 (open)")


def parse_station_info(text: str) -> list[StationInfoRecord]:
    """Every record of a station.info text; '*' comment/header lines and blank lines are skipped."""
    records = []
    for number, line in enumerate(text.splitlines(), 1):
        line = line.rstrip("\r\n")
        if not line.strip() or line.lstrip().startswith("*"):
            continue
        records.append(parse_line(line, number))
    return records


def _date_text(when: dt.datetime | None) -> str:
    if when is None:
        return OPEN_END
    doy = when.timetuple().tm_yday
    return f"{when.year:4d} {doy:03d} {when.hour:02d} {when.minute:02d} {when.second:02d}"


def _fit(value: str, width: int, what: str, rec: StationInfoRecord) -> str:
    text = f"  {value}"
    if len(text) > width:
        raise StationInfoError(f"{rec.station_code} {_date_text(rec.date_start)}: {what} {value!r} is longer than "
                               f"{width - 2} characters, station.info cannot hold it")
    return text.ljust(width)


def format_record(rec: StationInfoRecord) -> str:
    values = {
        "station_code": f"{rec.station_code.upper():<6}", "station_name": f"{rec.station_name[:18]:<18}",
        "date_start": f"  {_date_text(rec.date_start)}", "date_end": f"  {_date_text(rec.date_end)}",
        "antenna_height": f"{rec.antenna_height:9.4f}", "height_code": _fit(rec.height_code, 7, "height code", rec),
        "antenna_north": f"{rec.antenna_north:9.4f}", "antenna_east": f"{rec.antenna_east:9.4f}",
        "receiver_code": _fit(rec.receiver_code, 22, "receiver type", rec),
        "receiver_vers": _fit(rec.receiver_vers, 22, "receiver version", rec),
        "receiver_firmware": _fit(rec.receiver_firmware, 7, "firmware", rec),
        "receiver_serial": _fit(rec.receiver_serial, 22, "receiver serial", rec),
        "antenna_code": _fit(rec.antenna_code, 17, "antenna type", rec),
        "radome_code": _fit(rec.radome_code, 7, "radome", rec),
        "antenna_serial": _fit(rec.antenna_serial, 20, "antenna serial", rec),
        "antenna_daz": f"{rec.antenna_daz:8.1f}",
    }
    line = " " + "".join(values[name] for name, _, _ in COLUMNS)
    for name, a, b in COLUMNS:  # a wide number would shift every column after it
        if len(values[name]) != b - a:
            raise StationInfoError(f"{rec.station_code} {_date_text(rec.date_start)}: {name} does not fit "
                                   f"columns {a + 1}-{b}")
    return (line + (f"  {rec.comments}" if rec.comments else "")).rstrip()


def format_station_info(records: Iterable[StationInfoRecord]) -> str:
    return HEADER + "\n" + "".join(format_record(r) + "\n" for r in records)


# -- database ------------------------------------------------------------------------------------------------------

_SELECT = ('SELECT si.*, s."StationName" FROM stationinfo si JOIN stations s USING ("NetworkCode", "StationCode") '
           'WHERE si."NetworkCode" = %s AND si."StationCode" = %s ORDER BY si."DateStart"')


def _from_row(row: dict) -> StationInfoRecord:
    return StationInfoRecord(
        station_code=row["StationCode"], station_name=row.get("StationName") or "",
        date_start=row["DateStart"], date_end=row["DateEnd"], antenna_height=float(row["AntennaHeight"] or 0),
        height_code=row["HeightCode"] or "DHARP", antenna_north=float(row["AntennaNorth"] or 0),
        antenna_east=float(row["AntennaEast"] or 0), receiver_code=row["ReceiverCode"],
        receiver_vers=row["ReceiverVers"] or "", receiver_firmware=row["ReceiverFirmware"] or "",
        receiver_serial=row["ReceiverSerial"] or "", antenna_code=row["AntennaCode"],
        radome_code=row["RadomeCode"], antenna_serial=row["AntennaSerial"] or "",
        antenna_daz=float(row.get("AntennaDAZ") or 0), comments=row["Comments"] or "")


def records_for(db, ref) -> list[StationInfoRecord]:
    return [_from_row(r) for r in db.query(_SELECT, (ref.network, ref.code))]


def record_at(db, ref, when: dt.datetime) -> StationInfoRecord | None:
    for rec in records_for(db, ref):
        if rec.covers(when):
            return rec
    return None


def height_offsets(db) -> dict[tuple[str, str], tuple[float, float]]:
    """gamit_htc: (antenna, height code) -> (vertical, horizontal) offset of that code's reference point."""
    return {(r["AntennaCode"], r["HeightCode"]): (float(r["v_offset"] or 0), float(r["h_offset"] or 0))
            for r in db.query('SELECT "AntennaCode", "HeightCode", v_offset, h_offset FROM gamit_htc')}


def to_dharp(rec: StationInfoRecord, offsets: dict) -> StationInfoRecord | None:
    """The record with its antenna height as DHARP (H = sqrt(h^2 - h_offset^2) - v_offset, GeoDE's rule);
    None when gamit_htc has no conversion for its antenna and height code."""
    if rec.height_code == "DHARP":
        return rec
    off = offsets.get((rec.antenna_code, rec.height_code))
    if off is None or rec.antenna_height ** 2 < off[1] ** 2:
        return None
    return replace(rec, height_code="DHARP", antenna_height=math.sqrt(rec.antenna_height ** 2 - off[1] ** 2) - off[0])


def _overlap_seconds(a: StationInfoRecord, b: StationInfoRecord) -> float:
    far = dt.datetime(9999, 1, 1)
    return (min(a.date_end or far, b.date_end or far) - max(a.date_start, b.date_start)).total_seconds()


def _insert_row(cur, net: str, rec: StationInfoRecord) -> None:
    cur.execute('INSERT INTO receivers ("ReceiverCode") VALUES (%s) ON CONFLICT DO NOTHING', (rec.receiver_code,))
    cur.execute('INSERT INTO antennas ("AntennaCode", "RadomeCode") VALUES (%s, %s) ON CONFLICT DO NOTHING',
                (rec.antenna_code, rec.radome_code))
    cur.execute(
        'INSERT INTO stationinfo ("NetworkCode", "StationCode", "ReceiverCode", "ReceiverSerial", "ReceiverFirmware",'
        ' "ReceiverVers", "AntennaCode", "AntennaSerial", "AntennaHeight", "AntennaNorth", "AntennaEast", '
        '"HeightCode", "RadomeCode", "DateStart", "DateEnd", "Comments", "AntennaDAZ") '
        'VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s)',
        (net, rec.station_code, rec.receiver_code, rec.receiver_serial, rec.receiver_firmware, rec.receiver_vers,
         rec.antenna_code, rec.antenna_serial, rec.antenna_height, rec.antenna_north, rec.antenna_east,
         rec.height_code, rec.radome_code, rec.date_start, rec.date_end, rec.comments, rec.antenna_daz))


def insert_record(db, ref, q: StationInfoRecord) -> str:
    """Store one record with GeoDE's overlap rules, in one transaction under a per-station lock.

    Returns what happened: 'inserted', 'unchanged', 'extended' (the first record now starts earlier),
    'inserted before' (q ends where the first record starts) or 'closed previous' (the open last record was
    closed at q's start). Any other overlap raises StationInfoError listing the conflicting records.
    """
    q = q.with_(station_code=ref.code)
    with db.transaction() as cur:
        cur.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"stationinfo:{ref}",))
        cur.execute(_SELECT, (ref.network, ref.code))
        existing = [_from_row(dict(r)) for r in cur.fetchall()]
        same_start = [r for r in existing if r.date_start == q.date_start]
        if same_start:
            old = same_start[0]
            if old.same_equipment(q) and old.date_end == q.date_end:
                return "unchanged"
            raise StationInfoError(f"{ref}: a record starting {_date_text(q.date_start)} already exists with "
                                   f"different equipment or end")
        overlaps = [r for r in existing if _overlap_seconds(r, q) > 0]
        where = ('WHERE "NetworkCode" = %s AND "StationCode" = %s AND "DateStart" = %s')
        if not overlaps:
            _insert_row(cur, ref.network, q)
            return "inserted"
        first = existing[0]
        if len(overlaps) == len(existing) and q.date_start < first.date_start:
            if first.same_equipment(q):
                cur.execute(f'UPDATE stationinfo SET "DateStart" = %s {where}',
                            (q.date_start, ref.network, ref.code, first.date_start))
                return "extended"
            _insert_row(cur, ref.network, q.with_(date_end=first.date_start - dt.timedelta(seconds=1)))
            return "inserted before"
        last = existing[-1]
        if overlaps == [last] and last.date_end is None and q.date_start > last.date_start:
            cur.execute(f'UPDATE stationinfo SET "DateEnd" = %s {where}',
                        (q.date_start - dt.timedelta(seconds=1), ref.network, ref.code, last.date_start))
            _insert_row(cur, ref.network, q)
            return "closed previous"
        spans = ", ".join(f"{_date_text(r.date_start)} to {_date_text(r.date_end)}" for r in overlaps)
        raise StationInfoError(f"{ref}: record {_date_text(q.date_start)} to {_date_text(q.date_end)} overlaps "
                               f"{spans}")


@dataclass
class LoadOutcome:
    station: str
    start: str
    status: str  # inserted | unchanged | extended | inserted before | closed previous | failed
    reason: str = ""


def _station_for(db, code: str, network: str | None):
    from .stations import StationRef

    rows = db.query('SELECT "NetworkCode" FROM stations WHERE "StationCode" = %s AND "NetworkCode" NOT LIKE %s '
                    + ('AND "NetworkCode" = %s ' if network else '') + 'ORDER BY "NetworkCode"',
                    (code, "?%", network) if network else (code, "?%"))
    if not rows:
        where = f" in network {network}" if network else ""
        raise StationInfoError(f"station {code} is not in the database{where}")
    if len(rows) > 1:
        nets = ", ".join(r["NetworkCode"] for r in rows)
        raise StationInfoError(f"station {code} exists in several networks ({nets}): choose one with --network")
    return StationRef(rows[0]["NetworkCode"], code)


def load_records(db, records: Iterable[StationInfoRecord], network: str | None = None) -> list[LoadOutcome]:
    """Insert records with the overlap rules; one failing record does not stop the others."""
    out = []
    found: dict[str, object] = {}  # station code -> its StationRef or the StationInfoError: one query per station
    for rec in records:
        start = _date_text(rec.date_start)
        if rec.station_code not in found:
            try:
                found[rec.station_code] = _station_for(db, rec.station_code, network)
            except StationInfoError as exc:
                found[rec.station_code] = exc
        ref = found[rec.station_code]
        if isinstance(ref, StationInfoError):
            out.append(LoadOutcome(rec.station_code, start, "failed", str(ref)))
            continue
        try:
            out.append(LoadOutcome(str(ref), start, insert_record(db, ref, rec)))
        except StationInfoError as exc:
            out.append(LoadOutcome(rec.station_code, start, "failed", str(exc)))
    return out
