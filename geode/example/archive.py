"""The example's RINEX archive and repository: every station × every example day, both RINEX generations,
every compression, one corrupt file; in data_in a few new files and one from an unknown station; a
station.info file. Files are small (two satellites, two observables, 30 s) so `geode example` stays fast."""

from __future__ import annotations

from pathlib import Path

from ..dates import GnssDate
from ..rinex.names import RinexName
from ..rinex.synth import SynthSpec, write_rinex
from .network import EXAMPLE_DAYS, ExampleStation

# archive file kinds: (RINEX version, hatanaka, compression); CRINEZ is what archives hold
KINDS = {
    "crinez2": (2, True, "Z"), "crinez3": (3, True, "gz"), "gz": (2, False, "gz"), "bz2": (2, False, "bz2"),
    "zip": (3, False, "zip"), "plain": (2, False, None), "crx": (3, True, None),
}
# (station index, day index) whose RINEX header carries a wrong antenna serial
MISMATCH = (7, 3)
# the unknown station dropped in the repository (Tandil, not in the example network)
UNKNOWN = ("tand", -37.3175, -59.1311, 190.0)


def station_spec(s: ExampleStation, year: int, doy: int, version: int) -> SynthSpec:
    from ..geodesy.coordinates import lla2xyz

    day = GnssDate.from_doy(year, doy).datetime
    rec = next((r for r in s.records if r.start <= day and (r.end is None or day <= r.end)), s.current)
    approx = lla2xyz(s.lat, s.lon, s.height)
    return SynthSpec(version=3.04 if version == 3 else 2.11, marker_name=s.code.upper(),
                     marker_number=f"{s.code.upper()}M001", receiver_serial=rec.receiver_serial,
                     receiver_type=rec.receiver, receiver_firmware=rec.firmware, antenna_serial=rec.antenna_serial,
                     antenna_type=rec.antenna, antenna_radome=rec.radome, antenna_height=rec.antenna_height,
                     approx_xyz=tuple(round(c, 4) for c in approx), start=day, interval=30.0, epochs=2880,
                     satellites=("G05", "G12"), obs_types=("C1C", "L1C"))


def file_name(code: str, year: int, doy: int, kind: str, country: str = "ARG") -> str:
    version, hatanaka, comp = KINDS[kind]
    if version == 2:
        name = RinexName(code, year, doy, 2, hatanaka, comp)
    else:
        name = RinexName(code, year, doy, 3, hatanaka, comp, country=country.upper()[:3].ljust(3, "X"))
    return name.name


def kind_for(index: int, day_index: int) -> str:
    """Mostly CRINEZ (alternating generations by station), with the other compressions sprinkled in."""
    others = ("gz", "bz2", "zip", "plain", "crx")
    if day_index == 1 and index < len(others):
        return others[index]
    return "crinez2" if index % 2 == 0 else "crinez3"


def build(ws) -> list[str]:
    from ..archive.layout import ArchiveLayout
    from ..archive.scan import scan_batch, walk
    from ..stationinfo import format_station_info, records_for
    from ..stations import StationRef

    archive = Path(ws.settings.path("archive.path"))
    repository = Path(ws.settings.path("archive.repository"))
    layout = ArchiveLayout.from_db(ws.db)
    written = 0
    for i, s in enumerate(ws.stations):
        for j, (year, doy) in enumerate(EXAMPLE_DAYS):
            kind = kind_for(i, j)
            path = archive / layout.folder(s.network, s.code, GnssDate.from_doy(year, doy).date) / file_name(
                s.code, year, doy, kind, s.country)
            spec = station_spec(s, year, doy, KINDS[kind][0])
            if (i, j) == MISMATCH:  # an operator typo in one header: `geode scan check` points at it
                spec = spec.with_(antenna_serial=spec.antenna_serial[:-1] + "X")
            write_rinex(path, spec)
            written += 1
    # one corrupt file: the last day of the last station, cut short
    corrupt = path
    corrupt.write_bytes(corrupt.read_bytes()[: corrupt.stat().st_size // 2])

    # the repository: the day after the week for two known stations, and an unknown station
    year, doy = EXAMPLE_DAYS[-1][0], EXAMPLE_DAYS[-1][1] + 1
    new = []
    for s, kind in ((ws.stations[0], "crinez2"), (ws.stations[1], "crinez3")):
        rel = f"{s.network}.{s.code}/{file_name(s.code, year, doy, kind, s.country)}"
        write_rinex(repository / "data_in" / rel, station_spec(s, year, doy, KINDS[kind][0]))
        new.append(rel)
    code, lat, lon, h = UNKNOWN
    stranger = ExampleStation("???", code, "unknown", lat, lon, h, "ARG", ws.stations[0].records)
    rel = f"new/{file_name(code, year, doy, 'crinez2')}"
    write_rinex(repository / "data_in" / rel, station_spec(stranger, year, doy, 2))
    new.append(rel)

    # station.info of the whole network, as GAMIT users keep it
    records = [r for s in ws.stations for r in records_for(ws.db, StationRef(s.network, s.code))]
    (ws.root / "station.info").write_text(format_station_info(records), encoding="utf-8")

    # load the archive into the rinex table, as `geode scan archive` would
    outcomes = scan_batch(ws.db, archive, walk(archive))
    stored = sum(1 for o in outcomes if o.status in ("inserted", "updated", "unchanged"))
    bad = [o for o in outcomes if o.status == "problem"]
    lines = [f"archive: {written} RINEX files (2.11 and 3.04; .d.Z, .crx.gz, .gz, .bz2, .zip, plain), "
             f"{stored} in the rinex table"]
    lines += [f"  corrupt on purpose: {o.path} ({o.reason})" for o in bad]
    lines.append(f"repository: {len(new)} new files in data_in (one from unknown station {code}); "
                 "try: geode scan ingest")
    lines.append(f"station.info: {len(records)} records in {ws.root / 'station.info'}")
    return lines
