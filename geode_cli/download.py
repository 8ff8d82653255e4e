"""`geode download`: fetch missing RINEX days from the configured data sources into the repository."""

from __future__ import annotations

from typing import Annotated, Optional

import typer
from typer.core import TyperGroup

from geode.dates import DATE_FORMS_HELP

from . import console
from .context import app_context
from .options import JsonOpt, StationsArg


class _DownloadGroup(TyperGroup):
    """`geode download STATIONS ...` runs the hidden `run` command; `geode download sources ...` the
    sources group. (A group cannot take a free STATIONS list itself: it would swallow the subcommand name.)"""

    def parse_args(self, ctx, args):
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h"):
            args = ["run", *args]
        elif not args:
            args = ["run"]
        return super().parse_args(ctx, args)


download_app = typer.Typer(
    cls=_DownloadGroup, no_args_is_help=False,
    help="Download RINEX files from the configured data sources.\n\n"
         "geode download [STATIONS]... (--date-range START END | --window DAYS) fetches every station-day that is "
         "neither in the archive nor already waiting in <repository>/data_in, trying each station's sources in "
         "order, and drops accepted files in data_in/<net>.<stn>/ for 'geode scan ingest'. "
         "'geode download sources' manages the servers and each station's source list. Options of the download: "
         "'geode download run --help'.")
sources_app = typer.Typer(help="Manage download servers and each station's ordered source list.",
                          no_args_is_help=True)
download_app.add_typer(sources_app, name="sources")


def register(app: typer.Typer) -> None:
    app.add_typer(download_app, name="download")


ParallelOpt = Annotated[Optional[bool], typer.Option(
    "--parallel/--noparallel", help="Run on Celery workers (queue 'io') or in this process; default: the global "
    "option, else the configuration.", show_default=False)]


