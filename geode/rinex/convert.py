"""RINEX 2.11 observation text from RINEX 3.0x or 2.1x: NRCan PPP (GPSPACE) reads only RINEX 2.

One pass over the records. An observation field is F14.3 + LLI + signal strength (16 characters) in both
versions, so fields are moved as text, never parsed: values, LLI and SSI come through exactly.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections import Counter
from itertools import islice
from typing import Iterator, NamedTuple

from .compression import RinexFileError
from .names import year_of_2digit
from .reader import RinexHeader, parse_header

Lines = Iterator[tuple[int, str]]

# RINEX 3 → 2 observation codes. For each system and RINEX 2 type: the RINEX 3 tracking attributes in order of
# preference; the first code (type letter, C for P, + band + attribute) that the system's SYS / # / OBS TYPES
# declares is written under the RINEX 2 type ("P2": "WPYD" tries C2W, C2P, C2Y, C2D). Systems not listed
# (C, J, I) are dropped: RINEX 2.11 has no satellite letter for them.
V2_FROM_V3: dict[str, dict[str, str]] = {
    "G": {"C1": "C", "P1": "WPY", "L1": "CWPY", "D1": "CWPY", "S1": "CWPY",
          "C2": "CLSX", "P2": "WPYD", "L2": "WPYDCLSX", "D2": "WPYDCLSX", "S2": "WPYDCLSX",
          "C5": "QXI", "L5": "QXI", "D5": "QXI", "S5": "QXI"},
    "R": {"C1": "C", "P1": "P", "L1": "CP", "D1": "CP", "S1": "CP",
          "C2": "C", "P2": "P", "L2": "PC", "D2": "PC", "S2": "PC"},
    "E": {"C1": "CXB", "L1": "CXB", "D1": "CXB", "S1": "CXB",
          "C5": "QXI", "L5": "QXI", "D5": "QXI", "S5": "QXI",
          "C7": "QXI", "L7": "QXI", "D7": "QXI", "S7": "QXI",
          "C8": "QXI", "L8": "QXI", "D8": "QXI", "S8": "QXI"},
    "S": {"C1": "C", "L1": "C", "D1": "C", "S1": "C", "C5": "IQX", "L5": "IQX", "D5": "IQX", "S5": "IQX"},
}
CANONICAL = [kind + band for band in "12578" for kind in "CPLDS"]  # order of the written types
V3_ONLY = frozenset({
    "SYS / # / OBS TYPES", "SYS / PHASE SHIFT", "GLONASS SLOT / FRQ #", "GLONASS COD/PHS/BIS",
    "SIGNAL STRENGTH UNIT", "SYS / DCBS APPLIED", "SYS / PCVS APPLIED", "SYS / SCALE FACTOR", "MARKER TYPE",
    "ANTENNA: DELTA X/Y/Z", "ANTENNA:PHASECENTER", "ANTENNA: B.SIGHT XYZ", "ANTENNA: ZERODIR AZI",
    "ANTENNA: ZERODIR XYZ", "CENTER OF MASS: XYZ", "DOI", "LICENSE OF USE", "STATION INFORMATION"})
STALE = frozenset({"# OF SATELLITES", "PRN / # OF OBS"})  # counts of the input's records, wrong once converted
REWRITTEN = frozenset({"INTERVAL", "TIME OF FIRST OBS", "TIME OF LAST OBS"})

FIELD = 16  # F14.3 + LLI + SSI
_FIELDS = re.compile(r"(?:[ 0-9.\-]{14}[ 0-9]{2})*")  # padded fields: F14.3 + LLI + SSI, blank or digits
_V3_SAT = re.compile(r"[A-Z][0-9]{2}")
_V2_SAT = re.compile(r"[A-Z ][ 0-9][0-9]")


class _Time(NamedTuple):
    year: int
    month: int
    day: int
    hour: int
    minute: int
    second: float

    @property
    def moment(self) -> dt.datetime:
        return dt.datetime(self.year, self.month, self.day, self.hour, self.minute) + dt.timedelta(
            seconds=self.second)

    def v2(self) -> str:
        return (f" {self.year % 100:02d} {self.month:2d} {self.day:2d} {self.hour:2d} {self.minute:2d}"
                f"{self.second:11.7f}")

    def header(self) -> str:
        return f"{self.year:6d}{self.month:6d}{self.day:6d}{self.hour:6d}{self.minute:6d}{self.second:13.7f}"


def _time(text: str, two_digit_year: bool) -> _Time | None:
    """Epoch time of an epoch line (None if blank, allowed for events); ValueError if malformed."""
    fields = text.split()
    if not fields:
        return None
    if len(fields) != 6:
        raise ValueError("epoch time needs 6 fields")
    year, month, day, hour, minute = (int(x) for x in fields[:5])
    second = float(fields[5])
    if two_digit_year:
        year = year_of_2digit(year)
    dt.date(year, month, day)
    if not (0 <= hour < 24 and 0 <= minute < 60 and 0 <= second < 61):
        raise ValueError("epoch time out of range")
    return _Time(year, month, day, hour, minute, second)


def _clock(text: str) -> str:
    """Receiver clock offset as RINEX 2 F12.9 ('' if blank)."""
    if not text.strip():
        return ""
    value = float(text)
    if not abs(value) < 99:
        raise ValueError("receiver clock offset out of range")
    return f"{value:12.9f}"


def _take(lines: Lines, n: int, number: int) -> list[tuple[int, str]]:
    got = list(islice(lines, n))
    if len(got) < n:
        raise RinexFileError(f"line {number}: epoch record is truncated (file ends inside it)")
    return got


def _fields(number: int, text: str, width: int) -> str:
    """Observation fields of a record padded to ``width`` characters, checked."""
    text = text.rstrip()
    if len(text) > width or not _FIELDS.fullmatch(padded := text.ljust(width)):
        raise RinexFileError(f"line {number}: malformed observation record {text[:40]!r}")
    return padded


class _Window:
    """Which observation epochs are written: the UTC day and the decimation interval."""

    def __init__(self, day: dt.date | None, decimate_to: float | None):
        if decimate_to is not None and not decimate_to > 0:
            raise ValueError(f"decimate_to must be positive, got {decimate_to}")
        self.day = (day.year, day.month, day.day) if day else None
        self.step = decimate_to

    def __call__(self, t: _Time) -> bool:
        if self.day and (t.year, t.month, t.day) != self.day:
            return False
        sod = t.hour * 3600 + t.minute * 60 + t.second
        return not self.step or abs(math.remainder(sod, self.step)) < 1e-3  # tolerate rounding in ss.sssssss


class _Output:
    """RINEX 2 epoch records as they are written, and what the header must say about them."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.first: _Time | None = None
        self.last: _Time | None = None
        self.previous: dt.datetime | None = None
        self.steps: Counter[float] = Counter()

    def observations(self, t: _Time, flag: int, clock: str, sats: list[str], data: list[str]) -> None:
        moment = t.moment
        if self.previous is not None:
            self.steps[round((moment - self.previous).total_seconds(), 3)] += 1
        self.first, self.last, self.previous = self.first or t, t, moment
        first = f"{t.v2()}  {flag}{len(sats):3d}" + "".join(sats[:12])
        self.lines.append((first.ljust(68) + clock if clock else first) + "\n")
        self.lines += [" " * 32 + "".join(sats[i:i + 12]) + "\n" for i in range(12, len(sats), 12)]
        self.lines += data

    def event(self, t: _Time | None, flag: int, lines: list[tuple[int, str]]) -> None:
        self.lines.append(f"{t.v2() if t else ' ' * 26}  {flag}{len(lines):3d}\n")
        self.lines += [line + "\n" for _, line in lines]

    def interval(self, announced: float | None) -> float | None:
        return self.steps.most_common(1)[0][0] if self.steps else announced


