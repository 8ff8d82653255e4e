"""The QC metric computations behind ``geode.rinex.qc.qc_file`` (numpy; imported only when QC runs, so the
command line's startup never loads numpy through ``geode.rinex.qc``)."""

from __future__ import annotations

import datetime as dt

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


def _shift(a: np.ndarray, k: int) -> np.ndarray:
    """a shifted by k rows (row e gets a[e - k]), NaN-filled."""
    out = np.full_like(a, np.nan)
    if k > 0:
        out[k:] = a[:-k]
    elif k < 0:
        out[:k] = a[-k:]
    else:
        out[:] = a
    return out


def _previous(flags: np.ndarray) -> np.ndarray:
    """Row e holds row e - 1 of ``flags``; row 0 True (what ``_shift`` of the flags as floats gave: NaN)."""
    out = np.ones_like(flags)
    out[1:] = flags[:-1]
    return out


def _jumps(series: np.ndarray, same_arc: np.ndarray) -> np.ndarray:
    """(E, S) jump of ``series`` at each epoch against the median of the neighbouring differences of its arc
    (NaN where there is no difference): a jump at e shows in d[e] alone; the neighbours are clean."""
    n = len(series)
    padded = np.full((n + 4, series.shape[1]), np.nan)  # d with two NaN rows each side: shifts are views
    d = padded[2:n + 2]
    np.subtract(series[1:], series[:-1], out=d[1:], where=same_arc[1:])
    ref = _median4_padded(padded)
    return d - ref


def _median4_padded(padded: np.ndarray) -> np.ndarray:
    """``_median4`` of rows e-2, e-1, e+1, e+2 of ``padded[2:-2]`` (the same arithmetic, without copies)."""
    n = len(padded) - 4
    valid = ~np.isnan(padded)
    zero = np.where(valid, padded, 0.0)
    v8 = valid.view(np.int8)
    rows = (slice(0, n), slice(1, n + 1), slice(3, n + 3), slice(4, n + 4))
    a, b, c, d = (padded[r] for r in rows)
    count = v8[rows[0]] + v8[rows[1]] + v8[rows[2]] + v8[rows[3]]
    total = ((zero[rows[0]] + zero[rows[1]]) + zero[rows[2]]) + zero[rows[3]]  # = nansum over the four, in order
    return _median4_of(a, b, c, d, count, total)


def _confirmed(series: np.ndarray, same: np.ndarray, jump: np.ndarray, candidates: np.ndarray, threshold: np.ndarray,
               w: int = MW_CONFIRM) -> np.ndarray:
    """The candidate jumps that are steps: the mean of the (up to) ``w`` samples from e on minus the mean of the
    ``w`` before e, within the arc (two at least each side), is at least half the threshold and has the jump's
    sign (one wild value moves those means by 1/w of its error only)."""
    out = np.zeros(candidates.shape, dtype=bool)
    n = len(series)
    for e, j in zip(*np.nonzero(candidates)):
        lo = e
        while lo > e - w and same[lo, j]:
            lo -= 1
        hi = e + 1
        while hi < min(e + w, n) and same[hi, j]:
            hi += 1
        if e - lo >= 2 and hi - e >= 2:  # one sample at an arc's end is no evidence of a step
            step = series[e:hi, j].mean() - series[lo:e, j].mean()
            out[e, j] = abs(step) > threshold[e, j] / 2 and np.sign(step) == np.sign(jump[e, j])
    return out


def _local_sigma(r: np.ndarray, same: np.ndarray, w: int = LOCAL_WINDOW, robust: float | None = None) -> np.ndarray:
    """(E, S) RMS of the residuals ``r`` within +-w epochs of each epoch, in the same arc, the epoch itself left
    out (a slip does not raise its own threshold); the system's robust sigma where fewer than 5 samples are
    around. Window sums from cumulative sums along each satellite's arcs (contiguous runs)."""
    valid = np.isfinite(r)
    ids = _arc_ids(valid, ~same).T.ravel()
    x2 = (np.where(valid, r, 0.0) ** 2).T.ravel()
    n = len(x2)
    pos = np.arange(n)
    # arcs are runs numbered 1, 2, ... in this order: each sample's arc's first and last position
    inside = ids > 0
    changes = ids[1:] != ids[:-1]
    first = np.flatnonzero(inside & np.concatenate(([True], changes)))
    last = np.flatnonzero(inside & np.concatenate((changes, [True])))
    start = np.concatenate(([0], first))[ids]
    end = np.concatenate(([n - 1], last))[ids]
    lo = np.maximum(start, pos - w)
    hi = np.minimum(end, pos + w) + 1
    cs = np.concatenate(([0.0], np.cumsum(x2)))
    total = cs[hi] - cs[lo] - x2
    count = hi - lo - 1
    with np.errstate(invalid="ignore", divide="ignore"):
        sigma = np.sqrt(total / count)
    sigma = np.where(inside & (count >= 5), sigma, _robust_sigma(r) if robust is None else robust)
    return sigma.reshape(r.shape[1], r.shape[0]).T


