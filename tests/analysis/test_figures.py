"""Figures checked without screenshots: the KMZ availability charts' axes span each station's data (read back from
the figures the KMZ was made from), and the DRA figure has no empty panel and integer ticks for counts."""

from __future__ import annotations

import numpy as np


def test_availability_chart_is_on_the_data_years():
    from geode.plots import availability_figure

    fig = availability_figure([(2024, d) for d in range(100, 105)], "one year")
    ax = fig.axes[0]
    x0, x1 = ax.get_xlim()
    assert x0 < 2024 < x1 and x1 - x0 == 1.0
    assert [t for t in ax.get_xticks() if x0 <= t <= x1] == [2024]
    assert ax.get_ylim() == (0.0, 367.0)
    fig.canvas.draw()
    label = ax.xaxis.label.get_window_extent()
    assert label.y0 >= 0 and label.x0 >= 0  # the x label is inside the image, not clipped

    fig = availability_figure([(y, 1) for y in (2019, 2021, 2024)], "years")
    x0, x1 = fig.axes[0].get_xlim()
    assert (x0, x1) == (2018.5, 2024.5)


def test_kmz_charts_span_each_station_data(cli, db, tmp_path, monkeypatch):
    import geode.plots as plots

    ws = tmp_path / "ws"
    assert cli("example", str(ws)).exit_code == 0
    monkeypatch.chdir(ws)
    seen = {}
    real = plots.availability_figure

    def spy(year_doys, title):
        fig = real(year_doys, title)
        seen[title.rsplit(" ", 1)[-1]] = (fig.axes[0].get_xlim(), list(year_doys))
        return fig

    monkeypatch.setattr(plots, "availability_figure", spy)
    r = cli("kml", "all", "-o", "net.kmz")
    assert r.exit_code == 0, r.stderr
    assert len(seen) == 10
    for station, ((x0, x1), days) in seen.items():
        years = [y for y, _ in days]
        assert days and x0 < min(years) and max(years) < x1 and x1 - x0 <= max(years) - min(years) + 1, station
    assert "10 placemarks" in r.stderr


def test_dra_figure_has_no_empty_panel_and_integer_ticks(tmp_path, monkeypatch):
    from matplotlib.figure import Figure

    from geode.dra import DraResult
    from geode.plots import dra_png

    rng = np.random.default_rng(1)
    days = [{"day": f"2024_{d:03d}", "fyear": 2024 + d / 366, "wrms_mm": float(rng.uniform(2, 5)),
             "stations_used": int(rng.integers(8, 11)), "flagged": False} for d in range(1, 60)]
    stations = {f"igs.s{i:03d}": {"wrms_mm": list(rng.uniform(1, 4, 3)), "epochs": 59, "outliers": []}
                for i in range(9)}
    saved = []
    real = Figure.savefig
    monkeypatch.setattr(Figure, "savefig", lambda self, *a, **k: (saved.append(self), real(self, *a, **k))[1])
    dra_png(tmp_path / "dra.png", DraResult(days, stations), "p")
    fig = saved[0]
    assert len(fig.axes) == 3
    for ax in fig.axes:
        assert ax.axison and (ax.lines or ax.patches), ax.get_ylabel()  # every panel shows data
    counts = [ax for ax in fig.axes if ax.get_ylabel() in ("stations used", "stations")]
    assert len(counts) == 2
    fig.canvas.draw()
    for ax in counts:
        lo, hi = ax.get_ylim()
        ticks = [t for t in ax.get_yticks() if lo <= t <= hi]
        assert ticks and all(float(t).is_integer() for t in ticks), ax.get_ylabel()