def _split(fields: str) -> list[str]:
    """RINEX 2 observation lines: 5 fields each, trailing blanks stripped."""
    return [fields[i:i + 5 * FIELD].rstrip() + "\n" for i in range(0, len(fields), 5 * FIELD)]


class _V3:
    """RINEX 3 records, rewritten with the RINEX 2 types of ``V2_FROM_V3``."""

    def __init__(self, h: RinexHeader):
        chosen = {sys_: _choose(sys_, codes) for sys_, codes in h.obs_types.items()}
        self.types = [t for t in CANONICAL if any(t in c for c in chosen.values())]
        # system → (padded record width, start of each written field); a missing type reads the trailing blank
        self.layout = {s: (FIELD * (len(h.obs_types[s]) + 1),
                           [FIELD * c.get(t, len(h.obs_types[s])) for t in self.types])
                       for s, c in chosen.items() if c}
        self.dropped = set(h.obs_types) - set(self.layout)
        if not self.layout:
            raise RinexFileError("no GPS, GLONASS, Galileo or SBAS observations that RINEX 2.11 can hold")
        self.system = next(iter(self.layout)) if len(self.layout) == 1 else "M"

    @staticmethod
    def epoch(line: str) -> tuple[_Time | None, int, int, str]:
        if not line.startswith(">"):
            raise ValueError("not an epoch record")
        return _time(line[1:29], False), int(line[31:32]), int(line[32:35]), _clock(line[41:56])

    @staticmethod
    def record_lines(count: int) -> int:
        return count

    def observations(self, lines: Lines, number: int, line: str, count: int) -> tuple[list[str], list[str]]:
        sats: list[str] = []
        data: list[str] = []
        for n, record in _take(lines, count, number):
            sat = record[:3]
            if not _V3_SAT.fullmatch(sat) or sat[0] not in self.layout and sat[0] not in self.dropped:
                raise RinexFileError(f"line {n}: expected a satellite record, got {record[:20]!r}")
            if sat[0] in self.dropped:
                continue
            width, starts = self.layout[sat[0]]
            fields = _fields(n, record[3:], width)
            sats.append(sat)
            data += _split("".join([fields[s:s + FIELD] for s in starts]))
        return sats, data


