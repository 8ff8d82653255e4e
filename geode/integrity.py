"""``geode scan check``: integrity of station information, RINEX rows and archive files, per station.

Findings (each with a kind, a station and a readable detail):
* ``equipment``: a RINEX header disagrees with the station-info record in force (receiver or antenna type,
  serials, radome, antenna height); consecutive days with the same disagreement are reported as one range;
* ``no_stationinfo``: RINEX files outside every station-info record;
* ``overlap`` / ``gap`` / ``open_records``: station-info records that overlap, leave a gap with data in it,
  or more than one open record;
* ``missing_file``: a ``rinex`` row whose archive file is gone; ``not_in_db``: an archive file with no row;
* ``several_files``: days with more than one file;
* ``header_warning``: RINEX header values that did not parse when the file was read (``rinex_warnings``);
* ``stale_temp``: a temporary file that a killed ``geode scan ingest`` left in the archive (the next ingest
  removes it);
* ``qc_<flag>`` (``qc_mp_up``, ``qc_slips_up``, ``qc_completeness_down``, ``qc_elev_completeness_down``,
  ``qc_clock_jumps``): a data-quality degradation raised by the station's QC trend (``rinex_qc``, the default
  windows of ``geode.archive.qc_trends``), from its first bad day to the last QC day.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from .archive.layout import ArchiveEntry, ArchiveLayout, LayoutError
from .archive.scan import walk
from .archive.staging import stale_files
from .stationinfo import StationInfoRecord, records_for


@dataclass
class Finding:
    station: str
    kind: str
    detail: str
    first: str = ""  # first and last day concerned, YYYY_DDD
    last: str = ""


@dataclass
class IntegrityReport:
    stations: int = 0
    files: int = 0
    findings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.findings


def _day(when: dt.datetime | dt.date) -> str:
    return _doy_day(when.year, when.timetuple().tm_yday)


def _doy_day(year, doy) -> str:
    """YYYY_DDD, the form every finding's days take (rows carry their year and day of year as numerics)."""
    return f"{int(year)}_{int(doy):03d}"


def _norm(text) -> str:
    return str(text or "").strip().upper()


def _equipment_diffs(row: dict, rec: StationInfoRecord) -> list[str]:
    diffs = []
    pairs = (("receiver type", row["ReceiverType"], rec.receiver_code),
             ("receiver serial", row["ReceiverSerial"], rec.receiver_serial),
             ("antenna type", row["AntennaType"], rec.antenna_code),
             ("antenna serial", row["AntennaSerial"], rec.antenna_serial),
             ("radome", row["AntennaDome"] or "NONE", rec.radome_code))
    for what, rinex, info in pairs:
        if _norm(rinex) != _norm(info):
            diffs.append(f"{what}: RINEX {str(rinex or '').strip()!r} != station info {info!r}")
    if row["AntennaOffset"] is not None and abs(float(row["AntennaOffset"]) - rec.antenna_height) > 0.0005:
        diffs.append(f"antenna height: RINEX {float(row['AntennaOffset']):.4f} != station info "
                     f"{rec.antenna_height:.4f}")
    return diffs


