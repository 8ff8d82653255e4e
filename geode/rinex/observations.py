"""The observation records of one RINEX 2.11 / 3.x / 4.x file as numpy arrays (for quality control).

The whole plain text of one file is held in memory (bounded by the file, capped like every read by
``max_size``); the epoch records are walked once in Python (one step per epoch) and every observation record
is parsed in one vectorised pass per system: fixed-width F14.3 fields into float64, LLI and signal-strength
digits into uint8. A record that does not parse is a ``RinexFileError`` naming the line.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Callable

import numpy as np

from .compression import RinexFileError, open_rinex
from .names import year_of_2digit
from .reader import RinexHeader, RinexInfo, parse_header

SYSTEMS = "GRECJIS"
_SAT_LIST = re.compile(rb"(?:[ GRECJIS][ 0-9][0-9])*")


@dataclass
class SystemObs:
    """One system's observations: ``values[e, s, k]`` is observable ``types[k]`` of satellite ``sats[s]`` at epoch
    ``e`` (NaN when absent); ``lli`` the loss-of-lock digit (0 when blank)."""

    types: list[str]
    sats: list[str]
    values: np.ndarray  # (E, S, K) float64
    lli: np.ndarray  # (E, S, K) uint8

    def column(self, obs: str) -> np.ndarray:
        return self.values[:, :, self.types.index(obs)]

    def count(self, obs: str) -> int:
        return int(np.count_nonzero(~np.isnan(self.column(obs))))


@dataclass
class Observations:
    header: RinexHeader
    t0: dt.datetime  # the first epoch
    seconds: np.ndarray  # (E,) epoch times, seconds after t0
    interval: float  # the real sampling interval (most common step), s
    systems: dict[str, SystemObs]
    glonass_slots: dict[str, int] = field(default_factory=dict)  # "R05" -> frequency channel k (header)
    size: int = 0  # bytes of plain text
    events: int = 0  # event records (flags 2-5) skipped
    digest: str = ""  # SHA-256 of the plain text (read_observations)
    compression: str | None = None  # the file's outer layer (read_observations)
    hatanaka: bool = False

    @property
    def epochs(self) -> int:
        return len(self.seconds)

    def time(self, index: int) -> dt.datetime:
        return self.t0 + dt.timedelta(seconds=float(self.seconds[index]))

    def info(self) -> RinexInfo:
        """What ``read_rinex`` says of the same file (header, epoch statistics, digest), from this one read."""
        days = ((self.t0 - dt.datetime(self.t0.year, self.t0.month, self.t0.day)).total_seconds()
                + self.seconds) // 86400
        first_day = self.t0.date()
        per_day = {(first_day + dt.timedelta(days=int(d))).isoformat(): int(n)
                   for d, n in zip(*np.unique(days, return_counts=True))}
        return RinexInfo(self.header, self.time(0), self.time(self.epochs - 1), self.epochs, self.interval,
                         self.size, per_day, self.digest, self.compression, self.hatanaka)


Select = Callable[[str, list[str], list[int]], list[str]]  # (system, types, counts) -> the types to parse


def read_observations(src: Path | str | BinaryIO, max_size: int | None = None, select: Select | None = None
                      ) -> Observations:
    """The observations of a file in any compression ``open_rinex`` takes (RinexFileError when unreadable).
    ``select`` picks, per system, which observables are parsed into numbers (all by default), knowing how many
    non-blank values each has."""
    with open_rinex(src, max_size=max_size) as stream:
        data = b"".join(stream.chunks())
        digest, compression, hatanaka = stream.hexdigest(), stream.compression, stream.hatanaka
    obs = parse_observations(data, select)
    obs.digest, obs.compression, obs.hatanaka = digest, compression, hatanaka
    return obs


def _lines(data: bytes) -> list[bytes]:
    lines = data.split(b"\n")
    if lines and not lines[-1]:  # text ends with a newline: no last empty line
        lines.pop()
    if b"\r" in data:
        lines = [line.rstrip(b"\r") for line in lines]
    return lines


def parse_observations(data: bytes, select: Select | None = None) -> Observations:
    lines = _lines(data)
    nlines = len(lines)

    def text(i: int) -> str:
        return lines[i].decode("ascii", "replace")

    consumed = [0]
    header_lines: list[str] = []

    def numbered():
        for i in range(nlines):
            consumed[0] = i + 1
            line = text(i)
            header_lines.append(line)
            yield i + 1, line

    header = parse_header(numbered())
    first_data = consumed[0]
    slots = _glonass_slots(header_lines)
    v3 = header.version >= 3
    if v3:
        epochs, records = _walk_v3(lines, first_data, nlines)
    else:
        epochs, records = _walk_v2(lines, first_data, nlines, header)
    seconds, t0, events = epochs
    if len(seconds) == 0:
        raise RinexFileError("no observation epochs")
    steps = np.diff(seconds)
    if np.any(steps <= 0):
        bad = int(np.flatnonzero(steps <= 0)[0]) + 1
        raise RinexFileError(f"epochs out of order at {(t0 + dt.timedelta(seconds=float(seconds[bad]))).isoformat()}")
    if len(steps):
        interval = Counter(np.round(steps, 3).tolist()).most_common(1)[0][0]
    else:
        interval = float(header.interval or 0)
    if interval <= 0:
        raise RinexFileError("single epoch and no INTERVAL header: the sampling interval is unknown")
    systems = _assemble(lines, header, records, len(seconds), v3, select)
    return Observations(header, t0, seconds, float(interval), systems, slots, len(data), events)


def _glonass_slots(lines: list[str]) -> dict[str, int]:
    slots: dict[str, int] = {}
    for line in lines:
        if line[60:80].strip() == "GLONASS SLOT / FRQ #":
            body = line[4:60]
            for i in range(8):
                item = body[7 * i:7 * i + 7]
                if len(item) < 7 or not item[0:3].strip():
                    continue
                try:
                    slots[f"R{int(item[1:3]):02d}"] = int(item[4:7])
                except ValueError:
                    continue
    return slots


_DAYS: dict[tuple[int, int, int], int] = {}


def _seconds(year: int, month: int, day: int, hour: int, minute: int, sec: float) -> float:
    key = (year, month, day)
    ordinal = _DAYS.get(key)
    if ordinal is None:
        ordinal = _DAYS[key] = dt.date(year, month, day).toordinal()
    if not (0 <= hour < 24 and 0 <= minute < 60 and 0 <= sec < 61):
        raise ValueError("time out of range")
    return ordinal * 86400.0 + hour * 3600 + minute * 60 + sec


class _Records:
    """Where the observation records are: per record its line(s), epoch index and satellite."""

    def __init__(self):
        self.epoch: list[np.ndarray] = []
        self.first_line: list[np.ndarray] = []
        self.sat: list[bytes] = []  # RINEX 2 only: 3 characters per record (RINEX 3 records name their satellite)


def _walk_v3(lines, i, nlines):
    times: list[float] = []
    events = 0
    ep_index: list[int] = []
    ep_first: list[int] = []
    ep_count: list[int] = []
    while i < nlines:
        line = lines[i]
        if not line.strip():
            i += 1
            continue
        try:
            if line[:1] != b">":
                raise ValueError("not an epoch record")
            flag, count = int(line[31:32] or b"0"), int(line[32:35])
            if not 0 <= flag <= 6 or count < 0:
                raise ValueError("flag")
            when = None
            if line[2:29].strip():
                f = line[1:29].split()
                when = _seconds(int(f[0]), int(f[1]), int(f[2]), int(f[3]), int(f[4]), float(f[5]))
        except (ValueError, IndexError, OverflowError):
            raise RinexFileError(f"expected an epoch record, got {line[:40].decode('ascii', 'replace').rstrip()!r}",
                                 line=i + 1) from None
        if i + 1 + count > nlines:
            raise RinexFileError("epoch record is truncated (file ends inside it)", line=i + 1)
        if flag in (0, 1):
            if when is None:
                raise RinexFileError("observation epoch without a time", line=i + 1)
            ep_index.append(len(times))
            ep_first.append(i + 1)
            ep_count.append(count)
            times.append(when)
        elif flag != 6:
            events += 1
        i += 1 + count
    recs = _Records()
    if ep_count:
        counts = np.asarray(ep_count)
        recs.epoch.append(np.repeat(np.asarray(ep_index), counts))
        offsets = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
        recs.first_line.append(np.repeat(np.asarray(ep_first), counts) + offsets)
    return _times(times, events), recs


def _walk_v2(lines, i, nlines, header: RinexHeader):
    ntypes = len(next(iter(header.obs_types.values())))
    per_sat = max(1, math.ceil(ntypes / 5))
    default = header.system if header.system in SYSTEMS else "G"
    times: list[float] = []
    events = 0
    recs = _Records()
    ep_index: list[int] = []
    ep_first: list[int] = []
    sats: list[bytes] = []
    counts: list[int] = []
    while i < nlines:
        line = lines[i]
        if not line.strip():
            i += 1
            continue
        try:
            flag, count = int(line[28:29] or b"0"), int(line[29:32])
            if not 0 <= flag <= 6 or count < 0:
                raise ValueError("flag")
            when = None
            if line[1:26].strip():
                f = line[0:26].split()
                year = int(f[0])
                if not 0 <= year <= 99:
                    raise ValueError("year")
                when = _seconds(year_of_2digit(year), int(f[1]), int(f[2]), int(f[3]), int(f[4]), float(f[5]))
        except (ValueError, IndexError, OverflowError):
            raise RinexFileError(f"expected an epoch record, got {line[:40].decode('ascii', 'replace').rstrip()!r}",
                                 line=i + 1) from None
        if flag > 1 and flag != 6:
            if i + 1 + count > nlines:
                raise RinexFileError("epoch record is truncated (file ends inside it)", line=i + 1)
            events += 1
            i += 1 + count
            continue
        sat_lines = max(1, math.ceil(count / 12))
        total = sat_lines - 1 + count * per_sat
        if i + 1 + total > nlines:
            raise RinexFileError("epoch record is truncated (file ends inside it)", line=i + 1)
        these = b"".join(lines[j][32:68].ljust(36) for j in range(i, i + sat_lines))[:3 * count]
        if flag in (0, 1) and not _SAT_LIST.fullmatch(these):
            bad = next(these[3 * k:3 * k + 3] for k in range(count) if not _SAT_LIST.fullmatch(these[3 * k:3 * k + 3]))
            raise RinexFileError(f"bad satellite {bad.decode('ascii', 'replace')!r} in the epoch record", line=i + 1)
        if flag in (0, 1):
            if when is None:
                raise RinexFileError("observation epoch without a time", line=i + 1)
            ep_index.append(len(times))
            ep_first.append(i + sat_lines)
            counts.append(count)
            sats.append(these)
            times.append(when)
        i += 1 + total
    if counts:
        c = np.asarray(counts)
        recs.epoch.append(np.repeat(np.asarray(ep_index), c))
        offsets = np.arange(c.sum()) - np.repeat(np.cumsum(c) - c, c)
        recs.first_line.append(np.repeat(np.asarray(ep_first), c) + offsets * per_sat)
        names = b"".join(sats)
        if b" " in names:  # a blank system letter is the file's system (RINEX 2)
            names = b"".join(n if n[:1] != b" " else default.encode() + n[1:]
                             for n in (names[3 * k:3 * k + 3] for k in range(len(names) // 3)))
        recs.sat.append(names)
    return _times(times, events), recs


def _times(times: list[float], events: int):
    if not times:
        return np.zeros(0), dt.datetime(1980, 1, 6), events
    arr = np.asarray(times, dtype=np.float64)
    base = arr[0]
    day, sec = divmod(base, 86400.0)
    t0 = dt.datetime.fromordinal(int(day)) + dt.timedelta(seconds=float(sec))
    return np.round(arr - base, 6), t0, events


def _gather(lines: list[bytes], which: np.ndarray, a: int, b: int) -> np.ndarray:
    """Characters a..b of each of the lines ``which`` as a (N, b - a) uint8 matrix, blank-padded."""
    w = b - a
    text = b"".join([lines[i][a:b].ljust(w) for i in which.tolist()])
    return np.frombuffer(text, dtype=np.uint8).reshape(len(which), w)


_NAN_FIELD = np.frombuffer(b"           nan", dtype=np.uint8)


def _values(chars: np.ndarray, first_line: np.ndarray, width: int) -> np.ndarray:
    """F14.3 fields (N, K, 14) → float64 (N, K), NaN for blank fields (numpy's own text-to-float conversion,
    which rejects anything that is not a number: a RinexFileError naming the first such field)."""
    n, k, _ = chars.shape
    flat = np.array(chars.reshape(-1, 14))  # a writable copy
    candidates = np.flatnonzero((flat[:, 13] == 32) & (flat[:, 10] == 32))
    blank = candidates[(flat[candidates] == 32).all(axis=1)]
    flat[blank] = _NAN_FIELD
    text = flat.view("S14").ravel()
    try:
        values = text.astype(np.float64)
    except ValueError:
        for i, item in enumerate(text):
            try:
                float(item)
            except ValueError:
                row = i // k
                raise RinexFileError(f"unreadable observation value {item.decode('ascii', 'replace').strip()!r}",
                                     line=int(first_line[row]) + 1 + (i % k) * 16 // width) from None
        raise
    return values.reshape(n, k)


def _digits(chars: np.ndarray) -> np.ndarray:
    return np.where((chars >= 48) & (chars <= 57), chars - 48, 0).astype(np.uint8)


def _assemble(lines, header: RinexHeader, recs: _Records, n_epochs: int, v3: bool, select: Select | None
              ) -> dict[str, SystemObs]:
    systems: dict[str, SystemObs] = {}
    if not recs.epoch:
        return systems
    epoch = recs.epoch[0]
    first = recs.first_line[0]
    if v3:
        widest = max(len(t) for t in header.obs_types.values())
        full = _gather(lines, first, 0, 3 + 16 * widest)  # one pass over the records: every system's width
        head = full[:, :3]
        sys_chars = head[:, 0]
        if np.any(sys_chars == ord(">")):
            row = int(np.flatnonzero(sys_chars == ord(">"))[0])
            raise RinexFileError("epoch record is truncated (fewer satellite records than announced)",
                                 line=int(first[row]) + 1)
        prn_ok = ((head[:, 1:] >= 48) & (head[:, 1:] <= 57)) | (head[:, 1:] == 32)
        if not prn_ok.all():
            row = int(np.flatnonzero(~prn_ok.all(axis=1))[0])
            raise RinexFileError(f"bad satellite {head[row].tobytes().decode('ascii', 'replace')!r} in an "
                                 "observation record", line=int(first[row]) + 1)
        prn = _digits(head[:, 1]).astype(np.int64) * 10 + _digits(head[:, 2])
        for code in np.unique(sys_chars):
            sys_ = chr(code)
            types = header.obs_types.get(sys_)
            rows = np.flatnonzero(sys_chars == code)
            if types is None:
                raise RinexFileError(f"observation of system {sys_!r}, which the header lists no types for",
                                     line=int(first[rows[0]]) + 1)
            k = len(types)
            chars = full[rows, 3:3 + 16 * k].reshape(len(rows), k, 16)
            systems[sys_] = _dense(sys_, types, prn[rows], epoch[rows], chars, first[rows], n_epochs, 16 * k + 3,
                                   select)
    else:
        types = next(iter(header.obs_types.values()))
        k = len(types)
        per_sat = max(1, math.ceil(k / 5))
        record_lines = (first[:, None] + np.arange(per_sat)[None, :]).ravel()
        chars = _gather(lines, record_lines, 0, 80).reshape(len(first), per_sat * 5, 16)[:, :k]
        names = np.frombuffer(recs.sat[0], dtype=np.uint8).reshape(-1, 3)
        sys_of = names[:, 0]
        prn = _digits(names[:, 1]).astype(np.int64) * 10 + _digits(names[:, 2])
        for code in np.unique(sys_of):
            rows = np.flatnonzero(sys_of == code)
            systems[chr(code)] = _dense(chr(code), list(types), prn[rows], epoch[rows], chars[rows], first[rows],
                                        n_epochs, 80, select)
    return systems


def _dense(sys_: str, types: list[str], prn: np.ndarray, epoch: np.ndarray, chars: np.ndarray, first: np.ndarray,
           n_epochs: int, width: int, select: Select | None = None) -> SystemObs:
    keep = list(range(len(types)))
    if select is not None:
        filled = (chars[:, :, 13] != 32) | (chars[:, :, 10] != 32)
        counts = np.count_nonzero(filled, axis=0).tolist()
        wanted = set(select(sys_, list(types), counts))
        keep = [k for k, t in enumerate(types) if t in wanted]
        types = [types[k] for k in keep]
    values = _values(chars[:, keep, :14], first, width)
    lli = _digits(chars[:, keep, 14])
    uniq, sat_index = np.unique(prn, return_inverse=True)
    dup = np.unique(epoch * 1000 + sat_index)
    if len(dup) != len(epoch):
        raise RinexFileError(f"a satellite of system {sys_} appears twice in one epoch")
    n_sat = len(uniq)
    out = np.full((n_epochs, n_sat, len(types)), np.nan)
    out[epoch, sat_index] = values
    flags = np.zeros((n_epochs, n_sat, len(types)), dtype=np.uint8)
    flags[epoch, sat_index] = lli
    return SystemObs(list(types), [f"{sys_}{int(p):02d}" for p in uniq], out, flags)
