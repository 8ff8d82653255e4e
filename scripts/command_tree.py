"""The `geode` command tree as plain data, read from the real Typer app.

Both generators (completions, man pages) render this model, so they cannot disagree about which commands and
options exist. ``build_tree`` takes any Click command, which lets the drift tests feed it a modified copy.
"""

from __future__ import annotations

import enum
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path, PurePath
from typing import Any

# parameters completed from the database (geode completion stations/networks), by name or metavar
STATION_PARAMS = {"stations", "station", "station_list", "stn", "net.stn", "source", "destination"}
NETWORK_PARAMS = {"network", "networks", "net"}


@dataclass(frozen=True)
class Option:
    names: tuple[str, ...]  # every spelling that sets it: ("--config", "-c")
    negations: tuple[str, ...]  # the off switch of --x/--no-x flags
    takes_value: bool
    help: str
    envvars: tuple[str, ...]
    default: str | None  # as shown to the user; None when there is nothing worth showing
    metavar: str
    kind: str  # "" (flag), "choice", "file", "dir", "stations", "networks", "text"
    choices: tuple[str, ...] = ()
    required: bool = False
    repeatable: bool = False

    @property
    def all_names(self) -> tuple[str, ...]:
        return self.names + self.negations


@dataclass(frozen=True)
class Argument:
    name: str
    metavar: str
    help: str
    required: bool
    variadic: bool
    kind: str
    choices: tuple[str, ...] = ()


@dataclass
class Node:
    path: tuple[str, ...]  # () is the root command
    help: str
    short_help: str  # for completion menus (at most 90 characters)
    summary: str  # the whole first sentence, for man pages
    options: list[Option]
    arguments: list[Argument]
    children: list["Node"] = field(default_factory=list)
    is_group: bool = False  # a group with no children is a placeholder whose commands have not landed

    @property
    def name(self) -> str:
        return " ".join(("geode",) + self.path)

    @property
    def page(self) -> str:
        """Man page name: geode, geode-gamit, geode-gamit-run."""
        return "-".join(("geode",) + self.path)

    def walk(self):
        yield self
        for child in self.children:
            yield from child.walk()

    @property
    def value_options(self) -> list[str]:
        return [n for o in self.options if o.takes_value for n in o.names]

    @property
    def option_names(self) -> list[str]:
        return [n for o in self.options for n in o.all_names]


def first_sentence(text: str, limit: int = 90) -> str:
    """A one-line description for completion menus."""
    line = " ".join(text.replace("\x08", "").strip().split("\n\n")[0].split())
    cut = line.find(". ")
    line = line[:cut] if cut > 0 else line.rstrip(".")
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"


def load_root():
    """The real command tree; a fresh Click object on every call, so callers may modify it."""
    import typer

    from geode_cli.main import app

    return typer.main.get_command(app)


def build_tree(command, path: tuple[str, ...] = (), parent_ctx=None) -> Node:
    ctx = command.context_class(command, info_name=path[-1] if path else "geode", parent=parent_ctx,
                                **(command.context_settings or {}))
    options, arguments = [], []
    for param in command.get_params(ctx):  # includes -h/--help with the names the root configured
        if getattr(param, "hidden", False):
            continue
        if param.param_type_name == "option":
            options.append(_option(param))
        elif param.param_type_name == "argument":
            arguments.append(_argument(param))
    node = Node(path=path, help=_clean(command.help or ""), short_help=_short_help(command),
                summary=first_sentence(command.short_help or _clean(command.help or ""), limit=1000),
                options=options, arguments=arguments, is_group=hasattr(command, "list_commands"))
    if node.is_group:
        for name in command.list_commands(ctx):
            child = command.get_command(ctx, name)
            if child is None or getattr(child, "hidden", False):
                continue
            node.children.append(build_tree(child, path + (name,), ctx))
    return node


def _clean(text: str) -> str:
    """Help text with Click's \\b marker (a paragraph not to be rewrapped) kept for the man pages."""
    return "\n".join(line.rstrip() for line in text.splitlines()).strip()


def _short_help(command) -> str:
    return first_sentence(command.short_help or _clean(command.help or ""))


def _kind(param) -> tuple[str, tuple[str, ...]]:
    name = (param.name or "").lower()
    metavar = (param.metavar or "").upper()
    if name in STATION_PARAMS or metavar.lower() in STATION_PARAMS:
        return "stations", ()
    if name in NETWORK_PARAMS or metavar.lower() in NETWORK_PARAMS:
        return "networks", ()
    desc = getattr(param, "type_descriptor", None)  # Typer parameters; Click's own (--help) have .type
    if desc is not None and desc.is_choice:
        return "choice", tuple(_plain(c) for c in desc.choices)
    if desc is None and getattr(getattr(param, "type", None), "choices", None):
        return "choice", tuple(_plain(c) for c in param.type.choices)
    if desc is not None and (desc.is_path or desc.is_file):
        info = desc.parameter_info
        if getattr(info, "dir_okay", True) and not getattr(info, "file_okay", True):
            return "dir", ()
        return "file", ()
    if metavar in ("DIR", "DIRECTORY", "FOLDER"):  # str-typed paths, named by their metavar
        return "dir", ()
    if metavar in ("FILE", "PATH", "CFG", "CONFIG"):
        return "file", ()
    return "text", ()


