"""Stack speed: N stations × D daily solutions (generated), inline and on Celery workers.

    python3 benchmarks/stack.py [--stations 1000] [--days 365] [--workers 2]

Starts a private PostgreSQL (pgserver) and redis-server plus the worker processes, loads a generated
project into gamit_soln (known velocities, 2 mm noise, per-day Helmert perturbations), then times
`geode.stack.run_stack`'s phases for an inline run and a run on the workers: database (loading polyhedra and
station metadata, writing stack rows and models) versus numerics (alignments and trajectory fits, including
dispatch). Prints figures and ratios; stops everything it started.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def generate(db, n_stations: int, n_days: int) -> None:
    import numpy as np
    from psycopg2.extras import execute_values

    from geode.dates import GnssDate
    from geode.geodesy.coordinates import lla2xyz, neu2xyz
    from geode.geodesy.helmert import apply_helmert

    rng = np.random.default_rng(1)
    lat, lon = rng.uniform(-55, 15, n_stations), rng.uniform(-80, -35, n_stations)
    xyz = np.array([lla2xyz(a, b, 100.0) for a, b in zip(lat, lon)])
    vel = np.column_stack([rng.normal(0.01, 0.003, n_stations), rng.normal(-0.004, 0.003, n_stations),
                           np.zeros(n_stations)])
    dxyz_per_yr = np.array([neu2xyz(v, a, b) for v, a, b in zip(vel, lat, lon)])
    with db.transaction() as cur:
        cur.execute('INSERT INTO networks ("NetworkCode", "NetworkName") VALUES (%s, %s) ON CONFLICT DO NOTHING',
                    ("bnc", "benchmark"))
        execute_values(cur, 'INSERT INTO stations ("NetworkCode", "StationCode", auto_x, auto_y, auto_z, lat, lon, '
                       'height) VALUES %s', [("bnc", f"{i:04d}", *map(float, xyz[i]), float(lat[i]), float(lon[i]), 100.0)
                                            for i in range(n_stations)])
    start = GnssDate.from_doy(2023, 1)
    for k in range(n_days):
        d = start + k
        true = xyz + dxyz_per_yr * (d.fyear - 2023.0)
        c = np.concatenate([rng.normal(0, 1.0, 3), rng.normal(0, 0.005, 3)])
        obs = apply_helmert(true, c) + rng.normal(0, 0.002, true.shape)
        with db.transaction() as cur:
            execute_values(cur, 'INSERT INTO gamit_soln ("NetworkCode", "StationCode", "Project", "Year", "DOY", '
                           '"FYear", "X", "Y", "Z") VALUES %s',
                           [("bnc", f"{i:04d}", "bench", d.year, d.doy, d.fyear, *map(float, obs[i]))
                            for i in range(n_stations)], page_size=2000)


def timed_run(db, runner, name: str, stations: list[str]) -> dict:
    """run_stack's phases, timed separately: the same calls it makes, in the same order."""
    from geode import stack as st

    t0 = time.perf_counter()
    days = st.load_days(db, "bench", stations)
    meta = st.load_meta(db, stations, span=(days[0].fyear, days[-1].fyear))
    t1 = time.perf_counter()
    result = st.stack(runner, days, meta)
    t2 = time.perf_counter()
    rows = st.save_stack(db, "bench", name, result, replace=True)
    st.save_models(db, name, result, meta)
    t3 = time.perf_counter()
    assert result.converged and not result.failures, result.failures[:3]
    return {"load": t1 - t0, "numerics": t2 - t1, "save": t3 - t2, "total": t3 - t0, "rows": rows,
            "iterations": len(result.iterations)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stations", type=int, default=1000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--workers", type=int, default=2)
    opts = parser.parse_args()

    from tests.fixtures.services import clear_isolated_env, launch_postgres, launch_redis
    from tests.fixtures.workers import launch_workers

    workdir = Path(tempfile.mkdtemp(prefix="geode-bench-stack-"))
    server, pg_url = launch_postgres(workdir / "pg")
    redis_proc, url = launch_redis(workdir)
    clear_isolated_env(os.environ)
    os.environ["GEODE_DATABASE_URL"] = pg_url
    os.environ["CELERY_BROKER_URL"] = url
    os.environ["PYTHONPATH"] = str(ROOT)
    pool = None
    try:
        from geode.config import load_settings
        from geode.db import open_database
        from geode.jobs import InlineRunner
        from geode.jobs.celery_backend import CeleryRunner

        settings = load_settings()
        db = open_database(settings, migrate=True)
        t = time.perf_counter()
        generate(db, opts.stations, opts.days)
        gen = time.perf_counter() - t
        stations = [f"bnc.{i:04d}" for i in range(opts.stations)]

        pool = launch_workers(opts.workers, "compute", 1, workdir, loglevel="WARNING", cwd=workdir)

        inline = timed_run(db, InlineRunner(), "bench_inline", stations)
        runner = CeleryRunner(settings)
        try:
            par = timed_run(db, runner, "bench_par", stations)
        finally:
            runner.close()
        same = db.query_one("SELECT count(*) AS n FROM stacks a JOIN stacks b USING (\"NetworkCode\", \"StationCode\", "
                            "\"Year\", \"DOY\") WHERE a.name = 'bench_inline' AND b.name = 'bench_par' AND "
                            "a.\"X\" = b.\"X\" AND a.\"Y\" = b.\"Y\" AND a.\"Z\" = b.\"Z\"")["n"]

        print(f"{opts.stations} stations x {opts.days} days = {inline['rows']} solutions "
              f"(generated and inserted in {gen:.1f} s)")
        for label, r in (("inline", inline), (f"{opts.workers} workers", par)):
            db_time = r["load"] + r["save"]
            print(f"{label:>10}: total {r['total']:7.1f} s | database {db_time:6.1f} s ({db_time / r['total']:4.0%}: "
                  f"load {r['load']:.1f}, save {r['save']:.1f}) | numerics+dispatch {r['numerics']:6.1f} s "
                  f"({r['numerics'] / r['total']:4.0%}) | {r['iterations']} iterations")
        print(f"speed-up with {opts.workers} workers: total {inline['total'] / par['total']:.2f}x, "
              f"numerics {inline['numerics'] / par['numerics']:.2f}x")
        print(f"identical rows inline vs workers: {same} of {inline['rows']}")
        db.close()
    finally:
        if pool is not None:
            pool.stop(timeout=15)
        redis_proc.terminate()
        redis_proc.wait(10)
        server.cleanup()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
