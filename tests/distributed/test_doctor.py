"""`geode doctor --json`: each failing service gives its check and the documented exit code."""

from __future__ import annotations

import json

from tests.fixtures.services import free_port


def _gamit_code() -> int:
    """What GAMIT/GLOBK alone contributes here: 0 on a machine that has it, 1 (gamit run cannot run) otherwise."""
    from geode.gamit.programs import missing_programs, tables_present

    return 0 if not missing_programs() and tables_present() else 1


def _doctor(cli):
    result = cli("doctor", "--json")
    report = json.loads(result.stdout)
    assert report["exit_code"] == result.exit_code
    return result.exit_code, {c["name"]: c for c in report["checks"]}


def test_everything_up(cli, database_url, redis_url, start_workers, monkeypatch):
    """Parallel runs with a worker on every queue: GAMIT is the workers' business, this host needs none."""
    monkeypatch.setenv("GEODE_JOBS_PARALLEL", "true")
    pool = start_workers(count=1, queues="gamit,compute,io", concurrency=1)
    code, checks = _doctor(cli)
    assert code == 0
    for name in ("config", "database", "schema", "broker", "workers", "queue gamit", "queue compute", "queue io",
                 "version drift", "program crx2rnx", "program rnx2crx"):
        assert checks[name]["status"] == "ok", checks[name]
    assert pool.hostnames[0] in checks["workers"]["message"]
    assert checks["program sh_gamit"]["needed_by"] == ["geode gamit run"]
    assert checks["program sh_gamit"]["status"] in ("ok", "warn")


def test_database_down_is_69_and_names_the_database(cli, redis_url, monkeypatch):
    monkeypatch.setenv("GEODE_DATABASE_URL", f"postgresql://geode@127.0.0.1:{free_port()}/gnss_data")
    code, checks = _doctor(cli)
    assert code == 69
    assert checks["database"]["status"] == "fail" and "GEODE_DATABASE_URL" in checks["database"]["hint"]
    assert checks["broker"]["status"] == "ok"


def test_configured_broker_down_is_69_with_the_masked_url(cli, database_url, monkeypatch):
    monkeypatch.setenv("CELERY_BROKER_URL", f"redis://:hunter2@127.0.0.1:{free_port()}/0")
    code, checks = _doctor(cli)
    assert code == 69
    assert checks["broker"]["status"] == "fail" and "hunter2" not in checks["broker"]["message"]
    assert "****" in checks["broker"]["message"] and checks["workers"]["status"] == "skip"


def test_no_broker_configured_is_only_a_warning(cli, database_url, monkeypatch):
    # nothing configured, and nothing listening where the default points (not even a developer's own Redis)
    monkeypatch.setattr("geode.config.DEFAULT_BROKER_URL", f"redis://127.0.0.1:{free_port()}/0")
    code, checks = _doctor(cli)
    assert checks["broker"]["status"] == "warn" and "inline only" in checks["broker"]["message"]
    assert checks["workers"]["status"] == "skip"
    assert code == _gamit_code()


def test_missing_executable_is_1_and_names_the_commands_needing_it(cli, database_url, monkeypatch, tmp_path):
    (tmp_path / "work" / "geode.toml").write_text(f'[otl]\ngrdtab = "{tmp_path}/missing/grdtab"\n')
    code, checks = _doctor(cli)
    assert code == 1
    grdtab = checks["program grdtab"]
    assert grdtab["status"] == "fail" and "missing/grdtab" in grdtab["message"]
    assert grdtab["needed_by"] == ["geode scan otl"]


def test_broken_config_is_78_and_stops_early(cli, tmp_path):
    (tmp_path / "work" / "geode.toml").write_text("[celery]\nvisibility_timeout = \"soon\"\n")
    code, checks = _doctor(cli)
    assert code == 78
    assert checks["config"]["status"] == "fail" and "visibility_timeout" in checks["config"]["message"]
    assert checks["database"]["status"] == "skip"
