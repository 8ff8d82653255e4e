"""Writing a stack's results: stack rows (``stacks``) and the stations' models (``etms``).

Stack rows reach ``stacks`` set-based from a staging table in ONE transaction: the coordinator aligns the rows it
read (it holds them inline and on workers alike) with the final step's transformations, fills a temporary table
with one binary COPY, and upserts them with one UPDATE (only rows whose values change) and one INSERT (only new
keys). ``--redo`` first deletes the stack's rows that are not in the
new result, in the same transaction, so a failure leaves the old stack as it was. Keys that stay get their
new values in place: unchanged foreign keys cost no foreign-key checks, unchanged rows no write at all.

New rows and ``stacks``' two foreign keys (to ``stations`` and ``gamit_soln``): PostgreSQL checks them with one
``SELECT 1 FROM ONLY <referenced> x WHERE <key> = $1 ... FOR KEY SHARE OF x`` per inserted row and key (its
RI triggers; two thirds of the write of a new stack). When the role may do so (``set_based_checks``), the
write does the same checks set-based instead: it takes the very same row locks on every referenced row in one
statement per referenced table (so a concurrent DELETE or key UPDATE of one of them waits for this transaction,
as it would for the triggers), counts that every inserted row found its referenced rows, and only then
inserts with ``session_replication_role = replica`` for that one statement (the RI triggers do not fire; the
checks are already done). A row whose referenced row is missing sends the write to the plain INSERT, whose
trigger raises PostgreSQL's own foreign-key error naming the key.
"""

from __future__ import annotations

import numpy as np

from .data import Solutions, StackResult
from .work import Work, aligned

_KEY = ('s."NetworkCode" = r.net AND s."StationCode" = r.stn AND s."Year" = r.year AND s."DOY" = r.doy AND '
        's.name = %(name)s')


_COLUMNS = ('"NetworkCode", "StationCode", "Project", "Year", "DOY", "FYear", "X", "Y", "Z", sigmax, sigmay, sigmaz, '
            '"VarianceFactor", name')
_VALUES = "r.net, r.stn, %(project)s, r.year, r.doy, r.fyear, r.x, r.y, r.z, 0.0, 0.0, 0.0, r.vf, %(name)s"


# stacks' foreign keys as GeoDE's schema declares them: referenced table -> {(stacks column, its column)}
_FOREIGN_KEYS = {"stations": {("NetworkCode", "NetworkCode"), ("StationCode", "StationCode")},
                 "gamit_soln": {("Year", "Year"), ("DOY", "DOY"), ("StationCode", "StationCode"),
                                ("Project", "Project"), ("NetworkCode", "NetworkCode")}}

_INSERT_RULES = """
SELECT current_setting('is_superuser') = 'on' AS superuser,
       current_setting('session_replication_role') AS replication_role,
       (SELECT count(*) FROM pg_rewrite WHERE ev_class = 'stacks'::regclass) AS rules,
       (SELECT count(*) FROM pg_trigger t WHERE t.tgrelid = 'stacks'::regclass AND t.tgtype & 4 <> 0
          AND NOT (t.tgisinternal AND t.tgfoid = 'pg_catalog."RI_FKey_check_ins"'::regproc)) AS triggers,
       (SELECT json_agg(json_build_object(
                 'table', c.confrelid::regclass::text,
                 'pairs', (SELECT json_agg(json_build_array(a.attname, b.attname))
                           FROM unnest(c.conkey, c.confkey) AS k(fk, pk)
                           JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.fk
                           JOIN pg_attribute b ON b.attrelid = c.confrelid AND b.attnum = k.pk)))
        FROM pg_constraint c WHERE c.conrelid = 'stacks'::regclass AND c.contype = 'f') AS foreign_keys
"""


def set_based_checks(cur) -> bool:
    """Whether this transaction may insert into ``stacks`` with its foreign keys checked set-based (see the
    module docstring): the role is a superuser (only they may set session_replication_role), the session is
    not already in another replication role, and nothing else would be skipped with the RI triggers: no rules
    on ``stacks``, no trigger firing on its INSERTs but the RI checks, and no foreign keys but GeoDE's two."""
    cur.execute(_INSERT_RULES)
    row = cur.fetchone()
    if not row["superuser"] or row["replication_role"] != "origin" or row["rules"] or row["triggers"]:
        return False
    found = sorted((fk["table"], frozenset(map(tuple, fk["pairs"]))) for fk in row["foreign_keys"] or [])
    return found == sorted((t, frozenset(p)) for t, p in _FOREIGN_KEYS.items())


