"""Satellite positions and elevations for quality control: broadcast navigation (RINEX 2 / 3 / 4 GPS, Galileo,
QZSS, BeiDou Keplerian ephemerides; IS-GPS-200 Table 20-IV, Galileo OS SIS ICD 5.1.1, BeiDou ICD 5.2.4) or
precise orbits (SP3-c/d, 9-point Lagrange interpolation), found through ``geode.products``.

GLONASS broadcast ephemerides (state vectors) are not integrated here: GLONASS satellites get elevations only
from an SP3 file. Times are GPS seconds (``gps_seconds``); elevations are in degrees.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import numpy as np

from .compression import RinexFileError

GPS_EPOCH = dt.datetime(1980, 1, 6)
WEEK = 604800.0
OMEGA_E = 7.2921151467e-5
MU = {"G": 3.986005e14, "J": 3.986005e14, "E": 3.986004418e14, "C": 3.986004418e14}
BDS_GEO = set(range(1, 6)) | set(range(59, 64))
BDT_OFFSET = 14.0  # s, GPST - BDT


def gps_seconds(when: dt.datetime) -> float:
    return (when - GPS_EPOCH).total_seconds()


# ----------------------------------------------------------------------------------------------------------------
# Keplerian broadcast ephemerides

KEPLER_FIELDS = ("toe", "sqrtA", "e", "i0", "Omega0", "omega", "M0", "DeltaN", "OmegaDot", "IDOT",
                 "Cuc", "Cus", "Crc", "Crs", "Cic", "Cis")


class _Params(NamedTuple):
    """What the evaluation takes from a broadcast record (Python floats for one record, or (P,) arrays gathered
    per point): derived from the record with Python float arithmetic, so every point sees the same numbers."""

    offset: object  # s subtracted from GPS time first: the GPST - BDT offset for BeiDou, else 0
    toe: object
    a: object
    n: object  # corrected mean motion
    M0: object
    e: object
    root: object  # sqrt(1 - e^2)
    omega: object
    Cus: object
    Cuc: object
    Crs: object
    Crc: object
    i0: object
    Cis: object
    Cic: object
    IDOT: object
    Omega0: object
    rate: object  # OmegaDot, less the Earth's rotation except for BeiDou GEO (their frame rotates apart)
    omega_week: object  # OMEGA_E * (toe mod week)


def _is_geo(sat: str) -> bool:
    return sat[0] == "C" and int(sat[1:]) in BDS_GEO


def _record_params(eph: dict[str, float], sat: str) -> _Params:
    sys_ = sat[0]
    mu = MU.get(sys_, 3.986005e14)
    a = eph["sqrtA"] ** 2
    e = eph["e"]
    rate = eph["OmegaDot"] if _is_geo(sat) else eph["OmegaDot"] - OMEGA_E
    return _Params(BDT_OFFSET if sys_ == "C" else 0.0, eph["toe"], a, math.sqrt(mu / a ** 3) + eph["DeltaN"],
                   eph["M0"], e, math.sqrt(1 - e * e), eph["omega"], eph["Cus"], eph["Cuc"], eph["Crs"], eph["Crc"],
                   eph["i0"], eph["Cis"], eph["Cic"], eph["IDOT"], eph["Omega0"], rate, OMEGA_E * (eph["toe"] % WEEK))


def _kepler(t: np.ndarray, p: _Params, geo) -> np.ndarray:
    """(P, 3) ECEF at GPS seconds ``t`` (1-D); ``geo``: True, False or a (P,) mask of BeiDou GEO points. Each point
    gets the same bits whichever points are evaluated with it (elementwise operations; numpy's vector arctan2
    only on fresh contiguous arrays)."""
    tk = (t - p.offset) - p.toe  # t - 0.0 is t: the same tk as without the offset for other systems
    m = p.M0 + p.n * tk
    e = p.e
    ecc = _eccentric_anomaly(m, e)
    sin_e, cos_e = np.sin(ecc), np.cos(ecc)
    nu = np.arctan2(p.root * sin_e, cos_e - e)
    phi = nu + p.omega
    s2, c2 = np.sin(2 * phi), np.cos(2 * phi)
    u = phi + p.Cus * s2 + p.Cuc * c2
    r = p.a * (1 - e * cos_e) + p.Crs * s2 + p.Crc * c2
    inc = p.i0 + p.Cis * s2 + p.Cic * c2 + p.IDOT * tk
    xp, yp = r * np.cos(u), r * np.sin(u)
    omega = p.Omega0 + p.rate * tk - p.omega_week
    cos_o, sin_o, cos_i = np.cos(omega), np.sin(omega), np.cos(inc)
    x = xp * cos_o - yp * cos_i * sin_o
    y = xp * sin_o + yp * cos_i * cos_o
    z = yp * np.sin(inc)
    if geo is True:
        x, y, z = _geo_frame(x, y, z, tk)
    elif geo is not False and geo.any():
        g = np.flatnonzero(geo)
        x[g], y[g], z[g] = _geo_frame(x[g], y[g], z[g], tk[g])
    return np.stack([x, y, z], axis=-1)


def _eccentric_anomaly(m: np.ndarray, e) -> np.ndarray:
    """Kepler's equation E - e sin E = M by 10 Newton steps from E = M. A point whose step left it unchanged bit
    for bit stops there (its later steps would not change it either); only the points still moving (a few
    oscillate by an ulp to the end) take the next step."""
    ecc = m.copy()
    moving = np.arange(len(m))
    for _ in range(10):
        old = ecc[moving]
        em = e if np.ndim(e) == 0 else e[moving]
        new = old - (old - em * np.sin(old) - m[moving]) / (1 - em * np.cos(old))
        ecc[moving] = new
        moving = moving[new.view(np.int64) != old.view(np.int64)]
        if not len(moving):
            break
    return ecc


def _geo_frame(x, y, z, tk):
    """BeiDou GEO: from the inertial-like frame rotated by -5 deg, then by the Earth's rotation since toe."""
    f = math.radians(-5.0)
    y2 = y * math.cos(f) + z * math.sin(f)
    z2 = -y * math.sin(f) + z * math.cos(f)
    rot = OMEGA_E * tk
    return x * np.cos(rot) + y2 * np.sin(rot), -x * np.sin(rot) + y2 * np.cos(rot), z2


