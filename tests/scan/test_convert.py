"""RINEX 3 / 2 → 2.11 conversion for the PPP engine: checked against the generator and against georinex."""

from __future__ import annotations

import datetime as dt
import math
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from geode.rinex import RinexFileError, to_rinex2
from geode.rinex.reader import read_rinex_text
from geode.rinex.synth import SynthSpec, _value, render

DAY = dt.date(2024, 4, 9)
V3 = SynthSpec(version=3.04, start=dt.datetime(2024, 4, 9, 6), interval=30.0, epochs=6,
               satellites=("G05", "G12", "R07", "E11", "C20"),
               obs_types=("C1C", "L1C", "C2W", "L2W", "S1C", "C5Q", "L5Q"))
# what each kept system of V3 writes under each RINEX 2 type (V2_FROM_V3 applied by hand)
MAPPED = {"G": {"C1": "C1C", "L1": "L1C", "S1": "S1C", "P2": "C2W", "L2": "L2W", "C5": "C5Q", "L5": "L5Q"},
          "R": {"C1": "C1C", "L1": "L1C", "S1": "S1C"},
          "E": {"C1": "C1C", "L1": "L1C", "S1": "S1C", "C5": "C5Q", "L5": "L5Q"}}
V2_TYPES = ["C1", "L1", "S1", "P2", "L2", "C5", "L5"]  # canonical order: by band, then C P L D S
# 1 s data from 23:59:00 the day before to 00:01:00 the day after; the gap keeps the file small
MIDNIGHTS = V3.with_(start=dt.datetime(2024, 4, 8, 23, 59), interval=1.0, epochs=60 + 86400 + 61, gap=(180, 86280))
V2 = SynthSpec(version=2.11, start=dt.datetime(2024, 4, 9, 23, 58), interval=1.0, epochs=180,
               satellites=tuple(f"G{i:02d}" for i in range(1, 15)) + ("R03",),
               obs_types=("C1C", "L1C", "L2W", "P2W", "S1C", "S2W", "D1C"))


def load(path: Path, **kwargs):
    import georinex

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # xarray FutureWarnings from georinex's merges
        return georinex.load(path, **kwargs)


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def header(text: str) -> list[str]:
    lines = text.splitlines()
    return lines[:next(i for i, line in enumerate(lines) if "END OF HEADER" in line) + 1]


def labelled(text: str, label: str) -> list[str]:
    return [line for line in header(text) if line[60:].strip() == label]


def test_v3_values_match_georinex_on_both_files(tmp_path):
    v3 = render(V3)
    v2 = to_rinex2(v3.encode())
    a, b = load(write(tmp_path, "a.rnx", v3)), load(write(tmp_path, "a.24o", v2))
    assert sorted(b.sv.values) == ["E11", "G05", "G12", "R07"]  # C20: BeiDou has no RINEX 2 letter
    assert list(b.data_vars) == V2_TYPES
    assert (a.time.values == b.time.values).all()
    for sv in b.sv.values:
        for v2_type in V2_TYPES:
            got = b[v2_type].sel(sv=sv).values
            if v2_type in MAPPED[sv[0]]:
                np.testing.assert_array_equal(got, a[MAPPED[sv[0]][v2_type]].sel(sv=sv).values)
            else:
                assert np.isnan(got).all(), (sv, v2_type)  # blank: the system does not provide it
    k = np.arange(V3.epochs)
    np.testing.assert_allclose(b["P2"].sel(sv="G12").values, _value("C2W", 12, k))


