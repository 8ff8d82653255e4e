"""Stack speed against the I/O floor: N stations × D daily solutions (generated), inline and on Celery workers.

    python3 benchmarks/stack.py [--stations 1000] [--days 365] [--workers 2] [--repeat 1]

Starts a private PostgreSQL (pgserver) and redis-server plus the worker processes, loads a generated project
into gamit_soln (known velocities, 2 mm noise, per-day Helmert perturbations), then measures in the same run:

* the floor of this work: COPY out of the input rows, COPY in of as many result-shaped rows (the columns of
  ``stacks``, formatted from numpy) into a fresh table without constraints, and a plain numpy estimate of one
  iteration (one 6-parameter least squares per day and one 6-term trajectory fit per station, two passes each,
  as a robust adjustment needs at least);
* the COPY of the same rows into ``stacks`` itself, with its primary key, indexes and two foreign keys (checked
  by PostgreSQL's triggers, row by row: what ``geode`` avoids when it may, see ``geode.stack.write``);
* ``geode.stack.run_stack`` inline and on the workers, by phase (load, compute, write), the bytes that went
  through the broker during the worker run, and whether both runs wrote identical rows. Each run writes its
  stack into ``stacks`` as the other found it (the inline rows are compared from memory).

Prints figures and ratios (inline / floor, workers / inline) and the machine's load; stops everything it started.
"""

from __future__ import annotations

import argparse
import io
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


STACK_COLUMNS = ('"NetworkCode", "StationCode", "Project", "Year", "DOY", "FYear", "X", "Y", "Z", sigmax, sigmay, '
                 'sigmaz, "VarianceFactor", name')


def result_arrays(db, stations: list[str]):
    """The result-shaped columns of a stack of the benchmark project, as arrays (the input rows, read once)."""
    from geode.stack import read_solutions
    from geode.stack.run import fyears_of

    years, doys, names, sol = read_solutions(db, "bench", stations)
    return years, doys, fyears_of(years, doys), names, sol


def result_rows(arrays, name: str) -> str:
    """The stack's rows as COPY text, formatted from numpy arrays (shortest exact floats): what a writer sends."""
    years, doys, fyears, names, sol = arrays
    fy = fyears[sol.day].tolist()
    y, d = years[sol.day].tolist(), doys[sol.day].tolist()
    nets = [names[s].split(".") for s in sol.stn.tolist()]
    x, yy, z = (sol.xyz[:, i].tolist() for i in range(3))
    return "".join(f"{n}\t{s}\tbench\t{a}\t{b}\t{f!r}\t{p!r}\t{q!r}\t{r!r}\t0.0\t0.0\t0.0\t2.0\t{name}\n"
                   for (n, s), a, b, f, p, q, r in zip(nets, y, d, fy, x, yy, z))


def numpy_estimate(db, stations: list[str]) -> float:
    """One iteration's numerics the plain numpy way: per day a 6-parameter least squares (to the a-priori
    positions), per station a 6-term trajectory fit of the three components; two passes each."""
    import numpy as np

    from geode.geodesy.helmert import helmert_design
    from geode.stack import read_solutions
    from geode.stack.run import fyears_of

    years, doys, names, sol = read_solutions(db, "bench", stations)
    fy = fyears_of(years, doys)
    ref = {r["n"]: np.array([r["x"], r["y"], r["z"]]) for r in db.query(
        'SELECT "NetworkCode" || \'.\' || "StationCode" AS n, auto_x AS x, auto_y AS y, auto_z AS z FROM stations')}
    apriori = np.array([ref[n] for n in names])
    start = time.perf_counter()
    bounds = np.searchsorted(sol.day, np.arange(len(years) + 1))
    for d in range(len(years)):
        src = sol.xyz[bounds[d]:bounds[d + 1]]
        A, L = helmert_design(src), (apriori[sol.stn[bounds[d]:bounds[d + 1]]] - src).ravel()
        w = np.ones(len(L))
        for _ in range(2):
            c = np.linalg.lstsq(A * w[:, None], L * w, rcond=None)[0]
            w = 1.0 / np.maximum(np.abs(L - A @ c) / 0.002, 1.0)
    by = sol.by_station()
    sb = np.searchsorted(by.stn, np.arange(len(names) + 1))
    for s in range(len(names)):
        t, xyz = fy[by.day[sb[s]:sb[s + 1]]], by.xyz[sb[s]:sb[s + 1]] - apriori[s]
        w2 = 2 * np.pi * t
        A = np.column_stack([np.ones_like(t), t - t[0], np.sin(w2), np.cos(w2), np.sin(2 * w2), np.cos(2 * w2)])
        w = np.ones(len(t))
        for _ in range(2):
            c = np.linalg.lstsq(A * w[:, None], xyz * w[:, None], rcond=None)[0]
            w = 1.0 / np.maximum(np.abs(xyz - A @ c).max(axis=1) / 0.002, 1.0)
    return time.perf_counter() - start


