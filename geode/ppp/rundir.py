"""One PPP run folder, as NRCan PPP expects it (reference: upstream-scan_download_archive §3.7).

    <stn><ddd>0.<yy>o    the day's observations as RINEX 2.11 (converted from 3, windowed to the UTC day,
                         decimated to 30 s when sampled faster than 15 s)
    orbits/              precise orbits and clocks of the day and the next day (uncompressed)
    <erp>                the week's ERP file, or none ("dummy.eop": PPP then runs without one)
    <STN>.olc            the station's HARPOS ocean-loading coefficients
    gpsppp.*, <atx>      the support files of [ppp] ppp_path and the frame's ANTEX file
    gpsppp.def           file names for the engine
    commands.cmd         processing options
    input.inp            fed on stdin: rinex, commands, then the four orbit/clock files
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from ..products import ProductError, find_product, uncompressed_copy
from ..stationinfo import StationInfoRecord
from .setup import SUPPORT_FILES, Frame, PppSetup

NO_ERP = "dummy.eop"


@dataclass(frozen=True)
class RunOptions:
    clock_interpolation: bool = False
    use_erp: bool = True
    elevation_mask: float = 10.0
    solve_troposphere: int = 105  # random walk 5 mm/h with gradients (GeoDE's default)


@dataclass(frozen=True)
class Staged:
    root: Path
    rinex: str  # file name inside root
    orbit: str  # the day's sp3 as named in the product archive (stored in ppp_soln.orbit, part of the hash)
    erp: str


def def_text(atx: str, station: str, erp: str, institution: str, info: str) -> str:
    return (f"'LNG' 'ENGLISH'\n'TRF' 'gpsppp.trf'\n'SVB' 'gpsppp.svb_gnss_yrly'\n'PCV' '{atx}'\n'FLT' 'gpsppp.flt'\n"
            f"'OLC' '{station.upper()}.olc'\n'MET' 'gpsppp.met'\n'ERP' '{erp}'\n'GSD' '{institution}'\n"
            f"'GSD' '{info}'\n")


def commands_text(options: RunOptions, antenna_height: float) -> str:
    """Static, code and phase, L3, precise orbits; ITRF cartesian output; the a-priori position from the
    RINEX header (zeros)."""
    rows = [("UT DAYS OBSERVED                      (1-45)", "1"),
            ("USER DYNAMICS         (1=STATIC,2=KINEMATIC)", "1"),
            ("OBSERVATION TO PROCESS         (1=COD,2=C&P)", "2"),
            ("FREQUENCY TO PROCESS        (1=L1,2=L2,3=L3)", "3"),
            ("SATELLITE EPHEMERIS INPUT     (1=BRD ,2=SP3)", "2"),
            ("SATELLITE PRODUCT (1=NO,2=Prc,3=RTCA,4=RTCM)", "2"),
            ("SATELLITE CLOCK INTERPOLATION   (1=NO,2=YES)", "2" if options.clock_interpolation else "1"),
            ("IONOSPHERIC GRID INPUT          (1=NO,2=YES)", "1"),
            ("SOLVE STATION COORDINATES       (1=NO,2=YES)", "2"),
            ("SOLVE TROP. (1=NO,2-5=RW MM/HR) (+100=grad) ", str(options.solve_troposphere)),
            ("BACKWARD SUBSTITUTION           (1=NO,2=YES)", "1"),
            ("REFERENCE SYSTEM            (1=NAD83,2=ITRF)", "2"),
            ("COORDINATE SYSTEM(1=ELLIPSOIDAL,2=CARTESIAN)", "2")]
    text = "".join(f"' {label}'{'':19}{value}\n" for label, value in rows)
    text += ("' A-PRIORI PSEUDORANGE SIGMA               (m)'              2.0000   9.00\n"
             "' A-PRIORI CARRIER PHASE SIGMA             (m)'              0.0150   9.00\n")
    for label in ("LATITUDE  (ddmmss.sss,+N) or ECEF X      (m)", "LONGITUDE (ddmmss.sss,+E) or ECEF Y      (m)",
                  "HEIGHT (m)                or ECEF Z      (m)"):
        text += f"' {label}'      {0.0:14.4f}   0.000\n"
    text += (f"' ANTENNA HEIGHT                           (m)'      {antenna_height:14.4f}\n"
             f"' CUTOFF ELEVATION                       (deg)'      {options.elevation_mask:14.4f}\n"
             "' GDOP CUTOFF                                 '             20.0000\n")
    return text


def input_text(rinex: str, sp3: tuple[str, str], clk: tuple[str, str]) -> str:
    return f"{rinex}\ncommands.cmd\n0 0\n0 0\norbits/{sp3[0]}\norbits/{clk[0]}\norbits/{sp3[1]}\norbits/{clk[1]}\n"


def with_station_info(rinex2: str, station: str, rec: StationInfoRecord) -> str:
    """The header as GeoDE normalises it before PPP: marker, receiver, antenna and offsets from the station
    information (the engine looks the antenna up in the ANTEX file and the OLC record up by marker name)."""
    replacements = {
        "MARKER NAME": f"{station.upper():<60}",
        "REC # / TYPE / VERS": f"{rec.receiver_serial:<20.20}{rec.receiver_code:<20.20}{rec.receiver_firmware:<20.20}",
        "ANT # / TYPE": f"{rec.antenna_serial:<20.20}{rec.antenna_code:<16.16}{rec.radome_code:<4.4}{'':20}",
        "ANTENNA: DELTA H/E/N": f"{rec.antenna_height:14.4f}{rec.antenna_east:14.4f}{rec.antenna_north:14.4f}{'':18}",
    }
    head, sep, body = rinex2.partition("END OF HEADER")
    lines = head.splitlines(keepends=True)
    last = lines.pop() if lines and not lines[-1].endswith("\n") else ""  # the start of the END OF HEADER line
    out = []
    for line in lines:
        label = line[60:].strip()
        out.append(replacements.pop(label) + line[60:] if label in replacements else line)
    out += [f"{text}{label}\n" for label, text in replacements.items()]  # labels the file lacked
    return "".join(out) + last + sep + body


def _plain_name(path: Path) -> str:
    return path.name[:-len(path.suffix)] if path.suffix in (".gz", ".Z") else path.name


def _stage_product(setup: PppSetup, day, kind: str, folder: Path) -> Path:
    found = find_product(setup.sp3_template, day, list(setup.centers), kind)
    if found is None:
        raise ProductError(f"no {kind} file for {day.yyyy_ddd} in [archive] sp3 = {setup.sp3_template} "
                           f"(PPP needs the day's and the next day's orbits and clocks)")
    uncompressed_copy(found, folder / _plain_name(found))
    return found


@dataclass(frozen=True)
class Products:
    sp3: tuple[str, str]  # file names in orbits/: the day, the next day
    clk: tuple[str, str]
    erp: str
    orbit: str  # the day's sp3 as named in the product archive


def stage_products(root: Path, setup: PppSetup, day, options: RunOptions) -> Products:
    """orbits/ and the ERP file of one run."""
    orbits = root / "orbits"
    orbits.mkdir(exist_ok=True)
    sp3 = [_stage_product(setup, d, "sp3", orbits) for d in (day, day + 1)]
    clk = [_stage_product(setup, d, "clk", orbits) for d in (day, day + 1)]
    erp = find_product(setup.sp3_template, day, list(setup.centers), "erp") if options.use_erp else None
    if erp is not None:
        uncompressed_copy(erp, root / _plain_name(erp))
    return Products((_plain_name(sp3[0]), _plain_name(sp3[1])), (_plain_name(clk[0]), _plain_name(clk[1])),
                    _plain_name(erp) if erp else NO_ERP, sp3[0].name)


def stage(root: Path, setup: PppSetup, frame: Frame, day, station: str, rinex2: str, otl: str,
          antenna_height: float, options: RunOptions) -> Staged:
    """Write every input of one run into the empty folder ``root``."""
    products = stage_products(root, setup, day, options)
    rinex = f"{station.lower()}{day.doy:03d}0.{day.year % 100:02d}o"
    (root / rinex).write_text(rinex2)
    (root / f"{station.upper()}.olc").write_text(otl)
    for name in (*SUPPORT_FILES, "gpsppp.trf"):
        src = Path(setup.ppp_path) / name
        if src.is_file():
            shutil.copyfile(src, root / name)
    atx = Path(frame.atx)
    shutil.copyfile(atx, root / atx.name)
    (root / "gpsppp.def").write_text(def_text(atx.name, station, products.erp, setup.institution, setup.info))
    (root / "commands.cmd").write_text(commands_text(options, antenna_height))
    (root / "input.inp").write_text(input_text(rinex, products.sp3, products.clk))
    return Staged(root, rinex, products.orbit, products.erp)
