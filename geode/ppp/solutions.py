"""PPP and the database: which station-days need a solution, the inputs of one day, the spatial check and
the idempotent write to ``ppp_soln``.

The hash (GeoDE's): crc32 of the station-info fields that move the antenna reference point
(``"N E H HC AntCode Radome RecCode"``, 4 decimals) plus crc32 of the orbit file's name. A stored solution whose
hash no longer matches (station information or orbit changed) is recomputed by ``--recheck``; the old row is
only replaced when the new solution is stored.
"""

from __future__ import annotations

import zlib
from pathlib import Path

from ..errors import GeodeError
from ..stationinfo import StationInfoRecord, records_for
from ..stations import (DEFAULT_MAX_DIST, EARTH_RADIUS_KM, GREAT_CIRCLE_SQL, StationRef, great_circle_params,
                        station_days_sql)
from .engine import DayInput, PppSolution


def station_info_hash(rec: StationInfoRecord) -> int:
    text = (f"{rec.antenna_north:.4f} {rec.antenna_east:.4f} {rec.antenna_height:.4f} {rec.height_code} "
            f"{rec.antenna_code} {rec.radome_code} {rec.receiver_code}")
    return zlib.crc32(text.encode())


def solution_hash(rec: StationInfoRecord, orbit: str) -> int:
    return station_info_hash(rec) + zlib.crc32(orbit.encode())


def days_to_do(db, refs, start, end, *, force: bool = False, recheck: bool = False) -> list[dict]:
    """The station-days of ``rinex_proc`` in the window that need PPP: no solution in any frame (GeoDE's rule),
    or every day with ``force``, or a stale hash with ``recheck``. Days in ``ppp_soln_excl`` never run."""
    where, params = station_days_sql([str(r) for r in refs], start, end, alias="r")
    rows = db.query(
        f'SELECT r."NetworkCode", r."StationCode", r."ObservationYear"::int AS year, '
        f'r."ObservationDOY"::int AS doy, r."ObservationSTime" AS stime, p.hash, p.orbit '
        f'FROM rinex_proc r LEFT JOIN ppp_soln p ON p."NetworkCode" = r."NetworkCode" AND '
        f'p."StationCode" = r."StationCode" AND p."Year" = r."ObservationYear" AND p."DOY" = r."ObservationDOY" '
        f'LEFT JOIN ppp_soln_excl x ON x."NetworkCode" = r."NetworkCode" AND x."StationCode" = r."StationCode" '
        f'AND x."Year" = r."ObservationYear" AND x."DOY" = r."ObservationDOY" '
        f'WHERE {where} AND x."NetworkCode" IS NULL ORDER BY 1, 2, 3, 4', params)
    todo: dict[tuple, dict] = {}
    records: dict[StationRef, list[StationInfoRecord]] = {}  # --recheck reads each station's history once
    for r in rows:
        key = (r["NetworkCode"], r["StationCode"], r["year"], r["doy"])
        if r["hash"] is None or force:
            todo[key] = r
        elif recheck:
            ref = StationRef(r["NetworkCode"], r["StationCode"])
            if ref not in records:
                records[ref] = records_for(db, ref)
            if _stale(r, records[ref]):
                todo[key] = r
    return list(todo.values())


def _stale(row: dict, records: list[StationInfoRecord]) -> bool:
    rec = next((rec for rec in records if rec.covers(row["stime"])), None)
    return rec is None or solution_hash(rec, row["orbit"] or "") != int(row["hash"])


