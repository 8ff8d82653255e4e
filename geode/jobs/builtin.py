"""Small built-in tasks: a no-op for benchmarks and tests of the dispatch layer itself."""

from __future__ import annotations

import os
import platform
import time

from .registry import task


@task("geode.jobs.noop", queue="compute")
def noop(value=None):
    return value


@task("geode.jobs.sleep", queue="compute")
def sleep(seconds: float, value=None):
    time.sleep(seconds)
    return {"value": value, "node": platform.node(), "pid": os.getpid()}


@task("geode.jobs.fail", queue="compute")
def fail(message: str = "deliberate failure"):
    raise RuntimeError(message)
