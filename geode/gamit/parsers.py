"""Parsers for what GAMIT/GLOBK writes: sh_gamit stdout and summary, l-file updates, SINEX, ATM_ZEN lines.

Each parser takes text and either returns plain data or raises ``GamitParseError`` (one line naming what was
missing); no other exception escapes, whatever the input. Where GeoDE's regexes had known bugs they are
fixed here, on purpose:

* the Postfit NRMS is read whatever the sign of the Prefit exponent;
* ``GCR APTOL ALGO_GPS ...`` yields the 4-character site ``ALGO`` (GeoDE captured ``ALGO_GPS`` and then
  failed to translate it);
* a SINEX variance factor of 10 or more, or a line with trailing blanks, is read (GeoDE silently used 1);
* SINEX estimate lines with trailing blanks are read; a SINEX without a covariance matrix is valid (no
  covariances) instead of a crash after the old rows were deleted;
* a ``CORR`` matrix is converted to covariances instead of being taken as one.
"""

from __future__ import annotations

import calendar
import datetime as dt
import math
import re
from dataclasses import dataclass, field

from ..errors import BadInput


class GamitParseError(BadInput):
    """A GAMIT/GLOBK output file does not contain what it must."""


# ---------------------------------------------------------------------------------------------------------------
# sh_gamit stdout (<org><wwww><d><S><i>.out)

TRANSIENT_PATTERNS = (
    r"FATAL.*FIXDRV/dcheck",
    r"FATAL.*MAKEXP/makexp: No RINEX or X-files found",
    r"FATAL.*MAKEX/get_rxfiles: Cannot find selected RINEX file",
    r"FATAL.*MAKEX/openf: Error opening file:.*",
    r"SOLVE/get_widelane: Error reading first record",
    r"Failure in sh_preproc\. STATUS 1 -- sh_gamit terminated",
    r"Failure in sh_setup\. -- sh_gamit terminated",
    r"sh_get_ion failed to download requested IONEX file",
)
_TRANSIENT = re.compile("|".join(f"(?:{p})" for p in TRANSIENT_PATTERNS))
_FATAL = re.compile(r"^.*FATAL.*$", re.MULTILINE)
_HEIGHT_SITE = re.compile(r"MODEL/open: Site\s+([A-Za-z0-9]{4})")


@dataclass
class RunOutcome:
    """What one sh_gamit attempt's stdout says."""

    fatals: list[str] = field(default_factory=list)
    transient: bool = False
    unreasonable_height_site: str | None = None  # alias (lower case) whose RINEX must go


def classify_output(text: str, summary_nonempty: bool) -> RunOutcome:
    outcome = RunOutcome(fatals=list(dict.fromkeys(m.group(0).strip() for m in _FATAL.finditer(text))))
    outcome.transient = bool(_TRANSIENT.search(text)) or (
        "yr: Subscript out of range." in text and summary_nonempty)
    if "Geodetic height unreasonable" in text:
        sites = _HEIGHT_SITE.findall(text)
        if sites:
            outcome.unreasonable_height_site = sites[-1].lower()
    return outcome


# ---------------------------------------------------------------------------------------------------------------
# sh_gamit summary (<ddd><S>/sh_gamit_<ddd><S>.summary)

_NUM = r"\d*\.\d+(?:[eEdD][+-]?\d+)?"
_NRMS = re.compile(rf"Prefit nrms:\s+{_NUM}\s+Postfit nrms:\s+({_NUM})")
_WL = re.compile(r"WL fixed\s+(\d+(?:\.\d*)?)")
_NL = re.compile(r"NL fixed\s+(\d+(?:\.\d*)?)")
_OVERCONST = re.compile(r"WARNING: (\d+).*over constrained.*")
# the value is the first number at least 10 characters after the site id (GeoDE: ``(\w+).{10}\s+(num)``)
_APTOL = re.compile(r"GCR APTOL\s+([A-Za-z0-9]{4})\w*.{10,}?\s(-?\d+\.\d+)")


def _float(text: str) -> float:
    return float(text.replace("D", "E").replace("d", "e"))


@dataclass
class SummaryStats:
    nrms: float  # the last Postfit NRMS (the final solution)
    wl: float  # wide-lane ambiguities fixed, %
    nl: float  # narrow-lane ambiguities fixed, %
    overconstrained: list[tuple[str, float]] = field(default_factory=list)  # (alias lower, GCR APTOL value)


