"""Physically consistent synthetic observations for ``SynthSpec(physics=True)``, with known faults.

Satellites fly Keplerian orbits (``elements``: GPS/QZSS-like 26 560 km 55 deg in six planes, Galileo 29 600 km
56 deg in three, BeiDou MEO 27 906 km 55 deg), evaluated with the broadcast-ephemeris algorithm of
``geode.rinex.orbits`` so that ``navigation_text`` describes exactly the same orbits. Per satellite and epoch
(metres):

    code_b  = rho + I_b + multipath_b + clock jumps + N(0, code_noise)
    phase_b = rho - I_b + lambda_b * (N_b + slips) + N(0, phase_noise)        (written in cycles)
    I_b     = I_L1 * (f_L1 / f_b)^2, I_L1 a smooth slant ionosphere (a few metres, larger low)
    SNR     = 30 + 20 sin(elevation) dB-Hz

A satellite is tracked above ``elevation_mask``; after it rises and after an injected satellite gap its
ambiguities start anew (random integers). Injected multipath is a sinusoid of 10 min period (random phase per
satellite) or white noise, of the given RMS, on one band's code. Slips add whole cycles from their epoch on.
Clock jumps add c * 1 ms to every code from their epoch on (the receiver steers its clock in code only);
``clock_jumps_both`` to code and phase (a receiver that steers both).
"""

from __future__ import annotations

import datetime as dt
import math

import numpy as np

from .orbits import OMEGA_E, elevation, gps_seconds, kepler_xyz

C_LIGHT = 299_792_458.0
MS = C_LIGHT * 1e-3
FREQ = {"G": {"1": 1575.42e6, "2": 1227.60e6, "5": 1176.45e6},
        "E": {"1": 1575.42e6, "5": 1176.45e6, "7": 1207.140e6, "8": 1191.795e6, "6": 1278.75e6},
        "J": {"1": 1575.42e6, "2": 1227.60e6, "5": 1176.45e6},
        "C": {"2": 1561.098e6, "7": 1207.140e6, "6": 1268.52e6},
        "R": {"1": 1602.0e6, "2": 1246.0e6}}
GLONASS_STEP = {"1": 0.5625e6, "2": 0.4375e6}
PAIR = {"G": "12", "E": "15", "J": "12", "C": "27", "R": "12"}  # the two bands a slip (n_a, n_b) is on


def glonass_channel(sat: str) -> int:
    """The FDMA frequency channel (-7..6) of a synthetic GLONASS satellite."""
    return int(sat[1:]) % 14 - 7


def frequencies(sat: str, band: str) -> float:
    f = FREQ[sat[0]][band]
    if sat[0] == "R":
        f += glonass_channel(sat) * GLONASS_STEP[band]
    return f
MP_PERIOD = 600.0  # s


def elements(sat: str, toe: float) -> dict[str, float]:
    """Broadcast-ephemeris parameters of a synthetic satellite (deterministic from its PRN)."""
    sys_, prn = sat[0], int(sat[1:])
    if sys_ == "E":
        a, inc, planes, per_plane = 29_600e3, 56.0, 3, 10
    elif sys_ == "R":
        a, inc, planes, per_plane = 25_510e3, 64.8, 3, 8
    elif sys_ == "C":
        a, inc, planes, per_plane = 27_906e3, 55.0, 3, 9
    else:
        a, inc, planes, per_plane = 26_559.7e3, 55.0, 6, 6
    plane, slot = (prn - 1) % planes, (prn - 1) // planes
    return {"toe": toe, "sqrtA": math.sqrt(a), "e": 0.004 + 0.001 * (prn % 5),
            "i0": math.radians(inc + 0.3 * (prn % 3)),
            "Omega0": math.radians(360.0 / planes * plane + 10.0), "omega": math.radians(20.0 * (prn % 7)),
            "M0": math.radians((360.0 / per_plane * slot + 15.0 * plane) % 360.0) - math.radians(20.0 * (prn % 7)),
            "DeltaN": 0.0, "OmegaDot": -8.0e-9, "IDOT": 0.0, "Cuc": 0.0, "Cus": 0.0, "Crc": 0.0, "Crs": 0.0,
            "Cic": 0.0, "Cis": 0.0}


def _reference_toe(spec) -> float:
    return gps_seconds(dt.datetime(spec.start.year, spec.start.month, spec.start.day))


