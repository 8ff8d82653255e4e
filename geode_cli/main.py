"""The root ``geode`` command: global options, the error boundary, and the subcommand groups.

Nothing heavy is imported here: ``geode --help`` and shell completion must stay fast, so numpy, scipy,
matplotlib, celery and psycopg2 load only inside the commands that use them.
"""

from __future__ import annotations

import importlib
import os
import sys
from typing import Annotated, Any, Optional

import typer
from typer.core import TyperGroup

from geode.errors import ExitCode, GeodeError, Terminated, first_line

from . import console
from .context import AppContext

# one module per subcommand group; each exposes register(app)
COMMAND_MODULES = [
    "geode_cli.gamit", "geode_cli.stack", "geode_cli.dra", "geode_cli.kml", "geode_cli.scan",
    "geode_cli.download", "geode_cli.worker", "geode_cli.doctor", "geode_cli.db", "geode_cli.config_cmd",
    "geode_cli.example", "geode_cli.completion", "geode_cli.runs", "geode_cli.station", "geode_cli.man",
]

_PREVIOUS_CONFIG = "geode.previous_config"  # ctx.meta key: GEODE_CONFIG before root() set it
RESUME_OPTION = "--resume-run"


class GeodeGroup(TyperGroup):
    """Maps library errors to the exit-code table at the one boundary: one line on stderr, no traceback.

    Usage errors (Click's) are one line too, exit 2: 'geode: error: stack run: missing option ...'.
    The exit code also ends the command's run in the run history."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):  # type: ignore[override]
        global _argv
        _argv = list(sys.argv[1:] if args is None else args)
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        from .command import click_exceptions, usage_line

        exceptions = click_exceptions()
        try:
            code = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except exceptions.ClickException as exc:
            console.error(usage_line(exc))
            sys.exit(exc.exit_code)
        except exceptions.Abort:
            console.error("aborted")
            sys.exit(int(ExitCode.FAILURE))
        sys.exit(code if isinstance(code, int) else 0)

    def invoke(self, ctx):  # type: ignore[override]
        code, message, shown = ExitCode.OK, "", False
        try:
            return super().invoke(ctx)
        except GeodeError as exc:
            code, message, shown = exc.exit_code, str(exc), True
            _debug_traceback(ctx)
            raise typer.Exit(int(code)) from None
        except KeyboardInterrupt as exc:
            terminated = isinstance(exc, Terminated)
            code = ExitCode.TERMINATED if terminated else ExitCode.INTERRUPTED
            message, shown = "terminated (SIGTERM)" if terminated else "interrupted", True
            raise typer.Exit(int(code)) from None
        except typer.Exit as exc:
            code = exc.exit_code
            raise
        except typer.Abort:
            code = ExitCode.FAILURE
            raise
        except BrokenPipeError:  # `geode ... | head`: the reader has what it wanted; say nothing more
            _silence_stdout()
            raise typer.Exit(int(ExitCode.FAILURE)) from None
        except Exception as exc:
            code = ExitCode.FAILURE
            if _is_click_exception(exc):
                code = getattr(exc, "exit_code", ExitCode.USAGE)
                raise
            from geode.db.live import connection_lost

            if connection_lost(exc):  # the server went away under the command (a restart, `geode db stop`)
                code = ExitCode.UNAVAILABLE
                message = f"lost the database connection: {first_line(exc)}"
            else:
                message = f"unexpected {type(exc).__name__}: {exc} (run with --debug for the traceback)"
            if _debug(ctx):
                raise
            shown = True
            raise typer.Exit(int(code)) from None
        finally:
            obj = ctx.obj
            if isinstance(obj, AppContext):
                obj.close(int(code), message)
            if shown:  # after the run history's own warnings: the error is the last line
                console.error(message)
            _restore_config_env(ctx)


def _silence_stdout() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # not a real file (test runners)
        pass


_argv: list[str] = []  # the arguments of the invocation being parsed (GeodeGroup.main)



def _restore_config_env(ctx) -> None:
    """Undo root()'s GEODE_CONFIG, so a later invocation in the same process (tests) does not inherit --config."""
    if _PREVIOUS_CONFIG not in ctx.meta:
        return
    previous = ctx.meta.pop(_PREVIOUS_CONFIG)
    if previous is None:
        os.environ.pop("GEODE_CONFIG", None)
    else:
        os.environ["GEODE_CONFIG"] = previous