def parse_summary(text: str) -> SummaryStats:
    nrms = _NRMS.findall(text)
    wl, nl = _WL.search(text), _NL.search(text)
    if not nrms:
        raise GamitParseError("sh_gamit summary has no 'Prefit nrms: ... Postfit nrms: ...' line")
    if wl is None or nl is None:
        raise GamitParseError("sh_gamit summary has no 'WL fixed ... NL fixed ...' line")
    try:
        stats = SummaryStats(_float(nrms[-1]), float(wl.group(1)), float(nl.group(1)))
    except (ValueError, OverflowError):
        raise GamitParseError("sh_gamit summary has an unreadable NRMS or ambiguity value") from None
    stats.overconstrained = overconstrained_sites(text)
    return stats


def overconstrained_sites(text: str) -> list[tuple[str, float]]:
    """The sites listed under 'WARNING: n ... over constrained', as (alias, value)."""
    lines = text.splitlines()
    sites: list[tuple[str, float]] = []
    for i, line in enumerate(lines):
        m = _OVERCONST.search(line)
        if not m:
            continue
        count = min(int(m.group(1)), len(lines))
        for follow in lines[i + 1:i + 1 + count]:
            hit = _APTOL.search(follow)
            if hit:
                sites.append((hit.group(1).lower(), float(hit.group(2))))
        break
    return sites


# ---------------------------------------------------------------------------------------------------------------
# tables/lfile. (a-priori coordinates; GAMIT marks the ones it moved with 'Updated')

_LFILE = re.compile(r"^\s?(\w{4})_\w+\s+(-?\d+\.\d+)\s+(-?\d+\.\d+)\s+(-?\d+\.\d+)(.*)$", re.MULTILINE)


def lfile_coordinates(text: str) -> dict[str, tuple[float, float, float]]:
    return {m.group(1).lower(): (float(m.group(2)), float(m.group(3)), float(m.group(4)))
            for m in _LFILE.finditer(text)}


def lfile_shifts(before: str, after: str) -> dict[str, float]:
    """3-D shift (m) of every site GAMIT marked 'Updated' in ``after``, relative to ``before``."""
    old = lfile_coordinates(before)
    shifts = {}
    for m in _LFILE.finditer(after):
        alias = m.group(1).lower()
        if "Updated" in m.group(5) and alias in old:
            new = (float(m.group(2)), float(m.group(3)), float(m.group(4)))
            shifts[alias] = math.dist(new, old[alias])
    return shifts


# ---------------------------------------------------------------------------------------------------------------
# SINEX (glbtosnx output, and any SINEX: IGS weekly files too)


@dataclass
class SinexSite:
    code: str  # upper-case 4-character site code (GAMIT alias)
    x: float
    y: float
    z: float
    sx: float  # formal standard deviations (m), before the variance factor
    sy: float
    sz: float
    cxy: float | None = None  # covariances (m^2), None when the file has no matrix
    cxz: float | None = None
    cyz: float | None = None
    point: str = "A"  # SINEX point code
    soln: str = "1"  # SINEX solution number
    ref_epoch: dt.datetime | None = None  # the epoch the coordinates refer to (None: 00:000:00000)


@dataclass(frozen=True)
class SinexEpochs:
    """One SOLUTION/EPOCHS line: the span of data behind a site's solution."""

    start: dt.datetime | None
    end: dt.datetime | None
    mean: dt.datetime | None
    soln: str = "1"


@dataclass
class Sinex:
    variance_factor: float
    sites: dict[str, SinexSite]  # one per site: its point A (GeoDE's rule), else its only point code
    domes: dict[str, str] = field(default_factory=dict)
    points: dict[tuple[str, str], SinexSite] = field(default_factory=dict)  # every (site, point code)
    epochs: dict[tuple[str, str], SinexEpochs] = field(default_factory=dict)  # SOLUTION/EPOCHS by (site, point)
    created: dt.datetime | None = None  # header: when the file was written
    start: dt.datetime | None = None  # header: the span of the data
    end: dt.datetime | None = None
    reference_epoch: dt.datetime | None = None  # the estimates' common REF_EPOCH (None when they differ)
    notes: list[str] = field(default_factory=list)  # what was not used and why (never silent)