def _element_at(eph: dict[str, float], sat: str, toe: float) -> dict[str, float]:
    """The same orbit described from another reference time (what a later broadcast record says)."""
    out = dict(eph)
    mu = 3.986005e14 if sat[0] in "GJ" else 3.986004418e14
    n = math.sqrt(mu / eph["sqrtA"] ** 6)
    dtk = toe - eph["toe"]
    week = 604800.0
    out["toe"] = toe
    out["M0"] = eph["M0"] + n * dtk
    # Omega(t) = Omega0 + (OmegaDot - wE) (t - toe) - wE (toe mod week): same orbit from a new toe
    out["Omega0"] = eph["Omega0"] + eph["OmegaDot"] * dtk - OMEGA_E * (eph["toe"] % week) \
        + OMEGA_E * eph["toe"] - OMEGA_E * toe + OMEGA_E * (toe % week)
    for name in ("M0", "Omega0"):
        out[name] = math.remainder(out[name], 2 * math.pi)
    return out


def geometry(spec, seconds: np.ndarray) -> tuple[list[str], np.ndarray, np.ndarray]:
    """(satellites, ranges (E, S) m, elevations (E, S) deg) at ``spec.start`` + ``seconds`` (GPS time)."""
    rx = np.asarray(spec.approx_xyz, dtype=np.float64)
    t = gps_seconds(spec.start) + seconds
    toe = _reference_toe(spec)
    sats = list(spec.satellites)
    rho = np.zeros((len(t), len(sats)))
    elev = np.zeros((len(t), len(sats)))
    for j, sat in enumerate(sats):
        eph = elements(sat, toe)
        tau = 0.075
        for _ in range(2):  # transmission time and the Earth's rotation during the flight
            p = kepler_xyz(eph, t - tau, sat)
            rot = OMEGA_E * tau
            x = p[:, 0] * np.cos(rot) + p[:, 1] * np.sin(rot)
            y = -p[:, 0] * np.sin(rot) + p[:, 1] * np.cos(rot)
            p = np.stack([x, y, p[:, 2]], axis=1)
            r = np.linalg.norm(p - rx, axis=1)
            tau = r / C_LIGHT
        rho[:, j] = r
        elev[:, j] = elevation(kepler_xyz(eph, t - 0.075, sat), rx)
    return sats, rho, elev