def floor(db, stations: list[str]) -> dict:
    out = {}
    with db.transaction() as cur:
        buf = io.BytesIO()
        start = time.perf_counter()
        cur.copy_expert('COPY (SELECT "NetworkCode", "StationCode", "Year", "DOY", "X", "Y", "Z" FROM gamit_soln '
                        "WHERE \"Project\" = 'bench') TO STDOUT", buf)
        out["copy_out"] = time.perf_counter() - start
        out["copy_out_bytes"] = buf.tell()
    arrays = result_arrays(db, stations)
    start = time.perf_counter()
    text = result_rows(arrays, "floor")
    out["format"] = time.perf_counter() - start
    with db.transaction() as cur:
        cur.execute("DROP TABLE IF EXISTS floor_rows")
        cur.execute("CREATE TABLE floor_rows AS SELECT " + STACK_COLUMNS + " FROM stacks WITH NO DATA")
    with db.transaction() as cur:
        start = time.perf_counter()
        cur.copy_expert(f"COPY floor_rows ({STACK_COLUMNS}) FROM STDIN", io.StringIO(text))
        out["copy_in"] = time.perf_counter() - start
    db.execute("DROP TABLE floor_rows")
    out["numpy"] = numpy_estimate(db, stations)
    out["floor"] = out["copy_out"] + out["format"] + out["copy_in"] + out["numpy"]
    with db.transaction() as cur:  # the same rows into stacks itself: primary key, indexes, two foreign keys
        start = time.perf_counter()
        cur.copy_expert(f"COPY stacks ({STACK_COLUMNS}) FROM STDIN", io.StringIO(text))
        out["copy_stacks"] = time.perf_counter() - start
    db.execute("DELETE FROM stacks WHERE name = 'floor'")
    vacuum(db, "stacks")
    return out


def vacuum(db, table: str = "") -> None:
    db.conn.autocommit = True
    try:
        with db.conn.cursor() as cur:
            cur.execute(f"VACUUM ANALYZE {table}")
    finally:
        db.conn.autocommit = False


def broker_bytes(url: str) -> int:
    import redis

    info = redis.Redis.from_url(url).info("stats")
    return int(info["total_net_input_bytes"]) + int(info["total_net_output_bytes"])


def timed_run(db, runner, name: str, stations: list[str], noise_model: str) -> dict:
    from geode.etm.model import EtmConfig
    from geode.stack import run_stack

    timings: dict[str, float] = {}
    start = time.perf_counter()
    run = run_stack(db, runner, name=name, project="bench", stations=stations, redo=True, timings=timings,
                    config=EtmConfig(noise_model=noise_model))
    total = time.perf_counter() - start
    assert run.result.converged and not run.result.failures, run.result.failures[:3]
    write = sum(timings.get(k, 0.0) for k in ("stacks", "etms", "cleanup"))  # after the final models
    spec = run.result.work.spec  # each iteration: a unit per block of days and per block of stations; the final fit
    units = (len(run.result.iterations) + 1) * (len(spec.day_blocks()) + len(spec.station_blocks()))
    return {"total": total, "load": timings["load"], "compute": timings["compute"] + timings["final models"],
            "final": timings["final models"], "write": write, "stacks": timings["stacks write"],
            "rows": run.written_rows, "iterations": len(run.result.iterations), "units": units}


def stack_rows(db, name: str, stations: list[str]) -> dict:
    """{(station, year, doy): (x, y, z)} of a stack's rows, as stored."""
    from geode.stack import read_solutions

    years, doys, names, sol = read_solutions(db, "", stations, table="stacks", name=name)
    keys = zip([names[s] for s in sol.stn.tolist()], years[sol.day].tolist(), doys[sol.day].tolist())
    return dict(zip(keys, map(tuple, sol.xyz.tolist())))