def day_input(db, archive: Path, network: str, code: str, year: int, doy: int) -> tuple[DayInput, StationInfoRecord]:
    """Everything one run needs from the database and the archive; GeodeError naming what is missing."""
    from ..archive.layout import ArchiveLayout
    from ..dates import doy_date
    from ..stationinfo import height_offsets, record_at, to_dharp

    row = db.query_one('SELECT * FROM rinex_proc WHERE "NetworkCode" = %s AND "StationCode" = %s AND '
                       '"ObservationYear" = %s AND "ObservationDOY" = %s', (network, code, year, doy))
    if row is None:
        raise GeodeError("no RINEX file in the database")
    path = archive / ArchiveLayout.from_db(db).row_path(row)
    if not path.is_file():
        raise GeodeError(f"the archive file {path} is missing (geode scan check lists such files)")
    rec = record_at(db, StationRef(network, code), row["ObservationSTime"])
    if rec is None:
        raise GeodeError(f"no station information covers {row['ObservationSTime']:%Y-%m-%d %H:%M} "
                         "(geode scan stninfo loads it)")
    dharp = to_dharp(rec, height_offsets(db))
    if dharp is None:
        raise GeodeError(f"no gamit_htc conversion of height code {rec.height_code} for {rec.antenna_code}")
    otl = db.query_one('SELECT "Harpos_coeff_otl" AS otl FROM stations WHERE "NetworkCode" = %s AND '
                       '"StationCode" = %s', (network, code))
    if not otl or not otl["otl"]:
        raise GeodeError("the station has no ocean-loading coefficients (geode scan otl computes them)")
    job = DayInput(code, doy_date(year, doy), str(path), float(row["Interval"]), otl["otl"], dharp)
    return job, rec


def spatial_check(db, network: str, code: str, xyz: tuple[float, float, float]) -> str | None:
    """None when the position lies within max_dist of the station itself (GeoDE's PPPSpatialCheck); otherwise
    why the solution does not belong to it. Temporary networks (codes starting with ?) are not candidates."""
    from ..geodesy.coordinates import xyz2lla

    lat, lon, _ = xyz2lla(*xyz)
    rows = db.query(
        'SELECT "NetworkCode" AS net, "StationCode" AS stn, coalesce(max_dist, %s)::float AS radius, '
        f'{GREAT_CIRCLE_SQL} AS distance '
        'FROM stations WHERE lat IS NOT NULL AND lon IS NOT NULL AND "NetworkCode" NOT LIKE \'?%%\' '
        'ORDER BY distance', (DEFAULT_MAX_DIST, *great_circle_params(lat, lon, EARTH_RADIUS_KM * 1000)))
    matches = [r for r in rows if r["distance"] < r["radius"]]
    if any(r["net"] == network and r["stn"] == code for r in matches):
        return None
    if matches:
        others = ", ".join(f"{r['net']}.{r['stn']} ({r['distance']:.1f} m)" for r in matches[:3])
        return f"the PPP position matches {others}, not {network}.{code}: wrong station in the file?"
    own = next((r for r in rows if r["net"] == network and r["stn"] == code), None)
    if own is None:
        return None  # the station has no coordinates yet: nothing to compare with
    return (f"the PPP position is {own['distance']:.1f} m from {network}.{code}'s coordinates (limit "
            f"{own['radius']:.0f} m, stations.max_dist): moved antenna or wrong station?")


def store(db, network: str, code: str, year: int, doy: int, sol: PppSolution, rec: StationInfoRecord) -> None:
    """Insert or replace the day's solution in its frame (one transaction, so a rerun never duplicates)."""
    sx, sy, sz, sxy, sxz, syz = sol.sigmas
    with db.transaction() as cur:
        cur.execute(
            'INSERT INTO ppp_soln ("NetworkCode", "StationCode", "X", "Y", "Z", "Year", "DOY", "ReferenceFrame", '
            'sigmax, sigmay, sigmaz, sigmaxy, sigmaxz, sigmayz, hash, orbit) '
            'VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) '
            'ON CONFLICT ("NetworkCode", "StationCode", "Year", "DOY", "ReferenceFrame") DO UPDATE SET '
            '"X" = EXCLUDED."X", "Y" = EXCLUDED."Y", "Z" = EXCLUDED."Z", sigmax = EXCLUDED.sigmax, '
            'sigmay = EXCLUDED.sigmay, sigmaz = EXCLUDED.sigmaz, sigmaxy = EXCLUDED.sigmaxy, '
            'sigmaxz = EXCLUDED.sigmaxz, sigmayz = EXCLUDED.sigmayz, hash = EXCLUDED.hash, orbit = EXCLUDED.orbit',
            (network, code, *sol.xyz, year, doy, sol.frame, sx, sy, sz, sxy, sxz, syz,
             solution_hash(rec, sol.orbit), sol.orbit[:100]))
