"""RINEX quality control recovers what was injected into physically consistent synthetic files: cycle slips
(exact count), code multipath (RMS within 10 %), satellite and epoch gaps (counted apart from slips), receiver
millisecond clock jumps, for RINEX 2.11 and 3.04 in every compression the reader takes; elevation metrics with a
broadcast navigation file found through the product archive; bad files rejected with a reason.

Truth: the generator's satellites fly Keplerian orbits; code noise 0.3 m and phase noise 2 mm are white, so the
code error on a band is the injected multipath plus that noise: expected MP RMS = sqrt(injected^2 + 0.3^2).
"""

from __future__ import annotations

import datetime as dt
import math
from functools import lru_cache

import numpy as np
import pytest

from geode.rinex import RinexFileError
from geode.rinex.compression import compress_bytes
from geode.rinex.qc import QCResult, orbits_for, qc_file
from geode.rinex.synth import SynthSpec, render
from geode.rinex.synth_physics import geometry, navigation_text

CODE_NOISE = 0.3
GPS = tuple(f"G{i:02d}" for i in range(1, 25))
GAL = tuple(f"E{i:02d}" for i in range(1, 13))
V3_TYPES = ("C1C", "L1C", "S1C", "C2W", "L2W", "S2W")
GAL_TYPES = ("C1C", "L1C", "S1C", "C5Q", "L5Q", "S5Q")
V2_TYPES = ("C1C", "L1C", "S1C", "P2W", "L2W", "S2W", "C5Q", "L5Q")  # written as C1 L1 S1 P2 L2 S2 C5 L5
BASE = {3.04: SynthSpec(version=3.04, physics=True, satellites=GPS + GAL, obs_types=V3_TYPES,
                        system_types=(("E", GAL_TYPES),), seed=7),
        2.11: SynthSpec(version=2.11, physics=True, satellites=GPS + GAL, obs_types=V2_TYPES, seed=11)}
MULTIPATH = {3.04: (("G1", 0.5, "sine"), ("E5", 0.4, "random")),
             2.11: (("G1", 0.5, "sine"), ("G2", 0.4, "random"))}
# slip sizes (cycles on the two bands): every one moves the geometry-free phase by 5 cm or more
SIZES = [(1, 0), (0, 1), (2, 0), (0, 2), (3, 1), (1, 3), (-2, 1), (4, 0), (2, 2), (3, -1), (-1, 0), (0, -3)]
EPOCH_GAPS = ((1200, 1210), (2100, 2101))
CLOCK_JUMPS = (600, 1800)  # code only (the receiver steers its clock in the code)
CLOCK_JUMPS_BOTH = (900, 2300)  # code and phase together
COMPRESSIONS = {  # file name -> (hatanaka, outer compression)
    "rnx": (False, None), "Z": (False, "Z"), "gz": (False, "gz"), "bz2": (False, "bz2"), "zip": (False, "zip"),
    "crx": (True, None), "crx.Z": (True, "Z"), "crx.gz": (True, "gz"), "crx.bz2": (True, "bz2"),
}


@lru_cache(maxsize=None)
def _geometry(version: float):
    spec = BASE[version]
    sats, _, elev = geometry(spec, np.arange(spec.epochs) * spec.interval)
    return sats, elev


def _faults(version: float) -> SynthSpec:
    """The base spec with slips, satellite gaps, epoch gaps, clock jumps and multipath at places where the
    satellite is well up (15 deg or more for 10 epochs around), away from each other."""
    spec = BASE[version]
    sats, elev = _geometry(version)
    rng = np.random.default_rng(3)
    busy: list[tuple[str, int]] = []
    blocked = {k for a, b in EPOCH_GAPS for k in range(a - 12, b + 12)}

    def pick(length: int = 1) -> tuple[str, int]:
        while True:
            j = int(rng.integers(len(sats)))
            k = int(rng.integers(20, spec.epochs - 40))
            window = elev[k - 10:k + length + 10, j]
            if (window >= 15).all() and not blocked & set(range(k, k + length)) and \
                    all(s != sats[j] or abs(e - k) > 40 for s, e in busy):
                busy.append((sats[j], k))
                return sats[j], k

    slips = tuple((*pick(), *size) for size in SIZES)
    gaps = tuple((sat, k, k + n) for n in (1, 4, 15) for sat, k in [pick(n)])
    return spec.with_(slips=slips, sat_gaps=gaps, epoch_gaps=EPOCH_GAPS, clock_jumps=CLOCK_JUMPS,
                      clock_jumps_both=CLOCK_JUMPS_BOTH, multipath=MULTIPATH[version])


