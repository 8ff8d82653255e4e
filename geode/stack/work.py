"""The working state of one stack, refit or DRA run, shared by the coordinator and the run's units.

A unit carries keys only (run id, step, block); it finds the run's ``Work`` by id. In the coordinator's own
process (inline runs) that is a ``MemoryWork`` holding the solutions the coordinator read; on a Celery worker
it is a ``DatabaseWork`` that reads the run's definition and the unit's solutions from PostgreSQL (binary
COPY, cached for the run's later steps) and writes what the unit produces to the ``stack_work_*`` tables (a
fit unit's models as one binary block, ``packing``). Both hold the same values (float8, the task codec and the
block layout round-trip exactly), and the units compute the same way on the same blocks, so inline and parallel
runs give identical results.

What a run's steps produce, per step: for each day the Helmert transformations that align its rows (applied
in order; a day without an entry is not part of that step's result, a preserved day is used as it is), and
for each station its trajectory model with the checksum of the series it was fitted to.
"""

from __future__ import annotations

import logging
import uuid

import numpy as np

from ..db.live import shared_database
from .data import Day, RunSpec, Solutions, to_days
from .read import read_rows

log = logging.getLogger("geode.stack")

_LOCAL: dict[str, "Work"] = {}  # works this process created (the coordinator), by run id
_OPENED: dict[str, "DatabaseWork"] = {}  # works a worker opened from PostgreSQL, newest last
_KEEP_OPENED = 2


def new_run_id() -> str:
    return uuid.uuid4().hex


def lookup(run: str) -> "Work":
    """The run's work: the coordinator's own (inline), else read from PostgreSQL (a worker)."""
    work = _LOCAL.get(run) or _OPENED.get(run)
    if work is None:
        work = DatabaseWork.open(None, run)
        _OPENED[run] = work
        while len(_OPENED) > _KEEP_OPENED:  # a worker serves one run after the other: keep the latest only
            _OPENED.pop(next(iter(_OPENED)))
    return work


def aligned(sol: Solutions, transforms: dict[int, list]) -> np.ndarray:
    """The rows' coordinates after their day's transformations (Helmert parameters, applied in order; days
    without any: as they are): x + A(x)·c for every row at once, the ``apply_helmert`` formula."""
    from ..geodesy.helmert import NANO

    out = sol.xyz.copy()
    if not len(sol) or not transforms:
        return out
    depth = max(len(v) for v in transforms.values())
    days = np.fromiter(transforms, dtype=np.int64, count=len(transforms))
    n_days = int(max(days.max(), sol.day.max())) + 1
    for j in range(depth):
        params = np.zeros((n_days, 7))
        has = np.zeros(n_days, bool)
        for d, steps in transforms.items():
            if len(steps) > j:
                p = np.asarray(steps[j], dtype=float)
                params[d, :len(p)] = p
                has[d] = True
        rows = has[sol.day]
        if not rows.any():
            continue
        xyz = out[rows]
        e1, e2, e3, tx, ty, tz, sc = params[sol.day[rows]].T
        X, Y, Z = xyz[:, 0] * NANO, xyz[:, 1] * NANO, xyz[:, 2] * NANO
        out[rows] = xyz + np.column_stack([-Z * e2 + Y * e3 + tx + X * sc, Z * e1 - X * e3 + ty + Y * sc,
                                           -Y * e1 + X * e2 + tz + Z * sc])
    return out


WORK_TABLES = ("stack_work_snapshots", "stack_work_transforms", "stack_work_model_blocks", "stack_work_models",
               "stack_work_results", "stack_work_rows", "stack_work_runs")  # _models, _rows: by earlier versions only
WHOLE_RUN_ROWS = 4_000_000  # a worker reads a run this small whole at its first unit (about 40 bytes a row)


def _pack(sol: Solutions) -> bytes:
    n = np.array([len(sol)], dtype="<i8")
    return b"".join(a.tobytes() for a in (n, sol.day.astype("<i4"), sol.stn.astype("<i4"), sol.xyz.astype("<f8")))


def _unpack(blob: bytes) -> Solutions:
    n = int(np.frombuffer(blob, dtype="<i8", count=1)[0])
    day = np.frombuffer(blob, dtype="<i4", count=n, offset=8).astype(np.int64)
    stn = np.frombuffer(blob, dtype="<i4", count=n, offset=8 + 4 * n).astype(np.int64)
    xyz = np.frombuffer(blob, dtype="<f8", count=3 * n, offset=8 + 8 * n).reshape(n, 3).astype(float)
    return Solutions(day, stn, xyz)