def _choose(system: str, codes: list[str]) -> dict[str, int]:
    """RINEX 2 type → index of the RINEX 3 code written under it, for one system."""
    index = {code: i for i, code in enumerate(codes)}
    chosen: dict[str, int] = {}
    for v2, attributes in V2_FROM_V3.get(system, {}).items():
        candidates = [v2[0].replace("P", "C") + v2[1] + a for a in attributes]
        best = next((index[code] for code in candidates if code in index), None)
        if best is not None:
            chosen[v2] = best
    return chosen


class _V2:
    """RINEX 2 records, written back as they are (types unchanged; trailing blanks stripped)."""

    def __init__(self, h: RinexHeader):
        self.types = next(iter(h.obs_types.values()))
        self.per_sat = math.ceil(len(self.types) / 5)
        self.width = FIELD * len(self.types)
        self.system = h.system

    @staticmethod
    def epoch(line: str) -> tuple[_Time | None, int, int, str]:
        return _time(line[0:26], True), int(line[28:29]), int(line[29:32]), _clock(line[68:80])

    @staticmethod
    def list_lines(count: int) -> int:
        """Continuation lines of the satellite list (12 a line)."""
        return max(count - 1, 0) // 12

    def record_lines(self, count: int) -> int:
        return self.list_lines(count) + count * self.per_sat

    def observations(self, lines: Lines, number: int, line: str, count: int) -> tuple[list[str], list[str]]:
        names = [line[32:68]] + [text[32:68] for _, text in _take(lines, self.list_lines(count), number)]
        sats = [row[i:i + 3] for row in names for i in range(0, 36, 3)][:count]
        if not all(_V2_SAT.fullmatch(s) for s in sats):
            raise RinexFileError(f"line {number}: malformed satellite list")
        data: list[str] = []
        for _ in sats:
            rows = _take(lines, self.per_sat, number)
            fields = "".join(_fields(n, text, 5 * FIELD) for n, text in rows)
            if fields[self.width:].strip():
                raise RinexFileError(f"line {rows[-1][0]}: more observations than # / TYPES OF OBSERV lists")
            data += _split(fields[:self.width])
        return sats, data


def _records(lines: Lines, fmt: _V2 | _V3, keep: _Window, out: _Output) -> None:
    for number, line in lines:
        if not line.strip():
            continue
        try:
            t, flag, count, clock = fmt.epoch(line)
            if not 0 <= flag <= 6 or count < 0:
                raise ValueError("epoch flag or count out of range")
            if flag in (0, 1) and t is None:
                raise ValueError("observation epoch without a time")
        except (ValueError, IndexError, OverflowError) as exc:
            raise RinexFileError(f"line {number}: expected an epoch record, got {line[:40].rstrip()!r} "
                                 f"({exc})") from None
        if 2 <= flag <= 5:  # events: 'count' header/comment lines, copied through
            out.event(t, flag, _take(lines, count, number))
        elif flag == 6 or not keep(t):  # cycle-slip records are dropped
            _take(lines, fmt.record_lines(count), number)
        else:
            sats, data = fmt.observations(lines, number, line, count)
            if sats:
                out.observations(t, flag, clock, sats, data)


