"""Output conventions: stdout carries data (tables, JSON); messages, progress and warnings go to stderr."""

from __future__ import annotations

import json
import logging
import sys
from typing import Any, Iterable, Sequence

from rich.console import Console

# No file is given: rich then writes to whatever sys.stdout/sys.stderr is at the time of each call, so
# test runners that swap the streams per invocation (and log handlers that outlive one) stay correct.
out = Console(soft_wrap=True)  # data
err = Console(stderr=True, soft_wrap=True)  # chatter


def print_json(data: Any) -> None:
    """Plain JSON on stdout (never through rich markup)."""
    sys.stdout.write(json.dumps(data, indent=2, default=str, sort_keys=False) + "\n")
    sys.stdout.flush()


def error(message: str) -> None:
    """The one-line error format: 'geode: error: ...' on stderr."""
    sys.stderr.write(f"geode: error: {message}\n")
    sys.stderr.flush()


def warn(message: str) -> None:
    err.print(f"[yellow]warning:[/] {message}", highlight=False, markup=True)


def notice(message: str) -> None:
    """A dim informational line on stderr."""
    err.print(message, style="dim", highlight=False, markup=False)


def failures(items: Sequence[tuple[str, str] | str], heading: str = "problem(s)") -> None:
    """What failed, on stderr: 'N problem(s):' (or another heading) in bold red, then one line per item,
    '  unit: message' for a pair or the text itself; nothing when there are none."""
    if not items:
        return
    err.print(f"{len(items)} {heading}:", style="bold red", highlight=False)
    for item in items:
        err.print(f"  {item if isinstance(item, str) else f'{item[0]}: {item[1]}'}", markup=False, highlight=False)


def table(columns: Sequence[str], rows: Iterable[Sequence[Any]], title: str | None = None) -> None:
    from rich.markup import escape
    from rich.table import Table

    t = Table(title=title, show_edge=False, header_style="bold")
    for c in columns:
        t.add_column(c)
    for r in rows:
        t.add_row(*("" if v is None else escape(str(v)) for v in r))
    out.print(t)


class _NoticeHandler(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        msg = record.getMessage()
        if record.levelno >= logging.WARNING:
            warn(msg)
        else:
            notice(msg)


def setup_logging(verbose: int, quiet: bool) -> None:
    """Library messages (logger 'geode') become dim stderr lines; -v shows debug, -q only warnings."""
    logger = logging.getLogger("geode")
    logger.handlers[:] = [_NoticeHandler()]
    logger.propagate = False
    logger.setLevel(logging.WARNING if quiet else logging.DEBUG if verbose > 0 else logging.INFO)


class RichProgress:
    """rich progress bar on stderr implementing geode.jobs.Progress (done/failed/running, rate, ETA)."""

    def __init__(self, enabled: bool = True):
        self.enabled = enabled
        self._progress = None
        self._task = None

    def start(self, total: int, description: str) -> None:
        if not self.enabled:
            return
        from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn,
                                   TimeRemainingColumn)

        self._progress = Progress(
            TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
            TextColumn("[red]{task.fields[failed]} failed[/] · {task.fields[running]} running"),
            TextColumn("{task.fields[rate]}"), TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(),
            console=err, transient=False,
        )
        self._progress.start()
        self._task = self._progress.add_task(description, total=total, failed=0, running=0, rate="")

    def update(self, *, done: int, failed: int, running: int) -> None:
        if self._progress is None:
            return
        task = self._progress.tasks[0]
        elapsed = task.elapsed or 0.0
        rate = f"{(done + failed) / elapsed:.1f}/s" if elapsed > 0 else ""
        self._progress.update(self._task, completed=done + failed, failed=failed, running=running, rate=rate)

    def stop(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None
