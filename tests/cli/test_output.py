"""Readable output anywhere: every command of the README and `geode station`, on the example workspace, in an
80-column terminal and with stdout piped. Every table goes through one renderer; a spy records what each
command asked it to print, and the checks compare that with what came out:

* 80-column terminal (TTY_COMPATIBLE=1, COLUMNS=80): every value of every table's key column appears whole,
  nothing is cut with '…', and table lines fit in 80 columns;
* piped: every value of every table appears whole on its row's line, no line holds '…'.
"""

from __future__ import annotations

import re
import shlex

import pytest

from .conftest_paths import README

SKIP_COMMANDS = {"worker", "download", "runs", "example", "completion", "man"}  # cluster, network, long-running or
SKIP_PAIRS = {("db", "init"), ("db", "upgrade"), ("db", "stop")}  # workspace-making: tested elsewhere
STATION_COMMANDS = [  # after the README's, which moved tand into arg
    "geode station list", "geode station list igs.all", "geode station show igs.lpgs", "geode station show tand",
    "geode station move arg.mzac igs --dry-run", "geode station rename igs.lpgs lpg2 --dry-run",
    "geode station merge arg.mzac arg.tucu --dry-run", "geode station delete arg.vbca --dry-run",
    "geode stack show", "geode stack show example", "geode scan stninfo --propose igs.lpgs",
]


def readme_commands() -> list[str]:
    """The README's `geode ...` commands that run on the example workspace, in the README's order."""
    text = README.read_text(encoding="utf-8")
    pieces = []
    for match in re.finditer(r"```[a-z]*\n(.*?)```|`([^`\n]+)`", text, re.S):
        pieces += match.group(1).splitlines() if match.group(1) is not None else [match.group(2)]
    out = []
    for piece in pieces:
        for part in re.split(r";|&&|\{|\}", piece.split("#")[0]):
            part = part.split("|")[0].split(">")[0].strip()
            words = part.split()
            if len(words) < 2 or words[0] != "geode":
                continue
            named = [w for w in words[1:] if not w.startswith("-")]
            if named and named[0] in SKIP_COMMANDS or tuple(named[:2]) in SKIP_PAIRS or "--parallel" in words:
                continue
            if "session.cfg" in words or any(w == "..." or (w.isupper() and len(w) > 1) or
                                             re.fullmatch(r"[a-z]+(/[a-z]+)+", w) for w in words):  # placeholders
                continue
            if part in out and named[0] in ("doctor", "config", "db", "kml", "dra"):
                continue  # a read-only command the README names again: once is enough
            out.append(part)
    return out


@pytest.fixture
def spy(monkeypatch):
    """Records the tables the commands print: (columns, rows) per call, through the real renderer."""
    from geode_cli import console

    calls = []
    real = console.table

    def table(columns, rows, title=None):
        rows = [list(r) for r in rows]
        cols = console.columns_of(columns)
        calls.append((cols, [[console._cell(v) for v in r] for r in rows]))
        real(columns, rows, title)

    monkeypatch.setattr(console, "table", table)
    return calls


@pytest.fixture
def workspace(cli, database_url, tmp_path, monkeypatch):
    ws = tmp_path / "demo"
    assert cli("example", str(ws)).exit_code == 0
    monkeypatch.chdir(ws)
    return ws


def _run(cli, command: str):
    result = cli(*shlex.split(command)[1:])
    if result.exit_code == 2 and len(command.split()) <= 3 and len(result.stderr.strip().splitlines()) == 1:
        return None  # a bare mention of a command in the README's table ('geode dra'), not a command line
    if result.exit_code == 78 and "not configured" in result.stderr:
        return None  # an optional engine (PPP, ocean loading) the example does not configure: said in one line
    assert result.exit_code in (0, 1), (command, result.exit_code, result.stderr)
    assert "unexpected" not in result.stderr and "Traceback" not in result.stderr, (command, result.stderr)
    return result


def _outputs(cli, spy):
    """(command, stdout) of each README and station command that ran, with no value cut short ("…"); ``spy``
    holds the tables of that command alone when it is yielded."""
    for command in readme_commands() + STATION_COMMANDS:
        del spy[:]
        result = _run(cli, command)
        if result is None:
            continue
        assert "…" not in result.stdout, command
        yield command, result.stdout


def test_readme_lists_the_commands_this_test_runs():
    commands = readme_commands()
    for expected in ("geode scan archive", "geode scan ingest", "geode gamit plan gamit/example.cfg 2024_100 2024_104",
                     "geode doctor", "geode db status", "geode config show", "geode kml all", "geode station list",
                     "geode station move tand arg --yes", "geode scan stninfo --propose arg.tand -o tand.info"):
        assert expected in commands


def test_every_table_fits_80_columns_with_its_key_column_whole(cli, workspace, spy, monkeypatch):
    monkeypatch.setenv("TTY_COMPATIBLE", "1")
    monkeypatch.setenv("COLUMNS", "80")
    checked = 0
    for command, out in _outputs(cli, spy):
        for cols, rows in spy:
            key = next(i for i, c in enumerate(cols) if c.key) if any(c.key for c in cols) else 0
            for row in rows:
                if row[key]:
                    assert row[key] in out, (command, row[key])
                    checked += 1
        table_lines = [line for line in out.splitlines() if "│" in line or "━" in line]
        assert all(len(line) <= 80 for line in table_lines), (command, max(map(len, table_lines), default=0))
    assert checked > 50


def test_piped_output_keeps_every_value_whole(cli, workspace, spy, monkeypatch):
    monkeypatch.setenv("TTY_COMPATIBLE", "0")
    monkeypatch.setenv("COLUMNS", "80")
    tables = 0
    for command, out in _outputs(cli, spy):
        lines = out.splitlines()
        for cols, rows in spy:
            tables += 1
            for row in rows:
                cells = [c for c in row if c]
                assert any(all(c in line for c in cells) for line in lines), (command, row)
    assert tables > 15


def test_narrow_terminal_hides_columns_by_priority_never_the_key(capsys, monkeypatch):
    from geode_cli import console

    monkeypatch.setenv("TTY_COMPATIBLE", "1")
    monkeypatch.setenv("COLUMNS", "40")
    cols = [console.Column("station", key=True, priority=0, wrap=False), console.Column.num("vN mm/yr", 0),
            console.Column.num("wrmsN mm", 1), console.Column("comment", priority=2)]
    console.table(cols, [("igs.lpgs", "12.34 ± 0.10", "1.20", "a long comment " * 3)])
    out, err = capsys.readouterr()
    assert "igs.lpgs" in out and "12.34 ± 0.10" in out and "…" not in out
    assert "comment" in err and "hidden at 40 columns" in err  # said on stderr, which columns
    assert all(len(line) <= 40 for line in out.splitlines())


def test_plain_table_is_aligned_text_under_its_title(capsys, monkeypatch):
    from geode_cli import console

    monkeypatch.setenv("TTY_COMPATIBLE", "0")
    console.table(["station", console.Column.num("days")], [("igs.lpgs", 5), ("arg.a", 12)], title="t")
    out, err = capsys.readouterr()
    assert out.splitlines() == ["t", "station   days", "igs.lpgs     5", "arg.a       12"] and err == ""
