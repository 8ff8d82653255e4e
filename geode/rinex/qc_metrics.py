"""The QC metric computations behind ``geode.rinex.qc.qc_file`` (numpy; imported only when QC runs, so the
command line's startup never loads numpy through ``geode.rinex.qc``)."""

from __future__ import annotations

import datetime as dt
from functools import cached_property

import numpy as np

from .observations import Observations, SystemObs
from .qc import QCResult

# ----------------------------------------------------------------------------------------------------------------
# the metrics
#
# Definitions (as teqc and Anubis compute them):
#   * code multipath MPi = Ci - Phi_i - 2 fj^2 / (fi^2 - fj^2) (Phi_i - Phi_j), Phi in metres: the code minus
#     phase combination free of geometry, clocks and (first-order) ionosphere; what is left is code multipath
#     and noise plus a constant per arc (ambiguities, hardware delays), removed as the arc's mean.
#     Estey & Meertens (1999), "TEQC: the multi-purpose toolkit for GPS/GLONASS data", GPS Solutions 3(1):42-49;
#     Vaclavovic & Dousa (2016), "G-Nut/Anubis: open-source tool for multi-GNSS data monitoring with a multipath
#     detection for new signals, frequencies and linear combinations", IAG Symposia 143:775-782.
#   * cycle slips: epoch-to-epoch jumps of the geometry-free phase Phi_a - Phi_b (metres) and of the
#     Melbourne-Wuebbena wide-lane (cycles; Blewitt 1990, "An automatic editing algorithm for GPS data",
#     GRL 17(3):199-202), each against the median of its neighbouring differences in the same arc; teqc's
#     o/slps is observations / slips.
#   * a satellite gap (the satellite absent from epochs the receiver recorded, for at most GAP_MAX) and an epoch
#     gap (no epoch recorded for more than 1.5 intervals) end an arc; they are counted apart and are never slips.
#   * receiver millisecond clock jumps: code minus phase of every satellite jumping by the same k * c * 1 ms
#     between two epochs (the code follows the steered clock, the phase does not); the code is corrected by
#     the jump before any other metric.

C_LIGHT = 299_792_458.0
MS = C_LIGHT * 1e-3  # metres of a 1 ms clock jump
FREQ: dict[str, dict[str, float]] = {
    "G": {"1": 1575.42e6, "2": 1227.60e6, "5": 1176.45e6},
    "R": {"1": 1602.0e6, "2": 1246.0e6, "3": 1202.025e6, "4": 1600.995e6, "6": 1248.06e6},
    "E": {"1": 1575.42e6, "5": 1176.45e6, "7": 1207.140e6, "8": 1191.795e6, "6": 1278.75e6},
    "C": {"1": 1575.42e6, "2": 1561.098e6, "5": 1176.45e6, "7": 1207.140e6, "8": 1191.795e6, "6": 1268.52e6},
    "J": {"1": 1575.42e6, "2": 1227.60e6, "5": 1176.45e6, "6": 1278.75e6},
    "I": {"5": 1176.45e6, "9": 2492.028e6},
    "S": {"1": 1575.42e6, "5": 1176.45e6},
}
GLONASS_STEP = {"1": 0.5625e6, "2": 0.4375e6}  # FDMA: f = f0 + k * step, k the satellite's channel
BAND_ORDER = {"G": "125", "R": "123", "E": "15786", "C": "276158", "J": "1256", "I": "59", "S": "15"}
GF_THRESHOLD = 0.05  # m: a geometry-free jump larger than this (and GF_SIGMAS sigmas) is a slip (1 L1 cycle:
GF_SIGMAS = 6.0  # 0.19 m; 1 L1 + 1 L2 cycle: 5.4 cm; RTKLIB's default threshold is 5 cm)
MW_FLOOR = 1.0  # cycles: the Melbourne-Wuebbena threshold is 5 robust sigmas, never below this
MW_SIGMAS = 5.0
MW_WINDOW = 3  # epochs: a Melbourne-Wuebbena step near a geometry-free jump is that jump
MW_CONFIRM = 3  # samples averaged on each side to confirm a Melbourne-Wuebbena step
LOCAL_WINDOW = 10  # epochs each side over which the Melbourne-Wuebbena noise is measured
MIN_ARC = 10  # samples: shorter arcs give no multipath value (their mean is not known well enough)
CLOCK_TOLERANCE = 1000.0  # m: a step within this of k * c * 1 ms is a k ms clock jump
GAP_MAX = 600.0  # s: a satellite absent longer than this set (and rose again); shorter is a gap
ELEVATION_MASK = 10.0  # degrees
ELEVATION_BIN = 10  # degrees
MAX_LISTED = 100  # slips listed (satellite, time) in extra["slips_at"]


def _band(obs: str) -> str:
    return obs[1]


def _kind(obs: str) -> str:
    k = obs[0]
    return "C" if k == "P" else k


