"""QC trends and alerts on synthetic daily QC rows: a degradation injected at a known date is flagged from
that week (and not before), a stable station with realistic day-to-day noise is never flagged."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from geode.archive.qc_store import QCDay
from geode.archive.qc_trends import TrendOptions, station_trend

START = dt.date(2024, 1, 1)
DAYS = 240
INJECT = START + dt.timedelta(days=180)  # the degradation's first day


def series(seed: int = 7, *, mp2_from=None, mp2_factor=1.0, slips_from=None, completeness_from=None,
           clock_from=None, gaps=()) -> list[QCDay]:
    """One file per day: MP1 0.30 m and MP2 0.42 m (1.5 cm day-to-day scatter), ~20 slips over ~40000
    observations (Poisson), completeness 99-100 %, no clock jumps; optional degradations from a date."""
    rnd = random.Random(seed)
    out = []
    for i in range(DAYS):
        day = START + dt.timedelta(days=i)
        if day in gaps:
            continue
        obs = rnd.randint(39000, 41000)
        slips = sum(rnd.random() < 20 / 400 for _ in range(400))
        if slips_from and day >= slips_from:
            slips = sum(rnd.random() < 400 / 400 * 0.5 for _ in range(400))  # ~200 slips: o/slps /10
        mp2 = rnd.gauss(0.42, 0.015)
        if mp2_from and day >= mp2_from:
            mp2 *= mp2_factor
        completeness = min(100.0, rnd.gauss(99.7, 0.3))
        if completeness_from and day >= completeness_from:
            completeness = rnd.gauss(85.0, 2.0)
        jumps = rnd.randint(1, 4) if clock_from and day >= clock_from and rnd.random() < 0.8 else 0
        values = {"completeness": completeness, "mp1": rnd.gauss(0.30, 0.015), "mp2": mp2,
                  "observations": float(obs), "slips": float(slips),
                  "obs_per_slip": obs / slips if slips else None, "clock_jumps": float(jumps),
                  "elev_completeness": None}
        values["mp:G1"], values["mp:G2"] = values["mp1"], values["mp2"]
        out.append(QCDay(day, f"test{i:03d}0.24o", values))
    return out


def kinds(trend):
    return {(f.kind, f.metric) for f in trend.flags}


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_stable_station_is_never_flagged(seed):
    trend = station_trend("igs.test", series(seed))
    assert trend.flags == [] and trend.episodes == []
    by = {m.metric: m for m in trend.metrics}
    assert by["MP G2"].baseline == pytest.approx(0.42, abs=0.01) and by["MP G2"].n_baseline > 80
    assert by["MP G1"].recent == pytest.approx(0.30, abs=0.02) and by["MP G1"].n_recent == 7


def test_stable_station_with_missing_days_is_never_flagged():
    gaps = {START + dt.timedelta(days=d) for d in range(0, DAYS, 3)}
    assert station_trend("igs.test", series(4, gaps=gaps)).episodes == []


def test_multipath_increase_flagged_from_the_week_it_starts():
    data = series(mp2_from=INJECT, mp2_factor=1.4)  # 0.42 -> 0.59 m, ~11 sigma
    before = station_trend("igs.test", data, end=INJECT - dt.timedelta(days=1))
    assert before.flags == []
    trend = station_trend("igs.test", data)
    assert kinds(trend) == {("mp_up", "MP G2")}
    flag = trend.flags[0]
    assert flag.since == INJECT  # the first bad day
    assert INJECT <= flag.flagged_on <= INJECT + dt.timedelta(days=6)  # raised within that week
    assert "MP G2" in flag.detail and "sigma up" in flag.detail
    # 60 days later the degradation is still flagged: the baseline froze when the flag was raised
    assert (trend.last_day - INJECT).days == 59 and flag.cleared_on is None
    assert [m.flag for m in trend.metrics if m.metric == "MP G2"] == ["mp_up"]


def test_one_bad_day_is_not_sustained():
    data = series(mp2_from=INJECT, mp2_factor=1.4)
    for d in data:  # only the injection day stays bad
        if d.day > INJECT:
            d.values["mp:G2"] = d.values["mp2"] = d.values["mp2"] / 1.4
    assert station_trend("igs.test", data).episodes == []


def test_slips_completeness_and_clock_jumps():
    trend = station_trend("igs.test", series(slips_from=INJECT, completeness_from=INJECT, clock_from=INJECT))
    assert kinds(trend) == {("slips_up", "o/slps"), ("completeness_down", "completeness"),
                            ("clock_jumps", "clock jumps")}
    for f in trend.flags:
        assert INJECT <= f.since <= INJECT + dt.timedelta(days=6), f
        assert f.flagged_on <= INJECT + dt.timedelta(days=6), f
    assert station_trend("igs.test", series(slips_from=INJECT, completeness_from=INJECT, clock_from=INJECT),
                         end=INJECT - dt.timedelta(days=1)).flags == []


def test_recovery_clears_the_flag_and_windows_are_options():
    data = series(mp2_from=INJECT, mp2_factor=1.4)
    healed = INJECT + dt.timedelta(days=20)
    for d in data:
        if d.day >= healed:
            d.values["mp:G2"] = d.values["mp2"] = d.values["mp2"] / 1.4
    trend = station_trend("igs.test", data)
    assert trend.flags == [] and len(trend.episodes) == 1
    assert healed <= trend.episodes[0].cleared_on <= healed + dt.timedelta(days=7)
    # a baseline longer than the history there is: nothing can be said, nothing is flagged
    assert station_trend("igs.test", series(mp2_from=INJECT, mp2_factor=1.4),
                         TrendOptions(baseline_days=30, min_baseline=400)).flags == []
    # a looser threshold (more sigmas than the jump) does not flag it
    assert station_trend("igs.test", series(mp2_from=INJECT, mp2_factor=1.4), TrendOptions(sigmas=30)).flags == []


def test_plot_marks_station_info_changes(tmp_path):
    from geode.archive.qc_plot import qc_png, station_changes
    from geode.stationinfo import StationInfoRecord

    recs = [StationInfoRecord("test", dt.datetime(2023, 1, 1), dt.datetime(2024, 3, 1), receiver_code="TRIMBLE NETR9",
                              antenna_code="TRM59800.00", radome_code="SCIS"),
            StationInfoRecord("test", dt.datetime(2024, 3, 1, 0, 0, 1), dt.datetime(2024, 5, 1),
                              receiver_code="SEPT POLARX5", antenna_code="TRM59800.00", radome_code="SCIS"),
            StationInfoRecord("test", dt.datetime(2024, 5, 1, 0, 0, 1), None, receiver_code="SEPT POLARX5",
                              antenna_code="TRM59800.00", radome_code="SCIS", antenna_height=0.1)]
    changes = station_changes(recs)
    assert changes == [(dt.datetime(2024, 3, 1, 0, 0, 1), "SEPT POLARX5"), (dt.datetime(2024, 5, 1, 0, 0, 1),
                                                                            "h 0.1000")]
    data = series(mp2_from=INJECT, mp2_factor=1.4)
    png = qc_png(tmp_path / "t.png", "igs.test", data, station_trend("igs.test", data), changes)
    assert png.read_bytes()[:4] == b"\x89PNG"
