"""RINEX 2.11 / 3.x observation files: header fields and one streaming pass over the epochs.

Everything GeoDE got from gfzrnx comes from here: no external tool. The epoch pass checks the record
structure as it goes, so a corrupt or truncated file is reported with the line and the reason.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections import Counter
from itertools import islice
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Iterable, Iterator

from .compression import RinexFileError, iter_lines, open_rinex
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
    antenna_height: float | None = 0.0  # None: the header's value does not parse (see warnings)
    antenna_east: float | None = 0.0
    antenna_north: float | None = 0.0
    approx_xyz: tuple[float, float, float] | None = None  # None: absent, all zero, unreadable or not on Earth
    interval: float | None = None
    first_obs: dt.datetime | None = None
    last_obs: dt.datetime | None = None
    obs_types: dict[str, list[str]] = field(default_factory=dict)  # system letter → observables
    warnings: dict[str, str] = field(default_factory=dict)  # name → message: header values that do not parse

    def warn(self, name: str, message: str) -> None:
        self.warnings.setdefault(name, message)


@dataclass
class RinexInfo:
    header: RinexHeader
    first_epoch: dt.datetime
    last_epoch: dt.datetime
    epochs: int
    interval: float  # the real sampling interval (most common step between epochs), seconds
    size: int  # bytes of plain RINEX text
    epochs_per_day: dict[str, int]  # ISO date → epoch count; more than one key = multi-day file
    digest: str = ""  # SHA-256 of the plain RINEX text (compares files whatever their compression)
    compression: str | None = None  # the file's outer layer (None, Z, gz, bz2, zip)
    hatanaka: bool = False  # the file holds Compact RINEX

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

    @property
    def warnings(self) -> dict[str, str]:
        return self.header.warnings


MAX_HEADER_LINES = 5000  # real headers have tens to a few hundred; more is not a RINEX header
EARTH = (6.0e6, 6.6e6)  # |XYZ| of any place a GNSS station stands on (m)
_CONTROL = re.compile(r"[^\x20-\x7e]")


def _number(text: str) -> float | None:
    """A Fortran F/D/E field; blank is 0 (Fortran reads it so); None when it does not parse or is not finite."""
    text = text.strip().replace("D", "E").replace("d", "e")
    if not text:
        return 0.0
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _count(text: str, what: str, number: int) -> int:
    try:
        value = int(text)
    except ValueError:
        raise RinexFileError(f"bad count {text.strip()!r} in {what}", line=number) from None
    if value < 0:
        raise RinexFileError(f"bad count {value} in {what}", line=number)
    return value


def _time(fields: list[str], yy_digits: int) -> dt.datetime:
    """An epoch time from its 6 fields; ValueError when it is not one (incl. inf/NaN seconds)."""
    if len(fields) < 6:
        raise ValueError("an epoch time needs 6 fields")
    year, month, day, hour, minute = (int(x) for x in fields[:5])
    if yy_digits == 2:
        if not 0 <= year <= 99:
            raise ValueError("two-digit year")
        year = year_of_2digit(year)
    sec = float(fields[5])
    if not 0 <= sec < 61:  # also NaN and inf
        raise ValueError("seconds out of range")
    whole = int(sec)
    micro = int(round((sec - whole) * 1e6))
    return dt.datetime(year, month, day, hour, minute) + dt.timedelta(seconds=whole, microseconds=micro)


def _text(h: RinexHeader, value: str, label: str, number: int) -> str:
    """A header text value; control and non-ASCII characters become '_' (GeoDE's rule), with a warning."""
    if _CONTROL.search(value):
        h.warn("header_characters", f"line {number}: {label} holds non-printable characters (stored as '_')")
        return _CONTROL.sub("_", value)
    return value


def parse_header(lines: Iterator[tuple[int, str]]) -> RinexHeader:
    """Header records up to END OF HEADER. Structure that does not parse is a RinexFileError naming the line;
    descriptive values that do not parse (position, antenna deltas, interval) are None with a named warning."""
    h = RinexHeader()
    pending_sys: str | None = None  # RINEX 3 obs types continue on the next line
    announced: dict[str, tuple[int, int]] = {}  # system → (count, line)
    v2_types: list[str] = []
    v2_count: tuple[int, int] | None = None
    seen = 0
    for number, line in lines:
        seen += 1
        if seen > MAX_HEADER_LINES:
            raise RinexFileError(f"no END OF HEADER in the first {MAX_HEADER_LINES} lines: not a RINEX header")
        label = line[60:80].strip()
        body = line[:60]
        if label == "RINEX VERSION / TYPE":
            version = _number(body[0:9])
            if not version or not 1 <= version < 5:
                raise RinexFileError(f"RINEX VERSION / TYPE: unreadable version {body[0:9].strip()!r}", line=number)
            h.version = version
            h.file_type = body[20:21].strip()
            h.system = body[40:41].strip() or "G"
            if h.file_type != "O":
                raise RinexFileError(f"not an observation file (type {h.file_type!r})", line=number)
        elif label == "MARKER NAME":
            h.marker_name = _text(h, body.strip(), label, number)
        elif label == "MARKER NUMBER":
            h.marker_number = _text(h, body[0:20].strip(), label, number)
        elif label == "REC # / TYPE / VERS":
            h.receiver_serial, h.receiver_type, h.receiver_firmware = (
                _text(h, body[a:a + 20].strip(), label, number) for a in (0, 20, 40))
        elif label == "ANT # / TYPE":
            h.antenna_serial = _text(h, body[0:20].strip(), label, number)
            h.antenna_type = _text(h, body[20:36].strip(), label, number)
            h.antenna_radome = _text(h, body[36:40].strip(), label, number) or "NONE"
        elif label == "ANTENNA: DELTA H/E/N":
            values = [_number(body[a:a + 14]) for a in (0, 14, 28)]
            if None in values:
                h.warn("antenna_delta", f"line {number}: ANTENNA: DELTA H/E/N {body[0:42].strip()!r} does not "
                                        "parse (F14.4 x 3): antenna height, east and north unknown")
                values = [None, None, None]
            h.antenna_height, h.antenna_east, h.antenna_north = values
        elif label == "APPROX POSITION XYZ":
            xyz = [_number(body[a:a + 14]) for a in (0, 14, 28)]
            if None in xyz:
                h.warn("approx_position", f"line {number}: APPROX POSITION XYZ {body[0:42].strip()!r} does not "
                                          "parse (F14.4 x 3): position unknown")
                h.approx_xyz = None
            elif any(xyz):
                norm = math.hypot(*xyz)
                if EARTH[0] <= norm <= EARTH[1]:
                    h.approx_xyz = tuple(xyz)  # type: ignore[assignment]
                else:
                    h.warn("approx_position", f"line {number}: APPROX POSITION XYZ is {norm / 1000:.0f} km from "
                                              "the Earth's centre, not on its surface: position unknown")
                    h.approx_xyz = None
        elif label == "INTERVAL":
            interval = _number(body[0:10])
            if interval is None or interval < 0:
                h.warn("interval", f"line {number}: INTERVAL {body[0:10].strip()!r} does not parse")
                interval = None
            h.interval = interval or None
        elif label in ("TIME OF FIRST OBS", "TIME OF LAST OBS"):
            try:
                when = _time(body[0:43].split(), 4)
            except (ValueError, OverflowError):
                raise RinexFileError(f"unreadable {label}", line=number) from None
            if label == "TIME OF FIRST OBS":
                h.first_obs = when
            else:
                h.last_obs = when
        elif label == "# / TYPES OF OBSERV":  # RINEX 2
            if body[0:6].strip():
                v2_count = (_count(body[0:6], label, number), number)
            v2_types += [body[6 + 6 * i:12 + 6 * i].strip() for i in range(9) if body[6 + 6 * i:12 + 6 * i].strip()]
        elif label == "SYS / # / OBS TYPES":  # RINEX 3
            if body[0:1].strip():
                pending_sys = body[0]
                announced[pending_sys] = (_count(body[3:6], label, number), number)
                h.obs_types[pending_sys] = []
            if pending_sys is None:
                raise RinexFileError("SYS / # / OBS TYPES continuation without a system", line=number)
            h.obs_types[pending_sys] += [t for t in (body[7 + 4 * i:10 + 4 * i].strip() for i in range(13)) if t]
        elif label == "END OF HEADER":
            break
    else:
        raise RinexFileError("header has no END OF HEADER line (file truncated?)")
    if not h.version:
        raise RinexFileError("no RINEX VERSION / TYPE line")
    if h.version < 3:
        if v2_count and len(v2_types) != v2_count[0]:
            raise RinexFileError(f"# / TYPES OF OBSERV announces {v2_count[0]} types but lists {len(v2_types)}",
                                 line=v2_count[1])
        h.obs_types = {h.system: v2_types} if v2_types else {}  # RINEX 2: one list for every system
    else:
        for sys_, (count, number) in announced.items():
            if len(h.obs_types[sys_]) != count:
                raise RinexFileError(f"SYS / # / OBS TYPES announces {count} types for {sys_} but lists "
                                     f"{len(h.obs_types[sys_])}", line=number)
    if not h.obs_types or not any(h.obs_types.values()):
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
                    raise ValueError("not an epoch record")
                when = _time(line[1:29].split(), 4) if line[2:29].strip() else None
                flag, count = int(line[31:32] or 0), int(line[32:35])
            else:
                flag, count = int(line[28:29] or 0), int(line[29:32])
                when = _time(line[0:26].split(), 2) if line[1:26].strip() else None
            if not 0 <= flag <= 6 or count < 0:
                raise ValueError("epoch flag or count out of range")
        except (ValueError, IndexError, OverflowError):
            raise RinexFileError(f"expected an epoch record, got {line[:40].rstrip()!r}", line=number) from None
        if flag > 1 and flag != 6:  # events: 'count' header/special lines follow
            extra = count
        elif v3:
            extra = count
        else:
            extra = max(0, math.ceil(count / 12) - 1) + count * lines_per_sat_v2  # satellite continuation + data
        if extra and sum(1 for _ in islice(lines, extra)) < extra:
            raise RinexFileError("epoch record is truncated (file ends inside it)", line=number)
        if flag in (0, 1):
            if when is None:
                raise RinexFileError("observation epoch without a time", line=number)
            yield when


def _numbered(text: Iterable[str]) -> Iterator[tuple[int, str]]:
    for number, line in enumerate(text, 1):
        yield number, line.rstrip("\r\n")


def read_rinex_text(text: str) -> tuple[RinexHeader, list[dt.datetime]]:
    lines = _numbered(text.splitlines())
    header = parse_header(lines)
    return header, list(_epochs(lines, header))


def read_rinex(src: Path | str | BinaryIO, max_size: int | None = None) -> RinexInfo:
    """Header + epoch statistics of a RINEX observation file in any compression, in one streaming pass
    (memory stays small whatever the size; more than ``max_size`` bytes of text is RinexTooLarge)."""
    with open_rinex(src, max_size=max_size) as stream:
        info = _statistics(iter_lines(stream))
        for _ in stream.chunks():  # anything after the last epoch still counts (and must decompress cleanly)
            pass
        info.size, info.digest = stream.size, stream.hexdigest()
        info.compression, info.hatanaka = stream.compression, stream.hatanaka
    return info


def rinex_info(plain: bytes) -> RinexInfo:
    """Header + epoch statistics of plain RINEX text (one pass over the epochs)."""
    import hashlib

    info = _statistics(_numbered(plain.decode("ascii", errors="replace").split("\n")))
    info.size, info.digest = len(plain), hashlib.sha256(plain).hexdigest()
    return info


def _statistics(lines: Iterator[tuple[int, str]]) -> RinexInfo:
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
    if count == 0 or first is None or last is None:
        raise RinexFileError("no observation epochs")
    interval = steps.most_common(1)[0][0] if steps else float(header.interval or 0)
    if interval <= 0:
        raise RinexFileError("single epoch and no INTERVAL header: the sampling interval is unknown")
    return RinexInfo(header, first, last, count, interval, 0, dict(per_day))
