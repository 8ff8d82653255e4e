"""Station lists: the grammar every command uses to name stations, and its translation to SQL.

The text a user types never reaches SQL: the parser turns it into ``Spec`` values and ``compile_spec``
emits fixed SQL with ``%s`` placeholders, binding codes, patterns and numbers as parameters.
The grammar, as shown in ``--help``, is ``STATION_LIST_HELP`` below.
"""

from __future__ import annotations

import logging
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence, Union

from .errors import UsageError

log = logging.getLogger("geode.stations")

# Click rewraps paragraphs; a paragraph starting with a \b line keeps its layout (tables below).
STATION_LIST_HELP = """\
Station lists: items separated by spaces or commas, each one of:

\b
  net.stn         one station, e.g. igs.pwro (codes are case-insensitive)
  stn             that station code in every network
  net.all, all    every station of a network / of the database
  ARG             every station of a country (ISO alpha-3 code, upper case)
  net.p%, p_[ab]  a pattern on the station code (SQL SIMILAR TO): % any run,
                  _ one character, [abc] one of a set, (a|b) alternatives

Filters follow an item after ':' and can be chained, all must hold:

\b
  LAT[a,b]  LON[w,e]  BBOX[lat1,lat2,lon1,lon2]  RADIUS[lat,lon,km]  PLATE[SA]
  e.g. all:RADIUS[-34.6,-58.4,500]  ARG:PLATE[SA]  igs.all:LON[170,-170]

Degrees; LON and BBOX go from west to east, so LON[170,-170] crosses the 180
meridian; RADIUS is the great-circle distance; PLATE is the stations' plate
code. Stations without coordinates never pass a geographic filter.

Exclusions: an item starting with - or * removes its matches; removals apply
last. Accepted forms: -net.stn, -net.all, -stn, -pattern, and the same with *
(quote it: '*igs.pwro'). The - forms can be typed among the arguments
(geode kml all -igs.all); write an option's value with a space (-d 2024.5,
not -d2024.5), and when -stn starts like one of the command's short options
(-e... in geode stack run) write '*stn' or put it after --.

A single argument naming an existing file is read as a list, one or more
items per line, # starts a comment. Temporary networks (codes starting
with ?) are never selected. A station that does not exist, or an item that
matches nothing, is an error."""

_WILDCARD_CHARS = set("[]%|_")
_CODE = re.compile(r"[A-Za-z0-9]+", re.ASCII)
# station pattern: codes plus SIMILAR TO's [] % _ | and grouping/ranges; no backslash (the escape char)
_PATTERN = re.compile(r"[A-Za-z0-9\[\]%|_()^-]+", re.ASCII)
_COUNTRY = re.compile(r"[A-Z]{3}", re.ASCII)
_FILTER = re.compile(r"([A-Za-z]+)\[([^\[\]]*)\]", re.ASCII)
_PLATE = re.compile(r"[A-Za-z]{2}", re.ASCII)
_FILTER_FORMS = "LAT[a,b], LON[w,e], BBOX[lat1,lat2,lon1,lon2], RADIUS[lat,lon,km] or PLATE[XX]"
EARTH_RADIUS_KM = 6371.0  # mean radius: RADIUS is a selection tool, not a geodetic distance
DEFAULT_MAX_DIST = 20.0  # metres, GeoDE's radius around a station whose stations.max_dist is NULL


class StationListError(UsageError):
    """A station list that cannot be parsed or that selects something that does not exist."""


@dataclass(frozen=True, order=True)
class StationRef:
    network: str
    code: str

    def __str__(self) -> str:
        return f"{self.network}.{self.code}"


# --- filters --------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class LatFilter:
    south: float
    north: float


@dataclass(frozen=True)
class LonFilter:
    west: float  # west > east means the band crosses the 180 meridian
    east: float


@dataclass(frozen=True)
class RadiusFilter:
    lat: float
    lon: float
    km: float


@dataclass(frozen=True)
class PlateFilter:
    plate: str


