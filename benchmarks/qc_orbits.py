"""Cost of QC's satellite elevations with orbits (``Orbits.elevations``), per file of a dispatch unit, before and
after the vectorised, per-grid cached evaluation, and a check that every answer is the same bit for bit.

    python3 benchmarks/qc_orbits.py [--before REV] [--stations 4] [--repeat 5]

On the full-day 30 s G+E+C file of ``benchmarks/scan.py`` (``make_qc_files``) with a broadcast navigation file
(a record every 2 h per satellite) and an SP3 file (15 min) of the same day and satellites. A unit is one day's
files: every station on the same epoch grid, the orbits loaded once. "before" is ``geode/rinex/orbits.py`` at
``--before`` (default: the commit before the change), loaded from git; it has no cache, so each file costs the
same. "first file" is a fresh ``Orbits`` (positions computed); "following files" are the other stations with
that ``Orbits`` (positions kept, only the elevations computed). Prints ms per file (best of ``--repeat``), then
``qc_file(path, orbits=...)`` per file with orbits (before, first, following) beside it without orbits, and
whether every elevation array (np.array_equal) and every ``QCResult.to_json()`` is identical; exits 1 if not.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

BEFORE = "62bd4b8"  # main before the vectorised orbits
STATIONS = [(2780102.9630, -4437418.9120, -3629404.5810), (1113000.0, -4842000.0, 3985000.0),
            (4027894.0, 307045.0, 4919475.0), (-2430000.0, 4700000.0, 3540000.0), (-4650000.0, 2560000.0, -3540000.0),
            (1290000.0, 6240000.0, 900000.0)]


def former_module(rev: str):
    """``geode.rinex.orbits`` as it was at ``rev`` (its relative imports resolved in ``geode.rinex``)."""
    text = subprocess.run(["git", "-C", str(ROOT), "show", f"{rev}:geode/rinex/orbits.py"], check=True,
                          capture_output=True, text=True).stdout
    spec = importlib.util.spec_from_loader("geode.rinex._orbits_before", loader=None)
    module = importlib.util.module_from_spec(spec)
    module.__package__ = "geode.rinex"
    sys.modules[spec.name] = module  # dataclasses look their module up
    exec(compile(text, f"{rev}:geode/rinex/orbits.py", "exec"), module.__dict__)
    return module


def best(func, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        func()
        times.append(time.perf_counter() - t0)
    return min(times) * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", default=BEFORE, help=f"git revision of the former orbits.py (default {BEFORE})")
    parser.add_argument("--stations", type=int, default=4, help="files (stations) of the unit, at most 6")
    parser.add_argument("--repeat", type=int, default=5)
    opts = parser.parse_args()

    import numpy as np

    from benchmarks.scan import QC_SATS, make_qc_files
    from geode.rinex.orbits import Orbits, load_orbits
    from geode.rinex.qc import qc_file
    from geode.rinex.synth import SynthSpec
    from geode.rinex.synth_physics import navigation_text, sp3_text

    former = former_module(opts.before)
    stations = STATIONS[:max(2, min(opts.stations, len(STATIONS)))]
    tmp = Path(tempfile.mkdtemp(prefix="geode-qc-orbits-"))
    try:
        path = make_qc_files(tmp, 1)[0]
        day = dt.datetime(2024, 3, 1)  # make_qc_files' first day
        spec = SynthSpec(satellites=QC_SATS, start=day)
        (tmp / "brdc.nav").write_text(navigation_text(spec))
        (tmp / "day.sp3").write_text(sp3_text(spec))
        seconds = np.arange(2880) * 30.0
        problems = 0
        print(f"full day 30 s, {len(QC_SATS)} satellites (G+E+C), {len(stations)} stations per unit; "
              f"before = orbits.py at {opts.before}")
        for kind, name in (("broadcast", "brdc.nav"), ("SP3", "day.sp3")):
            old, new = former.load_orbits(tmp / name), load_orbits(tmp / name)
            sats = sorted(new.satellites)

            def fresh():
                return Orbits(new.source, new.ephemerides, new.sp3_times, new.sp3)

            before = best(lambda: old.elevations(sats, day, seconds, stations[0]), opts.repeat)
            first = best(lambda: fresh().elevations(sats, day, seconds, stations[0]), opts.repeat)
            unit = fresh()
            unit.elevations(sats, day, seconds, stations[0])
            following = min(best(lambda: unit.elevations(sats, day, seconds, rx), opts.repeat) for rx in stations[1:])
            same = all(np.array_equal(old.elevations(sats, day, seconds, rx), unit.elevations(sats, day, seconds, rx),
                                      equal_nan=True) for rx in stations)
            problems += not same
            print(f"Orbits.elevations, {kind:<9}  before {before:6.1f} ms/file   after: first file {first:5.1f} ms, "
                  f"following files {following:4.1f} ms  ({before / first:.1f}x, {before / following:.0f}x); "
                  f"arrays identical: {same}", flush=True)
            # qc_file of the unit's files: the same file stands for each station (its header position is the same,
            # so "following" here is the cached grid with the same station: the elevation step still runs)
            plain = best(lambda: qc_file(path), opts.repeat)
            q_before = best(lambda: qc_file(path, orbits=old), opts.repeat)
            q_first = best(lambda: qc_file(path, orbits=fresh()), opts.repeat)
            unit = fresh()
            unit_json = qc_file(path, orbits=unit).to_json()
            q_following = best(lambda: qc_file(path, orbits=unit), opts.repeat)
            same_json = qc_file(path, orbits=old).to_json() == unit_json == qc_file(path, orbits=unit).to_json()
            problems += not same_json
            print(f"qc_file with {kind:<9}  before {q_before:6.1f} ms/file   after: first file {q_first:5.1f} ms, "
                  f"following files {q_following:4.1f} ms  (without orbits {plain:.1f} ms); "
                  f"to_json identical: {same_json}", flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    load = os.getloadavg()
    print(f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} ({os.cpu_count()} CPUs)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
