"""Per-station trends of the RINEX quality metrics (``rinex_qc``) and the degradations they reveal.

A station is compared with itself: for each metric, the **recent window** (the last ``recent_days`` days, 7 by
default) against the **baseline** (the ``baseline_days`` days before it, 90 by default): the baseline's median
and robust spread σ = 1.4826 · MAD (never below a floor, so a perfectly flat baseline does not turn noise into
alarms). A metric is *beyond* on a day when its value is more than ``sigmas`` σ (3) from the baseline median in
the bad direction. The rules, evaluated day by day over the last ``history_days`` (365):

* ``mp_up`` — code multipath RMS of a band (MP1 = G1, MP2 = G2, every band measured) up: beyond on at least
  ``sustained`` (80 %) of the recent window's days with a value (and at least ``min_recent`` of them, 5), i.e.
  sustained for a week, not one bad day. σ floor: ``mp_floor`` (5 %) of the baseline median.
* ``slips_up`` — teqc's o/slps collapsing (observations per cycle slip falling; a day without slips counts as
  all its observations per one slip), compared in log10, same sustained rule. σ floor ``slips_floor`` (0.15 in
  log10, a factor 1.4): only a real collapse, not the day-to-day scatter, is flagged.
* ``completeness_down`` / ``elev_completeness_down`` — epochs (or observations above 10°) present vs expected
  falling, same sustained rule, σ floor ``completeness_floor`` percentage points (1).
* ``clock_jumps`` — a new clock-jump pattern: a station whose receiver did not jump (jumps on at most
  ``clock_quiet``, 10 %, of its baseline days) jumps on ``clock_days`` (3) or more of the recent days; a receiver
  that always jumps is flagged when its daily count goes up by the sustained rule (σ floor 1 jump).

A baseline needs ``min_baseline`` days with a value (14), the recent window ``min_recent``. Once a flag is
raised its baseline is frozen — a lasting degradation does not become the new normal after a few weeks — and
the flag clears when fewer than half of a recent window's days are beyond that frozen baseline (a new clock-jump
pattern: when at most ``clock_days`` - 2 of the window's days have jumps). ``since`` is the
first bad day of the window that raised the flag; ``flagged_on`` the day the rule first held. Rows of one
metric version only are compared (``rinex_qc.qc_version``).
"""

from __future__ import annotations

import bisect
import datetime as dt
import math
import statistics
from dataclasses import dataclass, field

MAD_SCALE = 1.4826


@dataclass(frozen=True)
class TrendOptions:
    recent_days: int = 7
    baseline_days: int = 90
    history_days: int = 365
    min_recent: int = 5
    min_baseline: int = 14
    sigmas: float = 3.0
    sustained: float = 0.8
    mp_floor: float = 0.05
    slips_floor: float = 0.15
    completeness_floor: float = 1.0
    clock_days: int = 3
    clock_quiet: float = 0.1


@dataclass
class Flag:
    kind: str  # mp_up | slips_up | completeness_down | elev_completeness_down | clock_jumps
    metric: str
    since: dt.date  # first bad day of the window that raised it
    flagged_on: dt.date  # last day of that window
    detail: str
    cleared_on: dt.date | None = None  # None: still raised at the end of the series


@dataclass
class MetricTrend:
    metric: str
    unit: str
    recent: float | None  # median over the recent window
    baseline: float | None  # baseline median (the frozen one while flagged)
    sigma: float | None  # robust spread of the baseline (floored); in log10 for o/slps (``log``)
    n_recent: int
    n_baseline: int
    flag: str = ""  # the kind of the raised flag, if any
    log: bool = False  # compared in log10 (sigma is in log10)


@dataclass
class StationTrend:
    station: str
    days: int  # days with QC rows (of this metric version)
    first_day: dt.date | None
    last_day: dt.date | None
    metrics: list[MetricTrend] = field(default_factory=list)
    flags: list[Flag] = field(default_factory=list)  # raised at last_day
    episodes: list[Flag] = field(default_factory=list)  # every flag over the history, cleared ones too
    latest: dict = field(default_factory=dict)  # the last QC day: day, filename and the scalar values


# --- the metrics and their rules -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Rule:
    metric: str
    kind: str
    unit: str
    direction: int  # +1: up is bad; -1: down is bad
    log: bool = False  # compare log10 values (o/slps)

    def floor(self, opt: TrendOptions, median: float) -> float:
        if self.kind == "mp_up":
            return max(opt.mp_floor * abs(median), 1e-3)
        if self.kind == "slips_up":
            return opt.slips_floor
        if self.kind == "clock_jumps":
            return 1.0
        return opt.completeness_floor