def _types_lines(types: list[str]) -> list[str]:
    """# / TYPES OF OBSERV: 9 types a line, the count only on the first."""
    out = []
    for i in range(0, len(types), 9):
        count = f"{len(types):6d}" if i == 0 else ""
        out.append(f"{count:<6}{''.join(f'{t:>6}' for t in types[i:i + 9]):<54}# / TYPES OF OBSERV\n")
    return out


def _header(head: list[tuple[int, str]], h: RinexHeader, system: str, block: list[str]) -> list[str]:
    """The input's header lines verbatim, except: version rewritten, RINEX 3-only and stale records dropped,
    ``block`` (types, interval, first/last obs) written where the first of them stood."""
    out: list[str] = []
    for _, line in head:
        label = line[60:80].strip()
        if label == "RINEX VERSION / TYPE":
            out += [f"{'2.11':>9}{'':11}{'OBSERVATION DATA':<20}{system:<20}RINEX VERSION / TYPE\n",
                    f"{f'converted by geode from RINEX {h.version:.2f}':<60}COMMENT\n"]
        elif label in REWRITTEN or label == "END OF HEADER":
            out += block
            block = []
            if label == "END OF HEADER":
                out.append(line + "\n")
        elif label not in V3_ONLY and label not in STALE:
            out.append(line + "\n")
    return out


def _time_system(head: list[tuple[int, str]]) -> str:
    return next((line[43:60] for _, line in head if line[60:80].strip() == "TIME OF FIRST OBS"), "")


def _read_header(lines: Lines) -> tuple[list[tuple[int, str]], RinexHeader]:
    head: list[tuple[int, str]] = []
    for number, line in lines:
        head.append((number, line))
        if line[60:80].strip() == "END OF HEADER":
            break
    try:
        return head, parse_header(iter(head))
    except (ValueError, IndexError, OverflowError) as exc:
        raise RinexFileError(f"malformed header ({exc})") from None


def to_rinex2(plain: bytes | str, *, day: dt.date | None = None, decimate_to: float | None = None) -> str:
    """RINEX 2.11 observation text from plain (not Hatanaka) RINEX 2.1x or 3.0x observation text.

    ``day`` keeps the epochs of that UTC day; ``decimate_to`` keeps epochs whose second of day is a multiple of
    it. RINEX 3 codes become RINEX 2 types by ``V2_FROM_V3``; BeiDou, QZSS and NavIC satellites are dropped.
    Event records (flags 2-5) are copied whatever their time; cycle-slip records (flag 6) are dropped.
    Raises RinexFileError (with the line) for a truncated or malformed file.
    """
    text = plain.decode("ascii", errors="replace") if isinstance(plain, bytes) else plain
    keep = _Window(day, decimate_to)
    lines = ((number, line) for number, line in enumerate(text.splitlines(), 1))
    head, h = _read_header(lines)
    fmt: _V2 | _V3 = _V3(h) if h.version >= 3 else _V2(h)
    out = _Output()
    _records(lines, fmt, keep, out)
    if out.first is None or out.last is None:
        raise RinexFileError("no observation epochs left to write (day window, decimation or dropped systems)")
    interval = out.interval(max(h.interval or 0, decimate_to or 0) or None)
    time_system = _time_system(head)
    block = ([f"{1:6d}{1:6d}{'':48}WAVELENGTH FACT L1/2\n", *_types_lines(fmt.types)] if h.version >= 3 else [])
    block += [f"{interval:10.3f}{'':50}INTERVAL\n"] if interval and 0 < interval < 1e6 else []  # fits F10.3
    block += [f"{t.header()}{time_system:<17}{label}\n" for t, label in ((out.first, "TIME OF FIRST OBS"),
                                                                         (out.last, "TIME OF LAST OBS"))]
    return "".join(_header(head, h, fmt.system, block) + out.lines)