class RowIndex:
    """A run's rows in memory, by day and by station, for block slices without copies."""

    def __init__(self, sol: Solutions, days: int, stations: int):
        self.sol = sol  # by day, then station
        self.day_bounds = np.searchsorted(sol.day, np.arange(days + 1))
        self.by_station = sol.by_station()
        self.stn_bounds = np.searchsorted(self.by_station.stn, np.arange(stations + 1))

    def day_rows(self, lo: int, hi: int) -> Solutions:
        return self.sol.take(slice(self.day_bounds[lo], self.day_bounds[hi]))

    def station_rows(self, lo: int, hi: int) -> Solutions:
        return self.by_station.take(slice(self.stn_bounds[lo], self.stn_bounds[hi]))


class Work:
    """One run's definition, inputs and per-step state (see the module docstring)."""

    def __init__(self, spec: RunSpec):
        self.spec = spec
        self.cache: dict = {}  # what units may keep between steps in this process (designs, configurations)

    # -- inputs ------------------------------------------------------------------------------------------------
    def day_rows(self, lo: int, hi: int) -> Solutions:
        """Input rows of days [lo, hi), by day then station."""
        raise NotImplementedError

    def station_rows(self, lo: int, hi: int) -> Solutions:
        """Input rows of stations [lo, hi), by station then day."""
        raise NotImplementedError

    # -- per-step state ------------------------------------------------------------------------------------------
    def transforms(self, step: int) -> dict[int, list]:
        raise NotImplementedError

    def put_transforms(self, step: int, mapping: dict[int, list]) -> None:
        raise NotImplementedError

    def models(self, step: int) -> dict[int, tuple[object, int]]:
        """{station index: (EtmFit, series checksum)} of a step."""
        raise NotImplementedError

    def models_in(self, step: int, lo: int, hi: int) -> dict[int, tuple[object, int]]:
        """The models of stations [lo, hi) of a step (a unit that needs its own block only)."""
        return {s: v for s, v in self.models(step).items() if lo <= s < hi}

    def put_models(self, step: int, mapping: dict[int, tuple[object, int]]) -> None:
        raise NotImplementedError

    def units_ran(self) -> None:
        """Units may have written to the work (the coordinator forgets what it read of their results)."""

    def results(self, step: int, kind: str) -> dict[int, object]:
        """What units found, per day or station ({key: JSON-able value}), e.g. kind 'align'."""
        raise NotImplementedError

    def put_results(self, step: int, kind: str, mapping: dict[int, object]) -> None:
        raise NotImplementedError

    # -- the coordinator ----------------------------------------------------------------------------------------
    def kept(self, step: int) -> np.ndarray:
        """(D,) bool: the days in a step's result (preserved, or transformed in that step)."""
        keep = self.spec.preserved.copy()
        keep[list(self.transforms(step))] = True
        return keep

    def all_rows(self) -> Solutions:
        return self.day_rows(0, len(self.spec.years))

    def days(self, step: int, kept: np.ndarray | None = None) -> list[Day]:
        """The step's days as Day objects (aligned; preserved days as they are)."""
        spec = self.spec
        kept = self.kept(step) if kept is None else kept
        sol = self.all_rows()
        sol = sol.take(kept[sol.day])
        sol = Solutions(sol.day, sol.stn, aligned(sol, self.transforms(step)))
        return to_days(spec.years, spec.doys, spec.stations, sol, spec.preserved, spec.fyears)

    def register(self) -> "Work":
        _LOCAL[self.spec.run] = self
        return self

    def close(self) -> None:
        _LOCAL.pop(self.spec.run, None)


class MemoryWork(Work):
    """A run's work in this process: the inline runner's units find it here, nothing goes to the database
    until the coordinator writes the results."""

    def __init__(self, spec: RunSpec, sol: Solutions, source_days: list[Day] | None = None):
        super().__init__(spec)
        self.sol = sol  # by day, then station
        self._index = RowIndex(sol, len(spec.years), len(spec.stations))
        self._transforms: dict[int, dict[int, list]] = {}
        self._models: dict[int, dict[int, tuple[object, int]]] = {}
        self._results: dict[tuple[int, str], dict[int, object]] = {}
        self.source_days = source_days  # the caller's Day objects: preserved days are returned as they were

    def day_rows(self, lo, hi):
        return self._index.day_rows(lo, hi)

    def station_rows(self, lo, hi):
        return self._index.station_rows(lo, hi)

    def all_rows(self):
        return self.sol

    def transforms(self, step):
        return self._transforms.get(step, {})

    def put_transforms(self, step, mapping):
        self._transforms[step] = {int(k): [np.asarray(p, dtype=float) for p in v] for k, v in mapping.items()}

    def models(self, step):
        return self._models.get(step, {})

    def put_models(self, step, mapping):
        self._models.setdefault(step, {}).update({int(k): v for k, v in mapping.items()})

    def results(self, step, kind):
        return dict(sorted(self._results.get((step, kind), {}).items()))

    def put_results(self, step, kind, mapping):
        self._results.setdefault((step, kind), {}).update({int(k): v for k, v in mapping.items()})

    def days(self, step, kept=None):
        out = super().days(step, kept)
        if self.source_days is not None:
            by_key = {d.key: d for d in self.source_days if d.preserved}
            out = [by_key.get(d.key, d) if d.preserved else d for d in out]
        return out


