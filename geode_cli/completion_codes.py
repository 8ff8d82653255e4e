"""Station and network codes for the shell completion scripts (``geode completion stations|networks``).

Kept free of Typer so the console script can answer a TAB without building the command tree
(``geode_cli.entry``): completion must feel instant.
"""

from __future__ import annotations

import sys

from geode.errors import GeodeError

LOOKUP_TIMEOUT = 2  # seconds; libpq's minimum connect_timeout


def codes(kind: str, config_file: str | None = None) -> list[str]:
    """Station ('net.stn' and 'net.all') or network codes for completion; [] whenever that is not cheap.

    The embedded server is only used if it is already running, and a configured server gets a short
    connection timeout: a TAB press must never start PostgreSQL or wait for an unreachable host.
    """
    from geode.config import load_settings
    from geode.db import open_database, resolve_target
    from geode.db.embedded import running_target

    try:
        settings = load_settings(config_file, {"postgres.connect_timeout": LOOKUP_TIMEOUT})
        if running_target(resolve_target(settings)) is None:
            return []
        db = open_database(settings, migrate=False)
    except GeodeError:
        return []
    import psycopg2

    try:
        from geode.stations import select_stations

        refs = select_stations(db, ["all"], allow_empty=True)
    except (GeodeError, psycopg2.Error):  # e.g. a database without GeoDE's tables yet
        return []
    finally:
        db.close()
    networks = sorted({ref.network for ref in refs})
    if kind == "networks":
        return networks
    return sorted([str(ref) for ref in refs] + [f"{net}.all" for net in networks])


def print_codes(kind: str, config_file: str | None = None) -> None:
    sys.stdout.write("".join(f"{code}\n" for code in codes(kind, config_file)))
