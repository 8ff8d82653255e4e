"""Reading a stack's inputs: daily polyhedra from gamit_soln (or an existing stack), station metadata with
jumps and a-priori trajectories, and what is already stored.

Bulk reads only: solutions travel with one binary ``COPY`` (numeric columns cast to float8 by the server,
which gives the same doubles as reading their text), station metadata, jumps and PPP series with one query
each for all stations, whatever their number.
"""

from __future__ import annotations

import numpy as np

from ..dates import GnssDate
from ..etm.model import EtmConfig, Jump
from .data import Day, Solutions, StationMeta, to_days
from .models import fit_series

_ROW_FIELDS = [("day", "i4"), ("stn", "i4"), ("x", "f8"), ("y", "f8"), ("z", "f8")]


def _end_clause(end: GnssDate | None, alias: str = "g") -> tuple[str, list]:
    if end is None:
        return "", []
    return (f' AND ({alias}."Year" < %s OR ({alias}."Year" = %s AND {alias}."DOY" <= %s))',
            [end.year, end.year, end.doy])


def _split(names: list[str]) -> tuple[list[str], list[str]]:
    parts = [n.split(".", 1) for n in names]
    return [p[0] for p in parts], [p[1] for p in parts]


def read_solutions(db, project: str, stations: list[str] | None = None, end: GnssDate | None = None, *,
                   table: str = "gamit_soln", name: str | None = None
                   ) -> tuple[np.ndarray, np.ndarray, list[str], Solutions]:
    """All solutions of a project (or of stack ``name`` with ``table="stacks"``) up to ``end`` for ``stations``
    (None: every station with a solution), in one binary COPY.

    Returns (years, doys, station names, solutions): the distinct days in order, the stations that have at
    least one solution (sorted), and the rows (indices into both) ordered by day then station. Rows without
    coordinates are left out."""
    if stations is None:
        where = "name = %s" if table == "stacks" else '"Project" = %s'
        rows = db.query(f'SELECT DISTINCT "NetworkCode" AS net, "StationCode" AS stn FROM {table} WHERE {where}',
                        (name if table == "stacks" else project,))
        stations = [f"{r['net']}.{r['stn']}" for r in rows]
    wanted = sorted(set(stations))
    nets, codes = _split(wanted)
    end_sql, end_args = _end_clause(end)
    on = "g.name = %s" if table == "stacks" else 'g."Project" = %s'
    sql = ('SELECT (g."Year" * 1000 + g."DOY")::int4, (s.i - 1)::int4, g."X"::float8, g."Y"::float8, g."Z"::float8 '
           'FROM unnest(%s::varchar[], %s::varchar[]) WITH ORDINALITY AS s(net, stn, i) '
           f'JOIN {"stacks" if table == "stacks" else "gamit_soln"} g ON g."NetworkCode" = s.net AND '
           f'g."StationCode" = s.stn AND {on}{end_sql} AND g."X" IS NOT NULL AND g."Y" IS NOT NULL AND '
           'g."Z" IS NOT NULL')
    from ..db.bulk import copy_out

    with db.transaction() as cur:
        raw = copy_out(cur, sql, [nets, codes, name if table == "stacks" else project] + end_args, _ROW_FIELDS)
    yd, day = np.unique(raw["day"], return_inverse=True)
    present, stn = np.unique(raw["stn"], return_inverse=True)
    sol = Solutions(day.astype(np.int64), stn.astype(np.int64), np.column_stack([raw["x"], raw["y"], raw["z"]]))
    sol = sol.take(np.lexsort((sol.stn, sol.day)))
    return yd // 1000, yd % 1000, [wanted[i] for i in present.tolist()], sol


