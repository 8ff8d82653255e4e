"""ECEF XYZ <-> geodetic latitude/longitude/height on GRS80, and local north/east/up.

Angles in degrees, distances in metres. Works on scalars and numpy arrays alike.
"""

from __future__ import annotations

import math

GRS80_A = 6378137.0
GRS80_F = 1.0 / 298.257222101
GRS80_E2 = GRS80_F * (2.0 - GRS80_F)


def lla2xyz(lat: float, lon: float, h: float) -> tuple[float, float, float]:
    phi, lam = math.radians(lat), math.radians(lon)
    n = GRS80_A / math.sqrt(1.0 - GRS80_E2 * math.sin(phi) ** 2)
    x = (n + h) * math.cos(phi) * math.cos(lam)
    y = (n + h) * math.cos(phi) * math.sin(lam)
    z = (n * (1.0 - GRS80_E2) + h) * math.sin(phi)
    return x, y, z


def xyz2lla(x: float, y: float, z: float) -> tuple[float, float, float]:
    """Bowring's iteration; converges to sub-millimetre in a few steps anywhere near the Earth's surface."""
    lon = math.atan2(y, x)
    p = math.hypot(x, y)
    lat = math.atan2(z, p * (1.0 - GRS80_E2))
    h = 0.0
    for _ in range(10):
        n = GRS80_A / math.sqrt(1.0 - GRS80_E2 * math.sin(lat) ** 2)
        h = p / math.cos(lat) - n if abs(lat) < math.radians(89.0) else z / math.sin(lat) - n * (1.0 - GRS80_E2)
        new_lat = math.atan2(z, p * (1.0 - GRS80_E2 * n / (n + h)))
        if abs(new_lat - lat) < 1e-13:
            lat = new_lat
            break
        lat = new_lat
    return math.degrees(lat), math.degrees(lon), h


def neu_rotation(lat: float, lon: float):
    """3x3 matrix R with [n, e, u] = R @ [dX, dY, dZ] at geodetic (lat, lon) in degrees; R.T maps back."""
    import numpy as np

    phi, lam = math.radians(lat), math.radians(lon)
    sp, cp, sl, cl = math.sin(phi), math.cos(phi), math.sin(lam), math.cos(lam)
    return np.array([[-sp * cl, -sp * sl, cp],
                     [-sl, cl, 0.0],
                     [cp * cl, cp * sl, sp]])


def xyz2neu(dxyz, lat: float, lon: float):
    """ECEF differences (n, 3) or (3,) → local north/east/up (same shape), metres."""
    import numpy as np

    return np.asarray(dxyz, dtype=float) @ neu_rotation(lat, lon).T


def neu2xyz(neu, lat: float, lon: float):
    """Local north/east/up (n, 3) or (3,) → ECEF differences, metres (the transpose rotation)."""
    import numpy as np

    return np.asarray(neu, dtype=float) @ neu_rotation(lat, lon)
