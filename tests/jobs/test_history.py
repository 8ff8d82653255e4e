"""The run history: what each command's run wrote, `geode runs list/show/resume/cancel`, and doctor's look at it."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

from geode.config import load_settings
from geode.jobs import InlineRunner, task
from geode.jobs.history import RunRecorder


@task("tests.history.needs_marker", queue="compute", label=lambda name, folder: f"unit {name}")
def needs_marker(name: str, folder: str) -> dict:
    """Fails until ``folder/name`` exists (the data was fixed); counts its calls in ``folder/name.calls``."""
    calls = Path(folder) / f"{name}.calls"
    calls.write_text(calls.read_text() + "x" if calls.exists() else "x")
    if not (Path(folder) / name).exists():
        raise FileNotFoundError(f"no {name} yet")
    return {"name": name, "size": len(name)}


def _geode(*args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "geode_cli", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def _calls(folder: Path, name: str) -> int:
    path = folder / f"{name}.calls"
    return len(path.read_text()) if path.exists() else 0


def test_an_inline_command_writes_its_run_and_units_and_geodes_executions_row(cli, db):
    result = cli("--noparallel", "worker", "selftest", "--record", "--tasks", "3")
    assert result.exit_code == 0, result.stderr
    run = db.query_one("SELECT * FROM runs")
    assert (run["command"], run["mode"], run["state"], run["exit_code"]) == ("worker selftest", "inline", "done", 0)
    assert run["argv"] == ["--noparallel", "worker", "selftest", "--record", "--tasks", "3"]
    assert (run["units_total"], run["units_done"], run["units_failed"]) == (3, 3, 0)
    assert run["ended"] >= run["started"]
    units = db.query("SELECT label, state, node, attempts, result FROM run_units ORDER BY label")
    assert [u["label"] for u in units] == ["selftest-0000", "selftest-0001", "selftest-0002"]
    assert {u["state"] for u in units} == {"done"} and all(u["node"] and u["attempts"] == 1 for u in units)
    assert json.loads(units[0]["result"])["key"] == "selftest-0000"
    assert db.query_one("SELECT script FROM executions")["script"] == "geode worker selftest"


def test_failed_units_are_kept_with_their_message_and_runs_show_lists_them(cli, db):
    result = cli("--noparallel", "worker", "selftest", "--tasks", "2", "--fail", "1")
    assert result.exit_code == 1
    listing = json.loads(cli("runs", "list", "--json").stdout)
    assert [(r["state"], r["units_done"], r["units_failed"], r["exit_code"]) for r in listing] == [("failed", 2, 1, 1)]
    shown = cli("runs", "show", str(listing[0]["id"]), "--json")
    report = json.loads(shown.stdout)
    assert report["units_by_state"] == {"done": 2, "failed": 1}
    (failure,) = report["failures"]
    assert failure["error"] == "RuntimeError: selftest failure 0" and failure["node"]
    text = cli("runs", "show", str(listing[0]["id"]))
    assert "units: 2 done, 1 failed" in text.stdout and "RuntimeError: selftest failure 0" in text.stderr


def test_runs_list_filters_and_unknown_run(cli, db):
    assert cli("--noparallel", "worker", "selftest", "--tasks", "1").exit_code == 0
    assert cli("--noparallel", "worker", "selftest", "--tasks", "1", "--fail", "1").exit_code == 1
    states = lambda *a: [r["state"] for r in json.loads(cli("runs", "list", "--json", *a).stdout)]  # noqa: E731
    assert states() == ["failed", "done"]  # newest first
    assert states("--state", "done") == ["done"] and states("--command", "worker") == ["failed", "done"]
    assert states("--command", "scan") == []
    missing = cli("runs", "show", "999")
    assert missing.exit_code == 2 and "no run 999" in missing.stderr
    bad = cli("runs", "list", "--state", "sleeping")
    assert bad.exit_code == 2


def test_resume_runs_only_the_units_that_did_not_finish_and_hands_back_the_others(db, tmp_path):
    settings = load_settings()
    folder = tmp_path / "data"
    folder.mkdir()
    for name in ("a", "c"):
        (folder / name).write_text("")
    items = [(name, str(folder)) for name in ("a", "b", "c")]
    first = RunRecorder(settings, "test", ["test"], str(tmp_path))
    runner = InlineRunner()
    runner.history = first
    summary = runner.map(needs_marker, items)
    first.end(1)
    assert [f.message for f in summary.failures] == ["FileNotFoundError: no b yet"]
    run = db.query_one("SELECT id, state, units_done, units_failed FROM runs")
    assert (run["state"], run["units_done"], run["units_failed"]) == ("failed", 2, 1)

    (folder / "b").write_text("")  # the operator fixes the data
    again = RunRecorder(settings, "test", ["test"], str(tmp_path), resume_id=run["id"])
    runner = InlineRunner()
    runner.history = again
    seen = []
    summary = runner.map(needs_marker, items, on_result=lambda o: seen.append((o.result["name"], o.replayed)))
    again.end(0)
    assert sorted(seen) == [("a", True), ("b", False), ("c", True)]  # a and c came from the history
    assert [_calls(folder, n) for n in ("a", "b", "c")] == [1, 2, 1]  # only b ran again
    run = db.query_one("SELECT state, attempts, units_done, units_failed FROM runs")
    assert (run["state"], run["attempts"], run["units_done"], run["units_failed"]) == ("done", 2, 3, 0)
    labels = db.query("SELECT label, attempts FROM run_units ORDER BY label")
    assert [(u["label"], u["attempts"]) for u in labels] == [("unit a", 1), ("unit b", 2), ("unit c", 1)]


def test_an_interrupted_inline_run_is_resumed_from_the_cli(db, tmp_path):
    proc = _geode("--noparallel", "worker", "selftest", "--record", "--tasks", "6", "--sleep", "0.5")
    deadline = time.monotonic() + 60
    while db.query_one("SELECT count(*) AS n FROM geode_job_probe")["n"] < 2:
        assert proc.poll() is None and time.monotonic() < deadline
        time.sleep(0.1)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    run = db.query_one("SELECT id, state FROM runs")
    assert run["state"] == "interrupted"
    resumed = _geode("runs", "resume", str(run["id"]))
    out, err = resumed.communicate(timeout=60)
    assert resumed.returncode == 0, err
    rows = db.query("SELECT key, writes FROM geode_job_probe ORDER BY key")
    assert [r["key"] for r in rows] == [f"selftest-{i:04d}" for i in range(6)]
    assert {r["writes"] for r in rows} == {1}  # what finished before the Ctrl-C did not run again
    assert db.query_one("SELECT state, attempts FROM runs") == {"state": "done", "attempts": 2}
    done = _geode("runs", "resume", str(run["id"]))
    assert done.communicate(timeout=60)[1].strip().endswith("is done: nothing to resume") and done.returncode == 0


def test_runs_cancel_from_another_terminal_stops_a_live_run(db):
    proc = _geode("--noparallel", "worker", "selftest", "--record", "--tasks", "30", "--sleep", "0.5")
    deadline = time.monotonic() + 60
    while not db.query_one("SELECT count(*) AS n FROM geode_job_probe")["n"]:
        assert proc.poll() is None and time.monotonic() < deadline
        time.sleep(0.1)
    run_id = db.query_one("SELECT id FROM runs")["id"]
    cancel = _geode("runs", "cancel", str(run_id))
    out, err = cancel.communicate(timeout=30)
    assert cancel.returncode == 0 and "cancellation requested" in err
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130 and "cancelled (geode runs cancel)" in err, err
    run = db.query_one("SELECT state, units_done, units_total FROM runs")
    assert run["state"] == "interrupted" and run["units_done"] < 30
    cancelled = db.query_one("SELECT count(*) AS n FROM run_units WHERE state = 'cancelled'")["n"]
    assert cancelled == run["units_total"] - run["units_done"]


def test_doctor_names_a_lost_run_and_how_to_resume_it(cli, db, monkeypatch):
    monkeypatch.setenv("GEODE_JOBS_LEASE_TIMEOUT", "5")
    db.execute("INSERT INTO runs (command, argv, cwd, mode, heartbeat) "
               "VALUES ('scan archive', '[\"scan\", \"archive\"]', '/tmp', 'celery', now() - interval '1 minute')")
    report = json.loads(cli("doctor", "--json").stdout)
    (runs,) = [c for c in report["checks"] if c["name"] == "runs"]
    assert runs["status"] == "warn" and "1 lost run(s): 1 scan archive (lost" in runs["message"]
    assert "geode runs resume 1" in runs["hint"]
    assert db.query_one("SELECT state FROM runs")["state"] == "lost"
