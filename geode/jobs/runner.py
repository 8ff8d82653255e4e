"""The dispatch API every subcommand uses: ``runner.map(task, items, ...)``, and the inline backend.

Two backends behind it: inline (this process, here) and Celery (workers over Redis, ``celery_backend``). Both
pass arguments and results through the same JSON codec, both report a failed unit as a ``TaskFailure`` carrying
the traceback text and the node, and neither stops the run for one failure. What stops a run: Ctrl-C or SIGTERM
(exit 130/143), `geode runs cancel`, and a service its units need staying unreachable (exit 69). With a run
recorder (``geode.jobs.history``, attached by the CLI) every unit lands in the run history, and a resumed run
hands back the stored outcome of each unit that finished before instead of running it again.
"""

from __future__ import annotations

import itertools
import platform
import time
from typing import Any, Callable, Iterable, Iterator

from ..errors import ExitCode, Terminated
from . import codec
from .outcomes import Outcome, Progress, RunAborted, RunInterrupted, RunSummary, TaskFailure, failure_from_exception
from .registry import Task
from .units import Unit, as_call, call_unit, plan_units


class Runner:
    mode = "abstract"
    history = None  # a geode.jobs.history.RunRecorder, when the run is recorded

    def imap(self, task: Task, units: list[Unit]) -> Iterator[Outcome]:
        """Yield one Outcome per unit, in completion order."""
        raise NotImplementedError

    def prepare(self, task: Task) -> None:
        """Check that ``task`` can run at all (e.g. broker up, queue consumed) before any progress is shown."""

    def cancel(self) -> None:
        """Revoke/terminate this run's pending and running units (Ctrl-C); never blocks for long."""

    def running(self) -> list[int]:
        """Indices of the units running right now (for progress)."""
        return []

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
        weight: Callable[[Any], int] | None = None,
        failed_units: Callable[[Outcome], int] | None = None,
    ) -> RunSummary:
        """Run ``task`` over ``items``; callbacks run on this thread, in completion order.

        ``weight(item)`` is how many of the user's units an item holds (files in a batch; default 1) and
        ``failed_units(outcome)`` how many of those failed inside a successful result: progress counts those.
        Raises RunInterrupted (exit 130/143) after cancelling what is still pending, RunAborted (69) when a
        unit found the database unreachable.
        """
        units = plan_units(task, list(items))
        summary = RunSummary(total=len(units))
        if units:  # before anything is recorded: no history for a run that cannot start
            self.prepare(task)
        replayed = self.history.stage(task, units, self.mode) if self.history is not None else {}
        todo = [u for u in units if u.index not in replayed]
        tally = _Tally(units, weight, failed_units)
        if progress is not None:
            progress.start(tally.total, description or task.name)
        try:
            for outcome in itertools.chain(replayed.values(), self.imap(task, todo)):
                if self.history is not None:
                    self.history.finished(task, units[outcome.index], outcome)
                if outcome.ok:
                    summary.results.append(outcome)
                    if on_result is not None:
                        on_result(outcome)
                else:
                    assert outcome.failure is not None
                    summary.failures.append(outcome.failure)
                    if outcome.failure.unavailable:
                        raise RunAborted(f"{outcome.failure.message}; {_stopped(summary, self.history)}", summary)
                    if on_error is not None:
                        on_error(outcome.failure)
                tally.add(outcome)
                if progress is not None:
                    progress.update(done=tally.done, failed=tally.failed, running=tally.running(self.running()))
        except KeyboardInterrupt as exc:
            self.cancel()
            summary.interrupted = True
            raise self._interrupted(summary, exc) from None
        except BaseException:  # a callback raised, the broker stayed away...: leave nothing of this run behind
            self.cancel()
            raise
        finally:
            if progress is not None:
                progress.stop()
        return summary

    def _interrupted(self, summary: RunSummary, exc: BaseException) -> RunInterrupted:
        if self.history is not None and self.history.cancel_requested:
            return RunInterrupted(summary, "cancelled (geode runs cancel)")
        if isinstance(exc, Terminated):
            return RunInterrupted(summary, "terminated (SIGTERM)", ExitCode.TERMINATED)
        return RunInterrupted(summary)


def _stopped(summary: RunSummary, history) -> str:
    text = f"stopped after {summary.finished} of {summary.total} units"
    if history is not None and history.run_id is not None:
        text += f" (resume with: geode runs resume {history.run_id})"
    return text


class _Tally:
    """Progress in the user's units: an item may hold many (a batch of files) and fail in part."""

    def __init__(self, units: list[Unit], weight, failed_units):
        self.sizes = [max(0, int(weight(u.item))) if weight else 1 for u in units]
        self.total = sum(self.sizes)
        self.failed_units = failed_units
        self.done = self.failed = 0

    def add(self, outcome: Outcome) -> None:
        size = self.sizes[outcome.index]
        bad = size if not outcome.ok else min(size, int(self.failed_units(outcome))) if self.failed_units else 0
        self.done += size - bad
        self.failed += bad

    def running(self, indices: list[int]) -> int:
        return sum(self.sizes[i] for i in indices)


class InlineRunner(Runner):
    """Runs each unit in this process, after the same JSON round trip a worker would see."""

    mode = "inline"

    def __init__(self):
        self._current: int | None = None

    def imap(self, task: Task, units: list[Unit]) -> Iterator[Outcome]:
        node = platform.node()
        for unit in units:
            self._current = unit.index
            started = time.time()
            try:
                args, kwargs = as_call(codec.round_trip(unit.item))
                result = codec.round_trip(call_unit(task.func, args, kwargs))
            except KeyboardInterrupt:
                raise
            except Exception as exc:  # one unit failing never stops the others
                failure = failure_from_exception(unit.index, unit.item, exc, node)
                yield Outcome(unit.index, unit.item, failure=failure, node=node, started=started, ended=time.time())
            else:
                yield Outcome(unit.index, unit.item, result=result, node=node, started=started, ended=time.time())
            finally:
                self._current = None

    def running(self) -> list[int]:
        return [self._current] if self._current is not None else []
