"""``rinex_qc`` rows: one per ``rinex`` row (same key), the trended scalars as columns and the whole
``QCResult`` as ``metrics``; written idempotently (a row with the same version and metrics is left untouched,
its ``computed_at`` too), read back per station for the trends.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from dataclasses import dataclass, field

from ..dates import doy_date
from ..rinex.qc import QC_VERSION, QCResult
from .rows import QC_KEY

SCALARS = ("first_epoch", "last_epoch", "completeness", "sats_mean", "observations", "mp1", "mp2", "slips",
           "obs_per_slip", "slips_per_1000", "sat_gaps", "epoch_gaps", "clock_jumps", "snr1", "snr2",
           "elev_completeness")


def _cols(alias: str = "") -> str:
    """The key columns, quoted (and qualified by ``alias``)."""
    return ", ".join(f'{alias + "." if alias else ""}"{c}"' for c in QC_KEY)


def _join(a: str, b: str) -> str:
    return " AND ".join(f'{a}."{c}" = {b}."{c}"' for c in QC_KEY)


def _finite(value):
    """NaN and infinities are not data (and jsonb refuses them): None."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def metrics_json(result: QCResult) -> dict:
    """What ``metrics`` stores: QCResult.to_json() with non-finite numbers as null, as PostgreSQL returns it."""
    return json.loads(json.dumps(_finite(result.to_json()), default=str))


def qc_values(result: QCResult) -> dict:
    """The trended scalar columns of a result."""
    sats = result.sats_mean or {}
    values = {
        "first_epoch": result.first_epoch, "last_epoch": result.last_epoch, "completeness": result.completeness,
        "sats_mean": sum(sats.values()) if sats else None, "observations": result.observations,
        "mp1": result.mp1, "mp2": result.mp2, "slips": result.slips, "obs_per_slip": result.obs_per_slip,
        "slips_per_1000": result.slips_per_1000, "sat_gaps": result.sat_gaps, "epoch_gaps": result.epoch_gaps,
        "clock_jumps": result.clock_jumps, "snr1": (result.snr_mean or {}).get("G1"),
        "snr2": (result.snr_mean or {}).get("G2"), "elev_completeness": result.elev_completeness,
    }
    return {k: _finite(float(v)) if isinstance(v, float) else v for k, v in values.items()}


def rinex_key(db, network: str, station: str, filename: str) -> dict | None:
    """The file's rinex key and the version of its QC row (``qc_version`` None without one), or None when
    the file has no rinex row."""
    return db.query_one(f'SELECT {_cols("r")}, q.qc_version FROM rinex r LEFT JOIN rinex_qc q ON {_join("q", "r")} '
                        'WHERE r."NetworkCode" = %s AND r."StationCode" = %s AND r."Filename" = %s',
                        (network, station, filename))


def store_qc(db, network: str, station: str, filename: str, result: QCResult) -> str:
    """Upsert the QC row of the file's rinex row: 'inserted', 'updated', 'unchanged', or 'no row' when the
    file has no rinex row (nothing written). One statement: two deliveries of the same unit write one row."""
    from psycopg2.extras import Json

    values = qc_values(result)
    metrics = metrics_json(result)
    key_cols = _cols()
    cols = key_cols + ", qc_version, " + ", ".join(SCALARS) + ", metrics"
    sets = ", ".join(f"{c} = EXCLUDED.{c}" for c in ("qc_version", *SCALARS, "metrics"))
    with db.transaction() as cur:
        cur.execute(
            f"INSERT INTO rinex_qc ({cols}) "
            f"SELECT {_cols('r')}, %s, "
            f"{', '.join(['%s'] * len(SCALARS))}, %s FROM rinex r "
            'WHERE r."NetworkCode" = %s AND r."StationCode" = %s AND r."Filename" = %s '
            f"ON CONFLICT ({key_cols}) DO UPDATE SET {sets}, computed_at = now() "
            "WHERE rinex_qc.qc_version IS DISTINCT FROM EXCLUDED.qc_version "
            "OR rinex_qc.metrics IS DISTINCT FROM EXCLUDED.metrics "
            "RETURNING (xmax = 0) AS inserted",
            [result.version, *(values[c] for c in SCALARS), Json(metrics), network, station, filename])
        row = cur.fetchone()
        if row is not None:
            return "inserted" if row["inserted"] else "updated"
        cur.execute('SELECT 1 FROM rinex WHERE "NetworkCode" = %s AND "StationCode" = %s AND "Filename" = %s',
                    (network, station, filename))
        return "unchanged" if cur.fetchone() is not None else "no row"


def done_files(db, stations: set[tuple[str, str]] | None, version: int = QC_VERSION) -> set[tuple[str, str, str]]:
    """(network, station, Filename) of the files whose QC row has ``version``."""
    rows = db.query(f'SELECT r."NetworkCode", r."StationCode", r."Filename" FROM rinex_qc q JOIN rinex r ON {_join("q", "r")} '
                    "WHERE q.qc_version = %s" + station_filter("r", stations), (version, *station_params(stations)))
    return {(r["NetworkCode"], r["StationCode"], r["Filename"]) for r in rows}


def station_filter(alias: str, stations: set[tuple[str, str]] | None) -> str:
    """' AND (network, station) among the given ones' (nothing for every station); see ``station_params``."""
    if stations is None:
        return ""
    return f' AND ({alias}."NetworkCode", {alias}."StationCode") IN (SELECT * FROM unnest(%s::text[], %s::text[]))'


def station_params(stations: set[tuple[str, str]] | None) -> tuple:
    if stations is None:
        return ()
    ordered = sorted(stations)
    return [n for n, _ in ordered], [s for _, s in ordered]


# --- reading back, for the trends ------------------------------------------------------------------------------------

@dataclass
class QCDay:
    """One station-day's QC (the day's file GeoDE processes: highest completion, then smallest interval)."""

    day: dt.date
    filename: str
    values: dict[str, float | None]  # the scalar columns (and per-band MP as "mp:<band>")
    computed_at: dt.datetime | None = None
    extra: dict = field(default_factory=dict)


def station_series(db, network: str, station: str, version: int = QC_VERSION,
                   start: dt.date | None = None, end: dt.date | None = None) -> list[QCDay]:
    """The station's QC rows of ``version``, one per day, oldest first."""
    rows = db.query(
        f'SELECT DISTINCT ON (q."ObservationYear", q."ObservationDOY") q."ObservationYear", q."ObservationDOY", '
        f'{", ".join("q." + c for c in SCALARS)}, q.metrics -> \'mp_rms\' AS mp_rms, q.computed_at, r."Filename" '
        'FROM rinex_qc q '
        f'JOIN rinex r ON {_join("q", "r")} WHERE q."NetworkCode" = %s AND q."StationCode" = %s AND q.qc_version = %s '
        'ORDER BY q."ObservationYear", q."ObservationDOY", q."Completion" DESC, q."Interval"',
        (network, station, version))
    out = []
    for r in rows:
        day = doy_date(int(r["ObservationYear"]), int(r["ObservationDOY"]))
        if (start and day < start) or (end and day > end):
            continue
        values = {c: (float(r[c]) if r[c] is not None else None) for c in SCALARS if c not in ("first_epoch",
                                                                                             "last_epoch")}
        for band, rms in (r["mp_rms"] or {}).items():
            values[f"mp:{band}"] = float(rms) if rms is not None else None
        out.append(QCDay(day, r["Filename"], values, r["computed_at"]))
    return out

