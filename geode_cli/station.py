"""`geode station`: list, show, add, move, rename, merge and delete stations (GeoDE's IntegrityCheck -r/-del_stn,
without SQL)."""

from __future__ import annotations

import sys
from typing import Annotated, Optional

import typer

from . import console
from .context import app_context
from .options import JsonOpt, StationsArg

station_app = typer.Typer(
    help="Manage stations: list and show them, add one, move it into a network (releasing the temporary "
         "network's locks), rename it, merge two into one, delete one. Every table that holds the station's rows "
         "and its archive files follow, one transaction per station; move, rename, merge and delete show what "
         "they will change and ask first (--dry-run only shows it, --yes does not ask).\n\n"
         "Stations are named NET.STN (temporary networks included, e.g. '???.tand') or by a code that is unique "
         "in the database.",
    no_args_is_help=True)

StationArg = Annotated[str, typer.Argument(metavar="STATION", help="NET.STN, or a code unique in the database.",
                                           show_default=False)]
DryRunOpt = Annotated[bool, typer.Option("--dry-run", help="Show what would change; change nothing.")]
YesOpt = Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation (needed when stdin is not a "
                                      "terminal).")]


def register(app: typer.Typer) -> None:
    app.add_typer(station_app, name="station")


def _context(actx):
    from geode.station_admin import Context, finish_pending

    ctx = Context(actx.db, actx.settings.path("archive.path"), actx.settings.path("archive.repository"))
    if ctx.archive is not None and not ctx.archive.is_dir():
        ctx.archive = None
    done = finish_pending(actx.db)
    if done:
        console.notice(f"finished {console.plural(done, 'earlier station change')} (old archive files removed)")
    return ctx


def _day(year, doy) -> str:
    return "" if year is None else f"{int(year)}_{int(doy):03d}"


def _num(value, fmt: str) -> str:
    return "" if value is None else format(float(value), fmt)


# --- list / show / add ------------------------------------------------------------------------------------------------

@station_app.command("list")
def list_cmd(ctx: typer.Context, stations: StationsArg = None, json_: JsonOpt = False) -> None:
    """Stations with position, RINEX days and span, station-info records and files waiting in data_in.

    Without STATIONS: every station, those of temporary networks ('???', made by 'geode scan ingest' for
    unknown markers) included.
    """
    from geode.station_admin import list_stations
    from geode.stations import select_stations

    actx = app_context(ctx)
    _context(actx)
    refs = select_stations(actx.db, stations) if stations else None
    rows = list_stations(actx.db, refs)
    if actx.want_json(json_):
        console.print_json([{**r, "first": _day(r.pop("first_year"), r.pop("first_doy")) or None,
                             "last": _day(r.pop("last_year"), r.pop("last_doy")) or None} for r in rows])
        return
    console.table(
        [console.Column("station", key=True, priority=0, wrap=False), console.Column("name", priority=2),
         console.Column("country", priority=6, wrap=False), console.Column.num("lat", 3), console.Column.num("lon", 3),
         console.Column.num("height m", 7), console.Column.num("rinex days", 0),
         console.Column("first", priority=4, wrap=False), console.Column("last", priority=1, wrap=False),
         console.Column.num("station info", 5), console.Column.num("waiting", 2)],
        [(r["station"], r["name"] or "", r["country"] or "", _num(r["lat"], ".4f"), _num(r["lon"], ".4f"),
          _num(r["height"], ".1f"), r["days"] or 0, _day(r["first_year"], r["first_doy"]),
          _day(r["last_year"], r["last_doy"]), r["stationinfo"], r["waiting"] or "") for r in rows],
        title=f"{console.plural(len(rows), 'station')}")


