"""The object every command receives in ``ctx.obj``: global options and lazily loaded settings."""

from __future__ import annotations

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
    _settings: Any = field(default=None, repr=False)
    _db: Any = field(default=None, repr=False)
    _noted: bool = field(default=False, repr=False)

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

    def open_database(self, migrate: bool | None = None):
        """A new connection (the caller closes it), after saying once on stderr when the choice of database
        may surprise (a gnss_data.cfg without [postgres]: the embedded server is used instead)."""
        from geode.db import open_database

        self.database_note()
        return open_database(self.settings, migrate=migrate)

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
        option, else the configuration."""
        from geode.jobs import get_runner

        return get_runner(self.settings, self.parallel if parallel is None else parallel)

    def progress(self, label: str | None = None, unit: str | None = None):
        """Progress on stderr in the user's units (see console.ConsoleProgress); off with --quiet or --json."""
        from .console import ConsoleProgress

        return ConsoleProgress(enabled=not self.quiet and not self.json, label=label, unit=unit)

    def want_json(self, local: bool = False) -> bool:
        return local or self.json

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None


def app_context(ctx: typer.Context) -> AppContext:
    obj = ctx.find_root().obj
    if not isinstance(obj, AppContext):  # a sub-app invoked on its own (tests)
        obj = AppContext()
        ctx.find_root().obj = obj
    return obj