def read_rows(db, *, project: str, name: str | None, years, doys, preserved, day_offset: int, stations: list[str],
              station_offset: int) -> Solutions:
    """The solutions of the given days (gamit_soln of ``project``, or stack ``name`` for preserved days) and
    stations, in one binary COPY; indices are positions in those lists plus the offsets, rows by day then
    station. What a unit reads for its block of days or stations."""
    nets, codes = _split(stations)
    years, doys, preserved = np.asarray(years), np.asarray(doys), np.asarray(preserved, bool)
    parts, args = [], []
    for keep, source, key in ((~preserved, 'gamit_soln g ON g."Project" = %s', project),
                              (preserved, "stacks g ON g.name = %s", name)):
        if not keep.any():
            continue
        index = np.flatnonzero(keep)
        parts.append(
            '(SELECT (d.i - 1)::int4 AS day, (s.i - 1)::int4 AS stn, g."X"::float8, g."Y"::float8, g."Z"::float8 '
            'FROM unnest(%s::int[], %s::int[], %s::int[]) AS d(y, doy, i) '
            f'JOIN {source} AND g."Year" = d.y AND g."DOY" = d.doy '
            'JOIN unnest(%s::varchar[], %s::varchar[]) WITH ORDINALITY AS s(net, stn, i) '
            'ON g."NetworkCode" = s.net AND g."StationCode" = s.stn '
            'WHERE g."X" IS NOT NULL AND g."Y" IS NOT NULL AND g."Z" IS NOT NULL)')
        args += [years[index].tolist(), doys[index].tolist(), (index + 1).tolist(), key, nets, codes]
    if not parts:
        return Solutions.empty()
    from ..db.bulk import copy_out

    with db.transaction() as cur:
        raw = copy_out(cur, " UNION ALL ".join(parts), args, _ROW_FIELDS)
    sol = Solutions(raw["day"].astype(np.int64) + day_offset, raw["stn"].astype(np.int64) + station_offset,
                    np.column_stack([raw["x"], raw["y"], raw["z"]]))
    return sol.take(np.lexsort((sol.stn, sol.day)))


def load_days(db, project: str, stations: list[str] | None = None, end: GnssDate | None = None,
              table: str = "gamit_soln", name: str | None = None) -> list[Day]:
    """Daily polyhedra from gamit_soln (or an existing stack's rows)."""
    years, doys, names, sol = read_solutions(db, project, stations, end, table=table, name=name)
    return to_days(years, doys, names, sol)


def _rows_by_station(rows: list[dict]) -> dict[tuple[str, str], list[dict]]:
    out: dict[tuple[str, str], list[dict]] = {}
    for r in rows:
        out.setdefault((r.pop("_net"), r.pop("_stn")), []).append(r)
    return out


def load_meta(db, stations: list[str], soln: str = "gamit", with_jumps: bool = True,
              span: tuple[float, float] = (1980.0, 2100.0), detect: bool = False) -> dict[str, StationMeta]:
    """Metadata of stations named in gamit_soln/stacks rows (so, by foreign key, in ``stations``); one without
    any a-priori position is left out, and the caller reports it as not stackable. ``detect``: also the offset
    candidates from station information and the earthquake catalogue. One query each for the stations, their
    station information, their user jumps, the earthquakes and their PPP series, whatever their number."""
    from ..etm.apriori import reference_position
    from ..etm.sources import USER_JUMP_COLUMNS, earthquake_rows, metadata_candidates, station_jumps
    from ..stations import StationRef, station_rows

    rows = station_rows(db, [StationRef(*name.split(".")) for name in stations])
    out: dict[str, StationMeta] = {}
    refs = {}
    for name, row in zip(stations, rows):
        ref = reference_position(row)
        if ref is not None:
            refs[name] = (row, ref)
    if not refs:
        return out
    if not with_jumps:
        return {name: StationMeta(name, lat, lon, apriori) for name, (row, (apriori, lat, lon)) in refs.items()}
    nets, codes = _split(list(refs))
    quakes = earthquake_rows(db, span[0], span[1])  # one query for all stations
    pick = 'JOIN unnest(%s::varchar[], %s::varchar[]) AS u(net, stn) ON t."NetworkCode" = u.net AND t."StationCode" = u.stn'
    equipment = _rows_by_station(db.query(
        f'SELECT t."NetworkCode" AS "_net", t."StationCode" AS "_stn", t.* FROM stationinfo t {pick} '
        'ORDER BY t."NetworkCode", t."StationCode", t."DateStart"', (nets, codes)))
    user = _rows_by_station(db.query(
        f'SELECT t."NetworkCode" AS "_net", t."StationCode" AS "_stn", {USER_JUMP_COLUMNS} FROM etm_params t {pick} '
        'WHERE t.soln = %s AND t.object = %s', (nets, codes, soln, "jump")))
    for name, (row, (apriori, lat, lon)) in refs.items():
        key = (row["NetworkCode"], row["StationCode"])
        removed: list[float] = []
        jumps = station_jumps(db, row, span[0], quakes, soln, removed, equipment=equipment.get(key, []),
                              user=user.get(key, []))
        candidates = metadata_candidates(db, key[0], key[1], quakes, row.get("lat"), row.get("lon"), span[0], jumps,
                                         equipment.get(key, [])) if detect else []
        out[name] = StationMeta(name, lat, lon, apriori, jumps, None, candidates, tuple(removed))
    for name, fit in ppp_trajectories(db, out).items():
        out[name].apriori_fit = fit
    return out


