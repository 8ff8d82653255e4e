"""Output conventions: stdout carries data (tables, JSON); messages, progress and warnings go to stderr.

Tables (``table``): one renderer for every command.

* On a terminal the table fits the terminal's width: long text wraps inside its column, and when that is not
  enough the least important columns are hidden (a dim line on stderr names them). The key column (station,
  key, file, ...) is never hidden, wrapped or cut.
* When stdout is not a terminal (a pipe, a file, ``| tee log``) every value is printed whole, as plain text
  aligned in columns separated by two spaces: the title line (if any), the header, the rows. Nothing is ever
  cut with ``…``; ``--json`` is the form for programs.

``TTY_COMPATIBLE=1`` forces the terminal layout and ``TTY_COMPATIBLE=0`` the plain one (rich's convention);
``COLUMNS`` sets the width.

Dates, one style per kind (see README "Output"): a station-day is ``YYYY_DDD`` (the form the date options
accept); an instant is ``YYYY-MM-DD HH:MM:SS`` (UTC).

Progress (``ConsoleProgress``) counts the user's units (files, stations, days): a bar on a terminal, periodic
plain lines (``scan: 120/450 files, 2 failed, 35 s``) when stderr is not a terminal, nothing for zero work.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
import time
from dataclasses import dataclass
from typing import Any, Iterable, Sequence


# --- consoles ---------------------------------------------------------------------------------------------------------

def _columns() -> int | None:
    """COLUMNS when set (rich ignores it on TERM=dumb and answers 80)."""
    try:
        value = int(os.environ.get("COLUMNS", ""))
    except ValueError:
        return None
    return value if value > 0 else None


def _console(stderr: bool = False, width: int | None = None):
    """A rich console on the current sys.stdout/sys.stderr (test runners swap the streams per invocation, and
    COLUMNS may change between calls: a fresh console reads both)."""
    from rich.console import Console

    width = width or _columns()
    return Console(file=sys.stderr if stderr else sys.stdout, soft_wrap=True, width=width,
                   height=25 if width else None, highlight=False)


def __getattr__(name: str):  # console.out / console.err: fresh consoles on the current streams
    if name == "out":
        return _console()
    if name == "err":
        return _console(stderr=True)
    raise AttributeError(name)


def stdout_is_terminal() -> bool:
    return _console().is_terminal


def stderr_is_terminal() -> bool:
    return _console(stderr=True).is_terminal


# --- messages ---------------------------------------------------------------------------------------------------------

LONG_WORD = 200  # characters: a longer run without spaces (a pasted file, a runaway argument) is elided
LONG_MESSAGE = 1000


def elide(text: str, word: int = LONG_WORD, limit: int = LONG_MESSAGE) -> str:
    """One line, with overlong words and an overlong whole shortened to their ends and their length."""
    text = " ".join(str(text).split("\n"))

    def short(match: re.Match) -> str:
        s = match.group(0)
        return f"{s[:60]}…{s[-20:]} ({len(s)} characters)"

    text = re.sub(r"\S{%d,}" % (word + 1), short, text)
    if len(text) > limit:
        text = f"{text[:limit - 60]}…{text[-20:]} ({len(text)} characters)"
    return text


def print_json(data: Any) -> None:
    """Plain JSON on stdout (never through rich markup)."""
    sys.stdout.write(json.dumps(data, indent=2, default=str, sort_keys=False) + "\n")
    sys.stdout.flush()


def error(message: str) -> None:
    """The one-line error format: 'geode: error: ...' on stderr."""
    sys.stderr.write(f"geode: error: {elide(message)}\n")
    sys.stderr.flush()


def warn(message: str) -> None:
    from rich.markup import escape

    _console(stderr=True).print(f"[yellow]warning:[/] {escape(elide(message))}", markup=True)


def notice(message: str) -> None:
    """A dim informational line on stderr."""
    _console(stderr=True).print(message, style="dim", markup=False)


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    """'1 placemark', '2 placemarks', '0 stations'."""
    return f"{count} {singular if count == 1 else (plural_form or singular + 's')}"


def failures(items: Sequence[tuple[str, str] | str], heading: str = "problem(s)") -> None:
    """What failed, on stderr: 'N problem(s):' (or another heading) in bold red, then one line per item,
    '  unit: message' for a pair or the text itself; nothing when there are none."""
    if not items:
        return
    err = _console(stderr=True)
    err.print(f"{len(items)} {heading}:", style="bold red", markup=False)
    for item in items:
        err.print(f"  {item if isinstance(item, str) else f'{item[0]}: {item[1]}'}", markup=False)


# --- tables -----------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Column:
    """One table column.

    ``key``: the column that names the row (station, key, file): never hidden, wrapped or cut.
    ``priority``: on a terminal too narrow for every column, the columns with the highest number are hidden
    first (ties: the rightmost first); 0 is never hidden. ``justify``: "left" or "right" (numbers).
    ``wrap``: long values may wrap onto several lines (terminal only; False keeps numbers on one line).
    """

    header: str
    key: bool = False
    priority: int = 1
    justify: str = "left"
    wrap: bool = True

    @classmethod
    def num(cls, header: str, priority: int = 1) -> "Column":
        """A right-aligned number column that never wraps."""
        return cls(header, priority=priority, justify="right", wrap=False)


def columns_of(spec: Sequence[str | Column]) -> list[Column]:
    """Plain header strings become columns: the first is the key, the others are hidden from right to left."""
    out = []
    for i, c in enumerate(spec):
        if isinstance(c, Column):
            out.append(c)
        elif i == 0:
            out.append(Column(c, key=True, priority=0, wrap=False))
        else:
            out.append(Column(c, priority=i))
    return out


def _cell(value: Any) -> str:
    if value is None:
        return ""
    return " ".join(str(value).splitlines())


def table(columns: Sequence[str | Column], rows: Iterable[Sequence[Any]], title: str | None = None) -> None:
    """Print a table on stdout: fitted to a terminal, or whole values as aligned plain text (see the module)."""
    cols = columns_of(columns)
    data = [[_cell(v) for v in r] for r in rows]
    if stdout_is_terminal():
        _terminal_table(cols, data, title)
    else:
        _plain_table(cols, data, title)


def plain_lines(cols: Sequence[Column], data: Sequence[Sequence[str]]) -> list[str]:
    """The header and rows as aligned lines (two spaces between columns, whole values, no trailing blanks)."""
    widths = [max([len(c.header)] + [len(r[i]) for r in data]) for i, c in enumerate(cols)]
    lines = []
    for cells in [[c.header for c in cols], *data]:
        parts = [cell.rjust(w) if c.justify == "right" else cell.ljust(w) for c, cell, w in zip(cols, cells, widths)]
        lines.append("  ".join(parts).rstrip())
    return lines


def _plain_table(cols: list[Column], data: list[list[str]], title: str | None) -> None:
    lines = plain_lines(cols, data)
    if title:  # a command may print several tables: each says what it is
        lines.insert(0, title)
    sys.stdout.write("".join(line + "\n" for line in lines))
    sys.stdout.flush()


WRAP_MIN = 12  # a wrapping column is not squeezed below this many characters (or its natural width)


def _rich_table(cols: list[Column], data: list[list[str]], shown: list[int], title: str | None, *,
                measuring: bool):
    from rich.table import Table
    from rich.text import Text

    t = Table(title=title, show_edge=False, header_style="bold", title_justify="left")
    for i in shown:
        c = cols[i]
        natural = max([len(c.header)] + [len(r[i]) for r in data])
        if c.key or not c.wrap:
            t.add_column(c.header, justify=c.justify, no_wrap=True, min_width=natural, overflow="fold")
        else:  # measured at its squeezed width; printed free to use the room there is
            t.add_column(c.header, justify=c.justify, overflow="fold",
                         max_width=min(natural, WRAP_MIN) if measuring else None)
    for r in data:
        t.add_row(*(Text(r[i]) for i in shown))
    return t


def _terminal_table(cols: list[Column], data: list[list[str]], title: str | None) -> None:
    from rich.measure import Measurement

    console = _console()
    width = console.width
    unbounded = console.options.update(max_width=1_000_000)  # measure what the table needs, not what fits
    shown = list(range(len(cols)))
    hidden: list[str] = []
    while True:
        probe = _rich_table(cols, data, shown, None, measuring=True)
        need = Measurement.get(console, unbounded, probe).minimum
        droppable = [i for i in shown if not cols[i].key and cols[i].priority > 0]
        if need <= width or not droppable:
            break
        victim = max(droppable, key=lambda i: (cols[i].priority, i))
        shown.remove(victim)
        hidden.append(cols[victim].header)
    console.print(_rich_table(cols, data, shown, title, measuring=False), width=max(width, need))
    if hidden:
        notice(f"(hidden at {width} columns: {', '.join(reversed(hidden))}; widen the terminal, pipe the output "
               "or use --json to see them)")


# --- logging ----------------------------------------------------------------------------------------------------------

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


# --- progress ---------------------------------------------------------------------------------------------------------

PROGRESS_INTERVAL = 10.0  # seconds between plain progress lines; GEODE_PROGRESS_INTERVAL overrides


def _interval() -> float:
    try:
        return max(0.0, float(os.environ.get("GEODE_PROGRESS_INTERVAL", PROGRESS_INTERVAL)))
    except ValueError:
        return PROGRESS_INTERVAL


def split_description(description: str) -> tuple[str, str]:
    """'scan: files' -> ('scan', 'files'); a description without ': ' is the label and has no unit name."""
    label, sep, unit = (description or "").partition(": ")
    return (label.strip(), unit.strip()) if sep else ((description or "").strip(), "")


def _seconds(elapsed: float) -> str:
    s = int(elapsed)
    return f"{s} s" if s < 120 else f"{s // 60} min {s % 60:02d} s"


class ConsoleProgress:
    """geode.jobs.Progress on stderr.

    The dispatch layer calls ``start(total, description)`` and ``update(done=, failed=, running=)`` in the
    user's units (files, stations, days: the runner weighs each item); ``description`` is 'label: unit'
    (e.g. 'scan: files'). ``label``/``unit`` given here win over the description's. Zero work shows nothing.
    """

    def __init__(self, enabled: bool = True, label: str | None = None, unit: str | None = None):
        self.enabled = enabled
        self.label, self.unit = label, unit
        self._bar = None
        self._task = None
        self._plain = False
        self._total = 0
        self._done = self._failed = 0
        self._started = 0.0
        self._next_line = 0.0
        self._lines = 0
        self._current = ("", "")

    # the Progress protocol
    def start(self, total: int, description: str) -> None:
        self.stop()
        label, unit = split_description(description)
        self._current = (self.label or label, self.unit or unit)
        self._total, self._done, self._failed, self._lines = int(total), 0, 0, 0
        self._started = time.monotonic()
        if not self.enabled or self._total <= 0:
            return
        if stderr_is_terminal():
            self._start_bar()
        else:
            self._plain = True
            self._next_line = self._started + _interval()

    def update(self, *, done: int, failed: int, running: int = 0) -> None:
        self._done, self._failed = int(done), int(failed)
        if self._bar is not None:
            self._bar.update(self._task, completed=self._done + self._failed, failed=self._failed)
        elif self._plain and time.monotonic() >= self._next_line:
            self._line()
            self._next_line = time.monotonic() + _interval()

    def stop(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None
        if self._plain:
            if self._lines and self._done + self._failed >= self._total:
                self._line()  # the log shows the end of what it showed the start of
            self._plain = False

    # rendering
    def text(self) -> str:
        """'scan: 120/450 files, 2 failed, 35 s' (also what the plain lines say)."""
        label, unit = self._current
        count = f"{self._done + self._failed}/{self._total}" + (f" {unit}" if unit else "")
        return (f"{label}: " if label else "") + f"{count}, {self._failed} failed, " \
            f"{_seconds(time.monotonic() - self._started)}"

    def _line(self) -> None:
        self._lines += 1
        sys.stderr.write(self.text() + "\n")
        sys.stderr.flush()

    def _start_bar(self) -> None:
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

        console = _console(stderr=True)
        label, unit = self._current
        digits = len(str(self._total))
        counts = f"{'9' * digits}/{self._total} {unit}, {'9' * digits} failed".strip()
        fixed = len(label) + 1 + len(counts) + 1 + 7  # label, counts, elapsed (0:00:00)
        columns = [TextColumn(f"[bold]{label}[/]")] if label else []
        eta = console.width - fixed >= 10 + 12
        bar = console.width - fixed - (12 if eta else 0) - 4
        if bar >= 10:
            columns.append(BarColumn(bar_width=min(bar, 40)))
        columns.append(TextColumn("{task.completed}/{task.total}" + (f" {unit}" if unit else "") +
                                  ", [red]{task.fields[failed]} failed[/]"))
        columns.append(TimeElapsedColumn())
        if eta and bar >= 10:
            columns += [TextColumn("ETA"), TimeRemainingColumn()]
        self._bar = Progress(*columns, console=console, transient=False, expand=False)
        self._bar.start()
        self._task = self._bar.add_task(label, total=self._total, failed=0)


RichProgress = ConsoleProgress  # the former name
