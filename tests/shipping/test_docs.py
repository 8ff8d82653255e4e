"""The documentation only names commands that exist: every `geode ...` line in README.md and docs/ is checked."""

from __future__ import annotations

import re

from .conftest import ROOT

DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def command_lines(text: str) -> list[str]:
    """`geode ...` command lines from inline code spans and fenced code blocks."""
    pieces = re.findall(r"`([^`\n]+)`", text)
    pieces += [line for block in re.findall(r"```[a-z]*\n(.*?)```", text, re.S) for line in block.splitlines()]
    found = []
    for piece in pieces:
        match = re.search(r"(?:^|\s)(geode\s+[^#]*)", piece)
        if match:
            found.append(match.group(1).strip())
    return found


def unknown_command(node, words: list[str]) -> str | None:
    """The first word that names no command or option where one is expected.

    Stops at placeholders (STATIONS, DATES, ...) and at groups whose commands have not landed yet; on a
    command (a leaf), every --option word must be one of its options.
    """
    index = 0
    while index < len(words) and node.children:
        word = words[index]
        if word.startswith("-"):
            if word not in node.option_names:
                return f"{node.name!r} has no option {word}"
            index += 2 if word in node.value_options else 1
            continue
        if word == "..." or word.isupper() or not re.fullmatch(r"[a-z][a-z0-9-]*", word):
            return None
        child = next((c for c in node.children if c.path[-1] == word), None)
        if child is None:
            return f"{word!r} is not a command of {node.name!r}"
        node, index = child, index + 1
    if node.is_group:
        return None  # a placeholder group: nothing to check against yet
    for word in words[index:]:
        if word.startswith("--") and word.split("=", 1)[0] not in node.option_names:
            return f"{node.name!r} has no option {word}"
    return None


def test_docs_exist():
    assert (ROOT / "README.md").is_file()


def test_every_documented_command_exists(command_tree):
    tree = command_tree.build_tree(command_tree.load_root())
    problems = []
    for doc in DOCS:
        for line in command_lines(doc.read_text(encoding="utf-8")):
            problem = unknown_command(tree, line.split()[1:])
            if problem:
                problems.append(f"{doc.name}: `{line}`: {problem}")
    assert problems == []


def test_documented_man_pages_exist():
    for doc in DOCS:
        for page in re.findall(r"\bman (?:-l man/)?(geode[a-z-]*)", doc.read_text(encoding="utf-8")):
            assert (ROOT / "man" / f"{page.removesuffix('.1')}.1").is_file(), page


def test_the_checker_catches_a_wrong_command(command_tree):
    tree = command_tree.build_tree(command_tree.load_root())
    assert unknown_command(tree, ["db", "status", "--json"]) is None
    assert unknown_command(tree, ["--config", "x.toml", "db", "init"]) is None
    assert unknown_command(tree, ["db", "statuss"]) is not None
    assert unknown_command(tree, ["--config", "db", "status"]) is not None  # 'db' was the option's value
    assert unknown_command(tree, ["db", "status", "--jsn"]) is not None
    assert unknown_command(tree, ["--nope", "db", "status"]) is not None
    assert command_lines("run `GEODE_X=1 geode db init` then\n```sh\ngeode config show  # comment\n```\n") == [
        "geode db init", "geode config show"]