def test_v3_header_is_rewritten_and_the_rest_kept_verbatim():
    v3 = render(V3)
    v2 = to_rinex2(v3)
    out = header(v2)
    assert out[0] == f"{'2.11':>9}{'':11}{'OBSERVATION DATA':<20}{'M':<20}RINEX VERSION / TYPE"
    assert out[1].startswith("converted by geode from RINEX 3.04") and out[1].endswith("COMMENT")
    assert labelled(v2, "WAVELENGTH FACT L1/2") == [f"{1:6d}{1:6d}{'':48}WAVELENGTH FACT L1/2"]
    assert labelled(v2, "# / TYPES OF OBSERV") == [
        f"{7:6d}" + "".join(f"{t:>6}" for t in V2_TYPES).ljust(54) + "# / TYPES OF OBSERV"]
    assert not labelled(v2, "SYS / # / OBS TYPES")
    rewritten = ("RINEX VERSION / TYPE", "SYS / # / OBS TYPES", "INTERVAL", "TIME OF FIRST OBS", "TIME OF LAST OBS")
    kept = [line for line in header(v3) if line[60:].strip() not in rewritten]
    assert [line for line in out if line in kept] == kept  # verbatim and in order
    assert out.index(labelled(v2, "# / TYPES OF OBSERV")[0]) < out.index(labelled(v2, "INTERVAL")[0])
    h, epochs = read_rinex_text(v2)
    assert (h.version, h.system, h.obs_types) == (2.11, "M", {"M": V2_TYPES})
    assert (h.first_obs, h.last_obs, h.interval) == (V3.epoch_times[0], V3.epoch_times[-1], 30.0)
    assert epochs == V3.epoch_times


def test_single_kept_system_names_it_and_v3_only_records_are_dropped():
    v3 = render(V3.with_(satellites=("G05", "C20")))
    extra = [f"{body:<60}{label}" for body, label in (
        ("G    1 C1C  0.25000", "SYS / PHASE SHIFT"), (" 24 R01  1 R02 -4", "GLONASS SLOT / FRQ #"),
        ("DBHZ", "SIGNAL STRENGTH UNIT"), ("GEODETIC", "MARKER TYPE"), ("    12", "# OF SATELLITES"))]
    v3 = v3.replace("    30.000", "\n".join(extra) + "\n    30.000", 1)
    v2 = to_rinex2(v3)
    assert header(v2)[0][40:41] == "G"
    assert not any(line in header(v2) for line in extra)
    assert "C20" not in v2.split("END OF HEADER")[1]


def test_only_beidou_is_an_error():
    with pytest.raises(RinexFileError, match="no GPS, GLONASS, Galileo or SBAS"):
        to_rinex2(render(V3.with_(satellites=("C20", "C21"))))


def test_day_window_and_decimation_across_both_midnights(tmp_path):
    v2 = to_rinex2(render(MIDNIGHTS).encode(), day=DAY, decimate_to=30)
    expected = [t for t in MIDNIGHTS.epoch_times if t.date() == DAY and t.second % 30 == 0]
    assert len(expected) == 10 and expected[0] == dt.datetime(2024, 4, 9) and expected[-1].hour == 23
    h, epochs = read_rinex_text(v2)
    assert epochs == expected
    assert (h.interval, h.first_obs, h.last_obs) == (30.0, expected[0], expected[-1])
    b = load(write(tmp_path, "b.24o", v2))
    assert list(b.time.values.astype("datetime64[us]").tolist()) == expected
    k = np.array([(t - MIDNIGHTS.start).total_seconds() for t in expected])  # generator epoch index (1 s step)
    np.testing.assert_allclose(b["L1"].sel(sv="E11").values, _value("L1C", 11, k))
    np.testing.assert_allclose(b["L5"].sel(sv="G05").values, _value("L5Q", 5, k))


def test_window_around_midnight_matches_georinex_on_the_original(tmp_path):
    spec = V3.with_(start=dt.datetime(2024, 4, 8, 23, 59, 50), interval=5.0, epochs=16)  # 23:59:50 → 00:01:05
    v3 = render(spec)
    a = load(write(tmp_path, "c.rnx", v3), tlim=(dt.datetime(2024, 4, 9), dt.datetime(2024, 4, 10)))
    b = load(write(tmp_path, "c.24o", to_rinex2(v3, day=DAY, decimate_to=30)))
    assert a.time.size == 14 and b.time.size == 3  # 00:00:00, 00:00:30, 00:01:00
    a = a.sel(time=b.time)
    for sv in b.sv.values:
        for v2_type, v3_code in MAPPED[sv[0]].items():
            np.testing.assert_array_equal(b[v2_type].sel(sv=sv).values, a[v3_code].sel(sv=sv).values)


