"""Shared option types, so every command spells the same option the same way."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from geode.stations import STATION_LIST_HELP

JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON on stdout.")]

StationsArg = Annotated[Optional[list[str]], typer.Argument(help=STATION_LIST_HELP, show_default=False)]


# --- output paths, checked before any work starts ------------------------------------------------------------------

def _probe_folder(folder, what: str, option: str, shown) -> None:
    """Can this user create files in ``folder``? (os.access says yes to root even on /proc: really try.)"""
    import tempfile

    from geode.errors import UsageError

    try:
        fd, probe = tempfile.mkstemp(dir=folder, prefix=".geode-probe-")
    except OSError as exc:
        raise UsageError(f"{option} {shown}: cannot {what} in {folder} ({exc.strerror or exc})") from None
    import os

    os.close(fd)
    os.unlink(probe)


def output_file(path, option: str):
    """A file the command will write: its folder must exist and be writable, and it must not be a folder.
    UsageError (exit 2) naming the path otherwise. Returns the path."""
    from pathlib import Path

    from geode.errors import UsageError

    path = Path(path).expanduser()
    if path.is_dir():
        raise UsageError(f"{option} {path}: is a folder, give a file name")
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise UsageError(f"{option} {path}: folder {folder} does not exist")
    _probe_folder(folder, "write files", option, path)
    return path


def output_folder(path, option: str):
    """A folder the command will create (with its parents) and write into: checked now, created later.
    UsageError (exit 2) naming the path when it is a file or cannot be created or written. Returns the path."""
    from pathlib import Path

    from geode.errors import UsageError

    path = Path(path).expanduser()
    if path.exists() and not path.is_dir():
        raise UsageError(f"{option} {path}: is a file, not a folder")
    existing = path
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        raise UsageError(f"{option} {path}: {existing} is a file, not a folder")
    _probe_folder(existing, "write" if existing == path else "create folders", option, path)
    return path
