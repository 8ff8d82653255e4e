"""The fast RINEX 3/4 observation reader (numpy line index, fixed-column epoch records, fixed-point F14.3 values,
text parsed piece by piece as it is decompressed) gives exactly what the general line-by-line reader gives, and
hands every irregular file to it (so its errors and its answers stay the general reader's).

Truth: the general reader (``_parse_lines``) on the same text; values compared bit for bit, NaN where blank."""

from __future__ import annotations

import re
from functools import lru_cache

import numpy as np
import pytest

from geode.rinex import RinexFileError
from geode.rinex import observations as obsmod
from geode.rinex.compression import compress_bytes
from geode.rinex.observations import _fixed_f14, _parse_fast, _parse_lines, parse_observations, read_observations
from geode.rinex.qc_metrics import _arc_ids, _local_sigma, _median, select_signals
from geode.rinex.synth import SynthSpec, render

GPS = tuple(f"G{i:02d}" for i in range(1, 13))
GAL = tuple(f"E{i:02d}" for i in range(1, 7))
SPEC = SynthSpec(version=3.04, physics=True, satellites=GPS + GAL + ("C20", "C22"), epochs=720, seed=5,
                 obs_types=("C1C", "L1C", "D1C", "S1C", "C2W", "L2W", "S2W"),
                 system_types=(("E", ("C1C", "L1C", "S1C", "C5Q", "L5Q", "S5Q")),
                               ("C", ("C2I", "L2I", "S2I", "C7I", "L7I"))),
                 slips=(("G05", 300, 1, 0),), sat_gaps=(("G07", 100, 110),), epoch_gaps=((400, 405),),
                 clock_jumps=(500,))


@lru_cache(maxsize=None)
def _text() -> bytes:
    return render(SPEC).encode("ascii")


def _same(a, b) -> None:
    """Two Observations are the same, bit for bit."""
    assert (a.header, a.t0, a.interval, a.size, a.events, a.glonass_slots) == \
        (b.header, b.t0, b.interval, b.size, b.events, b.glonass_slots)
    assert np.array_equal(a.seconds, b.seconds)
    assert sorted(a.systems) == sorted(b.systems)
    for sys_ in a.systems:
        x, y = a.systems[sys_], b.systems[sys_]
        assert (x.types, x.sats) == (y.types, y.sats)
        assert x.values.shape == y.values.shape
        assert np.array_equal(np.isnan(x.values), np.isnan(y.values))
        assert np.array_equal(np.nan_to_num(x.values).view(np.uint64), np.nan_to_num(y.values).view(np.uint64))
        assert np.array_equal(x.lli, y.lli)


def _outcome(func, text: bytes, select=None):
    try:
        return func(text, select)
    except RinexFileError as exc:
        return f"{exc}"


@pytest.mark.parametrize("select", [None, select_signals], ids=["all", "qc"])
def test_regular_file_takes_the_fast_path_and_matches_the_general_reader(select):
    text = _text()
    fast = _parse_fast(text, select)
    assert fast is not None
    _same(fast, _parse_lines(text, select))


@pytest.mark.parametrize("piece", [700, 4096, 65536])
def test_text_fed_in_pieces_as_it_arrives_gives_the_same(tmp_path, monkeypatch, piece):
    monkeypatch.setattr(obsmod, "PIECE", piece)
    path = tmp_path / "FAST00ARG_R_20241000000_01D_30S_MO.crx.gz"
    path.write_bytes(compress_bytes(_text(), hatanaka=True, compression="gz"))
    got = read_observations(path, select=select_signals)
    _same(got, _parse_lines(_text(), select_signals))
    assert got.compression == "gz" and got.hatanaka


def _replace_field(text: bytes, old: bytes, new: bytes) -> bytes:
    assert len(old) == len(new) == 14 and text.count(old) >= 1
    return text.replace(old, new, 1)


def _a_value(text: bytes) -> bytes:
    """A code value field of the first G05 record (14 characters)."""
    at = text.index(b"\nG05") + 4
    return text[at:at + 14]


@pytest.mark.parametrize("layout", ["more-decimals", "exponent", "plus-sign", "left-aligned"])
def test_values_in_another_layout_are_read_like_float_does(layout):
    text = _text()
    old = _a_value(text)
    value = float(old)
    new = {"more-decimals": f"{value:14.4f}", "exponent": f"{value:14.6e}", "plus-sign": f"{value:+14.3f}",
           "left-aligned": f"{value:<14.3f}"}[layout].encode()
    changed = _replace_field(text, old, new)
    fast = _parse_fast(changed, select_signals)
    assert fast is not None  # one odd field does not send the whole file to the general reader
    _same(fast, _parse_lines(changed, select_signals))


def test_an_unreadable_value_is_the_general_readers_error():
    text = _text()
    changed = _replace_field(text, _a_value(text), b"  2487x071.376")
    assert _parse_fast(changed, None) is None
    with pytest.raises(RinexFileError, match="unreadable observation value") as fast:
        parse_observations(changed)
    with pytest.raises(RinexFileError) as general:
        _parse_lines(changed)
    assert str(fast.value) == str(general.value)