def test_v2_round_trips_unchanged():
    v2 = render(V2)  # 15 satellites (continuation line), 7 types (2 lines per satellite)
    out = to_rinex2(v2)
    assert out.split("END OF HEADER\n")[1] == v2.split("END OF HEADER\n")[1]
    assert labelled(out, "# / TYPES OF OBSERV") == labelled(v2, "# / TYPES OF OBSERV")
    assert labelled(out, "WAVELENGTH FACT L1/2") == labelled(v2, "WAVELENGTH FACT L1/2")
    assert "converted by geode from RINEX 2.11" in out


def test_v2_window_and_decimation_keep_the_records_as_they_are():
    v2 = render(V2)
    out = to_rinex2(v2, day=DAY, decimate_to=30)
    size = math.ceil(len(V2.satellites) / 12) + len(V2.satellites) * math.ceil(len(V2.obs_types) / 5)
    body = v2.split("END OF HEADER\n")[1].splitlines(keepends=True)
    records = ["".join(body[i:i + size]) for i in range(0, len(body), size)]
    kept = [r for r, t in zip(records, V2.epoch_times) if t.date() == DAY and t.second % 30 == 0]
    assert len(kept) == 4  # 23:58:00 … 23:59:30; 00:00:xx the next day is cut
    assert out.split("END OF HEADER\n")[1] == "".join(kept)
    assert labelled(out, "INTERVAL")[0].startswith("    30.000")


def test_receiver_clock_offset_goes_to_columns_69_80_of_the_first_line():
    spec = V3.with_(satellites=tuple(f"G{i:02d}" for i in range(1, 15)), epochs=1)
    text = render(spec).replace("  0 14\n", "  0 14      -0.000123456789\n", 1)  # F15.12 after 6 blanks
    body = to_rinex2(text).split("END OF HEADER\n")[1].splitlines()
    assert body[0] == " 24  4  9  6  0  0.0000000  0 14" + "".join(spec.satellites[:12]) + "-0.000123457"
    assert body[1] == " " * 32 + "G13G14"


def set_indicators(line: str, field: int, lli: str, ssi: str) -> str:
    at = 3 + 16 * field + 14
    line = line.ljust(at + 2)
    return line[:at] + lli + ssi + line[at + 2:]


def test_lli_and_signal_strength_are_carried(tmp_path):
    lines = render(V3).splitlines()
    first = next(i for i, line in enumerate(lines) if line.startswith(">")) + 1  # G05, first epoch
    lines[first] = set_indicators(set_indicators(lines[first], 1, "1", "7"), 6, "4", " ")  # L1C, L5Q
    lines[first] = set_indicators(lines[first], 0, " ", "8")  # C1C
    v3 = "\n".join(lines) + "\n"
    v2 = to_rinex2(v3)
    g05 = v2.split("END OF HEADER\n")[1].splitlines()[1:3]
    assert g05[0][14:16] == " 8" and g05[0][30:32] == "17" and g05[1][30:32] == "4"  # C1, L1; L5 (last field)
    a = load(write(tmp_path, "d.rnx", v3), useindicators=True)
    b = load(write(tmp_path, "d.24o", v2), useindicators=True)
    for v2_type, v3_code in (("L1lli", "L1Clli"), ("L1ssi", "L1Cssi"), ("C1ssi", "C1Cssi")):  # georinex: no L5Qlli
        np.testing.assert_array_equal(b[v2_type].sel(sv="G05").values, a[v3_code].sel(sv="G05").values)
    assert b["L1lli"].sel(sv="G05").values[0] == 1 and b["L1ssi"].sel(sv="G05").values[0] == 7


