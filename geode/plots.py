"""PNG figures (matplotlib, Agg backend, imported only when a plot is asked for)."""

from __future__ import annotations

import io

import numpy as np

from .geodesy.lsq import LIMIT


def pyplot():
    """matplotlib.pyplot on the Agg backend (no display needed), imported only when a figure is drawn."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


JUMP_COLOURS = {"detected": ("tab:orange", "detected offset"), "earthquake": ("tab:red", "earthquake jump"),
                "stationinfo": ("tab:green", "metadata (station info) jump"), "user": ("tab:purple", "user jump")}


def etm_png(path, t, neu, fit, title: str) -> None:
    """Three panels (N, E, U in mm): data, outliers, model and the ±2.5·WRMS band, jumps coloured by source; each
    panel's title has the noise-aware velocity ± sigma, the noise amplitudes and the MIDAS velocity."""
    plt = pyplot()
    t = np.asarray(t)
    tt = np.linspace(t.min(), t.max(), 800)
    model = fit.evaluate(tt)
    white = getattr(fit, "noise_white", None)
    powerlaw = getattr(fit, "noise_powerlaw", None)
    kappa = getattr(fit, "noise_kappa", None)
    midas_v, midas_s = getattr(fit, "midas_velocity", None), getattr(fit, "midas_sigma", None)
    fig, axes = plt.subplots(3, 1, figsize=(12, 9), sharex=True)
    for i, (ax, comp) in enumerate(zip(axes, "NEU")):
        ax.plot(t[fit.good], neu[fit.good, i] * 1e3, ".", ms=2, color="tab:blue", label="data")
        ax.plot(t[~fit.good], neu[~fit.good, i] * 1e3, ".", ms=3, color="tab:cyan", label="outliers")
        ax.plot(tt, model[:, i] * 1e3, color="tab:red", lw=1, label="model")
        ax.fill_between(tt, (model[:, i] - LIMIT * fit.wrms[i]) * 1e3, (model[:, i] + LIMIT * fit.wrms[i]) * 1e3,
                        color="tab:blue", alpha=0.2, label=f"model ± {LIMIT}·WRMS")
        for j in fit.jumps:
            colour, label = JUMP_COLOURS.get(j.source, ("gray", f"{j.source} jump"))
            ax.axvline(j.fyear, ls=":" if j.kind == "mechanical" else "--", color=colour, label=label)
        ax.set_ylabel(f"{comp} [mm]")
        text = (f"{comp}: v = {fit.velocity[i] * 1e3:.2f} ± {fit.velocity_sigma[i] * 1e3:.2f} mm/yr "
                f"({getattr(fit, 'noise_model', 'white')})")
        if midas_v is not None:
            text += f", MIDAS {midas_v[i] * 1e3:.2f} ± {midas_s[i] * 1e3:.2f} mm/yr"
        if white is not None and powerlaw is not None and powerlaw[i] > 0:
            text += (f"; noise: white {white[i] * 1e3:.2f} mm, power law {powerlaw[i] * 1e3:.2f} "
                     f"mm/yr^{-kappa[i] / 4:.2f} (κ {kappa[i]:.2f})")
        text += f"; WRMS {fit.wrms[i] * 1e3:.2f} mm"
        ax.set_title(text, fontsize=8)
        if i == 0:
            handles, labels = ax.get_legend_handles_labels()
            unique = dict(zip(labels, handles))
            ax.legend(unique.values(), unique.keys(), fontsize=7, loc="upper left", ncol=3)
    axes[-1].set_xlabel("time [year]")
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def dra_png(path, result, project: str) -> None:
    """Three panels, none empty: daily WRMS and stations used per day (one time axis), and the histogram of the
    stations' WRMS per component. Counts (stations, histogram bins) get integer ticks."""
    from matplotlib.ticker import MaxNLocator

    plt = pyplot()
    fig = plt.figure(figsize=(12, 7), layout="constrained")
    grid = fig.add_gridspec(2, 2)
    wrms_ax = fig.add_subplot(grid[0, 0])
    used_ax = fig.add_subplot(grid[1, 0], sharex=wrms_ax)
    hist_ax = fig.add_subplot(grid[:, 1])
    t = [d["fyear"] for d in result.days]
    wrms_ax.plot(t, [d["wrms_mm"] for d in result.days], ".", ms=3)
    wrms_ax.set_ylabel("daily WRMS [mm]")
    used_ax.plot(t, [d["stations_used"] for d in result.days], ".", ms=3)
    used_ax.set_ylabel("stations used")
    used_ax.set_xlabel("year")
    used_ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    wr = np.array([s["wrms_mm"] for s in result.stations.values() if s["wrms_mm"]]).reshape(-1, 3)
    for i, comp in enumerate("NEU"):
        if len(wr):
            hist_ax.hist(wr[:, i], bins=min(40, max(5, len(wr))), histtype="step", label=comp)
    hist_ax.set_xlabel("station WRMS [mm]")
    hist_ax.set_ylabel("stations")
    hist_ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    if len(wr):
        hist_ax.legend()
    fig.suptitle(f"Daily repeatability analysis for project {project}")
    fig.savefig(path, dpi=90)
    plt.close(fig)


def availability_limits(year_doys: list[tuple[int, int]]) -> tuple[tuple[float, float], tuple[float, float]]:
    """The chart's (x, y) limits: the data's own years (half a year of margin) and the whole year of days."""
    if year_doys:
        years = [y for y, _ in year_doys]
        first, last = min(years), max(years)
    else:
        import datetime as dt

        first = last = dt.date.today().year
    return (first - 0.5, last + 0.5), (0.0, 367.0)


def availability_figure(year_doys: list[tuple[int, int]], title: str):
    """The year × day-of-year chart: one short bar per day with data in its year's column."""
    from matplotlib.ticker import MaxNLocator

    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6, 3), layout="constrained")
    (x0, x1), (y0, y1) = availability_limits(year_doys)
    if year_doys:
        y, d = np.array(year_doys, dtype=float).T
        ax.hlines(d, y - 0.35, y + 0.35, color="tab:blue", lw=1)
    else:
        ax.text(0.5, 0.5, "no RINEX data", transform=ax.transAxes, ha="center", va="center", color="grey")
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    first, last = int(x0 + 0.5), int(x1 - 0.5)
    if last - first <= 12:
        ax.set_xticks(range(first, last + 1))  # every year of the data, nothing between
    else:
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("year")
    ax.set_ylabel("day of year")
    ax.set_title(title, fontsize=9)
    return fig


def availability_png(year_doys: list[tuple[int, int]], title: str) -> bytes:
    """Year × day-of-year chart of days with data, as PNG bytes (labels inside the image)."""
    plt = pyplot()
    fig = availability_figure(year_doys, title)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=70)
    plt.close(fig)
    return buf.getvalue()