@station_app.command("show")
def show_cmd(ctx: typer.Context, station: StationArg, json_: JsonOpt = False) -> None:
    """One station: position, station-info history, RINEX days per year, solutions and trajectory models."""
    from geode.station_admin import resolve, show_station

    actx = app_context(ctx)
    _context(actx)
    info = show_station(actx.db, resolve(actx.db, station))
    if actx.want_json(json_):
        console.print_json(info)
        return
    row = info["row"]
    items = [("station", info["station"] + ("  (temporary network)" if info["temporary"] else "")),
             ("name", row["StationName"] or ""), ("country", row["country_code"] or ""),
             ("lat lon height", " ".join(_num(row[k], f) for k, f in (("lat", ".6f"), ("lon", ".6f"),
                                                                         ("height", ".3f")))),
             ("X Y Z m", " ".join(_num(row[k], ".3f") for k in ("auto_x", "auto_y", "auto_z"))),
             ("max_dist m", _num(row["max_dist"], ".1f")), ("ocean loading", "yes" if row["otl"] else "no"),
             ("PPP solutions", str(info["ppp_solutions"])),
             ("GAMIT solutions", ", ".join(f"{g['project']}: {g['days']} days" for g in info["gamit_solutions"])),
             ("stacks", ", ".join(f"{s['name']}: {s['days']} days" for s in info["stacks"])),
             ("models (etms)", ", ".join(f"{m['stack'] or m['soln']}: {m['rows']} rows" for m in info["models"])),
             ("waiting in data_in", ", ".join(info["waiting_in_data_in"]))]
    console.table([console.Column("item", key=True, priority=0, wrap=False), console.Column("value", priority=0)],
                  items)
    console.table([console.Column("start", key=True, priority=0, wrap=False),
                   console.Column("end", priority=0, wrap=False), console.Column("receiver", priority=1),
                   console.Column("receiver serial", priority=3), console.Column("antenna", priority=1),
                   console.Column("radome", priority=2, wrap=False), console.Column("antenna serial", priority=3),
                   console.Column.num("height m", 1)],
                  [(r["date_start"].strftime("%Y-%m-%d %H:%M:%S"),
                    r["date_end"].strftime("%Y-%m-%d %H:%M:%S") if r["date_end"] else "open", r["receiver_code"],
                    r["receiver_serial"], r["antenna_code"], r["radome_code"], r["antenna_serial"],
                    f"{r['antenna_height']:.4f}") for r in info["stationinfo"]], title="station information")
    console.table([console.Column.num("year", 0), console.Column.num("days", 0), console.Column.num("files", 2),
                   console.Column("first", priority=1, wrap=False), console.Column("last", priority=1, wrap=False)],
                  [(y["year"], y["days"], y["files"], _day(y["year"], y["first_doy"]), _day(y["year"], y["last_doy"]))
                   for y in info["rinex_years"]], title="RINEX availability")


@station_app.command("add")
def add_cmd(ctx: typer.Context,
            station: Annotated[str, typer.Argument(metavar="NET.STN", help="The new station.", show_default=False)],
            lat: Annotated[Optional[float], typer.Option(help="Latitude, degrees.", show_default=False)] = None,
            lon: Annotated[Optional[float], typer.Option(help="Longitude, degrees.", show_default=False)] = None,
            height: Annotated[Optional[float], typer.Option(help="Ellipsoidal height, metres.",
                                                            show_default=False)] = None,
            xyz: Annotated[Optional[tuple[float, float, float]], typer.Option(
                metavar="X Y Z", help="Position as ECEF metres (instead of --lat/--lon/--height).",
                show_default=False)] = None,
            name: Annotated[str, typer.Option(help="Station name.")] = "",
            country: Annotated[Optional[str], typer.Option(help="ISO alpha-3 country code.", show_default=False)] = None,
            max_dist: Annotated[Optional[float], typer.Option(
                help="Metres: files farther from the station's position are not its own (ingest).",
                show_default=False)] = None,
            network_name: Annotated[Optional[str], typer.Option(
                help="Create the network NET with this name when it does not exist.", show_default=False)] = None,
            json_: JsonOpt = False) -> None:
    """Add a station (and its network, with --network-name)."""
    from geode.errors import UsageError
    from geode.station_admin import add_station, parse_ref
    from geode.stations import StationRef

    net, stn = parse_ref(station)
    if net is None:
        raise UsageError(f"give the new station as NET.STN (got {station!r})")
    if (lat is None) != (lon is None) or (xyz is not None and lat is not None):
        raise UsageError("give --lat and --lon (and --height), or --xyz X Y Z, or no position")
    actx = app_context(ctx)
    _context(actx)
    out = add_station(actx.db, StationRef(net, stn), lat=lat, lon=lon, height=height, xyz=xyz, name=name,
                      country=country, max_dist=max_dist, network_name=network_name)
    if actx.want_json(json_):
        console.print_json(out)
    else:
        console.notice(f"station {out['station']} added")


