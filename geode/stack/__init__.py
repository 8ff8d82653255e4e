"""Stacking: align daily network solutions (``gamit_soln`` polyhedra) into one consistent time series.

Iteration 0 aligns every day to a-priori trajectories (a model of the station's PPP solutions when
``ppp_soln`` has them, else the fixed ``stations.auto_x/y/z``); each later iteration fits a trajectory model
per station to the aligned series and aligns every day to those models. The loop stops when the RMS change
of all aligned coordinates since the previous iteration is below ``tolerance`` (converged) or after
``max_iterations`` (reported as not converged). RMS rather than maximum: a single component sitting on the
2.5-sigma down-weighting threshold can flip between iterations and move one coordinate by a tenth of a
millimetre forever, which says nothing about the stack as a whole. Each iteration aligns the *original* polyhedra, so a day's
stored Helmert parameters are its total transformation, not an increment.

Each step runs as units through the dispatch runner: blocks of days (alignment) and blocks of stations
(trajectory models). A unit carries keys (run id, step, block); it reads the run's definition and its
rows from the run's work (this process inline; PostgreSQL on Celery workers) and writes its results there, so
the broker carries keys and small summaries only. Results are combined in block order and the blocks do not
depend on the workers: inline and parallel runs give identical stacks.

Modules (each imports only those listed before it):

    data.py     Day, StationMeta, StackResult; Solutions (long form) and RunSpec (a run's definition)
    models.py   many stations' trajectory models at once (the white-noise core)
    read.py     inputs from the database in bulk (binary COPY): solutions, station metadata and jumps, PPP models
    packing.py  a block of models as one binary value (how a fit unit on a worker stores its models)
    work.py     a run's working state, in memory or in PostgreSQL (stack_work_*), found by run id
    tasks.py    the dispatch units: align a block of days, model a block of stations, a block of stations'
                repeatability (DRA)
    align.py    the iterations: steps through the runner, datum, convergence; ``stack`` for days in memory
    frame.py    optional post-processing: periodic common modes and the tie to a reference frame
    write.py    outputs to the database: stack rows set-based in one transaction (foreign keys checked
                set-based where allowed), models in bulk
    run.py      the whole commands (``geode stack run`` and ``geode stack etm``)
"""

import importlib

# name -> module: loaded on first use, so `from geode.stack import list_stacks` does not load the numerics
_EXPORTS = {
    "DEFAULT_MAX_ITERATIONS": "align", "DEFAULT_TOLERANCE": "align", "hold_datum": "align", "iterate": "align",
    "stack": "align",
    "Day": "data", "RunSpec": "data", "Solutions": "data", "StackResult": "data", "StationMeta": "data",
    "station_series": "data",
    "list_stacks": "read", "load_days": "read", "load_meta": "read", "ppp_trajectory": "read",
    "read_solutions": "read", "stack_exists": "read", "stored_models": "read",
    "StackRun": "run", "alignment_summary": "run", "check_name": "run", "refit_models": "run",
    "require_days": "run", "run_stack": "run",
    "StackWrite": "write", "commit_stack": "write", "save_models": "write",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value
