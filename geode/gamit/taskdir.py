"""Write one GAMIT task directory: tables/ (station.info, lfile., sittbl., sestbl., process.defaults,
sites.defaults, otl.list), rinex/ (observation files under GAMIT's short names), igs/ and brdc/ (orbits).

The text writers are pure functions (tested byte for byte against the formats GeoDE writes); the
directory builder glues them to the database and the archive.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from ..dates import GnssDate
from ..errors import GeodeError
from ..products import existing, expand_template, find_product, uncompressed_copy
from .planning import StationDay

SITTBL_HEADER = ("SITE              FIX    --COORD.CONSTR.--  \n"
                 "      << default for regional sites >>\n"
                 "ALL               NNN    100.  100.   100. \n")
OTL_HEADER = """\
$$ Ocean loading displacement
$$
$$ OTL provider: geode (station records from stations.Harpos_coeff_otl)
$$ Columns <cmp>, <Sa>, <Ssa>, <Mf>, <Mm>, <K1>, <O1>, <P1>, <Q1>, <K2>, <S2>, <M2>, <N2>
$$
$$ END HEADER
$$
"""


class TaskDirError(GeodeError):
    """A task directory could not be built (missing RINEX, orbit, table...)."""


# ---------------------------------------------------------------------------------------------------------------
# text of the control files


def lfile_text(stations: list[StationDay], fyear: float) -> str:
    return "".join(f" {s.alias.upper()}_GPS {s.x:12.3f} {s.y:12.3f} {s.z:12.3f} 0.000 0.000 0.000 {fyear:8.4f}\n"
                   for s in stations)


def _sigma(value: float) -> str:
    return f"{value:5.3f}"[:5]


def sittbl_text(stations: list[StationDay]) -> str:
    lines = [f"{s.alias.upper()} {s.alias.upper()}_GPS     NNN    "
             f"{_sigma(s.sigma_n)} {_sigma(s.sigma_e)} {_sigma(s.sigma_u)}\n" for s in stations]
    return SITTBL_HEADER + "".join(lines)


def sites_defaults_text(stations: list[StationDay], expt: str) -> str:
    return f" all_sites {expt} xstinfo\n" + "".join(f" {s.alias.upper()}_GPS  {expt} localrx\n" for s in stations)


def otl_list_text(stations: list[StationDay], model: str) -> str:
    """GAMIT otl.list: model line, BLQ header, each station's BLQ record renamed to its alias."""
    out = [f"{model}   8-character GAMIT ID read by grdtab (M -> CM)\n", OTL_HEADER]
    for s in stations:
        lines = s.otl.splitlines()
        start = next((i for i, line in enumerate(lines) if line.startswith(" ")), None)
        if start is None:
            continue  # no BLQ record: GAMIT falls back to otl.grid
        record = lines[start:]
        record[0] = f"  {s.alias.upper()}"
        if len(record) > 3:
            record[3] = f"$$ {s.alias.upper():<38}RADI TANG lon/lat:{s.lon % 360.0:10.4f}{s.lat:10.4f}"
        out.append("\n".join(record) + "\n")
    out.append("$$ END TABLE\n")
    return "".join(out)


def sestbl_text(template: str) -> str:
    """GeoDE blanks the scratch directory so GAMIT works inside the task directory."""
    return "".join("Scratch directory = \n" if "Scratch directory" in line else line
                   for line in template.splitlines(keepends=True))


# ---------------------------------------------------------------------------------------------------------------
# the directory


def prepare_directory(root: Path) -> None:
    """Start from an empty directory (the caller holds the session's lease)."""
    if root.exists():
        shutil.rmtree(root)
    for sub in ("tables", "rinex", "igs", "brdc", "glbf", "tmp"):
        (root / sub).mkdir(parents=True, exist_ok=True)


def write_tables(root: Path, job, station_info: str) -> None:
    cfg = job.cfg
    tables = root / "tables"
    stations = job.stations
    (tables / "station.info").write_text(station_info, encoding="ascii", errors="replace")
    (tables / "lfile.").write_text(lfile_text(stations, job.fyear), encoding="ascii")
    (tables / "sittbl.").write_text(sittbl_text(stations), encoding="ascii")
    (tables / "sites.defaults").write_text(sites_defaults_text(stations, cfg.expt), encoding="ascii")
    (tables / "otl.list").write_text(otl_list_text(stations, job.otl_model), encoding="ascii")
    (tables / "sestbl.").write_text(sestbl_text(Path(cfg.sestbl).read_text(errors="replace")), encoding="ascii",
                                    errors="replace")
    shutil.copyfile(cfg.process_defaults, tables / "process.defaults")
    if job.atx:
        shutil.copyfile(job.atx, tables / "antmod.dat")


def fetch_rinex(root: Path, job) -> list[str]:
    """Observation files as rinex/<alias><ddd>0.<yy>o (plain text); returns problems, one per station."""
    from ..rinex import decompress_to

    problems = []
    for s in job.stations:
        src = Path(s.rinex)
        dst = root / "rinex" / f"{s.alias.lower()}{job.doy:03d}0.{job.year % 100:02d}o"
        if not src.is_file():
            problems.append(f"{s.key}: RINEX file {src} is missing")
            continue
        try:
            decompress_to(src, dst)
        except Exception as exc:  # a bad file drops its station, not the session
            problems.append(f"{s.key}: cannot decompress {src.name}: {exc}".splitlines()[0])
    return problems


def systems_in(path: Path) -> set[str]:
    """GNSS systems a plain RINEX file declares: RINEX 3 lists observables per system; a RINEX 2 mixed ('M')
    file does not say which, so it counts for every system."""
    from ..rinex.reader import parse_header
    from .session_config import SYSTEMS

    with open(path, encoding="ascii", errors="replace") as f:
        header = parse_header((i, line.rstrip("\n")) for i, line in enumerate(f, 1))
    if header.version >= 3 and header.obs_types:
        return set(header.obs_types) & set(SYSTEMS)
    return set(SYSTEMS) if header.system in ("M", "") else {header.system}


def fetch_orbits(root: Path, job, day: GnssDate) -> None:
    brdc = existing(Path(expand_template(job.brdc_template, day))) if job.brdc_template else None
    if brdc is None:
        where = (f"{expand_template(job.brdc_template, day)} not found (from [archive] brdc)" if job.brdc_template
                 else "[archive] brdc is not set")
        raise TaskDirError(f"no broadcast orbit for {day.yyyy_ddd}: {where}")
    uncompressed_copy(brdc, root / "brdc" / f"brdc{day.doy:03d}0.{day.year % 100:02d}n")
    sp3 = find_product(job.sp3_template, day, job.sp3_centers) if job.sp3_template else None
    if sp3 is None:
        where = (f"nothing in {expand_template(job.sp3_template, day)} (from [archive] sp3)" if job.sp3_template
                 else "[archive] sp3 is not set")
        raise TaskDirError(f"no precise orbit for {day.yyyy_ddd}: {where}")
    # sh_gamit's default orbit is igsf: the file must be called igs<wwwwd>.sp3 whichever centre made it
    uncompressed_copy(sp3, root / "igs" / f"igs{day.wwwwd}.sp3")