def _signals_of(sys_: str, types: list[str], counts) -> dict[str, dict[str, str]]:
    """Per band, the phase, code and SNR observable with most observations (ties: P code, then header order)."""
    best: dict[str, dict[str, tuple]] = {}
    for k, obs in enumerate(types):
        kind = _kind(obs)
        if len(obs) < 2 or kind not in "CLS" or counts[k] == 0 or obs[1] not in FREQ.get(sys_, {}):
            continue
        rank = (int(counts[k]), 1 if obs[0] == "P" else 0, -k, obs)
        slot = best.setdefault(_band(obs), {})
        if kind not in slot or rank[:3] > slot[kind][:3]:
            slot[kind] = rank
    return {band: {kind: v[3] for kind, v in slot.items()} for band, slot in best.items()}


def _wavelengths(sys_: str, band: str, sats: list[str], channels: dict[str, int]) -> np.ndarray:
    """(S,) carrier wavelengths in metres; NaN for a GLONASS satellite whose channel is unknown."""
    f0 = FREQ[sys_][band]
    if sys_ == "R" and band in GLONASS_STEP:
        k = np.array([channels.get(s, np.nan) for s in sats], dtype=np.float64)
        return C_LIGHT / (f0 + k * GLONASS_STEP[band])
    return np.full(len(sats), C_LIGHT / f0)


