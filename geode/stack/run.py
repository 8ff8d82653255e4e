"""The whole commands: ``geode stack run`` (load, stack, post-process, store) and ``geode stack etm``
(refit or reuse the stack's models)."""

from __future__ import annotations

from dataclasses import dataclass

from ..dates import GnssDate
from ..errors import GeodeError, UsageError
from ..etm.model import EtmConfig
from .align import DEFAULT_MAX_ITERATIONS, DEFAULT_TOLERANCE, stack
from .data import Day, StackResult, StationMeta, station_series
from .models import fit_models
from .read import load_days, load_meta, preserved_days, stack_exists
from .write import save_models, save_stack


def alignment_summary(name: str, project: str, result: StackResult) -> dict:
    return {"stack": name, "project": project, "converged": result.converged, "iterations": result.iterations,
            "days": [{"day": k, **v} for k, v in sorted(result.helmert.items())],
            "stations": {s: f.summary() for s, f in result.fits.items()}, "failures": result.failures}


def check_name(name: str) -> str:
    if not name or len(name) > 20:
        raise UsageError(f"stack name {name!r} must be 1 to 20 characters (stacks.name is varchar(20))")
    return name.lower()


def require_days(days: list[Day], project: str) -> None:
    if not days:
        raise GeodeError(f"no daily solutions in gamit_soln for project {project!r} and these stations")


# --- the whole command --------------------------------------------------------------------------------------------

@dataclass
class StackRun:
    result: StackResult
    written_rows: int
    preserved_days: int
    models_written: int
    skipped_stations: list[str]
    meta: dict[str, StationMeta]  # what the stack was built with (a-priori positions, jumps), e.g. for plots


def run_stack(db, runner, *, name: str, project: str, stations: list[str], redo: bool = False,
              preserve: bool = False, exclude=(), end: GnssDate | None = None,
              max_iterations: int = DEFAULT_MAX_ITERATIONS, tolerance: float = DEFAULT_TOLERANCE,
              config: EtmConfig | None = None, common_modes: bool = False, constraints_file=None,
              progress=None) -> StackRun:
    """Load, stack, post-process and store. Without --redo/--preserve an existing stack is an error."""
    name = check_name(name)
    if redo and preserve:
        raise UsageError("--redo rebuilds the stack and --preserve keeps it: choose one")
    exists = stack_exists(db, name)
    if exists and not (redo or preserve):
        raise UsageError(f"stack {name!r} already exists: --redo rebuilds it, --preserve adds new days to it")
    constraints = None
    if constraints_file is not None:
        from .frame import read_constraints

        constraints = read_constraints(constraints_file)
    days = load_days(db, project, stations, end)
    require_days(days, project)
    if preserve and exists:
        days = preserved_days(db, project, name, days)
    present = sorted({s for d in days for s in d.stations})
    meta = load_meta(db, present, span=(days[0].fyear, days[-1].fyear),
                     detect=bool(config is not None and config.detect_offsets))
    skipped = [s for s in present if s not in meta]
    result = stack(runner, days, meta, config=config, exclude=set(exclude), max_iterations=max_iterations,
                   tolerance=tolerance, progress=progress)
    if common_modes or constraints:
        from .frame import remove_common_modes, tie_to_frame

        if common_modes:
            result = remove_common_modes(runner, result, meta, config or EtmConfig(), exclude=set(exclude))
        if constraints:
            result = tie_to_frame(runner, result, meta, config or EtmConfig(), constraints)
    written = save_stack(db, project, name, result, replace=redo)
    models = save_models(db, name, result, meta, config)
    return StackRun(result, written, sum(d.preserved for d in result.days), models,
                    [f"{s}: no a-priori position in stations" for s in skipped], meta)


def refit_models(db, runner, name: str, stations: list[str], config: EtmConfig | None = None, progress=None):
    """(Re)fit the stack's models for these stations with the current jumps; reuse unchanged ones.

    Returns ({station: fit}, {station: "reused"|"fitted"}, failures)."""
    from ..etm.store import checksum, load_fit, save_fit

    config = config or EtmConfig()
    days = load_days(db, "", stations, table="stacks", name=name)
    if not days:
        raise GeodeError(f"stack {name!r} has no rows for these stations: run 'geode stack run' first")
    series = station_series(days)
    meta = load_meta(db, sorted(series), span=(days[0].fyear, days[-1].fyear), detect=config.detect_offsets)
    fits, how, todo, hashes = {}, {}, {}, {}
    for stn, m in meta.items():
        net, code = stn.split(".")
        t, xyz, _ = series[stn]
        hashes[stn] = checksum(t, xyz, m.etm_config(config))
        old = load_fit(db, net, code, "gamit", name, hashes[stn])
        if old is not None:
            fits[stn], how[stn] = old, "reused"
        else:
            todo[stn] = m
    failures: dict[str, str] = {}
    new, _ = fit_models(runner, days, todo, config, progress=progress, failures=failures, series=series)
    for stn, fit in new.items():
        net, code = stn.split(".")
        save_fit(db, net, code, "gamit", name, fit, hashes[stn])
        fits[stn], how[stn] = fit, "fitted"
    return dict(sorted(fits.items())), how, [f"{k}: {v}" for k, v in sorted(failures.items())], series, meta
