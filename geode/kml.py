"""KMZ of the network: one folder per network, one styled placemark per station.

Styles: ``ok`` (green square: RINEX data, station information covering it), ``issues`` (red caution: no
station information, or RINEX days outside every station-info record), ``nodata`` (grey circle: no RINEX and
no solutions). Each description holds the station-info history, the latest RINEX quality summary (``rinex_qc``)
with the QC trend's flags and, unless disabled, a year × day-of-year availability chart embedded as a PNG data
URI. Written with lxml in KML 2.2 element order.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

KML_NS = "http://www.opengis.net/kml/2.2"
ICONS = {"ok": ("ff00ff00", "http://maps.google.com/mapfiles/kml/shapes/placemark_square.png"),
         "issues": ("ff0000ff", "http://maps.google.com/mapfiles/kml/shapes/caution.png"),
         "nodata": ("ff999999", "http://maps.google.com/mapfiles/kml/shapes/placemark_circle.png")}


@dataclass
class StationReport:
    name: str
    lat: float
    lon: float
    style: str
    rinex_days: int
    solutions: int
    issues: list[str] = field(default_factory=list)
    qc: dict | None = None  # the latest QC day's summary and the raised QC flags; None without QC rows


def _qc_summary(db, net: str, stn: str) -> tuple[dict | None, str]:
    """The latest QC values and the trend's flags: (summary for the report, HTML paragraph)."""
    from .archive.qc_store import station_series
    from .archive.qc_trends import station_trend

    series = station_series(db, net, stn)
    if not series:
        return None, "<p>RINEX quality: not measured (geode scan qc)</p>"
    trend = station_trend(f"{net}.{stn}", series)
    last = series[-1]
    v = last.values
    flags = [f"{f.kind} ({f.metric}) since {f.since.strftime('%Y_%j')}" for f in trend.flags]
    summary = {"day": last.day.strftime("%Y_%j"), "completeness": v.get("completeness"),
               "mp": {k[3:]: x for k, x in v.items() if k.startswith("mp:")}, "obs_per_slip": v.get("obs_per_slip"),
               "clock_jumps": v.get("clock_jumps"), "flags": flags}
    parts = []
    if v.get("completeness") is not None:
        parts.append(f"completeness {v['completeness']:.1f} %")
    parts += [f"MP {band} {x:.2f} m" for band, x in sorted(summary["mp"].items()) if x is not None]
    if v.get("obs_per_slip") is not None:
        parts.append(f"o/slps {v['obs_per_slip']:.0f}")
    elif v.get("slips") == 0:
        parts.append("no cycle slips")
    if v.get("clock_jumps") is not None:
        parts.append(f"clock jumps {v['clock_jumps']:.0f}")
    text = (f"<p>Latest QC ({summary['day']}, {html.escape(last.filename)}): {html.escape(', '.join(parts))}<br/>"
            f"QC flags: {html.escape('; '.join(flags) or 'none')}</p>")
    return summary, text


def _station_info_issues(records: list, days: list[dict]) -> list[str]:
    if not records:
        return ["no station information records"]
    outside = 0
    for d in days:
        start = d["ObservationSTime"] or dt.datetime(int(d["ObservationYear"]), 1, 1)
        if not any(r.covers(start) for r in records):
            outside += 1
    return [f"{outside} RINEX day(s) outside every station-info record"] if outside else []


