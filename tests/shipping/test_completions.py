"""Shell completion: generated scripts stay current, and bash/zsh/fish really complete the command tree."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from .conftest import ROOT

COMPLETIONS = ROOT / "completions"


def real_tree():
    """A fresh Click command tree of the real app (modifying it does not touch the app)."""
    import typer

    from geode_cli.main import app

    return typer.main.get_command(app)


def bash_complete(*words: str, env: dict | None = None) -> list[str]:
    """Run the shipped bash function for the command line `words` (the last word is being completed)."""
    script = ('source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(( $# - 1 )); _geode; '
              'printf "%s\\n" "${COMPREPLY[@]}"')
    out = subprocess.run(["bash", "-c", script, "_", str(COMPLETIONS / "geode.bash"), *words],
                         capture_output=True, text=True, timeout=60, env=env, check=True).stdout
    return [line for line in out.splitlines() if line]


# ---------------------------------------------------------------------------------------------------- drift


def test_committed_completions_match_a_fresh_generation(completions_gen):
    stale = completions_gen.stale_files(completions_gen.render_all())
    assert stale == [], f"regenerate with: python3 scripts/generate_completions.py (stale: {stale})"


def test_drift_is_detected_when_an_option_changes(completions_gen):
    """A new option on `geode gamit run` that nobody regenerated for must make every script stale."""
    from typer.core import TyperOption

    tree = real_tree()
    run = tree.commands["gamit"].commands["run"]
    run.params.append(TyperOption(param_decls=["--brand-new-flag"], is_flag=True, help="Added without regenerating.",
                                  type_descriptor=run.params[-1].type_descriptor))
    rendered = completions_gen.render_all(tree)
    assert all("brand-new-flag" in text for text in rendered.values())  # fish spells it -l brand-new-flag
    assert completions_gen.stale_files(rendered) == sorted(completions_gen.FILES.values())


def test_drift_is_detected_when_an_option_is_renamed(completions_gen, tmp_path):
    tree = real_tree()
    fresh = completions_gen.render_all(tree)
    for name, text in fresh.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    assert completions_gen.stale_files(fresh, tmp_path) == []

    renamed = real_tree()
    status = renamed.commands["db"].commands["status"]
    json_opt = next(p for p in status.params if "--json" in p.opts)
    json_opt.opts = ["--as-json"]
    assert completions_gen.stale_files(completions_gen.render_all(renamed), tmp_path) == sorted(fresh)


def test_generation_is_deterministic(completions_gen):
    assert completions_gen.render_all() == completions_gen.render_all()


# ------------------------------------------------------------------------------------------- coverage of help


def test_every_listed_command_is_in_each_script(listed_commands):
    bash = (COMPLETIONS / "geode.bash").read_text()
    zsh = (COMPLETIONS / "_geode").read_text()
    fish = (COMPLETIONS / "geode.fish").read_text()
    root_subs = next(line for line in bash.splitlines() if line.strip().startswith("_geode_subs="))
    for name in listed_commands:
        assert f" {name} " in " " + root_subs.split("=", 1)[1].strip("'") + " ", name
        assert f"'{name}:" in zsh, name
        assert f"-n '__geode_at \\'\\'' -a '{name}'" in fish, name


# ---------------------------------------------------------------------------------------------------- bash


def test_bash_completes_ga_to_gamit():
    assert bash_complete("geode", "ga") == ["gamit"]


def test_bash_lists_the_gamit_subcommands():
    gamit = real_tree().commands["gamit"]
    expected = sorted(name for name, cmd in gamit.commands.items() if not cmd.hidden)
    assert expected, "geode gamit has no subcommands"
    assert sorted(bash_complete("geode", "gamit", "")) == expected


def test_bash_completes_options_of_the_current_command():
    assert bash_complete("geode", "db", "status", "--j") == ["--json"]
    assert "-h" in bash_complete("geode", "db", "status", "-")
    # global options belong to the root only
    assert "--config" in bash_complete("geode", "--c")
    assert "--config" not in bash_complete("geode", "db", "status", "--c")


def test_bash_skips_option_values_when_finding_the_command(tmp_path):
    """`geode --config FILE db <TAB>`: FILE is the option's value, not a command."""
    assert sorted(bash_complete("geode", "--config", "x.toml", "db", "")) == ["init", "status", "stop", "upgrade"]
    assert sorted(bash_complete("geode", "--config", "=", "x.toml", "db", "st")) == ["status", "stop"]


def test_bash_completes_files_for_a_file_option(tmp_path):
    (tmp_path / "site.toml").write_text("")
    (tmp_path / "other.txt").write_text("")
    assert bash_complete("geode", "--config", str(tmp_path / "si")) == [str(tmp_path / "site.toml")]


def test_bash_hidden_helpers_are_not_offered():
    assert sorted(bash_complete("geode", "completion", "")) == ["bash", "fish", "zsh"]


# ----------------------------------------------------------------------------------------------- zsh, fish

ZSH_DRIVER = r"""
_describe() { print -rl -- "${(@P)4}" }
compadd() { if [[ $1 == -a ]]; then print -rl -- "${(@P)2}"; else shift; print -rl -- "$@"; fi }
_files() { print -r -- "<files $*>" }
compdef() { : }
source "$1"; shift
words=("$@"); CURRENT=$#
_geode
"""


