"""`geode man`: read a command's man page, or install them all where `man` finds them (editable installs too)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path
from typing import Annotated, Optional

import typer

from geode.errors import GeodeError

from . import console


def page_folders() -> list[Path]:
    """Where the generated pages may be: this source checkout first, then the install prefixes."""
    places = [Path(__file__).resolve().parents[1] / "man"]
    prefixes = [sysconfig.get_path("data"), sys.prefix]
    try:
        prefixes.append(sysconfig.get_path("data", f"{os.name}_user"))
    except KeyError:  # no user scheme on this platform
        pass
    places += [Path(p) / "share" / "man" / "man1" for p in dict.fromkeys(p for p in prefixes if p)]
    return places


def find_pages() -> Path:
    for folder in page_folders():
        if (folder / "geode.1").is_file():
            return folder
    raise GeodeError("the man pages are not installed (looked in "
                     f"{', '.join(str(p) for p in page_folders())}); reinstall geode-gnss")


def user_man_dir() -> Path:
    """~/.local/share/man (XDG_DATA_HOME/man): man-db searches it when ~/.local/bin is on PATH."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "man"


def install_pages(target: Path) -> list[Path]:
    """Copy every geode*.1 page into target/man1; returns the written files."""
    source = find_pages()
    folder = target / "man1"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        written = []
        for page in sorted(source.glob("geode*.1")):
            dest = folder / page.name
            shutil.copyfile(page, dest)
            written.append(dest)
    except OSError as exc:
        raise GeodeError(f"cannot write the man pages to {folder}: {exc.strerror or exc}") from None
    return written


def register(app: typer.Typer) -> None:
    @app.command("man")
    def man(
        command: Annotated[Optional[list[str]], typer.Argument(
            metavar="[COMMAND]...", help="The command whose page to show, e.g. 'gamit run' (default: geode).",
            show_default=False)] = None,
        install: Annotated[bool, typer.Option(
            "--install", help="Copy every page to DIR/man1 (default ~/.local/share/man, which man reads when "
            "~/.local/bin is on PATH), so 'man geode-gamit-run' works after an editable install too.")] = False,
        directory: Annotated[Optional[Path], typer.Option(
            "--dir", metavar="DIR", help="With --install: the man folder to install into.",
            show_default=False)] = None,
        path: Annotated[bool, typer.Option("--path", help="Print the page's file instead of showing it.")] = False,
    ) -> None:
        """Show a command's man page (man -l on the page geode ships), or --install them all for `man`."""
        if install:
            target = directory or user_man_dir()
            written = install_pages(target)
            console.notice(f"{console.plural(len(written), 'man page')} installed in {target / 'man1'}")
            if directory is None and not _on_manpath(target):
                console.notice(f"man does not search {target} yet: add 'export MANPATH=\"{target}:\"' to your shell "
                               "profile (the trailing colon keeps the system pages)")
            return
        name = "-".join(["geode", *(w.lower() for w in command or [])])
        page = find_pages() / f"{name}.1"
        if not page.is_file():
            from geode.errors import UsageError

            raise UsageError(f"no man page {name} (see 'geode --help' for the commands)")
        if path:
            sys.stdout.write(f"{page}\n")
            return
        program = shutil.which("man")
        if program is None:
            raise GeodeError(f"'man' is not installed; the page is {page}")
        raise typer.Exit(subprocess.call([program, "-l", str(page)]))


def _on_manpath(target: Path) -> bool:
    manpath = os.environ.get("MANPATH")
    if manpath:
        return str(target) in manpath.split(":")
    bins = [Path(p) for p in os.environ.get("PATH", "").split(os.pathsep) if p]
    return any((b.parent / "share" / "man") == target for b in bins)