Filter = Union[LatFilter, LonFilter, RadiusFilter, PlateFilter]


@dataclass(frozen=True)
class Spec:
    """One parsed item. ``network``/``station`` None mean any; ``pattern`` says ``station`` is SIMILAR TO."""

    text: str
    remove: bool = False
    network: str | None = None
    station: str | None = None
    pattern: bool = False
    country: str | None = None
    filters: tuple = ()  # of LatFilter, LonFilter, RadiusFilter, PlateFilter (all must hold)

    @property
    def exact(self) -> bool:
        """Names one station code exactly, so matching nothing means it does not exist."""
        return self.station is not None and not self.pattern and not self.filters


# --- parsing --------------------------------------------------------------------------------------------------------

def _split_items(text: str) -> list[str]:
    """Split on spaces and commas outside [...] and (...) (filters carry commas: LAT[-30, -40])."""
    items, cur, depth = [], [], 0
    for ch in text:
        if ch in "[(":
            depth += 1
        elif ch in "])":
            depth = max(depth - 1, 0)
        if depth == 0 and (ch.isspace() or ch == ","):
            if cur:
                items.append("".join(cur))
                cur = []
            continue
        cur.append(ch)
    if cur:
        items.append("".join(cur))
    return items


def _numbers(name: str, args: str, count: int, item: str) -> list[float]:
    parts = [p.strip() for p in args.split(",")]
    if len(parts) != count:
        raise StationListError(f"bad station filter {name}[{args}] in {item!r}: expected {count} numbers")
    try:
        values = [float(p) for p in parts]
    except ValueError:
        raise StationListError(f"bad station filter {name}[{args}] in {item!r}: not a number") from None
    if not all(math.isfinite(v) for v in values):
        raise StationListError(f"bad station filter {name}[{args}] in {item!r}: numbers must be finite")
    return values


def _check_lat(values: Iterable[float], name: str, args: str, item: str) -> None:
    if any(not -90 <= v <= 90 for v in values):
        raise StationListError(f"bad station filter {name}[{args}] in {item!r}: latitude must be within -90..90")


def _check_lon(values: Iterable[float], name: str, args: str, item: str) -> None:
    if any(not -180 <= v <= 360 for v in values):
        raise StationListError(f"bad station filter {name}[{args}] in {item!r}: longitude must be within "
                               "-180..360")


def _norm_lon(lon: float) -> float:
    return lon - 360 if lon > 180 else lon


def _parse_filter(component: str, item: str) -> list[Filter]:
    if re.fullmatch(r"[A-Za-z]+\(.*\)", component.strip()):  # GeoDE's docs wrote LAT(-30,-40)
        bracketed = re.sub(r"^([A-Za-z]+)\((.*)\)$", r"\1[\2]", component.strip())
        raise StationListError(f"bad station filter {component!r} in {item!r}: use square brackets, "
                               f"e.g. {bracketed}")
    if "[" not in component or component.strip().upper().startswith("TYPE["):
        # GeoDE's station types live in the web application's api_* tables, which geode does not manage
        raise StationListError(f"station type filters ({component!r} in {item!r}) are not supported: "
                               f"use {_FILTER_FORMS}")
    m = _FILTER.fullmatch(component.strip())
    if not m:
        raise StationListError(f"bad station filter {component!r} in {item!r}: use {_FILTER_FORMS}")
    name, args = m[1].upper(), m[2]
    if name == "LAT":
        lat = _numbers(name, args, 2, item)
        _check_lat(lat, name, args, item)
        return [LatFilter(min(lat), max(lat))]
    if name == "LON":
        lon = _numbers(name, args, 2, item)
        _check_lon(lon, name, args, item)
        return [LonFilter(_norm_lon(lon[0]), _norm_lon(lon[1]))]
    if name == "BBOX":
        lat1, lat2, lon1, lon2 = _numbers(name, args, 4, item)
        _check_lat((lat1, lat2), name, args, item)
        _check_lon((lon1, lon2), name, args, item)
        return [LatFilter(min(lat1, lat2), max(lat1, lat2)), LonFilter(_norm_lon(lon1), _norm_lon(lon2))]
    if name == "RADIUS":
        lat, lon, km = _numbers(name, args, 3, item)
        _check_lat((lat,), name, args, item)
        _check_lon((lon,), name, args, item)
        if km <= 0:
            raise StationListError(f"bad station filter {name}[{args}] in {item!r}: the radius must be > 0 km")
        return [RadiusFilter(lat, _norm_lon(lon), km)]
    if name == "PLATE":
        if not _PLATE.fullmatch(args.strip()):
            raise StationListError(f"bad station filter {name}[{args}] in {item!r}: a plate is a two-letter "
                                   "code such as PLATE[SA]")
        return [PlateFilter(args.strip().upper())]
    raise StationListError(f"unknown station filter {component!r} in {item!r}: use {_FILTER_FORMS}")


