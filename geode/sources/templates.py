"""Remote path templates: GeoDE's ``${tag}`` syntax, and the bare ``$tag`` its manual documents.

Date tags ``year doy day month gpsweek gpswkday year2d month2d``; site tags ``station STATION network NETWORK
marker country COUNTRY``; whole names ``RINEX2`` (``ssssddd0.yyd.Z``) and ``RINEX3_30|15|10|05|01``
(``SSSSMRCCC_R_YYYYDDD0000_01D_nnS_MO.crx.gz``).
"""

from __future__ import annotations

import re

from ..dates import GnssDate
from ..errors import UsageError

_TAG = re.compile(r"\$(?:\{(\w+)\}|([A-Za-z][A-Za-z0-9_]*))")
RINEX3_RATES = ("30", "15", "10", "05", "01")


class TemplateError(UsageError):
    """A template names a tag we do not know, or needs a value the station lacks."""


def tag_values(date: GnssDate, network: str, station: str, marker: int | None = None,
               country: str | None = None) -> dict[str, str]:
    stn, net = station.lower(), network.lower()
    values = {
        **date.template_values(), "month2d": f"{date.month:02d}",
        "station": stn, "STATION": stn.upper(), "network": net, "NETWORK": net.upper(),
        "marker": f"{(marker or 0):02d}", "RINEX2": f"{stn}{date.doy:03d}0.{date.year % 100:02d}d.Z",
    }
    if country:
        values["country"], values["COUNTRY"] = country.lower(), country.upper()
        for rate in RINEX3_RATES:
            values[f"RINEX3_{rate}"] = (f"{stn.upper()}{(marker or 0):02d}{country.upper()}_R_{date.year:04d}"
                                        f"{date.doy:03d}0000_01D_{rate}S_MO.crx.gz")
    return values


def expand(template: str, date: GnssDate, network: str, station: str, marker: int | None = None,
           country: str | None = None) -> str:
    """The template with every tag replaced; an unknown tag (or a RINEX 3 tag without a country) is an error,
    not a silently wrong path."""
    values = tag_values(date, network, station, marker, country)

    def sub(m: re.Match) -> str:
        name = m.group(1) or m.group(2)
        if name in values:
            return values[name]
        if name.lower() == "country" or name.startswith("RINEX3_"):
            raise TemplateError(f"template {template!r} needs the country code of {network}.{station}, "
                                "which is not set")
        # a bare $word that merely starts with a known tag ($year2d is handled; $yearly is not a tag)
        raise TemplateError(f"template {template!r}: unknown tag ${{{name}}}")

    return _TAG.sub(sub, template)


def check(template: str) -> None:
    """Raise TemplateError when ``template`` would not expand (checked before it is stored)."""
    expand(template, GnssDate(2024, 1), "net", "stn", 0, "XXX")