@lru_cache(maxsize=None)
def _text(version: float, faults: bool = True) -> bytes:
    return render(_faults(version) if faults else BASE[version]).encode("ascii")


def _name(version: float, kind: str) -> str:
    hatanaka, outer = COMPRESSIONS[kind]
    if version < 3:
        return "qcss1000.24" + ("d" if hatanaka else "o") + (f".{outer}" if outer else "")
    return "QCSS00ARG_R_20241000000_01D_30S_MO." + ("crx" if hatanaka else "rnx") + (f".{outer}" if outer else "")


def _write(tmp_path, version: float, kind: str = "rnx", faults: bool = True):
    hatanaka, outer = COMPRESSIONS[kind]
    path = tmp_path / _name(version, kind)
    path.write_bytes(compress_bytes(_text(version, faults), hatanaka=hatanaka, compression=outer))
    return path


def _expected_mp(version: float) -> dict[str, float]:
    injected = {band: rms for band, rms, _ in MULTIPATH[version]}
    bands = ("G1", "G2", "E1", "E5") + (("G5",) if version < 3 else ())
    return {b: math.hypot(injected.get(b, 0.0), CODE_NOISE) for b in bands}


@pytest.fixture(scope="module")
def plain_results(tmp_path_factory):
    d = tmp_path_factory.mktemp("qc")
    return {v: qc_file(_write(d, v)) for v in (3.04, 2.11)}


@pytest.mark.parametrize("version", [3.04, 2.11])
def test_injected_faults_are_recovered(plain_results, version):
    spec = _faults(version)
    r = plain_results[version]
    assert r.slips == len(SIZES)  # exact: every injected slip, nothing else (not the gaps, not the clock jumps)
    assert r.sat_gaps == len(spec.sat_gaps)
    assert r.epoch_gaps == len(EPOCH_GAPS)
    assert r.clock_jumps == len(CLOCK_JUMPS) + len(CLOCK_JUMPS_BOTH)
    assert sorted(r.extra["slips_at"]) == sorted(
        [sat, (spec.start + dt.timedelta(seconds=k * spec.interval)).isoformat()] for sat, k, _, _ in spec.slips)
    assert r.extra["clock_jump_epochs"] == sorted(
        [[(spec.start + dt.timedelta(seconds=k * spec.interval)).isoformat(), 1, "code"] for k in CLOCK_JUMPS]
        + [[(spec.start + dt.timedelta(seconds=k * spec.interval)).isoformat(), 1, "code+phase"]
           for k in CLOCK_JUMPS_BOTH])
    for band, truth in _expected_mp(version).items():
        assert r.mp_rms[band] == pytest.approx(truth, rel=0.10), band
    assert r.obs_per_slip == pytest.approx(r.observations / len(SIZES), abs=0.1)
    assert r.slips_per_1000 == pytest.approx(1000 * len(SIZES) / r.observations, abs=1e-3)


@pytest.mark.parametrize("version", [3.04, 2.11])
def test_counts_completeness_and_snr_match_the_generator(plain_results, version):
    spec = _faults(version)
    sats, elev = _geometry(version)
    r = plain_results[version]
    recorded = np.zeros(spec.epochs, dtype=bool)
    recorded[spec.epoch_indices] = True
    tracked = (elev >= spec.elevation_mask) & recorded[:, None]
    for sat, a, b in spec.sat_gaps:
        tracked[a:b, sats.index(sat)] = False
    epochs = int(recorded.sum())
    assert (r.epochs_present, r.epochs_expected) == (epochs, 2880)
    assert r.completeness == pytest.approx(100 * epochs / 2880, abs=0.01)
    for sys_ in "GE":
        cols = [j for j, s in enumerate(sats) if s[0] == sys_]
        assert r.sats_mean[sys_] == pytest.approx(tracked[:, cols].sum() / epochs, abs=1e-3)
    assert r.observations == int(tracked.sum())  # every tracked satellite-epoch has both phases
    # SNR = 30 + 20 sin(elevation) on band 1, 3 dB less on the others
    gps = tracked[:, :len(GPS)]
    snr1 = 30 + 20 * np.sin(np.radians(elev[:, :len(GPS)][gps]))
    assert r.snr_mean["G1"] == pytest.approx(float(snr1.mean()), abs=0.01)
    assert r.snr_mean["G2"] == pytest.approx(float(snr1.mean()) - 3, abs=0.01)
    assert r.mp_signal["G1"] == ("C1C" if version >= 3 else "C1")
    assert r.mp_signal["G2"] == ("C2W" if version >= 3 else "P2")
    assert r.elev_completeness is None and r.mp_by_elevation is None and r.orbit_source is None


