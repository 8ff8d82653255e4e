"""Speed of the QC metrics alone (``geode.rinex.qc_metrics.qc_observations``, the file already read), and a check
that a change to them leaves every result as it was.

    python3 benchmarks/qc_metrics.py [--repeat 7] [--save REF.json] [--check REF.json] [--cache DIR] [--only NAME]

Cases: the full-day 30 s G+E+C dual-frequency file of ``benchmarks/scan.py`` (two seeds), then a varied set of
physically consistent synthetic files (``geode.rinex.synth``, RINEX 3.04 and 2.11): injected multipath, cycle slips
(geometry-free and Melbourne-Wuebbena only, adjacent, at arc ends), satellite and epoch gaps, clock jumps of both
kinds, GLONASS with channels from the header or the data, a third band, QZSS, blanked values, loss-of-lock flags,
files of a few epochs, other intervals, and broadcast navigation or SP3 orbits (elevation metrics).

Prints per case the best of ``--repeat`` calls in ms (with orbits, calls after the first find the satellite
positions kept in the ``Orbits``: the figure is that of a unit's following files; ``benchmarks/qc_orbits.py``
measures first and following files). ``--save`` writes every case's ``QCResult.to_json()``;
``--check`` compares with such a file: integers, strings, slip and clock-jump lists exactly, floats to 1e-12
relative (the largest relative difference is printed), and the multipath residuals before rounding (their sum of
squares and a digest of the arrays); exits 1 on any difference. Rendered files are cached in
``--cache`` (default /tmp/geode-qc-metrics-cases) since rendering takes longer than the metrics.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

GPS = tuple(f"G{i:02d}" for i in range(1, 33))
GAL = tuple(f"E{i:02d}" for i in range(1, 25))
BDS = tuple(f"C{i:02d}" for i in range(19, 38))
GLO = tuple(f"R{i:02d}" for i in range(1, 25))
QZS = ("J01", "J02", "J03")
BENCH_TYPES = (("G", ("C1C", "L1C", "D1C", "S1C", "C2W", "L2W", "S2W")),
               ("E", ("C1C", "L1C", "D1C", "S1C", "C5Q", "L5Q", "S5Q")),
               ("C", ("C2I", "L2I", "D2I", "S2I", "C7I", "L7I", "S7I")))
V3_TYPES = ("C1C", "L1C", "S1C", "C2W", "L2W", "S2W")
GAL_TYPES = ("C1C", "L1C", "S1C", "C5Q", "L5Q", "S5Q")
V2_TYPES = ("C1C", "L1C", "S1C", "P2W", "L2W", "S2W", "C5Q", "L5Q")  # written as C1 L1 S1 P2 L2 S2 C5 L5
GLO_TYPES = ("C1C", "L1C", "S1C", "C2P", "L2P", "S2P")
SLIP_SIZES = [(1, 0), (0, 1), (2, 0), (0, 2), (3, 1), (1, 3), (-2, 1), (4, 0), (2, 2), (3, -1), (-1, 0), (0, -3)]


def _bench_spec(seed: int):
    from geode.rinex.synth import SynthSpec

    return SynthSpec(physics=True, satellites=GPS + GAL + BDS, system_types=BENCH_TYPES, obs_types=BENCH_TYPES[0][1],
                     start=dt.datetime(2024, 3, 1) + dt.timedelta(days=seed), seed=seed,
                     multipath=(("G1", 0.4, "sine"),), slips=(("G05", 1000, 1, 0),), clock_jumps=(1500,))


def _tracked(spec):
    """(satellites, (E, S) elevation-tracked) at every epoch index of the spec."""
    import numpy as np

    from geode.rinex.synth_physics import geometry

    sats, _, elev = geometry(spec, np.arange(spec.epochs) * spec.interval)
    return sats, elev >= spec.elevation_mask, elev


def _faulty(spec, seed: int, *, well_up: bool = True, slips: int = 12, gaps=(1, 4, 15), jumps=(600, 1800),
            jumps_both=(900, 2300), epoch_gaps=((1200, 1210), (2100, 2101))):
    """``spec`` with slips, satellite gaps, epoch gaps and clock jumps: where the satellite is well up and apart
    (``well_up``, as tests/rinex/test_qc.py places them) or anywhere it is tracked, adjacent ones included."""
    import numpy as np

    sats, tracked, elev = _tracked(spec)
    rng = np.random.default_rng(seed)
    n = spec.epochs
    blocked = {k for a, b in epoch_gaps for k in range(a - 12, b + 12)} if well_up else set()
    busy: list[tuple[str, int]] = []

    def pick(length: int = 1) -> tuple[str, int]:
        while True:
            j = int(rng.integers(len(sats)))
            k = int(rng.integers(min(20, n - 1), max(min(20, n - 1) + 1, n - 40)))
            if not well_up:
                if tracked[k, j]:
                    return sats[j], k
                continue
            window = elev[max(k - 10, 0):k + length + 10, j]
            if (window >= 15).all() and not blocked & set(range(k, k + length)) and \
                    all(s != sats[j] or abs(e - k) > 40 for s, e in busy):
                busy.append((sats[j], k))
                return sats[j], k

    slip_list = [(*pick(), *SLIP_SIZES[i % len(SLIP_SIZES)]) for i in range(slips)]
    if not well_up:  # a few slips on the next epoch of another slip's satellite, and 20 epochs later
        slip_list += [(sat, k + 1, 1, 1) for sat, k, _, _ in slip_list[:3]]
        slip_list += [(sat, k + 20, 0, 2) for sat, k, _, _ in slip_list[3:5]]
    gap_list = tuple((sat, k, k + g) for g in gaps for sat, k in [pick(g)])
    return spec.with_(slips=tuple(slip_list), sat_gaps=gap_list, epoch_gaps=tuple(epoch_gaps),
                      clock_jumps=tuple(jumps), clock_jumps_both=tuple(jumps_both))


def _mw_only(spec):
    import numpy as np

    sats, tracked, elev = _tracked(spec)
    slips = []
    for sat, size in zip(("G05", "G17", "G21"), [(18, 14), (27, 21), (-18, -14)]):
        k = int(np.flatnonzero(elev[:, sats.index(sat)] >= 20)[60])
        slips.append((sat, k, *size))
    return spec.with_(slips=tuple(slips))


def _glonass(version: float, slots: bool):
    import numpy as np

    from geode.rinex.synth import SynthSpec

    types = GLO_TYPES if version >= 3 else ("C1C", "L1C", "S1C", "P2W", "L2W")
    spec = SynthSpec(version=version, physics=True, satellites=GPS[:12] + GLO, obs_types=types,
                     glonass_slots=slots, multipath=(("R1", 0.5, "sine"),), seed=5)
    sats, tracked, elev = _tracked(spec)
    slips = []
    for sat, size in (("R05", (1, 0)), ("R11", (0, 2)), ("R17", (-3, 1))):
        k = int(np.flatnonzero(elev[:, sats.index(sat)] >= 20)[40])
        slips.append((sat, k, *size))
    return spec.with_(slips=tuple(slips))


def _damage(text: str, seed: int, blank: float, lli: float) -> str:
    """RINEX 3 text with a fraction of the observation fields blanked and of the phase fields flagged (LLI 1)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    out = []
    header_done = False
    for line in text.split("\n"):
        if not header_done:
            header_done = "END OF HEADER" in line
            out.append(line)
            continue
        if line[:1] in "GRECJ" and len(line) > 3:
            cells = [line[3 + 16 * i:3 + 16 * (i + 1)].ljust(16) for i in range((len(line) - 3 + 15) // 16)]
            for i, cell in enumerate(cells):
                r = rng.random()
                if r < blank:
                    cells[i] = " " * 16
                elif r < blank + lli and i % 3 == 1 and cell.strip():  # L fields of C L S triplets
                    cells[i] = cell[:14] + "1" + cell[15]
            line = (line[:3] + "".join(cells)).rstrip()
        out.append(line)
    return "\n".join(out)


def cases() -> dict[str, tuple]:
    """name -> (spec, orbits kind None | "nav" | "sp3", damage (seed, blank, lli) or None)."""
    from geode.rinex.synth import SynthSpec

    v3 = SynthSpec(version=3.04, physics=True, satellites=GPS[:24] + GAL[:12], obs_types=V3_TYPES,
                   system_types=(("E", GAL_TYPES),), seed=7)
    v2 = SynthSpec(version=2.11, physics=True, satellites=GPS[:24] + GAL[:12], obs_types=V2_TYPES, seed=11)
    mp3 = (("G1", 0.5, "sine"), ("E5", 0.4, "random"))
    mp2 = (("G1", 0.5, "sine"), ("G2", 0.4, "random"))
    out = {
        "bench-0": (_bench_spec(0), None, None),
        "bench-1": (_bench_spec(1), None, None),
        "faults-3.04": (_faulty(v3, 3).with_(multipath=mp3), None, None),
        "faults-2.11": (_faulty(v2, 3).with_(multipath=mp2), None, None),
        "clean-3.04": (v3, None, None),
        "clean-2.11": (v2, None, None),
        "mw-only-3.04": (_mw_only(v3), None, None),
        "mw-only-2.11": (_mw_only(v2), None, None),
        "glonass-3.04-slots": (_glonass(3.04, True), None, None),
        "glonass-3.04-data": (_glonass(3.04, False), None, None),
        "glonass-2.11-data": (_glonass(2.11, False), None, None),
        "nav-3.04": (_faulty(v3, 3).with_(multipath=mp3), "nav", None),
        "nav-2.11": (_faulty(v2, 3).with_(multipath=mp2), "nav", None),
        "sp3-glonass": (SynthSpec(version=3.04, physics=True, satellites=GPS[:24] + GLO, obs_types=V3_TYPES, seed=9,
                                  system_types=(("R", GLO_TYPES),), sat_gaps=(("R07", 700, 712),)), "sp3", None),
        "stress-3.04": (_faulty(v3.with_(satellites=GPS + GAL + QZS, code_noise=0.8, seed=21), 5, well_up=False,
                                slips=40, gaps=(1, 2, 5, 19, 21, 30), jumps=(300, 301, 2000),
                                jumps_both=(1000, 1001, 2500), epoch_gaps=((400, 403), (1500, 1501), (2870, 2875)))
                        .with_(multipath=(("G1", 0.3, "random"), ("G2", 0.6, "sine"), ("E1", 0.2, "sine"))),
                        None, None),
        "stress-2.11": (_faulty(v2.with_(code_noise=0.5, seed=23), 6, well_up=False, slips=30, gaps=(3, 25),
                                jumps=(10,), jumps_both=(2870,), epoch_gaps=((0, 0), (1000, 1100)))
                        .with_(multipath=(("G5", 0.4, "sine"),)), "nav", None),
        "holes-3.04": (_faulty(v3.with_(seed=31), 8).with_(multipath=mp3), None, (1, 0.01, 0.002)),
        "bench-holes": (_bench_spec(2), None, (2, 0.003, 0.0005)),
        "interval-15": (_faulty(v3.with_(interval=15.0, seed=41), 9, jumps_both=()), None, None),
        "interval-5": (_faulty(v3.with_(interval=5.0, epochs=1500, seed=43), 10, slips=6, jumps=(100,),
                               jumps_both=(), epoch_gaps=((700, 702),)), None, None),
    }
    for n in (1, 2, 3, 12):
        out[f"epochs-{n}-3.04"] = (v3.with_(epochs=n), None, None)
        out[f"epochs-{n}-2.11"] = (v2.with_(epochs=n), None, None)
    return out


def observations_of(name: str, case: tuple, cache: Path):
    """(Observations, orbits or None) of a case, rendered into ``cache`` the first time."""
    from geode.rinex.observations import parse_observations
    from geode.rinex.orbits import load_orbits
    from geode.rinex.qc_metrics import select_signals
    from geode.rinex.synth import render
    from geode.rinex.synth_physics import navigation_text, sp3_text

    spec, orbits_kind, damage = case
    path = cache / f"{name}.rnx"
    if not path.exists():
        text = render(spec)
        if damage is not None:
            text = _damage(text, *damage)
        path.write_text(text)
    orbits = None
    if orbits_kind is not None:
        opath = cache / f"{name}.{orbits_kind}"
        if not opath.exists():
            opath.write_text(navigation_text(spec) if orbits_kind == "nav" else sp3_text(spec))
        orbits = load_orbits(opath)
    return parse_observations(path.read_bytes(), select_signals), orbits


def residuals_of(obs) -> dict[str, list]:
    """Per band key, the multipath residuals before any rounding: [sum of squares, count, SHA-256 of the (E, S)
    array] (what ``qc_observations`` hands to the elevation metrics; captured there with an orbit set that has
    no satellite, so the rounded JSON values cannot hide a change)."""
    import hashlib

    import numpy as np

    from geode.rinex import qc_metrics

    captured: dict[str, list] = {}

    def capture(obs, systems, residuals, *args):
        for key, (s, res) in residuals.items():
            if res.ndim == 1:  # on the system's cells (1-D): as the (epochs, satellites) grid
                res = s.cells.to_grid(res)
            r = res[np.isfinite(res)]
            canonical = np.where(np.isnan(res), np.nan, res).astype(np.float64)
            captured[key] = [float(np.sum(r * r)), int(len(r)), hashlib.sha256(canonical.tobytes()).hexdigest()]
        return None

    class NoSatellites:
        satellites: set = set()

    original = qc_metrics._elevation_metrics
    qc_metrics._elevation_metrics = capture
    try:
        qc_metrics.qc_observations(obs, orbits=NoSatellites())
    finally:
        qc_metrics._elevation_metrics = original
    return captured


def compare(ref, new, where: str, worst: list) -> list[str]:
    """Differences between two JSON values; ``worst`` holds [largest relative float difference, where]."""
    if isinstance(ref, float) and isinstance(new, float):
        if ref == new or (math.isnan(ref) and math.isnan(new)):
            return []
        rel = abs(new - ref) / max(abs(ref), abs(new))
        if rel > worst[0]:
            worst[0], worst[1] = rel, where
        return [f"{where}: {ref!r} != {new!r} (relative {rel:.2e})"] if rel > 1e-12 else []
    if type(ref) is not type(new):
        return [f"{where}: {ref!r} != {new!r} (type)"]
    if isinstance(ref, dict):
        if list(ref) != list(new):
            return [f"{where}: keys {list(ref)} != {list(new)}"]
        return [d for k in ref for d in compare(ref[k], new[k], f"{where}.{k}", worst)]
    if isinstance(ref, list):
        if len(ref) != len(new):
            return [f"{where}: length {len(ref)} != {len(new)}"]
        return [d for i, (a, b) in enumerate(zip(ref, new)) for d in compare(a, b, f"{where}[{i}]", worst)]
    return [] if ref == new else [f"{where}: {ref!r} != {new!r}"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--save", type=Path, help="write every case's result to this JSON file")
    parser.add_argument("--check", type=Path, help="compare every case's result with this JSON file")
    parser.add_argument("--cache", type=Path, default=Path("/tmp/geode-qc-metrics-cases"))
    parser.add_argument("--only", action="append", help="run only these cases (repeatable; prefix match)")
    opts = parser.parse_args()

    from geode.rinex.qc_metrics import qc_observations

    opts.cache.mkdir(parents=True, exist_ok=True)
    results: dict[str, dict] = {}
    total = {"bench": 0.0, "all": 0.0}
    for name, case in cases().items():
        if opts.only and not any(name.startswith(p) for p in opts.only):
            continue
        obs, orbits = observations_of(name, case, opts.cache)
        times = []
        first = None
        for _ in range(max(opts.repeat, 1)):
            t0 = time.perf_counter()
            result = qc_observations(obs, orbits=orbits)
            times.append(time.perf_counter() - t0)
            as_json = result.to_json()
            if first is None:
                first = as_json
            elif as_json != first:  # the metrics must not change the observations they read
                print(f"{name}: a second call gave another result", file=sys.stderr)
                return 1
        first["_residuals"] = residuals_of(obs)
        results[name] = first
        best = min(times) * 1000
        total["all"] += best
        if name.startswith("bench-") and "holes" not in name:
            total["bench"] += best
        sats = sum(first["sats_mean"].values())
        print(f"{name:<22} {best:8.1f} ms  ({obs.epochs} epochs, {sats:.1f} sats/epoch, {first['slips']} slips, "
              f"{first['clock_jumps']} clock jumps)", flush=True)
    n_bench = sum(1 for n in results if n.startswith("bench-") and "holes" not in n)
    if n_bench:
        print(f"benchmark file (full day 30 s G+E+C): {total['bench'] / n_bench:.1f} ms per file "
              f"(best of {opts.repeat})")
    load = os.getloadavg()
    print(f"all cases: {total['all']:.0f} ms; load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} "
          f"({os.cpu_count()} CPUs)")
    if opts.save:
        opts.save.write_text(json.dumps(results, indent=1, sort_keys=False))
        print(f"saved {len(results)} results to {opts.save}")
    if opts.check:
        ref = json.loads(opts.check.read_text())
        worst = [0.0, ""]
        problems = []
        for name, new in results.items():
            if name not in ref:
                problems.append(f"{name}: not in the reference")
                continue
            problems += compare(ref[name], json.loads(json.dumps(new)), name, worst)
        for p in problems[:50]:
            print("DIFFERENT", p)
        print(f"checked {len(results)} cases against {opts.check}: {len(problems)} differences; largest relative "
              f"float difference {worst[0]:.3g}" + (f" at {worst[1]}" if worst[1] else ""))
        return 1 if problems else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