def _glonass_channels(obs: Observations, so: SystemObs, sig: dict[str, dict[str, str]]) -> dict[str, int]:
    """Frequency channels of the GLONASS satellites: from the header, else from the data (the ratio of the code
    change to the phase change over an epoch is the wavelength; the channel nearest to it, when it fits)."""
    channels = {s: k for s, k in obs.glonass_slots.items() if s in so.sats}
    band = next((b for b in ("1", "2") if b in sig and {"C", "L"} <= set(sig[b])), None)
    if band is None:
        return channels
    code, phase = so.column(sig[band]["C"]), so.column(sig[band]["L"])
    dc, dl = np.diff(code, axis=0), np.diff(phase, axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.where(np.abs(dl) > 1000.0, dc / dl, np.nan)
    for s, name in enumerate(so.sats):
        if name in channels:
            continue
        r = ratio[:, s]
        r = r[np.isfinite(r)]
        if len(r) < 10:
            continue
        lam = float(np.median(r))
        k = round((C_LIGHT / lam - FREQ["R"][band]) / GLONASS_STEP[band])
        if -7 <= k <= 6 and abs(C_LIGHT / (FREQ["R"][band] + k * GLONASS_STEP[band]) / lam - 1) < 5e-5:
            channels[name] = int(k)
    return channels


# Each system's series live on its cells: the (epoch, satellite) places holding any observation, satellite by
# satellite and epochs in order (the order of an (epochs, satellites) array's ``.T.ravel()``). A satellite is up
# about a third of the day, so this is a third of the grid, and an arc is a run of neighbouring cells.
# Every sum below adds the same numbers in the same order as it would over the grid: the results are the grid's
# to the last bit (the window sums run in this satellite-major order; the RMS and the SNR means in the grid's).
_KEY_GAP = max(MW_WINDOW, 2) + 1  # epochs between two satellites' keys: +-2 neighbours and +-MW_WINDOW stay within one


class _Cells:
    """The cells of one system (see above) and who neighbours whom."""

    def __init__(self, present: np.ndarray, contiguous: np.ndarray):
        n_epochs, n_sats = self.shape = present.shape
        self.present = present
        flat = np.flatnonzero(np.ascontiguousarray(present.T))  # satellite * n_epochs + epoch
        self.sat = flat // n_epochs
        self.row = flat - self.sat * n_epochs
        self.grid = self.row * n_sats + self.sat  # the cell's place in an (epochs, satellites) array's ravel()
        self.key = flat + _KEY_GAP * self.sat  # epochs apart within a satellite; never close across two
        self.size = n = len(flat)
        self.back1 = np.zeros(n, dtype=bool)  # cell i - 1 is the epoch before cell i
        self.back1[1:] = self.key[1:] - self.key[:-1] == 1
        gap2 = np.zeros(n + 2, dtype=np.int64)  # gap2[i] = key[i] - key[i - 2] (0: no such cell)
        gap2[2:n] = self.key[2:] - self.key[:-2]
        self.back2 = gap2[:n] == 2  # cell i - 2 is two epochs before cell i (and cell i - 1 the one between)
        self.ahead2 = gap2[2:] == 2  # cell i + 2 is two epochs after
        self.follows = self.back1 & contiguous[self.row]  # the epoch before, at the sampling interval

    def take(self, grid: np.ndarray) -> np.ndarray:
        """The cells' values of an (epochs, satellites) array."""
        if grid.flags.c_contiguous:
            return grid.reshape(-1)[self.grid]
        return grid[self.row, self.sat]  # (no copy of the whole array first)

    def per_sat(self, values: np.ndarray):
        """The cells' values of a per-satellite (S,) array: its one number when all satellites share it."""
        if len(values) and (values == values[0]).all():
            return values[0]
        return values[self.sat]

    def to_grid(self, values: np.ndarray) -> np.ndarray:
        """The (epochs, satellites) array of the cells' values, NaN elsewhere."""
        out = np.full(self.shape, np.nan)
        out.reshape(-1)[self.grid] = values
        return out

    def find(self, places: np.ndarray) -> np.ndarray:
        """The cells at these places of an (epochs, satellites) array's ravel() (places without a cell left out)."""
        if not self.size:
            return np.zeros(0, dtype=np.intp)
        in_order = self.grid[self.grid_order]  # sorted
        i = np.minimum(np.searchsorted(in_order, places), self.size - 1)
        return self.grid_order[i[in_order[i] == places]]

    @cached_property
    def grid_order(self) -> np.ndarray:
        """The cells in the grid's order (epoch by epoch, satellites in order): the order of the grid's sums."""
        rank = np.empty(self.shape[0] * self.shape[1], dtype=np.intp)
        rank[self.grid] = np.arange(self.size)
        return rank[np.flatnonzero(self.present)]


def _same_arc(cells: _Cells, valid: np.ndarray) -> np.ndarray:
    """Valid cells whose previous epoch, at the sampling interval, is valid too (a difference within an arc)."""
    same = valid & cells.follows
    same[1:] &= valid[:-1]
    return same


def _jumps(cells: _Cells, series: np.ndarray, same: np.ndarray) -> np.ndarray:
    """Jump of ``series`` at each cell against the median of the differences at the satellite's epochs e-2, e-1,
    e+1, e+2 (NaN where ``same`` is False: no difference): a jump at e shows in d[e] alone; the neighbours are
    clean."""
    n = len(series)
    padded = np.full(n + 4, np.nan)  # d with two NaN cells each side: shifts are views
    d = padded[2:n + 2]
    np.subtract(series[1:], series[:-1], out=d[1:], where=same[1:])
    # inside an arc the four cells around are the epochs e-2, e-1, e+1, e+2 and hold differences: the median of
    # four (_median4's arithmetic) in a few operations. Where d[e] is a number and a cell around is another
    # epoch, one of the four holds no difference (a difference needs the epoch before), so the sum is NaN: those
    # places again, the cells two away checked (the cells before and after are then e-1 and e+1, or hold NaN)
    a, b, c, e = padded[:n], padded[1:n + 1], padded[3:n + 3], padded[4:]
    ref = ((a + b) + c) + e
    ref -= np.fmax(np.fmax(a, b), np.fmax(c, e))
    ref -= np.fmin(np.fmin(a, b), np.fmin(c, e))
    ref *= 0.5
    at = np.flatnonzero(np.isnan(ref))
    p = at + 2  # in padded
    a = np.where(cells.back2[at], padded[p - 2], np.nan)
    e = np.where(cells.ahead2[at], padded[p + 2], np.nan)
    ref[at] = _median4(a, padded[p - 1], padded[p + 1], e)
    return d - ref


def _median4(a: np.ndarray, b: np.ndarray, c: np.ndarray, d: np.ndarray) -> np.ndarray:
    """Element-wise median of the non-NaN values among four arrays (0 where all are NaN), without sorting:
    4 values -> (sum - max - min) / 2, 3 -> sum - max - min, 2 -> mean, 1 -> the value."""
    valid = [x == x for x in (a, b, c, d)]
    n = valid[0].view(np.int8) + valid[1].view(np.int8) + valid[2].view(np.int8) + valid[3].view(np.int8)
    za, zb, zc, zd = (np.where(v, x, 0.0) for v, x in zip(valid, (a, b, c, d)))
    total = ((za + zb) + zc) + zd  # = nansum over the four, in order
    high = np.fmax(np.fmax(a, b), np.fmax(c, d))
    low = np.fmin(np.fmin(a, b), np.fmin(c, d))
    out = np.where(n >= 3, total - high - low, total)  # 3 or 4 values: the middle ones' sum; else the sum
    np.multiply(out, 0.5, out=out, where=(n & 1) == 0)  # halved for 4 and 2 (x * 0.5 == x / 2 exactly)
    return out


def _runs(cells: _Cells, at: np.ndarray) -> np.ndarray:
    """Where runs of cells ``at`` at consecutive epochs of one satellite start (True)."""
    start = np.ones(len(at), dtype=bool)
    start[1:] = (at[1:] - at[:-1] != 1) | ~cells.back1[at[1:]]
    return start


def _window_sums(x: np.ndarray, start: np.ndarray, w: int = LOCAL_WINDOW, at: np.ndarray | None = None
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Sum of squares and count of the other values within +-w places of each value (or of the values ``at``) in
    its run (runs start where ``start``), from one cumulative sum (in the satellite-major order: the grid's
    ``.T.ravel()`` sum)."""
    x2 = x ** 2
    cs = np.concatenate(([0.0], np.cumsum(x2)))
    first, length = _run_lengths(start)
    if at is None:
        at = np.arange(len(x))
        first, length = np.repeat(first, length), np.repeat(length, length)
    else:
        run = np.searchsorted(first, at, "right") - 1
        first, length = first[run], length[run]
    lo = np.maximum(first, at - w)
    hi = np.minimum(first + length - 1, at + w) + 1
    return cs[hi] - cs[lo] - x2[at], hi - lo - 1


def _run_lengths(start: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """First place and length of each run (runs start where ``start``, the first place among them)."""
    first = np.flatnonzero(start)
    return first, np.diff(np.append(first, len(start)))


def _local_sigma(r: np.ndarray, same: np.ndarray, w: int = LOCAL_WINDOW, robust: float | None = None) -> np.ndarray:
    """(E, S) RMS of the residuals ``r`` within +-w epochs of each epoch, in the same arc, the epoch itself left
    out (a slip does not raise its own threshold); the system's robust sigma where fewer than 5 samples are
    around (``_window_sums`` over the arcs of the grid: what the metrics compute on a system's cells)."""
    robust = _robust_sigma(r) if robust is None else robust
    ids = _arc_ids(np.isfinite(r), ~same).T.ravel()
    inside = ids > 0
    arcs = ids[inside]
    start = np.ones(len(arcs), dtype=bool)
    start[1:] = arcs[1:] != arcs[:-1]
    total, count = _window_sums(r.T.ravel()[inside], start, w)
    sigma = np.full(len(ids), robust)
    with np.errstate(invalid="ignore", divide="ignore"):
        sigma[inside] = np.where(count >= 5, np.sqrt(total / count), robust)
    return sigma.reshape(r.shape[1], r.shape[0]).T


def _robust_sigma(x: np.ndarray) -> float:
    x = x[np.isfinite(x)]
    if len(x) < 10:
        return 0.0
    return float(1.4826 * _median(np.abs(x - _median(x))))


def _median(x: np.ndarray) -> np.float64:
    """np.median of finite values, the same number: one partition (numpy's with two split points is several
    times slower), the lower middle value of an even count as the largest below the upper one."""
    n = len(x)
    h = n // 2
    part = np.partition(x, h)
    if n % 2:
        return np.mean(part[h:h + 1])
    return np.mean(np.array([part[:h].max(), part[h]]))


def _arc_ids(valid: np.ndarray, breaks: np.ndarray) -> np.ndarray:
    """(E, S) arc number (>= 1) of every valid sample, 0 elsewhere: an arc is a run of valid samples, cut
    where ``breaks`` is True (a new arc starts there)."""
    before = np.zeros_like(valid)
    before[1:] = valid[:-1]
    start = valid & (breaks | ~before)
    # numbered satellite by satellite: the starts before in the column plus all starts in the columns before
    ids = np.cumsum(start, axis=0, dtype=np.int64)
    if ids.size:
        ids += np.concatenate(([0], np.cumsum(ids[-1])[:-1]))
    return np.where(valid, ids, 0)


def _arc_demean(values: np.ndarray, start: np.ndarray, min_arc: int = MIN_ARC) -> np.ndarray:
    """values minus their arc's mean (arcs: runs of values, each starting where ``start``); NaN in arcs shorter
    than ``min_arc``. The arcs' sums add their values in order, as over the grid."""
    first, length = _run_lengths(start)
    means = np.bincount(np.repeat(np.arange(len(first)), length), weights=values, minlength=len(first)) / length
    out = values - np.repeat(means, length)
    out[np.repeat(length < min_arc, length)] = np.nan
    return out


def _confirmed(series: np.ndarray, same: np.ndarray, at: np.ndarray, jump: np.ndarray, threshold: np.ndarray,
               w: int = MW_CONFIRM) -> np.ndarray:
    """Which candidate jumps (cells ``at``) are steps: the mean of the (up to) ``w`` samples from the cell on
    minus the mean of the ``w`` before it, within the arc (two at least each side), is at least half the
    threshold and has the jump's sign (one wild value moves those means by 1/w of its error only)."""
    out = np.zeros(len(at), dtype=bool)
    n = len(series)
    for m, i in enumerate(at):
        lo = i
        while lo > i - w and same[lo]:
            lo -= 1
        hi = i + 1
        while hi < min(i + w, n) and same[hi]:
            hi += 1
        if i - lo >= 2 and hi - i >= 2:  # one sample at an arc's end is no evidence of a step
            step = series[i:hi].mean() - series[lo:i].mean()
            out[m] = abs(step) > threshold[m] / 2 and np.sign(step) == np.sign(jump[m])
    return out


class _System:
    """One system's derived series (metres, on its cells) and the choices made for it."""

    def __init__(self, obs: Observations, sys_: str, so: SystemObs, contiguous: np.ndarray):
        self.sys, self.so = sys_, so
        have = [so.values[:, :, k] == so.values[:, :, k] for k in range(len(so.types))]  # not NaN
        self.signals = _signals_of(sys_, so.types, [np.count_nonzero(h) for h in have])
        channels = _glonass_channels(obs, so, self.signals) if sys_ == "R" else {}
        self.channels = channels
        self.present = np.zeros(so.values.shape[:2], dtype=bool)  # (E, S) any observation
        for h in have:
            self.present |= h
        self.cells = cells = _Cells(self.present, contiguous)
        self.phase: dict[str, np.ndarray] = {}  # band -> metres on the cells
        self.code: dict[str, np.ndarray] = {}
        self.freq: dict[str, np.ndarray] = {}  # band -> (S,) Hz
        for band, sig in self.signals.items():
            lam = _wavelengths(sys_, band, so.sats, channels)
            self.freq[band] = C_LIGHT / lam
            if "L" in sig:
                self.phase[band] = cells.take(so.column(sig["L"])) * cells.per_sat(lam)
            if "C" in sig:
                self.code[band] = cells.take(so.column(sig["C"]))
        order = [b for b in BAND_ORDER.get(sys_, "") if b in self.phase]
        self.pair = tuple(order[:2]) if len(order) >= 2 else None


def _common_ms_steps(series: list[tuple[_Cells, np.ndarray]], n_epochs: int) -> list[tuple[int, int]]:
    """(row, k) where most satellites' values (every system's cells ``series``) in that row are the same
    k * c * 1 ms (k != 0)."""
    marked = np.zeros(n_epochs, dtype=bool)  # rows where some value may round to k != 0 ms (0.4: a margin)
    for cells, d in series:
        marked[cells.row[np.abs(d) > 0.4 * MS]] = True
    rows = np.flatnonzero(marked)
    if not len(rows):
        return []
    blocks = []  # those rows of the (epochs, satellites) grids, side by side
    for cells, d in series:
        sel = marked[cells.row]
        block = np.full((len(rows), cells.shape[1]), np.nan)
        block[np.searchsorted(rows, cells.row[sel]), cells.sat[sel]] = d[sel]
        blocks.append(block)
    d = np.concatenate(blocks, axis=1)
    found = []
    with np.errstate(invalid="ignore"):
        q = d / MS
        for r in np.flatnonzero((np.abs(q) > 0.5).any(axis=1)):  # some value rounds to k != 0 ms
            k = np.round(q[r])
            finite = np.isfinite(d[r])
            row_k = k[finite & (np.abs(d[r] - k * MS) < CLOCK_TOLERANCE)]
            if len(row_k) == 0:
                continue
            values, counts = np.unique(row_k, return_counts=True)
            best = int(values[np.argmax(counts)])
            if best != 0 and counts.max() >= max(2, 0.5 * np.count_nonzero(finite)):
                found.append((int(rows[r]), best))
    return found


def _clock_jumps(systems: list[_System], contiguous: np.ndarray) -> list[tuple[int, int, str]]:
    """Receiver millisecond clock jumps, (epoch index, k ms, kind):

    * "code": code minus phase of (nearly) every satellite steps by the same k * c * 1 ms between two recorded
      epochs (the receiver steered its clock in the code only); the codes are corrected from there on, so no
      other metric sees the jump;
    * "code+phase": code and phase step together (code minus phase continuous), seen in the second differences
      of the code between contiguous epochs (+J then -J); no metric here is affected (they all difference the
      code with the phase or the phases with each other).
    """
    def first_band(s):
        return next((b for b in BAND_ORDER.get(s.sys, "") if b in s.code and b in s.phase), None)

    bands = [(s, first_band(s)) for s in systems]
    bands = [(s, b) for s, b in bands if b is not None]
    if not bands:
        return []
    n_epochs = len(contiguous)
    steps = []
    for s, b in bands:
        cmp_ = s.code[b] - s.phase[b]
        step = np.full(len(cmp_), np.nan)
        np.subtract(cmp_[1:], cmp_[:-1], out=step[1:], where=s.cells.back1[1:])
        steps.append((s.cells, step))
    jumps = [(e, k, "code") for e, k in _common_ms_steps(steps, n_epochs)]
    for e, k, _ in jumps:
        for s in systems:
            later = s.cells.row >= e
            for band in s.code:
                s.code[band][later] -= k * MS
    ok = contiguous & np.concatenate(([False], contiguous[:-1]))
    second = []
    for s, b in bands:
        code, cells = s.code[b], s.cells
        d2 = np.full(len(code), np.nan)
        np.add(code[2:] - 2 * code[1:-1], code[:-2], out=d2[2:], where=cells.back2[2:] & ok[cells.row[2:]])
        second.append((cells, d2))
    previous = None
    for e, k in _common_ms_steps(second, n_epochs):
        if previous is not None and e == previous[0] + 1 and k == -previous[1]:
            previous = None  # the second difference's echo of the step before
            continue
        jumps.append((e, k, "code+phase"))
        previous = (e, k)
    return sorted(jumps)


def select_signals(sys_: str, types: list[str], counts: list[int]) -> list[str]:
    """The observables QC uses: per band the code, phase and SNR observable with most values."""
    if sys_ not in FREQ:
        return []
    chosen = _signals_of(sys_, types, counts)
    return [obs for slot in chosen.values() for obs in slot.values()]


class _Part:
    """One system's share of the metrics (merged in system order)."""

    def __init__(self):
        self.observations = self.slips = self.sat_gaps = 0
        self.mp_rms: dict[str, float] = {}
        self.mp_signal: dict[str, str] = {}
        self.snr_mean: dict[str, float] = {}
        self.residuals: dict[str, tuple[_System, np.ndarray]] = {}  # band key -> (system, residuals on its cells)
        self.extra: dict = {"slip_pairs": {}, "mp_pairs": {}, "glonass_channels": {}, "slips_at": [], "lli_slips": 0}


def _slips(part: _Part, s: _System) -> np.ndarray:
    """The cells where a cycle slip is (geometry-free and Melbourne-Wuebbena jumps on the system's band pair)."""
    cells = s.cells
    a, b = s.pair
    pa, pb = s.phase[a], s.phase[b]
    valid = ~np.isnan(pa) & ~np.isnan(pb)
    part.observations += int(np.count_nonzero(valid))
    col_a, col_b = s.so.types.index(s.signals[a]["L"]), s.so.types.index(s.signals[b]["L"])
    flagged = np.flatnonzero((s.so.lli[:, :, col_a] | s.so.lli[:, :, col_b]) & 1)  # loss of lock: rare
    part.extra["lli_slips"] += int(np.count_nonzero(valid[cells.find(flagged)]))
    same = _same_arc(cells, valid)
    gf = _jumps(cells, pa - pb, same)
    slip_at = np.abs(gf) > max(GF_THRESHOLD, GF_SIGMAS * _robust_sigma(gf))
    if a not in s.code or b not in s.code:
        part.extra["slip_pairs"][s.sys] = f"{s.signals[a]['L']}/{s.signals[b]['L']} (GF)"
        return slip_at
    fa, fb = s.freq[a], s.freq[b]
    wl = cells.per_sat(C_LIGHT / (fa - fb))
    fa, fb = cells.per_sat(fa), cells.per_sat(fb)
    mw = ((fa * pa - fb * pb) / (fa - fb) - (fa * s.code[a] + fb * s.code[b]) / (fa + fb)) / wl
    mw_valid = ~np.isnan(mw)
    same_mw = same & mw_valid
    same_mw[1:] &= mw_valid[:-1]
    jm = _jumps(cells, mw, same_mw)
    # the code noise grows at low elevation: 5 sigmas of the residuals around each epoch where they are noisier
    # than the system's as a whole
    robust = _robust_sigma(jm)
    at = np.flatnonzero(np.isfinite(jm))
    jump = jm[at]
    # the threshold is never below the floor: the local sigmas only where a jump is above it
    above = np.flatnonzero(np.abs(jump) > max(MW_FLOOR, MW_SIGMAS * robust))
    mw_slips = at[above]
    if len(above):
        total, count = _window_sums(jump, _runs(cells, at), at=above)
        with np.errstate(invalid="ignore", divide="ignore"):
            local = np.where(count >= 5, np.sqrt(total / count), robust)
        threshold = np.maximum(MW_FLOOR, MW_SIGMAS * np.maximum(local, robust))
        jump = jump[above]
        candidate = np.abs(jump) > threshold
        # a step, not one wild code value: the means of the samples after and before agree with it
        mw_slips, jump, threshold = mw_slips[candidate], jump[candidate], threshold[candidate]
        mw_slips = mw_slips[_confirmed(mw, same_mw, mw_slips, jump, threshold)]
    # the same slip seen by both: a Melbourne-Wuebbena step near a geometry-free jump is that jump
    gf_keys = cells.key[slip_at]
    keys = cells.key[mw_slips]
    near = np.searchsorted(gf_keys, keys + MW_WINDOW, "right") > np.searchsorted(gf_keys, keys - MW_WINDOW, "left")
    slip_at[mw_slips[~near]] = True
    part.extra["slip_pairs"][s.sys] = f"{s.signals[a]['L']}/{s.signals[b]['L']} (GF+MW)"
    return slip_at


def _multipath(part: _Part, s: _System, slip_at: np.ndarray) -> None:
    """Multipath per band: code minus phase, the other band's phase removing the ionosphere."""
    cells = s.cells
    for band in s.code:
        if band not in s.phase:
            continue
        other = next((o for o in BAND_ORDER[s.sys] if o != band and o in s.phase), None)
        if other is None:
            continue
        fi, fj = s.freq[band], s.freq[other]
        pi, pj = s.phase[band], s.phase[other]
        mp = s.code[band] - pi - cells.per_sat(2 * fj ** 2 / (fi ** 2 - fj ** 2)) * (pi - pj)
        valid = np.isfinite(mp)
        same = _same_arc(cells, valid)
        breaks = ~same | slip_at
        if s.pair is None or {band, other} != set(s.pair):
            gf = _jumps(cells, pi - pj, same)
            breaks |= np.abs(gf) > max(GF_THRESHOLD, GF_SIGMAS * _robust_sigma(gf))
        if valid.all():  # every cell has the combination (nothing to gather)
            res = _arc_demean(mp, breaks)
        else:
            at = np.flatnonzero(valid)
            res = np.full(cells.size, np.nan)
            res[at] = _arc_demean(mp[at], breaks[at])
        r = res[cells.grid_order]  # the grid's order: the same sum of squares
        r = r[np.isfinite(r)]
        if len(r) < MIN_ARC:
            continue
        k = f"{s.sys}{band}"
        part.mp_rms[k] = round(float(np.sqrt(np.mean(r * r))), 4)
        part.mp_signal[k] = s.signals[band]["C"]
        part.extra["mp_pairs"][k] = f"{s.signals[band]['C']}-{s.signals[band]['L']}-{s.signals[other]['L']}"
        part.residuals[k] = (s, res)


def _system_metrics(obs: Observations, s: _System, seconds: np.ndarray) -> _Part:
    part = _Part()
    key = s.sys
    # gaps: a satellite absent from recorded epochs, back within GAP_MAX
    part.sat_gaps = _sat_gaps(s.cells, seconds)
    for band, sig in s.signals.items():
        if "S" in sig:
            v = s.cells.take(s.so.column(sig["S"]))[s.cells.grid_order]  # the grid's order: the same mean
            v = v[np.isfinite(v) & (v > 0)]
            if len(v):
                part.snr_mean[f"{key}{band}"] = round(float(v.mean()), 2)
    if s.sys == "R":
        part.extra["glonass_channels"].update(s.channels)
    slip_at = np.zeros(s.cells.size, dtype=bool)
    if s.pair is not None:
        slip_at = _slips(part, s)
        at = np.flatnonzero(slip_at)
        part.slips += len(at)
        at = at[np.argsort(s.cells.grid[at], kind="stable")][:MAX_LISTED]  # listed epoch by epoch
        part.extra["slips_at"] = [[s.so.sats[s.cells.sat[i]], obs.time(int(s.cells.row[i])).isoformat()] for i in at]
    _multipath(part, s, slip_at)
    return part


def qc_observations(obs: Observations, *, orbits=None) -> QCResult:
    """The metrics of observations already read (``read_observations``)."""
    interval = obs.interval
    seconds = obs.seconds
    n_epochs = obs.epochs
    first, last = obs.time(0), obs.time(n_epochs - 1)
    mid = first + (last - first) / 2
    day0 = dt.datetime(mid.year, mid.month, mid.day)
    offset = (day0 - obs.t0).total_seconds()
    in_day = (seconds >= offset) & (seconds < offset + 86400.0)
    expected = int(round(86400.0 / interval))
    present = int(np.count_nonzero(in_day))
    step = np.diff(seconds)
    epoch_gap_at = np.concatenate(([False], step > 1.5 * interval))  # a new epoch after missing ones
    contiguous = ~epoch_gap_at  # row e follows row e-1 at the sampling interval
    epoch_gaps = int(np.count_nonzero(epoch_gap_at))

    systems = [_System(obs, sys_, so, contiguous) for sys_, so in sorted(obs.systems.items()) if sys_ in FREQ]
    sats_mean = {s.sys: round(float(s.cells.size / n_epochs), 3) for s in systems if s.cells.size}
    jumps = _clock_jumps(systems, contiguous)

    observations = slips = sat_gaps = 0
    mp_rms: dict[str, float] = {}
    mp_signal: dict[str, str] = {}
    snr_mean: dict[str, float] = {}
    residuals: dict[str, tuple[_System, np.ndarray]] = {}
    extra: dict = {"slip_pairs": {}, "mp_pairs": {}, "clock_jump_epochs": [], "glonass_channels": {}, "slips_at": [],
                   "lli_slips": 0}
    for part in [_system_metrics(obs, s, seconds) for s in systems]:
        observations += part.observations
        slips += part.slips
        sat_gaps += part.sat_gaps
        snr_mean.update(part.snr_mean)
        mp_rms.update(part.mp_rms)
        mp_signal.update(part.mp_signal)
        residuals.update(part.residuals)
        for name in ("slip_pairs", "mp_pairs", "glonass_channels"):
            extra[name].update(part.extra[name])
        extra["lli_slips"] += part.extra["lli_slips"]
        extra["slips_at"].extend(part.extra["slips_at"][:MAX_LISTED - len(extra["slips_at"])])
    extra["clock_jump_epochs"] = [[obs.time(e).isoformat(), ms, kind] for e, ms, kind in jumps]
    extra["events"] = obs.events

    elev_completeness = mp_by_elevation = orbit_source = None
    if orbits is not None:
        elev = _elevation_metrics(obs, systems, residuals, orbits, day0, interval, expected)
        if elev is not None:
            elev_completeness, mp_by_elevation = elev
            orbit_source = str(getattr(orbits, "source", None) or "") or None
        else:
            extra["elevation"] = "no receiver position or no orbit for the observed satellites"
    return QCResult(
        rinex_version=obs.header.version, interval=interval, first_epoch=first, last_epoch=last,
        epochs_present=present, epochs_expected=expected, completeness=round(100.0 * present / expected, 2),
        sats_mean=sats_mean, observations=observations, mp_rms=mp_rms, mp_signal=mp_signal, slips=slips,
        obs_per_slip=round(observations / slips, 1) if slips else None,
        slips_per_1000=round(1000.0 * slips / observations, 3) if observations else 0.0,
        sat_gaps=sat_gaps, epoch_gaps=epoch_gaps, snr_mean=snr_mean, clock_jumps=len(jumps),
        elev_completeness=elev_completeness, mp_by_elevation=mp_by_elevation, orbit_source=orbit_source,
        extra=extra)


def _sat_gaps(cells: _Cells, seconds: np.ndarray) -> int:
    """Breaks in satellites' arcs: absent from at least one recorded epoch, back within GAP_MAX seconds."""
    sat, rows = cells.sat, cells.row
    same = sat[1:] == sat[:-1]
    skip = rows[1:] - rows[:-1] > 1
    span = seconds[rows[1:]] - seconds[rows[:-1]]
    return int(np.count_nonzero(same & skip & (span <= GAP_MAX)))


def _elevation_metrics(obs, systems, residuals, orbits, day0, interval, expected):
    xyz = obs.header.approx_xyz
    if xyz is None:
        return None
    seconds_grid = np.arange(expected) * interval  # seconds after day0
    offset = (day0 - obs.t0).total_seconds()
    row_of = np.round((obs.seconds - offset) / interval).astype(np.int64)
    on_grid = (row_of >= 0) & (row_of < expected) & (np.abs(obs.seconds - offset - row_of * interval) < 1e-3)
    tracked = {s.sys for s in systems}
    sats = sorted(sat for sat in orbits.satellites if sat[0] in tracked)
    if not sats:
        return None
    elev_grid = orbits.elevations(sats, day0, seconds_grid, xyz)  # (G, N) degrees, NaN unknown
    if elev_grid is None or not np.isfinite(elev_grid).any():
        return None
    index = {sat: i for i, sat in enumerate(sats)}
    above = elev_grid >= ELEVATION_MASK
    want = int(np.count_nonzero(above))
    rows = np.flatnonzero(on_grid)  # recorded epochs on the day's grid
    elev_at, above_at = elev_grid[row_of[rows]], above[row_of[rows]]  # the grid's rows of those epochs
    have = 0
    for s in systems:
        js, cols = _orbit_columns(s.so.sats, index)
        have += int(np.count_nonzero(s.present[rows][:, js] & above_at[:, cols]))
    by_elev: dict[str, dict[int, float]] = {}
    for k, (s, res) in residuals.items():
        res = s.cells.to_grid(res)
        js, cols = _orbit_columns(s.so.sats, index)
        on = np.full((len(rows), res.shape[1]), np.nan)
        on[:, js] = elev_at[:, cols]
        el = np.full(res.shape, np.nan)
        el[rows] = on
        ok = np.isfinite(res) & np.isfinite(el)
        by_elev[k] = _rms_by_bin(np.floor(el[ok] / ELEVATION_BIN).astype(int) * ELEVATION_BIN, res[ok])
    return (round(100.0 * have / want, 2) if want else None), by_elev


def _orbit_columns(sats, index: dict[str, int]) -> tuple[list[int], list[int]]:
    """The system's satellite columns that the orbits know, and their columns in the elevation grid."""
    pairs = [(j, index[sat]) for j, sat in enumerate(sats) if sat in index]
    return [j for j, _ in pairs], [i for _, i in pairs]


def _rms_by_bin(b: np.ndarray, r: np.ndarray) -> dict[int, float]:
    """RMS of the residuals ``r`` per elevation bin ``b`` (bins with MIN_ARC of them). A stable sort keeps each
    bin's residuals in their order (the same arrays, so the same sums, as r[b == lo])."""
    bins: dict[int, float] = {}
    if not len(b):
        return bins
    order = np.argsort(b.astype(np.int16), kind="stable")  # bins -90..90: 16 bits sort by radix, fast
    for part in np.split(order, np.flatnonzero(np.diff(b[order])) + 1):
        sel = r[part]
        if len(sel) >= MIN_ARC:
            bins[int(b[part[0]])] = round(float(np.sqrt(np.mean(sel * sel))), 4)
    return bins