def _parse_item(item: str) -> Spec:
    remove = item[0] in "-*"
    body = item[1:] if remove else item
    base, *components = body.split(":")
    if not base:
        raise StationListError(f"bad station list item {item!r}: nothing before the filters")
    filters: list[Filter] = []
    for component in components:
        filters.extend(_parse_filter(component, item))
    spec = dict(text=item, remove=remove, filters=tuple(filters))

    if base.startswith("?"):
        raise StationListError(f"bad station list item {item!r}: temporary networks (codes starting with ?) "
                               "cannot be selected")
    if "." in base:
        net, _, stn = base.partition(".")
        if not _CODE.fullmatch(net):
            raise StationListError(f"bad network code {net!r} in {item!r}: letters and digits only")
        return Spec(network=net.lower(), **_station_part(stn, item), **spec)
    if base.lower() == "all":
        return Spec(**spec)
    if _COUNTRY.fullmatch(base):
        return Spec(country=base, **spec)
    return Spec(**_station_part(base, item), **spec)


def _station_part(stn: str, item: str) -> dict:
    if stn.lower() == "all":
        return {}
    if _CODE.fullmatch(stn):
        return {"station": stn.lower()}
    if _PATTERN.fullmatch(stn) and _WILDCARD_CHARS & set(stn):
        _check_pattern(stn, item)
        return {"station": stn.lower(), "pattern": True}
    raise StationListError(f"bad station {stn!r} in {item!r}: use letters and digits, 'all', or the wildcards "
                           "% _ [ ] |")


def _check_pattern(stn: str, item: str) -> None:
    """Catch the common pattern mistakes here so the error names the item; the database checks the rest."""
    without_sets = re.sub(r"\[\^?[^\[\]]+\]", "x", stn)  # [abc] [^0-9] [a-z] become one character
    depth = 0
    for ch in without_sets:
        depth += {"(": 1, ")": -1}.get(ch, 0)
        if depth < 0:
            break
    else:
        if depth == 0 and not set("[]") & set(without_sets):
            return
    raise StationListError(f"bad station pattern {stn!r} in {item!r}: unbalanced or empty [ ] or ( )")


def _read_list_file(path: Path) -> list[str]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise StationListError(f"cannot read the station list file {str(path)!r}: {exc}") from None
    items: list[str] = []
    for line in text.splitlines():
        items.extend(_split_items(line.split("#", 1)[0]))
    return items


def expand_specs(specs: Sequence[str]) -> list[str]:
    """The items of ``specs``: a single existing file is read as a list; others are split on spaces/commas."""
    if isinstance(specs, str):
        specs = [specs]
    specs = list(specs)
    if len(specs) == 1 and isinstance(specs[0], str) and specs[0].strip():
        try:
            path = Path(specs[0].strip()).expanduser()
            is_file = path.is_file()
        except (OSError, ValueError, RuntimeError):  # NUL bytes, too long, or "~user" with no such user
            is_file = False
        if is_file:
            return _read_list_file(path)
    items: list[str] = []
    for s in specs:
        if not isinstance(s, str):
            raise StationListError(f"bad station list item {s!r}: not text")
        items.extend(_split_items(s))
    return items