# --- move / rename / merge / delete -----------------------------------------------------------------------------------

def _render(plan, done: bool) -> None:
    verbs = {"move": "moved", "rename": "renamed", "merge": "merged", "delete": "deleted"}
    what = f"{plan.source} -> {plan.destination}" if plan.destination else plan.source
    state = verbs[plan.action] if done else f"{plan.action} (dry run: nothing changed)" if done is None else \
        f"{plan.action}, to be confirmed"
    rows = sorted(plan.rows.items())
    console.table([console.Column("table", key=True, priority=0, wrap=False), console.Column.num("rows", 0)],
                  rows + [("archive files", len(plan.files))], title=f"{state}: {what}")
    for c in plan.clashes:
        console.warn(f"clash: {c.rows} {c.table} row(s): {c.detail}")
    shown = plan.files[:5]
    for m in shown:
        console.notice(f"  {m.old} -> {m.new or '(removed)'}")
    if len(plan.files) > len(shown):
        console.notice(f"  ... and {len(plan.files) - len(shown)} more file(s) (--json lists them all)")
    for note in plan.notes:
        console.notice(note)


def _carry_out(actx, plans: list, dry_run: bool, yes: bool, json_: bool) -> None:
    """Show each plan; unless --dry-run, confirm and apply them one station (one transaction) at a time."""
    from geode.errors import UsageError
    from geode.station_admin import apply

    if dry_run or not yes:
        for plan in plans:
            if not actx.want_json(json_):
                _render(plan, None if dry_run else False)
    if dry_run:
        if actx.want_json(json_):
            console.print_json({"dry_run": True, "changes": [p.as_dict() for p in plans]})
        return
    clashing = [p for p in plans if p.clashes and not p.keep_destination]
    if clashing:
        apply(_ctx_of(actx), clashing[0])  # raises, naming the clashes
    if not yes:
        if not sys.stdin.isatty():
            raise UsageError("stdin is not a terminal, so nothing was changed: add --yes to confirm, or --dry-run "
                             "to only see the changes")
        total = sum(p.total_rows for p in plans)
        files = sum(len(p.files) for p in plans)
        if not typer.confirm(f"change {console.plural(total, 'row')} and {console.plural(files, 'archive file')}?",
                             default=False, err=True):
            raise typer.Exit(1)
    done = []
    for plan in plans:
        apply(_ctx_of(actx), plan)
        done.append(plan)
        if not actx.want_json(json_):
            _render(plan, True)
    if actx.want_json(json_):
        console.print_json({"dry_run": False, "changes": [p.as_dict() for p in done]})


def _ctx_of(actx):
    from geode.station_admin import Context

    archive = actx.settings.path("archive.path")
    return Context(actx.db, archive if archive is not None and archive.is_dir() else None,
                   actx.settings.path("archive.repository"))