def test_event_records_pass_through_and_cycle_slip_records_are_dropped():
    lines = render(V3).splitlines(keepends=True)
    second = [i for i, line in enumerate(lines) if line.startswith(">")][1]
    event = ["ANTENNA REPLACED                                            COMMENT\n",
             "        0.1000        0.0000        0.0000                  ANTENNA: DELTA H/E/N\n"]
    slips = lines[second - 5:second]  # the first epoch's 5 satellite lines as a flag 6 record
    lines[second:second] = (["> 2024 04 09 06 00 15.0000000  4  2\n", *event, ">                              4  1\n",
                             event[0], "> 2024 04 09 06 00 20.0000000  6  5\n", *slips])
    v2 = to_rinex2("".join(lines))
    plain = to_rinex2(render(V3)).splitlines(keepends=True)
    second = [i for i, line in enumerate(plain) if line.startswith(" 24  4  9")][1]
    plain[second:second] = [" 24  4  9  6  0 15.0000000  4  2\n", *event, " " * 26 + "  4  1\n", event[0]]
    assert v2 == "".join(plain)  # the events where they were, the flag 6 record gone
    assert read_rinex_text(v2)[1] == V3.epoch_times


@pytest.mark.parametrize("spec,empty", [(V3, "> 2024 04 09 06 00 15.0000000  0  0\n"),
                                        (V2, " 24  4  9 23 58  0.5000000  0  0\n")])
def test_epochs_without_satellites_are_not_written(spec, empty):
    text = render(spec)
    head, body = text.split("END OF HEADER\n")
    assert to_rinex2(head + "END OF HEADER\n" + empty + body) == to_rinex2(text)


def test_truncated_file_names_the_epoch_line():
    lines = render(V3).splitlines(keepends=True)
    last = max(i for i, line in enumerate(lines) if line.startswith(">"))
    with pytest.raises(RinexFileError, match=rf"line {last + 1}: epoch record is truncated"):
        to_rinex2("".join(lines[:last + 3]))


@pytest.mark.parametrize("line,damage,reason", [
    ("G12", lambda s: s[:20] + "1O.5" + s[24:], "malformed observation record"),
    ("R07", lambda s: "X" + s[1:], "expected a satellite record"),
    ("> 2024", lambda s: s.replace("06 00", "06 0x", 1), "expected an epoch record"),
])
def test_malformed_record_names_its_line(line, damage, reason):
    lines = render(V3).splitlines()
    i = next(i for i, text in enumerate(lines) if text.startswith(line))
    lines[i] = damage(lines[i])
    with pytest.raises(RinexFileError, match=rf"line {i + 1}: {reason}"):
        to_rinex2("\n".join(lines))


SMALL = (render(V3.with_(epochs=2)), render(V2.with_(epochs=2)))


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_damaged_or_random_text_raises_only_rinex_file_error(data):
    if data.draw(st.booleans()):
        text = data.draw(st.text(max_size=400))
    else:
        lines = data.draw(st.sampled_from(SMALL)).splitlines(keepends=True)
        for _ in range(data.draw(st.integers(1, 4))):
            i = data.draw(st.integers(0, len(lines) - 1))
            at, junk = data.draw(st.integers(0, 81)), data.draw(st.text(st.characters(max_codepoint=0x7f), max_size=12))
            lines[i] = lines[i][:at] + junk + lines[i][at + len(junk):]
        text = "".join(lines)[:data.draw(st.integers(0, 10_000))]
    day = data.draw(st.none() | st.just(DAY))
    try:
        to_rinex2(text.encode("utf-8", "replace") if data.draw(st.booleans()) else text, day=day,
                  decimate_to=data.draw(st.none() | st.sampled_from([1.0, 30.0])))
    except RinexFileError:
        pass