_TYPE_LABELS = {"int": "INTEGER", "float": "FLOAT", "Path": "PATH", "datetime": "DATETIME"}


def _option(param) -> Option:
    takes_value = not (param.is_flag or getattr(param, "count", False))
    found = _kind(param)  # flags have no value kind, but their metavar is still derived from it
    kind, choices = found if takes_value else ("", ())
    envvar = param.envvar
    envvars = tuple(envvar) if isinstance(envvar, (list, tuple)) else ((envvar,) if envvar else ())
    return Option(
        names=tuple(sorted(param.opts, key=lambda n: (not n.startswith("--"), n))),
        negations=tuple(param.secondary_opts), takes_value=takes_value, help=_clean(param.help or ""),
        envvars=envvars, default=_default(param), metavar=_metavar(param, *found), kind=kind, choices=choices,
        required=bool(param.required), repeatable=bool(getattr(param, "multiple", False)),
    )


def _argument(param) -> Argument:
    kind, choices = _kind(param)
    return Argument(name=param.name or "", metavar=_metavar(param, kind, choices),
                    help=_clean(getattr(param, "help", "") or ""), required=bool(param.required),
                    variadic=param.nargs == -1, kind=kind, choices=choices)


def _metavar(param, kind: str, choices: tuple[str, ...]) -> str:
    """The value's placeholder; ``kind, choices`` are ``_kind(param)``, computed once by the caller."""
    if param.metavar:
        return param.metavar
    if param.param_type_name == "argument":
        return (param.name or "").upper()
    if kind == "choice":
        return "[" + "|".join(choices) + "]"
    if kind in ("file", "dir"):
        return "PATH"
    desc = getattr(param, "type_descriptor", None)
    annotation = getattr(desc, "annotation", str)
    return _TYPE_LABELS.get(getattr(annotation, "__name__", ""), "TEXT")


def _default(param) -> str | None:
    """What a reader should see as the default; host-dependent or empty defaults are left out."""
    show = getattr(param, "show_default", None)
    if show is False:
        return None
    if isinstance(show, str):
        return show
    value: Any = param.default
    if callable(value) or value is None or value == () or value == [] or value == "":
        return None
    if getattr(param, "is_flag", False):
        if not value:
            return None
        return param.opts[0]
    if getattr(param, "count", False) and not value:
        return None
    if isinstance(value, (list, tuple)):
        return ", ".join(_plain(v) for v in value)
    return _plain(value)


def _plain(value: Any) -> str:
    if isinstance(value, enum.Enum):
        value = value.value
    if isinstance(value, PurePath):
        value = str(value)
    text = str(value)
    for prefix, shown in _host_paths():  # generated files must not depend on who builds them, or where
        if prefix and (text == prefix or text.startswith(prefix + os.sep)):
            return shown + text[len(prefix):]
    return text


def _host_paths() -> list[tuple[str, str]]:
    import platformdirs

    from geode.config import APP_NAME, user_config_file, user_data_dir

    paths = [
        (str(user_data_dir()), "~/.local/share/geode"),
        (str(user_config_file().parent), "~/.config/geode"),
        (platformdirs.user_cache_dir(APP_NAME, appauthor=False), "~/.cache/geode"),  # geode.config has no helper
        (os.getcwd(), "."),
        (os.path.expanduser("~"), "~"),
    ]
    return [(p, shown) for p, shown in paths if p not in ("", "/")]


# ------------------------------------------------------------------------------------------------------------
# writing the generated files (shared by both generators)


def stale_files(rendered: dict[str, str], directory: Path, orphans: str | None = None) -> list[str]:
    """Names whose committed content differs from a fresh generation (missing files count as stale).

    With ``orphans`` (a glob), committed files matching it that nothing generates any more are stale too.
    """
    changed = {name for name, text in rendered.items()
               if not (directory / name).is_file() or (directory / name).read_text(encoding="utf-8") != text}
    committed = {p.name for p in directory.glob(orphans)} if orphans and directory.is_dir() else set()
    return sorted(changed | (committed - set(rendered)))


def write_or_check(argv: list[str], rendered: dict[str, str], directory: Path, script: str, *,
                   orphans: str | None = None, removable: str | None = None, summary: str | None = None) -> int:
    """A generator's main: with --check, name the stale files and return 1; otherwise write every file.

    ``orphans`` is passed to ``stale_files``; files matching ``removable`` that nothing generates are deleted
    (a command was removed or renamed). ``summary`` replaces the line per written file.
    """
    label = directory.name  # as the messages show it: completions/..., man/...
    if "--check" in argv:
        stale = stale_files(rendered, directory, orphans)
        for name in stale:
            print(f"{label}/{name} is out of date: run python3 {script}", file=sys.stderr)
        return 1 if stale else 0
    directory.mkdir(exist_ok=True)
    if removable:
        for old in set(p.name for p in directory.glob(removable)) - set(rendered):
            (directory / old).unlink()
            print(f"removed {label}/{old}", file=sys.stderr)
    for name, text in rendered.items():
        (directory / name).write_text(text, encoding="utf-8")
        if summary is None:
            print(f"wrote {label}/{name}", file=sys.stderr)
    if summary is not None:
        print(summary, file=sys.stderr)
    return 0