@pytest.mark.parametrize("version", [3.04, 2.11])
def test_a_clean_file_has_no_slips_gaps_or_jumps(tmp_path, version):
    r = qc_file(_write(tmp_path, version, faults=False))
    assert (r.slips, r.sat_gaps, r.epoch_gaps, r.clock_jumps) == (0, 0, 0, 0)
    assert r.obs_per_slip is None and r.slips_per_1000 == 0.0
    for band in ("G1", "G2", "E1", "E5"):
        assert r.mp_rms[band] == pytest.approx(CODE_NOISE, rel=0.10), band
    assert r.completeness == 100.0


@pytest.mark.parametrize("kind", [k for k in COMPRESSIONS if k != "rnx"])
@pytest.mark.parametrize("version", [3.04, 2.11])
def test_every_compression_gives_the_same_metrics(tmp_path, plain_results, version, kind):
    r = qc_file(_write(tmp_path, version, kind))
    assert r.to_json() == plain_results[version].to_json()
    assert r.slips == len(SIZES) and r.clock_jumps == len(CLOCK_JUMPS) + len(CLOCK_JUMPS_BOTH)


@pytest.mark.parametrize("version", [3.04, 2.11])
def test_slips_the_geometry_free_phase_cannot_see_are_found_by_melbourne_wuebbena(tmp_path, version):
    # 18 L1 and 14 L2 cycles move the geometry-free phase by 6 mm (below any threshold) but the wide lane by
    # 4 cycles (3.4 m); 27/21 by 9.5 mm and 6 cycles
    sats, elev = _geometry(version)
    spec = BASE[version]
    picked = []
    for sat in ("G05", "G17", "G21"):
        j = sats.index(sat)
        k = int(np.flatnonzero((elev[:, j] >= 20))[60])  # an hour into a pass
        picked.append((sat, k))
    slips = tuple((sat, k, *size) for (sat, k), size in zip(picked, [(18, 14), (27, 21), (-18, -14)]))
    path = tmp_path / _name(version, "rnx")
    path.write_text(render(spec.with_(slips=slips)))
    r = qc_file(path)
    assert r.slips == 3
    assert sorted(r.extra["slips_at"]) == sorted(
        [sat, (spec.start + dt.timedelta(seconds=k * spec.interval)).isoformat()] for sat, k in picked)


@pytest.mark.parametrize("version,slots", [(3.04, True), (3.04, False), (2.11, False)],
                         ids=["3.04-channels-in-header", "3.04-channels-from-data", "2.11-channels-from-data"])
def test_glonass_fdma_wavelengths_from_the_header_or_the_data(tmp_path, version, slots):
    from geode.rinex.synth_physics import glonass_channel

    glonass = tuple(f"R{i:02d}" for i in range(1, 25))
    types = ("C1C", "L1C", "S1C", "C2P", "L2P", "S2P") if version >= 3 else ("C1C", "L1C", "S1C", "P2W", "L2W")
    spec = SynthSpec(version=version, physics=True, satellites=GPS[:12] + glonass, obs_types=types,
                     glonass_slots=slots, multipath=(("R1", 0.5, "sine"),), seed=5)
    sats, _, elev = geometry(spec, np.arange(spec.epochs) * spec.interval)
    slips = []
    for sat, size in (("R05", (1, 0)), ("R11", (0, 2)), ("R17", (-3, 1))):
        k = int(np.flatnonzero(elev[:, sats.index(sat)] >= 20)[40])
        slips.append((sat, k, *size))
    path = tmp_path / _name(version, "rnx")
    path.write_text(render(spec.with_(slips=tuple(slips))))
    r = qc_file(path)
    assert r.extra["glonass_channels"] == {s: glonass_channel(s) for s in glonass if s in r.extra["glonass_channels"]}
    assert len(r.extra["glonass_channels"]) == len(glonass)  # every one of them tracked and identified
    assert r.slips == 3
    assert r.mp_rms["R1"] == pytest.approx(math.hypot(0.5, CODE_NOISE), rel=0.10)
    assert r.mp_rms["R2"] == pytest.approx(CODE_NOISE, rel=0.10)


