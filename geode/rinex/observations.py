"""The observation records of one RINEX 2.11 / 3.x / 4.x file as numpy arrays (for quality control).

Two readers give the same arrays (a test holds them to it, bit for bit, on regular and damaged files):

* the fast one (RINEX 3/4 in the regular layout, ``_FastReader``) parses the text in pieces of whole epochs as
  it comes out of the decompression, so its work overlaps crx2rnx's: lines found with numpy, epoch records
  parsed by their fixed columns, each piece's records gathered from the text in one indexing step, F14.3
  values converted by fixed-point arithmetic (the same correctly rounded numbers float() gives; any field in
  another layout goes through float()). Anything irregular hands the whole text to
* the general one (``_parse_lines``): the text split into lines, the epoch records walked once in Python (one
  step per epoch), every observation record parsed in one vectorised pass per system. A record that does not
  parse is a ``RinexFileError`` naming the line (the fast reader never raises its own: it defers to this one).

Compact RINEX (Hatanaka) files are decoded from their compact text by ``geode.rinex.compact`` into the same
arrays (a test holds it to crx2rnx's text through these readers); what it does not cover goes through crx2rnx
and these readers. The whole text of one file is held in memory (bounded by the file, capped like every read by
``max_size``).
"""

from __future__ import annotations

import datetime as dt
import io
import math
import re
import threading
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Callable

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .compression import DEFAULT_MAX_SIZE, RinexFileError, drain, open_rinex
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


def read_observations(src: Path | str | BinaryIO, max_size: int | None = None, select: Select | None = None, *,
                      plain_text: bool = True) -> Observations:
    """The observations of a file in any compression ``open_rinex`` takes (RinexFileError when unreadable).
    ``select`` picks, per system, which observables are parsed into numbers (all by default), knowing how many
    non-blank values each has.

    Compact RINEX is decoded from its compact text (``geode.rinex.compact``) wherever that decoder can, else by
    crx2rnx. ``plain_text`` True: the digest and size of the plain text (what ``info()`` reports) are needed too;
    crx2rnx then runs beside the decoding only to give them (and its error, if it finds one)."""
    with open_rinex(src, max_size=max_size, decode_hatanaka=False) as stream:
        if not stream.hatanaka:
            return _read_stream(stream, select)
        compact, compression = b"".join(stream.chunks()), stream.compression
    from .compact import decode_compact

    digest = _plain_digest(compact, max_size) if plain_text else None
    obs = decode_compact(compact, select, DEFAULT_MAX_SIZE if max_size is None else int(max_size))
    if obs is None:  # crx2rnx decodes it, and names what is wrong
        if digest is not None:
            digest(wait_only=True)
        with open_rinex(io.BytesIO(compact), max_size=max_size) as stream:
            obs = _read_stream(stream, select)
    elif digest is not None:
        obs.digest, obs.size = digest()
    obs.compression, obs.hatanaka = compression, True
    return obs


def _plain_digest(compact: bytes, max_size: int | None) -> Callable[..., tuple[str, int]]:
    """crx2rnx run on Compact RINEX text in a thread: a function that waits for (SHA-256, size) of the plain text
    and raises what decompressing it raised."""
    done: dict = {}

    def run() -> None:
        try:
            with open_rinex(io.BytesIO(compact), max_size=max_size) as stream:
                drain(stream)
                done["result"] = stream.hexdigest(), stream.size
        except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread
            done["error"] = exc

    thread = threading.Thread(target=run, name="geode-plain-digest", daemon=True)
    thread.start()

    def result(wait_only: bool = False) -> tuple[str, int]:
        thread.join()
        if "error" in done and not wait_only:
            raise done["error"]
        return done.get("result", ("", 0))

    return result


