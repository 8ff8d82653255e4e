"""Credentials for a source host, looked up where users already keep them: a netrc file.

The file is ``[sources] netrc`` from the configuration (GEODE_SOURCES_NETRC), else $NETRC, else ~/.netrc.
A password that an existing GeoDE database holds in ``sources_servers.password`` still wins for its server,
so old setups keep working; geode itself never writes one there.
"""

from __future__ import annotations

import netrc
import os
from pathlib import Path

from ..errors import ConfigError


def netrc_path(configured: str | None = None) -> Path:
    if configured:
        return Path(configured).expanduser()
    if os.environ.get("NETRC"):
        return Path(os.environ["NETRC"]).expanduser()
    return Path.home() / ".netrc"


def lookup(host: str, netrc_file: str | None = None) -> tuple[str | None, str | None]:
    """(login, password) for ``host`` (or the file's ``default`` entry); (None, None) when there is none."""
    path = netrc_path(netrc_file)
    if not path.is_file():
        if netrc_file:
            raise ConfigError(f"netrc file {path} (from [sources] netrc) does not exist")
        return None, None
    try:
        entry = netrc.netrc(str(path)).authenticators(host)
    except (netrc.NetrcParseError, OSError) as exc:
        # NetrcParseError also covers a ~/.netrc readable by others; say which file, never its content
        msg = getattr(exc, "msg", None) or str(exc)
        raise ConfigError(f"cannot use netrc file {path}: {msg}") from None
    if not entry:
        return None, None
    login, _account, password = entry
    return login or None, password or None


def resolve(host: str, username: str | None, legacy_password: str | None,
            netrc_file: str | None) -> tuple[str | None, str | None]:
    """The (user, password) to log in with: the table's user and legacy password, completed from netrc."""
    if legacy_password:
        return username, legacy_password
    login, password = lookup(host, netrc_file)
    if username and login and login != username:
        return username, None  # the netrc entry is for someone else
    return username or login, password