def kepler_xyz(eph: dict[str, float], t: np.ndarray, sat: str = "G01") -> np.ndarray:
    """(N, 3) ECEF positions (m) at GPS seconds ``t`` from one ephemeris (``toe`` in GPS seconds, continuous)."""
    t = np.asarray(t, dtype=np.float64)
    return _kepler(t.reshape(-1), _record_params(eph, sat), _is_geo(sat)).reshape(t.shape + (3,))


def _d(text: str) -> float:
    text = text.strip().replace("D", "E").replace("d", "e")
    return float(text) if text else 0.0


def parse_navigation(text: str) -> dict[str, list[dict[str, float]]]:
    """Keplerian ephemerides of a RINEX 2 (GPS), 3 or 4 navigation file: satellite -> records (GPS-second toe).
    GLONASS/SBAS records and RINEX 4 non-ephemeris records are skipped. RinexFileError when it is not one."""
    lines = text.splitlines()
    version = None
    system = "G"
    body = None
    for i, line in enumerate(lines):
        label = line[60:80].strip()
        if label == "RINEX VERSION / TYPE":
            try:
                version = float(line[0:9])
            except ValueError:
                raise RinexFileError("navigation file: unreadable RINEX version") from None
            kind = line[20:21]
            if kind not in "NGHLP":  # N nav (GPS in 2, any in 3), G GLONASS 2, ...
                raise RinexFileError(f"not a navigation file (type {kind!r})")
            system = line[40:41].strip() or "G"
            if version < 3 and kind == "N":
                system = "G"
        elif label == "END OF HEADER":
            body = i + 1
            break
    if version is None or body is None:
        raise RinexFileError("not a RINEX navigation file (no version line or no END OF HEADER)")
    out: dict[str, list[dict[str, float]]] = {}
    i = body
    v3 = version >= 3
    while i < len(lines):
        line = lines[i]
        if not line.strip():
            i += 1
            continue
        try:
            if version >= 4 and line.startswith(">"):
                parts = line[1:].split()
                if len(parts) >= 3 and parts[0] == "EPH" and parts[1][0] in MU:
                    i += 1
                    continue  # the record follows in the RINEX 3 layout
                i += 1  # skip other RINEX 4 records (STO, EOP, ION, GLONASS, ...) up to the next '>'
                while i < len(lines) and not lines[i].startswith(">"):
                    i += 1
                continue
            if v3:
                sat = line[0:3].replace(" ", "0")
                sys_ = sat[0]
                nlines = {"R": 4, "S": 4}.get(sys_, 8)
                if version >= 4 and sys_ == "R":
                    nlines = 5
                rec = lines[i:i + nlines]
                values = [line[23:42], line[42:61], line[61:80]]
                for extra in rec[1:]:
                    values += [extra[4 + 19 * k:23 + 19 * k] for k in range(4)]
            else:
                sat = f"{system}{int(line[0:2]):02d}"
                sys_ = system
                nlines = 4 if system in "RS" else 8
                rec = lines[i:i + nlines]
                values = [line[22:41], line[41:60], line[60:79]]
                for extra in rec[1:]:
                    values += [extra[3 + 19 * k:22 + 19 * k] for k in range(4)]
            i += nlines
            if sys_ not in MU or len(rec) < 8:
                continue
            v = [_d(x) for x in values]
            eph = dict(zip(("af0", "af1", "af2", "IODE", "Crs", "DeltaN", "M0", "Cuc", "e", "Cus", "sqrtA", "toe_sow",
                            "Cic", "Omega0", "Cis", "i0", "Crc", "omega", "OmegaDot", "IDOT", "codes", "week"), v))
            week = eph["week"]
            if sys_ == "C":  # BDT week and seconds
                toe = (week + 1356) * WEEK + eph["toe_sow"] + BDT_OFFSET
            else:  # GPS week (Galileo's is written aligned with it in RINEX)
                toe = week * WEEK + eph["toe_sow"]
            eph["toe"] = toe
            if eph["sqrtA"] < 1000:
                continue
            out.setdefault(sat, []).append(eph)
        except (ValueError, IndexError):
            raise RinexFileError(f"navigation record at line {i + 1} does not parse") from None
    return out


