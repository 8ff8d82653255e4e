"""Stacking and DRA on two real Celery workers give exactly what the inline runs give (the units read their
rows from PostgreSQL there and from memory inline)."""

from __future__ import annotations

import json

from geode.example.solutions import PROJECT


def _stack_rows(db, name):
    return db.query('SELECT "NetworkCode", "StationCode", "Year", "DOY", "X", "Y", "Z" FROM stacks WHERE name = %s '
                    'ORDER BY "Year", "DOY", "NetworkCode", "StationCode"', (name,))


def test_parallel_stack_and_dra_identical_to_inline(cli, db, redis_url, start_workers, tmp_path, monkeypatch):
    ws = tmp_path / "ws"
    assert cli("example", str(ws)).exit_code == 0
    monkeypatch.chdir(ws)
    start_workers(count=2, queues="compute", concurrency=1)

    inline = cli("stack", "run", "inl", "all", "--project", PROJECT, "--noparallel", "--json")
    assert inline.exit_code == 0, inline.stderr
    par = cli("stack", "run", "par", "all", "--project", PROJECT, "--parallel", "--json")
    assert par.exit_code == 0, par.stderr
    a, b = json.loads(inline.stdout), json.loads(par.stdout)
    assert a["stations"] == b["stations"] and a["iterations"] == b["iterations"]
    assert _stack_rows(db, "inl") == _stack_rows(db, "par")
    ja = json.loads((ws / "inl_alignment.json").read_text())
    jb = json.loads((ws / "par_alignment.json").read_text())
    assert ja["days"] == jb["days"]

    # an existing stack rebuilt on workers (rows updated in place), and one kept (--preserve): still identical
    again = cli("stack", "run", "par", "all", "--project", PROJECT, "--redo", "--parallel", "--json")
    assert again.exit_code == 0, again.stderr
    assert json.loads(again.stdout)["stations"] == a["stations"] and _stack_rows(db, "par") == _stack_rows(db, "inl")
    kept = [cli("stack", "run", name, "all", "--project", PROJECT, "--preserve", mode, "--json")
            for name, mode in (("inl", "--noparallel"), ("par", "--parallel"))]
    assert all(k.exit_code == 0 for k in kept), kept[1].stderr
    ka, kb = (json.loads(k.stdout) for k in kept)
    assert ka["stations"] == kb["stations"] and ka["preserved_days"] == kb["preserved_days"] == a["days"]
    refits = [cli("stack", "etm", name, "igs.cord", "--jump", "2023_100", mode, "--json")
              for name, mode in (("inl", "--noparallel"), ("par", "--parallel"))]
    assert all(r.exit_code == 0 for r in refits), refits[1].stderr
    ra, rb = (json.loads(r.stdout)["stations"]["igs.cord"] for r in refits)
    assert ra == rb and ra["model"] == "fitted"

    d_inline = cli("dra", PROJECT, "--noparallel", "--json", "-o", "a")
    d_par = cli("dra", PROJECT, "--parallel", "--json", "-o", "b")
    assert d_inline.exit_code == 0 and d_par.exit_code == 0, d_par.stderr
    assert json.loads(d_inline.stdout) == json.loads(d_par.stdout)
