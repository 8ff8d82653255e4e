"""Compact RINEX (3, and 1 for RINEX 2) decoded straight into arrays (``geode.rinex.compact``) gives exactly
what crx2rnx's text gives through the text reader, and hands everything else to crx2rnx, so its answers and
errors stand.

Truth: crx2rnx's plain text of the same Compact RINEX, read by the text reader; values compared bit for bit,
NaN where blank; with ``plain_text`` the digest and size of the plain text too. The files come from rnx2crx
(the ``hatanaka`` package) on synthetic RINEX."""

from __future__ import annotations

import io
import re
from functools import lru_cache

import numpy as np
import pytest

from geode.rinex import RinexFileError
from geode.rinex.compact import decode_compact
from geode.rinex.compression import compress_bytes, decompress_bytes
from geode.rinex.observations import read_observations
from geode.rinex.qc import qc_file
from geode.rinex.qc_metrics import select_signals
from geode.rinex.synth import SynthSpec, render

from .test_observations_fast import SPEC, _mutate, _same

LIMIT = 1 << 30
RNG_FLAGS = 7


def _crx(text: str) -> bytes:
    return compress_bytes(text.encode("ascii"), hatanaka=True, compression=None)


_V2_EPOCH = re.compile(r" \d\d [ \d]\d [ \d]\d [ \d]\d [ \d]\d[ \d]{2}\d\.\d{7}  [0-6][ \d]{2}\d")


