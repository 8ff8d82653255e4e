"""Shared helpers for the shipping tests: the generator scripts and the root `geode --help` listing."""

from __future__ import annotations

import importlib
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = ROOT / "scripts"


def load_script(name: str):
    """Import scripts/<name>.py (the scripts folder is not a package)."""
    if str(SCRIPTS) not in sys.path:
        sys.path.insert(0, str(SCRIPTS))
    return importlib.import_module(name)


@pytest.fixture(scope="session")
def completions_gen():
    return load_script("generate_completions")


@pytest.fixture(scope="session")
def manpages_gen():
    return load_script("generate_manpages")


@pytest.fixture(scope="session")
def command_tree():
    return load_script("command_tree")


def help_commands(help_text: str) -> list[str]:
    """Command names from the 'Commands:' section of plain Click help."""
    names, inside = [], False
    for line in help_text.splitlines():
        if line.strip() == "Commands:":
            inside = True
            continue
        if inside:
            match = re.match(r"^  (\S+)", line)
            if match:
                names.append(match.group(1))
            elif line.strip() and not line.startswith("    "):
                inside = False
    return names


@pytest.fixture
def listed_commands(cli) -> list[str]:
    result = cli("--help")
    assert result.exit_code == 0
    names = help_commands(result.stdout)
    assert len(names) >= 8, result.stdout  # gamit stack dra kml scan download worker doctor at least
    return names