def check_station(db, ref, layout: ArchiveLayout,
                  on_disk: dict[str, list[ArchiveEntry]] | None) -> tuple[list[Finding], int]:
    key = str(ref)
    rows = db.query('SELECT * FROM rinex WHERE "NetworkCode" = %s AND "StationCode" = %s '
                    'ORDER BY "ObservationSTime", "Filename"', (ref.network, ref.code))
    records = records_for(db, ref)
    findings: list[Finding] = []

    # station information: open records, overlaps, gaps holding data
    open_recs = [r for r in records if r.date_end is None]
    if len(open_recs) > 1:
        findings.append(Finding(key, "open_records", f"{len(open_recs)} records have no end date"))
    for prev, nxt in zip(records, records[1:]):
        if prev.date_end is None or nxt.date_start <= prev.date_end:
            findings.append(Finding(key, "overlap", f"record starting {_day(nxt.date_start)} overlaps the one "
                                    f"starting {_day(prev.date_start)}", _day(nxt.date_start), _day(nxt.date_start)))
        elif (nxt.date_start - prev.date_end).total_seconds() > 1:
            inside = [r for r in rows if prev.date_end < r["ObservationSTime"] < nxt.date_start]
            if inside:
                findings.append(Finding(key, "gap", f"no station info from {prev.date_end:%Y-%m-%d %H:%M:%S} to "
                                        f"{nxt.date_start:%Y-%m-%d %H:%M:%S}, {len(inside)} RINEX file(s) inside",
                                        _day(prev.date_end), _day(nxt.date_start)))

    # RINEX headers vs the record in force at mid-session; consecutive equal disagreements become one range
    runs: list[list[str]] = []  # [kind, detail, first day, last day]
    active: dict[tuple[str, str], list[str]] = {}
    for row in rows:
        mid = row["ObservationSTime"] + (row["ObservationETime"] - row["ObservationSTime"]) / 2
        rec = next((r for r in records if r.covers(mid)), None)
        if rec is None:
            current = {("no_stationinfo", "no station-info record covers these files")}
        else:
            current = {("equipment", d) for d in _equipment_diffs(row, rec)}
        active = {k: run for k, run in active.items() if k in current}  # a file without it breaks the run
        for k in sorted(current):
            if k in active:
                active[k][3] = _day(mid)
            else:
                active[k] = [k[0], k[1], _day(mid), _day(mid)]
                runs.append(active[k])
    findings += [Finding(key, kind, detail, first, last) for kind, detail, first, last in runs]

    # header values that did not parse (stored with the file's row when it was read)
    if rows and db.table_exists("rinex_warnings"):
        for w in db.query('SELECT r."Filename", r."ObservationYear", r."ObservationDOY", w.code, w.message '
                          'FROM rinex_warnings w JOIN rinex r ON r.api_id = w.rinex_id '
                          'WHERE r."NetworkCode" = %s AND r."StationCode" = %s ORDER BY r."ObservationSTime", w.code',
                          (ref.network, ref.code)):
            day = _doy_day(w["ObservationYear"], w["ObservationDOY"])
            findings.append(Finding(key, "header_warning", f"{w['Filename']}: {w['message']}", day, day))

    # data-quality degradations against the station's own baseline (geode scan qc --report)
    if rows and db.table_exists("rinex_qc"):
        from .archive.qc_store import station_series
        from .archive.qc_trends import station_trend

        trend = station_trend(key, station_series(db, ref.network, ref.code))
        for f in trend.flags:
            findings.append(Finding(key, f"qc_{f.kind}", f.detail, _day(f.since), _day(trend.last_day)))

    # several files for one day
    per_day = defaultdict(list)
    for row in rows:
        per_day[(int(row["ObservationYear"]), int(row["ObservationDOY"]))].append(row["Filename"])
    for (year, doy), names in sorted(per_day.items()):
        if len(names) > 1:
            findings.append(Finding(key, "several_files", f"{len(names)} files: {', '.join(names)}",
                                    _doy_day(year, doy), _doy_day(year, doy)))

    # rows vs files on disk
    if on_disk is not None:
        disk_names = {entry.name.rinex_name: entry.relpath for entry in on_disk.get(key, [])}
        for row in rows:
            if row["Filename"] not in disk_names:
                try:
                    expected = layout.row_path(row)
                except LayoutError:
                    expected = row["Filename"]
                day = _doy_day(row["ObservationYear"], row["ObservationDOY"])
                findings.append(Finding(key, "missing_file", f"{row['Filename']}: no file in the archive "
                                        f"(expected {expected})", day, day))
        in_db = {row["Filename"] for row in rows}
        for name, rel in sorted(disk_names.items()):
            if name not in in_db:
                findings.append(Finding(key, "not_in_db", f"{rel}: archive file without a rinex row "
                                        "(geode scan archive adds it or says why it cannot)"))
    return findings, len(rows)


def files_by_station(root: Path, layout: ArchiveLayout) -> dict[str, list[ArchiveEntry]]:
    found: dict[str, list[ArchiveEntry]] = defaultdict(list)
    for rel in walk(root):
        try:
            entry = layout.parse(rel)
        except LayoutError:
            continue  # not archive content; geode scan archive reports those
        found[f"{entry.network}.{entry.station}"].append(entry)
    return found


def check_integrity(db, refs, archive_root: Path | None) -> IntegrityReport:
    layout = ArchiveLayout.from_db(db)
    on_disk = files_by_station(Path(archive_root), layout) if archive_root is not None else None
    report = IntegrityReport(stations=len(refs))
    for ref in refs:
        findings, files = check_station(db, ref, layout, on_disk)
        report.findings += findings
        report.files += files
    if archive_root is not None:
        for path in stale_files(Path(archive_root), everywhere=True):
            report.findings.append(Finding("-", "stale_temp", f"{path.relative_to(archive_root).as_posix()}: "
                                           "temporary file of a killed ingest (geode scan ingest removes it)"))
    return report