@pytest.mark.skipif(shutil.which("zsh") is None, reason="zsh is not installed (apt-get install zsh)")
def test_zsh_completes_commands_and_subcommands():
    """The completion system's _describe/compadd are replaced by printers: this checks our walk of the line."""

    def complete(*words):
        out = subprocess.run(["zsh", "-f", "-c", ZSH_DRIVER, "_", str(COMPLETIONS / "_geode"), *words],
                             capture_output=True, text=True, timeout=60, check=True).stdout
        return [line.split(":", 1)[0] for line in out.splitlines() if line]

    assert "gamit" in complete("geode", "ga")
    gamit = real_tree().commands["gamit"]
    assert sorted(complete("geode", "gamit", "")) == sorted(n for n, c in gamit.commands.items() if not c.hidden)
    assert sorted(complete("geode", "-c", "x.toml", "db", "")) == ["init", "status", "stop", "upgrade"]
    assert complete("geode", "--config", "") == ["<files >"]


@pytest.mark.skipif(shutil.which("fish") is None, reason="fish is not installed (apt-get install fish)")
def test_fish_completes_commands_and_subcommands(tmp_path):
    def complete(line: str) -> list[str]:
        out = subprocess.run(["fish", "--no-config", "-c", f"source {COMPLETIONS / 'geode.fish'}; complete -C'{line}'"],
                             capture_output=True, text=True, timeout=60, check=True,
                             env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}).stdout
        return [entry.split("\t", 1)[0] for entry in out.splitlines() if entry]

    assert complete("geode ga") == ["gamit"]
    gamit = real_tree().commands["gamit"]
    assert sorted(complete("geode gamit ")) == sorted(n for n, c in gamit.commands.items() if not c.hidden)
    assert complete("geode db status --j") == ["--json"]


# ------------------------------------------------------------------------------------------ geode completion


@pytest.mark.parametrize("shell,name", [("bash", "geode.bash"), ("zsh", "_geode"), ("fish", "geode.fish")])
def test_completion_command_prints_the_shipped_script(cli, shell, name):
    result = cli("completion", shell)
    assert result.exit_code == 0
    assert result.stdout == (COMPLETIONS / name).read_text(encoding="utf-8")  # plain text, no rich markup lost


def test_completion_unknown_shell_is_a_usage_error(cli):
    result = cli("completion", "powershell")
    assert result.exit_code == 2


def test_station_codes_without_a_running_embedded_server_print_nothing(cli):
    """No database configured and the embedded server not running: nothing is printed and nothing starts."""
    from geode.config import user_data_dir

    for kind in ("stations", "networks"):
        result = cli("completion", kind)
        assert result.exit_code == 0
        assert result.stdout == ""
    assert not (user_data_dir() / "postgres").exists()


def test_station_codes_with_an_unreachable_server_print_nothing(cli, monkeypatch):
    from tests.fixtures.services import free_port

    monkeypatch.setenv("GEODE_DATABASE_URL", f"postgresql://postgres@127.0.0.1:{free_port()}/gnss_data")
    result = cli("completion", "stations")
    assert result.exit_code == 0
    assert result.stdout == ""


def _add_stations(db) -> None:
    with db.transaction() as cur:
        for net in ("arg", "igs"):
            cur.execute('INSERT INTO networks ("NetworkCode", "NetworkName") VALUES (%s, %s)', (net, net.upper()))
        for net, stn in (("arg", "lpgs"), ("arg", "rwsn"), ("igs", "braz")):
            cur.execute('INSERT INTO stations ("NetworkCode", "StationCode") VALUES (%s, %s)', (net, stn))


def test_station_and_network_codes_come_from_the_database(cli, db):
    pytest.importorskip("geode.stations", reason="geode.stations (station-list grammar) has not landed yet")
    _add_stations(db)
    stations = cli("completion", "stations")
    assert stations.exit_code == 0
    assert stations.stdout.split() == ["arg.all", "arg.lpgs", "arg.rwsn", "igs.all", "igs.braz"]
    networks = cli("completion", "networks")
    assert networks.stdout.split() == ["arg", "igs"]


@pytest.mark.skipif(shutil.which("geode") is None, reason="the geode console script is not installed")
def test_bash_completes_station_codes_through_the_installed_geode(db, tmp_path):
    """End to end: the bash function calls `geode completion stations` with a timeout."""
    pytest.importorskip("geode.stations", reason="geode.stations (station-list grammar) has not landed yet")
    import os

    _add_stations(db)
    script = ('source "$1"; _geode_prog=geode; _geode_complete_kind stations arg.; printf "%s\\n" "${COMPREPLY[@]}"')
    out = subprocess.run(["bash", "-c", script, "_", str(COMPLETIONS / "geode.bash")], capture_output=True, text=True,
                         timeout=60, env=dict(os.environ), check=True).stdout
    assert out.split() == ["arg.all", "arg.lpgs", "arg.rwsn"]


def test_bash_asks_geode_for_codes_once_per_minute(tmp_path):
    """Repeated TABs on a station argument reuse the codes: one `geode completion stations` call, not one per TAB.

    `_geode_prog` is the program the user typed; here a recorder script stands in for it, to count the calls.
    """
    calls = tmp_path / "calls"
    recorder = tmp_path / "geode"
    recorder.write_text(f'#!/bin/sh\necho "$*" >> {calls}\nprintf "arg.lpgs\\narg.rwsn\\nigs.braz\\n"\n')
    recorder.chmod(0o755)
    script = ('source "$1"; _geode_prog="$2"; '
              '_geode_complete_kind stations arg.; printf "%s\\n" "${COMPREPLY[@]}"; echo --; '
              '_geode_complete_kind stations ig; printf "%s\\n" "${COMPREPLY[@]}"')
    out = subprocess.run(["bash", "-c", script, "_", str(COMPLETIONS / "geode.bash"), str(recorder)],
                         capture_output=True, text=True, timeout=60, check=True).stdout
    assert out.split() == ["arg.lpgs", "arg.rwsn", "--", "igs.braz"]
    assert calls.read_text().splitlines() == ["completion stations"]