def _referenced_rows_locked(cur, source: str, params: dict) -> bool:
    """Lock (FOR KEY SHARE, the RI triggers' lock) the ``stations`` and ``gamit_soln`` rows that the rows of
    ``source`` will reference, in one statement; True when every row of ``source`` found both."""
    # keys and stns are read twice: materialised (no MATERIALIZED keyword: PostgreSQL before 12 has no such word)
    cur.execute(
        f"WITH keys AS (SELECT r.net, r.stn, r.year, r.doy FROM {source}), "
        "stns AS (SELECT DISTINCT net, stn FROM keys), "
        'stations_locked AS (SELECT 1 FROM ONLY stations x JOIN stns r ON x."NetworkCode" = r.net AND '
        'x."StationCode" = r.stn FOR KEY SHARE OF x), '
        'solutions_locked AS (SELECT 1 FROM ONLY gamit_soln x JOIN keys r ON x."Year" = r.year::numeric AND '
        'x."DOY" = r.doy::numeric AND x."StationCode" = r.stn AND x."Project" = %(project)s AND '
        'x."NetworkCode" = r.net FOR KEY SHARE OF x) '
        "SELECT (SELECT count(*) FROM keys) = (SELECT count(*) FROM solutions_locked) AND "
        "(SELECT count(*) FROM stns) = (SELECT count(*) FROM stations_locked) AS ok", params)
    return bool(cur.fetchone()["ok"])


def insert_rows(cur, source: str, params: dict) -> tuple[int, bool]:
    """INSERT INTO stacks the rows of ``source`` ("<table or subquery> r [WHERE ...]" with columns net, stn,
    year, doy, fyear, x, y, z, vf); foreign keys checked set-based when allowed (module docstring), else by
    PostgreSQL's triggers. Returns (rows inserted, whether the checks were set-based)."""
    insert = f"INSERT INTO stacks ({_COLUMNS}) SELECT {_VALUES} FROM {source}"
    if set_based_checks(cur) and _referenced_rows_locked(cur, source, params):
        cur.execute("SET LOCAL session_replication_role = replica")
        cur.execute(insert, params)
        written = cur.rowcount
        cur.execute("SET LOCAL session_replication_role = origin")
        return written, True
    cur.execute(insert, params)
    return cur.rowcount, False


def _staged(source: str) -> str:
    """The staged rows with their keys and values as ``stacks`` holds them (float8 → shortest exact text →
    numeric: the same value psycopg2 writes for a Python float; a day's values converted once, not per row)."""
    return ('SELECT st.net, st.stn, d.year, d.doy, d.fyear, r.x::text::numeric AS x, r.y::text::numeric AS y, '
            'r.z::text::numeric AS z, d.vf '
            f'FROM {source} r '
            'JOIN (SELECT u.year, u.doy, u.fyear::text::numeric AS fyear, u.vf::text::numeric AS vf, u.i '
            'FROM unnest(%(years)s::int[], %(doys)s::int[], %(fyears)s::float8[], %(vfs)s::float8[]) '
            'WITH ORDINALITY AS u(year, doy, fyear, vf, i) OFFSET 0) d ON d.i = r.day + 1 '
            'JOIN unnest(%(nets)s::varchar[], %(stns)s::varchar[]) WITH ORDINALITY AS st(net, stn, i) '
            'ON st.i = r.station + 1')


def final_rows(work: Work, step: int, transforms: dict[int, list] | None = None) -> Solutions:
    """The stack's rows: the days ``step`` aligned, with their transformations applied (preserved days are
    never written). Computed where the rows are, the coordinator: a vectorised pass over all of them."""
    spec = work.spec
    transforms = work.transforms(step) if transforms is None else transforms
    sol = work.all_rows()
    keep = np.zeros(len(spec.years), bool)
    keep[list(transforms)] = True
    keep &= ~spec.preserved
    sol = sol.take(keep[sol.day])
    return Solutions(sol.day, sol.stn, aligned(sol, transforms))


def write_rows(cur, rows: Solutions, work: Work, project: str, name: str, helmert: dict[str, dict], *,
               replace: bool) -> int:
    """The statements that move ``rows`` (``final_rows``) into ``stacks``, in the caller's transaction (see the
    module docstring); ``helmert``: the final step's summaries by day key (their wrms is the day's variance
    factor). Returns the number of the result's rows (new, changed or unchanged)."""
    from ..db.bulk import copy_in

    spec = work.spec
    vfs = [helmert.get(k, {}).get("wrms_mm") for k in spec.keys]
    params = {"name": name, "project": project, "years": spec.years.tolist(), "doys": spec.doys.tolist(),
              "fyears": spec.fyears.tolist(), "vfs": vfs, "nets": [s.split(".", 1)[0] for s in spec.stations],
              "stns": [s.split(".", 1)[1] for s in spec.stations]}
    cur.execute("SET LOCAL extra_float_digits = 3")  # float8 text is the shortest exact one
    cur.execute("SET LOCAL work_mem = '256MB'")  # sorts and hashes of a whole stack in memory
    cur.execute("CREATE TEMP TABLE stack_stage (day int4 NOT NULL, station int4 NOT NULL, x float8 NOT NULL, "
                "y float8 NOT NULL, z float8 NOT NULL) ON COMMIT DROP")
    copy_in(cur, "stack_stage", [("day", "i4", rows.day), ("station", "i4", rows.stn), ("x", "f8", rows.xyz[:, 0]),
                                 ("y", "f8", rows.xyz[:, 1]), ("z", "f8", rows.xyz[:, 2])])
    cur.execute("ANALYZE stack_stage")
    staged = _staged("stack_stage")
    cur.execute("SELECT 1 FROM stacks WHERE name = %(name)s LIMIT 1", params)
    if cur.fetchone() is None:  # a new stack: every row is an INSERT
        return insert_rows(cur, f"({staged}) r", params)[0]
    cur.execute(f"CREATE TEMP TABLE stack_new ON COMMIT DROP AS {staged}", params)
    cur.execute("ANALYZE stack_new")
    if replace:
        cur.execute('DELETE FROM stacks s WHERE s.name = %(name)s AND NOT EXISTS (SELECT 1 FROM stack_new r '
                    f'WHERE {_KEY})', params)
    cur.execute('UPDATE stacks s SET "X" = r.x, "Y" = r.y, "Z" = r.z, "FYear" = r.fyear, '
                f'"VarianceFactor" = r.vf, "Project" = %(project)s FROM stack_new r WHERE {_KEY} AND '
                '(s."X", s."Y", s."Z", s."FYear", s."VarianceFactor", s."Project") IS DISTINCT FROM '
                '(r.x, r.y, r.z, r.fyear, r.vf, %(project)s::varchar)', params)
    insert_rows(cur, f"stack_new r WHERE NOT EXISTS (SELECT 1 FROM stacks s WHERE {_KEY})", params)
    cur.execute("SELECT count(*) AS n FROM stack_new")
    return int(cur.fetchone()["n"])


