"""An interrupted download (SIGKILL or Ctrl-C of a real `geode` process) leaves no partial file in data_in."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from .helpers import DAY, rinex2_name, serve_rinex
from .servers import start_http


def _start(site):
    cmd = [sys.executable, "-m", "geode_cli", "download", "igs.algo", "--date-range", DAY.yyyy_ddd, DAY.yyyy_ddd,
           "--noparallel", "--timeout", "60", "--backoff", "0"]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)


def _wait_for_part(site, proc, server, limit: float = 60.0):
    partial = site.repository / ".download_partial" / "igs.algo"
    deadline = time.monotonic() + limit  # a guard against a hang, not a speed assertion
    while time.monotonic() < deadline:
        parts = list(partial.glob("*.part")) if partial.is_dir() else []
        if parts and server.requests:  # the transfer is under way (the server stalls it half-way)
            return parts
        if proc.poll() is not None:
            pytest.fail(f"geode exited early ({proc.returncode}): {proc.stderr.read().decode()}")
        time.sleep(0.1)
    pytest.fail("no transfer started")


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT])
def test_interrupted_run_leaves_nothing_in_data_in_and_a_rerun_completes(cli, site, add_source, sig):
    serve_rinex(site.served, "algo", DAY)
    stalled = start_http(site.served, stall=True)
    try:
        server_id = add_source("http", stalled)
        proc = _start(site)
        parts = _wait_for_part(site, proc, stalled)
        time.sleep(0.5)  # let the first half arrive
        os.kill(proc.pid, sig)
        proc.wait(30)
        if sig == signal.SIGINT:
            assert proc.returncode == 130
            assert not any(p.exists() for p in parts)  # Ctrl-C cleans up after itself
        data = site.station_dir()
        assert not data.exists() or list(data.iterdir()) == []
    finally:
        stalled.stop()
    # the same source, now answering: the re-run fetches the file and clears what a SIGKILL left behind
    good = start_http(site.served)
    try:
        site.db.execute("UPDATE sources_servers SET fqdn = %s WHERE server_id = %s", (good.fqdn, server_id))
        res = cli("download", "igs.algo", "--date-range", DAY.yyyy_ddd, DAY.yyyy_ddd, "--noparallel")
        assert res.exit_code == 0, res.stderr
        assert [p.name for p in site.station_dir().iterdir()] == [rinex2_name("algo", DAY)]
        assert not any(p.exists() for p in parts)
    finally:
        good.stop()