@pytest.mark.parametrize("kind", ["rnx", "crx.gz", "Z"])
@pytest.mark.parametrize("version", [3.04, 2.11])
def test_one_read_gives_the_metrics_and_what_read_rinex_says(tmp_path, plain_results, version, kind):
    from geode.rinex import read_rinex
    from geode.rinex.qc import qc_with_info

    path = _write(tmp_path, version, kind)
    result, info = qc_with_info(path)
    assert result == plain_results[version]
    assert info == read_rinex(path)


@pytest.mark.parametrize("epochs", [1, 2, 3])
@pytest.mark.parametrize("version", [3.04, 2.11])
def test_a_file_of_a_few_epochs_gives_what_it_can(tmp_path, version, epochs):
    path = tmp_path / _name(version, "rnx")
    path.write_text(render(BASE[version].with_(epochs=epochs)))
    r = qc_file(path)
    assert (r.epochs_present, r.epochs_expected) == (epochs, 2880)
    assert r.mp_rms == {} and r.mp_signal == {}  # arcs too short for a multipath value: none, not a guess
    assert r.slips == 0 and r.obs_per_slip is None and r.observations > 0


def test_rinex_4_reads_like_rinex_3(tmp_path):
    spec = _faults(3.04)
    path = tmp_path / "QCSS00ARG_R_20241000000_01D_30S_MO.rnx"
    path.write_text(render(spec.with_(version=4.01)))
    r4 = qc_file(path).to_json()
    r3 = qc_file(_write(tmp_path, 3.04)).to_json()
    assert r4.pop("rinex_version") == 4.01 and r3.pop("rinex_version") == 3.04
    assert r4 == r3


def test_loss_of_lock_flags_are_reported_not_counted_as_slips(tmp_path):
    text = _text(3.04, False).decode("ascii").split("\n")
    flagged = 0
    for i, line in enumerate(text):  # set the loss-of-lock bit of L1C (second field) on a few records
        if line.startswith("G") and i % 5000 == 7:
            text[i] = line[:3 + 16 + 14] + "1" + line[3 + 16 + 15:]
            flagged += 1
    assert flagged >= 3
    path = tmp_path / _name(3.04, "rnx")
    path.write_text("\n".join(text))
    r = qc_file(path)
    assert r.extra["lli_slips"] == flagged and r.slips == 0


def _settings(tmp_path, brdc: str):
    from geode.config import load_settings

    return load_settings(overrides={"archive.brdc": brdc}, environ={}, cwd=tmp_path)


@pytest.mark.parametrize("version", [3.04, 2.11])
def test_elevation_metrics_with_broadcast_navigation_from_the_archive(tmp_path, plain_results, version):
    spec = _faults(version)
    folder = tmp_path / "brdc" / "2024"
    folder.mkdir(parents=True)
    nav = navigation_text(spec)
    name = "BRDC00IGS_R_20241000000_01D_MN.rnx.gz" if version >= 3 else "brdc1000.24n.Z"
    (folder / name).write_bytes(compress_bytes(nav.encode(), hatanaka=False, compression=name.rsplit(".", 1)[1]))
    orbits = orbits_for(dt.date(2024, 4, 9), _settings(tmp_path, str(tmp_path / "brdc" / "$year")))
    assert orbits is not None and orbits.source.endswith(name)
    assert orbits_for(dt.date(2024, 4, 10), _settings(tmp_path, str(tmp_path / "brdc" / "$year"))) is None
    r = qc_file(_write(tmp_path, version), orbits=orbits)
    # truth: satellite-epochs above 10 deg of every satellite in the navigation file, at every epoch of the day
    sats, elev = _geometry(version)
    in_nav = np.array([s[0] == "G" or version >= 3 for s in sats])
    recorded = np.zeros(spec.epochs, dtype=bool)
    recorded[spec.epoch_indices] = True
    tracked = (elev >= spec.elevation_mask) & recorded[:, None]
    for sat, a, b in spec.sat_gaps:
        tracked[a:b, sats.index(sat)] = False
    above = (elev >= 10) & in_nav[None, :]
    assert r.elev_completeness == pytest.approx(100 * (above & tracked).sum() / above.sum(), abs=0.01)
    assert r.orbit_source == orbits.source
    # the injected multipath does not depend on elevation: every well-filled bin shows the band's RMS
    for band, truth in _expected_mp(version).items():
        if band[0] == "E" and version < 3:
            continue  # a RINEX 2 navigation file holds GPS only: no elevation for Galileo
        bins = r.mp_by_elevation[band]
        assert set(bins) >= {10, 20, 30, 40, 50, 60}
        for lo in (10, 20, 30, 40, 50, 60):
            assert bins[lo] == pytest.approx(truth, rel=0.15), (band, lo)
    # the other metrics do not change with orbits
    plain = plain_results[version].to_json()
    with_orbits = r.to_json()
    for key in ("slips", "mp_rms", "sat_gaps", "epoch_gaps", "clock_jumps", "completeness", "sats_mean"):
        assert with_orbits[key] == plain[key]


