"""GeoDE's command line (Typer). Parsing and rendering only: the work is done by ``geode``."""
