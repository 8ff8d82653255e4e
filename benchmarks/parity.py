#!/usr/bin/env python3
"""Results against an earlier revision: stack rows, ETMs, alignment and DRA of this tree vs a baseline commit.

    python3 benchmarks/parity.py [--baseline REV] [--stations 200] [--days 120] [--parallel]

Loads the example workspace (project example-gamit) and a generated project (N stations x D days, the data of
benchmarks/stack.py) into one private PostgreSQL database, clones it once per code version, and runs the same
commands with each version's code (``python -m geode_cli`` with PYTHONPATH on a temporary ``git worktree`` of
the baseline, and on this tree): ``stack run`` with the same ETM settings (white noise: the baseline's only
model; this tree's default is white+flicker), ``dra --save-excluded``. With
--parallel this tree also runs both on 2 Celery workers. Prints the largest differences: stack coordinates
(m), ETM parameters (m, m/yr), Helmert parameters, DRA statistics (mm) and any row or key that differs.
Exit status 1 when a stack or ETM difference exceeds --limit (1e-9 m) or rows differ.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
BASELINE = "0f375fd"  # main before issue 15 (stack I/O, batched numerics, keyed units)


def run_cli(tree: Path, url: str, cwd: Path, *args: str, env_extra: dict | None = None) -> dict:
    env = dict(os.environ)
    env.update({"PYTHONPATH": str(tree), "GEODE_DATABASE_URL": url, "NO_COLOR": "1", "COLUMNS": "200"})
    env.update(env_extra or {})
    proc = subprocess.run([sys.executable, "-m", "geode_cli", *args], cwd=cwd, env=env, capture_output=True,
                          text=True)
    if proc.returncode not in (0, 1):
        raise RuntimeError(f"{' '.join(args)} failed ({proc.returncode}):\n{proc.stderr[-2000:]}")
    return json.loads(proc.stdout) if "--json" in args else {}


def fetch(url: str, sql: str, args=()) -> list[tuple]:
    import psycopg2

    conn = psycopg2.connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute(sql, args)
            return cur.fetchall()
    finally:
        conn.close()


def stack_rows(url: str, name: str) -> dict:
    rows = fetch(url, 'SELECT "NetworkCode", "StationCode", "Year", "DOY", "X"::text, "Y"::text, "Z"::text, '
                      '"FYear"::text, "VarianceFactor"::text FROM stacks WHERE name = %s', (name,))
    return {r[:4]: r[4:] for r in rows}


def etm_rows(url: str, name: str) -> dict:
    rows = fetch(url, 'SELECT "NetworkCode", "StationCode", object, jump_date, params::text[], sigmas::text[], hash '
                      'FROM etms WHERE stack = %s', (name,))
    return {r[:4]: r[4:] for r in rows}


def dec(v) -> Decimal | None:
    return None if v is None else Decimal(v)


def max_diff(a: dict, b: dict, columns: slice, relative: bool = False) -> tuple[float, int]:
    """Largest |a - b| over the common keys' numeric columns, and the count of keys only in one of them."""
    worst = 0.0
    for key in a.keys() & b.keys():
        for x, y in zip(a[key][columns], b[key][columns]):
            if isinstance(x, list):
                pairs = list(zip(x, y)) if len(x) == len(y) else [(None, 1)]
            else:
                pairs = [(x, y)]
            for p, q in pairs:
                if p is None or q is None:
                    worst = max(worst, 0.0 if p == q else float("inf"))
                    continue
                d = abs(dec(p) - dec(q))
                if relative and dec(q) != 0:
                    d = d / abs(dec(q))
                worst = max(worst, float(d))
    return worst, len(a.keys() ^ b.keys())


