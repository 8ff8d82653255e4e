"""One test per code of the exit-code table (0, 1, 2, 69, 78, 130, 143)."""

import os
import signal
import subprocess
import sys
import time

import pytest

from geode.errors import ExitCode


def test_table_values():
    assert [int(c) for c in ExitCode] == [0, 1, 2, 69, 78, 130, 143]


def test_ok_is_0(cli):
    assert cli("config", "path").exit_code == 0


def test_usage_is_2(cli):
    result = cli("db", "no-such-command")
    assert result.exit_code == 2


def test_failure_is_1(cli, tmp_path):
    """A user error that is neither usage, config nor service: one line, exit 1."""
    target = tmp_path / "occupied"
    target.mkdir()
    (target / "something").write_text("x")
    result = cli("example", str(target))
    assert result.exit_code == 1
    assert "not empty" in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_unavailable_is_69_naming_host_port(cli, monkeypatch):
    monkeypatch.setenv("POSTGRES_HOST", "127.0.0.1")
    monkeypatch.setenv("POSTGRES_PORT", "1")
    started = time.monotonic()
    result = cli("db", "status")
    assert result.exit_code == 69
    assert "127.0.0.1:1" in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert time.monotonic() - started < 15


def test_config_is_78(cli, tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[postgres]\nport = 'x'\n")
    result = cli("--config", str(bad), "db", "status")
    assert result.exit_code == 78 and "postgres.port" in result.stderr


def _sleepy_geode() -> subprocess.Popen:
    """A real geode process (through the console-script entry) running a long inline run."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("GEODE_CONFIG", None)
    code = ("import sys, typer\n"
            "from geode_cli import entry\n"
            "from geode_cli.main import app\n"
            "from geode.jobs import InlineRunner\n"
            "from geode.jobs.builtin import sleep\n"
            "@app.command('_sleepy', hidden=True)\n"
            "def _sleepy():\n"
            "    print('ready', flush=True)\n"
            "    InlineRunner().map(sleep, [(5,)] * 10)\n"
            "sys.argv = ['geode', '_sleepy']\n"
            "entry.run()\n")
    proc = subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "ready"
    time.sleep(0.5)
    return proc


def test_interrupted_is_130():
    """SIGINT to a real geode process waiting on work exits 130."""
    proc = _sleepy_geode()
    proc.send_signal(signal.SIGINT)
    assert proc.wait(20) == 130
    assert "interrupted" in proc.stderr.read()


def test_terminated_is_143():
    """SIGTERM (timeout, systemd, SLURM) cancels like Ctrl-C and exits 143."""
    proc = _sleepy_geode()
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(20) == 143
    assert "terminated (SIGTERM): 0 of 10 finished" in proc.stderr.read()
