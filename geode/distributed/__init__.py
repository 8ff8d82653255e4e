"""Celery distribution: the app factory and its settings, broker checks, worker entry and control.

Nothing here is imported by ``geode --help``: Celery and redis load only when a parallel run, a worker or
``geode doctor`` needs them.
"""
