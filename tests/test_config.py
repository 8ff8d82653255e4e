"""Layered configuration: precedence, provenance, masking, and one clear error for bad input."""

import json

import pytest

from geode.config import load_settings, mask_url
from geode.errors import ConfigError, ExitCode


def test_precedence_and_sources(tmp_path, monkeypatch):
    (tmp_path / "gnss_data.cfg").write_text("[archive]\npath = tank\nparallel = True\n[postgres]\nport = 5433\n")
    (tmp_path / "geode.toml").write_text('[archive]\npath = "/abs/archive"\n')
    explicit = tmp_path / "site.toml"
    explicit.write_text("[postgres]\nport = 6000\nhostname = 'db.example'\n")
    settings = load_settings(explicit, overrides={"jobs.parallel": False}, cwd=tmp_path,
                             environ={"POSTGRES_HOST": "envhost", "GEODE_ARCHIVE_REPOSITORY": "/repo"})
    assert settings.get("archive.path") == "/abs/archive"
    assert settings.source("archive.path") == f"{tmp_path / 'geode.toml'}:2"
    assert settings.get("postgres.port") == 6000 and settings.source("postgres.port") == f"{explicit}:2"
    assert settings.get("postgres.hostname") == "envhost" and settings.source("postgres.hostname") == "env POSTGRES_HOST"
    assert settings.get("archive.repository") == "/repo"
    assert settings.parallel is False and settings.parallel_value.source == "flag jobs.parallel"


def test_relative_paths_resolve_against_the_file(tmp_path):
    sub = tmp_path / "ws"
    sub.mkdir()
    (sub / "geode.toml").write_text('[archive]\npath = "archive"\n')
    settings = load_settings(sub / "geode.toml", cwd=tmp_path, environ={})
    assert settings.get("archive.path") == str((sub / "archive").resolve())


def test_geode_ini_parallel_is_case_insensitive(tmp_path):
    (tmp_path / "gnss_data.cfg").write_text("[archive]\nparallel = true\n")
    assert load_settings(cwd=tmp_path, environ={}).parallel is True


def test_broker_resolution_order(tmp_path):
    (tmp_path / "geode.toml").write_text('[celery]\nbroker_url = "redis://cfg:6379/1"\n')
    assert load_settings(cwd=tmp_path, environ={}).broker_url.value == "redis://cfg:6379/1"
    env = {"REDIS_URL": "redis://r:1/0"}
    assert load_settings(cwd=tmp_path, environ=env).broker_url.source == "env REDIS_URL"
    env["CELERY_BROKER_URL"] = "redis://c:1/0"
    assert load_settings(cwd=tmp_path, environ=env).broker_url.value == "redis://c:1/0"
    assert load_settings(cwd=tmp_path / "none", environ={}).broker_url.value == "redis://localhost:6379/0"


def test_secrets_are_masked():
    assert mask_url("redis://:s3cret@host:6379/0") == "redis://:****@host:6379/0"
    assert mask_url("redis://host:6379/0") == "redis://host:6379/0"


@pytest.mark.parametrize("text, fragment", [
    ("[postgres]\nport = abc\n", ":2: postgres.port = 'abc': expected an integer"),
    ("[archive]\nparallel = maybe\n", ":2: archive.parallel = 'maybe': expected a boolean"),
    ("[archive\npath = x\n", "malformed INI"),
])
def test_malformed_ini_names_file_line_and_expectation(tmp_path, text, fragment):
    path = tmp_path / "bad.cfg"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_settings(path, cwd=tmp_path, environ={})
    assert str(path) in str(info.value) and fragment in str(info.value)
    assert info.value.exit_code == ExitCode.CONFIG


def test_malformed_toml(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text("[postgres\nport = 1\n")
    with pytest.raises(ConfigError, match="malformed TOML"):
        load_settings(path, cwd=tmp_path, environ={})


def test_config_show_json_reports_sources(cli, tmp_path, monkeypatch):
    (tmp_path / "work" / "geode.toml").write_text('[postgres]\npassword = "hunter2"\n[archive]\npath = "/a"\n')
    monkeypatch.setenv("POSTGRES_HOST", "h1")
    result = cli("config", "show", "--json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    values = data["values"]
    assert values["postgres.hostname"] == {"value": "h1", "source": "env POSTGRES_HOST"}
    assert values["postgres.password"]["value"] == "****" and "hunter2" not in result.stdout
    assert values["archive.path"]["source"].endswith("geode.toml:4")
    assert any(f["kind"] == "cwd-toml" and f["exists"] for f in data["files"])


def test_missing_explicit_config_is_exit_78_one_line(cli, monkeypatch):
    monkeypatch.setenv("GEODE_CONFIG", "/nonexistent")
    result = cli("config", "show")
    assert result.exit_code == 78
    assert result.stderr.strip().count("\n") == 0 and "/nonexistent" in result.stderr
    assert "Traceback" not in result.stderr


def test_config_path_lists_files_in_precedence(cli):
    result = cli("config", "path", "--json")
    kinds = [f["kind"] for f in json.loads(result.stdout)]
    assert kinds[-3:] == ["user", "cwd-ini", "cwd-toml"] and kinds[0] == "site"
