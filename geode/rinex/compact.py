"""Compact RINEX 3 (Hatanaka) observation files decoded straight into arrays, without crx2rnx (quality control).

Compact RINEX (Hatanaka 2008, "A compression format and tools for GNSS observation data", Bulletin of the
Geospatial Information Authority of Japan 55:21-30; the format as crx2rnx 4.1 reads it) keeps:

* each epoch line as a character difference from the one before (' ' unchanged, '&' now blank, any other
  character replaces), or whole after '>' (every arc restarts there), then a clock line;
* one line per satellite of the epoch's list: its observables as integers in units of 0.001, separated by one
  blank (an empty field is a blank observation), then the LLI/SSI flags as a character difference;
* each observable as its order-N time difference within an arc that starts with an "N&value" field; the first
  epochs of an arc use orders 0, 1, ..., N-1 (so value x_t = sum_i C(t, i) d_i there).

Decoding is vectorised: one Python step per epoch (to find where its lines are), then the epoch lines repaired
by a forward fill per column, the fields split at their blanks, their integers read eight digits at a time,
and every arc integrated by N cumulative sums that restart at its first field. The values are the same
integers crx2rnx prints, divided by 1000 like the text reader does: the arrays are the ones
``read_observations`` gives from crx2rnx's text, bit for bit (a test holds it to that). Anything this does not
cover, or that crx2rnx would reject or warn about (CRINEX 1 / RINEX 2, event records, escape lines, carriage
returns, broken arcs, values out of the F14.3 range, more satellites than crx2rnx takes ...), gives None: the
caller then decodes the same text with crx2rnx, whose answer (or error) stands.
"""

from __future__ import annotations

from math import comb

import numpy as np

from .compression import RinexFileError
from .observations import (Observations, Select, _digits, _eight_digits, _epoch_times, _glonass_slots, _scatter,
                           _timeline, _U64)
from .reader import RinexHeader, parse_header

MAX_LINE = 2047  # crx2rnx reads lines into 2048 bytes
MAX_SAT = 100  # satellites per epoch crx2rnx takes
MAX_TYPE = 100  # observables per system crx2rnx takes
MAX_ORDER = 5  # difference order crx2rnx takes
SAT_COLUMN = 41  # the satellite list starts here in a CRINEX 3 epoch line
LOW, HIGH = -10 ** 12, 10 ** 13  # integers crx2rnx can print as F14.3 (its error 17 beyond)


def decode_compact(text: bytes, select: Select | None, max_size: int) -> Observations | None:
    """The observations of Compact RINEX 3 text (a RINEX 3/4 file), or None when crx2rnx should decode it.
    ``max_size``: the plain-text limit; a file whose plain text would surely exceed it gives None (the text
    reader then names the limit)."""
    if b"\r" in text or b"\x1a" in text or not text.endswith(b"\n"):
        return None
    head = _header(text)
    if head is None:
        return None
    header, header_lines, base = head
    buf = np.frombuffer(text, dtype=np.uint8)
    split = _Split(buf, base)
    if not len(split.ends) or np.any(split.ends - split.starts >= MAX_LINE):
        return None
    walked = _walk(text, split)
    if walked is None:
        return None
    at, most = walked
    if not _clocks_ok(buf, split.starts[at + 1], split.ends[at + 1]):
        return None
    lines, restart = _epoch_lines(buf, split.starts[at], split.ends[at], SAT_COLUMN + 3 * most)
    # crx2rnx's checks: blanks before the flag; the count is atoi() of column 32 on (no digit after it)
    ok = np.all(lines[:, 29:31] == 32) and not np.any((lines[:, 35] >= 48) & (lines[:, 35] <= 57))
    epochs = _epoch_times(lines[:, :35]) if ok else None
    if epochs is None:
        return None
    times, count = epochs
    timeline = _timeline(times, header)
    if timeline is None:
        return None
    seconds, t0, interval = timeline
    records = _records(lines, count, at, header)
    if records is None:
        return None
    if len(seconds) * 36 + len(records.epoch) * 4 + (len(split.seps) - 2 * len(records.epoch)) * 14 > max_size:
        return None  # the least plain text it can be (about a field per separator) is over the limit
    systems = {}
    for code in np.flatnonzero(np.bincount(records.sys, minlength=256)):  # in code order, like the text reader
        sys_ = chr(int(code))
        decoded = _system(buf, split, sys_, header.obs_types[sys_], records, records.sys == code, restart,
                          len(seconds), select)
        if decoded is None:
            return None
        systems[sys_] = decoded
    return Observations(header, t0, seconds, float(interval), systems, _glonass_slots(header_lines), 0, 0)