def _median4(a: np.ndarray, b: np.ndarray, c: np.ndarray, d: np.ndarray) -> np.ndarray:
    """Element-wise median of the non-NaN values among four arrays (0 where all are NaN), without sorting:
    4 values -> (sum - max - min) / 2, 3 -> sum - max - min, 2 -> mean, 1 -> the value."""
    n = (~np.isnan(a)).astype(np.int8) + ~np.isnan(b) + ~np.isnan(c) + ~np.isnan(d)
    total = np.nansum(np.stack([a, b, c, d]), axis=0)
    return _median4_of(a, b, c, d, n, total)


def _median4_of(a, b, c, d, n, total):
    high = np.fmax(np.fmax(a, b), np.fmax(c, d))
    low = np.fmin(np.fmin(a, b), np.fmin(c, d))
    out = np.where(n >= 3, total - high - low, total)  # 3 or 4 values: the middle ones' sum; else the sum
    np.multiply(out, 0.5, out=out, where=(n & 1) == 0)  # halved for 4 and 2 (x * 0.5 == x / 2 exactly)
    return out


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


def _arc_demean(values: np.ndarray, arcs: np.ndarray, min_arc: int = MIN_ARC) -> np.ndarray:
    """values minus their arc's mean; NaN outside arcs and in arcs shorter than ``min_arc``."""
    flat_ids = arcs.ravel()
    flat = values.ravel()
    n = int(flat_ids.max()) + 1 if flat_ids.size else 1
    counts = np.bincount(flat_ids, minlength=n)
    sums = np.bincount(flat_ids, weights=np.where(flat_ids > 0, flat, 0.0), minlength=n)
    with np.errstate(invalid="ignore", divide="ignore"):
        means = sums / counts
    out = flat - means[flat_ids]
    keep = (flat_ids > 0) & (counts[flat_ids] >= min_arc)
    return np.where(keep, out, np.nan).reshape(values.shape)


class _System:
    """One system's derived series (metres) and the choices made for it."""

    def __init__(self, obs: Observations, sys_: str, so: SystemObs):
        self.sys, self.so = sys_, so
        columns = [so.values[:, :, k] for k in range(len(so.types))]
        counts = [np.count_nonzero(c == c) for c in columns]  # not NaN
        self.signals = _signals_of(sys_, so.types, counts)
        channels = _glonass_channels(obs, so, self.signals) if sys_ == "R" else {}
        self.channels = channels
        self.phase: dict[str, np.ndarray] = {}  # band -> (E, S) metres
        self.code: dict[str, np.ndarray] = {}
        self.freq: dict[str, np.ndarray] = {}  # band -> (S,) Hz
        for band, sig in self.signals.items():
            lam = _wavelengths(sys_, band, so.sats, channels)
            self.freq[band] = C_LIGHT / lam
            if "L" in sig:
                self.phase[band] = so.column(sig["L"]) * lam
            if "C" in sig:
                self.code[band] = so.column(sig["C"]).copy()
        order = [b for b in BAND_ORDER.get(sys_, "") if b in self.phase]
        self.pair = tuple(order[:2]) if len(order) >= 2 else None
        self.present = np.zeros(so.values.shape[:2], dtype=bool)  # (E, S) any observation
        for c in columns:
            self.present |= c == c


