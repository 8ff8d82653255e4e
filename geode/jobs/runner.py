"""The dispatch API every subcommand uses: ``runner.map(task, items, ...)``.

Two backends behind it: inline (this process) and Celery (workers over Redis). Both pass arguments and
results through the same JSON codec, both report a failed unit as a ``TaskFailure`` carrying the traceback
text and the node, and neither stops the run for one failure.
"""

from __future__ import annotations

import platform
import traceback
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Iterator, Protocol

from ..errors import Interrupted
from . import codec
from .registry import Task


@dataclass
class TaskFailure:
    index: int
    item: Any
    message: str  # one line, e.g. "ValueError: bad header"
    traceback: str = ""
    node: str = ""


@dataclass
class Outcome:
    index: int
    item: Any
    result: Any = None
    failure: TaskFailure | None = None
    node: str = ""

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


class RunInterrupted(Interrupted):
    """Ctrl-C during a run: pending work was cancelled; ``summary`` holds what finished."""

    def __init__(self, summary: RunSummary):
        super().__init__(f"interrupted: {len(summary.results)} of {summary.total} finished, the rest was cancelled")
        self.summary = summary


class Progress(Protocol):
    """What the dispatch layer drives; the CLI passes a rich implementation (geode_cli.console)."""

    def start(self, total: int, description: str) -> None: ...

    def update(self, *, done: int, failed: int, running: int) -> None: ...

    def stop(self) -> None: ...


def as_call(item: Any) -> tuple[tuple, dict]:
    """An item is a tuple of positional args, a dict of keyword args, or one positional arg."""
    if isinstance(item, tuple):
        return item, {}
    if isinstance(item, dict):
        return (), item
    return (item,), {}


def failure_from_exception(index: int, item: Any, exc: BaseException, node: str) -> TaskFailure:
    message = f"{type(exc).__name__}: {exc}".splitlines()[0]
    tb = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    return TaskFailure(index, item, message, tb, node)


class Runner:
    mode = "abstract"

    def imap(self, task: Task, items: list[Any]) -> Iterator[Outcome]:
        """Yield one Outcome per item, in completion order."""
        raise NotImplementedError

    def prepare(self, task: Task) -> None:
        """Check that ``task`` can run at all (e.g. broker up, queue consumed) before any progress is shown."""

    def cancel(self) -> None:
        """Revoke/terminate this run's pending and running units (Ctrl-C)."""

    def close(self) -> None:
        pass

    def map(
        self,
        task: Task,
        items: Iterable[Any],
        *,
        on_result: Callable[[Outcome], None] | None = None,
        on_error: Callable[[TaskFailure], None] | None = None,
        progress: Progress | None = None,
        description: str | None = None,
    ) -> RunSummary:
        """Run ``task`` over ``items``; callbacks run on this thread, in completion order.

        Raises RunInterrupted (exit 130) on Ctrl-C after cancelling what is still pending.
        """
        items = list(items)
        summary = RunSummary(total=len(items))
        if items:
            self.prepare(task)
        if progress is not None:
            progress.start(len(items), description or task.name)
        try:
            for outcome in self.imap(task, items):
                if outcome.ok:
                    summary.results.append(outcome)
                    if on_result is not None:
                        on_result(outcome)
                else:
                    assert outcome.failure is not None
                    summary.failures.append(outcome.failure)
                    if on_error is not None:
                        on_error(outcome.failure)
                if progress is not None:
                    finished = len(summary.results) + len(summary.failures)
                    progress.update(done=len(summary.results), failed=len(summary.failures),
                                    running=self.running_count(finished, len(items)))
        except KeyboardInterrupt:
            self.cancel()
            summary.interrupted = True
            raise RunInterrupted(summary) from None
        except BaseException:  # a callback raised, the broker vanished...: leave nothing of this run behind
            self.cancel()
            raise
        finally:
            if progress is not None:
                progress.stop()
        return summary

    def running_count(self, finished: int, total: int) -> int:
        return 0


class InlineRunner(Runner):
    """Runs each unit in this process, after the same JSON round trip a worker would see."""

    mode = "inline"

    def imap(self, task: Task, items: list[Any]) -> Iterator[Outcome]:
        node = platform.node()
        for index, item in enumerate(items):
            try:
                args, kwargs = as_call(codec.round_trip(item))
                result = codec.round_trip(task.func(*args, **kwargs))
            except KeyboardInterrupt:
                raise
            except Exception as exc:  # one unit failing never stops the others
                yield Outcome(index, item, failure=failure_from_exception(index, item, exc, node), node=node)
            else:
                yield Outcome(index, item, result=result, node=node)

    def running_count(self, finished: int, total: int) -> int:
        return 1 if finished < total else 0


def get_runner(settings, parallel: bool | None = None) -> Runner:
    """``--parallel`` → Celery, ``--noparallel`` → inline, neither → the config's [jobs]/[archive] parallel.

    Celery is never silently replaced by inline: an unreachable broker raises ServiceUnavailable (exit 69).
    """
    use_celery = settings.parallel if parallel is None else parallel
    if not use_celery:
        return InlineRunner()
    from .celery_backend import CeleryRunner

    return CeleryRunner(settings)
