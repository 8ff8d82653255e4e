"""The example workspace ships a session config that `geode gamit plan` and `run --dry-run` accept."""

from __future__ import annotations

import json
import os

from geode.gamit.session_config import load_session_config


def test_example_session_config_plans(cli, database_url, tmp_path, monkeypatch):
    ws = tmp_path / "example"
    result = cli("example", str(ws))
    assert result.exit_code == 0, result.stderr
    cfg = load_session_config(ws / "gamit" / "example.cfg")
    assert (cfg.project, cfg.cluster_size, cfg.ties, cfg.systems) == ("example", 6, 2, ["G"])
    assert cfg.solutions_dir == ws / "solutions"
    monkeypatch.chdir(ws)
    plan = cli("gamit", "plan", "gamit/example.cfg", "2024_100", "2024_104", "--json")
    assert plan.exit_code == 0, plan.stderr
    days = json.loads(plan.stdout)
    assert [d["date"] for d in days] == [f"2024_{d}" for d in range(100, 105)]
    if any(d["stations"] for d in days):  # the example archive part provides RINEX for the week
        first = days[0]
        assert len(first["sessions"]) == 3  # backbone + 2 clusters at cluster_size 6
        assert set().union(*(s["stations"] for s in first["sessions"])) == {s["station"] for s in first["stations"]}
        dry = cli("gamit", "run", "gamit/example.cfg", "2024_100", "--dry-run", "--noparallel")
        assert dry.exit_code == 0, dry.stderr
        assert sorted(os.listdir(ws / "solutions" / "2024" / "100")) == [
            "example.EXA000", "example.EXA001", "example.EXA002"]
