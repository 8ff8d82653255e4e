"""Stacking: align daily network solutions (``gamit_soln`` polyhedra) into one consistent time series.

Iteration 0 aligns every day to a-priori trajectories (a model of the station's PPP solutions when
``ppp_soln`` has them, else the fixed ``stations.auto_x/y/z``); each later iteration fits a trajectory model
per station to the aligned series and aligns every day to those models. The loop stops when the RMS change
of all aligned coordinates since the previous iteration is below ``tolerance`` (converged) or after
``max_iterations`` (reported as not converged). RMS rather than maximum: a single component sitting on the
2.5-sigma down-weighting threshold can flip between iterations and move one coordinate by a tenth of a
millimetre forever, which says nothing about the stack as a whole. Each iteration aligns the *original* polyhedra, so a day's
stored Helmert parameters are its total transformation, not an increment.

The per-day alignments and per-station fits go through the dispatch runner; ``align`` orders their
results by day and station, so inline and parallel runs give identical stacks.

Modules (each imports only those above it; ``tasks`` only the geodesy and ETM libraries):

    data.py     Day, StationMeta, StackResult and station series: the data the stack works on
    tasks.py    the dispatch tasks (one day's Helmert, one station's model, one station's repeatability)
    models.py   per-station trajectory models of the current days, through the runner
    align.py    the iterations: targets, daily alignment, datum, convergence
    frame.py    optional post-processing: periodic common modes and the tie to a reference frame
    read.py     inputs from the database (polyhedra, station metadata, what is stored)
    write.py    outputs to the database (stack rows, models)
    run.py      the whole commands (``geode stack run`` and ``geode stack etm``)
"""

from .align import DEFAULT_MAX_ITERATIONS, DEFAULT_TOLERANCE, align_days, hold_datum, stack
from .data import Day, StackResult, StationMeta, station_series
from .models import fit_models
from .read import list_stacks, load_days, load_meta, ppp_trajectory, preserved_days, stack_exists, stored_models
from .run import StackRun, alignment_summary, check_name, refit_models, require_days, run_stack
from .write import save_models, save_stack

__all__ = ["DEFAULT_MAX_ITERATIONS", "DEFAULT_TOLERANCE", "Day", "StackResult", "StackRun", "StationMeta",
           "align_days", "alignment_summary", "check_name", "fit_models", "hold_datum", "list_stacks", "load_days",
           "load_meta", "ppp_trajectory", "preserved_days", "refit_models", "require_days", "run_stack",
           "save_models", "save_stack", "stack", "stack_exists", "station_series", "stored_models"]
