"""The GAMIT/GLOBK programs ``geode gamit run`` needs, and where they are looked for: ``[gamit] gamit_path``
first, then ``PATH``. One list for the engine (which checks them before anything else) and ``geode doctor``."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

REQUIRED_PROGRAMS = ("sh_gamit", "sh_links.tables", "globk", "glbtosnx", "htoglb")
TABLES_HINT = "link ~/gg to your GAMIT/GLOBK installation (it holds tables/pmu.usno)"


def search_path(gamit_path: str = "", path: str | None = None) -> str:
    path = os.environ.get("PATH", "") if path is None else path
    return os.pathsep.join(p for p in (gamit_path, path) if p)


def find(name: str, gamit_path: str = "", path: str | None = None) -> str | None:
    return shutil.which(name, path=search_path(gamit_path, path))


def missing_programs(gamit_path: str = "", path: str | None = None) -> list[str]:
    """The required programs that are not found, in REQUIRED_PROGRAMS order."""
    return [name for name in REQUIRED_PROGRAMS if find(name, gamit_path, path) is None]


def gg_tables() -> Path:
    """GAMIT's ~/gg/tables (GLOBK reads pmu.usno there; sh_links.tables links the rest)."""
    return Path.home() / "gg" / "tables"


def tables_present() -> bool:
    return (gg_tables() / "pmu.usno").is_file()
