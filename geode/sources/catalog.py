"""The sources tables (GeoDE's names): ``sources_servers`` (one server, its protocol and default path
template), ``sources_formats`` (format script names; DEFAULT_FORMAT = none) and ``sources_stations`` (each
station's ordered list of servers, ``try_order``, with optional path/format overrides).

Passwords are not written by geode (they belong in ~/.netrc); a password an existing GeoDE database already
holds is still used, and is masked wherever a server is shown.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..config import MASK
from ..errors import GeodeError, UsageError
from ..stations import StationRef
from . import templates

PROTOCOLS = ("FTP", "FTPA", "FTPS", "SFTP", "HTTP", "HTTPS")
DEFAULT_PORTS = {"FTP": 21, "FTPA": 21, "FTPS": 21, "SFTP": 22, "HTTP": 80, "HTTPS": 443}
DEFAULT_FORMAT = "DEFAULT_FORMAT"


def split_fqdn(fqdn: str, protocol: str) -> tuple[str, int]:
    """``host[:port]`` → (host, port); the protocol's port when none is given.

    GeoDE returned ``int(port[1])`` (the second character), so ``host:2121`` meant port 1."""
    text = (fqdn or "").strip()
    if not text:
        raise UsageError("empty server name")
    if text.startswith("["):  # [ipv6]:port
        host, _, rest = text[1:].partition("]")
        port_text = rest[1:] if rest.startswith(":") else ""
    elif text.count(":") == 1:
        host, port_text = text.split(":")
    else:
        host, port_text = text, ""
    if not host:
        raise UsageError(f"server {fqdn!r}: no host name")
    if not port_text:
        return host, DEFAULT_PORTS[protocol.upper()]
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise UsageError(f"server {fqdn!r}: port {port_text!r} is not a number from 1 to 65535")
    return host, int(port_text)


def display_url(protocol: str, fqdn: str, path: str) -> str:
    """The URL shown and stored for a file: never with credentials (geode.config.mask_url, the one masking
    function, removes any that a server name carries)."""
    from ..config import mask_url

    scheme = {"FTPA": "ftp"}.get(protocol.upper(), protocol.lower())
    return mask_url(f"{scheme}://{fqdn}{path if path.startswith('/') else '/' + path}")


@dataclass(frozen=True)
class Server:
    server_id: int
    protocol: str  # upper case
    fqdn: str
    username: str | None
    path: str | None
    format: str
    has_password: bool = False  # a legacy password in the table (never carried around)

    @property
    def host(self) -> str:
        return split_fqdn(self.fqdn, self.protocol)[0]

    @property
    def port(self) -> int:
        return split_fqdn(self.fqdn, self.protocol)[1]

    def url(self, path: str) -> str:
        return display_url(self.protocol, self.fqdn, path)

    def shown(self) -> dict:
        return {"server_id": self.server_id, "protocol": self.protocol, "fqdn": self.fqdn,
                "username": self.username, "password": MASK if self.has_password else None,
                "path": self.path, "format": self.format}


@dataclass(frozen=True)
class StationSource:
    """One entry of a station's source list, with the server's defaults applied."""

    try_order: int
    server: Server
    path: str
    format: str


_SERVER_COLS = ("server_id, upper(protocol) AS protocol, fqdn, username, path, format, "
                "(password IS NOT NULL AND password <> '') AS has_password")


def _server(row: dict) -> Server:
    return Server(row["server_id"], row["protocol"], row["fqdn"], row["username"], row["path"],
                  row["format"] or DEFAULT_FORMAT, bool(row["has_password"]))


def servers(db) -> list[Server]:
    return [_server(r) for r in db.query(f"SELECT {_SERVER_COLS} FROM sources_servers ORDER BY server_id")]


def get_server(db, server: str | int) -> Server:
    """A server by id or by fqdn (which must then be unique)."""
    text = str(server).strip()
    if text.isdigit():
        rows = db.query(f"SELECT {_SERVER_COLS} FROM sources_servers WHERE server_id = %s", (int(text),))
    else:
        rows = db.query(f"SELECT {_SERVER_COLS} FROM sources_servers WHERE fqdn = %s ORDER BY server_id", (text,))
    if not rows:
        raise UsageError(f"no source server {text!r} (see 'geode download sources list')")
    if len(rows) > 1:
        raise UsageError(f"{len(rows)} servers are named {text!r}; give the server id instead")
    return _server(rows[0])


def legacy_password(db, server_id: int) -> str | None:
    row = db.query_one("SELECT password FROM sources_servers WHERE server_id = %s", (server_id,))
    return (row or {}).get("password") or None


def _check_format(db, fmt: str | None) -> None:
    if fmt and not db.query_one("SELECT 1 AS x FROM sources_formats WHERE format = %s", (fmt,)):
        raise UsageError(f"unknown format {fmt!r}; add it first with 'geode download sources add-format {fmt}'")


def add_format(db, fmt: str) -> bool:
    if not fmt.strip():
        raise UsageError("empty format name")
    return db.execute("INSERT INTO sources_formats (format) VALUES (%s) ON CONFLICT (format) DO NOTHING",
                      (fmt.strip(),)) > 0


def add_server(db, protocol: str, fqdn: str, path: str, *, username: str | None = None,
               fmt: str = DEFAULT_FORMAT) -> Server:
    proto = protocol.strip().upper()
    if proto not in PROTOCOLS:
        raise UsageError(f"unknown protocol {protocol!r}; expected one of {', '.join(p.lower() for p in PROTOCOLS)}")
    split_fqdn(fqdn, proto)
    templates.check(path)
    _check_format(db, fmt)
    row = db.query_one("INSERT INTO sources_servers (protocol, fqdn, username, path, format) "
                       "VALUES (%s, %s, %s, %s, %s) RETURNING server_id", (proto, fqdn.strip(), username, path, fmt))
    return get_server(db, row["server_id"])


def remove_server(db, server: str | int) -> Server:
    srv = get_server(db, server)
    used = db.query("SELECT \"NetworkCode\" || '.' || \"StationCode\" AS stn FROM sources_stations "
                    "WHERE server_id = %s ORDER BY 1", (srv.server_id,))
    if used:
        names = ", ".join(r["stn"] for r in used[:5]) + (" ..." if len(used) > 5 else "")
        raise GeodeError(f"server {srv.server_id} ({srv.fqdn}) is still a source of {len(used)} station(s): "
                         f"{names}; remove those first")
    db.execute("DELETE FROM sources_servers WHERE server_id = %s", (srv.server_id,))
    return srv


def station_sources(db, ref: StationRef) -> list[StationSource]:
    rows = db.query(
        "SELECT st.try_order, COALESCE(st.path, sv.path) AS eff_path, COALESCE(st.format, sv.format) AS eff_format, "
        "sv.server_id, upper(sv.protocol) AS protocol, sv.fqdn, sv.username, sv.path, sv.format, "
        "(sv.password IS NOT NULL AND sv.password <> '') AS has_password "
        "FROM sources_stations st JOIN sources_servers sv USING (server_id) "
        'WHERE st."NetworkCode" = %s AND st."StationCode" = %s ORDER BY st.try_order', (ref.network, ref.code))
    return [StationSource(r["try_order"], _server(r), r["eff_path"] or "", r["eff_format"] or DEFAULT_FORMAT)
            for r in rows]


def add_station_source(db, ref: StationRef, server: str | int, *, try_order: int | None = None,
                       path: str | None = None, fmt: str | None = None) -> StationSource:
    srv = get_server(db, server)
    if path:
        templates.check(path)
    elif not srv.path:
        raise UsageError(f"server {srv.server_id} has no path template; give --path")
    _check_format(db, fmt)
    with db.transaction() as cur:
        if try_order is None:
            cur.execute('SELECT COALESCE(max(try_order), 0) + 1 AS n FROM sources_stations '
                        'WHERE "NetworkCode" = %s AND "StationCode" = %s', (ref.network, ref.code))
            try_order = cur.fetchone()["n"]
        cur.execute('INSERT INTO sources_stations ("NetworkCode", "StationCode", try_order, server_id, path, format) '
                    "VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (\"NetworkCode\", \"StationCode\", try_order) "
                    "DO UPDATE SET server_id = EXCLUDED.server_id, path = EXCLUDED.path, format = EXCLUDED.format",
                    (ref.network, ref.code, try_order, srv.server_id, path, fmt))
    return next(s for s in station_sources(db, ref) if s.try_order == try_order)


def remove_station_source(db, ref: StationRef, try_order: int | None = None) -> int:
    """Remove one entry (by try_order) or the station's whole list; returns how many rows went."""
    if try_order is None:
        return db.execute('DELETE FROM sources_stations WHERE "NetworkCode" = %s AND "StationCode" = %s',
                          (ref.network, ref.code))
    return db.execute('DELETE FROM sources_stations WHERE "NetworkCode" = %s AND "StationCode" = %s '
                      "AND try_order = %s", (ref.network, ref.code, try_order))


def all_station_sources(db) -> list[dict]:
    rows = db.query('SELECT "NetworkCode" AS network, "StationCode" AS station, try_order, server_id, path, format '
                    'FROM sources_stations ORDER BY 1, 2, 3')
    return rows
