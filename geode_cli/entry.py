"""Console-script entry point.

A TAB on a station argument runs ``geode completion stations``; answering it here, before Typer and the
command tree are imported, keeps completion well under the 0.3 s a user notices. Everything else goes to
the Typer app.
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
    from .main import run as run_app

    run_app()