def station_report(db, ref, row: dict, *, availability: bool) -> tuple[StationReport, str]:
    from .stationinfo import records_for

    net, stn = ref.network, ref.code
    days = db.query('SELECT "ObservationYear", "ObservationDOY", "ObservationSTime" FROM rinex_proc WHERE '
                    '"NetworkCode" = %s AND "StationCode" = %s AND "Completion" >= 0.5 ORDER BY 1, 2', (net, stn))
    records = records_for(db, ref)
    sol = db.query_one('SELECT count(*) AS n FROM gamit_soln WHERE "NetworkCode" = %s AND "StationCode" = %s',
                       (net, stn))["n"]
    issues = _station_info_issues(records, days)
    style = "nodata" if not days and not sol else ("issues" if issues else "ok")
    name = f"{net}.{stn}"
    qc, qc_html = _qc_summary(db, net, stn) if db.table_exists("rinex_qc") else (None, "")
    rep = StationReport(name, float(row["lat"]), float(row["lon"]), style, len(days), int(sol), issues, qc)
    rows = "".join(f"<tr><td>{html.escape(str(r.date_start))}</td><td>{html.escape(str(r.date_end or 'open'))}</td>"
                   f"<td>{html.escape(r.receiver_code)}</td><td>{html.escape(r.antenna_code)} "
                   f"{html.escape(r.radome_code)}</td><td>{r.antenna_height:.4f}</td></tr>" for r in records)
    text = (f"<h3>{html.escape(name)} {html.escape(row.get('StationName') or '')}</h3>"
            f"<p>RINEX days: {len(days)}; daily solutions: {sol}</p>"
            f"<p>Station information: {html.escape('; '.join(issues) or 'no issues')}</p>{qc_html}"
            f"<table style='font-family:monospace;font-size:8pt'><tr><th>start</th><th>end</th><th>receiver</th>"
            f"<th>antenna</th><th>height</th></tr>{rows}</table>")
    if availability:
        from .plots import availability_png

        png = availability_png([(int(d["ObservationYear"]), int(d["ObservationDOY"])) for d in days],
                               f"Data availability for {name}")
        text += f"<img src='data:image/png;base64,{base64.b64encode(png).decode()}'/>"
    return rep, text


def build_kml(reports: list[tuple[StationReport, str]], title: str) -> bytes:
    from lxml import etree

    def sub(parent, tag, text=None):
        el = etree.SubElement(parent, f"{{{KML_NS}}}{tag}")
        if text is not None:
            el.text = text
        return el

    root = etree.Element(f"{{{KML_NS}}}kml", nsmap={None: KML_NS})
    doc = sub(root, "Document")
    sub(doc, "name", title)
    for style, (color, href) in ICONS.items():
        st = sub(doc, "Style")
        st.set("id", style)
        icon_style = sub(st, "IconStyle")
        sub(icon_style, "color", color)
        sub(icon_style, "scale", "1.2")
        sub(sub(icon_style, "Icon"), "href", href)
        sub(sub(st, "LabelStyle"), "scale", "0.8")
    folders: dict[str, object] = {}
    for rep, text in sorted(reports, key=lambda r: r[0].name):
        net = rep.name.split(".")[0]
        if net not in folders:
            folders[net] = sub(doc, "Folder")
            sub(folders[net], "name", net)
        pm = sub(folders[net], "Placemark")
        sub(pm, "name", rep.name)
        sub(pm, "description").text = etree.CDATA(text)
        sub(pm, "styleUrl", f"#{rep.style}")
        sub(sub(pm, "Point"), "coordinates", f"{rep.lon:.8f},{rep.lat:.8f},0")
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def write_kmz(path: Path, kml: bytes) -> Path:
    """Write doc.kml into a zip next to the target, then move it in place (no half-written KMZ)."""
    path = Path(path)
    tmp = path.with_name(path.name + ".part")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("doc.kml", kml)
    tmp.replace(path)
    return path


def make_kmz(db, refs, path: Path, *, title: str = "GeoDE stations", availability: bool = True):
    """Build the KMZ for station refs (known stations, e.g. from select_stations); returns (path, reports)."""
    from .stations import station_rows

    refs = list(refs)
    reports = [station_report(db, ref, row, availability=availability)
               for ref, row in zip(refs, station_rows(db, refs)) if row["lat"] is not None]
    return write_kmz(path, build_kml(reports, title)), [r for r, _ in reports]
