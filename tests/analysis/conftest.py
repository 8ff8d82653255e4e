import logging

import pytest


@pytest.fixture(autouse=True)
def _library_logging_detached():
    """A `cli` invocation leaves the CLI's stderr handler on the 'geode' logger, bound to that invocation's
    (now closed) stream; library code logging later in the same process would then fail. Restore it."""
    logger = logging.getLogger("geode")
    saved = (logger.handlers[:], logger.propagate, logger.level)
    yield
    logger.handlers[:], logger.propagate, logger.level = saved[0], saved[1], saved[2]
