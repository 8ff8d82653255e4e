"""Versions of geode and of what it talks to, for ``geode --version`` and worker drift checks."""

from __future__ import annotations

import platform
from dataclasses import replace
from importlib import metadata

import geode


def package_version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def postgres_server_version(settings) -> str:
    """The server's version if it answers quickly; the embedded server is not started for this."""
    from .db.connection import Database, resolve_target
    from .db.embedded import running_target
    from .errors import GeodeError

    target = running_target(resolve_target(settings))
    if target is None:
        return "not running (embedded)"
    try:
        with Database.connect(replace(target, connect_timeout=min(target.connect_timeout, 3))) as db:
            return db.server_version
    except GeodeError:
        return f"unreachable ({target.describe()})"


def version_report(settings=None) -> dict[str, str]:
    from .config import load_settings
    from .errors import GeodeError

    report = {"geode": geode.__version__, "python": platform.python_version()}
    try:
        report["postgresql"] = postgres_server_version(settings or load_settings())
    except GeodeError as exc:
        report["postgresql"] = f"unknown ({exc})"
    report["celery"] = package_version("celery") or "not installed (pip install 'geode-gnss[distributed]')"
    return report