def render_physics(spec) -> str:
    from .synth import header

    rng = np.random.default_rng(spec.seed)
    idx = np.asarray(spec.epoch_indices)
    seconds = idx * spec.interval
    sats, rho, elev = geometry(spec, seconds)
    n_e, n_s = rho.shape
    tracked = elev >= spec.elevation_mask
    col = {s: j for j, s in enumerate(sats)}
    for sat, a, b in spec.sat_gaps:
        rows = (idx >= a) & (idx < b)
        tracked[rows, col[sat]] = False
    # ambiguities: a new random integer set at every (re)acquisition
    start = tracked & ~np.vstack([np.zeros((1, n_s), bool), tracked[:-1]])
    arc = np.cumsum(start, axis=0)
    # slant ionosphere on L1 (m): 2-6 m vertical with a daily cycle, thin-shell obliquity
    vertical = 4.0 + 2.0 * np.sin(2 * np.pi * (seconds / 86400.0 - 0.35))[:, None]
    z = np.radians(90.0 - np.clip(elev, 0, 90))
    obliquity = 1.0 / np.sqrt(1.0 - (6371.0 / 6721.0 * np.sin(z)) ** 2)
    iono_l1 = vertical * obliquity
    jumps = np.zeros(n_e)
    for k in spec.clock_jumps:
        jumps[idx >= k] += MS
    both = np.zeros(n_e)  # code and phase
    for k in spec.clock_jumps_both:
        both[idx >= k] += MS
    systems = sorted({s[0] for s in sats})
    values: dict[str, np.ndarray] = {}
    mp_of = {key: (rms, kind) for key, rms, kind in spec.multipath}
    v3 = spec.version >= 3
    for sys_ in systems:
        cols = [j for j, s in enumerate(sats) if s[0] == sys_]
        types = spec.types_of(sys_) if v3 else tuple(spec.v2_types)
        out = np.full((n_e, len(cols), len(types)), np.nan)
        bands = sorted({t[1] for t in types if t[1] in FREQ.get(sys_, {})})
        amb = {b: rng.integers(-2_000_000, 2_000_000, size=(int(arc.max()) + 2, len(cols))) for b in bands}
        slip_cycles = {b: np.zeros((n_e, len(cols))) for b in bands}
        for sat, k, na, nb in spec.slips:
            if sat in col and sat[0] == sys_:
                jc = cols.index(col[sat])
                a_band, b_band = PAIR.get(sys_, "12")
                rows = idx >= k
                if a_band in slip_cycles:
                    slip_cycles[a_band][rows, jc] += na
                if b_band in slip_cycles:
                    slip_cycles[b_band][rows, jc] += nb
        sub = np.ix_(range(n_e), cols)
        r, el, trk, arcs = rho[sub], elev[sub], tracked[sub], arc[sub]
        code_b, phase_b = {}, {}
        for b in bands:
            f = np.array([frequencies(sats[j], b) for j in cols])[None, :]
            lam = C_LIGHT / f
            iono = iono_l1[sub] * (1575.42e6 / f) ** 2
            mp = np.zeros((n_e, len(cols)))
            if f"{sys_}{b}" in mp_of:
                rms, kind = mp_of[f"{sys_}{b}"]
                if kind == "sine":
                    phase0 = rng.uniform(0, 2 * np.pi, size=len(cols))
                    mp = rms * math.sqrt(2) * np.sin(2 * np.pi * seconds[:, None] / MP_PERIOD + phase0[None, :])
                else:
                    mp = rng.normal(0.0, rms, size=(n_e, len(cols)))
            noise = rng.normal(0.0, spec.code_noise, size=(n_e, len(cols)))
            code_b[b] = r + iono + mp + jumps[:, None] + both[:, None] + noise
            n_amb = np.take_along_axis(amb[b], arcs, axis=0) + slip_cycles[b]
            phase_b[b] = (r - iono + both[:, None] + rng.normal(0.0, spec.phase_noise, size=(n_e, len(cols)))) / lam \
                + n_amb
        snr = 30.0 + 20.0 * np.sin(np.radians(np.clip(el, 0, 90)))
        for k, t in enumerate(types):
            b = t[1]
            if b not in bands:
                continue
            kind = t[0]
            if kind in "CP":
                v = code_b[b]
            elif kind == "L":
                v = phase_b[b]
            elif kind == "S":
                v = snr - (0.0 if b == "1" else 3.0)
            elif kind == "D":
                lam_b = C_LIGHT / np.array([frequencies(sats[j], b) for j in cols])[None, :]
                v = -np.gradient(r, axis=0) / spec.interval / lam_b if n_e > 1 else np.zeros_like(r)
            else:
                continue
            out[:, :, k] = np.where(trk, v, np.nan)
        values[sys_] = out
    times = [spec.start + dt.timedelta(seconds=float(s)) for s in seconds]
    present = tracked.any(axis=1)
    lines = [header(spec, [t for t, p in zip(times, present) if p] or times)]
    order = {sys_: [j for j, s in enumerate(sats) if s[0] == sys_] for sys_ in systems}
    for e, when in enumerate(times):
        if not present[e]:
            continue
        visible = [(sys_, jc, sats[j]) for sys_ in systems for jc, j in enumerate(order[sys_]) if tracked[e, j]]
        sec = when.second + when.microsecond / 1e6
        if v3:
            lines.append(f"> {when.year:4d} {when.month:02d} {when.day:02d} {when.hour:02d} {when.minute:02d}"
                         f"{sec:11.7f}  0{len(visible):3d}\n")
            for sys_, jc, name in visible:
                row = values[sys_][e, jc]
                lines.append(name + "".join("                " if math.isnan(v) else f"{v:14.3f}  "
                                            for v in row).rstrip() + "\n")
        else:
            head = (f" {when.year % 100:02d} {when.month:2d} {when.day:2d} {when.hour:2d} {when.minute:2d}"
                    f"{sec:11.7f}  0{len(visible):3d}")
            names = [n for _, _, n in visible]
            lines.append(head + "".join(names[:12]) + "\n")
            for i in range(12, len(names), 12):
                lines.append(" " * 32 + "".join(names[i:i + 12]) + "\n")
            for sys_, jc, _ in visible:
                cells = ["                " if math.isnan(v) else f"{v:14.3f}  " for v in values[sys_][e, jc]]
                for i in range(0, len(cells), 5):
                    lines.append("".join(cells[i:i + 5]).rstrip() + "\n")
    return "".join(lines)