def parse_station_list(specs: Sequence[str]) -> list[Spec]:
    """Parse station list text (see STATION_LIST_HELP) into specs; no database needed."""
    return [_parse_item(item) for item in expand_specs(specs)]


# --- SQL ------------------------------------------------------------------------------------------------------------

# Great-circle distance from the row's lat/lon to a point, in the unit of the radius; parameters: radius, lat, lat,
# lon (great_circle_params). Haversine: well conditioned for short distances, no special case at the equator or poles.
GREAT_CIRCLE_SQL = (
    "2 * %s * asin(least(1, sqrt(power(sin(radians(lat::float8 - %s) / 2), 2)"
    " + cos(radians(lat::float8)) * cos(radians(%s)) * power(sin(radians(lon::float8 - %s) / 2), 2))))"
)


def great_circle_params(lat: float, lon: float, radius: float = EARTH_RADIUS_KM) -> list:
    return [radius, lat, lat, lon]


def station_key_sql(alias: str = "") -> str:
    """SQL true for the rows of the stations whose 'net.stn' keys are bound as one array parameter."""
    col = f"{alias}." if alias else ""
    return f'{col}"NetworkCode" || \'.\' || {col}"StationCode" = ANY(%s)'


def station_days_sql(keys: Sequence[str], start, end, *, alias: str = "", year: str = "ObservationYear",
                     doy: str = "ObservationDOY") -> tuple[str, list]:
    """SQL and parameters selecting the rows of the stations ``keys`` ('net.stn') whose ``year``/``doy`` columns
    fall from ``start`` to ``end`` (GnssDates, both included)."""
    col = f"{alias}." if alias else ""
    sql = f'{station_key_sql(alias)} AND ({col}"{year}" * 1000 + {col}"{doy}") BETWEEN %s AND %s'
    return sql, [list(keys), start.year * 1000 + start.doy, end.year * 1000 + end.doy]


def compile_spec(spec: Spec) -> tuple[str, list]:
    """Parameterised SQL selecting "NetworkCode", "StationCode" of the stations ``spec`` matches."""
    where = ['left("NetworkCode", 1) <> %s']
    params: list = ["?"]
    if spec.network is not None:
        where.append('lower("NetworkCode") = %s')
        params.append(spec.network)
    if spec.station is not None:
        where.append('lower("StationCode") SIMILAR TO %s' if spec.pattern else 'lower("StationCode") = %s')
        params.append(spec.station)
    if spec.country is not None:
        where.append("upper(country_code) = %s")
        params.append(spec.country)
    for f in spec.filters:
        if isinstance(f, LatFilter):
            where.append("lat BETWEEN %s AND %s")
            params += [f.south, f.north]
        elif isinstance(f, LonFilter):
            # stored longitudes may be 0..360 or -180..180: compare in -180..180
            lon = "(CASE WHEN lon > 180 THEN lon - 360 ELSE lon END)"
            joiner = "AND" if f.west <= f.east else "OR"
            where.append(f"({lon} >= %s {joiner} {lon} <= %s)")
            params += [f.west, f.east]
        elif isinstance(f, RadiusFilter):
            where.append(f"{GREAT_CIRCLE_SQL} <= %s")
            params += [*great_circle_params(f.lat, f.lon), f.km]
        elif isinstance(f, PlateFilter):
            where.append("upper(plate) = %s")
            params.append(f.plate)
        else:  # pragma: no cover - the parser builds only the filters above
            raise TypeError(f"unknown filter {f!r}")
    sql = ('SELECT "NetworkCode", "StationCode" FROM stations WHERE ' + " AND ".join(where)
           + ' ORDER BY "NetworkCode", "StationCode"')
    return sql, params


def _run(db, spec: Spec) -> set[StationRef]:
    import psycopg2

    sql, params = compile_spec(spec)
    try:
        rows = db.query(sql, params)
    except psycopg2.errors.InvalidRegularExpression:
        raise StationListError(f"bad station pattern in {spec.text!r}: PostgreSQL rejects it") from None
    return {StationRef(r["NetworkCode"], r["StationCode"]) for r in rows}


