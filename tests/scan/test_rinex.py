"""RINEX names, compression detection, header fields and epoch statistics on generated files."""

from __future__ import annotations

import datetime as dt
import gzip

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from geode.rinex import RinexFileError, RinexName, RinexNameError, decompress_to, read_rinex
from geode.rinex.compression import outer_compression
from geode.rinex.synth import SynthSpec, render, write_rinex

V2 = SynthSpec(version=2.11, marker_name="UNSA", marker_number="41514M001", receiver_serial="3048455",
               receiver_type="SEPT POLARX5", receiver_firmware="5.5.0", antenna_serial="1441022222",
               antenna_type="TRM57971.00", antenna_radome="NONE", antenna_height=1.2345, antenna_east=0.0012,
               antenna_north=-0.0034, approx_xyz=(2412828.1234, -5271807.4321, -2652254.0001),
               start=dt.datetime(2024, 4, 9, 6, 0), interval=15.0, epochs=960,
               satellites=("G01", "G07", "R03", "G30"), obs_types=("C1C", "L1C", "L2W", "P2W", "S1C", "S2W"))
V3 = SynthSpec(version=3.04, epochs=2880, satellites=("G05", "G12", "E11", "E24", "G24"),
               obs_types=("C1C", "L1C", "D1C", "S1C", "C2W", "L2W"), antenna_height=0.0825)

FILES = [  # every compression the archive and the repository meet
    ("unsa1000.24o", V2), ("unsa1000.24d", V2), ("unsa1000.24d.Z", V2), ("unsa1000.24o.gz", V2),
    ("unsa1000.24o.bz2", V2), ("unsa1000.24o.zip", V2), ("unsa1000.24d.gz", V2),
    ("LPGS00ARG_R_20241000000_01D_30S_MO.rnx", V3), ("LPGS00ARG_R_20241000000_01D_30S_MO.crx", V3),
    ("LPGS00ARG_R_20241000000_01D_30S_MO.crx.gz", V3), ("LPGS00ARG_R_20241000000_01D_30S_MO.rnx.gz", V3),
    ("LPGS00ARG_R_20241000000_01D_30S_MO.crx.bz2", V3), ("LPGS00ARG_R_20241000000_01D_30S_MO.rnx.zip", V3),
]


@pytest.mark.parametrize("name,spec", FILES, ids=[f[0] for f in FILES])
def test_header_and_epoch_statistics_match_the_generator(tmp_path, name, spec):
    info = read_rinex(write_rinex(tmp_path / name, spec))
    h = info.header
    assert h.version == spec.version and h.file_type == "O"
    assert (h.marker_name, h.marker_number) == (spec.marker_name, spec.marker_number)
    assert (h.receiver_serial, h.receiver_type, h.receiver_firmware) == (
        spec.receiver_serial, spec.receiver_type, spec.receiver_firmware)
    assert (h.antenna_serial, h.antenna_type, h.antenna_radome) == (
        spec.antenna_serial, spec.antenna_type, spec.antenna_radome)
    assert (h.antenna_height, h.antenna_east, h.antenna_north) == (
        spec.antenna_height, spec.antenna_east, spec.antenna_north)
    assert h.approx_xyz == pytest.approx(spec.approx_xyz, abs=1e-4)
    assert h.interval == spec.interval
    times = spec.epoch_times
    assert (h.first_obs, h.last_obs) == (times[0], times[-1])
    if spec.version >= 3:
        assert h.obs_types == {s: list(spec.obs_types) for s in spec.systems}
    else:
        assert h.obs_types == {"M": spec.v2_types}
    assert (info.first_epoch, info.last_epoch, info.epochs) == (times[0], times[-1], len(times))
    assert info.interval == spec.interval
    assert info.completion == round(len(times) * spec.interval / 86400, 3)
    assert not info.multiday and info.date == dt.date(2024, 4, 9)


def test_magic_bytes_decide_not_the_extension(tmp_path):
    # GeoDE's archives hold gzip data in files named .d.Z: read by content
    plain = render(V2).encode()
    liar = tmp_path / "unsa1000.24d.Z"
    liar.write_bytes(gzip.compress(plain))
    assert outer_compression(liar.read_bytes()) == "gz"
    assert decompress_to(liar, tmp_path / "out.24o").read_bytes() == plain


