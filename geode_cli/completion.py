"""`geode completion`: print the shipped shell completion scripts, and feed them station and network codes.

The scripts are generated files (scripts/generate_completions.py) with the whole command tree embedded, so
TAB costs no Python start-up. They call back into `geode completion stations|networks` only where a station
list or network code is expected. Those helpers must never make TAB hang or start anything: they answer
from a reachable database or print nothing.
"""

from __future__ import annotations

import os
import sys
import sysconfig
from pathlib import Path
from typing import Annotated, Optional

import typer

from geode.errors import GeodeError

from .completion_codes import print_codes

SCRIPTS = {  # shell: (file in completions/, folder under <prefix>/share where pip installs it)
    "bash": ("geode.bash", "bash-completion/completions"),
    "zsh": ("_geode", "zsh/site-functions"),
    "fish": ("geode.fish", "fish/vendor_completions.d"),
}
INSTALL_HINTS = {
    "bash": "geode completion bash > ~/.local/share/bash-completion/completions/geode",
    "zsh": "geode completion zsh > ~/.zfunc/_geode   (with fpath=(~/.zfunc $fpath) before compinit in ~/.zshrc)",
    "fish": "geode completion fish > ~/.config/fish/completions/geode.fish",
}

completion_app = typer.Typer(
    help="Print shell completion scripts (bash, zsh, fish) as plain text. The scripts embed the command tree, "
         "so TAB runs no Python; station and network codes are read from the database when it is reachable.",
    no_args_is_help=True,
)


def script_locations(shell: str) -> list[Path]:
    """Where the script for `shell` may be: this source checkout first, then the install prefixes."""
    name, share = SCRIPTS[shell]
    places = [Path(__file__).resolve().parents[1] / "completions" / name]
    prefixes = [sysconfig.get_path("data"), sys.prefix]
    try:
        prefixes.append(sysconfig.get_path("data", f"{os.name}_user"))
    except KeyError:  # no user scheme on this platform
        pass
    for prefix in dict.fromkeys(p for p in prefixes if p):
        places.append(Path(prefix) / "share" / share / name)
    return places


def read_script(shell: str) -> str:
    for path in script_locations(shell):
        if path.is_file():
            return path.read_text(encoding="utf-8")
    raise GeodeError(f"the {shell} completion script is not installed (looked for "
                     f"{', '.join(str(p) for p in script_locations(shell))}); reinstall geode-gnss")


def _print_script(shell: str) -> None:
    # plain stdout: rich would interpret the [..] in the script as markup
    sys.stdout.write(read_script(shell))
    sys.stdout.flush()


def _make_shell_command(shell: str) -> None:
    def command() -> None:
        _print_script(shell)

    command.__doc__ = f"Print the {shell} completion script. Install it with: {INSTALL_HINTS[shell]}"
    completion_app.command(shell)(command)


for _shell in SCRIPTS:
    _make_shell_command(_shell)


def user_script_path(shell: str) -> Path:
    """Where a user's shell loads geode's completion from without further setup (zsh: see the hint)."""
    home = Path.home()
    data = Path(os.environ.get("XDG_DATA_HOME") or home / ".local" / "share")
    config = Path(os.environ.get("XDG_CONFIG_HOME") or home / ".config")
    return {"bash": data / "bash-completion" / "completions" / "geode", "zsh": home / ".zfunc" / "_geode",
            "fish": config / "fish" / "completions" / "geode.fish"}[shell]


@completion_app.command("install")
def install(
    shell: Annotated[Optional[str], typer.Argument(
        metavar="[SHELL]", help="bash, zsh or fish (default: the login shell, $SHELL).", show_default=False)] = None,
) -> None:
    """Install the completion script for your shell where it loads it (works for editable installs too):
    bash ~/.local/share/bash-completion/completions/geode, zsh ~/.zfunc/_geode, fish
    ~/.config/fish/completions/geode.fish. Open a new shell afterwards."""
    from geode.errors import UsageError

    shell = (shell or Path(os.environ.get("SHELL") or "bash").name).lower()
    if shell not in SCRIPTS:
        raise UsageError(f"unknown shell {shell!r}: bash, zsh or fish")
    target = user_script_path(shell)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(read_script(shell), encoding="utf-8")
    except OSError as exc:
        raise GeodeError(f"cannot write {target}: {exc.strerror or exc}") from None
    from .console import notice

    notice(f"{shell} completion installed in {target}; open a new shell to use it")
    if shell == "zsh":
        notice("zsh: put 'fpath=(~/.zfunc $fpath)' before 'compinit' in ~/.zshrc")


@completion_app.command("stations", hidden=True)
def stations(ctx: typer.Context) -> None:
    """Station codes (net.stn, net.all) for the completion scripts; prints nothing if the database is not up."""
    from .context import app_context

    print_codes("stations", app_context(ctx).config_file)


@completion_app.command("networks", hidden=True)
def networks(ctx: typer.Context) -> None:
    """Network codes for the completion scripts; prints nothing if the database is not up."""
    from .context import app_context

    print_codes("networks", app_context(ctx).config_file)


def register(app: typer.Typer) -> None:
    app.add_typer(completion_app, name="completion")
