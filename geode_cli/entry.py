"""Console-script entry point.

A TAB on a station argument runs ``geode completion stations``; answering it here, before Typer and the
command tree are imported, keeps completion well under the 0.3 s a user notices. Everything else goes to
the Typer app, built only as far as this command line needs (``only_named_groups``).
"""

from __future__ import annotations

import os
import sys

COMPLETION_HELPERS = ("stations", "networks")


def run() -> None:
    args = sys.argv[1:]
    if len(args) == 2 and args[0] == "completion" and args[1] in COMPLETION_HELPERS:
        from .completion_codes import print_codes

        print_codes(args[1], os.environ.get("GEODE_CONFIG") or None)
        return
    import signal

    from geode.errors import Terminated

    def terminate(signum, frame):  # what timeout, systemd and SLURM send: cancel like Ctrl-C, exit 143
        raise Terminated

    signal.signal(signal.SIGTERM, terminate)
    from .main import app

    # what main.run() does (app()), on a copy of the app built only as far as this command line needs; the full
    # app stays as it is for commands that run another command in this process (geode runs resume)
    only_named_groups(app, args)()


def only_named_groups(app, args: list[str]):
    """A copy of ``app`` keeping the command groups this command line names (any argument equal to a group's
    name); the others keep their name and help only. Typer inspects every command's signature and annotations
    when it builds the click tree, a third of ``geode --help``'s start-up, and one invocation runs one command.
    ``geode --help`` lists the same groups with the same help. ``app`` itself is left whole: tests, man pages,
    completions and in-process re-invocations build the whole tree from it."""
    import copy

    named = set(args)
    pruned = copy.copy(app)
    pruned.registered_groups = []
    for info in app.registered_groups:
        if info.name not in named and info.typer_instance is not None:
            hollow = copy.copy(info.typer_instance)
            hollow.registered_commands, hollow.registered_groups = [], []
            info = copy.copy(info)
            info.typer_instance = hollow
        pruned.registered_groups.append(info)
    return pruned
