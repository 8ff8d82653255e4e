"""A station's position from its stored trajectory model, e.g. for GAMIT a-priori coordinates.

Which model: the ``etms`` ``var_factor`` row of the station (it holds the full model), preferring a PPP-based
model (``soln = 'ppp'``, what GeoDE's a-priori uses) when one is stored, otherwise the newest stored model of
any solution/stack (highest ``uid``: ``store.save_fit`` rewrites a model's rows, so the newest save wins).
Today GeoDE stores the stacks' models only (soln ``gamit``, stack NAME), so in practice the newest stack model.

Reference: stored models are north/east/up about the station's a-priori position as the stack uses it
(``geode.stack.load_meta``): ``stations.auto_x/y/z`` with ``lat/lon`` (or, without ``lat``, the geodetic
position of auto_x/y/z); without auto_x, ``lla2xyz(lat, lon, height)``. The model does not record that
reference, so if ``stations.auto_x/y/z`` changes after the fit, the evaluation moves with it until the model
is refitted.

When the model is not used (None): no stored model, unreadable model metadata, no reference position, or a
date more than ``MAX_EXTRAPOLATION_YEARS`` (1 year) before the first or after the last epoch of the data the
model was fitted to (``EtmFit.span``): beyond that the polynomial extrapolation is not trusted.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from ..geodesy.lsq import LIMIT
from .fit import EtmFit

log = logging.getLogger("geode.etm")

MAX_EXTRAPOLATION_YEARS = 1.0
PREFERRED_SOLN = "ppp"


@dataclass
class EtmPosition:
    x: float
    y: float
    z: float
    sigma_neu: tuple[float, float, float]  # model WRMS x the outlier limit (2.5), metres, as GeoDE's a-priori
    soln: str
    stack: str | None
    fyear: float


@dataclass
class StoredModel:
    network: str
    code: str
    soln: str
    stack: str | None
    fit: EtmFit
    reference: np.ndarray  # (3,) ECEF the model's NEU are about
    lat: float
    lon: float

    def usable_at(self, fyear: float) -> bool:
        t0, t1 = self.fit.span
        return t0 - MAX_EXTRAPOLATION_YEARS <= fyear <= t1 + MAX_EXTRAPOLATION_YEARS

    def position(self, date) -> EtmPosition | None:
        """The model's ECEF position at ``date`` (a GnssDate, evaluated at mid-day), or None outside the rule."""
        fyear = date.fyear
        if not self.usable_at(fyear):
            return None
        xyz = self.fit.xyz(fyear, self.reference, self.lat, self.lon)
        if not np.all(np.isfinite(xyz)):
            return None
        sig = tuple(float(s) * LIMIT for s in np.asarray(self.fit.wrms, dtype=float))
        return EtmPosition(float(xyz[0]), float(xyz[1]), float(xyz[2]), sig, self.soln, self.stack, fyear)


def reference_position(row: dict) -> tuple[np.ndarray, float, float] | None:
    """A ``stations`` row's a-priori position and lat/lon, the reference the stack fits its models about
    (``geode.stack.load_meta`` uses it); None without any position."""
    from ..geodesy.coordinates import lla2xyz, xyz2lla

    if row.get("auto_x") is not None and row.get("auto_y") is not None and row.get("auto_z") is not None:
        ref = np.array([row["auto_x"], row["auto_y"], row["auto_z"]], dtype=float)
        lat, lon = (row["lat"], row["lon"]) if row.get("lat") is not None else xyz2lla(*ref)[:2]
    elif row.get("lat") is not None and row.get("lon") is not None:
        # stations' numeric columns arrive as Decimal: float them before mixing with float arithmetic
        ref = np.array(lla2xyz(float(row["lat"]), float(row["lon"]), float(row.get("height") or 0.0)))
        lat, lon = row["lat"], row["lon"]
    else:
        return None
    return ref, float(lat), float(lon)


def load_station_model(db, network: str, code: str) -> StoredModel | None:
    """The station's model as chosen in the module docstring, or None when it has no usable one."""
    from ..jobs import codec

    row = db.query_one('SELECT soln, stack, metadata FROM etms WHERE "NetworkCode" = %s AND "StationCode" = %s '
                       'AND object = %s AND metadata IS NOT NULL ORDER BY (soln = %s) DESC, uid DESC LIMIT 1',
                       (network, code, "var_factor", PREFERRED_SOLN))
    if row is None:
        return None
    try:
        fit = codec.loads(row["metadata"])
    except Exception as exc:  # a model we cannot read is no model: the caller falls back
        log.warning("%s.%s: stored trajectory model (%s %s) unreadable: %s", network, code, row["soln"],
                    row["stack"], exc)
        return None
    if not isinstance(fit, EtmFit):
        return None
    station = db.query_one('SELECT auto_x, auto_y, auto_z, lat, lon, height FROM stations WHERE "NetworkCode" = %s '
                           'AND "StationCode" = %s', (network, code))
    ref = reference_position(station) if station is not None else None
    if ref is None:
        return None
    return StoredModel(network, code, row["soln"], row["stack"], fit, *ref)


def etm_position(db, station, date) -> EtmPosition | None:
    """Position of ``station`` (a StationRef, or "net.stn") at ``date`` (GnssDate) from its newest stored
    trajectory model; None when it has no usable model or the date is outside the rule above."""
    if isinstance(station, str):
        network, code = station.split(".", 1)
    else:
        network, code = station.network, station.code
    model = load_station_model(db, network, code)
    return model.position(date) if model is not None else None