def test_elevation_metrics_with_sp3_orbits_including_glonass(tmp_path):
    from geode.config import load_settings
    from geode.rinex.synth_physics import sp3_text

    glonass = tuple(f"R{i:02d}" for i in range(1, 25))
    spec = SynthSpec(version=3.04, physics=True, satellites=GPS + glonass, obs_types=V3_TYPES, seed=9,
                     sat_gaps=(), system_types=(("R", ("C1C", "L1C", "S1C", "C2P", "L2P", "S2P")),))
    sats, _, elev = geometry(spec, np.arange(spec.epochs) * spec.interval)
    gap_sat = "R07"
    k = int(np.flatnonzero(elev[:, sats.index(gap_sat)] >= 20)[30])
    spec = spec.with_(sat_gaps=((gap_sat, k, k + 12),))
    folder = tmp_path / "orbits" / "2309"  # $gpsweek
    folder.mkdir(parents=True)
    name = "IGS0OPSFIN_20241000000_01D_15M_ORB.SP3.gz"
    (folder / name).write_bytes(compress_bytes(sp3_text(spec).encode(), hatanaka=False, compression="gz"))
    (folder / "brdc1000.24n").write_text(navigation_text(spec.with_(version=2.11)))  # SP3 wins over broadcast
    settings = load_settings(overrides={"archive.sp3": str(tmp_path / "orbits" / "$gpsweek"),
                                        "archive.brdc": str(tmp_path / "orbits" / "$gpsweek")},
                             environ={}, cwd=tmp_path)
    orbits = orbits_for(dt.date(2024, 4, 9), settings)
    assert orbits is not None and orbits.source.endswith(name)
    path = tmp_path / _name(3.04, "rnx")
    path.write_text(render(spec))
    r = qc_file(path, orbits=orbits)
    tracked = elev >= spec.elevation_mask
    tracked[k:k + 12, sats.index(gap_sat)] = False
    above = elev >= 10
    assert r.elev_completeness == pytest.approx(100 * (above & tracked).sum() / above.sum(), abs=0.01)
    assert r.elev_completeness < 100
    assert set(r.mp_by_elevation) >= {"G1", "G2", "R1", "R2"}
    assert r.sat_gaps == 1 and r.slips == 0


def test_no_orbits_configured_is_none(tmp_path):
    from geode.config import load_settings

    assert orbits_for(dt.date(2024, 4, 9), load_settings(environ={}, cwd=tmp_path)) is None


def _cut_inside_a_record(text: bytes) -> bytes:
    at = text.index(b"\n> 2024 04 09 12 00") + 1
    for _ in range(3):  # the epoch line and two of its satellite records
        at = text.index(b"\n", at) + 1
    return text[:at]


def _header_end(text: bytes) -> int:
    return text.index(b"END OF HEADER") + 14


@pytest.mark.parametrize("damage,reason", [
    (_cut_inside_a_record, "truncated"),
    (lambda t: t.replace(b"END OF HEADER", b"END OF HEADEX"), "END OF HEADER"),
    (lambda t: t[:_header_end(t)] + b"> 2024 04 09 00 00  0.0000000  0  1\nX!!  garbage\n", "bad satellite"),
    (lambda t: t[:_header_end(t)] + b"> 2024 04 09 00 00  0.0000000  0  1\nG05 12345.678Z\n",
     "unreadable observation value"),
    (lambda t: t[:_header_end(t)] + b"G05  20000000.000\n", "expected an epoch record"),
    (lambda t: b"\x00garbage" * 100, "not a RINEX file"),
], ids=["truncated", "no-end-of-header", "bad-satellite", "bad-value", "no-epoch-line", "not-rinex"])
def test_a_bad_file_is_rejected_with_a_reason(tmp_path, damage, reason):
    path = tmp_path / "BADD00ARG_R_20241000000_01D_30S_MO.rnx"
    path.write_bytes(damage(_text(3.04, False)))
    with pytest.raises(RinexFileError, match=reason):
        qc_file(path)


@pytest.mark.parametrize("version", [3.04, 2.11])
def test_result_round_trips_through_json_text(plain_results, version):
    import json

    r = plain_results[version]
    assert QCResult.from_json(json.loads(json.dumps(r.to_json()))) == r
