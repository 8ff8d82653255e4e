"""`geode doctor` tells the truth: ✘ and ! counted apart, the subcommands that cannot run named, exit 0 only when
nothing a configured subcommand needs is missing."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

STANDINS = Path(__file__).resolve().parents[1] / "gamit" / "standins"


@pytest.fixture
def example(cli, database_url, tmp_path, monkeypatch):
    ws = tmp_path / "ws"
    assert cli("example", str(ws)).exit_code == 0
    monkeypatch.chdir(ws)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))  # no ~/gg here
    monkeypatch.setenv("PATH", os.pathsep.join(p for p in os.environ["PATH"].split(os.pathsep)
                                               if not (Path(p) / "sh_gamit").exists()))
    # nothing listening where the default broker points: runs are inline, a warning only
    from tests.fixtures.services import free_port

    monkeypatch.setattr("geode.config.DEFAULT_BROKER_URL", f"redis://127.0.0.1:{free_port()}/0")
    return ws


def test_doctor_on_the_example_names_the_missing_engine(cli, example):
    r = cli("doctor")
    assert r.exit_code == 1
    summary = r.stderr.strip().splitlines()[-1]
    assert summary.startswith("geode doctor: 6 ✘, 1 !")  # five programs and ~/gg/tables; the broker warning
    assert "cannot run: gamit run: sh_gamit, sh_links.tables, globk, glbtosnx, htoglb, ~/gg/tables missing" in summary
    report = json.loads(cli("doctor", "--json").stdout)
    assert report["exit_code"] == 1
    assert report["summary"]["cannot_run"] == {"gamit run": ["sh_gamit", "sh_links.tables", "globk", "glbtosnx",
                                                             "htoglb", "~/gg/tables"]}
    assert report["summary"]["warnings"] == 1 and report["summary"]["failed"] == 6


def test_doctor_is_0_when_every_subcommand_can_run(cli, example, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", f"{STANDINS}{os.pathsep}{os.environ['PATH']}")
    tables = tmp_path / "home" / "gg" / "tables"
    tables.mkdir(parents=True)
    (tables / "pmu.usno").write_text("")
    r = cli("doctor")
    assert r.exit_code == 0, r.stderr
    assert r.stderr.strip().splitlines()[-1] == "geode doctor: 0 ✘, 1 ! (warnings only: every subcommand can run here)"


def test_doctor_checks_can_be_added(cli, example, monkeypatch):
    """Other parts of geode register their checks (e.g. runs left running): they run with the database at hand."""
    from geode import health

    seen = []

    def check_left_running(ctx):
        seen.append(ctx.db is not None)
        return [health.Check("runs", health.FAIL, "2 runs lost", code=1)]

    monkeypatch.setattr(health, "EXTRA_CHECKS", [check_left_running])
    report = json.loads(cli("doctor", "--json").stdout)
    assert seen == [True] and report["checks"][-1]["name"] == "runs" and "runs" in report["summary"]["failed_checks"]
