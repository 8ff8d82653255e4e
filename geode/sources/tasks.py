"""Dispatch tasks of geode download (queue 'io': network-bound work)."""

from __future__ import annotations

from ..jobs import task
from .fetch import StationJob, StationResult, fetch_station


@task("geode.sources.download_station", queue="io")
def download_station(job: StationJob) -> StationResult:
    return fetch_station(job)
