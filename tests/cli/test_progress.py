"""Honest progress: the user's units (files), no bar for zero work, failures that match the summary, and plain
periodic lines when stderr is not a terminal."""

from __future__ import annotations

import json
import re

from geode_cli.console import ConsoleProgress


def test_zero_work_shows_nothing(capsys, monkeypatch):
    monkeypatch.setenv("GEODE_PROGRESS_INTERVAL", "0")
    for tty in ("0", "1"):
        monkeypatch.setenv("TTY_COMPATIBLE", tty)
        p = ConsoleProgress()
        p.start(0, "scan: files")
        p.stop()
    assert capsys.readouterr().err == ""


def test_plain_lines_count_units_and_failures(capsys, monkeypatch):
    monkeypatch.setenv("TTY_COMPATIBLE", "0")
    monkeypatch.setenv("GEODE_PROGRESS_INTERVAL", "0")
    p = ConsoleProgress()
    p.start(450, "scan: files")
    p.update(done=118, failed=2, running=16)
    p.update(done=448, failed=2, running=0)
    p.stop()
    lines = capsys.readouterr().err.splitlines()
    assert re.fullmatch(r"scan: 120/450 files, 2 failed, \d+ s", lines[0])
    assert re.fullmatch(r"scan: 450/450 files, 2 failed, \d+ s", lines[-1])


def test_terminal_bar_fits_80_columns(capsys, monkeypatch):
    monkeypatch.setenv("TTY_COMPATIBLE", "1")
    monkeypatch.setenv("COLUMNS", "80")
    p = ConsoleProgress()
    p.start(52, "ingest: files")
    p.update(done=50, failed=2)
    p.stop()
    err = capsys.readouterr().err
    last = [line for line in re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", err).replace("\r", "\n").splitlines() if line][-1]
    assert "52/52 files, 2 failed" in last and "…" not in last and len(last) <= 80


def test_scan_counts_files_not_batches_and_its_failures_match(cli, database_url, tmp_path, monkeypatch):
    """The example's archive: 50 files in 4 batches; the plain progress and the summary agree (1 problem)."""
    ws = tmp_path / "ws"
    assert cli("example", str(ws)).exit_code == 0
    monkeypatch.chdir(ws)
    monkeypatch.setenv("TTY_COMPATIBLE", "0")
    monkeypatch.setenv("GEODE_PROGRESS_INTERVAL", "0")
    r = cli("scan", "archive")
    lines = [line for line in r.stderr.splitlines() if line.startswith("scan: ")]
    assert lines and re.fullmatch(r"scan: 50/50 files, 1 failed, \d+ s", lines[-1]), r.stderr
    assert all("/50 files" in line for line in lines)
    summary = json.loads(cli("scan", "archive", "--json").stdout)
    assert summary["counts"]["problem"] == 1 and len(summary["files"]) == 50
