"""Ctrl-C (SIGINT) or SIGTERM during a session ends GAMIT's process tree; the session goes back to 'planned'.

Ctrl-C stops the run (exit 130). SIGTERM is what a revoked Celery unit receives: it cancels that unit only,
the other sessions go on, and the cancelled one is listed as a failure (exit 1)."""

from __future__ import annotations

import signal
import subprocess
import time

import pytest

from tests.fixtures.processes import gone

from .conftest import DOYS, YEAR


def _wait_for(path, timeout=60.0):
    deadline = time.monotonic() + timeout
    while not path.exists():
        if time.monotonic() > deadline:
            raise AssertionError(f"{path} did not appear")
        time.sleep(0.1)


@pytest.mark.parametrize("sig,code", [(signal.SIGINT, 130), (signal.SIGTERM, 1)])
def test_signal_ends_the_gamit_process_tree(db, network, sig, code):
    network.steer(block=["arg.IGN001"])
    proc = subprocess.Popen(["geode", "gamit", "run", str(network.cfg), f"{YEAR}_{DOYS[0]}", "--noparallel"],
                            cwd=network.root, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        marker = network.solutions / f"{YEAR}" / f"{DOYS[0]:03d}" / "arg.IGN001" / "standin.blocked"
        _wait_for(marker)
        standin = int(marker.read_text().split()[0])
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == code, err
    assert "interrupted" in err
    assert gone([standin], timeout=30.0), "the stand-in sh_gamit outlived geode"
    # Ctrl-C stops the run before the next session; SIGTERM cancels only the session it hit
    assert (marker.parent.parent / "arg.IGN002").exists() == (sig == signal.SIGTERM)
    row = db.query_one("SELECT state, message FROM gamit_sessions WHERE subnet = 1")
    assert (row["state"], row["message"]) == ("planned", "interrupted")
    assert db.query("SELECT * FROM gamit_stats WHERE subnet = 1") == []
