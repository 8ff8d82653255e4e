"""Reading a stack's inputs: daily polyhedra from gamit_soln (or an existing stack), station metadata with
jumps and a-priori trajectories, and what is already stored."""

from __future__ import annotations

import numpy as np

from ..dates import GnssDate
from ..etm.model import EtmConfig, Jump
from .data import Day, StationMeta


def load_days(db, project: str, stations: list[str] | None = None, end: GnssDate | None = None,
              table: str = "gamit_soln", name: str | None = None) -> list[Day]:
    """Daily polyhedra from gamit_soln (or an existing stack's rows)."""
    sql = ('SELECT "NetworkCode" AS net, "StationCode" AS stn, "Year" AS y, "DOY" AS d, "X", "Y", "Z" FROM '
           + ("stacks WHERE name = %s" if table == "stacks" else 'gamit_soln WHERE "Project" = %s'))
    args: list = [name if table == "stacks" else project]
    if end is not None:
        sql += ' AND ("Year" < %s OR ("Year" = %s AND "DOY" <= %s))'
        args += [end.year, end.year, end.doy]
    rows = db.query(sql + ' ORDER BY "Year", "DOY", "NetworkCode", "StationCode"', args)
    wanted = set(stations) if stations is not None else None
    grouped: dict[tuple[int, int], list] = {}
    for r in rows:
        name_ = f"{r['net']}.{r['stn']}"
        if wanted is None or name_ in wanted:
            grouped.setdefault((int(r["y"]), int(r["d"])), []).append((name_, (r["X"], r["Y"], r["Z"])))
    return [Day(y, d, GnssDate.from_doy(y, d).fyear, [s for s, _ in v], np.array([p for _, p in v], dtype=float))
            for (y, d), v in sorted(grouped.items())]


def load_meta(db, stations: list[str], soln: str = "gamit", with_jumps: bool = True,
              span: tuple[float, float] = (1980.0, 2100.0), detect: bool = False) -> dict[str, StationMeta]:
    """Metadata of stations named in gamit_soln/stacks rows (so, by foreign key, in ``stations``); one without
    any a-priori position is left out, and the caller reports it as not stackable. ``detect``: also the offset
    candidates from station information and the earthquake catalogue."""
    from ..etm.apriori import reference_position
    from ..etm.sources import earthquake_rows, metadata_candidates, station_jumps
    from ..stations import StationRef, station_rows

    rows = station_rows(db, [StationRef(*name.split(".")) for name in stations])
    quakes = earthquake_rows(db, span[0], span[1]) if with_jumps and rows else []  # one query for all stations
    out = {}
    for name, row in zip(stations, rows):
        ref = reference_position(row)
        if ref is None:
            continue
        apriori, lat, lon = ref
        removed: list[float] = []
        jumps = station_jumps(db, row, span[0], quakes, soln, removed) if with_jumps else []
        out[name] = StationMeta(name, lat, lon, apriori, jumps, ppp_trajectory(
            db, row["NetworkCode"], row["StationCode"], lat, lon, apriori, jumps) if with_jumps else None,
            metadata_candidates(db, row["NetworkCode"], row["StationCode"], quakes, row.get("lat"), row.get("lon"),
                                span[0], jumps) if detect and with_jumps else [], tuple(removed))
    return out


def ppp_trajectory(db, net: str, stn: str, lat: float, lon: float, apriori: np.ndarray, jumps: list[Jump]):
    """Trajectory model of the station's PPP solutions (the iteration-0 target), or None without them."""
    from ..etm.fit import EtmError, fit_etm
    from ..geodesy.coordinates import xyz2neu

    rows = db.query('SELECT p."Year" AS y, p."DOY" AS d, p."X", p."Y", p."Z" FROM ppp_soln p WHERE '
                    'p."NetworkCode" = %s AND p."StationCode" = %s AND NOT EXISTS (SELECT 1 FROM ppp_soln_excl e '
                    'WHERE e."NetworkCode" = p."NetworkCode" AND e."StationCode" = p."StationCode" AND '
                    'e."Year" = p."Year" AND e."DOY" = p."DOY") ORDER BY 1, 2', (net, stn))
    if not rows:
        return None
    t = np.array([GnssDate.from_doy(int(r["y"]), int(r["d"])).fyear for r in rows])
    xyz = np.array([(r["X"], r["Y"], r["Z"]) for r in rows], dtype=float)
    try:
        return fit_etm(t, xyz2neu(xyz - apriori, lat, lon), EtmConfig(jumps=list(jumps), noise_model="white"))
    except EtmError:
        return None


def stack_exists(db, name: str) -> bool:
    return db.query_one("SELECT 1 AS x FROM stacks WHERE name = %s LIMIT 1", (name,)) is not None


def preserved_days(db, project: str, name: str, days: list[Day]) -> list[Day]:
    """Mark days whose every gamit_soln vertex is already in the stack as preserved, using the stacked
    coordinates; other days are (re)aligned. Nothing is deleted here."""
    stacked = {d.key: d for d in load_days(db, project, table="stacks", name=name)}
    out = []
    for day in days:
        old = stacked.get(day.key)
        if old is not None and old.stations == day.stations:
            out.append(Day(old.year, old.doy, old.fyear, old.stations, old.xyz, preserved=True))
        else:
            out.append(day)
    return out



def list_stacks(db) -> list[dict]:
    return db.query('SELECT name, min("Project") AS project, count(DISTINCT ("Year", "DOY")) AS days, '
                    'count(DISTINCT ("NetworkCode", "StationCode")) AS stations, min("FYear") AS first, '
                    'max("FYear") AS last FROM stacks GROUP BY name ORDER BY name')


def stored_models(db, name: str) -> dict[str, object]:
    from ..jobs import codec

    rows = db.query('SELECT "NetworkCode" AS net, "StationCode" AS stn, metadata FROM etms WHERE soln = %s AND '
                    'stack = %s AND object = %s ORDER BY 1, 2', ("gamit", name, "var_factor"))
    return {f"{r['net']}.{r['stn']}": codec.loads(r["metadata"]) for r in rows}