def _header(text: bytes) -> tuple[RinexHeader, list[str], int] | None:
    """The RINEX header inside a CRINEX 3 header, its lines as crx2rnx writes them, and where the data starts."""
    first = text[:text.find(b"\n")]
    if first[:3] != b"3.0" or first[60:79] != b"CRINEX VERS   / TYPE"[:19]:  # as crx2rnx compares
        return None
    label = text.find(b"END OF HEADER")
    stop = text.find(b"\n", label)
    if label < 0 or stop < 0:
        return None
    raw = text[:stop].split(b"\n")[2:]  # after CRINEX VERS / TYPE and CRINEX PROG / DATE
    lines = [line.rstrip(b" ").decode("ascii", "replace") for line in raw]
    try:
        header = parse_header(iter(enumerate(lines, 1)))
    except RinexFileError:
        return None
    if header.version < 3 or not header.obs_types or lines[-1][60:73] != "END OF HEADER":
        return None
    for line in lines:  # crx2rnx splits the records by the announced counts
        if line[60:79] == "SYS / # / OBS TYPES" and line[:1] != " ":
            announced = line[3:6].strip()
            if not announced.isdigit() or not 0 < int(announced) <= MAX_TYPE \
                    or int(announced) != len(header.obs_types.get(line[0], ())):
                return None
    return header, lines, stop + 1


class _Split:
    """The data part cut at every blank and end of line: ``seps`` their positions; per line ``starts``, ``ends``
    (its end of line), ``first`` (index of its first separator) and ``count`` (its separators, end included)."""

    def __init__(self, buf: np.ndarray, base: int):
        data = buf[base:]
        self.seps = (np.flatnonzero((data == 32) | (data == 10)) + base).astype(np.int32)
        at = np.flatnonzero(buf[self.seps] == 10)
        self.ends = self.seps[at]
        self.starts = np.concatenate(([base], self.ends[:-1] + 1)).astype(np.int32)
        self.count = np.diff(at, prepend=-1)
        self.first = at + 1 - self.count


def _walk(text: bytes, split: _Split) -> tuple[np.ndarray, int] | None:
    """The line index of every epoch line (each is followed by a clock line and one line per satellite) and the
    most satellites in an epoch. The satellite count (columns 32-34) changes only on a line starting with '>' or
    reaching that far: one short Python step per epoch."""
    starts, ends = split.starts, split.ends
    lengths = ends - starts
    plain = ((lengths <= 32) & ((lengths == 0) | (np.frombuffer(text, np.uint8)[starts] == 32))).tolist()
    starts, lengths = starts.tolist(), lengths.tolist()
    if plain[0]:
        return None
    count = b"   "
    step = most = 0
    n = len(starts)
    found = []
    i = 0
    while i < n:
        if not plain[i]:
            s, length = starts[i], lengths[i]
            first = text[s]
            cols = text[s + 32:s + min(35, length)].ljust(3)
            if first == 62:  # '>': the whole line
                count = cols.replace(b"&", b" ")
            elif first != 32:  # an escape line, or damage
                return None
            else:
                count = bytes(c if d == 32 else (32 if d == 38 else d) for c, d in zip(count, cols))
            if not (count[2:].isdigit() and count.lstrip().isdigit()):  # blanks, then digits
                return None
            number = int(count)
            if number > MAX_SAT:
                return None
            most = max(most, number)
            step = 2 + number
        found.append(i)
        i += step
    if i != n:
        return None
    return np.asarray(found, dtype=np.int64), most


