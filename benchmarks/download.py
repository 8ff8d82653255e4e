"""Download throughput from a local HTTP server: inline vs 2 Celery workers (queue 'io').

    python3 benchmarks/download.py [--stations 8] [--days 6] [--epochs 2880]

Serves generated Hatanaka RINEX 2 files (one per station-day) from http.server on 127.0.0.1, runs the real
download unit (``geode.sources.tasks.download_station``: fetch, validate, atomic rename into data_in) over
every station, once inline and once on two local Celery workers (concurrency 1 each), and prints files/s,
MB/s and the ratio. Needs no database (the unit does not touch it); the broker is $CELERY_BROKER_URL, or a
private redis-server started here.
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
SATS = tuple(f"G{i:02d}" for i in range(1, 11)) + tuple(f"E{i:02d}" for i in range(1, 5))  # 14 in view
sys.path.insert(0, str(ROOT))


def jobs(served_fqdn: str, data_in: Path, stations: list[str], days):
    from geode.sources.fetch import Candidate, DayJob, FetchOptions, ServerSpec, StationJob
    from tests.download.helpers import rinex2_name

    server = ServerSpec(1, "HTTP", served_fqdn)
    return [StationJob("ben", stn, str(data_in),
                       [DayJob(d.year, d.doy, [Candidate(1, f"/{d.year}/{d.doy:03d}/{rinex2_name(stn, d)}")])
                        for d in days], [server], FetchOptions(backoff=0)) for stn in stations]


def run(runner, work, data_in: Path) -> tuple[float, int, int]:
    from geode.sources.tasks import download_station

    shutil.rmtree(data_in, ignore_errors=True)
    data_in.mkdir(parents=True)
    t0 = time.perf_counter()
    summary = runner.map(download_station, [(j,) for j in work])
    elapsed = time.perf_counter() - t0
    if summary.failures:
        raise SystemExit(f"benchmark run failed: {summary.failures[0].message}")
    files = [f for d in data_in.iterdir() for f in d.iterdir()]
    return elapsed, len(files), sum(f.stat().st_size for f in files)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stations", type=int, default=8)
    parser.add_argument("--days", type=int, default=6)
    parser.add_argument("--epochs", type=int, default=2880, help="epochs per file (2880 = a 30 s day)")
    args = parser.parse_args()

    from geode.dates import GnssDate
    from geode.rinex.synth import SynthSpec, write_rinex
    from tests.download.helpers import rinex2_name
    from tests.download.servers import start_http
    from tests.fixtures.services import launch_redis
    from tests.fixtures.workers import launch_workers

    tmp = Path(tempfile.mkdtemp(prefix="geode-bench-download-"))
    redis_proc, pool = None, None
    try:
        served, data_in = tmp / "served", tmp / "repository" / "data_in"
        stations = [f"s{i:03d}" for i in range(args.stations)]
        days = [GnssDate(2024, 100) + i for i in range(args.days)]
        for stn in stations:
            for d in days:
                spec = SynthSpec(version=2.11, marker_name=stn.upper(), start=d.datetime, epochs=args.epochs,
                                 satellites=SATS, obs_types=("C1C", "L1C", "S1C", "C2W", "L2W", "S2W"))
                write_rinex(served / f"{d.year}/{d.doy:03d}/{rinex2_name(stn, d)}", spec)
        http = start_http(served)
        work = jobs(http.fqdn, data_in, stations, days)

        from geode.jobs import InlineRunner

        results = {"inline": run(InlineRunner(), work, data_in)}
        if not os.environ.get("CELERY_BROKER_URL"):  # an external broker may be given
            redis_proc, os.environ["CELERY_BROKER_URL"] = launch_redis(tmp)
        pool = launch_workers(2, "io", 1, tmp)
        from geode.config import load_settings
        from geode.jobs.celery_backend import CeleryRunner

        runner = CeleryRunner(load_settings())
        try:
            run(runner, work[:1], data_in)  # warm-up: first task imports on each worker
            results["2 workers"] = run(runner, work, data_in)
        finally:
            runner.close()
        http.stop()

        print(f"{args.stations} stations x {args.days} days, {args.epochs} epochs per file, local HTTP server")
        print(f"{'mode':<10} {'files':>6} {'MB':>8} {'seconds':>8} {'files/s':>8} {'MB/s':>7}")
        for mode, (secs, n, size) in results.items():
            print(f"{mode:<10} {n:>6} {size / 1e6:>8.2f} {secs:>8.2f} {n / secs:>8.1f} {size / 1e6 / secs:>7.2f}")
        ratio = results["inline"][0] / results["2 workers"][0]
        print(f"speed-up of 2 workers over inline: {ratio:.2f}x")
    finally:
        if pool is not None:
            pool.stop(timeout=15)
        if redis_proc is not None:
            redis_proc.terminate()
            redis_proc.wait(10)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