@download_app.command("run", hidden=True)
def run_cmd(
    ctx: typer.Context,
    stations: StationsArg = None,
    date_range: Annotated[Optional[tuple[str, str]], typer.Option(
        "--date-range", "-d", metavar="START END", help=f"First and last day, both included (the same date twice "
        f"for one day). {DATE_FORMS_HELP}", show_default=False)] = None,
    window: Annotated[Optional[int], typer.Option(
        "--window", "-w", min=1, metavar="DAYS", help="From DAYS days ago to today, both included (GeoDE's -win: "
        "--window 1 is yesterday and today).", show_default=False)] = None,
    retries: Annotated[int, typer.Option(min=1, max=10, help="Attempts per file and source when a transfer "
                                         "breaks (with doubling backoff).")] = 3,
    backoff: Annotated[float, typer.Option(min=0.0, help="Seconds before the second attempt.")] = 1.0,
    timeout: Annotated[float, typer.Option(min=1.0, help="Seconds for any network operation.")] = 20.0,
    parallel: ParallelOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Fetch the station-days missing from the archive (GeoDE's DownloadSources)."""
    from dataclasses import asdict

    from geode.dates import GnssDate, date_range as days_between, parse_date_range
    from geode.errors import UsageError
    from geode.sources.fetch import FetchOptions
    from geode.sources.plan import run_download
    from geode.stations import select_stations

    actx = app_context(ctx)
    if bool(date_range) == (window is not None):
        raise UsageError("give exactly one of --date-range START END or --window DAYS")
    if date_range:
        start, end = parse_date_range(list(date_range))
    else:
        end = GnssDate.today()
        first = GnssDate.from_ymd(1980, 1, 6)  # GPS time began: nothing to fetch before
        if end - first < window:
            raise UsageError(f"--window {window} reaches back before GPS time began (1980-01-06): at most "
                             f"{end - first} today")
        start = end - window
    if not stations:
        raise UsageError("name the stations to download (e.g. igs.algo, igs.all or all)")
    settings = actx.settings
    data_in = settings.repository_dir("data_in")
    refs = select_stations(actx.db, stations)
    options = FetchOptions(retries=retries, backoff=backoff, timeout=timeout,
                           netrc=settings.get("sources.netrc"),
                           format_scripts_path=str(settings.path("archive.format_scripts_path") or "") or None)
    runner = actx.runner(parallel)
    try:
        report = run_download(actx.db, refs, days_between(start, end), data_in, runner, options=options,
                              progress=actx.progress())
    finally:
        runner.close()
    counts = report.counts()
    if actx.want_json(json_):
        console.print_json({
            "data_in": str(data_in), "start": start.yyyy_ddd, "end": end.yyyy_ddd, "counts": counts,
            "stations": [asdict(r) for r in report.results],
            "skipped": [asdict(s) for s in report.plan.skipped],
            "problems": [{"unit": u, "message": m} for u, m in report.plan.problems] + report.failures})
    else:
        rows = [(stn, f"{d.year}_{d.doy:03d}", d.status, ", ".join(d.files) or d.reason)
                for r in report.results for d in r.days for stn in [f"{r.network}.{r.station}"]]
        if rows:
            console.table([console.Column("station", key=True, priority=0, wrap=False),
                           console.Column("day", priority=0, wrap=False), console.Column("status", priority=0, wrap=False),
                           console.Column("file / why", priority=1)], rows, title=f"download into {data_in}")
        console.notice(f"{counts['downloaded']} downloaded ({counts['bytes']} bytes), {counts['not_found']} not "
                       f"found, {counts['failed']} failed, {counts['skipped']} skipped (already archived or in "
                       "data_in)")
    console.failures([(f"{stn} {d.year}_{d.doy:03d}", d.reason) for stn, d in report.days("failed")]
                     + report.plan.problems + [(f["unit"], f["message"]) for f in report.failures])
    if not report.ok:
        raise typer.Exit(1)


@download_app.command("attempts")
def attempts_cmd(
    ctx: typer.Context,
    stations: StationsArg = None,
    limit: Annotated[int, typer.Option(min=1, help="How many, newest first.")] = 50,
    json_: JsonOpt = False,
) -> None:
    """What earlier downloads tried: station, day, source URL, outcome (success, not_found, rejected, error)
    and why."""
    from geode.sources.plan import ensure_attempts_table, recent_attempts
    from geode.stations import select_stations

    actx = app_context(ctx)
    ensure_attempts_table(actx.db)
    refs = select_stations(actx.db, stations) if stations else None
    rows = recent_attempts(actx.db, refs, limit)
    if actx.want_json(json_):
        console.print_json(rows)
        return
    console.table([console.Column("when", priority=3, wrap=False), console.Column("station", key=True, priority=0,
                                                                                   wrap=False),
                   console.Column("day", priority=0, wrap=False), console.Column("outcome", priority=0, wrap=False),
                   console.Column("url", priority=2), console.Column("reason", priority=1)],
                  [(r["attempted"].strftime("%Y-%m-%d %H:%M:%S"), r["station"], f"{r['year']}_{r['doy']:03d}",
                    r["outcome"], r["url"], r["reason"] or "") for r in rows], title="download attempts")


# --- sources ---------------------------------------------------------------------------------------------------------

@sources_app.command("list")
def sources_list(ctx: typer.Context, stations: StationsArg = None, json_: JsonOpt = False) -> None:
    """Servers (passwords masked) and the stations' source lists, in try order."""
    from geode.sources import catalog
    from geode.stations import select_stations

    actx = app_context(ctx)
    db = actx.db
    servers = [s.shown() for s in catalog.servers(db)]
    entries = catalog.all_station_sources(db)
    if stations:
        wanted = {(r.network, r.code) for r in select_stations(db, stations)}
        entries = [e for e in entries if (e["network"], e["station"]) in wanted]
    if actx.want_json(json_):
        console.print_json({"servers": servers, "stations": entries})
        return
    console.table([console.Column.num("id", 0), console.Column("protocol", priority=3, wrap=False),
                   console.Column("server", key=True, priority=0, wrap=False), console.Column("user", priority=4),
                   console.Column("password", priority=5), console.Column("path", priority=1),
                   console.Column("format", priority=2)],
                  [(s["server_id"], s["protocol"].lower(), s["fqdn"], s["username"] or "", s["password"] or "",
                    s["path"] or "", s["format"]) for s in servers], title="servers")
    console.table([console.Column("station", key=True, priority=0, wrap=False), console.Column.num("try", 0),
                   console.Column.num("server", 0), console.Column("path override", priority=1),
                   console.Column("format override", priority=2)],
                  [(f"{e['network']}.{e['station']}", e["try_order"], e["server_id"], e["path"] or "",
                    e["format"] or "") for e in entries], title="station sources")


@sources_app.command("add")
def sources_add(
    ctx: typer.Context,
    stations: StationsArg = None,
    protocol: Annotated[Optional[str], typer.Option(
        help="New server: ftp, ftpa (active FTP), ftps, sftp, http or https.", show_default=False)] = None,
    fqdn: Annotated[Optional[str], typer.Option(
        help="New server: host or host:port.", show_default=False)] = None,
    path: Annotated[Optional[str], typer.Option(
        help="Path template, e.g. /pub/${year}/${doy}/${station}${doy}0.${year2d}d.Z (tags: year doy day month "
             "gpsweek gpswkday year2d station STATION network marker country RINEX2 RINEX3_30...). For a new "
             "server its default; for stations an override.", show_default=False)] = None,
    username: Annotated[Optional[str], typer.Option(
        help="Login for a new server; the password goes in ~/.netrc (or [sources] netrc), never here.",
        show_default=False)] = None,
    fmt: Annotated[Optional[str], typer.Option(
        "--format", help="Format script name (in [archive] format_scripts_path) applied after download.",
        show_default=False)] = None,
    server: Annotated[Optional[str], typer.Option(
        help="Existing server (id or fqdn) to add to the STATIONS' lists.", show_default=False)] = None,
    try_order: Annotated[Optional[int], typer.Option(
        min=1, help="Position in the station's list (default: last).", show_default=False)] = None,
    json_: JsonOpt = False,
) -> None:
    """Add a server (--protocol --fqdn --path), and/or add a server to STATIONS' source lists."""
    from geode.errors import UsageError
    from geode.sources import catalog
    from geode.stations import select_stations

    actx = app_context(ctx)
    db = actx.db
    out: dict = {}
    if protocol or fqdn:
        if not (protocol and fqdn and path):
            raise UsageError("a new server needs --protocol, --fqdn and --path")
        if fmt and fmt != catalog.DEFAULT_FORMAT:
            catalog.add_format(db, fmt)
        srv = catalog.add_server(db, protocol, fqdn, path, username=username, fmt=fmt or catalog.DEFAULT_FORMAT)
        out["server"] = srv.shown()
        server, path, fmt = str(srv.server_id), None, None
        console.notice(f"server {srv.server_id} added: {srv.protocol.lower()}://{srv.fqdn}")
    if stations:
        if not server:
            raise UsageError("give --server ID (or define a new one with --protocol/--fqdn/--path)")
        if fmt and fmt != catalog.DEFAULT_FORMAT:
            catalog.add_format(db, fmt)
        out["stations"] = []
        for ref in select_stations(db, stations):
            entry = catalog.add_station_source(db, ref, server, try_order=try_order, path=path, fmt=fmt)
            out["stations"].append({"station": str(ref), "try_order": entry.try_order,
                                    "server_id": entry.server.server_id, "path": entry.path, "format": entry.format})
            console.notice(f"{ref}: source {entry.try_order} = server {entry.server.server_id}")
    elif not out:
        raise UsageError("nothing to add: give --protocol/--fqdn/--path for a server, or STATIONS --server ID")
    if actx.want_json(json_):
        console.print_json(out)


@sources_app.command("remove")
def sources_remove(
    ctx: typer.Context,
    stations: StationsArg = None,
    server: Annotated[Optional[str], typer.Option(
        help="Without STATIONS: delete this server (it must be in no station's list).", show_default=False)] = None,
    try_order: Annotated[Optional[int], typer.Option(
        min=1, help="With STATIONS: remove only this entry of their lists.", show_default=False)] = None,
) -> None:
    """Remove STATIONS' source entries (all, or --try-order N), or a whole server (--server)."""
    from geode.errors import UsageError
    from geode.sources import catalog
    from geode.stations import select_stations

    actx = app_context(ctx)
    db = actx.db
    if stations:
        total = sum(catalog.remove_station_source(db, ref, try_order) for ref in select_stations(db, stations))
        console.notice(f"{total} source entr{'y' if total == 1 else 'ies'} removed")
    elif server:
        srv = catalog.remove_server(db, server)
        console.notice(f"server {srv.server_id} ({srv.fqdn}) removed")
    else:
        raise UsageError("give STATIONS (to edit their lists) or --server ID (to delete a server)")


@sources_app.command("test")
def sources_test(
    ctx: typer.Context,
    server: Annotated[str, typer.Argument(help="Server id or fqdn.", show_default=False)],
    station: Annotated[Optional[str], typer.Option(
        help="Also fetch this station's file (net.stn) for --date, to check the path template.",
        show_default=False)] = None,
    date: Annotated[Optional[str], typer.Option(help=f"Day for --station (default: 2 days ago). {DATE_FORMS_HELP}",
                                                show_default=False)] = None,
    timeout: Annotated[float, typer.Option(min=1.0, help="Seconds for any network operation.")] = 20.0,
    json_: JsonOpt = False,
) -> None:
    """Connect and log in to a server (credentials from netrc); with --station, fetch and validate one file."""
    from geode.sources.probe import probe_server

    actx = app_context(ctx)
    result = probe_server(actx.db, server, station=station, date=date, timeout=timeout,
                          netrc=actx.settings.get("sources.netrc"))
    if actx.want_json(json_):
        console.print_json(result)
    else:
        console.table(["check", "result"], [(k, v) for k, v in result["checks"]], title=result["server"])
    if not result["ok"]:
        raise typer.Exit(1)
