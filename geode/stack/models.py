"""Per-station trajectory models of the current stack, fitted through the dispatch runner."""

from __future__ import annotations

from ..etm.model import EtmConfig
from .data import Day, StationMeta, station_series


def fit_models(runner, days: list[Day], meta: dict[str, StationMeta], config: EtmConfig, *, exclude=(),
               progress=None, failures: dict[str, str] | None = None, series=None) -> tuple[dict, dict]:
    """Per-station trajectory models of the current days: (fits, model XYZ at each station's epochs).
    ``series``: station_series(days), when the caller has it already."""
    from .tasks import fit_station

    series = station_series(days) if series is None else series
    names = sorted(s for s in series if s in meta and s not in exclude)
    items = [(s, meta[s].lat, meta[s].lon, meta[s].apriori, series[s][0], series[s][1], meta[s].etm_config(config))
             for s in names]
    summary = runner.map(fit_station, items, progress=progress, description="ETM fit: stations")
    fits, models = {}, {}
    for outcome in summary.results:
        stn, fit = outcome.result["station"], outcome.result["fit"]
        fits[stn] = fit
        models[stn] = meta[stn].position(fit, series[stn][0])
    if failures is not None:
        for f in summary.failures:
            failures.setdefault(f"{f.item[0]}", f.message)
    return dict(sorted(fits.items())), dict(sorted(models.items()))