# ----------------------------------------------------------------------------------------------------------------
# SP3

def parse_sp3(text: str) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """(T,) GPS seconds and satellite -> (T, 3) ECEF metres (NaN where missing) of an SP3-c/d file."""
    times: list[float] = []
    pos: dict[str, dict[int, tuple[float, float, float]]] = {}
    if not text.startswith("#"):
        raise RinexFileError("not an SP3 file (no '#' version line)")
    for line in text.splitlines():
        if line.startswith("*  "):
            f = line[3:].split()
            sec = float(f[5])
            when = dt.datetime(int(f[0]), int(f[1]), int(f[2]), int(f[3]), int(f[4])) + dt.timedelta(seconds=sec)
            times.append(gps_seconds(when))
        elif line.startswith("P") and times:
            sat = line[1:4].replace(" ", "0")
            try:
                x, y, z = (float(line[4 + 14 * k:18 + 14 * k]) for k in range(3))
            except ValueError:
                continue
            if abs(x) < 1e-6 and abs(y) < 1e-6 and abs(z) < 1e-6 or max(abs(x), abs(y), abs(z)) > 999999:
                continue
            pos.setdefault(sat, {})[len(times) - 1] = (x * 1000.0, y * 1000.0, z * 1000.0)
    if not times:
        raise RinexFileError("SP3 file without epochs")
    t = np.asarray(times)
    out = {}
    for sat, rows in pos.items():
        arr = np.full((len(t), 3), np.nan)
        for k, xyz in rows.items():
            arr[k] = xyz
        out[sat] = arr
    return t, out


