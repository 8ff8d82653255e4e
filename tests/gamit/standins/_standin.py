"""Stand-ins for GAMIT/GLOBK programs, for tests only. They read the files geode wrote (tables/lfile.,
tables/station.info, rinex/) and write outputs in the formats of the reference §4 from known coordinates:
every site's "estimate" is its l-file a-priori position plus OFFSET, with SIGMAS, VARIANCE_FACTOR and
COVARIANCE. The stand-in h-files and .glx files are text: one "SITE alias x y z" line per site.

Behaviour is steered by the JSON file named in $GAMIT_STANDIN_CONFIG (read at every call, so a test can
change it between runs without restarting workers):
  {"fail": ["arg.IGN002"],      sessions (directory names) whose sh_gamit prints FATAL and writes no summary
   "transient": ["arg"],        sessions whose first sh_gamit attempt hits a transient failure
   "overconstrained": ["arg"],  sessions whose first attempt reports their first l-file site over-constrained
   "height": ["arg"],           sessions whose first attempt reports an unreasonable height for that site
   "block": ["arg"],            sessions whose sh_gamit waits (marker file <dir>/standin.blocked) until its
                                parent process dies or the file <dir>/standin.release appears
   "nrms": 0.23542, "wl": 97.8, "nl": 85.4}
"""

from __future__ import annotations

import json
import os
import re
import sys
import time
from pathlib import Path

OFFSET = (0.0100, -0.0200, 0.0300)
SIGMAS = (0.0020, 0.0030, 0.0040)
COVARIANCE = (1.0e-6, 2.0e-6, 3.0e-6)  # xy, xz, yz
VARIANCE_FACTOR = 0.9
ZTD_TOTAL, ZTD_ADJUST, ZTD_SIGMA = 2.3456, 0.0123, 0.0021


def control() -> dict:
    path = os.environ.get("GAMIT_STANDIN_CONFIG")
    return json.loads(Path(path).read_text()) if path and Path(path).exists() else {}


def arg(args: list[str], flag: str, n: int = 1):
    i = args.index(flag)
    return args[i + 1] if n == 1 else args[i + 1:i + 1 + n]


def lfile_sites(path: Path) -> dict[str, tuple[float, float, float]]:
    out = {}
    for line in path.read_text().splitlines():
        m = re.match(r"^\s(\w{4})_GPS\s+(\S+)\s+(\S+)\s+(\S+)", line)
        if m:
            out[m.group(1).upper()] = tuple(float(m.group(i)) for i in (2, 3, 4))
    return out


def read_sites(path: Path) -> dict[str, tuple[float, float, float]]:
    out = {}
    for line in path.read_text().splitlines():
        parts = line.split()
        if len(parts) == 5 and parts[0] == "SITE":
            out[parts[1]] = tuple(float(v) for v in parts[2:])
    return out


def write_sites(path: Path, sites: dict) -> None:
    path.write_text("".join(f"SITE {s} {x!r} {y!r} {z!r}\n" for s, (x, y, z) in sorted(sites.items())))


def sh_links_tables(args: list[str]) -> int:
    for flag in ("-frame", "-year", "-eop", "-topt"):
        arg(args, flag)
    Path("svnav.dat").write_text("svnav stand-in\n")
    Path("eq_rename").write_text("rename stand-in\n")
    print("sh_links.tables stand-in: linked tables")
    return 0


