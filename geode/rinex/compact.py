"""Compact RINEX (Hatanaka) observation files decoded straight into arrays, without crx2rnx (quality control).

Compact RINEX (Hatanaka 2008, "A compression format and tools for GNSS observation data", Bulletin of the
Geospatial Information Authority of Japan 55:21-30; the format as crx2rnx 4.1 reads it) keeps:

* each epoch line as a character difference from the one before (' ' unchanged, '&' now blank, any other
  character replaces), or whole after '>' (CRINEX 3) or '&' (CRINEX 1, RINEX 2) where every arc restarts, then a
  clock line;
* one line per satellite of the epoch's list: its observables as integers in units of 0.001, separated by one
  blank (an empty field is a blank observation), then the LLI/SSI flags as a character difference (in CRINEX 1
  a blank observation also blanks its flags);
* each observable as its order-N time difference within an arc that starts with an "N&value" field; the first
  epochs of an arc use orders 0, 1, ..., N-1 (so value x_t = sum_i C(t, i) d_i there).

Decoding is vectorised: one Python step per epoch (to find where its lines are), then the epoch lines repaired
by a forward fill per column, the fields split at their blanks, their integers read eight digits at a time,
and every arc integrated by N cumulative sums that restart at its first field. The values are the same
integers crx2rnx prints, divided by 1000 like the text reader does: the arrays are the ones
``read_observations`` gives from crx2rnx's text, bit for bit (a test holds it to that). Anything this does not
cover, or that crx2rnx would reject or warn about (event records, escape lines, carriage returns, epoch lines
not in the canonical columns, broken arcs, values out of the F14.3 range, more satellites than crx2rnx takes
...), gives None: the caller then decodes the same text with crx2rnx, whose answer (or error) stands.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import comb

import numpy as np

from .compression import RinexFileError
from .observations import (SYSTEMS, Observations, Select, _digits, _eight_digits, _epoch_times, _glonass_slots,
                           _prn, _prn_chars_ok, _scatter, _slots, _timeline, _U64)
from .reader import RinexHeader, parse_header

MAX_LINE = 2047  # crx2rnx reads lines into 2048 bytes
MAX_SAT = 100  # satellites per epoch crx2rnx takes
MAX_TYPE = 100  # observables per system crx2rnx takes
MAX_ORDER = 5  # difference order crx2rnx takes
LOW, HIGH = -10 ** 12, 10 ** 13  # integers crx2rnx can print as F14.3 (its error 17 beyond)


@dataclass(frozen=True)
class _Layout:
    """Where the two Compact RINEX versions differ (columns of the repaired epoch line)."""

    crinex: bytes  # CRINEX VERS
    whole: int  # first character of a whole epoch line (every arc restarts)
    top: int  # first character of every repaired epoch line
    flag: int  # epoch flag column; the two columns before it are blank
    count: int  # satellite count columns count..count+2
    sats: int  # the satellite list starts here
    blank_flags: bool  # a blank observation blanks its flags, then and after (CRINEX 1)


CRINEX3 = _Layout(b"3.0", ord(">"), ord(">"), 31, 32, 41, False)
CRINEX1 = _Layout(b"1.0", ord("&"), ord(" "), 28, 29, 32, True)


def decode_compact(text: bytes, select: Select | None, max_size: int) -> Observations | None:
    """The observations of Compact RINEX text (CRINEX 1 of a RINEX 2 file, CRINEX 3 of a RINEX 3/4 file), or None
    when crx2rnx should decode it.
    ``max_size``: the plain-text limit; a file whose plain text would surely exceed it gives None (the text
    reader then names the limit)."""
    if b"\r" in text or b"\x1a" in text or not text.endswith(b"\n"):
        return None
    head = _header(text)
    if head is None:
        return None
    header, header_lines, base, layout = head
    buf = np.frombuffer(text, dtype=np.uint8)
    split = _Split(buf, base)
    if not len(split.ends) or np.any(split.ends - split.starts >= MAX_LINE):
        return None
    walked = _walk(text, split, layout)
    if walked is None:
        return None
    at, most = walked
    if not _clocks_ok(buf, split.starts[at + 1], split.ends[at + 1]):
        return None
    lines, restart = _epoch_lines(buf, split.starts[at], split.ends[at], layout.sats + 3 * most + 1, layout.whole)
    # crx2rnx's checks: the first character, blanks before the flag; the count is atoi() of its columns on (no
    # digit after them)
    after = lines[:, layout.count + 3]
    ok = np.all(lines[:, 0] == layout.top) and np.all(lines[:, layout.flag - 2:layout.flag] == 32) \
        and not np.any((after >= 48) & (after <= 57))
    if not ok:
        return None
    epochs = _epoch_times(lines[:, :35]) if layout is CRINEX3 else _epoch_times_v2(lines[:, :32])
    if epochs is None:
        return None
    times, count = epochs
    if np.any(np.diff(at) != 2 + count[:-1]):  # the walk and the repaired lines agree
        return None
    timeline = _timeline(times, header)
    if timeline is None:
        return None
    seconds, t0, interval = timeline
    records = _records(lines, count, at, header, layout)
    if records is None:
        return None
    if len(seconds) * 36 + len(records.epoch) * 4 + (len(split.seps) - 2 * len(records.epoch)) * 14 > max_size:
        return None  # the plain text (some 14 characters per separator) may be over it: the text reader decides
    systems = {}
    for code in np.flatnonzero(np.bincount(records.sys, minlength=256)):  # in code order, like the text reader
        sys_ = chr(int(code))
        types = header.obs_types[sys_] if layout is CRINEX3 else next(iter(header.obs_types.values()))
        decoded = _system(buf, split, sys_, types, records, records.sys == code, restart, len(seconds), select,
                          layout.blank_flags)
        if decoded is None:
            return None
        systems[sys_] = decoded
    return Observations(header, t0, seconds, float(interval), systems, _glonass_slots(header_lines), 0, 0)


def _header(text: bytes) -> tuple[RinexHeader, list[str], int, _Layout] | None:
    """The RINEX header inside a CRINEX header, its lines as crx2rnx writes them, where the data starts, and the
    layout."""
    first = text[:text.find(b"\n")]
    layout = {CRINEX3.crinex: CRINEX3, CRINEX1.crinex: CRINEX1}.get(first[:3])
    if layout is None or first[60:79] != b"CRINEX VERS   / TYPE"[:19]:  # as crx2rnx compares
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
    if (header.version >= 3) != (layout is CRINEX3) or not header.obs_types \
            or lines[-1][60:73] != "END OF HEADER":
        return None
    for line in lines:  # crx2rnx splits the records by the announced counts
        if line[60:79] in ("SYS / # / OBS TYPES", "# / TYPES OF OBSERV") and line[:1] != " ":
            announced = line[3:6].strip() if layout is CRINEX3 else line[:6].strip()
            types = header.obs_types.get(line[0], ()) if layout is CRINEX3 else next(iter(header.obs_types.values()))
            if not announced.isdigit() or not 0 < int(announced) <= MAX_TYPE or int(announced) != len(types):
                return None
    return header, lines, stop + 1, layout


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


def _walk(text: bytes, split: _Split, layout: _Layout) -> tuple[np.ndarray, int] | None:
    """The line index of every epoch line (each is followed by a clock line and one line per satellite) and the
    most satellites in an epoch. The satellite count changes only on a whole line or one reaching its columns:
    one short Python step per epoch."""
    starts, ends = split.starts, split.ends
    lengths = ends - starts
    at = layout.count
    plain = ((lengths <= at) & ((lengths == 0) | (np.frombuffer(text, np.uint8)[starts] == 32))).tolist()
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
            cols = text[s + at:s + min(at + 3, length)].ljust(3)
            if first == layout.whole:
                count = cols.replace(b"&", b" ")
            elif first != 32 or not found:  # an escape line, damage, or not a whole line first
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


def _epoch_lines(buf: np.ndarray, starts: np.ndarray, ends: np.ndarray, width: int, first: int
                 ) -> tuple[np.ndarray, np.ndarray]:
    """The repaired epoch lines (E, width), blank-padded (per column the last character set; a whole line, one
    starting with ``first``, sets them all), and which epochs were whole lines."""
    lengths = ends - starts
    columns = np.arange(width)
    on_line = columns < lengths[:, None]
    chars = np.where(on_line, buf[np.minimum(starts[:, None] + columns, len(buf) - 1)], np.uint8(32))
    whole = chars[:, 0] == first
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


def _records(lines: np.ndarray, count: np.ndarray, at: np.ndarray, header: RinexHeader, layout: _Layout
             ) -> _Records | None:
    total = int(count.sum())
    epoch = np.repeat(np.arange(len(count)), count)
    k = np.arange(total) - np.repeat(np.cumsum(count) - count, count)
    names = lines[epoch[:, None], layout.sats + 3 * k[:, None] + np.arange(3)]
    known = np.zeros(256, dtype=bool)
    if layout is CRINEX3:  # the text reader's checks: a system with types, PRN digits or blanks
        known[[ord(s) for s in header.obs_types]] = True
        ok = known[names[:, 0]].all() and _prn_chars_ok(names).all() and not np.any(names[:, 2] == 32)
    else:  # [ GRECJIS][ 0-9][0-9]; a blank system is the file's
        known[[ord(s) for s in " " + SYSTEMS]] = True
        third = names[:, 2]
        ok = known[names[:, 0]].all() and _prn_chars_ok(names).all() and np.all((third >= 48) & (third <= 57))
    if not ok:
        return None
    key = (names[:, 0].astype(np.int64) << 16) | (names[:, 1].astype(np.int64) << 8) | names[:, 2]
    sys = names[:, 0]
    if layout is CRINEX1:
        default = header.system if header.system in SYSTEMS else "G"
        sys = np.where(sys == 32, np.uint8(ord(default)), sys)
    prn = _prn(names)
    return _Records(epoch, at[epoch] + 2 + k, sys, prn, key)


def _epoch_times_v2(lines: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """RINEX 2 epoch records (N, 32) in the canonical columns (1X,I2.2,4(1X,I2),F11.7,2X,I1,I3) -> (times as the
    general reader computes them, satellite counts), or None for anything else."""
    head = np.full((len(lines), 35), 32, dtype=np.uint8)  # the same fields in the RINEX 3 columns
    head[:, 0] = ord(">")
    head[:, 4:6] = lines[:, 1:3]  # yy: both digits (I2.2)
    head[:, 7:9], head[:, 10:12], head[:, 13:15], head[:, 16:18] = (lines[:, a:a + 2] for a in (4, 7, 10, 13))
    head[:, 18:29] = lines[:, 15:26]
    head[:, 31], head[:, 32:35] = lines[:, 28], lines[:, 29:32]
    digits = (lines[:, 1:3] >= 48) & (lines[:, 1:3] <= 57)
    if not digits.all() or not np.all(lines[:, [0, 3, 6, 9, 12]] == 32):
        return None
    yy = (lines[:, 1].astype(np.int64) - 48) * 10 + lines[:, 2] - 48
    head[:, 2:4] = np.where(yy >= 80, np.uint8(ord("1")), np.uint8(ord("2")))[:, None]  # names.year_of_2digit
    head[:, 3] = np.where(yy >= 80, np.uint8(ord("9")), np.uint8(ord("0")))
    return _epoch_times(head)


# x_t = sum_i C(t, i) d_i over an arc's first N epochs; as order-N differences of the zero-padded series:
# e_t = sum_j (-1)^j C(N, j) x_(t-j) = sum_i A[N][t, i] d_i (then x is N cumulative sums of e within the arc)
_RAMP = {n: np.array([[sum((-1) ** j * comb(n, j) * comb(t - j, i) for j in range(t - i + 1)) if i <= t else 0
                       for i in range(n)] for t in range(n)], dtype=np.int64) for n in range(MAX_ORDER + 1)}
_DIGITS = _U64(0x3030303030303030)
_HIGH_BITS = _U64(0x8080808080808080)
_OVER_NINE = _U64(0x7676767676767676)  # + this sets a byte's high bit exactly when the byte is over 9


def _system(buf, split: _Split, sys_, types, records: _Records, mine, restart, n_epochs, select, blank_flags):
    """One system's SystemObs from its records (None where crx2rnx would complain or this cannot follow). The
    records are taken satellite by satellite, epoch by epoch, and every array is (observable, record): each
    arc is then one run of a flat array, and a record's predecessor the one before it."""
    rows = np.flatnonzero(mine)
    epoch, prn = records.epoch[rows], records.prn[rows]
    slot, uniq = _slots(prn)
    grid = np.full(len(uniq) * n_epochs, -1, dtype=np.int64)
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
    lli = _lli(buf, [2 * j for j in keep], flags, split.ends[line], goes_on, k, filled if blank_flags else None)
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


def _lli(buf, columns, flag_start, line_end, goes_on, k, filled=None) -> np.ndarray | None:
    """Loss-of-lock digits (len(columns), R): a new satellite's flags come whole (CRINEX 3: 2 characters per
    observable; CRINEX 1: blank-padded), then each record changes them where its flags are not blank ('&': now
    blank). ``filled`` (CRINEX 1): a blank observation has blank flags, and leaves them blank."""
    size = line_end - flag_start
    if filled is None and np.any(~goes_on & (size < 2 * k)):
        return None
    out = np.zeros((len(columns), len(goes_on)), dtype=np.uint8)
    for j, column in enumerate(columns):
        char = np.where(column < size, buf[np.minimum(flag_start + column, len(buf) - 1)], np.uint8(32))
        sets = ~goes_on | (char != 32)
        digit = _digits(char)
        if filled is not None:
            sets |= ~filled[j]
            digit[~filled[j]] = 0
        if np.any(digit[sets]):  # else no loss of lock anywhere
            # the last record that set it: records of a satellite follow each other, and a satellite that was
            # away comes back new, with every flag set
            last = np.where(sets, np.arange(len(sets)), 0)
            np.maximum.accumulate(last, out=last)
            out[j] = digit[last]
    return out
