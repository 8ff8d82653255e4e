"""Where jump epochs come from: station-info equipment changes, earthquakes near the station, and the
user's own jumps in ``etm_params`` (action '+' adds one, '-' removes any jump within a day of it)."""

from __future__ import annotations

import math

from ..dates import GnssDate, fyear_of_datetime
from .model import DEFAULT_RELAXATION, GEOPHYSICAL, MECHANICAL, POSTSEISMIC, Jump

EQ_GROUP_DAYS = 15  # earthquakes closer in time than this are one jump (the largest magnitude wins)
EQ_BACK_YEARS = 5.0  # events this long before the data still count if M >= 7 (post-seismic only)
USER_JUMP_TYPES = {0: MECHANICAL, 1: GEOPHYSICAL, 2: POSTSEISMIC}


def _distance_km(lat1, lon1, lat2, lon2) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    return 6371.0 * 2 * math.asin(min(1.0, math.sqrt(a)))


def earthquake_affects(mag: float, dist_km: float) -> bool:
    """GeoDE's level-1 screen: 0.5261 M - log10(d) - 1.1478 + log10(1.5) > 0."""
    return 0.5261 * mag - math.log10(max(dist_km, 1e-3)) - 1.1478 + math.log10(1.5) > 0


def equipment_jumps(db, network: str, code: str) -> list[Jump]:
    rows = db.query('SELECT "DateStart", "AntennaCode", "RadomeCode", "AntennaHeight", "AntennaNorth", '
                    '"AntennaEast" FROM stationinfo WHERE "NetworkCode" = %s AND "StationCode" = %s '
                    'ORDER BY "DateStart"', (network, code))
    jumps, previous = [], None
    for row in rows:
        key = (row["AntennaCode"], row["RadomeCode"], row["AntennaHeight"], row["AntennaNorth"], row["AntennaEast"])
        if previous is not None and key != previous:
            jumps.append(Jump(fyear_of_datetime(row["DateStart"]), MECHANICAL, source="stationinfo",
                              description=f"antenna {row['AntennaCode']} {row['RadomeCode']}"))
        previous = key
    return jumps


CANDIDATE_DISTANCE_FACTOR = 3.0  # earthquakes this many times farther than the screen allows are offset candidates


def metadata_candidates(db, network: str, code: str, events: list[dict], lat, lon, t0: float,
                        jumps: list[Jump]) -> list[Jump]:
    """Offset candidates for the detection (``geode.etm.offsets``): every station-info change (receiver, firmware,
    antenna, radome, heights, serials) and catalogue earthquakes within CANDIDATE_DISTANCE_FACTOR x the screening
    distance, except epochs the model already has as jumps."""
    rows = db.query('SELECT * FROM stationinfo WHERE "NetworkCode" = %s AND "StationCode" = %s ORDER BY "DateStart"',
                    (network, code))
    fields = ("ReceiverCode", "ReceiverSerial", "ReceiverFirmware", "AntennaCode", "AntennaSerial", "RadomeCode",
              "AntennaHeight", "AntennaNorth", "AntennaEast", "HeightCode")
    have = [j.fyear for j in jumps]
    out, previous = [], None
    for row in rows:
        if previous is not None:
            changed = [f for f in fields if row.get(f) != previous.get(f)]
            t = fyear_of_datetime(row["DateStart"])
            if changed and all(abs(t - h) * 365.25 > 1.0 for h in have):
                out.append(Jump(t, MECHANICAL, source="stationinfo",
                                description="station info: " + ", ".join(f"{f} {row.get(f)}" for f in changed)))
        previous = row
    if lat is not None:
        for row in events:
            t = fyear_of_datetime(row["date"])
            dist = _distance_km(lat, lon, row["lat"], row["lon"])
            if (t >= t0 and not earthquake_affects(row["mag"], dist)
                    and earthquake_affects(row["mag"], dist / CANDIDATE_DISTANCE_FACTOR)
                    and all(abs(t - h) * 365.25 > 1.0 for h in have)):
                out.append(Jump(t, MECHANICAL, source="earthquake",
                                description=f"M{row['mag']:.1f} {row['id'] or ''} at {dist:.0f} km".strip()))
    return sorted(out, key=lambda j: j.fyear)


def earthquake_rows(db, t0: float, t1: float) -> list[dict]:
    """Catalogue events that can matter for data over [t0, t1] (from EQ_BACK_YEARS before t0), by date; one
    query for all stations with that span."""
    start = GnssDate.from_fyear(max(t0 - EQ_BACK_YEARS, 1980.0)).datetime
    end = GnssDate.from_fyear(t1).datetime
    return db.query('SELECT date, lat, lon, mag, id FROM earthquakes WHERE date BETWEEN %s AND %s AND mag IS NOT NULL '
                    'ORDER BY date', (start, end))