def _ops(values: dict) -> float | None:
    """Observations per slip for the day; a day without slips counts as its observations over one slip."""
    if values.get("obs_per_slip") is not None:
        return values["obs_per_slip"]
    obs = values.get("observations")
    return float(obs) if obs else None


def _rules(series) -> list[tuple[_Rule, list[dt.date], list[float]]]:
    bands = sorted({k for d in series for k in d.values if k.startswith("mp:")})
    rules = [_Rule(f"MP {b[3:]}", "mp_up", "m", +1) for b in bands]
    rules += [_Rule("o/slps", "slips_up", "", -1, log=True), _Rule("completeness", "completeness_down", "%", -1),
              _Rule("elev. completeness", "elev_completeness_down", "%", -1), _Rule("clock jumps", "clock_jumps",
                                                                                    "/day", +1)]
    getters = {"completeness": lambda v: v.get("completeness"),
               "elev. completeness": lambda v: v.get("elev_completeness"),
               "o/slps": _ops, "clock jumps": lambda v: v.get("clock_jumps")}
    out = []
    for rule in rules:
        get = getters.get(rule.metric) or (lambda v, key="mp:" + rule.metric[3:]: v.get(key))
        days, values = [], []
        for d in series:
            x = get(d.values)
            if x is None or (isinstance(x, float) and not math.isfinite(x)):
                continue
            if rule.log:
                if x <= 0:
                    continue
                x = math.log10(x)
            days.append(d.day)
            values.append(float(x))
        if days:
            out.append((rule, days, values))
    return out


def _window(days: list[dt.date], values: list[float], after: dt.date, upto: dt.date) -> tuple[list[dt.date], list[float]]:
    lo, hi = bisect.bisect_right(days, after), bisect.bisect_right(days, upto)
    return days[lo:hi], values[lo:hi]


@dataclass
class _Baseline:
    median: float
    sigma: float
    n: int
    jump_fraction: float  # clock jumps: fraction of the baseline days with a jump


def _baseline(rule: _Rule, values: list[float], opt: TrendOptions) -> _Baseline | None:
    if len(values) < opt.min_baseline:
        return None
    med = statistics.median(values)
    mad = statistics.median(abs(v - med) for v in values)
    return _Baseline(med, max(MAD_SCALE * mad, rule.floor(opt, med)), len(values),
                     sum(v > 0 for v in values) / len(values))


def _beyond(rule: _Rule, base: _Baseline, value: float, opt: TrendOptions) -> bool:
    if rule.kind == "clock_jumps" and base.jump_fraction <= opt.clock_quiet:
        return value > 0
    return rule.direction * (value - base.median) > opt.sigmas * base.sigma


def _raised(rule: _Rule, base: _Baseline, recent: list[float], opt: TrendOptions) -> bool:
    if len(recent) < opt.min_recent:
        return False
    bad = sum(_beyond(rule, base, v, opt) for v in recent)
    if rule.kind == "clock_jumps" and base.jump_fraction <= opt.clock_quiet:
        return bad >= opt.clock_days
    return bad >= opt.sustained * len(recent)


def _cleared(rule: _Rule, base: _Baseline, recent: list[float], opt: TrendOptions) -> bool:
    if len(recent) < opt.min_recent:
        return False
    bad = sum(_beyond(rule, base, v, opt) for v in recent)
    if rule.kind == "clock_jumps" and base.jump_fraction <= opt.clock_quiet:
        return bad < max(1, opt.clock_days - 1)
    return bad < 0.5 * len(recent)


def _show(rule: _Rule, x: float | None) -> float | None:
    if x is None:
        return None
    return 10 ** x if rule.log else x


def _fmt(rule: _Rule, x: float) -> str:
    x = _show(rule, x)
    if rule.kind == "mp_up":
        return f"{x:.3f} m"
    if rule.log:
        return f"{x:.0f}"
    if rule.kind == "clock_jumps":
        return f"{x:g}/day"
    return f"{x:.1f} %"


def _detail(rule: _Rule, base: _Baseline, recent: list[float], opt: TrendOptions) -> str:
    med = statistics.median(recent)
    if rule.kind == "clock_jumps" and base.jump_fraction <= opt.clock_quiet:
        n = sum(v > 0 for v in recent)
        return (f"clock jumps on {n} of the last {len(recent)} days with data (baseline: jumps on "
                f"{base.jump_fraction:.0%} of {base.n} days)")
    if rule.log:
        spread = f"(robust sigma: a factor {10 ** base.sigma:.2f})"
    elif rule.kind == "mp_up":
        spread = f"± {base.sigma:.3f} m"
    elif rule.kind == "clock_jumps":
        spread = f"± {base.sigma:g}/day"
    else:
        spread = f"± {base.sigma:.1f} %"
    sig = abs(med - base.median) / base.sigma if base.sigma else float("inf")
    word = "up" if rule.direction > 0 else "down"
    return (f"{rule.metric} {_fmt(rule, med)} over the last {opt.recent_days} days vs baseline "
            f"{_fmt(rule, base.median)} {spread}: {sig:.1f} sigma {word}")