def _is_click_exception(exc: BaseException) -> bool:
    return any(c.__name__ in ("ClickException", "Exit", "Abort") for c in type(exc).__mro__)


def _debug(ctx) -> bool:
    obj = ctx.obj
    return bool(getattr(obj, "debug", False)) or os.environ.get("GEODE_DEBUG", "") not in ("", "0")


def _debug_traceback(ctx) -> None:
    if _debug(ctx):
        import traceback

        traceback.print_exc(file=sys.stderr)


app = typer.Typer(
    name="geode",
    cls=GeodeGroup,
    help="GeoDE: manage a GNSS network (stations, station information, RINEX archive) in PostgreSQL and drive "
         "GAMIT/GLOBK processing and time-series analysis, inline or on Celery workers.",
    no_args_is_help=True,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if not value:
        return
    from geode.versions import version_report

    for name, version in version_report().items():
        sys.stdout.write(f"{name} {version}\n")
    raise typer.Exit(0)


@app.callback()
def root(
    ctx: typer.Context,
    config: Annotated[Optional[str], typer.Option(
        "--config", "-c", envvar="GEODE_CONFIG", metavar="FILE",
        help="Configuration file (TOML or GeoDE INI), read after ./gnss_data.cfg and ./geode.toml.",
        show_envvar=True)] = None,
    parallel: Annotated[Optional[bool], typer.Option(
        "--parallel/--noparallel", envvar="GEODE_PARALLEL",
        help="Run units on Celery workers (--parallel) or in this process (--noparallel). Default: "
             "[jobs] parallel, else [archive] parallel, else inline.",
        show_envvar=True, show_default=False)] = None,
    verbose: Annotated[int, typer.Option(
        "--verbose", "-v", count=True, envvar="GEODE_VERBOSE",
        help="More detail on stderr (repeat for more).", show_envvar=True)] = 0,
    quiet: Annotated[bool, typer.Option(
        "--quiet", "-q", envvar="GEODE_QUIET", help="Only warnings and errors on stderr; no progress bars.",
        show_envvar=True)] = False,
    json_: Annotated[bool, typer.Option(
        "--json", envvar="GEODE_JSON", help="Machine-readable JSON on stdout where a command supports it.",
        show_envvar=True)] = False,
    debug: Annotated[bool, typer.Option(
        "--debug", envvar="GEODE_DEBUG", help="Show tracebacks for errors.",
        show_envvar=True)] = False,
    version: Annotated[bool, typer.Option(
        "--version", callback=_version, is_eager=True,
        help="Print the versions of geode, Python, the PostgreSQL server (if reachable) and Celery.")] = False,
    resume_run: Annotated[Optional[int], typer.Option(
        RESUME_OPTION, hidden=True, help="Continue this run of the run history (set by `geode runs resume`).")] = None,
) -> None:
    console.setup_logging(verbose, quiet)
    if config:  # inline tasks read settings themselves (as workers do): let them see the same file
        ctx.meta[_PREVIOUS_CONFIG] = os.environ.get("GEODE_CONFIG")
        os.environ["GEODE_CONFIG"] = config
    ctx.obj = AppContext(config_file=config, parallel=parallel, verbose=verbose, quiet=quiet, json=json_,
                         debug=debug, argv=_without_resume(_argv), resume_run=resume_run)


def _without_resume(argv: list[str]) -> list[str]:
    """The command line to keep for a later resume: without the resume option itself."""
    out, skip = [], False
    for arg in argv:
        if skip:
            skip = False
        elif arg == RESUME_OPTION:
            skip = True
        elif not arg.startswith(RESUME_OPTION + "="):
            out.append(arg)
    return out


def _register_all() -> None:
    from .command import install

    for module in COMMAND_MODULES:
        importlib.import_module(module).register(app)
    install(app)


_register_all()


def run() -> Any:
    """Console-script entry point."""
    return app()
