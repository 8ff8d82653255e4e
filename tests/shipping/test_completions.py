"""Shell completion: generated scripts stay current, and bash/zsh/fish really complete the command tree."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from .conftest import ROOT, load_script

COMPLETIONS = ROOT / "completions"


real_tree = load_script("command_tree").load_root  # a fresh Click tree per call: tests may modify it


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


def test_every_command_path_and_option_is_in_each_script(command_tree, completions_gen):
    bash = (COMPLETIONS / "geode.bash").read_text()
    zsh = (COMPLETIONS / "_geode").read_text()
    fish = (COMPLETIONS / "geode.fish").read_text()
    for node in command_tree.build_tree(real_tree()).walk():
        key = " ".join(node.path)
        assert f"        '{key}')\n" in bash and f"        '{key}')\n" in zsh, key
        at = completions_gen.fish_quote(f"__geode_at {completions_gen.sh_quote(key)}")
        for opt in node.options:
            for name in opt.all_names:
                entry = bash.split(f"        '{key}')\n", 1)[1].split(";;", 1)[0].replace("'", " ")
                assert f" {name} " in entry, (key, name)
                assert f"'{name}:" in zsh.split(f"        '{key}')\n", 1)[1].split(";;", 1)[0], (key, name)
            assert f"complete -c geode -n {at} " in fish, key


@pytest.mark.parametrize("script", ["generate_completions.py", "generate_manpages.py"])
def test_check_mode_passes_on_a_clean_checkout(script):
    result = subprocess.run(["python3", str(ROOT / "scripts" / script), "--check"], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr


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
    (tmp_path / "site config.toml").write_text("")  # a space must not split the name
    (tmp_path / "other.txt").write_text("")
    assert bash_complete("geode", "--config", str(tmp_path / "si")) == [str(tmp_path / "site config.toml")]


def test_bash_hidden_helpers_are_not_offered():
    assert sorted(bash_complete("geode", "completion", "")) == ["bash", "fish", "install", "zsh"]


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


ZSH_INTERACTIVE = r"""
# a real interactive zsh on a pseudo-terminal, with compinit finding _geode on $fpath
zmodload zsh/zpty
zpty z 'zsh -f -i'
zpty -w z "PS1='> '; fpath=($1 \$fpath); autoload -Uz compinit; compinit -D -d $2/zcompdump; print READY"
zpty -r z out '*READY*'
zpty -r z out '*READY*'
zpty -r z out '*> *'  # zle is reading the next line: a TAB is now a completion, not a character
zpty -w -n z "$3"$'\t'
zpty -w -n z $'\C-u'"print DONE"$'\n'
zpty -r z first '*DONE*'
zpty -r z second '*DONE*'
print -r -- "$first$second"
zpty -d z
"""


@pytest.mark.skipif(shutil.which("zsh") is None, reason="zsh is not installed (apt-get install zsh)")
def test_zsh_completion_system_loads_the_script_from_fpath(tmp_path):
    def screen(line: str) -> str:
        return subprocess.run(["zsh", "-f", "-c", ZSH_INTERACTIVE, "_", str(COMPLETIONS), str(tmp_path), line],
                              capture_output=True, text=True, timeout=60, check=True).stdout.replace("\r", "")

    assert "geode gamit" in screen("geode ga")
    listing = screen("geode gamit ")
    gamit = real_tree().commands["gamit"]
    for name, cmd in gamit.commands.items():
        if not cmd.hidden:
            assert re.search(rf"\b{name} +-- ", listing), (name, listing)


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


@pytest.mark.skipif(shutil.which("fish") is None, reason="fish is not installed (apt-get install fish)")
def test_fish_completes_station_options_from_geode_once(tmp_path):
    """`-i <TAB>` on gamit run offers station codes; the second TAB reuses them (a recorder stands in for geode)."""
    calls = tmp_path / "calls"
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    recorder = bin_dir / "geode"
    recorder.write_text(f'#!/bin/sh\necho "$*" >> {calls}\nprintf "arg.lpgs\\narg.rwsn\\n"\n')
    recorder.chmod(0o755)
    script = (f"source {COMPLETIONS / 'geode.fish'}; complete -C'geode gamit run -i '; echo ==; "
              "complete -C'geode gamit run -i arg.l'")
    out = subprocess.run(["fish", "--no-config", "-c", script], capture_output=True, text=True, timeout=60, check=True,
                         env={"PATH": f"{bin_dir}:/usr/bin:/bin", "HOME": str(tmp_path)}).stdout
    words = [line.split("\t", 1)[0] for line in out.splitlines()]
    assert words == ["arg.lpgs", "arg.rwsn", "==", "arg.lpgs"]
    assert calls.read_text().splitlines() == ["completion stations"]


def test_station_codes_from_a_running_embedded_server(cli):
    """The newcomer's default: once the embedded server runs (started by a real command), TAB reads from it."""
    from geode.config import load_settings, user_data_dir
    from geode.db import open_database
    from geode.db.embedded import stop_embedded

    db = open_database(load_settings())  # starts the embedded server and creates the schema
    try:
        _add_stations(db)
        db.close()
        result = cli("completion", "networks")
        assert result.exit_code == 0
        assert result.stdout.split() == ["arg", "igs"]
    finally:
        db.close()
        stop_embedded(user_data_dir() / "postgres")
    assert cli("completion", "networks").stdout == ""  # stopped again: nothing, and nothing restarted


def test_a_missing_script_is_one_line_and_exit_1(cli, monkeypatch, tmp_path):
    """A broken install (data files not installed) says where it looked, in one line."""
    import geode_cli.completion as completion

    monkeypatch.setattr(completion, "script_locations", lambda shell: [tmp_path / "nowhere" / "geode.bash"])
    result = cli("completion", "bash")
    assert result.exit_code == 1
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "not installed" in lines[0] and str(tmp_path / "nowhere") in lines[0]


def test_script_locations_cover_the_checkout_and_the_install_prefix():
    import sys

    from geode_cli.completion import script_locations

    places = script_locations("zsh")
    assert places[0] == COMPLETIONS / "_geode"
    assert Path(sys.prefix) / "share" / "zsh" / "site-functions" / "_geode" in places


@pytest.mark.skipif(shutil.which("zsh") is None, reason="zsh is not installed (apt-get install zsh)")
def test_zsh_asks_geode_for_codes_once_per_minute(tmp_path):
    calls = tmp_path / "calls"
    recorder = tmp_path / "geode"
    recorder.write_text(f'#!/bin/sh\necho "$*" >> {calls}\nprintf "arg\\nigs\\n"\n')
    recorder.chmod(0o755)
    script = ('compadd() { [[ $1 == -a ]] && print -rl -- "${(@P)2}" }; compdef() { : }; source "$1"; '
              '_geode_prog="$2"; _geode_complete_kind networks; _geode_complete_kind networks')
    out = subprocess.run(["zsh", "-f", "-c", script, "_", str(COMPLETIONS / "_geode"), str(recorder)],
                         capture_output=True, text=True, timeout=60, check=True).stdout
    assert out.split() == ["arg", "igs", "arg", "igs"]
    assert calls.read_text().splitlines() == ["completion networks"]