class DatabaseWork(Work):
    """A run's work in PostgreSQL (``stack_work_*``), for runs on Celery workers. The coordinator creates it
    (``create``), a worker opens it by run id; inputs and finished steps are cached in the process."""

    def __init__(self, db, spec: RunSpec, *, coordinator: bool = False):
        super().__init__(spec)
        self._db = db  # None on a worker: this process's shared connection, re-opened after a server restart
        self._settings = None  # on a worker: the settings that connection is opened with
        self.coordinator = coordinator  # units write models here: the coordinator reads them again after units ran
        self._blocks: dict[tuple, Solutions] = {}
        self._whole: RowIndex | None = None
        self._transforms: dict[int, dict[int, list]] = {}
        self._models: dict[int, dict[int, tuple[object, int]]] = {}

    @property
    def db(self):
        if self._db is not None:
            return self._db
        if self._settings is None:  # read once per run and process: a unit asks for the connection many times
            from ..config import load_settings

            self._settings = load_settings()
        return shared_database(self._settings)

    def seed(self, sol: Solutions) -> None:
        """All the run's rows, already read by the coordinator (by day, then station)."""
        self._whole = RowIndex(sol, len(self.spec.years), len(self.spec.stations))

    @classmethod
    def create(cls, db, spec: RunSpec, sol: Solutions | None = None) -> "DatabaseWork":
        """The run's definition in PostgreSQL, and with ``sol`` (the coordinator's rows, a run up to
        WHOLE_RUN_ROWS) a snapshot of them the units fetch instead of querying the source tables."""
        from ..db.bulk import copy_in_blob
        from ..jobs import codec

        with db.transaction() as cur:
            cur.execute("SELECT run FROM stack_work_runs WHERE created < now() - interval '1 day'")
            stale = [r["run"] for r in cur.fetchall()]
            if stale:  # left by a coordinator that died
                for table in WORK_TABLES:
                    cur.execute(f"DELETE FROM {table} WHERE run = ANY(%s)", (stale,))
            cur.execute("INSERT INTO stack_work_runs (run, kind, name, definition) VALUES (%s, %s, %s, %s)",
                        (spec.run, spec.kind, spec.name, codec.dumps(spec)))
            if sol is not None and len(sol) <= WHOLE_RUN_ROWS:
                copy_in_blob(cur, "stack_work_snapshots", "run", spec.run, "rows", _pack(sol))
        work = cls(db, spec, coordinator=True)
        if sol is not None:
            work.seed(sol)
        return work

    @classmethod
    def open(cls, db, run: str) -> "DatabaseWork":
        from ..errors import GeodeError
        from ..jobs import codec

        row = (db or shared_database()).query_one("SELECT definition FROM stack_work_runs WHERE run = %s", (run,))
        if row is None:
            raise GeodeError(f"stack run {run} is not in stack_work_runs (finished, or another database)")
        return cls(db, codec.loads(row["definition"]))

    def finish(self) -> None:
        """Delete the run's working state (the coordinator, when the run is over)."""
        with self.db.transaction() as cur:
            for table in WORK_TABLES:
                cur.execute(f"DELETE FROM {table} WHERE run = %s", (self.spec.run,))
        self.close()

    # -- inputs ------------------------------------------------------------------------------------------------
    def _read(self, days: slice, stations: slice) -> Solutions:
        spec = self.spec
        return read_rows(self.db, project=spec.project, name=spec.name, years=spec.years[days],
                         doys=spec.doys[days], preserved=spec.preserved[days], day_offset=days.start,
                         stations=spec.stations[stations], station_offset=stations.start)

    def _whole_run(self) -> RowIndex | None:
        """A run up to WHOLE_RUN_ROWS is read whole, once (its snapshot, else its source rows): every later
        block of any step is then at hand."""
        if self._whole is None and 0 < self.spec.size <= WHOLE_RUN_ROWS:
            from ..db.bulk import copy_out_blob

            spec = self.spec
            with self.db.transaction() as cur:
                blob = copy_out_blob(cur, "SELECT rows FROM stack_work_snapshots WHERE run = %s", (spec.run,))
            sol = _unpack(blob) if blob is not None else self._read(slice(0, len(spec.years)),
                                                                     slice(0, len(spec.stations)))
            self._whole = RowIndex(sol, len(spec.years), len(spec.stations))
        return self._whole

    def all_rows(self):
        whole = self._whole_run()
        return whole.sol if whole is not None else self.day_rows(0, len(self.spec.years))

    def day_rows(self, lo, hi):
        whole = self._whole_run()
        if whole is not None:
            return whole.day_rows(lo, hi)
        key = ("day", lo, hi)
        if key not in self._blocks:
            self._blocks[key] = self._read(slice(lo, hi), slice(0, len(self.spec.stations)))
        return self._blocks[key]

    def station_rows(self, lo, hi):
        whole = self._whole_run()
        if whole is not None:
            return whole.station_rows(lo, hi)
        key = ("station", lo, hi)
        if key not in self._blocks:
            self._blocks[key] = self._read(slice(0, len(self.spec.years)), slice(lo, hi)).by_station()
        return self._blocks[key]

    # -- per-step state ------------------------------------------------------------------------------------------
    def transforms(self, step):
        if step not in self._transforms:
            rows = self.db.query("SELECT day, sizes, params FROM stack_work_transforms WHERE run = %s AND step = %s",
                                 (self.spec.run, step))
            out = {}
            for r in rows:
                params, at = np.asarray(r["params"], dtype=float), 0
                out[int(r["day"])] = []
                for size in r["sizes"]:
                    out[int(r["day"])].append(params[at:at + size])
                    at += size
            self._transforms = {s: v for s, v in self._transforms.items() if s >= step - 1}
            self._transforms[step] = out
        return self._transforms[step]

    def put_transforms(self, step, mapping):
        from psycopg2.extras import execute_values

        rows = [(self.spec.run, step, int(day), [len(p) for p in steps],
                 [float(v) for p in steps for v in np.asarray(p, dtype=float)]) for day, steps in mapping.items()]
        with self.db.transaction() as cur:
            cur.execute("DELETE FROM stack_work_transforms WHERE run = %s AND step = %s", (self.spec.run, step))
            execute_values(cur, "INSERT INTO stack_work_transforms (run, step, day, sizes, params) VALUES %s",
                           rows, template="(%s, %s, %s, %s::integer[], %s::float8[])", page_size=10000)
        self._transforms[step] = {int(k): [np.asarray(p, dtype=float) for p in v] for k, v in mapping.items()}

    def models(self, step):
        if step not in self._models:
            self._models = {s: v for s, v in self._models.items() if s >= step - 1}
            self._models[step] = self._read_models(step)
        return self._models[step]

    def models_in(self, step, lo, hi):
        return self._read_models(step, lo, hi)  # as they are now, not as a cache of the step holds them

    def _read_models(self, step: int, lo: int = 0, hi: int | None = None) -> dict[int, tuple[object, int]]:
        """The models of stations [lo, hi) of a step: the blocks the fit units wrote (a later block's model of a
        station replaces an earlier one's), decoded from their binary layout."""
        from ..db.bulk import copy_out_blobs
        from .packing import unpack_models

        hi = len(self.spec.stations) if hi is None else hi
        with self.db.transaction() as cur:
            blobs = copy_out_blobs(cur, "SELECT models FROM stack_work_model_blocks WHERE run = %s AND step = %s "
                                   "AND lo < %s AND hi > %s ORDER BY seq", (self.spec.run, step, hi, lo))
        out: dict[int, tuple[object, int]] = {}
        for blob in blobs:
            out.update((s, v) for s, v in unpack_models(blob).items() if lo <= s < hi)
        return dict(sorted(out.items()))

    def units_ran(self):
        if self.coordinator:
            self._models.clear()

    def put_models(self, step, mapping):
        from ..db.bulk import copy_in_record
        from .packing import pack_models

        if not mapping:
            return
        stations = [int(k) for k in mapping]
        with self.db.transaction() as cur:
            copy_in_record(cur, "stack_work_model_blocks", [
                ("run", self.spec.run), ("step", int(step)), ("lo", min(stations)), ("hi", max(stations) + 1),
                ("models", pack_models(mapping))])
        self._models.pop(step, None)

    def results(self, step, kind):
        import json

        rows = self.db.query("SELECT key, result FROM stack_work_results WHERE run = %s AND step = %s AND kind = %s "
                             "ORDER BY key", (self.spec.run, step, kind))
        return {int(r["key"]): json.loads(r["result"]) for r in rows}

    def put_results(self, step, kind, mapping):
        import csv
        import io
        import json

        keys = sorted(int(k) for k in mapping)
        buf = io.StringIO()
        out = csv.writer(buf)
        for k in keys:
            out.writerow([self.spec.run, step, kind, k, json.dumps(mapping[k], allow_nan=True)])
        with self.db.transaction() as cur:
            cur.execute("DELETE FROM stack_work_results WHERE run = %s AND step = %s AND kind = %s AND key = ANY(%s)",
                        (self.spec.run, step, kind, keys))
            buf.seek(0)
            cur.copy_expert("COPY stack_work_results (run, step, kind, key, result) FROM STDIN WITH (FORMAT csv)", buf)
