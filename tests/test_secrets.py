"""Secrets never leak: passwords with '#', '@' and '%', URL-encoded or not, query-string passwords, secret-like
keys and malformed URLs, through every output of `config show`, `--json config show`, `doctor`, `worker status`
and `--debug` failures (real processes, stdout and stderr both). Zero occurrences."""

from __future__ import annotations

import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from geode.config import load_settings, mask, mask_url
from geode.errors import ConfigError

# (value as configured, the secret strings that must never appear, in any form)
BROKER = ("redis://:br0k3rP%23w%40rd@127.0.0.1:1/0", ["br0k3rP%23w%40rd", "br0k3rP#w@rd", "br0k3rP", "w%40rd"])
DATABASE = ("postgresql://geode:dbS3cr%23t%25x@127.0.0.1:1/gnss?password=QueryPw99&sslmode=disable",
            ["dbS3cr%23t%25x", "dbS3cr#t%x", "dbS3cr", "QueryPw99"])
BACKEND = ("redis://user:Backend%23Pw7@127.0.0.1:1/2", ["Backend%23Pw7", "Backend#Pw7", "Backend", "Pw7@"])
PLAIN = {"pg_password": "PgPass#word@1", "api_token": "TokenValue123", "api_key": "ApiKey789",
         "secret": "SecretValue456", "ftp_password": "FtpPw!!Zz"}
MALFORMED = [("redis://:Malformed7PW@[::1/0", "Malformed7PW"), ("redis://:PortPw55@127.0.0.1:99999/0", "PortPw55"),
             ("redis://:Sp ace9PW@127.0.0.1:1/0", "Sp ace9PW"), ("redis://:Hash#Tail9x@127.0.0.1:1/0", "Tail9x")]

COMMANDS = [["config", "show"], ["--json", "config", "show"], ["doctor"], ["--json", "doctor"],
            ["worker", "status", "--timeout", "0.5"], ["--json", "worker", "status", "--timeout", "0.5"],
            ["--debug", "worker", "status", "--timeout", "0.5"], ["--debug", "db", "status"],
            ["--debug", "--parallel", "scan", "archive"], ["--debug", "db", "init"]]


def _secrets() -> list[str]:
    out = BROKER[1] + DATABASE[1] + BACKEND[1] + list(PLAIN.values())
    return out + [s for _, s in MALFORMED]


def _workspace(tmp: Path) -> Path:
    ws = tmp / "ws"
    ws.mkdir()
    (ws / "archive").mkdir()
    (ws / "geode.toml").write_text(
        "[postgres]\n"
        f'password = "{PLAIN["pg_password"]}"\n'
        "[celery]\n"
        f'result_backend = "{BACKEND[0]}"\n'
        "[archive]\n"
        'path = "archive"\n'
        "[api]\n"
        f'api_token = "{PLAIN["api_token"]}"\n'
        f'api_key = "{PLAIN["api_key"]}"\n'
        f'secret = "{PLAIN["secret"]}"\n'
        "[sources]\n"
        f'ftp_password = "{PLAIN["ftp_password"]}"\n')
    return ws


def _run(ws: Path, env: dict, args: list[str]) -> tuple[list[str], int, str]:
    done = subprocess.run([sys.executable, "-m", "geode_cli", *args], cwd=ws, env=env, capture_output=True,
                          text=True, timeout=120)
    return args, done.returncode, done.stdout + done.stderr


def _leaks(text: str, secrets: list[str]) -> list[str]:
    return [s for s in secrets if s in text]


def test_no_secret_reaches_any_output(tmp_path):
    ws = _workspace(tmp_path)
    env = {**os.environ, "CELERY_BROKER_URL": BROKER[0], "GEODE_DATABASE_URL": DATABASE[0],
           "GEODE_CUSTOM_API_TOKEN": "EnvToken31337", "GEODE_POSTGRES_CONNECT_TIMEOUT": "2"}
    secrets = _secrets() + ["EnvToken31337"]
    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(lambda a: _run(ws, env, a), COMMANDS))
    for args, code, text in results:
        assert not _leaks(text, secrets), (args, _leaks(text, secrets), text)
        assert "Traceback" not in text or args[0] == "--debug", (args, text)
    shown = dict((tuple(a), t) for a, _, t in results)
    assert "redis://:****@127.0.0.1:1/0" in shown[("config", "show")]
    assert "password=****&sslmode=disable" in shown[("--json", "config", "show")]
    debug_codes = {tuple(a): c for a, c, _ in results if a[0] == "--debug"}
    assert debug_codes[("--debug", "db", "status")] == 69  # the database at 127.0.0.1:1 is not there