def test_gap_multiday_and_mid_session_day(tmp_path):
    gap = read_rinex(write_rinex(tmp_path / "a.rnx", V3.with_(gap=(100, 1540)), hatanaka=False))
    assert gap.epochs == 2880 - 1440 and gap.interval == 30.0 and gap.completion == 0.5
    # 20:00 day 1 to 08:00 day 2: two UTC dates, mid-session on day 2
    long = read_rinex(write_rinex(tmp_path / "b.rnx", V3.with_(start=dt.datetime(2024, 4, 9, 20), epochs=1441),
                                  hatanaka=False))
    assert long.multiday and long.epochs_per_day == {"2024-04-09": 480, "2024-04-10": 961}
    assert long.date == dt.date(2024, 4, 10)


def test_an_epoch_without_satellites_is_counted_and_the_next_one_read(tmp_path):
    lines = render(V2.with_(epochs=3)).splitlines(keepends=True)
    first = next(i for i, line in enumerate(lines) if "END OF HEADER" in line) + 1
    lines[first] = lines[first][:29] + "  0\n"  # the first epoch lists no satellite; its data lines go
    del lines[first + 1:first + 1 + len(V2.satellites) * -(-len(V2.obs_types) // 5)]
    path = tmp_path / "empty0010.24o"
    path.write_text("".join(lines))
    assert read_rinex(path).epochs == 3


def test_truncated_and_corrupt_files_are_reported_with_a_reason(tmp_path):
    plain = render(V2)
    cut = tmp_path / "cut.24o"
    cut.write_text(plain[: len(plain) - 100])
    with pytest.raises(RinexFileError, match="truncated"):
        read_rinex(cut)
    gz = write_rinex(tmp_path / "unsa1000.24o.gz", V2)
    gz.write_bytes(gz.read_bytes()[:-2000])
    with pytest.raises(RinexFileError, match="gz data is corrupt or truncated"):
        read_rinex(gz)
    junk = tmp_path / "junk.24o"
    junk.write_bytes(b"hello world\n" * 10)
    with pytest.raises(RinexFileError, match="not a RINEX file"):
        read_rinex(junk)
    bad_epoch = tmp_path / "bad.24o"
    bad_epoch.write_text(plain.replace(" 24  4  9  6  0 15.0000000  0  4", " garbage here"))
    with pytest.raises(RinexFileError, match="expected an epoch record"):
        read_rinex(bad_epoch)


@pytest.mark.parametrize("name,station,year,doy,version,hatanaka,comp,rinex,archive", [
    ("algo0010.24d.Z", "algo", 2024, 1, 2, True, "Z", "algo0010.24o", "algo0010.24d.Z"),
    ("lpgs366a.96o", "lpgs", 1996, 366, 2, False, None, "lpgs366a.96o", "lpgs366a.96d.Z"),
    ("ALGO00CAN_R_20240010000_01D_30S_MO.crx.gz", "algo", 2024, 1, 3, True, "gz",
     "ALGO00CAN_R_20240010000_01D_30S_MO.rnx", "ALGO00CAN_R_20240010000_01D_30S_MO.crx.gz"),
    ("LPGS00ARG_S_20241001200_01H_01S_GO.rnx.bz2", "lpgs", 2024, 100, 3, False, "bz2",
     "LPGS00ARG_S_20241001200_01H_01S_GO.rnx", "LPGS00ARG_S_20241001200_01H_01S_GO.crx.gz"),
])
def test_names_parse_and_convert(name, station, year, doy, version, hatanaka, comp, rinex, archive):
    n = RinexName.parse(name)
    assert (n.station, n.year, n.doy, n.version, n.hatanaka, n.compression) == (
        station, year, doy, version, hatanaka, comp)
    assert (n.name, n.rinex_name, n.archive_name) == (name, rinex, archive)


@pytest.mark.parametrize("name", ["ALGO0010.24D.Z", "algo0010.24O", "algo0010.24n", "algo3660.23o",
                                  "ALGO00CAN_R_20240010000_01D_MO.crx.gz", "algo0010.24o.rar", "",
                                  "dir/algo0010.24o", "ALGO00CAN_R_20240012500_01D_30S_MO.rnx"])
def test_invalid_names_raise_the_name_error(name):
    with pytest.raises(RinexNameError):
        RinexName.parse(name)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=60), st.from_regex(r"[a-z0-9]{4}\d{3}[0-9a-z]\.\d{2}[odn](\.(Z|gz|zip))?",
                                                       fullmatch=True),
                 st.from_regex(r"[A-Z0-9]{9}_[RSU]_\d{11}_\d{2}[MHD]_\d{2}[SMH]_[GM]O\.(crx|rnx)(\.gz)?",
                               fullmatch=True)))
