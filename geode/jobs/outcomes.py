"""What a run hands back: one Outcome per unit, a RunSummary, and the two ways a run ends early."""

from __future__ import annotations

import traceback
from dataclasses import dataclass, field
from typing import Any, Protocol

from ..errors import ExitCode, Interrupted, ServiceUnavailable, first_line


@dataclass
class TaskFailure:
    index: int
    item: Any
    message: str  # one line, e.g. "ValueError: bad header"
    traceback: str = ""
    node: str = ""
    unavailable: bool = False  # a service the unit needs (the database) stayed unreachable: the run stops (69)


@dataclass
class Outcome:
    index: int
    item: Any
    result: Any = None
    failure: TaskFailure | None = None
    node: str = ""
    started: float | None = None  # epoch seconds, where the unit ran
    ended: float | None = None
    attempts: int = 1
    replayed: bool = False  # finished in an earlier attempt of this run (geode runs resume): not run again

    @property
    def ok(self) -> bool:
        return self.failure is None


@dataclass
class RunSummary:
    total: int = 0
    results: list[Outcome] = field(default_factory=list)  # successes, in completion order
    failures: list[TaskFailure] = field(default_factory=list)
    interrupted: bool = False

    @property
    def ok(self) -> bool:
        return not self.failures and not self.interrupted

    @property
    def finished(self) -> int:
        return len(self.results) + len(self.failures)


class RunInterrupted(Interrupted):
    """Ctrl-C, SIGTERM or `geode runs cancel` during a run: pending work was cancelled; ``summary`` holds what
    finished. Exit 130 (143 for SIGTERM)."""

    def __init__(self, summary: RunSummary, reason: str = "interrupted", exit_code: ExitCode = ExitCode.INTERRUPTED):
        super().__init__(f"{reason}: {summary.finished} of {summary.total} finished, the rest was cancelled")
        self.summary = summary
        self.exit_code = exit_code


class RunAborted(ServiceUnavailable):
    """A unit found a service it needs unreachable (the database stayed down): the rest was cancelled (69)."""

    def __init__(self, message: str, summary: RunSummary):
        super().__init__(message)
        self.summary = summary


class Progress(Protocol):
    """What the dispatch layer drives, in the user's units (files, stations, days); the CLI passes a rich
    implementation (geode_cli.console)."""

    def start(self, total: int, description: str) -> None: ...

    def update(self, *, done: int, failed: int, running: int) -> None: ...

    def stop(self) -> None: ...


def failure_from_exception(index: int, item: Any, exc: BaseException, node: str) -> TaskFailure:
    message = f"{type(exc).__name__}: {exc}".splitlines()[0] if str(exc) else type(exc).__name__
    tb = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    unavailable = getattr(exc, "exit_code", None) == ExitCode.UNAVAILABLE
    if unavailable:  # our own one-line message says it all
        message = first_line(exc)
    return TaskFailure(index, item, message, tb, node, unavailable)
