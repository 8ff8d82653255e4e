"""The command-tree model both generators render: kinds, defaults, env vars, read from a small Typer app."""

from __future__ import annotations

import enum
from pathlib import Path
from typing import Annotated, Optional

import pytest
import typer


class Mode(str, enum.Enum):
    fast = "fast"
    careful = "careful"


def sample_app() -> typer.Typer:
    app = typer.Typer(context_settings={"help_option_names": ["-h", "--help"]})
    tools = typer.Typer(help="Tools.")

    @tools.command("fit")
    def fit(
        stations: Annotated[Optional[list[str]], typer.Argument(help="Stations to fit.")] = None,
        mode: Annotated[Mode, typer.Option(help="How hard to try.")] = Mode.careful,
        iterations: Annotated[int, typer.Option("--iterations", "-n", envvar="SAMPLE_ITER", help="Iterations.")] = 4,
        out: Annotated[Optional[Path], typer.Option(help="Output file.")] = None,
        folder: Annotated[Optional[Path], typer.Option(file_okay=False, help="A folder.")] = None,
        network: Annotated[Optional[str], typer.Option(help="Network code.")] = None,
        secret: Annotated[bool, typer.Option(hidden=True)] = False,
    ) -> None:
        """Fit trajectories. A second sentence."""

    @tools.command("hidden-one", hidden=True)
    def hidden_one() -> None:
        """Not shown."""

    app.add_typer(tools, name="tools")

    @app.callback()
    def root(verbose: Annotated[int, typer.Option("--verbose", "-v", count=True)] = 0) -> None:
        """Sample root."""

    return app


@pytest.fixture
def sample(command_tree):
    return command_tree.build_tree(typer.main.get_command(sample_app()))


def test_tree_shape_hides_hidden_things(sample):
    assert [n.page for n in sample.walk()] == ["geode", "geode-tools", "geode-tools-fit"]
    fit = sample.children[0].children[0]
    names = [o.names[0] for o in fit.options]
    assert "--secret" not in names and names[-1] == "--help"
    assert fit.options[-1].names == ("--help", "-h")  # the root's help names reach the subcommands
    assert fit.summary == "Fit trajectories"


def test_kinds_defaults_and_envvars(sample):
    fit = sample.children[0].children[0]
    opts = {o.names[0]: o for o in fit.options}
    assert (opts["--mode"].kind, opts["--mode"].choices, opts["--mode"].default) == ("choice", ("fast", "careful"),
                                                                                    "careful")
    assert (opts["--iterations"].default, opts["--iterations"].envvars, opts["--iterations"].metavar) == (
        "4", ("SAMPLE_ITER",), "INTEGER")
    assert opts["--out"].kind == "file" and opts["--folder"].kind == "dir" and opts["--network"].kind == "networks"
    assert opts["--out"].default is None
    [arg] = fit.arguments
    assert (arg.kind, arg.variadic, arg.required) == ("stations", True, False)
    verbose = sample.options[0]
    assert not verbose.takes_value and verbose.default is None


def test_renderers_use_the_kinds(sample, completions_gen, manpages_gen):
    bash = completions_gen.render_bash(sample)
    assert "'tools fit|--mode') echo 'choice fast careful'" in bash
    assert "'tools fit|#0') echo 'stations'" in bash
    assert "'tools fit|--network') echo 'networks'" in bash
    assert "hidden-one" not in bash
    fish = completions_gen.render_fish(sample)
    assert "-l mode -x -a 'fast careful'" in fish and "-a '(__geode_codes stations)'" in fish
    page = manpages_gen.render_page(sample.children[0].children[0], "9.9")
    assert "One of: fast, careful. Default: careful." in page
    assert "Default: 4. Environment: \\fBSAMPLE_ITER\\fR." in page
    assert ".SH ARGUMENTS" in page and "\\fISTATIONS\\fR..." in page


def test_host_paths_are_not_baked_into_defaults(command_tree, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert command_tree._plain(tmp_path / "out.kmz") == "./out.kmz"
    assert command_tree._plain(Path.home() / "x") == "~/x"
    assert command_tree._plain("/srv/archive") == "/srv/archive"
