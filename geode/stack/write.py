"""Writing a stack's results: stack rows (``stacks``) and the stations' models (``etms``).

Stack rows reach ``stacks`` set-based from a staging table in ONE transaction: the units' rows (``stack_work_rows``,
or, inline, a temporary table filled with one binary COPY) are upserted with one UPDATE (only rows whose
values change) and one INSERT (only new keys). ``--redo`` first deletes the stack's rows that are not in the
new result, in the same transaction, so a failure leaves the old stack as it was. Keys that stay get their
new values in place: unchanged foreign keys cost no foreign-key checks, unchanged rows no write at all.
"""

from __future__ import annotations

import numpy as np

from .data import StackResult
from .work import DatabaseWork, MemoryWork, Work

_KEY = ('s."NetworkCode" = r.net AND s."StationCode" = r.stn AND s."Year" = r.year AND s."DOY" = r.doy AND '
        's.name = %(name)s')


_COLUMNS = ('"NetworkCode", "StationCode", "Project", "Year", "DOY", "FYear", "X", "Y", "Z", sigmax, sigmay, sigmaz, '
            '"VarianceFactor", name')
_VALUES = "r.net, r.stn, %(project)s, r.year, r.doy, r.fyear, r.x, r.y, r.z, 0.0, 0.0, 0.0, r.vf, %(name)s"


def _staged(source: str) -> str:
    """The staged rows with their keys and values as ``stacks`` holds them (float8 → shortest exact text →
    numeric: the same value psycopg2 writes for a Python float)."""
    return ('SELECT st.net, st.stn, d.year, d.doy, d.fyear::text::numeric AS fyear, r.x::text::numeric AS x, '
            'r.y::text::numeric AS y, r.z::text::numeric AS z, d.vf::text::numeric AS vf '
            f'FROM {source} r '
            'JOIN unnest(%(years)s::int[], %(doys)s::int[], %(fyears)s::float8[], %(vfs)s::float8[]) '
            'WITH ORDINALITY AS d(year, doy, fyear, vf, i) ON d.i = r.day + 1 '
            'JOIN unnest(%(nets)s::varchar[], %(stns)s::varchar[]) WITH ORDINALITY AS st(net, stn, i) '
            'ON st.i = r.station + 1')


def commit_stack(db, work: Work, project: str, name: str, result: StackResult, *, replace: bool) -> int:
    """Move the units' final rows into ``stacks`` in one transaction (see the module docstring); returns the
    number of the result's rows (new, changed or unchanged)."""
    from ..db.bulk import copy_in

    spec = work.spec
    keys = spec.keys
    vfs = [result.helmert.get(k, {}).get("wrms_mm") for k in keys]
    params = {"name": name, "project": project, "years": spec.years.tolist(), "doys": spec.doys.tolist(),
              "fyears": spec.fyears.tolist(), "vfs": vfs, "nets": [s.split(".", 1)[0] for s in spec.stations],
              "stns": [s.split(".", 1)[1] for s in spec.stations], "run": spec.run}
    with db.transaction() as cur:
        cur.execute("SET LOCAL extra_float_digits = 3")  # float8 text is the shortest exact one
        cur.execute("SET LOCAL work_mem = '256MB'")  # sorts and hashes of a whole stack in memory
        if isinstance(work, MemoryWork):
            cur.execute("CREATE TEMP TABLE stack_stage (day int4 NOT NULL, station int4 NOT NULL, x float8 NOT NULL, "
                        "y float8 NOT NULL, z float8 NOT NULL) ON COMMIT DROP")
            rows = [work.rows[k] for k in sorted(work.rows)]
            day = np.concatenate([r.day for r in rows]) if rows else np.zeros(0, int)
            stn = np.concatenate([r.stn for r in rows]) if rows else np.zeros(0, int)
            xyz = np.concatenate([r.xyz for r in rows]) if rows else np.zeros((0, 3))
            copy_in(cur, "stack_stage", [("day", "i4", day), ("station", "i4", stn), ("x", "f8", xyz[:, 0]),
                                         ("y", "f8", xyz[:, 1]), ("z", "f8", xyz[:, 2])])
            cur.execute("ANALYZE stack_stage")
            source = "stack_stage"
        else:
            source = "(SELECT * FROM stack_work_rows WHERE run = %(run)s)"
        staged = _staged(source)
        cur.execute("SELECT 1 FROM stacks WHERE name = %(name)s LIMIT 1", params)
        if cur.fetchone() is None:  # a new stack: every row is an INSERT
            cur.execute(f"INSERT INTO stacks ({_COLUMNS}) SELECT {_VALUES} FROM ({staged}) r", params)
            written = cur.rowcount
        else:
            cur.execute(f"CREATE TEMP TABLE stack_new ON COMMIT DROP AS {staged}", params)
            cur.execute("ANALYZE stack_new")
            if replace:
                cur.execute('DELETE FROM stacks s WHERE s.name = %(name)s AND NOT EXISTS (SELECT 1 FROM stack_new r '
                            f'WHERE {_KEY})', params)
            cur.execute('UPDATE stacks s SET "X" = r.x, "Y" = r.y, "Z" = r.z, "FYear" = r.fyear, '
                        f'"VarianceFactor" = r.vf, "Project" = %(project)s FROM stack_new r WHERE {_KEY} AND '
                        '(s."X", s."Y", s."Z", s."FYear", s."VarianceFactor", s."Project") IS DISTINCT FROM '
                        '(r.x, r.y, r.z, r.fyear, r.vf, %(project)s::varchar)', params)
            cur.execute(f"INSERT INTO stacks ({_COLUMNS}) SELECT {_VALUES} FROM stack_new r WHERE NOT EXISTS "
                        f"(SELECT 1 FROM stacks s WHERE {_KEY})", params)
            cur.execute("SELECT count(*) AS n FROM stack_new")
            written = int(cur.fetchone()["n"])
        if isinstance(work, DatabaseWork):
            cur.execute("DELETE FROM stack_work_rows WHERE run = %(run)s", params)
    return written


def save_models(db, name: str, result: StackResult) -> int:
    """Store each station's model under soln 'gamit', stack NAME, in one transaction: only models whose
    series checksum differs from the stored one are (re)written."""
    from ..etm.store import save_fits, stored_hashes

    spec = result.work.spec
    models = result.work.models(result.step)
    items = [(spec.stations[s], fit, data_hash) for s, (fit, data_hash) in sorted(models.items())]
    stations = [tuple(n.split(".", 1)) for n, _, _ in items]
    stored = stored_hashes(db, "gamit", name, stations)
    todo = [(net, code, fit, h) for (net, code), (_, fit, h) in zip(stations, items) if stored.get((net, code)) != h]
    save_fits(db, "gamit", name, todo)
    return len(todo)