def test_name_parser_raises_only_its_own_error(text):
    try:
        n = RinexName.parse(text)
    except RinexNameError:
        return
    assert RinexName.parse(n.name) == n  # what parses renders back to itself


# -- property tests: whatever the bytes, the readers raise only the project's own errors ------------------------

import io  # noqa: E402

from geode.errors import BadInput  # noqa: E402
from geode.rinex.compression import compress_bytes, open_rinex  # noqa: E402
from geode.rinex.reader import read_rinex as read_any  # noqa: E402
from geode.sources.validate import rejection  # noqa: E402

_SMALL = {2: render(V2.with_(epochs=3)), 3: render(V3.with_(epochs=3))}


@st.composite
def _damaged_text(draw) -> str:
    """Real RINEX 2/3 lines shuffled, dropped, duplicated or overwritten with junk, or plain random text."""
    lines = draw(st.sampled_from(list(_SMALL.values()))).splitlines(keepends=True)
    how = draw(st.sampled_from(["shuffle", "overwrite", "drop", "random"]))
    if how == "random":
        return draw(st.text(max_size=600))
    if how == "shuffle":
        head = next(i for i, line in enumerate(lines) if "END OF HEADER" in line) + 1
        keep = draw(st.integers(0, head))
        return "".join(lines[:keep] + draw(st.permutations(lines[keep:])))
    if how == "drop":
        i = draw(st.integers(0, len(lines) - 1))
        return "".join(lines[:i] + lines[i + draw(st.integers(1, 3)):])
    for _ in range(draw(st.integers(1, 4))):
        i = draw(st.integers(0, len(lines) - 1))
        at = draw(st.integers(0, 80))
        junk = draw(st.text(st.characters(max_codepoint=0x7f), max_size=14) | st.sampled_from(
            ["inf", "nan", "-1", "999", "x9", "1e999", "\x00", "  ", "-inf", ">"]))
        lines[i] = lines[i][:at] + junk + lines[i][at + len(junk):]
    return "".join(lines)


@settings(max_examples=250, deadline=None)
@given(_damaged_text(), st.sampled_from([None, "gz", "Z", "bz2", "zip"]), st.booleans(), st.data())
def test_reader_raises_only_its_own_error(text, compression, hatanaka, data):
    plain = text.encode("utf-8", "replace")
    try:
        packed = compress_bytes(plain, hatanaka=hatanaka, compression=compression)
    except Exception:  # rnx2crx refused the damaged text: feed it without Hatanaka
        packed = compress_bytes(plain, hatanaka=False, compression=compression)
    if data.draw(st.booleans()):
        cut = data.draw(st.integers(0, len(packed)))
        packed = packed[:cut]
    try:
        info = read_any(io.BytesIO(packed), max_size=1 << 20)
    except BadInput:
        return
    assert info.epochs >= 1 and info.interval > 0


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_compact_rinex_damage_raises_only_its_own_error(data):
    import hatanaka

    crx = hatanaka.rnx2crx(_SMALL[data.draw(st.sampled_from([2, 3]))].encode()).split(b"\n")
    for _ in range(data.draw(st.integers(1, 3))):
        i = data.draw(st.integers(1, len(crx) - 1))
        if data.draw(st.booleans()):
            del crx[i]
        else:
            crx[i] = data.draw(st.binary(max_size=40))
    try:
        with open_rinex(io.BytesIO(b"\n".join(crx)), max_size=1 << 20) as stream:
            for _ in stream.chunks():
                pass
    except BadInput:
        pass


@settings(max_examples=200, deadline=None)
@given(payload=st.binary(max_size=3000) | _damaged_text().map(lambda t: t.encode("utf-8", "replace")),
       compression=st.sampled_from([None, "gz", "Z", "bz2", "zip"]))
def test_download_check_never_raises(payload, compression, tmp_path_factory):
    path = tmp_path_factory.mktemp("dl") / "file"
    path.write_bytes(compress_bytes(payload, hatanaka=False, compression=compression) if compression else payload)
    why = rejection(path, max_size=1 << 20)
    assert why is None or (isinstance(why, str) and why)
