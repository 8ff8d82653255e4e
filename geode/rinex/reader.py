"""RINEX 2.11 / 3.x observation files: header fields and one streaming pass over the epochs.

Everything GeoDE got from gfzrnx comes from here: no external tool. The epoch pass checks the record
structure as it goes, so a corrupt or truncated file is reported with the line and the reason.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from itertools import islice
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator

from .compression import RinexFileError, read_plain
from .names import year_of_2digit

DAY = 86400.0


@dataclass
class RinexHeader:
    version: float = 0.0
    file_type: str = ""
    system: str = ""
    marker_name: str = ""
    marker_number: str = ""
    receiver_serial: str = ""
    receiver_type: str = ""
    receiver_firmware: str = ""
    antenna_serial: str = ""
    antenna_type: str = ""
    antenna_radome: str = ""
    antenna_height: float = 0.0
    antenna_east: float = 0.0
    antenna_north: float = 0.0
    approx_xyz: tuple[float, float, float] | None = None
    interval: float | None = None
    first_obs: dt.datetime | None = None
    last_obs: dt.datetime | None = None
    obs_types: dict[str, list[str]] = field(default_factory=dict)  # system letter → observables


@dataclass
class RinexInfo:
    header: RinexHeader
    first_epoch: dt.datetime
    last_epoch: dt.datetime
    epochs: int
    interval: float  # the real sampling interval (most common step between epochs), seconds
    size: int  # bytes of plain RINEX text
    epochs_per_day: dict[str, int]  # ISO date → epoch count; more than one key = multi-day file

    @property
    def mid_session(self) -> dt.datetime:
        """GeoDE's rule: the middle of the session decides which day a file belongs to."""
        return self.first_epoch + (self.last_epoch - self.first_epoch) / 2

    @property
    def date(self) -> dt.date:
        return self.mid_session.date()

    @property
    def completion(self) -> float:
        """Fraction of a day covered: epochs × interval / 86400 (GeoDE's definition)."""
        return round(min(self.epochs * self.interval / DAY, 9999.0), 3)

    @property
    def multiday(self) -> bool:
        return len(self.epochs_per_day) > 1


def _f(text: str, default: float = 0.0) -> float:
    text = text.strip().replace("D", "E").replace("d", "e")
    if not text:
        return default
    try:
        return float(text)
    except ValueError:
        return default


def _time(fields: list[str], yy_digits: int) -> dt.datetime:
    year, month, day, hour, minute = (int(x) for x in fields[:5])
    if yy_digits == 2:
        year = year_of_2digit(year)
    sec = float(fields[5])
    whole = int(sec)
    micro = int(round((sec - whole) * 1e6))
    return dt.datetime(year, month, day, hour, minute) + dt.timedelta(seconds=whole, microseconds=micro)


def parse_header(lines: Iterator[tuple[int, str]]) -> RinexHeader:
    h = RinexHeader()
    pending_sys: str | None = None  # RINEX 3 obs types continue on the next line
    pending_left = 0
    v2_types: list[str] = []
    v2_count = 0
    for number, line in lines:
        label = line[60:80].strip()
        body = line[:60]
        if label == "RINEX VERSION / TYPE":
            h.version = _f(body[0:9])
            h.file_type = body[20:21].strip()
            h.system = body[40:41].strip() or "G"
            if h.file_type != "O":
                raise RinexFileError(f"line {number}: not an observation file (type {h.file_type!r})")
        elif label == "MARKER NAME":
            h.marker_name = body.strip()
        elif label == "MARKER NUMBER":
            h.marker_number = body[0:20].strip()
        elif label == "REC # / TYPE / VERS":
            h.receiver_serial, h.receiver_type, h.receiver_firmware = (body[0:20].strip(), body[20:40].strip(),
                                                                      body[40:60].strip())
        elif label == "ANT # / TYPE":
            h.antenna_serial = body[0:20].strip()
            h.antenna_type = body[20:36].strip()
            h.antenna_radome = body[36:40].strip() or "NONE"
        elif label == "ANTENNA: DELTA H/E/N":
            h.antenna_height, h.antenna_east, h.antenna_north = _f(body[0:14]), _f(body[14:28]), _f(body[28:42])
        elif label == "APPROX POSITION XYZ":
            h.approx_xyz = (_f(body[0:14]), _f(body[14:28]), _f(body[28:42]))
        elif label == "INTERVAL":
            h.interval = _f(body[0:10], None)  # type: ignore[arg-type]
        elif label in ("TIME OF FIRST OBS", "TIME OF LAST OBS"):
            try:
                when = _time(body[0:43].split(), 4)
            except (ValueError, IndexError):
                raise RinexFileError(f"line {number}: unreadable {label}") from None
            if label == "TIME OF FIRST OBS":
                h.first_obs = when
            else:
                h.last_obs = when
        elif label == "# / TYPES OF OBSERV":  # RINEX 2
            if body[0:6].strip():
                v2_count = int(body[0:6])
            v2_types += [body[6 + 6 * i:12 + 6 * i].strip() for i in range(9) if body[6 + 6 * i:12 + 6 * i].strip()]
        elif label == "SYS / # / OBS TYPES":  # RINEX 3
            if body[0:1].strip():
                pending_sys = body[0]
                pending_left = int(body[3:6])
                h.obs_types[pending_sys] = []
            if pending_sys is None:
                raise RinexFileError(f"line {number}: SYS / # / OBS TYPES continuation without a system")
            types = [body[7 + 4 * i:10 + 4 * i].strip() for i in range(13)]
            h.obs_types[pending_sys] += [t for t in types if t][:pending_left]
            pending_left -= len([t for t in types if t])
        elif label == "END OF HEADER":
            break
    else:
        raise RinexFileError("header has no END OF HEADER line (file truncated?)")
    if not h.version:
        raise RinexFileError("no RINEX VERSION / TYPE line")
    if h.version < 3:
        if v2_count and len(v2_types) != v2_count:
            raise RinexFileError(f"# / TYPES OF OBSERV announces {v2_count} types but lists {len(v2_types)}")
        h.obs_types = {h.system: v2_types} if v2_types else {}  # RINEX 2: one list for every system
    if not h.obs_types:
        raise RinexFileError("header lists no observation types")
    return h