def earthquake_jumps(events: list[dict], lat: float, lon: float, t0: float) -> list[Jump]:
    """Jumps at (lat, lon) from ``earthquake_rows`` of the data span starting at t0."""
    hits = []
    for row in events:
        t = fyear_of_datetime(row["date"])
        if t < t0 and row["mag"] < 7:
            continue
        if earthquake_affects(row["mag"], _distance_km(lat, lon, row["lat"], row["lon"])):
            hits.append((t, row["mag"], row["id"] or ""))
    jumps: list[tuple[float, float, str]] = []
    for t, mag, ident in hits:
        if jumps and (t - jumps[-1][0]) * 365.25 < EQ_GROUP_DAYS:
            if mag > jumps[-1][1]:
                jumps[-1] = (t, mag, ident)
            continue
        jumps.append((t, mag, ident))
    return [Jump(t, GEOPHYSICAL, source="earthquake", description=f"M{mag:.1f} {ident}".strip())
            for t, mag, ident in jumps]


def user_jumps(db, network: str, code: str, soln: str) -> tuple[list[Jump], list[float]]:
    """(jumps to add, epochs whose jumps are switched off) from etm_params."""
    rows = db.query('SELECT "Year", "DOY", action, jump_type, relaxation FROM etm_params WHERE "NetworkCode" = %s '
                    'AND "StationCode" = %s AND soln = %s AND object = %s', (network, code, soln, "jump"))
    add, remove = [], []
    for row in rows:
        t = GnssDate.from_doy(int(row["Year"]), int(row["DOY"])).fyear
        if row["action"] == "-":
            remove.append(t)
            continue
        kind = USER_JUMP_TYPES.get(int(row["jump_type"] or 0), MECHANICAL)
        relax = tuple(float(r) for r in row["relaxation"]) if row["relaxation"] else DEFAULT_RELAXATION
        add.append(Jump(t, kind, relax, source="user"))
    return add, remove


def station_jumps(db, station: dict, t0: float, earthquakes: list[dict], soln: str = "gamit",
                  removed: list[float] | None = None) -> list[Jump]:
    """All jumps for a station row (from ``stations``) over the data span [t0, t1], with ``earthquakes`` the
    ``earthquake_rows`` of that span. ``removed``, when given, receives the epochs the user switched off."""
    net, stn = station["NetworkCode"], station["StationCode"]
    jumps = equipment_jumps(db, net, stn)
    if station.get("lat") is not None:
        jumps += earthquake_jumps(earthquakes, station["lat"], station["lon"], t0)
    add, remove = user_jumps(db, net, stn, soln)
    if removed is not None:
        removed.extend(remove)
    jumps = [j for j in jumps if all(abs(j.fyear - r) * 365.25 > 1.0 for r in remove)] + add
    return sorted(jumps, key=lambda j: j.fyear)


def add_user_jump(db, network: str, code: str, soln: str, date: GnssDate, kind: str = MECHANICAL,
                  remove: bool = False, relaxation: tuple[float, ...] | None = None) -> None:
    jump_type = {v: k for k, v in USER_JUMP_TYPES.items()}[kind]
    with db.transaction() as cur:
        cur.execute('DELETE FROM etm_params WHERE "NetworkCode" = %s AND "StationCode" = %s AND soln = %s AND '
                    'object = %s AND "Year" = %s AND "DOY" = %s', (network, code, soln, "jump", date.year, date.doy))
        cur.execute('INSERT INTO etm_params ("NetworkCode", "StationCode", soln, object, jump_type, relaxation, '
                    '"Year", "DOY", action) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)',
                    (network, code, soln, "jump", jump_type, list(relaxation) if relaxation else None,
                     date.year, date.doy, "-" if remove else "+"))


def review_offsets(db, network: str, code: str, soln: str, offsets, accept: bool) -> int:
    """An operator's decision on detected offsets (``EtmFit.detected``): accepted ones become user jumps in
    ``etm_params`` (action '+', mechanical); rejected ones become '-' rows, so they are never fitted or
    proposed again. Returns how many rows were written."""
    for off in offsets:
        add_user_jump(db, network, code, soln, GnssDate.from_fyear(off.fyear), MECHANICAL, remove=not accept)
    return len(offsets)