def _lagrange_weights(t: np.ndarray, tt: np.ndarray, order: int = 9):
    """For 9-point Lagrange interpolation in table times ``t`` at ``tt``: the (N, order) table rows around each
    time, their weights and where ``tt`` is inside the table; None when the table is too short. Satellites with
    the same table rows share them."""
    if len(t) < order:
        return None
    start = np.clip(np.searchsorted(t, tt) - order // 2, 0, len(t) - order)
    inside = (tt >= t[0]) & (tt <= t[-1])
    rows = start[:, None] + np.arange(order)[None, :]  # (N, order) table rows around each time
    ts = t[rows]
    num = tt[:, None, None] - ts[:, None, :]  # (N, j, m): x - t_m
    den = ts[:, :, None] - ts[:, None, :]  # t_j - t_m
    eye = np.eye(order, dtype=bool)[None]
    w = np.prod(np.where(eye, 1.0, num / np.where(eye, 1.0, den)), axis=2)  # (N, order) Lagrange weights
    return rows, w, inside


def _interpolate(weights, xyz: np.ndarray, out: np.ndarray) -> np.ndarray:
    """Fill ``out`` (N, 3) from the finite rows ``xyz`` of a table and their ``_lagrange_weights``: inside the
    table only (``out`` keeps its values elsewhere)."""
    if weights is None:
        return out
    rows, w, inside = weights
    values = np.einsum("nj,njk->nk", w, np.take(xyz, rows, axis=0))  # take: xyz[rows], faster
    if inside.all():
        out[...] = values
    else:
        out[inside] = values[inside]
    return out


# ----------------------------------------------------------------------------------------------------------------
# the orbit object qc_file uses

def geodetic(xyz) -> tuple[float, float]:
    """Geodetic latitude and longitude (radians, WGS84) of an ECEF position."""
    a, f = 6378137.0, 1 / 298.257223563
    e2 = f * (2 - f)
    x, y, z = xyz
    lon = math.atan2(y, x)
    p = math.hypot(x, y)
    lat = math.atan2(z, p * (1 - e2))
    for _ in range(6):
        n = a / math.sqrt(1 - e2 * math.sin(lat) ** 2)
        h = p / math.cos(lat) - n
        lat = math.atan2(z, p * (1 - e2 * n / (n + h)))
    return lat, lon


def elevation(sat_xyz: np.ndarray, rx) -> np.ndarray:
    """Elevation angles (degrees) of (..., 3) ECEF positions seen from ECEF ``rx``."""
    lat, lon = geodetic(rx)
    up = np.array([math.cos(lat) * math.cos(lon), math.cos(lat) * math.sin(lon), math.sin(lat)])
    d = sat_xyz - np.asarray(rx, dtype=np.float64)
    s = d * d
    rng = np.sqrt((s[..., 0] + s[..., 1]) + s[..., 2])  # np.linalg.norm(d, axis=-1), its sum order, faster
    return np.degrees(np.arcsin(np.clip((d @ up) / rng, -1, 1)))


VALIDITY = 4 * 3600.0  # s: a broadcast record is used up to 4 h from its toe
GRIDS_KEPT = 4  # time grids whose satellite positions an Orbits keeps (the files of a unit share the day's grid)
GRID_BYTES_KEPT = 64 * 2 ** 20  # and at most this much of them (a full day at 30 s of 100 satellites: 7 MB)
CHUNK = 1 << 16  # (epoch, satellite) points evaluated together: bounds the evaluation's temporaries


@dataclass
class _SatRecords:
    """One satellite's broadcast records as arrays: toes in file order, the sorted distinct toes with the first
    record holding each, and the evaluation's parameters per record."""

    toes: np.ndarray
    distinct: np.ndarray
    first: np.ndarray
    params: np.ndarray  # (len(_Params._fields), R): one row per parameter
    geo: bool

    @classmethod
    def of(cls, sat: str, records: list[dict[str, float]]) -> _SatRecords:
        toes = np.array([r["toe"] for r in records], dtype=np.float64)
        distinct, first = np.unique(toes, return_index=True)  # first occurrences: np.argmin's pick among equals
        params = np.array([_record_params(r, sat) for r in records], dtype=np.float64).T.copy()
        return cls(toes, distinct, first, params, _is_geo(sat))

    def nearest(self, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per time, the record ``argmin |t - toe|`` picks (the first in file order among equal distances) and
        whether it is within VALIDITY.

        Found among the distinct toes next to ``t`` (the rounded distance only grows away from ``t``). A tie
        between both sides matters only for a valid record, and then both distances are exact (Sterbenz: toe
        and t within a factor 2), so it is a true midpoint and the earlier record wins as in argmin. Odd inputs
        (non-finite toes, times before 1980-01-07 or NaN) take the direct argmin."""
        if not (np.isfinite(self.distinct).all() and len(t) and t.min() >= 1e5):
            nearest = np.argmin(np.abs(t[:, None] - self.toes[None, :]), axis=1)
            return nearest, np.abs(t - self.toes[nearest]) <= VALIDITY
        i = np.searchsorted(self.distinct, t, side="right")  # distinct[i - 1] <= t < distinct[i]
        left, right = np.maximum(i - 1, 0), np.minimum(i, len(self.distinct) - 1)
        d_left, d_right = np.abs(t - self.distinct[left]), np.abs(t - self.distinct[right])
        right_wins = (d_right < d_left) | ((d_right == d_left) & (self.first[right] < self.first[left]))
        return self.first[np.where(right_wins, right, left)], np.where(right_wins, d_right, d_left) <= VALIDITY


@dataclass
class _Grid:
    """Positions kept for one time grid: ``block`` (S, N, 3) in ``sats`` order, ``known`` where the orbit has the
    satellite (the other rows are NaN)."""

    sats: list[str]
    block: np.ndarray
    known: np.ndarray

    def add(self, sats: list[str], block: np.ndarray, known: np.ndarray) -> _Grid:
        return _Grid(self.sats + sats, np.concatenate([self.block, block]), np.concatenate([self.known, known]))

    def select(self, sats: list[str]) -> tuple[np.ndarray, np.ndarray]:
        if sats == self.sats:
            return self.block, self.known
        row = {sat: i for i, sat in enumerate(self.sats)}
        rows = [row[sat] for sat in sats]
        return self.block[rows], self.known[rows]


@dataclass
class Orbits:
    """Satellite positions of one day, from broadcast ephemerides or SP3.

    Positions on a time grid are kept (GRIDS_KEPT grids, GRID_BYTES_KEPT at most) so that the other files of
    the day on the same grid only compute their elevations. The orbit data must not change once positions have
    been asked. Not for concurrent use from several threads."""

    source: str
    ephemerides: dict[str, list[dict[str, float]]] | None = None
    sp3_times: np.ndarray | None = None
    sp3: dict[str, np.ndarray] | None = None
    _records: dict[str, _SatRecords] = field(default_factory=dict, init=False, repr=False, compare=False)
    _grids: OrderedDict[bytes, _Grid] = field(default_factory=OrderedDict, init=False, repr=False, compare=False)

    @property
    def satellites(self) -> set[str]:
        return set(self.ephemerides or {}) | set(self.sp3 or {})

    def positions(self, sat: str, t: np.ndarray) -> np.ndarray | None:
        """(N, 3) ECEF at GPS seconds ``t`` (NaN where unknown), or None for an unknown satellite."""
        block, known = self._compute([sat], np.asarray(t, dtype=np.float64))
        return block[0] if known[0] else None

    def elevations(self, sats: list[str], start: dt.datetime, seconds: np.ndarray, rx) -> np.ndarray:
        """(N, S) elevations (deg) at ``start`` + ``seconds`` (GPS time), NaN where the orbit does not say."""
        t = gps_seconds(start) + np.asarray(seconds, dtype=np.float64) - 0.075  # ~ signal travel time
        sats = list(sats)
        kept = len(sats) * len(t) * 24 <= GRID_BYTES_KEPT  # else (high rate) a few satellites at a time
        block = self._on_grid(sats, t)[0] if kept else None
        step = max(1, CHUNK // max(len(t), 1))  # satellites at a time: bounded temporaries
        out = np.empty((len(t), len(sats)))
        for c in range(0, len(sats), step):
            part = block[c:c + step] if kept else self._compute(sats[c:c + step], t)[0]
            out[:, c:c + step] = elevation(part, rx).T  # unknown satellites' NaN rows give NaN
        return out

    def _on_grid(self, sats: list[str], t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Positions (S, N, 3) of ``sats`` at ``t`` and which are known: those kept for that grid, the others
        computed (and kept)."""
        key = t.tobytes()
        grid = self._grids.pop(key, None)
        kept = set(grid.sats) if grid is not None else set()
        missing = [sat for sat in dict.fromkeys(sats) if sat not in kept]
        if missing:
            block, known = self._compute(missing, t)
            grid = _Grid(missing, block, known) if grid is None else grid.add(missing, block, known)
        self._grids[key] = grid  # now the most recently used
        while len(self._grids) > GRIDS_KEPT or sum(g.block.nbytes for g in self._grids.values()) > GRID_BYTES_KEPT:
            self._grids.popitem(last=False)
        return grid.select(sats)

    def _compute(self, sats: list[str], t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Positions (S, N, 3) of ``sats`` at ``t`` (SP3 first, else broadcast) and which satellites are known."""
        block = np.full((len(sats), len(t), 3), np.nan)
        in_sp3 = [j for j, sat in enumerate(sats) if self.sp3 is not None and sat in self.sp3]
        in_nav = [j for j, sat in enumerate(sats) if (self.sp3 is None or sat not in self.sp3)
                  and (self.ephemerides or {}).get(sat)]
        self._sp3_positions(block, in_sp3, sats, t)
        self._broadcast_positions(block, in_nav, sats, t)
        known = np.zeros(len(sats), dtype=bool)
        known[in_sp3 + in_nav] = True
        return block, known

    def _sp3_positions(self, block: np.ndarray, rows: list[int], sats: list[str], t: np.ndarray) -> None:
        groups: dict[bytes, tuple[np.ndarray, list[int]]] = {}
        for j in rows:  # satellites with the same tabulated epochs share the interpolation weights
            ok = np.isfinite(self.sp3[sats[j]][:, 0])
            groups.setdefault(ok.tobytes(), (ok, []))[1].append(j)
        for ok, members in groups.values():
            weights = _lagrange_weights(self.sp3_times[ok], t)
            for j in members:
                _interpolate(weights, self.sp3[sats[j]][ok], block[j])

    def _broadcast_positions(self, block: np.ndarray, rows: list[int], sats: list[str], t: np.ndarray) -> None:
        """Every (epoch, satellite) point with a valid record, evaluated together with its record's parameters."""
        if not rows:
            return
        tables = [self._sat_records(sats[j]) for j in rows]
        params = np.concatenate([table.params for table in tables], axis=1)
        geo = np.concatenate([np.full(len(table.toes), table.geo) for table in tables])
        base = np.cumsum([0] + [len(table.toes) for table in tables])
        where, which = [], []  # flat (satellite, epoch) index of each point in ``block``, its column in ``params``
        for j, table, first in zip(rows, tables, base):
            record, valid = table.nearest(t)
            epochs = np.flatnonzero(valid)
            where.append(j * len(t) + epochs)
            which.append(first + record[epochs])
        where, which = np.concatenate(where), np.concatenate(which)
        flat = block.reshape(-1, 3)
        for c in range(0, len(where), CHUNK):
            points, records = where[c:c + CHUNK], which[c:c + CHUNK]
            gathered = np.take(params, records, axis=1)  # (fields, P): each parameter's row contiguous
            flat[points] = _kepler(t[points % len(t)], _Params(*gathered), geo[records])

    def _sat_records(self, sat: str) -> _SatRecords:
        table = self._records.get(sat)
        if table is None:
            table = self._records[sat] = _SatRecords.of(sat, self.ephemerides[sat])
        return table


def load_orbits(path: Path | str) -> Orbits:
    """Orbits from a navigation or SP3 file (plain, .gz or .Z). RinexFileError when it is neither."""
    import gzip

    from .compression import outer_compression

    path = Path(path)
    raw = path.read_bytes()
    kind = outer_compression(raw[:8])
    if kind == "gz":
        raw = gzip.decompress(raw)
    elif kind == "Z":
        import ncompress

        raw = ncompress.decompress(raw)
    elif kind == "bz2":
        import bz2

        raw = bz2.decompress(raw)
    elif kind is not None:
        raise RinexFileError(f"orbit file {path.name}: {kind} is not supported")
    text = raw.decode("ascii", "replace")
    if text.startswith("#"):
        t, pos = parse_sp3(text)
        return Orbits(str(path), sp3_times=t, sp3=pos)
    return Orbits(str(path), ephemerides=parse_navigation(text))


def find_orbit_file(day: dt.date, settings) -> Path | None:
    """The day's SP3 ([archive] sp3, centres in sp3_ac order) or else broadcast navigation ([archive] brdc:
    a file template, or a folder holding brdcDDD0.YYn / BRDC00*_R_YYYYDDD0000_01D_*N.rnx, plain, .gz or .Z)."""
    import re

    from ..dates import GnssDate
    from ..products import ProductError, existing, expand_template, find_product

    gd = GnssDate.from_date(day)
    sp3 = settings.get("archive.sp3") if settings is not None else None
    if sp3:
        try:
            found = find_product(str(sp3), gd, [str(c) for c in settings.get("archive.sp3_ac") or []], "sp3")
        except (ProductError, OSError):
            found = None
        if found is not None:
            return found
    brdc = settings.get("archive.brdc") if settings is not None else None
    if not brdc:
        return None
    try:
        path = Path(expand_template(str(brdc), gd))
    except ProductError:
        return None
    if not path.is_dir():
        return existing(path)
    patterns = [re.compile(rf"^brdc{gd.doy:03d}0\.{gd.year % 100:02d}[np](\.gz|\.Z)?$", re.I),
                re.compile(rf"^\w{{9}}_\w_{gd.year:04d}{gd.doy:03d}0000_01D_(\w\w_)?[MG]N\.rnx(\.gz|\.Z)?$", re.I)]
    found = sorted(p for p in path.iterdir() if any(r.match(p.name) for r in patterns))
    found.sort(key=lambda p: (0 if "MN" in p.name.upper() else 1, p.name))
    return found[0] if found else None


def orbits_for(day: dt.date, settings) -> Orbits | None:
    path = find_orbit_file(day, settings)
    if path is None:
        return None
    try:
        return load_orbits(path)
    except (RinexFileError, OSError, ValueError, EOFError):
        return None
