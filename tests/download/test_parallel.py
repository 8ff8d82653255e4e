"""`geode download --parallel` on two real Celery workers (queue 'io') gives the same result as inline."""

from __future__ import annotations

import json
import shutil

from .helpers import DAY, rinex2_name, serve_rinex
from .servers import start_http


def _result(site):
    files = {f"{d.name}/{f.name}": f.read_bytes() for d in sorted(site.data_in.iterdir()) for f in sorted(d.iterdir())}
    attempts = sorted((a["stn"], a["doy"], a["server_id"], a["url"], a["outcome"], a["bytes"]) for a in site.attempts())
    return files, attempts


def test_parallel_download_matches_inline(cli, site, redis_url, start_workers, add_source):
    days = [DAY + i for i in range(3)]
    for day in days:
        serve_rinex(site.served, "algo", day)
    serve_rinex(site.served, "drao", days[0])  # drao lacks two days: not_found on both sources
    first, second = start_http(site.served / "nowhere"), start_http(site.served)
    try:
        add_source("http", first, stations=("igs.algo", "igs.drao"))
        add_source("http", second, stations=("igs.algo", "igs.drao"))
        args = ("download", "igs.all", "--date-range", days[0].yyyy_ddd, days[-1].yyyy_ddd,
                "--backoff", "0", "--json")
        inline = cli(*args, "--noparallel")
        assert inline.exit_code == 0, inline.stderr
        inline_counts = json.loads(inline.stdout)["counts"]
        assert inline_counts["downloaded"] == 4 and inline_counts["not_found"] == 2
        expected = _result(site)
        assert sorted(expected[0]) == sorted([f"igs.algo/{rinex2_name('algo', d)}" for d in days]
                                             + [f"igs.drao/{rinex2_name('drao', days[0])}"])

        shutil.rmtree(site.data_in)
        site.db.execute("DELETE FROM download_attempts")
        start_workers(count=2, queues="io", concurrency=1)
        parallel = cli(*args, "--parallel")
        assert parallel.exit_code == 0, parallel.stderr
        assert json.loads(parallel.stdout)["counts"] == inline_counts
        assert _result(site) == expected
    finally:
        first.stop()
        second.stop()