def _evaluate(rule: _Rule, days: list[dt.date], values: list[float], end: dt.date, opt: TrendOptions
              ) -> tuple[MetricTrend, list[Flag], Flag | None]:
    """Walk the rule forward over the history up to ``end``: (state at end, every episode, the raised one)."""
    rec, base = dt.timedelta(days=opt.recent_days), dt.timedelta(days=opt.baseline_days)
    start = end - dt.timedelta(days=opt.history_days)
    episodes: list[Flag] = []
    active: Flag | None = None
    frozen: _Baseline | None = None
    last_base: _Baseline | None = None
    last_recent: list[float] = []
    for e in sorted({d for d in days if start <= d <= end}):
        rdays, recent = _window(days, values, e - rec, e)
        if active is None:
            b = _baseline(rule, _window(days, values, e - rec - base, e - rec)[1], opt)
            last_base, last_recent = b, recent
            if b is not None and _raised(rule, b, recent, opt):
                first_bad = next(d for d, v in zip(rdays, recent) if _beyond(rule, b, v, opt))
                active = Flag(rule.kind, rule.metric, first_bad, e, _detail(rule, b, recent, opt))
                frozen = b
                episodes.append(active)
        else:
            assert frozen is not None
            last_base, last_recent = frozen, recent
            if _cleared(rule, frozen, recent, opt):
                active.cleared_on = e
                active, frozen = None, None
            elif len(recent) >= opt.min_recent:
                active.detail = _detail(rule, frozen, recent, opt)
    _, recent_now = _window(days, values, end - rec, end)
    if active is None:  # the state at `end` itself (it may have no data)
        last_base = _baseline(rule, _window(days, values, end - rec - base, end - rec)[1], opt)
    last_recent = recent_now
    trend = MetricTrend(rule.metric, rule.unit, _show(rule, statistics.median(last_recent)) if last_recent else None,
                        _show(rule, last_base.median) if last_base else None,
                        last_base.sigma if last_base else None, len(last_recent), last_base.n if last_base else 0,
                        active.kind if active else "", rule.log)
    return trend, episodes, active


def station_trend(station: str, series, options: TrendOptions | None = None,
                  end: dt.date | None = None) -> StationTrend:
    """Trends and flags of one station from its QC days (``geode.archive.qc_store.station_series``), at
    ``end`` (default: its last QC day)."""
    opt = options or TrendOptions()
    series = [d for d in series if end is None or d.day <= end]
    if not series:
        return StationTrend(station, 0, None, None)
    end = end or series[-1].day
    out = StationTrend(station, len(series), series[0].day, series[-1].day)
    out.latest = {"day": series[-1].day, "filename": series[-1].filename, **series[-1].values}
    for rule, days, values in _rules(series):
        trend, episodes, active = _evaluate(rule, days, values, end, opt)
        out.metrics.append(trend)
        out.episodes += episodes
        if active is not None:
            out.flags.append(active)
    return out


def qc_trends(db, refs, options: TrendOptions | None = None, end: dt.date | None = None) -> list[StationTrend]:
    """``station_trend`` for each StationRef, from its rinex_qc rows of the current metric version."""
    from .qc_store import station_series

    return [station_trend(str(ref), station_series(db, ref.network, ref.code, end=end), options, end)
            for ref in refs]


def _day(d: dt.date | None) -> str | None:
    """A station-day as every output writes it, YYYY_DDD."""
    return d.strftime("%Y_%j") if d else None


def flag_json(f: Flag) -> dict:
    return {"kind": f.kind, "metric": f.metric, "since": _day(f.since), "flagged_on": _day(f.flagged_on),
            "cleared_on": _day(f.cleared_on), "detail": f.detail}


def trend_json(t: StationTrend) -> dict:
    """A JSON-able form of a StationTrend (days as YYYY_DDD)."""
    latest = {k: (_day(v) if isinstance(v, dt.date) else v) for k, v in t.latest.items()}
    return {"station": t.station, "days": t.days, "first_day": _day(t.first_day), "last_day": _day(t.last_day),
            "latest": latest,
            "metrics": [{"metric": m.metric, "unit": m.unit, "recent": m.recent, "baseline": m.baseline,
                         "sigma": m.sigma, "sigma_log10": m.log, "n_recent": m.n_recent, "n_baseline": m.n_baseline,
                         "flag": m.flag or None} for m in t.metrics],
            "flags": [flag_json(f) for f in t.flags], "episodes": [flag_json(f) for f in t.episodes]}