def _clocks_ok(buf: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> bool:
    """Clock lines restart their arc as "N&..." with N at most 5 (crx2rnx's limit; the values are not needed)."""
    long = starts[ends - starts >= 2]
    restart = long[buf[long + 1] == 38]
    return bool(np.all((buf[restart] >= 48) & (buf[restart] <= 48 + MAX_ORDER)))


def _epoch_lines(buf: np.ndarray, starts: np.ndarray, ends: np.ndarray, width: int
                 ) -> tuple[np.ndarray, np.ndarray]:
    """The repaired epoch lines (E, width), blank-padded (per column the last character set; a '>' line sets
    them all), and which epochs were '>' lines."""
    lengths = ends - starts
    columns = np.arange(width)
    on_line = columns < lengths[:, None]
    chars = np.where(on_line, buf[np.minimum(starts[:, None] + columns, len(buf) - 1)], np.uint8(32))
    whole = chars[:, 0] == 62
    set_ = (chars != 32) | whole[:, None]
    chars[chars == 38] = 32  # '&': now blank
    rows = np.where(set_, np.arange(len(starts), dtype=np.int32)[:, None], np.int32(0))
    np.maximum.accumulate(rows, axis=0, out=rows)
    return chars[rows, columns], whole


class _Records:
    """Per satellite record (one data line each): epoch, line, system letter, PRN, and the 3 characters of its
    name as one integer (crx2rnx follows a satellite from epoch to epoch by them)."""

    def __init__(self, epoch, line, sys, prn, key):
        self.epoch, self.line, self.sys, self.prn, self.key = epoch, line, sys, prn, key


def _records(lines: np.ndarray, count: np.ndarray, at: np.ndarray, header: RinexHeader) -> _Records | None:
    total = int(count.sum())
    epoch = np.repeat(np.arange(len(count)), count)
    k = np.arange(total) - np.repeat(np.cumsum(count) - count, count)
    names = lines[epoch[:, None], SAT_COLUMN + 3 * k[:, None] + np.arange(3)]
    prn_ok = ((names[:, 1:] >= 48) & (names[:, 1:] <= 57)) | (names[:, 1:] == 32)
    known = np.zeros(256, dtype=bool)
    known[[ord(s) for s in header.obs_types]] = True
    if not prn_ok.all() or not known[names[:, 0]].all() or np.any(names[:, 2] == 32):  # (a list cut short)
        return None
    prn = _digits(names[:, 1]).astype(np.int64) * 10 + _digits(names[:, 2])
    key = (names[:, 0].astype(np.int64) << 16) | (names[:, 1].astype(np.int64) << 8) | names[:, 2]
    return _Records(epoch, at[epoch] + 2 + k, names[:, 0], prn, key)


# x_t = sum_i C(t, i) d_i over an arc's first N epochs; as order-N differences of the zero-padded series:
# e_t = sum_j (-1)^j C(N, j) x_(t-j) = sum_i A[N][t, i] d_i (then x is N cumulative sums of e within the arc)
_RAMP = {n: np.array([[sum((-1) ** j * comb(n, j) * comb(t - j, i) for j in range(t - i + 1)) if i <= t else 0
                       for i in range(n)] for t in range(n)], dtype=np.int64) for n in range(MAX_ORDER + 1)}
_DIGITS = _U64(0x3030303030303030)
_HIGH_BITS = _U64(0x8080808080808080)
_OVER_NINE = _U64(0x7676767676767676)  # + this sets a byte's high bit exactly when the byte is over 9


def _system(buf, split: _Split, sys_, types, records: _Records, mine, restart, n_epochs, select):
    """One system's SystemObs from its records (None where crx2rnx would complain or this cannot follow). The
    records are taken satellite by satellite, epoch by epoch, and every array is (observable, record): each
    arc is then one run of a flat array, and a record's predecessor the one before it."""
    rows = np.flatnonzero(mine)
    epoch, prn = records.epoch[rows], records.prn[rows]
    seen = np.zeros(100, dtype=bool)
    seen[prn] = True
    slot = (np.cumsum(seen) - 1)[prn]
    grid = np.full(int(seen.sum()) * n_epochs, -1, dtype=np.int64)
    grid[slot * n_epochs + epoch] = np.arange(len(rows))
    order = grid[grid >= 0]
    if len(order) != len(rows):  # a satellite twice in one epoch: the text reader names it
        return None
    rows, epoch, prn, slot = rows[order], epoch[order], prn[order], slot[order]
    key = records.key[rows]
    # crx2rnx's satellite table: the same name the epoch before, and no '>' line here
    goes_on = np.zeros(len(rows), dtype=bool)
    goes_on[1:] = (slot[1:] == slot[:-1]) & (epoch[1:] == epoch[:-1] + 1) & (key[1:] == key[:-1])
    goes_on &= ~restart[epoch]
    k = len(types)
    line = records.line[rows]
    first, count = split.first[line], split.count[line]
    index = first + np.arange(k)[:, None]  # (k, R): the separator after each field ...
    there = np.arange(k)[:, None] < np.minimum(count, k)  # ... when the line reaches that field
    index = np.where(there, index, 0)
    end = np.where(there, split.seps[index], 0)
    start = np.where(there, split.seps[index - 1] + 1, 0)
    filled = end > start
    keep = list(range(k))
    if select is not None:
        wanted = set(select(sys_, list(types), np.count_nonzero(filled, axis=1).tolist()))
        keep = [j for j, t in enumerate(types) if t in wanted]
    # every field restarts its arc ("N&", N <= 5), or goes on from a value of the same satellite the epoch before
    arc_start = filled & (buf[start + 1] == 38)
    after = np.zeros_like(filled)
    after[:, 1:] = filled[:, :-1] & goes_on[1:]
    if np.any(filled & ~arc_start & ~after):
        return None
    arc_order = buf[start[arc_start]]
    if len(arc_order) and (arc_order.min() < 48 or arc_order.max() > 48 + MAX_ORDER
                           or arc_order.min() != arc_order.max()):
        return None  # one order for the whole file (crx2rnx writes 3; anything else goes to crx2rnx)
    n = int(arc_order[0]) - 48 if len(arc_order) else 0
    # every observable decoded (crx2rnx stops on any value out of range), the selected ones kept
    d = _integers(buf, start, end, arc_start, filled)
    x = None if d is None else _integrate(d, arc_start, filled, n)
    if x is None:
        return None
    filled, x = filled[keep], x[keep]
    values = np.where(filled, x / 1000.0, np.nan)
    has_flags = count > k  # the K-th separator is a blank: flags follow it
    flags = np.where(has_flags, split.seps[np.where(has_flags, first + k - 1, 0)] + 1, split.ends[line] + 1)
    lli = _lli(buf, [2 * j for j in keep], flags, split.ends[line], goes_on, k)
    if lli is None:
        return None
    try:
        return _scatter(sys_, [types[j] for j in keep], prn, epoch, values.T, lli.T, n_epochs)
    except RinexFileError:
        return None


def _integers(buf, start, end, arc_start, filled) -> np.ndarray | None:
    """The integers of fields "[N&][-]digits" (0 where blank), eight digits at a time from 8-byte words read at
    any offset; None for anything else (more than 16 digits too)."""
    shape = start.shape
    start, end, arc_start, filled = (a.ravel() for a in (start, end, arc_start, filled))
    words = np.ndarray((len(buf) - 7,), dtype="<u8", buffer=buf, strides=(1,))  # the 8 bytes from each offset
    first = np.where(filled, start + 2 * arc_start, end)
    negative = buf[first] == 45
    negative &= filled
    first += negative
    digits = end - first
    if digits.max() > 16 or np.any(filled & (digits < 1)):
        return None
    number = _digit_word(words, end, digits)
    long = np.flatnonzero(digits > 8)  # arcs' first values and large steps: the eight digits before those
    if number is not None and len(long):
        high = _digit_word(words, end[long] - 8, digits[long] - 8)
        number = None if high is None else number
        if number is not None:
            number[long] += high * _U64(100_000_000)
    if number is None:
        return None
    number = number.astype(np.int64)
    return np.where(negative, -number, number).reshape(shape)


_LAST_BYTES = np.array([0] + [(0xFFFFFFFFFFFFFFFF << (64 - 8 * n)) & 0xFFFFFFFFFFFFFFFF for n in range(1, 9)],
                       dtype=np.uint64)  # the last n bytes of a little-endian word


def _digit_word(words, end, digits) -> np.ndarray | None:
    """The number of the last min(digits, 8) characters before each ``end`` (all digits, else None)."""
    word = words[end - 8] ^ _DIGITS
    word &= _LAST_BYTES[np.minimum(digits, 8)]
    if np.any(((word + _OVER_NINE) | word) & _HIGH_BITS):
        return None
    return _eight_digits(word)


def _integrate(d, arc_start, filled, n) -> np.ndarray | None:
    """The values (integers) from differences ``d`` (K, R), each arc (a run along R from its "N&" start)
    integrated on its own: its first epochs turned into zero-padded order-n differences, then n cumulative
    sums restarted at every arc's start."""
    shape = d.shape
    d, start, mask = d.ravel(), arc_start.ravel(), filled.ravel()
    begin = np.flatnonzero(start)
    e = d.copy()
    ramp = _RAMP[n]
    inside = np.ones(len(begin), dtype=bool)
    for step in range(1, n):
        at = np.minimum(begin + step, len(d) - 1)
        inside &= (begin + step < len(d)) & mask[at] & ~start[at]
        at = at[inside]
        e[at] = sum(ramp[step, i] * d[at - step + i] for i in range(step + 1))
    cut = np.concatenate(([0], begin)) if not len(begin) or begin[0] else begin
    for _ in range(n):
        e *= mask  # nothing carried through blanks
        e[cut[1:]] -= np.add.reduceat(e, cut)[:-1]  # each run then starts from zero
        np.cumsum(e, out=e)
    e *= mask
    if e.min() <= LOW or e.max() >= HIGH:  # beyond F14.3: crx2rnx stops with an error
        return None
    return e.reshape(shape)


def _lli(buf, columns, flag_start, line_end, goes_on, k) -> np.ndarray | None:
    """Loss-of-lock digits (len(columns), R): a new satellite's flags come whole (2 characters per observable),
    then each record changes them where its flags are not blank ('&': now blank)."""
    size = line_end - flag_start
    if np.any(~goes_on & (size < 2 * k)):
        return None
    out = np.zeros((len(columns), len(goes_on)), dtype=np.uint8)
    for j, column in enumerate(columns):
        char = np.where(column < size, buf[np.minimum(flag_start + column, len(buf) - 1)], np.uint8(32))
        sets = ~goes_on | (char != 32)
        digit = _digits(char)
        if np.any(digit[sets]):  # else no loss of lock anywhere
            # the last record that set it: records of a satellite follow each other, and a satellite that was
            # away comes back new, with every flag set
            last = np.where(sets, np.arange(len(sets)), 0)
            np.maximum.accumulate(last, out=last)
            out[j] = digit[last]
    return out