@station_app.command("move")
def move_cmd(ctx: typer.Context,
             station: Annotated[list[str], typer.Argument(metavar="STATION...", help="Stations to move.",
                                                          show_default=False)],
             network: Annotated[str, typer.Argument(metavar="NETWORK", help="The network they join (it must "
                                                    "exist).", show_default=False)],
             dry_run: DryRunOpt = False, yes: YesOpt = False, json_: JsonOpt = False) -> None:
    """Move stations into a network: their rows and archive files follow (the archive keeps files under the
    network's folder), and a temporary station's files waiting in data_in are released for 'geode scan ingest'."""
    from geode.errors import UsageError
    from geode.station_admin import parse_ref, plan_move, resolve
    from geode.stations import StationRef

    target = network.strip().lower()
    if "." in target or not target or target.startswith("?"):
        raise UsageError(f"NETWORK must be a network code (e.g. arg), got {network!r}")
    actx = app_context(ctx)
    sctx = _context(actx)
    plans = []
    for text in station:
        parse_ref(text)
        src = resolve(actx.db, text)
        plans.append(plan_move(sctx, src, StationRef(target, src.code), "move"))
    _carry_out(actx, plans, dry_run, yes, json_)


@station_app.command("rename")
def rename_cmd(ctx: typer.Context, station: StationArg,
               new: Annotated[str, typer.Argument(metavar="NEW", help="New NET.STN, or a new code in the same "
                                                  "network.", show_default=False)],
               dry_run: DryRunOpt = False, yes: YesOpt = False, json_: JsonOpt = False) -> None:
    """Rename a station (new code, new network, or both): every row and archive file follows, the files get the
    new code in their names."""
    from geode.station_admin import parse_ref, plan_move, resolve
    from geode.stations import StationRef

    net, stn = parse_ref(new)
    actx = app_context(ctx)
    sctx = _context(actx)
    src = resolve(actx.db, station)
    _carry_out(actx, [plan_move(sctx, src, StationRef(net or src.network, stn), "rename")], dry_run, yes, json_)


@station_app.command("merge")
def merge_cmd(ctx: typer.Context,
              source: Annotated[str, typer.Argument(metavar="SOURCE", help="The station that goes away.",
                                                    show_default=False)],
              destination: Annotated[str, typer.Argument(metavar="DESTINATION", help="The station that receives "
                                                         "its rows and files.", show_default=False)],
              keep_destination: Annotated[bool, typer.Option(
                  "--keep-destination", help="Where both stations have a row for the same key (a day, a "
                  "station-info period), keep the destination's and drop the source's (its files go to "
                  "data_rejected/merged/). Without it such clashes stop the merge.")] = False,
              dry_run: DryRunOpt = False, yes: YesOpt = False, json_: JsonOpt = False) -> None:
    """Merge SOURCE into DESTINATION (the same monument under two codes): SOURCE's rows and archive files go to
    DESTINATION, then SOURCE is removed."""
    from geode.station_admin import plan_merge, resolve

    actx = app_context(ctx)
    sctx = _context(actx)
    plan = plan_merge(sctx, resolve(actx.db, source), resolve(actx.db, destination), keep_destination)
    _carry_out(actx, [plan], dry_run, yes, json_)


@station_app.command("delete")
def delete_cmd(ctx: typer.Context,
               station: Annotated[list[str], typer.Argument(metavar="STATION...", help="Stations to delete.",
                                                            show_default=False)],
               purge_files: Annotated[bool, typer.Option(
                   "--purge-files", help="Delete the archive files too (default: moved to "
                   "<repository>/data_rejected/deleted_station/NET.STN/).")] = False,
               dry_run: DryRunOpt = False, yes: YesOpt = False, json_: JsonOpt = False) -> None:
    """Delete stations with all their rows (station info, RINEX, solutions, stacks, models, sources, locks...);
    their archive files and files waiting in data_in are set aside (or deleted with --purge-files)."""
    from geode.station_admin import plan_delete, resolve

    actx = app_context(ctx)
    sctx = _context(actx)
    plans = [plan_delete(sctx, resolve(actx.db, text), purge_files) for text in station]
    _carry_out(actx, plans, dry_run, yes, json_)
