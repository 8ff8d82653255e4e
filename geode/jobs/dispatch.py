"""Which backend runs a command's units: ``get_runner(settings, parallel)``."""

from __future__ import annotations

from .runner import InlineRunner, Runner


def get_runner(settings, parallel: bool | None = None) -> Runner:
    """``--parallel`` → Celery, ``--noparallel`` → inline, neither → the config's [jobs]/[archive] parallel.

    Celery is never silently replaced by inline: an unreachable broker raises ServiceUnavailable (exit 69).
    """
    use_celery = settings.parallel if parallel is None else parallel
    if not use_celery:
        return InlineRunner()
    from .celery_backend import CeleryRunner

    return CeleryRunner(settings)
