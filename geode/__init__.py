"""GeoDE: the Geodesy Database Engine library (no CLI, no printing)."""

__version__ = "0.1.0"