def commit_stack(db, work: Work, project: str, name: str, result: StackResult, *, replace: bool) -> int:
    """Move the final rows into ``stacks`` in one transaction; returns the number of the result's rows."""
    rows = final_rows(work, result.step)
    with db.transaction() as cur:
        return write_rows(cur, rows, work, project, name, result.helmert, replace=replace)


class _Aborted(Exception):
    pass


class StackWrite:
    """The rows of step ``step`` going into ``stacks`` on a connection of their own, in a thread, while the
    caller goes on (fits the step's models, the final models: on workers, or in this process while PostgreSQL
    inserts). ``start()`` runs everything but the COMMIT; ``commit()`` waits for it, commits and returns the row
    count, or raises what the write raised; ``abort()`` cancels the statement under way and rolls back. Nothing
    reaches ``stacks`` unless ``commit()`` is called.

    ``when``: a test run in the thread first (is ``step`` the stack's last one?); when it says no, nothing is
    written (``writes()`` is False). ``helmert``: the step's day summaries by day key.

        pending = StackWrite(db, work, project, name, result.step, result.helmert, replace=redo).start()
        try:
            result = final_models(runner, result)
            written = pending.commit()
        finally:
            pending.abort()  # nothing left to undo after a commit
    """

    def __init__(self, db, work: Work, project: str, name: str, step: int, helmert: dict[str, dict], *,
                 replace: bool, when=None):
        import threading

        self.step = step
        self._target = db.target
        self._args = (work, project, name, helmert)
        self._transforms = work.transforms(step)  # here: the thread reads no work state but the rows
        self._replace = replace
        self._when = when
        self._writes: bool | None = None
        self._tested = threading.Event()
        self._decided = threading.Event()
        self._go = False
        self._db = None
        self._error: BaseException | None = None
        self.written = 0
        self.seconds = 0.0  # how long the write's statements took (benchmarks)
        self._thread = threading.Thread(target=self._write, name="geode-stack-write", daemon=True)

    def start(self) -> "StackWrite":
        self._thread.start()
        return self

    def writes(self) -> bool:
        """Whether this write goes ahead (its ``when`` said yes), once the thread knows."""
        self._tested.wait()
        return bool(self._writes)

    def _write(self) -> None:
        import time

        from ..db.connection import Database

        work, project, name, helmert = self._args
        try:
            self._writes = self._when is None or bool(self._when())
        except BaseException as exc:
            self._writes, self._error = False, exc
        self._tested.set()
        if not self._writes:
            return
        try:
            start = time.perf_counter()
            rows = final_rows(work, self.step, self._transforms)
            if self._decided.is_set() and not self._go:
                return
            self._db = Database.connect(self._target)
            with self._db.transaction() as cur:
                self.written = write_rows(cur, rows, work, project, name, helmert, replace=self._replace)
                self.seconds = time.perf_counter() - start
                self._decided.wait()
                if not self._go:
                    raise _Aborted()
        except _Aborted:
            pass
        except BaseException as exc:  # handed to the caller by commit()
            self._error = exc
        finally:
            if self._db is not None:
                self._db.close()

    def commit(self) -> int:
        if not self.writes():
            raise RuntimeError(f"the write of step {self.step} did not go ahead: it is not the last step")
        self._go = True
        self._decided.set()
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self.written

    def abort(self, timeout: float = 30.0) -> None:
        import contextlib
        import time

        if self._go:  # committed (or committing): nothing to undo
            return
        self._decided.set()
        deadline = time.monotonic() + timeout
        while self._thread.is_alive() and time.monotonic() < deadline:
            if self._db is not None:
                with contextlib.suppress(Exception):
                    self._db.conn.cancel()  # the statement under way, if any: the rollback follows at once
            self._thread.join(0.2)


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
