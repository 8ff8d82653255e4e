"""`geode scan`: scan the RINEX archive, ingest new files, load station information, check integrity."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from geode.dates import DATE_FORMS_HELP

from . import console
from .context import app_context
from .options import JsonOpt, StationsArg, output_file

scan_app = typer.Typer(help="Scan the RINEX archive, ingest new files from the repository, load station "
                            "information, check integrity, ocean loading and PPP.", no_args_is_help=True)

ParallelOpt = Annotated[Optional[bool], typer.Option(
    "--parallel/--noparallel", help="Run on Celery workers or in this process; default: the global option, else "
    "the configuration.", show_default=False)]


def register(app: typer.Typer) -> None:
    app.add_typer(scan_app, name="scan")


def _folder(actx, key: str, create: bool = False) -> Path:
    """A configured folder that must exist (exit 78 naming the key and where it was set); ``create`` makes it."""
    return actx.settings.folder(key, create=create, hint=" (geode scan ingest --create makes it)")


def _refs(actx, stations: list[str] | None):
    if not stations:
        return None
    from geode.stations import select_stations

    return select_stations(actx.db, stations)


CreateOpt = Annotated[bool, typer.Option(
    "--create", help="Create the configured archive and repository folders when they do not exist (otherwise a "
    "missing folder is a configuration error, exit 78: a typo must not create a new, empty archive).")]


@scan_app.command("archive")
def archive_cmd(ctx: typer.Context, stations: StationsArg = None, parallel: ParallelOpt = None,
                qc: Annotated[bool, typer.Option("--qc", help="Also measure the data quality (geode scan qc) of "
                                                 "every file stored, from the same read of the file.")] = False,
                json_: JsonOpt = False) -> None:
    """Read every archive file (or the given stations' files) and upsert its rinex row.

    Re-scanning an unchanged archive changes nothing; a changed file updates its row (and drops its QC row).
    Files that do not belong (bad name, wrong folder, unknown station, unreadable, too large, multi-day, wrong
    day) are listed with the reason and left alone; then the command exits 1 (69 when the database or a disk
    failed meanwhile).
    """
    from dataclasses import asdict

    from geode.archive.run import scan_archive
    from geode.archive.scan import STATUSES
    from geode.rinex.compression import max_size_of

    actx = app_context(ctx)
    root = _folder(actx, "archive.path")
    refs = _refs(actx, stations)
    runner = actx.runner(parallel)
    try:
        report = scan_archive(actx.db, root, runner, refs, progress=actx.progress(),
                              max_size=max_size_of(actx.settings), qc=qc)
    finally:
        runner.close()
    counts = report.counts()
    warned = [o for o in report.outcomes if o.warnings]
    qc_bad = [o for o in report.outcomes if o.qc in ("problem", "transient")]
    if actx.want_json(json_):
        out = {"archive": str(root), "counts": counts}
        if qc:
            out["qc_counts"] = {s: sum(o.qc == s for o in report.outcomes) for s in STATUSES}
        console.print_json({**out, "files": [asdict(o) for o in report.outcomes], "failures": report.failures})
    else:
        console.table([console.Column.num(h, 0) for h in ("inserted", "updated", "unchanged", "problems", "transient")],
                      [list(counts.values())],
                      title=f"archive scan: {len(report.outcomes)} file(s) in {root}")
        if qc:
            measured = sum(o.qc in ("inserted", "updated", "unchanged") for o in report.outcomes)
            console.notice(f"QC measured for {console.plural(measured, 'stored file')}" +
                           (f", {len(qc_bad)} could not be measured" if qc_bad else ""))
    for o in warned:  # stderr, with --json too
        console.warn(f"{o.path}: {'; '.join(o.warnings)}")
    console.failures([(o.path, o.reason) for o in report.problems] +
                     [(o.path, f"transient: {o.reason}") for o in report.transient] +
                     [(o.path, f"QC {'transient: ' if o.qc == 'transient' else ''}{o.qc_reason}") for o in qc_bad] +
                     [(f["unit"], f["message"]) for f in report.failures])
    if report.transient or any(o.qc == "transient" for o in qc_bad):
        raise typer.Exit(69)
    if not report.ok or qc_bad:
        raise typer.Exit(1)


DateRangeOpt = Annotated[Optional[tuple[str, str]], typer.Option(
    "--date-range", "-d", metavar="START END", help=f"First and last day, both included (default: every day). "
    f"{DATE_FORMS_HELP}", show_default=False)]


@scan_app.command("qc")
def qc_cmd(
    ctx: typer.Context, stations: StationsArg = None, date_range: DateRangeOpt = None,
    redo: Annotated[bool, typer.Option("--redo", help="Measure again files whose QC row already has the current "
                                       "metric version.")] = False,
    report: Annotated[bool, typer.Option("--report", help="Print each station's recent QC values against its own "
                                         "baseline, and the degradations flagged (nothing is measured).")] = False,
    plot: Annotated[Optional[Path], typer.Option(
        "--plot", metavar="DIR", help="Write one PNG per station (<net>.<stn>_qc.png): the QC time series, "
        "station-info changes and flagged periods (nothing is measured).", show_default=False)] = None,
    recent: Annotated[int, typer.Option("--recent", metavar="DAYS", min=2, help="Report: the recent window, "
                                        "in days.")] = 7,
    baseline: Annotated[int, typer.Option("--baseline", metavar="DAYS", min=7, help="Report: the baseline "
                                          "window before it, in days.")] = 90,
    sigmas: Annotated[float, typer.Option("--sigmas", min=0.5, help="Report: how many robust sigmas from the "
                                          "baseline median make a day bad.")] = 3.0,
    parallel: ParallelOpt = None, json_: JsonOpt = False,
) -> None:
    """Data-quality metrics of the archive's RINEX files (teqc/Anubis style: completeness, satellites, code
    multipath MP1/MP2 and per signal, cycle slips as o/slps, gaps, SNR, clock jumps) into rinex_qc, one row per
    file; or, with --report / --plot, their trend per station.

    Idempotent: files already measured with the current metric version are skipped (--redo measures them
    again). A file that cannot be read is reported with the reason and never stored; so is a file without a
    rinex row (geode scan archive first); then the command exits 1 (69 when the database or a disk failed).

    --report compares the last --recent days with the --baseline days before them (median and robust spread,
    1.4826 x MAD) and flags: multipath up by more than --sigmas sigmas for most of a week, o/slps collapsing,
    completeness falling, a new clock-jump pattern (the rules are in the README). --date-range ends the
    report on its last day.
    """
    if report or plot is not None:
        _qc_report(ctx, stations, date_range, report, plot, recent, baseline, sigmas, json_)
        return
    from dataclasses import asdict

    from geode.archive.run import qc_archive
    from geode.dates import parse_date_range
    from geode.rinex.compression import max_size_of

    actx = app_context(ctx)
    root = _folder(actx, "archive.path")
    start, end = parse_date_range(list(date_range)) if date_range else (None, None)
    refs = _refs(actx, stations)
    runner = actx.runner(parallel)
    try:
        result = qc_archive(actx.db, root, runner, refs, start.date if start else None, end.date if end else None,
                            redo, progress=actx.progress(), max_size=max_size_of(actx.settings))
    finally:
        runner.close()
    counts = result.counts()
    if actx.want_json(json_):
        console.print_json({"archive": str(root), "counts": counts, "files": [asdict(o) for o in result.outcomes],
                            "missing": [asdict(o) for o in result.missing], "failures": result.failures})
    else:
        console.table([console.Column.num(h, 0) for h in ("inserted", "updated", "unchanged", "problems", "transient")],
                      [list(counts.values())], title=f"RINEX QC: {sum(counts.values())} file(s) in {root}")
    for o in result.outcomes:
        for w in o.warnings:
            console.warn(f"{o.path}: {w}")
    console.failures([(o.path, o.reason) for o in result.problems] +
                     [(o.path, f"transient: {o.reason}") for o in result.transient] +
                     [(f["unit"], f["message"]) for f in result.failures])
    if result.transient:
        raise typer.Exit(69)
    if not result.ok:
        raise typer.Exit(1)


def _qc_report(ctx, stations, date_range, report: bool, plot: Path | None, recent: int, baseline: int,
               sigmas: float, json_: bool) -> None:
    from geode.archive.qc_trends import TrendOptions, station_trend, trend_json
    from geode.archive.qc_store import station_series
    from geode.dates import parse_date_range
    from geode.stations import select_stations

    from .options import output_folder

    if plot is not None:
        output_folder(plot, "--plot")
    actx = app_context(ctx)
    end = parse_date_range(list(date_range))[1].date if date_range else None
    options = TrendOptions(recent_days=recent, baseline_days=baseline, sigmas=sigmas)
    refs = select_stations(actx.db, stations or ["all"])
    trends, written = [], []
    progress = actx.progress() if plot is not None else None  # figures take a while: a bar, or plain lines
    if progress is not None:
        progress.start(len(refs), "qc plots: stations")
    try:
        for ref in refs:
            series = station_series(actx.db, ref.network, ref.code, end=end)
            trend = station_trend(str(ref), series, options, end)
            trends.append(trend)
            if plot is not None and series:
                from geode.archive.qc_plot import qc_png, station_changes
                from geode.stationinfo import records_for

                plot.mkdir(parents=True, exist_ok=True)
                written.append(str(qc_png(plot / f"{ref}_qc.png", str(ref), series, trend,
                                          station_changes(records_for(actx.db, ref)))))
            if progress is not None:
                progress.update(done=len(trends), failed=0)
    finally:
        if progress is not None:
            progress.stop()
    empty = [t.station for t in trends if not t.days]
    if actx.want_json(json_):
        from dataclasses import asdict

        console.print_json({"options": asdict(options), "stations": [trend_json(t) for t in trends],
                            "plots": written})
    elif report:
        rows = []
        for t in trends:
            for m in t.metrics:
                rows.append((t.station, m.metric, _qc_value(m, m.recent), _qc_value(m, m.baseline),
                             _qc_sigma(m), "FLAG" if m.flag else ""))
        console.table([console.Column("station", key=True, priority=0, wrap=False),
                       console.Column("metric", priority=0, wrap=False), console.Column.num("recent", 0),
                       console.Column.num("baseline", 1), console.Column.num("sigma", 2),
                       console.Column("flag", priority=0, wrap=False)], rows,
                      title=f"RINEX QC: last {recent} days vs the {baseline} days before (medians)")
        flags = [(t.station, f.since.strftime("%Y_%j"), f.kind, f.detail) for t in trends for f in t.flags]
        if flags:
            console.table([console.Column("station", key=True, priority=0, wrap=False),
                           console.Column("since", priority=0, wrap=False), console.Column("flag", priority=1, wrap=False),
                           console.Column("detail", priority=0)], flags, title=f"{len(flags)} QC flag(s)")
        else:
            console.notice("no QC flags")
    if empty:
        console.notice(f"no QC rows for {', '.join(empty[:10])}" + (" ..." if len(empty) > 10 else "") +
                       " (geode scan qc measures them)")
    if written and not actx.want_json(json_):
        console.notice(f"{console.plural(len(written), 'plot')} written to {plot}")


def _qc_value(m, x) -> str:
    if x is None:
        return ""
    if m.unit == "m":
        return f"{x:.3f} m"
    if m.unit == "%":
        return f"{x:.1f} %"
    if m.unit == "/day":
        return f"{x:g}"
    return f"{x:.0f}"


def _qc_sigma(m) -> str:
    if m.sigma is None:
        return ""
    if m.log:  # a spread in log10: the factor it stands for
        return f"x{10 ** m.sigma:.2f}"
    return _qc_value(m, m.sigma)


@scan_app.command("ingest")
def ingest_cmd(ctx: typer.Context, parallel: ParallelOpt = None, json_: JsonOpt = False,
               create: CreateOpt = False) -> None:
    """Move the files in <repository>/data_in into the archive and the database, one transaction per file.

    Files are matched to a station by marker code and approximate position (within the station's max_dist).
    Unknown stations get a temporary network ('???') and their files stay in data_in, locked, until the
    station joins a network. Unreadable files go to data_rejected/<reason>/ with a .reason.txt next to them;
    a file is left in data_in only when the database or a disk failed (transient, exit 69). Temporary files
    that killed ingests left in the archive are removed first. Safe to re-run after a crash, and safe to run
    twice at once.
    """
    from dataclasses import asdict

    from geode.archive.run import ingest_repository
    from geode.rinex.compression import max_size_of

    actx = app_context(ctx)
    archive, repository = _folder(actx, "archive.path", create), _folder(actx, "archive.repository", create)
    runner = actx.runner(parallel)
    try:
        report = ingest_repository(actx.db, archive, repository, runner, progress=actx.progress(),
                                   max_size=max_size_of(actx.settings))
    finally:
        runner.close()
    statuses = ("archived", "already archived", "temporary", "locked", "rejected", "transient", "gone")
    counts = {s: report.count(s) for s in statuses}
    if actx.want_json(json_):
        console.print_json({"counts": counts, "released_locks": report.released_locks,
                            "stale_removed": report.stale_removed,
                            "files": [asdict(o) for o in report.outcomes], "failures": report.failures})
    else:
        rows = [(o.source, o.status, o.station, o.destination or o.reason) for o in report.outcomes]
        if rows:
            console.table([console.Column("file", key=True, priority=0, wrap=False), console.Column("status", priority=0),
                           console.Column("station", priority=2, wrap=False), console.Column("where / why", priority=1)],
                          rows, title="ingest")
        else:
            console.notice(f"nothing to ingest in {repository / 'data_in'}")
        if report.released_locks:
            console.notice(f"{report.released_locks} lock(s) released: their stations joined a network")
    for o in report.outcomes:  # stderr, with --json too: values the header did not give (stored with the row)
        if o.warnings:
            console.warn(f"{o.source}: {'; '.join(o.warnings)}")
    if report.stale_removed:
        console.notice(f"removed {len(report.stale_removed)} temporary file(s) left in the archive by killed "
                       f"ingests: {', '.join(report.stale_removed[:5])}" + (" ..." if len(report.stale_removed) > 5
                                                                              else ""))
    bad = [(o.source, f"{o.status}: {o.reason}") for o in report.outcomes if o.status in ("rejected", "transient")]
    console.failures(bad + [(f["unit"], f["message"]) for f in report.failures])
    if any(o.status == "transient" for o in report.outcomes):
        raise typer.Exit(69)
    if bad or report.failures:
        raise typer.Exit(1)


@scan_app.command("stninfo")
def stninfo_cmd(
    ctx: typer.Context,
    files: Annotated[Optional[list[str]], typer.Argument(
        metavar="[FILE]...", help="GAMIT station.info files to load ('-' reads stdin).", show_default=False)] = None,
    network: Annotated[Optional[str], typer.Option(
        "--network", "-n", help="Network of the stations in the files, when a code exists in several.")] = None,
    export: Annotated[Optional[list[str]], typer.Option(
        "--export", "-e", metavar="STATIONS", help="Write station.info for these stations (station-list "
        "grammar; repeat) to stdout or --output.")] = None,
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="File for --export or --propose.")] = None,
    propose: Annotated[Optional[str], typer.Option(
        "--propose", metavar="STATION", help="Write station.info records proposed from the station's RINEX headers "
        "(a new record where the receiver, antenna, radome or antenna height changes) to stdout or --output, to "
        "review and load.", show_default=False)] = None,
    ignore: Annotated[int, typer.Option(
        "--ignore", min=0, help="With --propose: a change lasting this many files or fewer is a header typo, "
        "not a new record.")] = 0,
    json_: JsonOpt = False,
) -> None:
    """Load GAMIT station.info records into stationinfo (GeoDE's overlap rules), export them, or propose them
    from RINEX headers (GeoDE's IntegrityCheck -stnp)."""
    from dataclasses import asdict

    from geode.errors import UsageError
    from geode.stationinfo import format_station_info, load_records, parse_station_info, records_for

    actx = app_context(ctx)
    if propose is not None:
        if files or export:
            raise UsageError("--propose cannot be combined with FILE(s) or --export")
        _propose(actx, propose, ignore, output, json_)
        return
    if not files and not export:
        raise UsageError("give station.info FILE(s) to load, --export STATIONS or --propose STATION")
    if output is not None:
        output_file(output, "--output")
    outcomes = []
    for name in files or []:
        if name == "-":
            text = sys.stdin.read()
        else:
            try:
                text = Path(name).read_text(encoding="utf-8", errors="replace")
            except OSError as exc:
                raise UsageError(f"cannot read {name}: {exc.strerror or exc}") from None
        from geode.stationinfo import StationInfoError

        try:
            records = parse_station_info(text)
        except StationInfoError as exc:
            raise UsageError(f"{name}: {exc}") from None
        outcomes += load_records(actx.db, records, network)
    if export:
        from geode.stations import select_stations

        records = [r for ref in select_stations(actx.db, export) for r in records_for(actx.db, ref)]
        text = format_station_info(records)
        if output:
            output.write_text(text, encoding="utf-8")
            console.notice(f"{len(records)} record(s) written to {output}")
        else:
            sys.stdout.write(text)
    if files:
        if actx.want_json(json_) and not (export and not output):
            console.print_json([asdict(o) for o in outcomes])
        elif not export or output:
            console.table([console.Column("station", key=True, priority=0, wrap=False),
                           console.Column("start", priority=0, wrap=False), console.Column("result", priority=0)],
                          [(o.station, _instant(o.start), o.status) for o in outcomes if o.status != "failed"],
                          title="station information")
    failed = [(f"{o.station} {_instant(o.start)}", o.reason) for o in outcomes if o.status == "failed"]
    console.failures(failed)
    if failed:
        raise typer.Exit(1)


def _propose(actx, station: str, ignore: int, output: Path | None, json_: bool) -> None:
    from dataclasses import asdict

    from geode.station_admin import propose_stationinfo, resolve
    from geode.stationinfo import format_station_info

    if output is not None:
        output_file(output, "--output")
    ref = resolve(actx.db, station)
    records = propose_stationinfo(actx.db, ref, ignore)
    if actx.want_json(json_) and output is None:
        console.print_json({"station": str(ref), "records": [asdict(r) for r in records]})
        return
    text = format_station_info(records)
    if output is not None:
        output.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    where = str(output) if output is not None else "FILE"
    console.notice(f"{console.plural(len(records), 'record')} proposed for {ref} from its RINEX headers; review "
                   f"them, then load with: geode scan stninfo {where}" + ("" if ref.network[0] != "?" else
                                                                         " (after 'geode station move')"))


def _instant(text: str) -> str:
    """station.info's 'YYYY DDD HH MM SS' as the instant style of every output, 'YYYY-MM-DD HH:MM:SS'."""
    import datetime as dt

    try:
        year, doy, hh, mm, ss = (int(p) for p in str(text).split())
        when = dt.datetime(year, 1, 1, hh, mm, ss) + dt.timedelta(days=doy - 1)
    except (ValueError, OverflowError):
        return str(text)
    return when.strftime("%Y-%m-%d %H:%M:%S")


@scan_app.command("check")
def check_cmd(ctx: typer.Context, stations: StationsArg = None, json_: JsonOpt = False) -> None:
    """Integrity report: station info vs RINEX headers, station-info gaps and overlaps, files missing on disk
    or in the database, days with several files, and the data-quality flags of geode scan qc --report (kinds
    qc_mp_up, qc_slips_up, ...). Exits 1 when anything is found."""
    from dataclasses import asdict

    from geode.integrity import check_integrity
    from geode.stations import select_stations

    actx = app_context(ctx)
    refs = select_stations(actx.db, stations or ["all"])
    root = actx.settings.path("archive.path")
    if root is not None:
        root = _folder(actx, "archive.path")
    report = check_integrity(actx.db, refs, root)
    if actx.want_json(json_):
        console.print_json({"stations": report.stations, "files": report.files,
                            "findings": [asdict(f) for f in report.findings]})
    else:
        if report.findings:
            console.table([console.Column("station", key=True, priority=0, wrap=False),
                           console.Column("kind", priority=0, wrap=False), console.Column("from", priority=2, wrap=False),
                           console.Column("to", priority=2, wrap=False), console.Column("detail", priority=1)],
                          [(f.station, f.kind, f.first, f.last, f.detail) for f in report.findings],
                          title=f"integrity: {len(report.findings)} finding(s)")
        console.notice(f"{report.stations} station(s), {report.files} rinex row(s) checked"
                       + ("" if root else "; archive files not checked (no [archive] path)"))
    if report.findings:
        raise typer.Exit(1)


@scan_app.command("otl")
def otl_cmd(ctx: typer.Context, stations: StationsArg = None,
            force: Annotated[bool, typer.Option("--force", help="Recompute stations that already have "
                                                "coefficients.")] = False,
            parallel: ParallelOpt = None, json_: JsonOpt = False) -> None:
    """Ocean-loading coefficients (HARPOS) with GAMIT's grdtab for stations that lack them.

    Optional: needs [otl] grdtab and [otl] otlgrid in the configuration (geode doctor lists them). Positions
    come from stations.auto_x/y/z.
    """
    from geode.archive import tasks
    from geode.otl import otl_tools, stations_to_do
    from geode.stations import select_stations

    actx = app_context(ctx)
    tools = otl_tools(actx.settings)
    todo = stations_to_do(actx.db, select_stations(actx.db, stations or ["all"]), force)
    runner = actx.runner(parallel)
    try:
        summary = runner.map(tasks.otl_station, [(r["NetworkCode"], r["StationCode"], tools.grdtab, tools.otlgrid)
                                                 for r in todo], progress=actx.progress(),
                             description="ocean loading: stations")
    finally:
        runner.close()
    done = sorted((o.result for o in summary.results), key=lambda d: d["station"])
    failed = [(f"{f.item[0]}.{f.item[1]}", f.message.split(": ", 1)[-1]) for f in summary.failures]
    if actx.want_json(json_):
        console.print_json({"stored": done, "failures": [{"station": s, "message": m} for s, m in failed]})
    elif done:
        console.table([console.Column("station", key=True, priority=0, wrap=False), console.Column("HARPOS", priority=0)],
                      [(d["station"], d["harpos"]) for d in done], title="ocean loading")
    else:
        console.notice("every selected station already has OTL coefficients (use --force to recompute)"
                       if not todo else "no station stored")
    console.failures(failed)
    if failed:
        raise typer.Exit(1)


@scan_app.command("ppp")
def ppp_cmd(ctx: typer.Context, stations: StationsArg = None,
            date_range: Annotated[Optional[tuple[str, str]], typer.Option(
                "--date-range", "-d", metavar="START END", help=f"First and last day, both included (default: "
                f"every day in the archive). {DATE_FORMS_HELP}", show_default=False)] = None,
            force: Annotated[bool, typer.Option("--force", help="Recompute days that already have a "
                                                "solution.")] = False,
            recheck: Annotated[bool, typer.Option("--recheck", help="Recompute days whose solution no longer "
                                                  "matches the station information or orbit (GeoDE's hash).")] = False,
            parallel: ParallelOpt = None, json_: JsonOpt = False) -> None:
    """PPP coordinates (NRCan's GPSPACE) for station-days without a solution in ppp_soln.

    Optional: needs [ppp] ppp_exe, ppp_path, frames, atx and [archive] sp3 (geode doctor lists them), and the
    stations' ocean-loading coefficients (geode scan otl). A position that does not fall within max_dist of
    its station is reported and not stored.
    """
    from geode.archive import tasks
    from geode.dates import GnssDate, parse_date_range
    from geode.ppp.setup import ppp_setup
    from geode.ppp.solutions import days_to_do
    from geode.stations import select_stations

    actx = app_context(ctx)
    setup = ppp_setup(actx.settings)
    _folder(actx, "archive.path")
    start, end = parse_date_range(list(date_range)) if date_range else (GnssDate(1980, 6), GnssDate.today())
    refs = select_stations(actx.db, stations or ["all"])
    todo = days_to_do(actx.db, refs, start, end, force=force, recheck=recheck)
    runner = actx.runner(parallel)
    try:
        summary = runner.map(tasks.ppp_day, [(r["NetworkCode"], r["StationCode"], r["year"], r["doy"], setup)
                                             for r in todo], progress=actx.progress(),
                             description="PPP: station-days")
    finally:
        runner.close()
    done = sorted((o.result for o in summary.results), key=lambda d: (d["station"], d["day"]))
    failed = sorted((f"{f.item[0]}.{f.item[1]} {f.item[2]}_{f.item[3]:03d}", f.message.split(": ", 1)[-1])
                    for f in summary.failures)
    if actx.want_json(json_):
        console.print_json({"stored": done, "failures": [{"unit": u, "message": m} for u, m in failed]})
    elif done:
        console.table([console.Column("station", key=True, priority=0, wrap=False),
                       console.Column("day", priority=0, wrap=False), console.Column("frame", priority=2, wrap=False),
                       *(console.Column.num(f"{c} (m)", 0) for c in "XYZ"), console.Column("σX σY σZ (mm)", priority=1),
                       console.Column.num("epochs", 3)],
                      [(d["station"], d["day"], d["frame"], f"{d['x']:.4f}", f"{d['y']:.4f}", f"{d['z']:.4f}",
                        " ".join(f"{s * 1000:.1f}" for s in d["sigmas"]), str(d["epochs"])) for d in done],
                      title=f"PPP: {len(done)} solution(s) stored")
    else:
        console.notice("every selected station-day already has a PPP solution (use --force or --recheck)"
                       if not todo else "no solution stored")
    console.failures(failed)
    if failed:
        raise typer.Exit(1)
