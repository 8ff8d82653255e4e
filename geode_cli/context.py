"""The object every command receives in ``ctx.obj``: global options and lazily loaded settings."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import typer


@dataclass
class AppContext:
    config_file: str | None = None
    parallel: bool | None = None  # None: the configuration decides
    verbose: int = 0
    quiet: bool = False
    json: bool = False
    debug: bool = False
    argv: list[str] = field(default_factory=list)  # the command line after `geode` (the run history keeps it)
    resume_run: int | None = None  # `geode runs resume`: continue this run instead of starting one
    command: str = ""  # the subcommand being run, e.g. "scan archive" (set by app_context)
    _settings: Any = field(default=None, repr=False)
    _db: Any = field(default=None, repr=False)
    _noted: bool = field(default=False, repr=False)
    _history: Any = field(default=None, repr=False)

    @property
    def settings(self):
        """geode.config.Settings, loaded on first use (ConfigError → exit 78)."""
        if self._settings is None:
            from geode.config import load_settings

            self._settings = load_settings(self.config_file)
        return self._settings

    @property
    def db(self):
        """An open geode.db.Database (ServiceUnavailable → exit 69)."""
        if self._db is None:
            self._db = self.open_database()
        return self._db

    def open_database(self, migrate: bool | None = None, create: bool = False):
        """A new connection (the caller closes it), after saying once on stderr when the choice of database
        may surprise (a gnss_data.cfg without [postgres]: the embedded server is used instead)."""
        from geode.db import open_database

        self.database_note()
        return open_database(self.settings, migrate=migrate, create=create)

    def database_note(self) -> None:
        if self._noted:
            return
        self._noted = True
        from geode.db.choice import database_choice

        note = database_choice(self.settings).note
        if note:
            from .console import warn

            warn(note)

    def runner(self, parallel: bool | None = None):
        """The dispatch runner chosen by the command's --parallel/--noparallel (when given), else the global
        option, else the configuration; its units are recorded in the run history."""
        from geode.jobs import get_runner

        runner = get_runner(self.settings, self.parallel if parallel is None else parallel)
        runner.history = self.history
        return runner

    @property
    def history(self):
        """This command's run in the run history (created at its first dispatch)."""
        if self._history is None:
            from geode.jobs.history import RunRecorder

            self._history = RunRecorder(self.settings, self.command, self.argv, os.getcwd(), self.resume_run)
        return self._history

    def progress(self, label: str | None = None, unit: str | None = None):
        """Progress on stderr in the user's units (see console.ConsoleProgress); off with --quiet or --json."""
        from .console import ConsoleProgress

        return ConsoleProgress(enabled=not self.quiet and not self.json, label=label, unit=unit)

    def want_json(self, local: bool = False) -> bool:
        return local or self.json

    def close(self, exit_code: int = 0, message: str = "") -> None:
        """End the command: its run's state from the exit code, then the database connection."""
        if self._history is not None:
            self._history.end(exit_code, message)
            self._history = None
        if self._db is not None:
            self._db.close()
            self._db = None


def app_context(ctx: typer.Context) -> AppContext:
    obj = ctx.find_root().obj
    if not isinstance(obj, AppContext):  # a sub-app invoked on its own (tests)
        obj = AppContext()
        ctx.find_root().obj = obj
    obj.command = " ".join(ctx.command_path.split()[1:])
    return obj
