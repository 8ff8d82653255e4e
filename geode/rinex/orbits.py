"""Satellite positions and elevations for quality control: broadcast navigation (RINEX 2 / 3 / 4 GPS, Galileo,
QZSS, BeiDou Keplerian ephemerides; IS-GPS-200 Table 20-IV, Galileo OS SIS ICD 5.1.1, BeiDou ICD 5.2.4) or
precise orbits (SP3-c/d, 9-point Lagrange interpolation), found through ``geode.products``.

GLONASS broadcast ephemerides (state vectors) are not integrated here: GLONASS satellites get elevations only
from an SP3 file. Times are GPS seconds (``gps_seconds``); elevations are in degrees.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from pathlib import Path

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


def kepler_xyz(eph: dict[str, float], t: np.ndarray, sat: str = "G01") -> np.ndarray:
    """(N, 3) ECEF positions (m) at GPS seconds ``t`` from one ephemeris (``toe`` in GPS seconds, continuous)."""
    sys_ = sat[0]
    mu = MU.get(sys_, 3.986005e14)
    t = np.asarray(t, dtype=np.float64)
    toe = eph["toe"]
    if sys_ == "C":
        t = t - BDT_OFFSET
    tk = t - toe
    a = eph["sqrtA"] ** 2
    n = math.sqrt(mu / a ** 3) + eph["DeltaN"]
    m = eph["M0"] + n * tk
    e = eph["e"]
    ecc = m.copy()
    for _ in range(10):
        ecc = ecc - (ecc - e * np.sin(ecc) - m) / (1 - e * np.cos(ecc))
    nu = np.arctan2(math.sqrt(1 - e * e) * np.sin(ecc), np.cos(ecc) - e)
    phi = nu + eph["omega"]
    s2, c2 = np.sin(2 * phi), np.cos(2 * phi)
    u = phi + eph["Cus"] * s2 + eph["Cuc"] * c2
    r = a * (1 - e * np.cos(ecc)) + eph["Crs"] * s2 + eph["Crc"] * c2
    inc = eph["i0"] + eph["Cis"] * s2 + eph["Cic"] * c2 + eph["IDOT"] * tk
    xp, yp = r * np.cos(u), r * np.sin(u)
    toe_week = toe % WEEK
    geo = sys_ == "C" and int(sat[1:]) in BDS_GEO
    if geo:
        omega = eph["Omega0"] + eph["OmegaDot"] * tk - OMEGA_E * toe_week
    else:
        omega = eph["Omega0"] + (eph["OmegaDot"] - OMEGA_E) * tk - OMEGA_E * toe_week
    x = xp * np.cos(omega) - yp * np.cos(inc) * np.sin(omega)
    y = xp * np.sin(omega) + yp * np.cos(inc) * np.cos(omega)
    z = yp * np.sin(inc)
    if geo:  # BeiDou GEO: inertial-like frame rotated by -5 deg and then by the Earth's rotation
        f = math.radians(-5.0)
        y2 = y * math.cos(f) + z * math.sin(f)
        z2 = -y * math.sin(f) + z * math.cos(f)
        rot = OMEGA_E * tk
        x, y, z = x * np.cos(rot) + y2 * np.sin(rot), -x * np.sin(rot) + y2 * np.cos(rot), z2
    return np.stack([x, y, z], axis=-1)


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


def _lagrange(t: np.ndarray, tt: np.ndarray, xyz: np.ndarray, order: int = 9) -> np.ndarray:
    """(N, 3) Lagrange interpolation of tabulated (T, 3) positions at ``tt``; NaN outside the table."""
    out = np.full((len(tt), 3), np.nan)
    ok = np.isfinite(xyz[:, 0])
    t, xyz = t[ok], xyz[ok]
    if len(t) < order:
        return out
    start = np.clip(np.searchsorted(t, tt) - order // 2, 0, len(t) - order)
    inside = (tt >= t[0]) & (tt <= t[-1])
    rows = start[:, None] + np.arange(order)[None, :]  # (N, order) table rows around each time
    ts = t[rows]
    num = tt[:, None, None] - ts[:, None, :]  # (N, j, m): x - t_m
    den = ts[:, :, None] - ts[:, None, :]  # t_j - t_m
    eye = np.eye(order, dtype=bool)[None]
    w = np.prod(np.where(eye, 1.0, num / np.where(eye, 1.0, den)), axis=2)  # (N, order) Lagrange weights
    values = np.einsum("nj,njk->nk", w, xyz[rows])
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
    rng = np.linalg.norm(d, axis=-1)
    return np.degrees(np.arcsin(np.clip((d @ up) / rng, -1, 1)))


@dataclass
class Orbits:
    """Satellite positions of one day, from broadcast ephemerides or SP3."""

    source: str
    ephemerides: dict[str, list[dict[str, float]]] | None = None
    sp3_times: np.ndarray | None = None
    sp3: dict[str, np.ndarray] | None = None

    @property
    def satellites(self) -> set[str]:
        return set(self.ephemerides or {}) | set(self.sp3 or {})

    def positions(self, sat: str, t: np.ndarray) -> np.ndarray | None:
        """(N, 3) ECEF at GPS seconds ``t`` (NaN where unknown), or None for an unknown satellite."""
        if self.sp3 is not None and sat in self.sp3:
            return _lagrange(self.sp3_times, t, self.sp3[sat])
        records = (self.ephemerides or {}).get(sat)
        if not records:
            return None
        toes = np.array([r["toe"] for r in records])
        nearest = np.argmin(np.abs(t[:, None] - toes[None, :]), axis=1)
        out = np.full((len(t), 3), np.nan)
        for k in np.unique(nearest):
            sel = nearest == k
            ok = sel & (np.abs(t - toes[k]) <= 4 * 3600.0)  # a broadcast record is good for +-4 h
            if ok.any():
                out[ok] = kepler_xyz(records[k], t[ok], sat)
        return out

    def elevations(self, sats: list[str], start: dt.datetime, seconds: np.ndarray, rx) -> np.ndarray:
        """(N, S) elevations (deg) at ``start`` + ``seconds`` (GPS time), NaN where the orbit does not say."""
        t = gps_seconds(start) + np.asarray(seconds, dtype=np.float64) - 0.075  # ~ signal travel time
        out = np.full((len(t), len(sats)), np.nan)
        for j, sat in enumerate(sats):
            p = self.positions(sat, t)
            if p is not None:
                out[:, j] = elevation(p, rx)
        return out


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