def _read_stream(stream, select: Select | None) -> Observations:
    """Plain RINEX text from a stream, parsed piece by piece as it arrives (the fast reader) or, when it is
    irregular, by the general reader."""
    reader = _FastReader()
    chunks: list[bytes] = []
    for data in stream.chunks():
        chunks.append(data)
        reader.feed(data)  # parses whole pieces while the rest is still being decompressed
    obs = reader.finish(select)
    if obs is None:
        data = b"".join(chunks)
        chunks.clear()
        obs = _parse_lines(data, select)
    obs.digest, obs.compression, obs.hatanaka = stream.hexdigest(), stream.compression, stream.hatanaka
    return obs


def _lines(data: bytes) -> list[bytes]:
    lines = data.split(b"\n")
    if lines and not lines[-1]:  # text ends with a newline: no last empty line
        lines.pop()
    if b"\r" in data:
        lines = [line.rstrip(b"\r") for line in lines]
    return lines


def parse_observations(data: bytes, select: Select | None = None) -> Observations:
    if b"\r" not in data:
        obs = _parse_fast(data, select)
        if obs is not None:
            return obs
    return _parse_lines(data, select)


def _parse_lines(data: bytes, select: Select | None = None) -> Observations:
    """The general reader: the text split into lines, the epochs walked one by one in Python (every RINEX
    version; every error named with its line)."""
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
    interval = _interval(steps, header)
    if interval <= 0:
        raise RinexFileError("single epoch and no INTERVAL header: the sampling interval is unknown")
    systems = _assemble(lines, header, records, len(seconds), v3, select)
    return Observations(header, t0, seconds, float(interval), systems, slots, len(data), events)


PIECE = 512 * 1024  # bytes of epochs parsed at a time while the rest of the file is still being decompressed


def _parse_fast(data: bytes, select: Select | None) -> Observations | None:
    reader = _FastReader()
    reader.feed(data)
    return reader.finish(select)