def sh_gamit(args: list[str]) -> int:
    system, expt = arg(args, "-gnss"), arg(args, "-expt")
    year, ddd = arg(args, "-d", 2)
    yy, here = year[2:], Path.cwd()
    ctl = control()
    name = here.name
    print(f"sh_gamit stand-in: {name} system {system} expt {expt} day {year} {ddd}")
    if name in ctl.get("block", []):
        (here / "standin.blocked").write_text(f"{os.getpid()} {os.getppid()}\n")
        parent = os.getppid()
        while os.getppid() == parent and not (here / "standin.release").exists():
            time.sleep(0.1)
        if os.getppid() != parent:
            return 1  # orphaned: the worker that ran us was killed
    if name in ctl.get("fail", []):
        print(" FATAL :240409:1200: MODEL/open: stand-in failure for this sub-network")
        return 1
    attempts = here / f"standin.attempts.{system}"
    n = int(attempts.read_text()) if attempts.exists() else 0
    attempts.write_text(str(n + 1))
    if name in ctl.get("transient", []) and n == 0:
        print("Failure in sh_setup. -- sh_gamit terminated")
        return 1
    sites = lfile_sites(here / "tables" / "lfile.")
    first = sorted(sites)[0]
    if name in ctl.get("height", []) and n == 0:
        print(f" MODEL/open: Site {first}_GPS\n Geodetic height unreasonable\n FATAL: MODEL/open: stop")
        return 1
    info = (here / "tables" / "station.info").read_text()
    rinex = {p.name[:4].upper() for p in (here / "rinex").glob(f"*{ddd}0.{yy}o")}
    used = {}
    for site, xyz in sites.items():
        if site not in rinex:
            continue
        if not re.search(rf"^ {site} ", info, re.MULTILINE):
            print(f" FATAL :240409:1200: MAKEX/get_rxfiles: site {site} not in station.info")
            return 1
        used[site] = tuple(v + d for v, d in zip(xyz, OFFSET))
    if len(used) < 2:
        print(" FATAL :240409:1200: MAKEXP/makexp: No RINEX or X-files found")
        return 1
    day = here / f"{ddd}{system}"
    day.mkdir(exist_ok=True)
    Path("glbf").mkdir(exist_ok=True)
    nrms, wl, nl = ctl.get("nrms", 0.23542), ctl.get("wl", 97.8), ctl.get("nl", 85.4)
    warning = ""
    if name in ctl.get("overconstrained", []) and n == 0:
        warning = f" WARNING: 1 sites over constrained\n GCR APTOL {first}_GPS  N   0.0500    12.5000\n"
    (day / f"sh_gamit_{ddd}{system}.summary").write_text(
        f" Prefit nrms:  0.41331E+00    Postfit nrms: {nrms:.5E}\n"
        f" Phase ambiguities WL fixed  {wl:.1f}% NL fixed  {nl:.1f}%\n" + warning)
    write_sites(day / f"h{expt}a.{yy}{ddd}", used)
    import datetime as dt

    date = dt.date(int(year), 1, 1) + dt.timedelta(days=int(ddd) - 1)
    lines = []
    for site in sorted(used):
        for hour in range(0, 25, 2):
            t = dt.datetime.combine(date, dt.time()) + dt.timedelta(hours=hour)
            lines.append(f"ATM_ZEN X {site}  1 {t.year} {t.month:2d} {t.day:2d} {t.hour:2d} {t.minute:2d}"
                         f"    {ZTD_ADJUST:.4f} +-   {ZTD_SIGMA:.4f}    {ZTD_TOTAL + hour * 0.001:.4f}")
    (day / f"o{expt}a.{ddd}").write_text("\n".join(lines) + "\n")
    print("sh_gamit stand-in: normal end")
    return 0


def htoglb(args: list[str]) -> int:
    hfile = Path(args[3])
    m = re.match(r"h(\w{4})a\.(\d\d)(\d\d\d)$", hfile.name)
    expt, yy, ddd = m.groups()
    glonass = Path.cwd().name == "R"  # real htoglb writes GLONASS solutions to .glr
    write_sites(Path(f"h{yy}{ddd}1200_{expt}.{'glr' if glonass else 'glx'}"), read_sites(hfile))
    print(f"htoglb stand-in: {hfile.name}")
    return 0


def globk(args: list[str]) -> int:
    _, prt, log, gdl, cmd = args[:5]
    out = re.search(r"out_glb\s+(\S+)", Path(cmd).read_text()).group(1)
    merged: dict[str, list] = {}
    for line in Path(gdl).read_text().splitlines():
        if line.strip():
            for site, xyz in read_sites(Path(line.split()[0])).items():
                merged.setdefault(site, []).append(xyz)
    write_sites(Path(out), {s: tuple(sum(v[k] for v in vs) / len(vs) for k in range(3)) for s, vs in merged.items()})
    Path(log).write_text(f" For {len(merged)} sites Glbf combination\n")
    Path(prt).write_text("globk stand-in\n")
    return 0


def glbtosnx(args: list[str]) -> int:
    glx, snx = Path(args[2]), Path(args[3])
    sites = read_sites(glx)
    lines = ["%=SNX 2.01 IGN 24:100:00000 IGN 24:100:00000 24:100:86370 P 00006 2 S", "+SITE/ID"]
    lines += [f" {s}  A 00000M000 P stand-in" for s in sorted(sites)]
    lines += ["-SITE/ID", "+SOLUTION/STATISTICS", f" VARIANCE FACTOR                    {VARIANCE_FACTOR:.15f}",
              "-SOLUTION/STATISTICS", "+SOLUTION/ESTIMATE"]
    index = 0
    for s in sorted(sites):
        for comp, value, sigma in zip("XYZ", sites[s], SIGMAS):
            index += 1
            lines.append(f" {index:5d} STA{comp}   {s}  A    1 24:100:43200 m    2 {value:.15E} {sigma:.5E}")
    lines += ["-SOLUTION/ESTIMATE", "+SOLUTION/MATRIX_ESTIMATE L COVA"]
    for i in range(len(sites)):
        b = 3 * i + 1
        lines.append(f"{b:6d}{b:6d} {SIGMAS[0] ** 2:21.13E}")
        lines.append(f"{b + 1:6d}{b:6d} {COVARIANCE[0]:21.13E}{SIGMAS[1] ** 2:21.13E}")
        lines.append(f"{b + 2:6d}{b:6d} {COVARIANCE[1]:21.13E}{COVARIANCE[2]:21.13E}{SIGMAS[2] ** 2:21.13E}")
    lines += ["-SOLUTION/MATRIX_ESTIMATE L COVA", "%ENDSNX"]
    snx.write_text("\n".join(lines) + "\n")
    return 0


PROGRAMS = {"sh_links.tables": sh_links_tables, "sh_gamit": sh_gamit, "htoglb": htoglb, "globk": globk,
            "glbtosnx": glbtosnx}


def main() -> int:
    return PROGRAMS[Path(sys.argv[0]).name](sys.argv[1:])