def sinex_epoch(text: str, number: int | None = None, what: str = "epoch") -> dt.datetime | None:
    """A SINEX time YY:DDD:SSSSS (or YYYY:DDD:SSSSS); None for 00:000:00000 (unspecified)."""
    parts = text.strip().split(":")
    try:
        if len(parts) != 3 or not all(p.strip().isdigit() for p in parts):
            raise ValueError
        year, doy, sec = (int(p) for p in parts)
        if year == 0 and doy == 0 and sec == 0:
            return None
        if len(parts[0].strip()) <= 2:
            year += 2000 if year <= 50 else 1900
        if not 1 <= doy <= (366 if calendar.isleap(year) else 365) or not 0 <= sec <= 86400:
            raise ValueError
        return dt.datetime(year, 1, 1) + dt.timedelta(days=doy - 1, seconds=sec)
    except (ValueError, OverflowError):
        where = f"line {number}: " if number else ""
        raise GamitParseError(f"{where}{what} {text.strip()!r} is not a SINEX time (YY:DDD:SSSSS)") from None


def _blocks(lines: list[str]):
    """Yield (block name with header options, [(line number, line)]) for every +NAME ... -NAME block."""
    name, body = None, []
    for number, line in enumerate(lines, 1):
        if line.startswith("+"):
            name, body = line[1:].strip(), []
        elif line.startswith("-") and name is not None:
            yield name, body
            name = None
        elif name is not None and not line.startswith("*"):
            body.append((number, line))


def _finite(text: str, number: int, what: str) -> float:
    try:
        value = _float(text)
    except ValueError:
        raise GamitParseError(f"line {number}: {what} {text!r} is not a number") from None
    if not math.isfinite(value):
        raise GamitParseError(f"line {number}: {what} {text!r} is not a finite number")
    return value