def _common_ms_steps(d: np.ndarray) -> list[tuple[int, int]]:
    """(row, k) where most satellites' values in row ``d[row]`` are the same k * c * 1 ms (k != 0)."""
    found = []
    with np.errstate(invalid="ignore"):
        q = d / MS
        rows = np.flatnonzero((np.abs(q) > 0.5).any(axis=1))  # some value rounds to k != 0 ms
        for e in rows:
            k = np.round(q[e])
            finite = np.isfinite(d[e])
            row_k = k[finite & (np.abs(d[e] - k * MS) < CLOCK_TOLERANCE)]
            if len(row_k) == 0:
                continue
            values, counts = np.unique(row_k, return_counts=True)
            best = int(values[np.argmax(counts)])
            if best != 0 and counts.max() >= max(2, 0.5 * np.count_nonzero(finite)):
                found.append((int(e), best))
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
    cmp_ = np.concatenate([s.code[b] - s.phase[b] for s, b in bands], axis=1)
    step = np.full_like(cmp_, np.nan)
    np.subtract(cmp_[1:], cmp_[:-1], out=step[1:])
    jumps = [(e, k, "code") for e, k in _common_ms_steps(step)]
    for e, k, _ in jumps:
        for s in systems:
            for band in s.code:
                s.code[band][e:] -= k * MS
    code = np.concatenate([s.code[b] for s, b in bands], axis=1)
    d2 = np.full_like(code, np.nan)
    d2[2:] = code[2:] - 2 * code[1:-1] + code[:-2]
    ok = contiguous & np.concatenate(([False], contiguous[:-1]))
    d2[~ok] = np.nan
    previous = None
    for e, k in _common_ms_steps(d2):
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
        self.residuals: dict[str, tuple[_System, np.ndarray]] = {}
        self.extra: dict = {"slip_pairs": {}, "mp_pairs": {}, "glonass_channels": {}, "slips_at": [], "lli_slips": 0}


def _system_metrics(obs: Observations, s: _System, seconds: np.ndarray, contiguous: np.ndarray) -> _Part:
    part = _Part()
    key = s.sys
    # gaps: a satellite absent from recorded epochs, back within GAP_MAX
    part.sat_gaps = _sat_gaps(s.present, seconds)
    for band, sig in s.signals.items():
        if "S" in sig:
            v = s.so.column(sig["S"])
            v = v[np.isfinite(v) & (v > 0)]
            if len(v):
                part.snr_mean[f"{key}{band}"] = round(float(v.mean()), 2)
    if s.sys == "R":
        part.extra["glonass_channels"].update(s.channels)
    slip_at = np.zeros(s.present.shape, dtype=bool)
    if s.pair is not None:
        a, b = s.pair
        pa, pb = s.phase[a], s.phase[b]
        valid = ~np.isnan(pa) & ~np.isnan(pb)
        part.observations += int(np.count_nonzero(valid))
        col_a, col_b = s.so.types.index(s.signals[a]["L"]), s.so.types.index(s.signals[b]["L"])
        lli = s.so.lli[:, :, col_a] | s.so.lli[:, :, col_b]
        part.extra["lli_slips"] += int(np.count_nonzero(valid & (lli & 1 == 1)))
        same = valid & _previous(valid) & contiguous[:, None]
        same[0] = False
        gf = _jumps(pa - pb, same)
        gf_threshold = max(GF_THRESHOLD, GF_SIGMAS * _robust_sigma(gf))
        slip_at = np.abs(np.nan_to_num(gf)) > gf_threshold
        if a in s.code and b in s.code:
            fa, fb = s.freq[a], s.freq[b]
            wl = C_LIGHT / (fa - fb)
            mw = ((fa * pa - fb * pb) / (fa - fb) - (fa * s.code[a] + fb * s.code[b]) / (fa + fb)) / wl
            mw_valid = ~np.isnan(mw)
            same_mw = same & mw_valid & _previous(mw_valid)
            jm = _jumps(mw, same_mw)
            # the code noise grows at low elevation: 5 sigmas of the residuals around each epoch where they are
            # noisier than the system's as a whole
            robust = _robust_sigma(jm)
            sigma = np.maximum(_local_sigma(jm, same_mw, robust=robust), robust)
            threshold = np.maximum(MW_FLOOR, MW_SIGMAS * sigma)
            jm = np.nan_to_num(jm)
            # a step, not one wild code value: the means of the samples after and before agree with it
            mw_slip = _confirmed(mw, same_mw, jm, np.abs(jm) > threshold, threshold)
            # the same slip seen by both: a Melbourne-Wuebbena step near a geometry-free jump is that jump
            near_gf = slip_at.copy()
            for k in range(1, MW_WINDOW + 1):
                near_gf[k:] |= slip_at[:-k]
                near_gf[:-k] |= slip_at[k:]
            slip_at |= mw_slip & ~near_gf
            part.extra["slip_pairs"][key] = f"{s.signals[a]['L']}/{s.signals[b]['L']} (GF+MW)"
        else:
            part.extra["slip_pairs"][key] = f"{s.signals[a]['L']}/{s.signals[b]['L']} (GF)"
        part.slips += int(np.count_nonzero(slip_at))
        for e, j in zip(*np.nonzero(slip_at)):
            if len(part.extra["slips_at"]) < MAX_LISTED:
                part.extra["slips_at"].append([s.so.sats[j], obs.time(int(e)).isoformat()])
    # multipath per band: code minus phase, the other band's phase removing the ionosphere
    for band in s.code:
        if band not in s.phase:
            continue
        other = next((o for o in BAND_ORDER[s.sys] if o != band and o in s.phase), None)
        if other is None:
            continue
        fi, fj = s.freq[band], s.freq[other]
        pi, pj = s.phase[band], s.phase[other]
        mp = s.code[band] - pi - (2 * fj ** 2 / (fi ** 2 - fj ** 2)) * (pi - pj)
        valid = np.isfinite(mp)
        same = valid & _previous(valid) & contiguous[:, None]
        same[0] = False
        breaks = ~same | slip_at
        if s.pair is None or {band, other} != set(s.pair):
            gf = _jumps(pi - pj, same)
            breaks |= np.abs(np.nan_to_num(gf)) > max(GF_THRESHOLD, GF_SIGMAS * _robust_sigma(gf))
        res = _arc_demean(mp, _arc_ids(valid, breaks))
        r = res[np.isfinite(res)]
        if len(r) < MIN_ARC:
            continue
        k = f"{s.sys}{band}"
        part.mp_rms[k] = round(float(np.sqrt(np.mean(r * r))), 4)
        part.mp_signal[k] = s.signals[band]["C"]
        part.extra["mp_pairs"][k] = f"{s.signals[band]['C']}-{s.signals[band]['L']}-{s.signals[other]['L']}"
        part.residuals[k] = (s, res)
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

    systems = [_System(obs, sys_, so) for sys_, so in sorted(obs.systems.items()) if sys_ in FREQ]
    sats_mean = {s.sys: round(float(np.count_nonzero(s.present) / n_epochs), 3) for s in systems
                 if np.any(s.present)}
    jumps = _clock_jumps(systems, contiguous)

    observations = slips = sat_gaps = 0
    mp_rms: dict[str, float] = {}
    mp_signal: dict[str, str] = {}
    snr_mean: dict[str, float] = {}
    residuals: dict[str, tuple[_System, np.ndarray]] = {}
    extra: dict = {"slip_pairs": {}, "mp_pairs": {}, "clock_jump_epochs": [], "glonass_channels": {}, "slips_at": [],
                   "lli_slips": 0}
    for part in [_system_metrics(obs, s, seconds, contiguous) for s in systems]:
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


