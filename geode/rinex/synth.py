"""Well-formed synthetic RINEX 2.11 / 3.04 observation files with known headers and epochs (tests, example,
benchmarks). Every header field the reader extracts is set from ``SynthSpec``, so tests compare like for like."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from pathlib import Path

from .compression import compress_bytes
from .names import RinexName, RinexNameError


@dataclass(frozen=True)
class SynthSpec:
    version: float = 3.04
    marker_name: str = "LPGS"
    marker_number: str = "41510M001"
    receiver_serial: str = "5214K81234"
    receiver_type: str = "TRIMBLE NETR9"
    receiver_firmware: str = "5.45"
    antenna_serial: str = "1440911111"
    antenna_type: str = "TRM59800.00"
    antenna_radome: str = "SCIS"
    antenna_height: float = 0.0
    antenna_east: float = 0.0
    antenna_north: float = 0.0
    approx_xyz: tuple[float, float, float] = (2780102.9630, -4437418.9120, -3629404.5810)
    start: dt.datetime = dt.datetime(2024, 4, 9)
    interval: float = 30.0
    epochs: int = 2880
    satellites: tuple[str, ...] = ("G05", "G12", "G24", "E11")
    obs_types: tuple[str, ...] = ("C1C", "L1C", "S1C")  # RINEX 3 codes; RINEX 2 uses the first two letters
    gap: tuple[int, int] | None = None  # epoch indices [a, b) left out (a data gap)
    # --- physically consistent observations (``physics=True``; see synth_physics.py) -------------------------
    physics: bool = False  # code/phase/SNR from satellite geometry instead of the fixed placeholder values
    seed: int = 1
    system_types: tuple[tuple[str, tuple[str, ...]], ...] = ()  # RINEX 3: a system's own observables
    code_noise: float = 0.3  # m, white
    phase_noise: float = 0.002  # m, white
    multipath: tuple[tuple[str, float, str], ...] = ()  # (band "G1", RMS m, "sine" | "random") added to that code
    slips: tuple[tuple[str, int, int, int], ...] = ()  # (satellite, epoch index, cycles on band a, on band b)
    sat_gaps: tuple[tuple[str, int, int], ...] = ()  # (satellite, a, b): absent from epochs [a, b)
    epoch_gaps: tuple[tuple[int, int], ...] = ()  # epochs [a, b) not recorded at all
    clock_jumps: tuple[int, ...] = ()  # epoch indices from which the receiver's code is 1 ms (c * 1 ms) longer
    clock_jumps_both: tuple[int, ...] = ()  # the same, code and phase together (receivers that steer both)
    elevation_mask: float = 5.0  # degrees: satellites lower than this are not tracked
    glonass_slots: bool = True  # RINEX 3 physics files: a GLONASS SLOT / FRQ # header (else QC finds the channels)

    def with_(self, **changes) -> "SynthSpec":
        return replace(self, **changes)

    @property
    def epoch_times(self) -> list[dt.datetime]:
        step = dt.timedelta(seconds=self.interval)
        return [self.start + i * step for i in self.epoch_indices]

    @property
    def epoch_indices(self) -> list[int]:
        gaps = list(self.epoch_gaps) + ([self.gap] if self.gap else [])
        return [i for i in range(self.epochs) if not any(a <= i < b for a, b in gaps)]

    def types_of(self, system: str) -> tuple[str, ...]:
        return dict(self.system_types).get(system, self.obs_types)

    @property
    def v2_types(self) -> list[str]:
        return [t[:2] for t in self.obs_types]

    @property
    def systems(self) -> list[str]:
        return sorted({s[0] for s in self.satellites})


def _hl(body: str, label: str) -> str:
    return f"{body:<60.60}{label}\n"


def _value(obs: str, sat: int, epoch: int) -> float:
    kind = obs[0]
    if kind == "C":
        return 20_000_000.0 + 1_000.0 * sat + 0.75 * epoch
    if kind == "L":
        return 105_000_000.0 + 5_000.0 * sat + 3.9 * epoch
    if kind == "D":
        return -1_500.0 + sat
    return 40.0 + sat % 10


def render(spec: SynthSpec) -> str:
    if spec.physics:
        from .synth_physics import render_physics

        return render_physics(spec)
    return header(spec) + _body(spec)


def header(spec: SynthSpec, times: list[dt.datetime] | None = None) -> str:
    v3 = spec.version >= 3
    system = spec.systems[0] if len(spec.systems) == 1 else "M"
    out = [_hl(f"{spec.version:9.2f}{'':11}{'OBSERVATION DATA':<20}{system}", "RINEX VERSION / TYPE"),
           _hl(f"{'geode synth':<20}{'geode':<20}{'20240101 000000 UTC':<20}", "PGM / RUN BY / DATE"),
           _hl(spec.marker_name, "MARKER NAME"),
           _hl(spec.marker_number, "MARKER NUMBER"),
           _hl(f"{'geode':<20}{'GeoDE':<40}", "OBSERVER / AGENCY"),
           _hl(f"{spec.receiver_serial:<20}{spec.receiver_type:<20}{spec.receiver_firmware:<20}",
               "REC # / TYPE / VERS"),
           _hl(f"{spec.antenna_serial:<20}{spec.antenna_type:<16}{spec.antenna_radome:<4}", "ANT # / TYPE"),
           _hl("".join(f"{c:14.4f}" for c in spec.approx_xyz), "APPROX POSITION XYZ"),
           _hl(f"{spec.antenna_height:14.4f}{spec.antenna_east:14.4f}{spec.antenna_north:14.4f}",
               "ANTENNA: DELTA H/E/N")]
    if v3:
        for sys_ in spec.systems:
            types = spec.types_of(sys_)
            for i in range(0, len(types), 13):
                head = f"{sys_}  {len(types):3d}" if i == 0 else " " * 6
                out.append(_hl(head + "".join(f" {t:<3}" for t in types[i:i + 13]), "SYS / # / OBS TYPES"))
        glonass = [s for s in spec.satellites if s[0] == "R"]
        if spec.physics and spec.glonass_slots and glonass:
            from .synth_physics import glonass_channel

            for i in range(0, len(glonass), 8):
                head = f"{len(glonass):3d} " if i == 0 else " " * 4
                out.append(_hl(head + "".join(f"{s} {glonass_channel(s):2d} " for s in glonass[i:i + 8]),
                               "GLONASS SLOT / FRQ #"))
    else:
        out.append(_hl(f"{1:6d}{1:6d}", "WAVELENGTH FACT L1/2"))
        out.append(_hl(f"{len(spec.obs_types):6d}" + "".join(f"{'':4}{t:<2}" for t in spec.v2_types),
                       "# / TYPES OF OBSERV"))
    out.append(_hl(f"{spec.interval:10.3f}", "INTERVAL"))
    times = times or spec.epoch_times
    for when, label in ((times[0], "TIME OF FIRST OBS"), (times[-1], "TIME OF LAST OBS")):
        out.append(_hl(f"{when.year:6d}{when.month:6d}{when.day:6d}{when.hour:6d}{when.minute:6d}"
                       f"{when.second + when.microsecond / 1e6:13.7f}{'':5}GPS", label))
    out.append(_hl("", "END OF HEADER"))
    return "".join(out)


def _body(spec: SynthSpec) -> str:
    v3 = spec.version >= 3
    out = []
    times = spec.epoch_times
    sats = [(s, int(s[1:])) for s in spec.satellites]
    step = dt.timedelta(seconds=spec.interval)
    for when in times:
        k = int((when - spec.start) / step)
        sec = when.second + when.microsecond / 1e6
        if v3:
            out.append(f"> {when.year:4d} {when.month:02d} {when.day:02d} {when.hour:02d} {when.minute:02d}"
                       f"{sec:11.7f}  0{len(sats):3d}\n")
            for name, prn in sats:
                out.append(name + "".join(f"{_value(t, prn, k):14.3f}  " for t in spec.obs_types).rstrip() + "\n")
        else:
            head = (f" {when.year % 100:02d} {when.month:2d} {when.day:2d} {when.hour:2d} {when.minute:2d}"
                    f"{sec:11.7f}  0{len(sats):3d}")
            names = [n for n, _ in sats]
            out.append(head + "".join(names[:12]) + "\n")
            for i in range(12, len(names), 12):
                out.append(" " * 32 + "".join(names[i:i + 12]) + "\n")
            for _, prn in sats:
                values = [f"{_value(t, prn, k):14.3f}  " for t in spec.v2_types]
                for i in range(0, len(values), 5):
                    out.append("".join(values[i:i + 5]).rstrip() + "\n")
    return "".join(out)


def write_rinex(path: Path | str, spec: SynthSpec | None = None, *, hatanaka: bool | None = None,
                compression: str | None | bool = False) -> Path:
    """Write ``spec`` to ``path``. Hatanaka/compression default to what the file name says
    (``.crx.gz``, ``.d.Z``, ``.o.bz2`` ...); pass them explicitly for names that do not say."""
    path = Path(path)
    spec = spec or SynthSpec()
    try:
        name = RinexName.parse(path.name)
        hk = name.hatanaka if hatanaka is None else hatanaka
        comp = name.compression if compression is False else compression
    except RinexNameError:
        hk = bool(hatanaka)
        comp = None if compression is False else compression
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(compress_bytes(render(spec).encode("ascii"), hatanaka=hk, compression=comp or None))
    return path