def ppp_trajectories(db, meta: dict[str, StationMeta]) -> dict[str, object]:
    """Trajectory models of the stations' PPP solutions (the iteration-0 targets), for stations that have
    any: one COPY for all stations' series (less ppp_soln_excl), fits as ``ppp_trajectory`` makes them."""
    from ..db.bulk import copy_out

    names = sorted(meta)
    nets, codes = _split(names)
    with db.transaction() as cur:
        raw = copy_out(
            cur, 'SELECT (s.i - 1)::int4, p."Year"::int4, p."DOY"::int4, p."X"::float8, p."Y"::float8, p."Z"::float8 '
            'FROM unnest(%s::varchar[], %s::varchar[]) WITH ORDINALITY AS s(net, stn, i) JOIN ppp_soln p '
            'ON p."NetworkCode" = s.net AND p."StationCode" = s.stn WHERE p."X" IS NOT NULL AND p."Y" IS NOT NULL '
            'AND p."Z" IS NOT NULL AND NOT EXISTS (SELECT 1 FROM ppp_soln_excl e WHERE '
            'e."NetworkCode" = p."NetworkCode" AND e."StationCode" = p."StationCode" AND e."Year" = p."Year" AND '
            'e."DOY" = p."DOY")', (nets, codes),
            [("stn", "i4"), ("year", "i4"), ("doy", "i4"), ("x", "f8"), ("y", "f8"), ("z", "f8")])
    if not len(raw):
        return {}
    raw = raw[np.lexsort((raw["doy"], raw["year"], raw["stn"]))]
    fyear = {}
    series = []
    bounds = np.searchsorted(raw["stn"], np.arange(len(names) + 1))
    for i, name in enumerate(names):
        lo, hi = bounds[i], bounds[i + 1]
        if lo == hi:
            continue
        part = raw[lo:hi]
        t = np.array([fyear.setdefault((y, d), GnssDate.from_doy(y, d).fyear)
                      for y, d in zip(part["year"].tolist(), part["doy"].tolist())])
        m = meta[name]
        series.append((name, t, np.column_stack([part["x"], part["y"], part["z"]]), m,
                       EtmConfig(jumps=list(m.jumps), noise_model="white")))
    fits = fit_series([(t, xyz, m.apriori, m.lat, m.lon, cfg) for _, t, xyz, m, cfg in series], midas=False)
    return {name: fit for (name, *_), fit in zip(series, fits) if not isinstance(fit, Exception)}


def ppp_trajectory(db, net: str, stn: str, lat: float, lon: float, apriori: np.ndarray, jumps: list[Jump]):
    """Trajectory model of one station's PPP solutions (the iteration-0 target), or None without them."""
    meta = StationMeta(f"{net}.{stn}", lat, lon, apriori, list(jumps))
    return ppp_trajectories(db, {meta.name: meta}).get(meta.name)


def stack_exists(db, name: str) -> bool:
    return db.query_one("SELECT 1 AS x FROM stacks WHERE name = %s LIMIT 1", (name,)) is not None


def preserved_flags(db, name: str, years, doys, stations: list[str], sol: Solutions) -> np.ndarray:
    """(D,) bool: days whose every solution (of these stations) is already in stack ``name`` with exactly the
    same stations, so the stack's rows are kept for them; other days are (re)aligned. Nothing is deleted."""
    s_years, s_doys, s_names, s_sol = read_solutions(db, "", stations, table="stacks", name=name)
    counts = {(int(r["y"]), int(r["d"])): int(r["n"]) for r in db.query(
        'SELECT "Year" AS y, "DOY" AS d, count(*) AS n FROM stacks WHERE name = %s GROUP BY 1, 2', (name,))}
    ours = _day_sets(years, doys, stations, sol)
    theirs = _day_sets(s_years, s_doys, s_names, s_sol)
    out = np.zeros(len(years), bool)
    for i, key in enumerate(zip(np.asarray(years).tolist(), np.asarray(doys).tolist())):
        mine = ours.get(key)
        out[i] = mine is not None and theirs.get(key) == mine and counts.get(key) == len(mine)
    return out


def _day_sets(years, doys, stations, sol: Solutions) -> dict[tuple[int, int], tuple[str, ...]]:
    bounds = np.searchsorted(sol.day, np.arange(len(years) + 1))
    out = {}
    for i, key in enumerate(zip(np.asarray(years).tolist(), np.asarray(doys).tolist())):
        out[key] = tuple(stations[s] for s in sol.stn[bounds[i]:bounds[i + 1]].tolist())
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