def _irregular(kind: str) -> bytes:
    text = _text()
    epochs = [m.start() for m in re.finditer(rb"(?m)^> ", text)]
    at = epochs[10]
    if kind == "blank-line":
        return text[:at] + b"\n" + text[at:]
    if kind == "event":
        event = b">                              4  1\n" + b"a comment".ljust(60) + b"COMMENT\n"
        return text[:at] + event + text[at:]
    if kind == "crlf":
        return text.replace(b"\n", b"\r\n")
    if kind == "epoch-columns":  # seconds written with fewer decimals: not the canonical columns
        line_end = text.index(b"\n", at)
        line = text[at:line_end]
        return text[:at] + line[:18] + b" 0.00000  " + line[28:] + text[line_end:]
    if kind == "count-short":  # an epoch announces one record fewer than follow
        line_end = text.index(b"\n", at)
        n = int(text[line_end - 3:line_end])
        return text[:line_end - 3] + b"%3d" % (n - 1) + text[line_end:]
    if kind == "rinex2":
        return render(SPEC.with_(version=2.11, system_types=(), obs_types=("C1C", "L1C", "S1C", "P2W", "L2W"),
                                 satellites=GPS)).encode("ascii")
    raise AssertionError(kind)


@pytest.mark.parametrize("kind", ["blank-line", "event", "crlf", "epoch-columns", "count-short", "rinex2"])
def test_irregular_files_go_to_the_general_reader(kind):
    text = _irregular(kind)
    if kind != "epoch-columns":
        assert _parse_fast(text, None) is None
    fast, general = _outcome(parse_observations, text), _outcome(_parse_lines, text)
    if isinstance(general, str):
        assert fast == general
    else:
        _same(fast, general)


FIELDS = [b"  24878071.376", b"     -2268.379", b"        -0.000", b"          .123", b"         -.123",
          b"1234567890.123", b"-234567890.123", b"         0.000", b"9999999999.999", b"         1.000",
          # not canonical: left to float()
          b"  1.5e3   .000", b"  12 34567.000", b" - 1234567.000", b" -1-234567.000", b"     1234.5   ",
          b"   12345.12345", b"         -    ", b"    --1234.000", b"     +1234.000", b"1         .000",
          b"  -       .000", b"    1234.000  ", b"  1234567.000-"[:14]]


def test_fixed_point_values_are_floats_of_the_text():
    rng = np.random.default_rng(1)
    numbers = [b"%14.3f" % (i / 1000) for i in rng.integers(-99_999_999_999, 999_999_999_999, 20000)]
    fields = FIELDS + [b" " * 14] + numbers
    arr = np.frombuffer(b"".join(f + b"19" for f in fields), dtype=np.uint8).reshape(-1, 16)
    values, canonical, blank = _fixed_f14(arr)
    assert blank.tolist() == [f == b" " * 14 for f in fields]
    assert canonical[:10].all() and not canonical[10:len(FIELDS)].any() and canonical[len(FIELDS) + 1:].all()
    for f, v, c in zip(fields, values, canonical):
        if c:
            assert np.float64(float(f)).tobytes() == np.float64(v).tobytes(), f


def test_the_one_partition_median_is_numpys_median():
    rng = np.random.default_rng(2)
    for n in (1, 2, 3, 4, 5, 10, 11, 1000, 1001):
        for _ in range(30):
            x = rng.normal(size=n) * 10.0 ** rng.integers(-3, 8)
            if rng.random() < 0.3:
                x = np.round(x)  # ties and signed zeros
            assert np.float64(_median(x)).tobytes() == np.median(x).tobytes()


def test_local_sigma_is_the_rms_of_the_window_in_the_same_arc():
    rng = np.random.default_rng(4)
    n_epochs, n_sats, w = 300, 6, 10
    r = rng.normal(size=(n_epochs, n_sats)) * rng.uniform(0.5, 3, n_sats)
    r[rng.random(r.shape) < 0.1] = np.nan
    r[50:80, 2] = np.nan  # a satellite set and rose again
    valid = np.isfinite(r)
    same = valid & np.vstack([np.zeros((1, n_sats), dtype=bool), valid[:-1]]) & (rng.random(r.shape) > 0.03)
    sigma = _local_sigma(r, same, w, robust=0.25)
    arcs = _arc_ids(valid, ~same)
    for e in range(n_epochs):
        for s in range(n_sats):
            if not valid[e, s]:
                continue
            lo, hi = max(0, e - w), min(n_epochs, e + w + 1)
            around = [r[i, s] for i in range(lo, hi) if i != e and arcs[i, s] == arcs[e, s]]
            want = np.sqrt(np.mean(np.square(around))) if len(around) >= 5 else 0.25
            assert sigma[e, s] == pytest.approx(want, rel=1e-9)


def _mutate(text: bytes, rng, alphabet: bytes = b" 0123456789.-+>GECX\ne") -> bytes:
    """One character replaced, deleted or inserted (from ``alphabet``) somewhere after the header."""
    body = text.index(b"END OF HEADER") + 14
    at = int(rng.integers(body, len(text)))
    what = rng.integers(3)
    new = bytes([rng.choice(list(alphabet))])
    if what == 0:
        return text[:at] + new + text[at + 1:]
    if what == 1:
        return text[:at] + text[at + 1:]
    return text[:at] + new + text[at:]


@pytest.mark.parametrize("seed", range(4))
def test_damaged_files_read_the_same_as_with_the_general_reader(seed):
    """Random one-character damage anywhere after the header: the same observations or the same error."""
    text = render(SPEC.with_(epochs=60)).encode("ascii")
    rng = np.random.default_rng(seed)
    for _ in range(60):
        damaged = _mutate(text, rng)
        for select in (None, select_signals):
            fast, general = _outcome(parse_observations, damaged, select), _outcome(_parse_lines, damaged, select)
            if isinstance(general, str) or isinstance(fast, str):
                assert fast == general
            else:
                _same(fast, general)
