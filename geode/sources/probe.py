"""``geode download sources test``: can we reach and log in to a server, and does its template find a file?"""

from __future__ import annotations

import tempfile
from pathlib import Path

from ..dates import GnssDate, parse_date
from ..stations import select_stations, station_rows
from . import catalog, credentials, templates, validate
from .protocols import NotFound, TransferError, open_client


def probe_server(db, server: str, *, station: str | None = None, date: str | None = None, timeout: float = 20.0,
                 netrc: str | None = None) -> dict:
    srv = catalog.get_server(db, server)
    checks: list[tuple[str, str]] = []
    out = {"server": f"{srv.server_id}: {srv.protocol.lower()}://{srv.fqdn}", "ok": False, "checks": checks}
    host, port = srv.host, srv.port
    user, password = credentials.resolve(host, srv.username, catalog.legacy_password(db, srv.server_id)
                                         if srv.has_password else None, netrc)
    checks.append(("credentials", f"user {user}, password from {'database' if srv.has_password else 'netrc'}"
                   if password else (f"user {user}, no password" if user else "anonymous")))
    try:
        client = open_client(srv.protocol, host, port, user, password, timeout)
    except TransferError as exc:
        checks.append(("connect", f"failed: {exc}"))
        return out
    checks.append(("connect", f"ok ({host} port {port})"))
    try:
        if station:
            ref = select_stations(db, [station])[0]
            row = station_rows(db, [ref])[0]
            day = parse_date(date) if date else GnssDate.today() - 2
            entry = next((s for s in catalog.station_sources(db, ref) if s.server.server_id == srv.server_id), None)
            template = entry.path if entry else (srv.path or "")
            path = templates.expand(template, day, ref.network, ref.code, row.get("marker"), row.get("country_code"))
            with tempfile.TemporaryDirectory() as tmp:
                target = Path(tmp) / (Path(path).name or "file")
                try:
                    with open(target, "wb") as fh:
                        size = client.fetch(path, fh)
                except (NotFound, TransferError) as exc:
                    checks.append(("fetch", f"{srv.url(path)}: {exc}"))
                    return out
                why = validate.rejection(target)
                checks.append(("fetch", f"{srv.url(path)}: {size} bytes, "
                                        + (f"rejected: {why}" if why else "valid RINEX")))
                if why:
                    return out
    finally:
        client.close()
    out["ok"] = True
    return out
