"""docker-compose.yml, Dockerfile and .env.example, checked as files (no Docker engine runs in CI)."""

from __future__ import annotations

import re

import pytest
import yaml

from .conftest import ROOT

VARIABLE = re.compile(r"\$\{([A-Z0-9_]+)(?::?[-?][^}]*)?\}")


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def env_of(service: dict) -> dict:
    env = service.get("environment", {})
    return env if isinstance(env, dict) else dict(item.split("=", 1) for item in env)


def test_services(compose):
    assert {"postgres", "redis", "worker", "flower"} <= set(compose["services"])
    assert {"pgdata", "redisdata"} <= set(compose["volumes"])


def test_postgres_has_a_healthcheck_a_volume_and_a_required_password(compose):
    pg = compose["services"]["postgres"]
    assert "pg_isready" in " ".join(pg["healthcheck"]["test"])
    assert any(v.split(":")[0] == "pgdata" and v.endswith("/var/lib/postgresql/data") for v in pg["volumes"])
    assert env_of(pg)["POSTGRES_PASSWORD"].startswith("${POSTGRES_PASSWORD:?")


def test_redis_requires_a_password_and_keeps_queued_tasks(compose):
    redis = compose["services"]["redis"]
    command = redis["command"]
    assert command[0] == "redis-server"
    password = command[command.index("--requirepass") + 1]
    assert password.startswith("${REDIS_PASSWORD:?"), "compose must refuse to start Redis without a password"
    assert command[command.index("--appendonly") + 1] == "yes"  # AOF: queued tasks survive a restart
    assert "ping" in " ".join(redis["healthcheck"]["test"])
    assert any(v.startswith("redisdata:") for v in redis["volumes"])


def test_worker_runs_geode_worker_start_and_can_scale(compose):
    worker = compose["services"]["worker"]
    assert worker["command"][:3] == ["geode", "worker", "start"]
    assert "build" in worker
    assert "container_name" not in worker and "ports" not in worker  # --scale worker=N would clash otherwise
    env = env_of(worker)
    assert "${REDIS_PASSWORD" in env["CELERY_BROKER_URL"] and "@redis:6379" in env["CELERY_BROKER_URL"]
    assert env["GEODE_DATABASE_URL"].startswith("postgresql://") and "@postgres:5432/" in env["GEODE_DATABASE_URL"]
    deps = worker["depends_on"]
    assert deps["postgres"]["condition"] == deps["redis"]["condition"] == "service_healthy"
    assert deps["db-init"]["condition"] == "service_completed_successfully"
    assert compose["services"]["db-init"]["command"] == ["geode", "db", "init"]


def test_flower_is_an_optional_profile_on_loopback(compose):
    flower = compose["services"]["flower"]
    assert flower["profiles"] == ["monitoring"]
    assert all(port.startswith("127.0.0.1:") for port in flower["ports"])


def test_every_variable_is_documented_in_env_example():
    used = set(VARIABLE.findall((ROOT / "docker-compose.yml").read_text()))
    documented = set(re.findall(r"^#?\s*([A-Z0-9_]+)=", (ROOT / ".env.example").read_text(), re.M))
    assert used, "no ${...} variables found"
    assert used - documented == set()
    assert documented - used == set(), "documented variables that compose does not use"


def test_env_example_leaves_the_passwords_empty():
    values = dict(re.findall(r"^([A-Z0-9_]+)=(.*)$", (ROOT / ".env.example").read_text(), re.M))
    assert values["POSTGRES_PASSWORD"] == "" and values["REDIS_PASSWORD"] == ""


def test_worker_settings_are_keys_geode_reads(compose):
    """Every GEODE_<SECTION>_<KEY> given to the workers is a real configuration key (no silent typos)."""
    from geode.config import RESERVED_ENV, key_type

    for name in env_of(compose["services"]["worker"]):
        if name.startswith("GEODE_") and name not in RESERVED_ENV and name != "GEODE_DATABASE_URL":
            section, _, key = name[len("GEODE_"):].lower().partition("_")
            assert key_type(f"{section}.{key}") is not None, name


def test_dockerfile_installs_the_project_with_the_distributed_extra():
    text = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.1\d", text, re.M)
    assert 'pip install --no-cache-dir ".[distributed]"' in text
    assert re.search(r"^USER (?!root)\w+", text, re.M)
    for path in ("geode", "geode_cli", "man", "completions", "pyproject.toml"):
        assert path in text


def test_worker_command_uses_options_geode_worker_start_has(compose, command_tree):
    tree = command_tree.build_tree(command_tree.load_root())
    worker = next(c for c in tree.children if c.path == ("worker",))
    start = next((c for c in worker.children if c.path[-1] == "start"), None)
    if start is None:
        pytest.skip("`geode worker start` has not landed yet (the worker group is still a stub)")
    command = compose["services"]["worker"]["command"]
    for word in command[3:]:
        if word.startswith("-"):
            assert word in start.option_names, f"`geode worker start` has no option {word}"