def _epochs(lines: Iterator[tuple[int, str]], h: RinexHeader) -> Iterator[dt.datetime]:
    """Yield the time of every observation epoch (flags 0 and 1), checking the record structure."""
    v3 = h.version >= 3
    n_types_v2 = len(next(iter(h.obs_types.values()))) if not v3 else 0
    lines_per_sat_v2 = max(1, math.ceil(n_types_v2 / 5))
    for number, line in lines:
        if not line.strip():
            continue
        try:
            if v3:
                if not line.startswith(">"):
                    raise ValueError
                fields = line[1:].split()
                when = _time(fields, 4) if line[2:29].strip() else None
                flag, count = int(line[31:32] or 0), int(line[32:35])
            else:
                flag, count = int(line[28:29] or 0), int(line[29:32])
                when = _time(line[0:26].split(), 2) if line[1:26].strip() else None
        except (ValueError, IndexError):
            raise RinexFileError(f"line {number}: expected an epoch record, got {line[:40].rstrip()!r}") from None
        if flag > 1 and flag != 6:  # events: 'count' header/special lines follow
            extra = count
        elif v3:
            extra = count
        else:
            extra = max(0, math.ceil(count / 12) - 1) + count * lines_per_sat_v2  # satellite continuation + data
        if extra and sum(1 for _ in islice(lines, extra)) < extra:
            raise RinexFileError(f"line {number}: epoch record is truncated (file ends inside it)")
        if flag in (0, 1):
            if when is None:
                raise RinexFileError(f"line {number}: observation epoch without a time")
            yield when


def _numbered(text: Iterable[str]) -> Iterator[tuple[int, str]]:
    for number, line in enumerate(text, 1):
        yield number, line.rstrip("\r\n")


def read_rinex_text(text: str) -> tuple[RinexHeader, list[dt.datetime]]:
    lines = _numbered(text.splitlines())
    header = parse_header(lines)
    return header, list(_epochs(lines, header))


def read_rinex(path: Path | str) -> RinexInfo:
    """Header + epoch statistics of a RINEX observation file in any compression."""
    return rinex_info(read_plain(Path(path)))


def rinex_info(plain: bytes) -> RinexInfo:
    """Header + epoch statistics of plain RINEX text (one pass over the epochs)."""
    text = plain.decode("ascii", errors="replace")
    lines = _numbered(text.splitlines())
    header = parse_header(lines)
    first = last = prev = None
    count = 0
    steps: Counter[float] = Counter()
    per_day: Counter[str] = Counter()
    for when in _epochs(lines, header):
        if prev is not None:
            step = (when - prev).total_seconds()
            if step <= 0:
                raise RinexFileError(f"epochs out of order at {when.isoformat()}")
            steps[round(step, 3)] += 1
        first = first or when
        last = prev = when
        count += 1
        per_day[when.date().isoformat()] += 1
    if count == 0:
        raise RinexFileError("no observation epochs")
    interval = steps.most_common(1)[0][0] if steps else float(header.interval or 0)
    if interval <= 0:
        raise RinexFileError("single epoch and no INTERVAL header: the sampling interval is unknown")
    return RinexInfo(header, first, last, count, interval, len(plain), dict(per_day))