@pytest.mark.parametrize("url, secret", MALFORMED)
def test_a_malformed_url_is_exit_78_naming_its_source_and_shows_no_secret(tmp_path, url, secret):
    ws = _workspace(tmp_path)
    env = {**os.environ, "CELERY_BROKER_URL": url, "GEODE_DATABASE_URL": DATABASE[0]}
    with ThreadPoolExecutor(2) as pool:  # every command stops at the configuration: a few stand for all
        results = list(pool.map(lambda a: _run(ws, env, a), [COMMANDS[i] for i in (0, 1, 3, 6)]))
    for args, code, text in results:
        assert secret not in text and not _leaks(text, _secrets()), (args, text)
        assert code == 78, (args, code, text)
        assert "env CELERY_BROKER_URL" in text, (args, text)


def test_mask_handles_every_shape():
    assert mask_url("redis://:s3cret@host:6379/0") == "redis://:****@host:6379/0"
    assert mask_url("redis://host:6379/0") == "redis://host:6379/0"
    assert mask_url("redis://:pa#ss@host/0") == "redis://:****@host/0"  # '#' does not cut the password short
    assert mask_url("redis://:p@ss@host/0") == "redis://:****@host/0"  # the last '@' ends the user info
    assert mask_url("redis://:PW@[::1/0") == "redis://:****@[::1/0"
    assert mask_url("postgresql://u@h/db?password=x1&sslmode=require") == \
        "postgresql://u@h/db?password=****&sslmode=require"
    assert mask_url("https://h/x?api_token=abc;sig=1") == "https://h/x?api_token=****;sig=1"
    assert mask_url("user:pw@host") == "user:****@host"
    assert mask_url("not a url") == "not a url"
    assert mask_url("redis://:bad\nPW@h/0") == "redis://****"  # does not parse: nothing after the scheme
    for key in ("api_token", "x.api_key", "sources.ftp_password", "a.secret", "a.pass", "x.auth_header"):
        assert mask(key, "value") == "****", key
    assert mask("archive.path", "/data/archive") == "/data/archive"
    assert mask("custom.endpoint", "https://u:pw@example.org/") == "https://u:****@example.org/"


@pytest.mark.parametrize("env, fragment", [
    ({"POSTGRES_PORT": "99999"}, "env POSTGRES_PORT: postgres.port = '99999': expected a port number from 1 to 65535"),
    ({"GEODE_DATABASE_URL": "postgresql://u:Pw1@h:70000/db"}, "env GEODE_DATABASE_URL: postgres.url = "
                                                              "'postgresql://u:****@h:70000/db': the port is not"),
    ({"CELERY_BROKER_URL": "redis://:Pw2@[::1/0"}, "env CELERY_BROKER_URL: celery.broker_url = 'redis://:****@[::1/0'"
                                                   ": malformed host"),
    ({"GEODE_CELERY_BROKER_URL": "localhost:6379"}, "env GEODE_CELERY_BROKER_URL: celery.broker_url = "
                                                    "'localhost:6379': expected a URL"),
    ({"CELERY_BROKER_URL": "redis://:Pw1#x@h:1/0"}, "env CELERY_BROKER_URL: celery.broker_url = 'redis://:****@h:1/0':"
                                                    " '#', '/', '?' or '@' in a user name or password must be "
                                                    "URL-encoded (%23, %2F, %3F, %40)"),
])
def test_malformed_values_are_config_errors_naming_the_source(env, fragment, tmp_path):
    with pytest.raises(ConfigError) as info:
        load_settings(cwd=tmp_path, environ=env)
    assert fragment in str(info.value)
    assert "Pw1" not in str(info.value) and "Pw2" not in str(info.value)