def identical_rows(a: dict, b: dict) -> int:
    """Rows of ``a`` that ``b`` has with exactly the same coordinates."""
    return sum(1 for k, v in a.items() if b.get(k) == v)


def load_average() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stations", type=int, default=1000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=1, help="measure everything this many times")
    parser.add_argument("--noise-model", default="white", help="of the stored models (white: GeoDE's robust least "
                        "squares, what the floor's numpy estimate fits; white+flicker: geode stack run's default)")
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
        vacuum(db)
        stations = [f"bnc.{i:04d}" for i in range(opts.stations)]
        pool = launch_workers(opts.workers, "compute", 1, workdir, loglevel="WARNING", cwd=workdir)
        print(f"{opts.stations} stations x {opts.days} days = {opts.stations * opts.days} solutions "
              f"(generated and inserted in {gen:.1f} s); models: {opts.noise_model} noise; {os.cpu_count()} cpus, "
              f"load average {load_average()}")
        for rep in range(opts.repeat):
            f = floor(db, stations)
            inline = timed_run(db, InlineRunner(), "bench_inline", stations, opts.noise_model)
            # both runs write into stacks as it was (the second of two new stacks costs ~0.5 s more CPU of
            # PostgreSQL: a larger table and indexes): the inline rows are kept here and removed from stacks
            inline_rows = stack_rows(db, "bench_inline", stations)
            db.execute("DELETE FROM stacks WHERE name = 'bench_inline'")
            db.execute("DELETE FROM etms WHERE stack = 'bench_inline'")
            vacuum(db, "stacks")
            runner = CeleryRunner(settings)
            try:
                before = broker_bytes(url)
                start = time.perf_counter()
                runner.preflight("compute")  # what the first map does: broker and consumer check
                preflight = time.perf_counter() - start
                par = timed_run(db, runner, "bench_par", stations, opts.noise_model)
                par["total"] += preflight
                sent = broker_bytes(url) - before
            finally:
                runner.close()
            same = identical_rows(inline_rows, stack_rows(db, "bench_par", stations))
            print(f"\nrun {rep + 1} (load average {load_average()}):")
            print(f"  floor {f['floor']:6.2f} s = COPY out {f['copy_out']:.2f} s ({f['copy_out_bytes'] / 1e6:.0f} MB) "
                  f"+ format {f['format']:.2f} s + COPY in (no constraints) {f['copy_in']:.2f} s "
                  f"+ numpy {f['numpy']:.2f} s")
            print(f"  COPY of the same rows into stacks (primary key, 2 indexes, 2 foreign keys): {f['copy_stacks']:.2f} s "
                  f"= {f['copy_stacks'] / f['copy_in']:.1f}x the unconstrained COPY, {f['copy_stacks'] / f['floor']:.1f}x "
                  "the floor")
            for label, r in (("inline", inline), (f"{opts.workers} workers", par)):
                print(f"  {label:>10}: total {r['total']:6.2f} s | load {r['load']:5.2f} | compute {r['compute']:5.2f} "
                      f"({r['iterations']} iterations, final models {r['final']:.2f}) | write {r['write']:5.2f} "
                      f"after the final models (into stacks {r['stacks']:.2f} in all, from the start of the final "
                      f"models) | {r['rows']} rows")
            print(f"  inline / floor: {inline['total'] / f['floor']:.2f}  (target <= 4; against a floor without the text "
                  f"formatting: {inline['total'] / (f['floor'] - f['format']):.2f})")
            print(f"  {opts.workers} workers / inline: {par['total'] / inline['total']:.2f}  (target <= 1.1; the dispatch "
                  f"layer's preflight check took {preflight:.2f} s of it: without it "
                  f"{(par['total'] - preflight) / inline['total']:.2f})")
            print(f"  bytes through the broker (worker run, all clients): {sent / 1e3:.0f} kB for "
                  f"{par['units']} units ({sent / par['units'] / 1e3:.1f} kB per unit; "
                  f"{sent / (opts.stations * opts.days):.2f} B per solution)")
            print(f"  identical rows inline vs workers: {same} of {inline['rows']}")
            db.execute("DELETE FROM stacks WHERE name IN ('bench_inline', 'bench_par')")
            db.execute("DELETE FROM etms WHERE stack IN ('bench_inline', 'bench_par')")
            vacuum(db, "stacks")
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