def _sat_gaps(present: np.ndarray, seconds: np.ndarray) -> int:
    """Breaks in satellites' arcs: absent from at least one recorded epoch, back within GAP_MAX seconds."""
    n_epochs = present.shape[0]
    at = np.flatnonzero(present.T.ravel())  # satellite by satellite, epochs in order
    sat, rows = np.divmod(at, n_epochs)
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
    have = 0
    for s in systems:
        for j, sat in enumerate(s.so.sats):
            i = index.get(sat)
            if i is None:
                continue
            rows = np.flatnonzero(s.present[:, j] & on_grid)
            have += int(np.count_nonzero(above[row_of[rows], i]))
    by_elev: dict[str, dict[int, float]] = {}
    for k, (s, res) in residuals.items():
        cols = [index.get(sat) for sat in s.so.sats]
        el = np.full(res.shape, np.nan)
        for j, i in enumerate(cols):
            if i is not None:
                el[on_grid, j] = elev_grid[row_of[on_grid], i]
        bins: dict[int, float] = {}
        ok = np.isfinite(res) & np.isfinite(el)
        b = np.floor(el[ok] / ELEVATION_BIN).astype(int) * ELEVATION_BIN
        r = res[ok]
        for lo in np.unique(b):
            sel = r[b == lo]
            if len(sel) >= MIN_ARC:
                bins[int(lo)] = round(float(np.sqrt(np.mean(sel * sel))), 4)
        by_elev[k] = bins
    return (round(100.0 * have / want, 2) if want else None), by_elev