_EXACT_SQL = (  # every exact net.stn item at once: station lists of hundreds are common
    'SELECT r.net, r.stn, s."NetworkCode", s."StationCode" FROM unnest(%s::text[], %s::text[]) AS r(net, stn) '
    'JOIN stations s ON lower(s."NetworkCode") = r.net AND lower(s."StationCode") = r.stn '
    'WHERE left(s."NetworkCode", 1) <> %s'
)


def _matches(db, parsed: list[Spec]) -> list[set[StationRef]]:
    """The stations each spec matches: exact net.stn items in one query, the others one query each."""
    batch = [s for s in parsed if s.exact and s.network is not None]
    by_key: dict[tuple[str, str], set[StationRef]] = {}
    if batch:
        rows = db.query(_EXACT_SQL, ([s.network for s in batch], [s.station for s in batch], "?"))
        for r in rows:
            by_key.setdefault((r["net"], r["stn"]), set()).add(StationRef(r["NetworkCode"], r["StationCode"]))
    return [set(by_key.get((s.network, s.station), ())) if s.exact and s.network is not None else _run(db, s)
            for s in parsed]


def select_stations(db, specs: Sequence[str], *, allow_empty: bool = False) -> list[StationRef]:
    """The stations named by ``specs``, sorted by (network, station), without duplicates.

    An exact station that does not exist is always an error; an item that matches nothing and an empty
    result are errors unless ``allow_empty`` (e.g. ``all`` on a new database)."""
    parsed = parse_station_list(specs)
    if not parsed and not allow_empty:
        raise StationListError("no stations given: name stations, networks (net.all) or 'all'")
    selected: set[StationRef] = set()
    removed: set[StationRef] = set()
    unknown: list[str] = []
    empty: list[str] = []
    for spec, found in zip(parsed, _matches(db, parsed)):
        if spec.remove:
            if not found:
                log.info("removal %s matches no selected station", spec.text)
            removed |= found
            continue
        if not found:
            if spec.exact:
                unknown.append(spec.text)
            elif not allow_empty:
                empty.append(spec.text)
        selected |= found
    problems = []
    if unknown:
        problems.append("unknown station(s): " + ", ".join(unknown) + _network_hint(db, parsed, unknown))
    if empty:
        problems.append("no station matches: " + ", ".join(empty))
    if problems:
        raise StationListError("; ".join(problems))
    result = sorted(selected - removed)
    if not result and not allow_empty:
        raise StationListError("the station list selects no station" + (" after removals" if removed else ""))
    return result


def _network_hint(db, parsed: list[Spec], unknown: list[str]) -> str:
    """'igs' typed alone is a station code; if it is a network, say how to select it."""
    bare = [s.station for s in parsed if s.text in unknown and s.network is None]
    if not bare:
        return ""
    rows = db.query('SELECT lower("NetworkCode") AS net FROM networks WHERE lower("NetworkCode") = ANY(%s)',
                    (bare,))
    if not rows:
        return ""
    return " (for a whole network write " + ", ".join(f"{r['net']}.all" for r in rows) + ")"


def station_rows(db, refs: Sequence[StationRef]) -> list[dict]:
    """The full ``stations`` rows of ``refs``, in the order of ``refs``; unknown refs are an error."""
    refs = list(refs)
    if not refs:
        return []
    rows = db.query(
        'SELECT s.* FROM stations s JOIN unnest(%s::text[], %s::text[]) AS r(net, stn) '
        'ON s."NetworkCode" = r.net AND s."StationCode" = r.stn',
        ([r.network for r in refs], [r.code for r in refs]))
    by_ref = {StationRef(r["NetworkCode"], r["StationCode"]): r for r in rows}
    missing = [str(r) for r in refs if r not in by_ref]
    if missing:
        raise StationListError("unknown station(s): " + ", ".join(missing))
    return [by_ref[r] for r in refs]