def parse_sinex(text: str) -> Sinex:
    """Estimates (every site and point code), statistics, epochs and the covariance blocks of a SINEX text;
    GamitParseError naming the line for anything that does not parse."""
    lines = text.splitlines()
    if not lines or not lines[0].startswith("%=SNX"):
        raise GamitParseError("not a SINEX file (no %=SNX header line)")
    head = lines[0].split()
    created = start = end = None
    if len(head) >= 7:
        created = sinex_epoch(head[3], 1, "creation time")
        start, end = sinex_epoch(head[5], 1, "data start"), sinex_epoch(head[6], 1, "data end")
    variance_factor = 1.0
    domes: dict[str, str] = {}
    estimates: dict[int, tuple[str, str, str, str, float, float, dt.datetime | None, int]] = {}
    epochs: dict[tuple[str, str], SinexEpochs] = {}
    matrix_lines: list[tuple[int, str]] = []
    matrix_kind = None
    for name, body in _blocks(lines):
        block = name.split()[0] if name.split() else ""
        if block == "SITE/ID":
            for _number, line in body:
                parts = line.split()
                if len(parts) >= 3:
                    domes.setdefault(parts[0].upper(), parts[2])
        elif block == "SOLUTION/STATISTICS":
            for number, line in body:
                if line.strip().upper().startswith("VARIANCE FACTOR"):
                    variance_factor = _finite(line.split()[-1], number, "VARIANCE FACTOR")
        elif block == "SOLUTION/EPOCHS":
            for number, line in body:
                parts = line.split()
                if len(parts) < 7:
                    raise GamitParseError(f"line {number}: SOLUTION/EPOCHS needs CODE PT SOLN T START END MEAN")
                key = (parts[0].upper(), parts[1].upper())
                epochs[key] = SinexEpochs(sinex_epoch(parts[4], number, "data start"),
                                          sinex_epoch(parts[5], number, "data end"),
                                          sinex_epoch(parts[6], number, "mean epoch"), parts[2])
        elif block == "SOLUTION/ESTIMATE":
            for number, line in body:
                parts = line.split()
                if len(parts) < 10 or not parts[1].startswith("STA") or len(parts[1]) != 4:
                    continue
                if parts[1][3] not in "XYZ":
                    continue
                try:
                    index = int(parts[0])
                except ValueError:
                    raise GamitParseError(f"line {number}: estimate index {parts[0]!r} is not a number") from None
                what = f"{parts[1]} of {parts[2].upper()} {parts[3].upper()}"
                value, std = _finite(parts[8], number, what), _finite(parts[9], number, f"sigma of {what}")
                if std < 0:
                    raise GamitParseError(f"line {number}: sigma of {what} is negative")
                if index in estimates:
                    raise GamitParseError(f"line {number}: estimate index {index} is used twice")
                estimates[index] = (parts[2].upper(), parts[3].upper(), parts[4], parts[1][3], value, std,
                                    sinex_epoch(parts[5], number, "REF_EPOCH"), number)
        elif block == "SOLUTION/MATRIX_ESTIMATE" and matrix_kind is None:
            head_opts = name.split()
            matrix_kind = head_opts[2] if len(head_opts) >= 3 else "COVA"
            matrix_lines = body
    if not estimates:
        raise GamitParseError("SINEX has no STAX/STAY/STAZ estimates")
    if not variance_factor > 0:
        raise GamitParseError(f"SINEX variance factor {variance_factor} is not a positive number")

    by_point: dict[tuple[str, str], dict[str, tuple[int, float, float]]] = {}
    solns: dict[tuple[str, str], set[str]] = {}
    refs: dict[tuple[str, str], set] = {}
    listed: set[tuple[str, str, str, str]] = set()
    for index, (code, pt, soln, comp, value, std, ref, number) in sorted(estimates.items()):
        if (code, pt, soln, comp) in listed:
            raise GamitParseError(f"line {number}: STA{comp} of {code} point {pt} solution {soln} is listed twice")
        listed.add((code, pt, soln, comp))
        by_point.setdefault((code, pt), {})[comp] = (index, value, std)
        solns.setdefault((code, pt), set()).add(soln)
        refs.setdefault((code, pt), set()).add(ref)
    matrix = _site_blocks(matrix_lines, by_point) if matrix_lines else {}
    notes: list[str] = []
    points: dict[tuple[str, str], SinexSite] = {}
    for (code, pt), comps in sorted(by_point.items()):
        if len(solns[(code, pt)]) > 1:
            notes.append(f"{code} point {pt}: {len(solns[(code, pt)])} solutions "
                         f"({', '.join(sorted(solns[(code, pt)]))}) in one file: not used")
            continue
        if set(comps) != {"X", "Y", "Z"}:
            missing = ", ".join(f"STA{c}" for c in "XYZ" if c not in comps)
            raise GamitParseError(f"SINEX site {code} point {pt} lacks {missing}")
        (ix, x, sx), (iy, y, sy), (iz, z, sz) = comps["X"], comps["Y"], comps["Z"]
        if len(refs[(code, pt)]) > 1:
            notes.append(f"{code} point {pt}: its STAX/STAY/STAZ refer to different epochs")
        site = SinexSite(code, x, y, z, sx, sy, sz, point=pt, soln=next(iter(solns[(code, pt)])),
                         ref_epoch=next(iter(refs[(code, pt)])) if len(refs[(code, pt)]) == 1 else None)
        if matrix:
            site.cxy = _covariance(matrix, matrix_kind, ix, iy)
            site.cxz = _covariance(matrix, matrix_kind, ix, iz)
            site.cyz = _covariance(matrix, matrix_kind, iy, iz)
        points[(code, pt)] = site
    sites: dict[str, SinexSite] = {}
    for code in sorted({c for c, _ in by_point}):
        mine = sorted(pt for c, pt in points if c == code)
        if "A" in mine:  # GeoDE's rule: point A, the monument
            sites[code] = points[(code, "A")]
            if len(mine) > 1:
                notes.append(f"{code}: point A used; also in the file: point(s) {', '.join(p for p in mine if p != 'A')}")
        elif len(mine) == 1:
            sites[code] = points[(code, mine[0])]
            notes.append(f"{code}: no point A; its only point {mine[0]} used")
        elif mine:
            notes.append(f"{code}: no point A and several points ({', '.join(mine)}): not used")
    common = {e[6] for e in estimates.values()}
    return Sinex(variance_factor, sites, domes, points, epochs, created, start, end,
                 next(iter(common)) if len(common) == 1 else None, notes)


