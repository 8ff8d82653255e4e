"""`geode scan archive --parallel` on two real Celery workers stores the same rows as an inline scan."""

from __future__ import annotations

import json

from .conftest import fill_archive


def _rows(site):
    return [{k: v for k, v in r.items() if k != "api_id"} for r in site.rows()]


def test_parallel_scan_matches_inline(cli, site, redis_url, start_workers):
    fill_archive(site)
    bad = site.archive / "igs/2024/100/lpgs1000.24d.Z"
    bad_copy = bad.read_bytes()
    bad.write_bytes(bad_copy[:400])
    start_workers(count=2, queues="io", concurrency=1)
    r = cli("scan", "archive", "--parallel", "--json")
    assert r.exit_code == 1 and "igs/2024/100/lpgs1000.24d.Z" in r.stderr
    assert json.loads(r.stdout)["counts"] == {"inserted": 5, "updated": 0, "unchanged": 0, "problem": 1, "transient": 0}
    parallel = _rows(site)
    again = cli("scan", "archive", "--parallel", "--json")
    assert json.loads(again.stdout)["counts"]["unchanged"] == 5

    site.db.execute("DELETE FROM rinex")
    inline = cli("scan", "archive", "--noparallel", "--json")
    assert json.loads(inline.stdout)["counts"]["inserted"] == 5
    assert _rows(site) == parallel


def test_parallel_ingest_on_workers_archives_every_file_once(cli, site, redis_url, start_workers):
    from .conftest import STATIONS

    for i in range(6):
        s = STATIONS[i % 3]
        site.incoming(f"{s.network}.{s.code}", s, 2024, 120 + i, "crinez2" if i % 2 else "crinez3")
    start_workers(count=2, queues="io", concurrency=1)
    r = cli("scan", "ingest", "--parallel", "--json")
    assert r.exit_code == 0, r.stderr
    assert json.loads(r.stdout)["counts"]["archived"] == 6
    assert len(site.rows()) == 6
    assert not any(p.is_file() for p in (site.repository / "data_in").rglob("*"))
    assert len([p for p in site.archive.rglob("*") if p.is_file()]) == 6