def _with_flags_and_blanks(text: str, seed: int = RNG_FLAGS) -> str:
    """Loss-of-lock and signal-strength digits on some observations, and some observations blank (arcs broken
    in the middle, some satellites with blank fields for a few epochs). RINEX 3 records start with the
    satellite; RINEX 2 records are 80-column lines of five fields."""
    rng = np.random.default_rng(seed)
    lines = text.split("\n")
    body = next(i for i, line in enumerate(lines) if "END OF HEADER" in line) + 1
    v2 = "RINEX VERSION" in lines[0] and lines[0][5] == "2"
    for i in range(body, len(lines)):
        line = lines[i]
        if not line or line[0] == ">" or (v2 and (_V2_EPOCH.match(line) or not line[:32].strip())):
            continue  # epoch records (and RINEX 2 satellite list continuations)
        head = 0 if v2 else 3
        fields = [line[head + 16 * k:head + 16 + 16 * k].ljust(16) for k in range((len(line) - head + 15) // 16)]
        if rng.random() < 0.005:  # a record (or RINEX 2 record line) with nothing observed
            fields = [" " * 16 for _ in fields]
        for k, field in enumerate(fields):
            if not field[:14].strip():
                continue
            roll = rng.random()
            if roll < 0.02:
                fields[k] = field[:14] + str(rng.integers(1, 8)) + field[15]
            elif roll < 0.05:
                fields[k] = field[:15] + str(rng.integers(1, 10))
            elif roll < 0.06:
                fields[k] = " " * 16
        lines[i] = (line[:head] + "".join(fields)).rstrip()
    return "\n".join(lines)


def _with_clock(text: str) -> str:
    """Receiver clock offsets in the epoch records (RINEX 3: F15.12 from column 41; RINEX 2: F12.9 from column
    68 of the first line), drifting, with one reset: Compact RINEX then has clock lines."""
    lines = text.split("\n")
    body = next(i for i, line in enumerate(lines) if "END OF HEADER" in line) + 1
    n = 0
    for i in range(body, len(lines)):
        line = lines[i]
        offset = (n % 500) * 1.5e-7 - 2e-5
        if line.startswith(">"):
            lines[i] = line[:41].ljust(41) + f"{offset:15.12f}"
            n += 1
        elif _V2_EPOCH.match(line):
            lines[i] = line[:68].ljust(68) + f"{offset:12.9f}"
            n += 1
    return "\n".join(lines)


def _with_phase_jump(text: str, sat: str = "G05", record: int = 100, cycles: float = 2e7) -> str:
    """A jump of ``cycles`` on L1 from the satellite's ``record``-th observation on: large enough that rnx2crx
    restarts the arc ("3&") inside the satellite's pass."""
    lines = text.split("\n")
    seen = 0
    for i, line in enumerate(lines):
        if line.startswith(sat) and line[19:33].strip():
            seen += 1
            if seen > record:
                lines[i] = line[:19] + f"{float(line[19:33]) + cycles:14.3f}" + line[33:]
    assert seen > record + 10, "the satellite's pass goes on after the jump"
    return "\n".join(lines)


@lru_cache(maxsize=None)
def _texts() -> dict[str, str]:
    base = render(SPEC)
    glonass = SPEC.with_(satellites=SPEC.satellites + ("R01", "R02", "R08"), epochs=240,
                         system_types=SPEC.system_types + (("R", ("C1C", "L1C", "S1C", "C2P", "L2P", "S2P")),))
    v2 = SynthSpec(version=2.11, physics=True, epochs=720, seed=5, obs_types=("C1C", "L1C", "C2W", "L2W", "S1C", "D1C"),
                   satellites=tuple(f"G{i:02d}" for i in range(1, 25)) + ("R01", "R02"),
                   slips=(("G05", 300, 1, 0),), sat_gaps=(("G07", 100, 110),), epoch_gaps=((400, 405),))
    return {
        "physics": base,
        "rinex 2": render(v2),
        "rinex 2 flags and blanks": _with_flags_and_blanks(render(v2)),
        "receiver clock": _with_clock(render(SPEC.with_(epochs=600))),
        "rinex 2 receiver clock": _with_clock(render(v2.with_(epochs=600))),
        "flags and blanks": _with_flags_and_blanks(base),
        "arc restarted": _with_phase_jump(base),
        "glonass": render(glonass),
        "rinex 4": render(SPEC.with_(version=4.01, epochs=120)),
        "one epoch": render(SPEC.with_(epochs=1)),
    }


def _truth(crx: bytes, select):
    """crx2rnx, then the text reader (the answer, or the error)."""
    try:
        return read_observations(io.BytesIO(decompress_bytes(crx)), select=select)
    except RinexFileError as exc:
        return str(exc)


def _compare(text: str, select) -> None:
    crx = _crx(text)
    fast = decode_compact(crx, select, LIMIT)
    assert fast is not None, "a regular file is decoded without crx2rnx"
    truth = _truth(crx, select)
    _same(read_observations(io.BytesIO(crx), select=select), truth)
    assert read_observations(io.BytesIO(crx), select=select).digest == truth.digest
    truth.size = 0
    _same(fast, truth)


@pytest.mark.parametrize("select", [None, select_signals], ids=["all", "qc"])
@pytest.mark.parametrize("name", ["physics", "flags and blanks", "arc restarted", "glonass", "rinex 4", "one epoch",
                                  "rinex 2", "rinex 2 flags and blanks", "receiver clock",
                                  "rinex 2 receiver clock"])
def test_regular_files_decode_like_crx2rnx(name, select):
    _compare(_texts()[name], select)


def test_the_injected_flags_and_restarts_are_there():
    """The cases above exercise what they name: loss-of-lock digits, blanks inside arcs, an arc restart."""
    assert re.search(r"\n[GEC]\d\d\n", _texts()["flags and blanks"])  # a satellite with nothing observed
    for name in ("flags and blanks", "rinex 2 flags and blanks"):
        obs = decode_compact(_crx(_texts()[name]), None, LIMIT)
        assert any(np.any(so.lli > 0) for so in obs.systems.values())
        assert any(np.any(np.isnan(so.values) & ~np.isnan(np.roll(so.values, 1, axis=0)))
                   for so in obs.systems.values())
    assert max(len(so.sats) for so in decode_compact(_crx(_texts()["rinex 2"]), None, LIMIT).systems.values()) > 12
    for name in ("receiver clock", "rinex 2 receiver clock"):  # Compact RINEX with clock lines
        body = _crx(_texts()[name]).split(b"END OF HEADER")[1].split(b"\n")
        assert body[2].startswith(b"3&-")  # after the first epoch line: its clock offset
    restarts = [_crx(_texts()[name]).count(b"3&") for name in ("physics", "arc restarted")]
    assert restarts[1] == restarts[0] + 1  # one arc restarted inside a pass


def test_qc_from_compact_text_is_qc_from_crx2rnx_text(tmp_path):
    path = tmp_path / "QCCM00ARG_R_20240010000_01D_30S_MO.crx.gz"
    text = _texts()["flags and blanks"].encode()
    path.write_bytes(compress_bytes(text, hatanaka=True, compression="gz"))
    plain = tmp_path / "QCCM00ARG_R_20240010000_01D_30S_MO.rnx"
    plain.write_bytes(text)
    assert qc_file(path) == qc_file(plain)
    obs = read_observations(path, select=select_signals, plain_text=False)
    assert (obs.compression, obs.hatanaka, obs.digest) == ("gz", True, "")


def _outcome(crx: bytes, select, plain_text: bool):
    try:
        obs = read_observations(io.BytesIO(crx), select=select, plain_text=plain_text)
    except RinexFileError as exc:
        return str(exc)
    return obs


def _same_outcome(crx: bytes, select) -> None:
    truth = _truth(crx, select)
    for plain_text in (True, False):
        fast = _outcome(crx, select, plain_text)
        if isinstance(fast, str) or isinstance(truth, str):
            assert fast == truth
            continue
        if plain_text:
            assert (fast.digest, fast.compression, fast.hatanaka) == (truth.digest, None, True)
        else:
            fast.size = truth.size
        _same(fast, truth)


def _escape_line(crx: bytes) -> bytes:
    at = crx.index(b"\n", crx.index(b"END OF HEADER")) + 1
    second = crx.index(b"\n ", at) + 1  # the second epoch line
    return crx[:second] + b"&escape line\n" + crx[second:]


def _event_v2(text: str) -> str:
    at = text.index("\n", text.index("END OF HEADER")) + 1
    at = text.index("\n", at + 1) + 1  # after the first epoch line
    at = next(m.start() for m in _V2_EPOCH.finditer(text, at))
    return text[:at] + " 24  4  9  0  0 15.0000000  4  1\n" + f"{'AN EVENT':<60}COMMENT\n" + text[at:]


def _event(text: str) -> str:
    at = text.index("\n>", text.index("END OF HEADER")) + 1
    return text[:at] + "> 2024 04 09 00 00 15.0000000  4  1\n" + f"{'AN EVENT':<60}COMMENT\n" + text[at:]


HANDED_OVER = {
    "rinex 2 event": lambda: _crx(_event_v2(render(SynthSpec(version=2.11, epochs=30)))),
    "an event record": lambda: _crx(_event(render(SPEC.with_(epochs=30)))),
    "an escape line": lambda: _escape_line(_crx(render(SPEC.with_(epochs=30)))),
    "another arc order": lambda: _crx(render(SPEC.with_(epochs=30))).replace(b"\n3&", b"\n2&", 1),
    "carriage returns": lambda: _crx(render(SPEC.with_(epochs=30))).replace(b"\n", b"\r\n"),
}


@pytest.mark.parametrize("case", sorted(HANDED_OVER))
def test_what_the_decoder_does_not_cover_goes_to_crx2rnx(case):
    crx = HANDED_OVER[case]()
    assert decode_compact(crx, None, LIMIT) is None
    for select in (None, select_signals):
        _same_outcome(crx, select)


def test_a_file_over_the_size_limit_is_not_decoded():
    crx = _crx(render(SPEC.with_(epochs=60)))
    assert decode_compact(crx, None, LIMIT) is not None
    assert decode_compact(crx, None, len(crx) // 2) is None


@pytest.mark.parametrize("version", [3.04, 2.11])
@pytest.mark.parametrize("seed", range(2))
def test_damaged_compact_text_reads_as_crx2rnx_reads_it(seed, version):
    """Random one-character damage anywhere after the header: the same observations or the same error as
    crx2rnx's text gives."""
    crx = _crx(_with_flags_and_blanks(render(SPEC.with_(epochs=40, version=version)), seed))
    rng = np.random.default_rng(seed)
    decoded = 0
    for _ in range(40):
        damaged = _mutate(crx, rng, b" 0123456789&-3>GECX\n")
        decoded += decode_compact(damaged, None, LIMIT) is not None
        for select in (None, select_signals):
            _same_outcome(damaged, select)
    assert decoded > 0  # some damage leaves a file the decoder still reads (and it reads it right)
