"""``geode scan qc --plot DIR``: one PNG per station with its QC time series (matplotlib, imported here only).

Four panels sharing the time axis: completeness (and above 10° when measured), code multipath RMS per band,
observations per slip (log scale), clock jumps and gaps per day. Station-information changes (the start of each
station.info record after the first) are vertical lines labelled with the new receiver/antenna; the periods of
the trend flags (``geode.archive.qc_trends``) are shaded red.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path


def station_changes(records) -> list[tuple[dt.datetime, str]]:
    """(start, label) of every station.info record after the first, labelled with what changed."""
    out = []
    for prev, rec in zip(records, records[1:]):
        what = []
        if prev.receiver_code != rec.receiver_code or prev.receiver_serial != rec.receiver_serial:
            what.append(rec.receiver_code)
        if prev.antenna_code != rec.antenna_code or prev.radome_code != rec.radome_code or \
                prev.antenna_serial != rec.antenna_serial:
            what.append(f"{rec.antenna_code} {rec.radome_code}")
        if abs(prev.antenna_height - rec.antenna_height) > 0.0005:
            what.append(f"h {rec.antenna_height:.4f}")
        out.append((rec.date_start, ", ".join(what) or "station info"))
    return out


def qc_png(path: Path, station: str, series, trend, changes: list[tuple[dt.datetime, str]]) -> Path:
    """Write the station's QC figure to ``path`` (see the module)."""
    from ..plots import pyplot

    plt = pyplot()
    days = [dt.datetime.combine(d.day, dt.time(12)) for d in series]

    def column(key):
        pts = [(t, d.values.get(key)) for t, d in zip(days, series)]
        return [t for t, v in pts if v is not None], [v for t, v in pts if v is not None]

    fig, axes = plt.subplots(4, 1, figsize=(11, 10), sharex=True)
    ax = axes[0]
    ax.plot(*column("completeness"), ".", ms=3, label="completeness")
    t, v = column("elev_completeness")
    if t:
        ax.plot(t, v, ".", ms=3, label="above 10°")
    ax.set_ylabel("completeness [%]")
    ax.legend(fontsize=7, loc="lower left")

    ax = axes[1]
    bands = sorted({k for d in series for k in d.values if k.startswith("mp:")})
    for key in bands:
        ax.plot(*column(key), ".", ms=3, label=f"MP {key[3:]}")
    ax.set_ylabel("multipath RMS [m]")
    if bands:
        ax.legend(fontsize=7, loc="upper left", ncol=min(len(bands), 6))

    ax = axes[2]
    pts = [(t, d.values.get("obs_per_slip")) for t, d in zip(days, series)]
    ax.plot([t for t, v in pts if v], [v for t, v in pts if v], ".", ms=3, label="o/slps")
    nos = [t for t, v in pts if v is None]
    if nos:
        ax.plot(nos, [max([v for _, v in pts if v] or [1.0])] * len(nos), "|", ms=6, color="tab:green",
                label="no slip")
    if any(v for _, v in pts):
        ax.set_yscale("log")
    ax.set_ylabel("observations per slip")
    ax.legend(fontsize=7, loc="lower left")

    ax = axes[3]
    for key, label in (("clock_jumps", "clock jumps"), ("sat_gaps", "satellite gaps"), ("epoch_gaps", "epoch gaps")):
        t, v = column(key)
        if t:
            ax.plot(t, v, ".", ms=3, label=label)
    ax.set_ylabel("per day")
    ax.legend(fontsize=7, loc="upper left")

    end = days[-1] if days else None
    for f in trend.episodes if trend is not None else []:
        stop = dt.datetime.combine(f.cleared_on, dt.time()) if f.cleared_on else end
        for ax in axes:
            ax.axvspan(dt.datetime.combine(f.since, dt.time()), stop, color="tab:red", alpha=0.12, lw=0)
    for when, label in changes:
        for i, ax in enumerate(axes):
            ax.axvline(when, color="tab:purple", ls="--", lw=1)
            if i == 0:
                ax.annotate(label, (when, 1), xycoords=("data", "axes fraction"), fontsize=7, rotation=90,
                            va="top", ha="right", color="tab:purple")
    if days:
        pad = dt.timedelta(days=1)
        axes[-1].set_xlim(days[0] - pad, days[-1] + pad)
    flags = ", ".join(f"{f.kind} ({f.metric}) since {f.since:%Y_%j}" for f in trend.flags) \
        if trend is not None and trend.flags else "no flags"
    fig.suptitle(f"{station}: RINEX quality ({len(series)} days); {flags}", fontsize=10)
    fig.autofmt_xdate()
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return Path(path)