class _FastReader:
    """RINEX 3/4 files in the regular layout, read piece by piece as the text arrives (so the parsing overlaps
    the decompression), without a Python step per line or per epoch: the lines found with numpy, the epoch
    records parsed by their fixed columns, each piece's records gathered from the text in one indexing step,
    the values converted once at the end. ``finish`` gives None (the general reader takes the whole text, and
    names any error) when anything is irregular: RINEX 2, carriage returns, blank lines, event records, an epoch
    line not in the canonical columns, records not where the counts put them, or any record the assembly
    rejects."""

    def __init__(self):
        self.failed = False
        self.size = 0
        self.header: RinexHeader | None = None
        self.header_lines: list[str] = []
        self.label_seen = False  # END OF HEADER has arrived
        self.first_data = 0  # line index of the first data line
        self.width = 0
        self.pending: list[bytes] = []  # text not parsed yet (from a line start)
        self.pending_size = 0
        self.lines = 0  # data lines parsed
        self.epochs = 0
        self.times: list[np.ndarray] = []
        self.full: list[tuple] = []  # per piece: record heads, field text, values, odd, LLI, filled
        self.record_line: list[np.ndarray] = []
        self.record_epoch: list[np.ndarray] = []

    def feed(self, data: bytes) -> None:
        self.size += len(data)
        if self.failed or not data:
            return
        if b"\r" in data:
            self.failed = True
            return
        self.pending.append(data)
        self.pending_size += len(data)
        if self.header is None:
            if not self.label_seen:
                self.label_seen = b"END OF HEADER" in data or self._header_maybe_split(data)
            if self.label_seen:
                self._read_header()
            return
        if self.pending_size >= PIECE:
            text = b"".join(self.pending)
            cut = text.rfind(b"\n>")
            if cut < 0:  # no epoch record in a whole piece: not a regular file
                self.failed = True
                self.pending = []
                return
            self.pending = [text[cut + 1:]]
            self.pending_size = len(self.pending[0])
            self._piece(text[:cut + 1])

    def _header_maybe_split(self, data: bytes) -> bool:
        return len(self.pending) > 1 and b"END OF HEADER" in self.pending[-2][-20:] + data[:20]

    def _read_header(self) -> None:
        text = b"".join(self.pending)
        label = text.find(b"END OF HEADER")
        if label < 0 or text.find(b"\n", label) < 0:  # wait for the end of that line
            self.pending = [text]
            return
        where = [0, 0]

        def numbered():
            start, size, n = 0, len(text), 0
            while start < size:
                end = text.find(b"\n", start)
                if end < 0:
                    return  # an unfinished line: more text to come
                n += 1
                where[0], where[1] = n, end + 1
                line = text[start:end].decode("ascii", "replace")
                self.header_lines.append(line)
                yield n, line
                start = end + 1

        try:
            header = parse_header(numbered())
        except RinexFileError:
            self.failed = True
            self.pending = []
            return
        if header.version < 3 or not header.obs_types:
            self.failed = True
            self.pending = []
            return
        self.header = header
        self.first_data = where[0]
        self.width = 3 + 16 * max(len(t) for t in header.obs_types.values())
        rest = text[where[1]:]
        self.pending = [rest]
        self.pending_size = len(rest)

    def _piece(self, text: bytes) -> None:
        """Epochs from a line start to the end of a line (the next epoch record or the end of the file)."""
        if self.failed:
            return
        size = len(text)
        width = self.width
        buf = np.empty(size + width + 64, dtype=np.uint8)
        buf[:size] = np.frombuffer(text, dtype=np.uint8)
        buf[size:] = 32  # blanks after the text: every fixed-width window below stays inside
        newlines = np.flatnonzero(buf[:size] == 10)
        starts = np.concatenate(([0], newlines + 1))
        ends = np.concatenate((newlines, [size]))
        if starts[-1] == size:  # the text ends with a newline
            starts, ends = starts[:-1], ends[:-1]
        lengths = ends - starts
        n_lines = len(starts)
        epoch_line = buf[starts] == ord(">")
        at = np.flatnonzero(epoch_line)
        if not len(at) or at[0] != 0 or np.any(lengths[at] < 35):
            self.failed = True
            return
        head = sliding_window_view(buf, 35)[starts[at]]
        epochs = _epoch_times(head)
        if epochs is None:
            self.failed = True
            return
        times, count = epochs
        if np.any(at[1:] != at[:-1] + 1 + count[:-1]) or at[-1] + 1 + count[-1] != n_lines:
            self.failed = True
            return
        self.times.append(times)
        records = np.flatnonzero(~epoch_line)
        at_record, length = starts[records], lengths[records][:, None]
        head = sliding_window_view(buf, 3)[at_record]
        np.copyto(head, 32, where=np.arange(3) >= length)  # blank-padded like ljust
        # the fields' characters; those beyond a line's end (the next lines' text) count as blanks, through
        # ``valid`` (characters of each field on its line), not by rewriting them
        body = sliding_window_view(buf, width - 3)[at_record + 3]
        shape = (len(records), (width - 3) // 16)
        valid = np.clip(length - 3 - 16 * np.arange(shape[1]), 0, 16).astype(np.uint8).ravel()
        # every field converted now (the types QC wants are known only from the whole file's counts)
        fields = body.reshape(-1, 16)
        values, canonical, blank = _fixed_f14(fields, valid)
        values[blank] = np.nan
        odd = (~canonical & ~blank).reshape(shape)
        lli = np.where(valid > 14, _digits(fields[:, 14]), np.uint8(0))
        filled = ((fields[:, 13] != 32) & (valid > 13)) | ((fields[:, 10] != 32) & (valid > 10))
        self.full.append((head, (body, valid.reshape(shape)) if odd.any() else None, values.reshape(shape), odd,
                          lli.reshape(shape), filled.reshape(shape)))
        self.record_line.append(self.first_data + self.lines + records)
        self.record_epoch.append(self.epochs + np.repeat(np.arange(len(at)), count))
        self.lines += n_lines
        self.epochs += len(at)

    def finish(self, select: Select | None) -> Observations | None:
        if self.header is None or self.failed:
            return None
        self._piece(b"".join(self.pending))
        self.pending = []
        if self.failed:
            return None
        timeline = _timeline(np.concatenate(self.times), self.header)
        if timeline is None:
            return None
        seconds, t0, interval = timeline
        heads, bodies, values, odd, lli, filled = zip(*self.full)
        self.full = []
        body = None
        if any(b is not None for b in bodies):  # some field in another layout: its text is needed
            k = (self.width - 3) // 16
            body = (np.concatenate([b[0] if b is not None else np.full((len(h), 16 * k), 32, dtype=np.uint8)
                                    for h, b in zip(heads, bodies)]),
                    np.concatenate([b[1] if b is not None else np.zeros((len(h), k), dtype=np.uint8)
                                    for h, b in zip(heads, bodies)]))
        head, values, odd, lli, filled = (np.concatenate(part) for part in (heads, values, odd, lli, filled))
        systems = self._assemble(head, body, values, odd, lli, filled, np.concatenate(self.record_line),
                                 np.concatenate(self.record_epoch), len(seconds), select)
        if systems is None:
            return None
        return Observations(self.header, t0, seconds, float(interval), systems, _glonass_slots(self.header_lines),
                            self.size, 0)


    def _assemble(self, head, body, values, odd, lli, filled, first, epoch, n_epochs, select
                  ) -> dict[str, SystemObs] | None:
        """``_assemble_v3`` from the converted fields; None where it would raise (the general reader names it)."""
        sys_chars = head[:, 0]
        prn_ok = _prn_chars_ok(head)
        if not prn_ok.all():
            return None
        prn = _prn(head)
        systems: dict[str, SystemObs] = {}
        for code in np.flatnonzero(np.bincount(sys_chars, minlength=256)):  # np.unique, without sorting
            sys_ = chr(code)
            types = self.header.obs_types.get(sys_)
            if types is None:
                return None
            rows = np.flatnonzero(sys_chars == code)
            k = len(types)
            keep = list(range(k))
            if select is not None:
                counts = np.count_nonzero(filled[rows, :k], axis=0).tolist()
                wanted = set(select(sys_, list(types), counts))
                keep = [j for j, t in enumerate(types) if t in wanted]
            v = values[np.ix_(rows, keep)]
            strange = odd[np.ix_(rows, keep)]
            if strange.any():  # fields in another layout: float() of their text, as the general reader does
                r, j = np.nonzero(strange)
                text, valid = body
                column = np.asarray(keep)[j]
                cells = text[rows[r]].reshape(len(r), -1, 16)[np.arange(len(r)), column, :14]
                np.copyto(cells, 32, where=np.arange(14) >= valid[rows[r], column][:, None])  # beyond the line
                try:
                    v[r, j] = np.ascontiguousarray(cells).view("S14").ravel().astype(np.float64)
                except ValueError:
                    return None
            try:
                systems[sys_] = _scatter(sys_, [types[j] for j in keep], prn[rows], epoch[rows], v,
                                         lli[np.ix_(rows, keep)], n_epochs)
            except RinexFileError:
                return None
        return systems


def _epoch_times(head: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """Observation epoch records (N, 35) in the canonical RINEX 3/4 columns -> (times as the general reader
    computes them, satellite counts), or None for anything else (flags other than 0/1, another layout, an
    impossible date)."""
    if not np.all(np.isin(head[:, 31], (ord("0"), ord("1")))) or not np.all(head[:, [1, 6, 9, 12, 15]] == 32):
        return None
    numbers = _epoch_numbers(head)
    if numbers is None:
        return None
    year, month, day, hour, minute, whole, fraction, count = numbers
    if np.any(head[:, 21] != ord(".")) or np.any(head[:, 22:29] == 32):
        return None
    sec = (whole * 10_000_000 + fraction) / 1e7  # = float() of the text: both exact, one rounding
    if np.any(hour >= 24) or np.any(minute >= 60) or np.any(sec >= 61):
        return None
    key = (year * 100 + month) * 100 + day
    days, which = np.unique(key, return_inverse=True)
    ordinals = []
    for k in days.tolist():
        try:
            ordinals.append(dt.date(k // 10000, k // 100 % 100, k % 100).toordinal())
        except ValueError:
            return None
    # the general reader's ordinal * 86400.0 + hour * 3600 + minute * 60 + sec, in the same order
    return np.asarray(ordinals, dtype=np.int64)[which] * 86400.0 + hour * 3600 + minute * 60 + sec, count


def _timeline(times: np.ndarray, header: RinexHeader) -> tuple[np.ndarray, dt.datetime, float] | None:
    """(seconds after the first epoch, first epoch, sampling interval) as the general reader gives them, or None
    where it would raise (epochs out of order, no interval)."""
    seconds, t0, _ = _times(times.tolist(), 0)
    steps = np.diff(seconds)
    if np.any(steps <= 0):
        return None
    interval = _interval(steps, header)
    if interval <= 0:
        return None
    return seconds, t0, interval


def _interval(steps: np.ndarray, header: RinexHeader) -> float:
    """The real sampling interval: the most common step between epochs (ms resolution), else the header's."""
    return Counter(np.round(steps, 3).tolist()).most_common(1)[0][0] if len(steps) else float(header.interval or 0)


# the integers of an epoch record: year, month, day, hour, minute, whole seconds, 7 decimals, record count
_EPOCH_FIELDS = ((2, 6), (7, 9), (10, 12), (13, 15), (16, 18), (18, 21), (22, 29), (32, 35))
_EPOCH_COLUMNS = np.concatenate([np.arange(a, b) for a, b in _EPOCH_FIELDS])
_EPOCH_LAST = np.cumsum([b - a for a, b in _EPOCH_FIELDS]) - 1  # each field's last column in _EPOCH_COLUMNS
_EPOCH_INSIDE = np.ones(len(_EPOCH_COLUMNS) - 1, dtype=bool)  # column pairs within one field
_EPOCH_INSIDE[_EPOCH_LAST[:-1]] = False
_EPOCH_WEIGHTS = np.zeros((len(_EPOCH_COLUMNS), len(_EPOCH_FIELDS)))
for _f, (_a, _b) in enumerate(_EPOCH_FIELDS):
    _at = _EPOCH_LAST[_f] - (_b - _a) + 1
    _EPOCH_WEIGHTS[_at:_at + _b - _a, _f] = 10.0 ** np.arange(_b - _a - 1, -1, -1)


def _epoch_numbers(head: np.ndarray) -> list[np.ndarray] | None:
    """The integer fields of epoch records (N, 35): each right-aligned (blanks, then at least one digit), else
    None. One product with a matrix of powers of ten (exact: below 2**53)."""
    chars = head[:, _EPOCH_COLUMNS]
    digit = (chars >= 48) & (chars <= 57)
    blank = chars == 32
    if not (np.all(digit | blank) and np.all(digit[:, _EPOCH_LAST])
            and not np.any(blank[:, 1:] & digit[:, :-1] & _EPOCH_INSIDE)):
        return None
    numbers = (np.where(digit, chars - 48, 0).astype(np.float64) @ _EPOCH_WEIGHTS).astype(np.int64)
    return list(numbers.T)


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

    def add_epochs(self, index: list[int], first: list[int], counts: list[int], lines_per_record: int = 1) -> None:
        """The records of epochs (their index, first record line and record count): record k of an epoch starts
        ``k * lines_per_record`` lines after the epoch's first."""
        c = np.asarray(counts)
        self.epoch.append(np.repeat(np.asarray(index), c))
        offsets = np.arange(c.sum()) - np.repeat(np.cumsum(c) - c, c)
        self.first_line.append(np.repeat(np.asarray(first), c) + offsets * lines_per_record)


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
        recs.add_epochs(ep_index, ep_first, ep_count)
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
        recs.add_epochs(ep_index, ep_first, counts, lines_per_record=per_sat)
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


_U64 = np.uint64


def _eight_digits(x: np.ndarray) -> np.ndarray:
    """uint64 words of 8 digit values (0-9, one per byte, the first digit in the lowest byte) -> the 8-digit
    numbers (three multiply-shift steps pairing digits, then pairs, then quads)."""
    x = (x * _U64(2561)) >> _U64(8)
    x = ((x & _U64(0x00FF00FF00FF00FF)) * _U64(6553601)) >> _U64(16)
    return ((x & _U64(0x0000FFFF0000FFFF)) * _U64(42949672960001)) >> _U64(32)


def _fixed_f14(fields: np.ndarray, valid: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(M, 16) uint8 observation fields (F14.3, LLI, SSI) -> (values, canonical, blank), all (M,).

    ``canonical``: the 14 characters are blanks, an optional '-', digits, '.' at column 11 and three digits:
    the value is then the exact integer of its digits / 1000, which is the correctly rounded value of the text
    like float() (both exact in float64, one division). Other fields are left to float() by the caller.
    ``valid`` (M,): characters of each field that are on its line; the others count as blanks (their bytes are
    never used then)."""
    t = fields - np.uint8(48)
    digit = t <= 9
    t *= digit  # digit values, 0 elsewhere
    # one bit per column (16 per field): blanks, digits, minus signs
    sp = np.packbits((fields == 32).ravel(), bitorder="little").view(np.uint16)
    db = np.packbits(digit.ravel(), bitorder="little").view(np.uint16)
    mb = np.packbits((fields == 45).ravel(), bitorder="little").view(np.uint16) & np.uint16(0x3FF)
    if valid is not None:
        on_line = ((np.uint32(1) << valid.astype(np.uint32)) - np.uint32(1)).astype(np.uint16)
        sp |= ~on_line
        db &= on_line
        mb &= on_line
    lead = sp & np.uint16(0x3FF)  # blanks among the 10 integer columns: they must be leading (bits 0..n-1)
    canonical = ((fields[:, 10] == 46) & ((db & np.uint16(0x3800)) == 0x3800) & ((lead & (lead + np.uint16(1))) == 0)
                 & ((mb == 0) | (mb == lead + np.uint16(1))) & (((db | sp | mb) & np.uint16(0x3FF)) == 0x3FF))
    blank = (sp & np.uint16(0x3FFF)) == 0x3FFF
    words = t.view(np.uint64)  # (M, 2): columns 0-7, columns 8-15
    high, low = words[:, 0], words[:, 1]
    # columns 8, 9 and 11-13 as the last five digits of an 8-digit word (the '.' and LLI/SSI dropped)
    low = ((low & _U64(0xFFFF)) << _U64(24)) | ((low & _U64(0xFFFFFF000000)) << _U64(16))
    number = _eight_digits(high) * _U64(100000) + _eight_digits(low)
    values = number.astype(np.float64) / 1000.0
    np.negative(values, out=values, where=mb != 0)
    return values, canonical, blank


def _values(chars: np.ndarray, first_line: np.ndarray, width: int) -> np.ndarray:
    """Observation fields (N, K, 16) → float64 (N, K) from their F14.3 part, NaN for blank fields. Fields in
    the canonical layout are converted by fixed-point arithmetic; any other goes through numpy's own
    text-to-float conversion, which rejects anything that is not a number: a RinexFileError naming the first
    such field."""
    n, k, _ = chars.shape
    fields = np.ascontiguousarray(chars).reshape(-1, 16)
    values, canonical, blank = _fixed_f14(fields)
    values[blank] = np.nan
    odd = np.flatnonzero(~canonical & ~blank)
    if len(odd):
        text = np.ascontiguousarray(fields[odd, :14]).view("S14").ravel()
        try:
            values[odd] = text.astype(np.float64)
        except ValueError:
            for i, item in zip(odd.tolist(), text):
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


def _prn_chars_ok(names: np.ndarray) -> np.ndarray:
    """(N, 2): which characters of (N, 3) satellite names after the system letter are digits or blanks."""
    return ((names[:, 1:] >= 48) & (names[:, 1:] <= 57)) | (names[:, 1:] == 32)


def _prn(names: np.ndarray) -> np.ndarray:
    """The PRNs of (N, 3) satellite names, blanks read as zeros (" 5" is 5)."""
    return _digits(names[:, 1]).astype(np.int64) * 10 + _digits(names[:, 2])


def _slots(prn: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each record's satellite column (PRN 0-99 in increasing order: np.unique without sorting) and the PRNs."""
    seen = np.zeros(100, dtype=bool)
    seen[prn] = True
    uniq = np.flatnonzero(seen)
    column = np.zeros(100, dtype=np.int64)
    column[uniq] = np.arange(len(uniq))
    return column[prn], uniq


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
        return _assemble_v3(full, first, epoch, header, n_epochs, select)
    else:
        types = next(iter(header.obs_types.values()))
        k = len(types)
        per_sat = max(1, math.ceil(k / 5))
        record_lines = (first[:, None] + np.arange(per_sat)[None, :]).ravel()
        chars = _gather(lines, record_lines, 0, 80).reshape(len(first), per_sat * 5, 16)[:, :k]
        names = np.frombuffer(recs.sat[0], dtype=np.uint8).reshape(-1, 3)
        sys_of = names[:, 0]
        prn = _prn(names)
        for code in np.unique(sys_of):
            rows = np.flatnonzero(sys_of == code)
            systems[chr(code)] = _dense(chr(code), list(types), prn[rows], epoch[rows], chars[rows], first[rows],
                                        n_epochs, 80, select)
    return systems


def _assemble_v3(full: np.ndarray, first: np.ndarray, epoch: np.ndarray, header: RinexHeader, n_epochs: int,
                 select: Select | None) -> dict[str, SystemObs]:
    """RINEX 3/4 records, each line's first characters blank-padded in ``full`` (R, 3 + 16 * widest)."""
    systems: dict[str, SystemObs] = {}
    head = full[:, :3]
    sys_chars = head[:, 0]
    if np.any(sys_chars == ord(">")):
        row = int(np.flatnonzero(sys_chars == ord(">"))[0])
        raise RinexFileError("epoch record is truncated (fewer satellite records than announced)",
                             line=int(first[row]) + 1)
    prn_ok = _prn_chars_ok(head)
    if not prn_ok.all():
        row = int(np.flatnonzero(~prn_ok.all(axis=1))[0])
        raise RinexFileError(f"bad satellite {head[row].tobytes().decode('ascii', 'replace')!r} in an "
                             "observation record", line=int(first[row]) + 1)
    prn = _prn(head)
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
    chars = chars[:, keep]
    values = _values(chars, first, width)
    lli = _digits(chars[:, :, 14])
    return _scatter(sys_, types, prn, epoch, values, lli, n_epochs)


def _scatter(sys_: str, types: list[str], prn: np.ndarray, epoch: np.ndarray, values: np.ndarray, lli: np.ndarray,
             n_epochs: int) -> SystemObs:
    """Records' values and LLI (R, K) into the dense (E, S, K) arrays."""
    sat_index, uniq = _slots(prn)
    n_sat = len(uniq)
    if len(epoch) and np.bincount(epoch * n_sat + sat_index).max() > 1:
        raise RinexFileError(f"a satellite of system {sys_} appears twice in one epoch")
    # stored observable by observable ((K, E, S), each column contiguous), seen as (E, S, K)
    cell = epoch * n_sat + sat_index
    out = np.full((len(types), n_epochs * n_sat), np.nan)
    flags = np.zeros((len(types), n_epochs * n_sat), dtype=np.uint8)
    for k in range(len(types)):
        out[k, cell] = values[:, k]
        flags[k, cell] = lli[:, k]
    shape = (len(types), n_epochs, n_sat)
    return SystemObs(list(types), [f"{sys_}{int(p):02d}" for p in uniq], out.reshape(shape).transpose(1, 2, 0),
                     flags.reshape(shape).transpose(1, 2, 0))
