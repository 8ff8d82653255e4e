"""Ocean-tide loading coefficients with GAMIT's grdtab, optional: it runs only when ``[otl] grdtab`` and
``[otl] otlgrid`` are configured, and says what is missing otherwise.

grdtab reads ``otl.grid`` from its working folder and writes ``harpos.<STN>``; GeoDE stores that text in
``stations."Harpos_coeff_otl"``. Each station is one unit on the ``compute`` queue.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .errors import ConfigError, GeodeError

GRDTAB_TIMEOUT = 60.0


@dataclass(frozen=True)
class OtlTools:
    grdtab: str
    otlgrid: str


def otl_tools(settings) -> OtlTools:
    """The configured grdtab and grid; ConfigError (exit 78) naming what is missing."""
    grdtab, grid = settings.get("otl.grdtab"), settings.path("otl.otlgrid")
    missing = [k for k, v in (("[otl] grdtab", grdtab), ("[otl] otlgrid", grid)) if not v]
    if missing:
        raise ConfigError(f"ocean loading is not configured: set {' and '.join(missing)} (GAMIT's grdtab and its "
                          "otl.grid, e.g. FES2004) in geode.toml or GEODE_OTL_GRDTAB / GEODE_OTL_OTLGRID")
    exe = shutil.which(str(grdtab))
    if exe is None:
        raise ConfigError(f"[otl] grdtab {grdtab!r} is not an executable file (nor on PATH)")
    if not Path(grid).is_file():
        raise ConfigError(f"[otl] otlgrid {grid} does not exist")
    return OtlTools(exe, str(grid))


def harpos(tools: OtlTools, code: str, xyz: tuple[float, float, float]) -> str:
    """Run grdtab for one position in a scratch folder; returns the HARPOS text."""
    from .jobs import run_subprocess

    stn = code.upper()
    with tempfile.TemporaryDirectory(prefix="geode-otl-") as tmp:
        (Path(tmp) / "otl.grid").symlink_to(Path(tools.otlgrid).resolve())
        done = run_subprocess([tools.grdtab, *(f"{c:.3f}" for c in xyz), stn], cwd=tmp, timeout=GRDTAB_TIMEOUT)
        fatal = Path(tmp) / "GAMIT.fatal"
        out = Path(tmp) / f"harpos.{stn}"
        if fatal.exists() or done.returncode != 0 or not out.exists():
            detail = (fatal.read_text(errors="replace") if fatal.exists() else done.output).strip().splitlines()
            raise GeodeError(f"grdtab failed for {stn} (exit {done.returncode}): "
                             f"{detail[-1] if detail else 'no harpos file written'}")
        return out.read_text(errors="replace")


def stations_to_do(db, refs, force: bool = False) -> list[dict]:
    """The ``stations`` rows of ``refs`` (in their order, sorted by select_stations) without coefficients, or
    all of them with ``force``."""
    from .stations import station_rows

    return [r for r in station_rows(db, refs) if force or not r["Harpos_coeff_otl"]]


def store_station(db, network: str, code: str, tools: OtlTools) -> str:
    """Compute and store one station's coefficients (an idempotent UPDATE); returns the first HARPOS line."""
    row = db.query_one('SELECT auto_x, auto_y, auto_z FROM stations WHERE "NetworkCode" = %s AND "StationCode" = %s',
                       (network, code))
    if row is None:
        raise GeodeError(f"station {network}.{code} is not in the database")
    if any(row[k] is None for k in ("auto_x", "auto_y", "auto_z")):
        raise GeodeError(f"{network}.{code} has no coordinates (stations.auto_x/y/z): nothing to compute OTL at")
    text = harpos(tools, code, (row["auto_x"], row["auto_y"], row["auto_z"]))
    db.execute('UPDATE stations SET "Harpos_coeff_otl" = %s WHERE "NetworkCode" = %s AND "StationCode" = %s',
               (text, network, code))
    return next((line for line in text.splitlines() if line.strip()), "")