def compare(label: str, url_a: str, url_b: str, name: str, dra_a: dict, dra_b: dict, align_a: dict,
            align_b: dict, limit: float) -> bool:
    sa, sb = stack_rows(url_a, name), stack_rows(url_b, name)
    xyz, only = max_diff(sa, sb, slice(0, 3))
    fy, _ = max_diff(sa, sb, slice(3, 4))
    vf, _ = max_diff(sa, sb, slice(4, 5))
    ea, eb = etm_rows(url_a, name), etm_rows(url_b, name)
    params, e_only = max_diff(ea, eb, slice(0, 1))
    sig, _ = max_diff(ea, eb, slice(1, 2), relative=True)
    hashes = sum(1 for k in ea.keys() & eb.keys() if ea[k][2] != eb[k][2])
    da = {d["day"]: d for d in align_a["days"]}
    db_ = {d["day"]: d for d in align_b["days"]}
    hel = max((abs(x - y) for k in da.keys() & db_.keys() for x, y in zip(da[k]["params"], db_[k]["params"])),
              default=0.0)
    same_days = set(da) == set(db_) and all(da[k]["iterations"] == db_[k]["iterations"] and
                                           da[k]["downweighted_components"] == db_[k]["downweighted_components"]
                                           for k in da)
    pa, pb = dra_a["per_station"], dra_b["per_station"]
    wrms = max((abs(x - y) for s in pa.keys() & pb.keys() if pa[s]["wrms_mm"] and pb[s]["wrms_mm"]
                for x, y in zip(pa[s]["wrms_mm"], pb[s]["wrms_mm"])), default=0.0)
    outl = sum(1 for s in pa.keys() & pb.keys() if [o["day"] for o in pa[s]["outliers"]] != [o["day"] for o in pb[s]["outliers"]])
    days_a, days_b = {d["day"]: d for d in dra_a["per_day"]}, {d["day"]: d for d in dra_b["per_day"]}
    dwrms = max((abs(days_a[k]["wrms_mm"] - days_b[k]["wrms_mm"]) for k in days_a.keys() & days_b.keys()),
                default=0.0)
    ok = xyz <= limit and params <= limit and not only and not e_only and same_days
    if not limit:  # identical: every statistic too
        ok = ok and hel == 0 and wrms == 0 and dwrms == 0 and not outl and sig == 0 and not hashes and not fy and not vf
    print(f"  {label}:")
    print(f"    stack rows {len(sa)} vs {len(sb)} (keys in one only: {only}); max |dXYZ| {xyz:.3g} m, "
          f"|dFYear| {fy:.3g}, |dVarianceFactor| {vf:.3g} mm")
    print(f"    etms rows {len(ea)} vs {len(eb)} (keys in one only: {e_only}); max |dparams| {params:.3g} m (m/yr), "
          f"max relative |dsigmas| {sig:.3g}, checksums differing {hashes}")
    print(f"    helmert params max |d| {hel:.3g} (nrad, m); same days, iterations and down-weighted components: "
          f"{same_days}; iterations {len(align_a['iterations'])} vs {len(align_b['iterations'])}, converged "
          f"{align_a['converged']} vs {align_b['converged']}")
    print(f"    dra: stations {len(pa)} vs {len(pb)}, max |dwrms| {wrms:.3g} mm, daily max |dwrms| {dwrms:.3g} mm, "
          f"stations with other outliers {outl}, flagged days equal {dra_a['flagged_days'] == dra_b['flagged_days']}")
    print(f"    => {'within' if ok else 'OUTSIDE'} {limit:g} m" if limit else f"    => {'identical' if ok else 'NOT identical'}")
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", default=BASELINE)
    parser.add_argument("--stations", type=int, default=200)
    parser.add_argument("--days", type=int, default=120)
    parser.add_argument("--parallel", action="store_true", help="also run this tree on 2 Celery workers")
    parser.add_argument("--limit", type=float, default=1e-9)
    opts = parser.parse_args()

    from benchmarks.stack import generate
    from tests.fixtures.services import clear_isolated_env, launch_postgres

    work = Path(tempfile.mkdtemp(prefix="geode-parity-"))
    base_tree = work / "baseline"
    subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", "--quiet", str(base_tree), opts.baseline],
                   check=True)
    server = redis_proc = pool = None
    clear_isolated_env(os.environ)
    try:
        server, admin = launch_postgres(work / "pg")
        from tests.fixtures.services import _admin_exec, _with_db

        _admin_exec(admin, "CREATE DATABASE parity_src")
        src = _with_db(admin, "parity_src")
        os.environ["GEODE_DATABASE_URL"] = src
        (work / "ws").parent.mkdir(exist_ok=True)
        run_cli(ROOT, src, work, "example", str(work / "ws"))
        from geode.config import load_settings
        from geode.db import open_database

        db = open_database(load_settings(), migrate=True)
        generate(db, opts.stations, opts.days)
        db.close()
        trees = {"baseline": base_tree, "this tree": ROOT}
        urls = {}
        for label in trees:
            dbname = "parity_" + label.replace(" ", "_")
            _admin_exec(admin, f'CREATE DATABASE "{dbname}" TEMPLATE parity_src')
            urls[label] = _with_db(admin, dbname)
        if opts.parallel:
            from tests.fixtures.services import launch_redis
            from tests.fixtures.workers import launch_workers

            _admin_exec(admin, 'CREATE DATABASE "parity_parallel" TEMPLATE parity_src')
            urls["this tree, 2 workers"] = _with_db(admin, "parity_parallel")
            trees["this tree, 2 workers"] = ROOT
            redis_proc, broker = launch_redis(work)
            os.environ["CELERY_BROKER_URL"] = broker
            pool = launch_workers(2, "compute", 1, work, loglevel="WARNING", cwd=work,
                                  extra_env={"GEODE_DATABASE_URL": urls["this tree, 2 workers"],
                                             "PYTHONPATH": str(ROOT)})
        out: dict[str, dict] = {}
        for label, tree in trees.items():
            mode = "--parallel" if "workers" in label else "--noparallel"
            cwd = work / ("run-" + label.replace(" ", "_").replace(",", ""))
            cwd.mkdir()
            out[label] = {}
            for project, name in (("example-gamit", "ex"), ("bench", "bn")):
                print(f"{label}: stack {project} ...", flush=True)
                noise = ["--noise-model", "white"] if tree == ROOT else []  # the baseline knows white noise only
                run_cli(tree, urls[label], cwd, "stack", "run", name, "all", "--project", project, mode, "--json",
                        *noise)
                align = json.loads((cwd / f"{name}_alignment.json").read_text())
                print(f"{label}: dra {project} ...", flush=True)
                dra = run_cli(tree, urls[label], cwd, "dra", project, "all", "--json", "--save-excluded", mode,
                              "-o", str(cwd / f"dra-{name}"))
                full = json.loads((cwd / f"dra-{name}" / f"{project}_dra.json").read_text())
                out[label][name] = (align, {**dra, "per_day": full["per_day"]})
        ok = True
        pairs = [(k, "baseline", opts.limit) for k in trees if k != "baseline"]
        if opts.parallel:  # the same code inline and on workers: identical
            pairs.append(("this tree, 2 workers", "this tree", 0.0))
        for other, ref, limit in pairs:
            print(f"\n{other} vs {ref}{' ' + opts.baseline if ref == 'baseline' else ''}:")
            for name, what in (("ex", "example workspace"), ("bn", f"generated {opts.stations} x {opts.days}")):
                (aa, da), (ab, dbr) = out[ref][name], out[other][name]
                ok &= compare(what, urls[ref], urls[other], name, da, dbr, aa, ab, limit)
            excl = [fetch(urls[k], 'SELECT count(*) FROM gamit_soln_excl')[0][0] for k in (ref, other)]
            print(f"  gamit_soln_excl rows: {excl[0]} vs {excl[1]}")
            ok &= excl[0] == excl[1]
        return 0 if ok else 1
    finally:
        if pool is not None:
            pool.stop(timeout=15)
        if redis_proc is not None:
            redis_proc.terminate()
            redis_proc.wait(10)
        if server is not None:
            server.cleanup()
        subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(base_tree)], check=False)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
