"""run_subprocess: the whole process tree of an external program dies with its unit."""

from __future__ import annotations

import os
import signal
import threading
import time

import pytest

from geode.errors import GeodeError
from geode.jobs import run_subprocess
from geode.jobs.process import SubprocessTerminated, SubprocessTimeout
from tests.fixtures.processes import gone

# a shell that starts a grandchild and records both pids, like sh_gamit starting its programs
TREE = "sleep 300 & echo $$ $! > {pids}; wait"


def _pids(path, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not (path.exists() and path.read_text().strip()):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    return [int(p) for p in path.read_text().split()]


def test_output_and_exit_status(tmp_path):
    done = run_subprocess(["sh", "-c", "echo out; echo err >&2; exit 3"], cwd=tmp_path)
    assert done.returncode == 3 and done.output.split() == ["out", "err"]
    with pytest.raises(GeodeError, match="exited with status 3: err"):
        run_subprocess(["sh", "-c", "echo err; exit 3"], check=True)
    with pytest.raises(GeodeError, match="cannot run /no/such/program"):
        run_subprocess(["/no/such/program"])


def test_timeout_kills_the_process_tree(tmp_path):
    pids = tmp_path / "pids"
    with pytest.raises(SubprocessTimeout, match="did not finish within 1 s"):
        run_subprocess(["sh", "-c", TREE.format(pids=pids)], timeout=1)
    assert gone(_pids(pids))


@pytest.mark.parametrize("to_file", [False, True], ids=["captured", "to-file"])
def test_sigterm_of_the_unit_kills_the_process_tree(tmp_path, to_file):
    pids = tmp_path / "pids"
    before = signal.getsignal(signal.SIGTERM)
    # what Celery's revoke(terminate=True) does to the pool process running the unit
    threading.Timer(1.0, lambda: (_pids(pids), os.kill(os.getpid(), signal.SIGTERM))).start()
    with pytest.raises(SubprocessTerminated):
        run_subprocess(["sh", "-c", TREE.format(pids=pids)], timeout=60,
                       stdout=tmp_path / "log" if to_file else None)
    assert gone(_pids(pids))
    assert signal.getsignal(signal.SIGTERM) == before  # the caller's handler is back


def test_ctrl_c_kills_the_process_tree(tmp_path):
    pids = tmp_path / "pids"
    threading.Timer(1.0, lambda: (_pids(pids), os.kill(os.getpid(), signal.SIGINT))).start()
    with pytest.raises(KeyboardInterrupt):
        run_subprocess(["sh", "-c", TREE.format(pids=pids)], timeout=60)
    assert gone(_pids(pids))
