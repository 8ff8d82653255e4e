"""One exception hierarchy and one exit-code table for the whole project.

The library raises these; the CLI maps them to exit codes at its boundary only.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    FAILURE = 1  # a run finished with failures, or an unexpected error
    USAGE = 2  # bad command line (Typer/Click's own code)
    UNAVAILABLE = 69  # a service is down: database, broker, workers (sysexits EX_UNAVAILABLE)
    CONFIG = 78  # configuration missing or malformed (sysexits EX_CONFIG)
    INTERRUPTED = 130  # Ctrl-C (128 + SIGINT)
    TERMINATED = 143  # SIGTERM (128 + SIGTERM): what timeout, systemd and SLURM send


def first_line(exc: BaseException) -> str:
    """An exception's message as one line (its type's name when it has none)."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


class GeodeError(Exception):
    """Base of every error meant for the user: its message is one line."""

    exit_code: ExitCode = ExitCode.FAILURE


class UsageError(GeodeError):
    exit_code = ExitCode.USAGE


class ConfigError(GeodeError):
    exit_code = ExitCode.CONFIG


class ServiceUnavailable(GeodeError):
    exit_code = ExitCode.UNAVAILABLE


class Interrupted(GeodeError):
    exit_code = ExitCode.INTERRUPTED


class BadInput(GeodeError):
    """Input data (a file, a record, a downloaded page) that cannot be read: the reason a person can act on,
    and the line it was found on when there is one. Every reader raises this family and nothing else.

    ``folder`` names the ``data_rejected/<folder>/`` a rejected repository file goes to."""

    folder = "bad_input"

    def __init__(self, reason: str, *, line: int | None = None):
        self.reason, self.line = reason, line
        super().__init__(f"line {line}: {reason}" if line is not None else reason)


class InputUnavailable(GeodeError):
    """A file that could not be read for a reason outside its content (I/O error, disk full, no permission):
    transient or the operator's to fix, never a reason to reject the file."""


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where Ctrl-C would be: the same cancellation path, exit 143 instead of 130."""