def navigation_text(spec, version: float | None = None) -> str:
    """A RINEX navigation file (3.04 mixed, or 2.11 GPS-only) with a record every 2 h over the file's span for
    every satellite of ``spec`` (GPS, Galileo, QZSS, BeiDou), describing the orbits ``geometry`` flies."""
    version = version or (3.04 if spec.version >= 3 else 2.11)
    toe0 = _reference_toe(spec)
    end = gps_seconds(spec.start) + spec.epochs * spec.interval
    first = gps_seconds(spec.start)

    def d19(x: float) -> str:
        return f"{x:19.12E}".replace("E", "D") if version < 3 else f"{x:19.12E}"

    out = []
    if version >= 3:
        out.append(f"{version:9.2f}{'':11}{'N: GNSS NAV DATA':<20}{'M: MIXED':<20}RINEX VERSION / TYPE\n")
    else:
        out.append(f"{version:9.2f}{'':11}{'N: GPS NAV DATA':<40}RINEX VERSION / TYPE\n")
    out.append(f"{'geode synth':<20}{'geode':<20}{'20240101 000000 UTC':<20}PGM / RUN BY / DATE\n")
    out.append(f"{'':60}END OF HEADER\n")
    sats = [s for s in spec.satellites if s[0] in ("GEJC" if version >= 3 else "G")]
    toes = np.arange(math.floor((first - toe0) / 7200.0) * 7200.0, end - toe0 + 7200.0, 7200.0) + toe0
    for sat in sats:
        base = elements(sat, toe0)
        for toe in toes:
            eph = _element_at(base, sat, float(toe))
            when = dt.datetime(1980, 1, 6) + dt.timedelta(seconds=float(toe))
            week, sow = divmod(toe, 604800.0)
            if sat[0] == "C":  # BeiDou: BDT week and seconds
                bdt = toe - 14.0
                week, sow = divmod(bdt, 604800.0)
                week -= 1356
                when = when - dt.timedelta(seconds=14)
            rows = [[eph.get("IODE", 1.0), eph["Crs"], eph["DeltaN"], eph["M0"]],
                    [eph["Cuc"], eph["e"], eph["Cus"], eph["sqrtA"]],
                    [sow, eph["Cic"], eph["Omega0"], eph["Cis"]],
                    [eph["i0"], eph["Crc"], eph["omega"], eph["OmegaDot"]],
                    [eph["IDOT"], 1.0 if sat[0] != "E" else 516.0, week, 0.0],
                    [2.0, 0.0, 0.0, 1.0],
                    [sow - 30.0, 4.0, 0.0, 0.0]]
            if version >= 3:
                out.append(f"{sat} {when.year:4d} {when.month:02d} {when.day:02d} {when.hour:02d} {when.minute:02d}"
                           f" {when.second:02d}" + d19(0.0) + d19(0.0) + d19(0.0) + "\n")
                for row in rows:
                    out.append("    " + "".join(d19(x) for x in row) + "\n")
            else:
                out.append(f"{int(sat[1:]):2d} {when.year % 100:02d} {when.month:2d} {when.day:2d} {when.hour:2d}"
                           f" {when.minute:2d}{when.second:5.1f}" + d19(0.0) + d19(0.0) + d19(0.0) + "\n")
                for row in rows:
                    out.append("   " + "".join(d19(x) for x in row) + "\n")
    return "".join(out)


def sp3_text(spec, step: float = 900.0) -> str:
    """An SP3-c file (positions every ``step`` s over the file's day, from an hour before to an hour after) of
    every GPS, Galileo, QZSS, BeiDou and GLONASS satellite of ``spec``, on the orbits ``geometry`` flies."""
    day = dt.datetime(spec.start.year, spec.start.month, spec.start.day)
    toe = _reference_toe(spec)
    times = [day + dt.timedelta(seconds=float(s)) for s in np.arange(-3600.0, 86400.0 + 3600.0 + 1, step)]
    sats = list(spec.satellites)
    t = np.array([gps_seconds(w) for w in times])
    pos = {sat: kepler_xyz(elements(sat, toe), t, sat) / 1000.0 for sat in sats}
    first = times[0]
    gps_week, sow = divmod(gps_seconds(first), 604800.0)
    out = [f"#cP{first.year:4d} {first.month:2d} {first.day:2d} {first.hour:2d} {first.minute:2d} "
           f"{first.second:11.8f} {len(times):7d} ORBIT IGS20 HLM  GEO\n",
           f"## {int(gps_week):4d} {sow:15.8f} {step:14.8f} {0:5d} {0.0:15.13f}\n"]
    for i in range(0, max(len(sats), 85), 17):
        chunk = "".join(f"{s:>3}" for s in sats[i:i + 17]).ljust(51, "0") if i < len(sats) else "0" * 51
        out.append((f"+  {len(sats):3d}   " if i == 0 else "+        ") + chunk.replace("0" * 3, "  0") + "\n")
    for i in range(0, max(len(sats), 85), 17):
        out.append("++       " + "  0" * 17 + "\n")
    out += ["%c M  cc GPS ccc cccc cccc cccc cccc ccccc ccccc ccccc ccccc\n",
            "%c cc cc ccc ccc cccc cccc cccc cccc ccccc ccccc ccccc ccccc\n",
            "%f  1.2500000  1.025000000  0.00000000000  0.000000000000000\n",
            "%f  0.0000000  0.000000000  0.00000000000  0.000000000000000\n",
            "%i    0    0    0    0      0      0      0      0         0\n",
            "%i    0    0    0    0      0      0      0      0         0\n",
            "/* geode synth\n"]
    for k, when in enumerate(times):
        out.append(f"*  {when.year:4d} {when.month:2d} {when.day:2d} {when.hour:2d} {when.minute:2d} "
                   f"{when.second:11.8f}\n")
        for sat in sats:
            x, y, z = pos[sat][k]
            out.append(f"P{sat}{x:14.6f}{y:14.6f}{z:14.6f}{999999.999999:14.6f}\n")
    out.append("EOF\n")
    return "".join(out)
