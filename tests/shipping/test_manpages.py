"""Man pages: one per command and subcommand, generated from the command tree, current, and valid roff."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from .conftest import ROOT, load_script

MAN = ROOT / "man"
MACROS = {"TH", "SH", "SY", "YS", "TP", "PP", "br", "nf", "fi"}  # what the generator may emit
ESCAPE = re.compile(r"\\(e|-|&|f[BIR]|\[u[0-9A-F]{4,6}\])")


real_tree = load_script("command_tree").load_root  # a fresh Click tree per call: tests may modify it


def roff_problems(text: str) -> list[str]:
    """Structural check of a generated page, independent of groff being installed."""
    problems = []
    lines = text.splitlines()
    if not lines or not lines[0].startswith('.\\"'):
        problems.append("first line is not the generated-file comment")
    for number, line in enumerate(lines, 1):
        if line.startswith('.\\"'):
            continue
        if not line.isascii():
            problems.append(f"{number}: non-ASCII character")
        if line.strip() == "":
            problems.append(f"{number}: blank line")
        if line.startswith("'"):
            problems.append(f"{number}: line starts with a quote (a control line)")
        if line.startswith("."):
            macro = line[1:].split(" ", 1)[0]
            if macro not in MACROS:
                problems.append(f"{number}: unknown request .{macro}")
        if ESCAPE.sub("", line).count("\\"):
            problems.append(f"{number}: unexpected escape in {line!r}")
        last_open = max(line.rfind("\\fB"), line.rfind("\\fI"))
        if last_open >= 0 and line.rfind("\\fR") < last_open:
            problems.append(f"{number}: font change not closed")
    for section in ("NAME", "SYNOPSIS", "DESCRIPTION", "EXIT STATUS", "ENVIRONMENT", "SEE ALSO"):
        if f".SH {section}" not in text:
            problems.append(f"missing section {section}")
    return problems


# ---------------------------------------------------------------------------------------------------- drift


def test_committed_pages_match_a_fresh_generation(manpages_gen):
    stale = manpages_gen.stale_files(manpages_gen.render_all())
    assert stale == [], f"regenerate with: python3 scripts/generate_manpages.py (stale: {stale})"


def test_drift_is_detected_when_an_option_changes(manpages_gen):
    """Changing an option's help and default without regenerating makes exactly that page stale."""
    tree = real_tree()
    status = tree.commands["db"].commands["status"]
    json_opt = next(p for p in status.params if "--json" in p.opts)
    json_opt.help = "Changed help text that nobody regenerated."
    rendered = manpages_gen.render_all(tree)
    assert "Changed help text" in rendered["geode-db-status.1"]
    assert manpages_gen.stale_files(rendered) == ["geode-db-status.1"]


def test_drift_is_detected_for_an_envvar_and_a_removed_command(manpages_gen, tmp_path):
    fresh = manpages_gen.render_all()
    for name, text in fresh.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    assert manpages_gen.stale_files(fresh, tmp_path) == []

    tree = real_tree()
    quiet = next(p for p in tree.params if "--quiet" in p.opts)
    quiet.envvar = "GEODE_SILENT"
    del tree.commands["db"].commands["stop"]
    stale = manpages_gen.stale_files(manpages_gen.render_all(tree), tmp_path)
    assert "geode.1" in stale  # the env var moved
    assert "geode-db-stop.1" in stale  # a page left behind for a command that is gone
    assert "geode-db.1" in stale  # its COMMANDS list changed


def test_generation_is_deterministic(manpages_gen):
    assert manpages_gen.render_all() == manpages_gen.render_all()


# ------------------------------------------------------------------------------------------------ coverage


def test_every_listed_command_has_a_page(listed_commands):
    for name in listed_commands:
        assert (MAN / f"geode-{name}.1").is_file(), name


def test_every_command_and_subcommand_has_a_page(command_tree):
    tree = command_tree.build_tree(real_tree())
    pages = {node.page for node in tree.walk()}
    assert "geode-db-status" in pages and "geode" in pages
    for page in pages:
        assert (MAN / f"{page}.1").is_file(), page


def test_every_option_is_documented_with_its_envvar_and_default(command_tree, manpages_gen):
    rendered = manpages_gen.render_all()
    for node in command_tree.build_tree(real_tree()).walk():
        page = rendered[f"{node.page}.1"]
        for opt in node.options:
            for name in opt.all_names:
                assert f"\\fB{manpages_gen.name_esc(name)}\\fR" in page, (node.page, name)
            for env in opt.envvars:
                assert f"\\fB{env}\\fR" in page, (node.page, env)
            if opt.default is not None:
                assert f"Default: {manpages_gen.esc(opt.default)}." in page, (node.page, opt.names)


def test_the_root_page_has_the_exit_codes_environment_and_files(manpages_gen):
    from geode.config import BROKER_ENV, LEGACY_ENV
    from geode.errors import ExitCode

    page = (MAN / "geode.1").read_text()
    exit_section = page.split(".SH EXIT STATUS", 1)[1].split(".SH ", 1)[0]
    for code in ExitCode:
        assert f".TP\n\\fB{int(code)}\\fR\n" in exit_section, code
    environment = page.split(".SH ENVIRONMENT", 1)[1].split(".SH ", 1)[0]
    for name in list(LEGACY_ENV) + list(BROKER_ENV) + ["GEODE_CONFIG"]:
        assert f"\\fB{name}\\fR" in environment, name
    assert ".SH FILES" in page and "gnss_data.cfg" in page


# ---------------------------------------------------------------------------------------------------- roff


def test_pages_are_structurally_valid_roff():
    pages = sorted(MAN.glob("*.1"))
    assert pages
    problems = {page.name: roff_problems(page.read_text(encoding="utf-8")) for page in pages}
    assert {name: p for name, p in problems.items() if p} == {}


def test_the_validator_catches_bad_roff():
    good = (MAN / "geode-db.1").read_text()
    assert roff_problems(good) == []
    assert roff_problems(good + ".XX bogus\n")
    assert roff_problems(good + "caf\u00e9\n")
    assert roff_problems(good + "a stray \\k escape\n")
    assert roff_problems(good.replace(".SH EXIT STATUS", ".SH STATUS"))


def test_help_text_that_looks_like_roff_is_escaped(manpages_gen):
    assert manpages_gen.text_lines(".starts with a dot\n'and a quote\nback\\slash") == [
        "\\&.starts with a dot", "\\&'and a quote", "back\\eslash"]
    assert manpages_gen.esc("\u2014") == "\\[u2014]"


@pytest.mark.skipif(shutil.which("groff") is None, reason="groff is not installed (Debian package groff-base)")
def test_groff_renders_every_page_without_warnings():
    for page in sorted(MAN.glob("*.1")):
        result = subprocess.run(["groff", "-ww", "-man", "-Tutf8", "-z", str(page)], capture_output=True, text=True,
                                timeout=60)
        assert result.returncode == 0 and result.stderr == "", (page.name, result.stderr)


@pytest.mark.skipif(shutil.which("man") is None or shutil.which("groff") is None, reason="man/groff not installed")
def test_man_renders_the_gamit_page():
    result = subprocess.run(["man", "-l", str(MAN / "geode-gamit.1")], capture_output=True, text=True, timeout=60,
                            env={"MANPAGER": "cat", "PAGER": "cat", "MANWIDTH": "80", "PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr
    assert "GEODE-GAMIT(1)" in result.stdout and "EXIT STATUS" in result.stdout
