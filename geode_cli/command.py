"""The command class of every `geode` command: station-list exclusions as arguments, readable placeholders,
and one-line usage errors.

* Exclusions. In a command that takes a station list, ``-igs.all``, ``-igs.lpgs``, ``-lpgs`` or ``-igs.p%``
  typed among the arguments are station-list items (removals), not options: GeoDE's documented form works
  without ``--``. A word is an exclusion when it starts with one ``-``, is not one of the command's options,
  and is not one of its short options with the value attached (``-d2024_100``; give that value with a space
  when it contains a dot). ``*igs.lpgs`` (quoted) and anything after ``--`` work too.
* Placeholders. Help shows ``PROJECT [STATIONS]...`` and ``TEXT``/``INTEGER`` instead of Typer's
  ``{project}``/``<list[str]>``/``<str>``.
* Usage errors (``usage_line``) are one line: ``stack run: missing option '--project' / '-p' (see 'geode stack
  run --help')``; the root group prints it as ``geode: error: ...`` and exits 2.
"""

from __future__ import annotations

import re
from typing import Any

from typer.core import TyperArgument, TyperCommand, TyperOption

STATION_ARGUMENTS = {"stations"}  # the variadic argument that takes the station-list grammar
_EXCLUSION = re.compile(r"-[A-Za-z0-9%_\[(][^\s]*", re.ASCII)

EXCLUSION_HELP = ("Exclusions can be typed among the arguments: -NET.STN, -NET.all, -STN, -PATTERN (or "
                  "'*NET.STN', or after --).")


def click_exceptions():
    """Click's exception module as Typer uses it (Typer >= 0.26 vendors Click)."""
    try:
        from typer._click import exceptions
    except ImportError:  # pragma: no cover - Typer < 0.26 uses the click package
        from click import exceptions
    return exceptions


def usage_line(exc: Any) -> str:
    """A Click usage error as one line: '<command path>: <message> (see '<command> --help')'."""
    message = " ".join(str(exc.format_message()).split())
    if message[:1].isupper() and not message[1:2].isupper():
        message = message[0].lower() + message[1:]
    message = message[:-1] if message.endswith(".") else message
    ctx = getattr(exc, "ctx", None)
    if ctx is None:
        return message
    path = ctx.command_path
    name = path.split(" ", 1)[1] if " " in path else ""
    return (f"{name}: " if name else "") + f"{message} (see '{path} --help')"


# --- placeholders ---------------------------------------------------------------------------------------------------

_LABELS = {"int": "INTEGER", "float": "FLOAT", "str": "TEXT", "bool": "BOOLEAN", "Path": "PATH"}


def _label(param) -> str:
    desc = getattr(param, "type_descriptor", None)
    if desc is not None and desc.is_choice:
        return "[" + "|".join(str(getattr(c, "value", c)) for c in desc.choices or ()) + "]"
    if desc is not None and desc.is_path:
        return "PATH"
    annotation = getattr(desc, "annotation", str)
    if getattr(desc, "is_list", False) or getattr(desc, "is_tuple", False):
        from typing import get_args

        args = get_args(annotation) or (str,)
        annotation = args[0]
    return _LABELS.get(getattr(annotation, "__name__", ""), "TEXT")


class GeodeArgument(TyperArgument):
    """Arguments shown as NAME / [NAME]... (Click's style), without a type next to them."""

    def _name(self) -> str:
        """The bare placeholder: the metavar without the [ ] and ... a metavar may carry, or the NAME."""
        return (self.metavar or (self.name or "").upper()).replace("...", "").strip("[]")

    def _usage_display_name(self) -> str:
        name = self._name()
        if not self.required:
            name = f"[{name}]"
        return name + ("..." if self.nargs != 1 else "")

    def _rich_display_name(self) -> str:
        return self._name() + ("..." if self.nargs != 1 else "")

    def display_type_rich(self, ctx) -> str | None:  # noqa: ARG002 - Typer's signature
        return None

    def get_error_hint(self, ctx=None) -> str:  # noqa: ARG002
        return f"'{self._name()}'"


class GeodeOption(TyperOption):
    """Options without a metavar show TEXT, INTEGER, FLOAT, PATH or the choices (not <str>, <int range>)."""

    def display_type_rich(self, ctx) -> str | None:
        if self.metavar is not None:
            return self.metavar
        label = _label(self)
        if self.nargs > 1:
            return " ".join([label] * self.nargs)
        return label


# --- the command ----------------------------------------------------------------------------------------------------

class GeodeCommand(TyperCommand):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for param in self.params:
            if type(param) is TyperArgument:
                param.__class__ = GeodeArgument
            elif type(param) is TyperOption:
                param.__class__ = GeodeOption

    @property
    def takes_stations(self) -> bool:
        return any(p.param_type_name == "argument" and p.nargs == -1 and p.name in STATION_ARGUMENTS
                   for p in self.params)

    def invoke(self, ctx):
        import os

        from geode.db import connection

        # pg_stat_activity names this process's connections (geode db stop lists them): 'geode worker start [pid]'
        names, node = [], ctx
        while node.parent is not None:
            names.append(node.info_name or "")
            node = node.parent
        connection.APPLICATION_NAME = f"geode {' '.join(reversed(names))} [{os.getpid()}]"
        return super().invoke(ctx)

    def parse_args(self, ctx, args: list[str]) -> list[str]:
        if self.takes_stations:
            args = move_exclusions(self, ctx, list(args))
        return super().parse_args(ctx, args)


def _option_arity(command, ctx) -> dict[str, int]:
    """Every spelling of the command's options -> how many values follow it (0 for flags)."""
    arity = {}
    for p in command.get_params(ctx):
        if p.param_type_name != "option":
            continue
        takes = 0 if (getattr(p, "is_flag", False) or getattr(p, "count", False)) else max(p.nargs, 1)
        for name in (*p.opts, *p.secondary_opts):
            arity[name] = takes
    return arity


def move_exclusions(command, ctx, args: list[str]) -> list[str]:
    """Station-list exclusions typed among the options (-igs.all) moved behind '--', in their order."""
    arity = _option_arity(command, ctx)
    out: list[str] = []
    moved: list[str] = []
    i = 0
    while i < len(args):
        word = args[i]
        if word == "--":
            out.extend(args[i:])
            break
        if word.startswith("--"):
            takes = arity.get(word.split("=", 1)[0], 0)
            count = 0 if "=" in word else takes
            out.extend(args[i:i + 1 + count])
            i += 1 + count
            continue
        if word.startswith("-") and len(word) > 1:
            if word in arity:
                out.extend(args[i:i + 1 + arity[word]])
                i += 1 + arity[word]
                continue
            attached = f"-{word[1]}" in arity and "." not in word
            if not attached and _EXCLUSION.fullmatch(word):
                moved.append(word)
                i += 1
                continue
        out.append(word)
        i += 1
    if not moved:
        return out
    if "--" in out:
        cut = out.index("--") + 1
        return out[:cut] + moved + out[cut:]
    return out + ["--"] + moved


def install(typer_app) -> None:
    """Make GeodeCommand the class of every command registered on ``typer_app`` and its sub-apps."""
    for info in typer_app.registered_commands:
        if info.cls is None or info.cls is TyperCommand:
            info.cls = GeodeCommand
    for group in typer_app.registered_groups:
        if group.typer_instance is not None:
            install(group.typer_instance)