def _site_blocks(lines: list[tuple[int, str]], by_point) -> dict[tuple[int, int], float]:
    """The matrix elements within each site's X/Y/Z block. A daily SINEX of n sites holds ~(3n)^2/2
    elements; reading only these keeps a large network's parse linear instead of quadratic in memory."""
    wanted: dict[int, set[int]] = {}
    for comps in by_point.values():
        idx = sorted(i for i, _, _ in comps.values())
        for a in idx:
            for b in idx:
                wanted.setdefault(max(a, b), set()).add(min(a, b))
    matrix: dict[tuple[int, int], float] = {}
    for number, line in lines:
        parts = line.split(None, 2)
        if len(parts) < 3:
            continue
        try:
            row, col0 = int(parts[0]), int(parts[1])
        except ValueError:
            raise GamitParseError(f"line {number}: matrix row/column {parts[0]!r} {parts[1]!r} are not numbers") \
                from None
        cols = wanted.get(row)
        if not cols or not any(col0 <= c < col0 + 3 for c in cols):
            continue
        for k, value in enumerate(parts[2].split()[:3]):
            if col0 + k in cols:
                matrix[(row, col0 + k)] = _finite(value, number, "matrix element")
    return matrix


def _element(matrix: dict[tuple[int, int], float], i: int, j: int) -> float | None:
    return matrix.get((i, j), matrix.get((j, i)))


def _covariance(matrix, kind: str, i: int, j: int) -> float | None:
    value = _element(matrix, i, j)
    if value is None or kind == "COVA" or kind == "INFO":
        return None if kind == "INFO" else value
    # CORR: diagonal elements are standard deviations, off-diagonal ones correlations
    si, sj = _element(matrix, i, i), _element(matrix, j, j)
    return None if si is None or sj is None else value * si * sj


# ---------------------------------------------------------------------------------------------------------------
# ZTD: ATM_ZEN lines of the o-file (collected in glbf/<org><wwww><d>.znd)

_ATM_ZEN = re.compile(
    r"^\s*ATM_ZEN\s+X\s+(\w+)\s+\S+\s+(\d{4})\s+(\d{1,2})\s+(\d{1,2})\s+(\d{1,2})\s+(\d{1,2})\s+(?:\d{1,2}\s+)?"
    rf"(-?{_NUM})\s+\+-\s+({_NUM})\s+(-?{_NUM})\s*$", re.MULTILINE)


@dataclass(frozen=True)
class ZtdValue:
    alias: str  # lower case
    epoch: dt.datetime
    adjust: float  # m
    sigma: float  # m
    total: float  # m: a-priori (model) + adjustment


def parse_atm_zen(text: str) -> list[ZtdValue]:
    """Every well-formed ATM_ZEN line; other lines are ignored (an o-file holds much more)."""
    out = []
    for m in _ATM_ZEN.finditer(text):
        y, mo, d, h, mi = (int(g) for g in m.groups()[1:6])
        try:
            epoch = dt.datetime(y, mo, d) + dt.timedelta(hours=h, minutes=mi)  # 24:00 is the next day
            out.append(ZtdValue(m.group(1).lower(), epoch, _float(m.group(7)), _float(m.group(8)),
                                _float(m.group(9))))
        except (ValueError, OverflowError):
            raise GamitParseError(f"ATM_ZEN line with an impossible date: {m.group(0).strip()}") from None
    return out


@dataclass(frozen=True)
class ZtdKnot:
    alias: str
    epoch: dt.datetime
    ztd: float  # mean total delay
    model: float  # mean a-priori delay: mean(total) - mean(adjust)
    sigma: float  # mean sigma


def average_ztd(values: list[ZtdValue]) -> list[ZtdKnot]:
    """One value per (station, epoch): ties appear in several sub-networks and systems, so average them."""
    groups: dict[tuple[str, dt.datetime], list[ZtdValue]] = {}
    for v in values:
        groups.setdefault((v.alias, v.epoch), []).append(v)
    knots = []
    for (alias, epoch), vs in sorted(groups.items()):
        n = len(vs)
        total = sum(v.total for v in vs) / n
        adjust = sum(v.adjust for v in vs) / n
        knots.append(ZtdKnot(alias, epoch, round(total, 4), round(total - adjust, 4),
                             round(sum(v.sigma for v in vs) / n, 4)))
    return knots
