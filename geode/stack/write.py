"""Writing a stack's results: stack rows (``stacks``) and the stations' models (``etms``)."""

from __future__ import annotations

from ..etm.model import EtmConfig
from .data import StackResult, StationMeta, station_series


def save_stack(db, project: str, name: str, result: StackResult, *, replace: bool) -> int:
    """Write aligned days. ``replace`` (--redo): the stack's old rows go in the same transaction as the
    new ones are written, so a failure leaves the old stack intact. Preserved days are never touched."""
    from psycopg2.extras import execute_values

    rows = []
    for day in result.days:
        if day.preserved:
            continue
        net_stn = [s.split(".") for s in day.stations]
        vf = result.helmert.get(day.key, {}).get("wrms_mm")
        for (net, stn), (x, y, z) in zip(net_stn, day.xyz):
            rows.append((net, stn, project, day.year, day.doy, day.fyear, float(x), float(y), float(z),
                         0.0, 0.0, 0.0, vf, name))
    with db.transaction() as cur:
        if replace:
            cur.execute("DELETE FROM stacks WHERE name = %s", (name,))
        execute_values(cur, 'INSERT INTO stacks ("NetworkCode", "StationCode", "Project", "Year", "DOY", "FYear", '
                       '"X", "Y", "Z", sigmax, sigmay, sigmaz, "VarianceFactor", name) VALUES %s '
                       'ON CONFLICT ("NetworkCode", "StationCode", "Year", "DOY", name) DO UPDATE SET '
                       '"X" = EXCLUDED."X", "Y" = EXCLUDED."Y", "Z" = EXCLUDED."Z", "FYear" = EXCLUDED."FYear", '
                       '"VarianceFactor" = EXCLUDED."VarianceFactor", "Project" = EXCLUDED."Project"', rows,
                       page_size=5000)
    return len(rows)


def save_models(db, name: str, result: StackResult, meta: dict[str, StationMeta],
                config: EtmConfig | None = None) -> int:
    """Store each station's model under soln 'gamit', stack NAME (skipped when the checksum is unchanged)."""
    from ..etm.store import checksum, has_fit, save_fit

    config = config or EtmConfig()
    series = station_series(result.days)
    written = 0
    for stn, fit in result.fits.items():
        net, code = stn.split(".")
        t, xyz, _ = series[stn]
        h = checksum(t, xyz, meta[stn].etm_config(config))
        if not has_fit(db, net, code, "gamit", name, h):
            save_fit(db, net, code, "gamit", name, fit, h)
            written += 1
    return written

