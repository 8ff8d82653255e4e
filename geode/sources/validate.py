"""Is a downloaded file really RINEX? Archives answer a missing file with an HTML login or error page saved
under the requested name, or cut a transfer short; both must be refused before they reach data_in."""

from __future__ import annotations

from pathlib import Path

from ..rinex.compression import RinexFileError, decompress_bytes, outer_compression

_HTML_STARTS = (b"<!doctype", b"<html", b"<?xml", b"<head", b"<body", b"<!--")


def rejection(path: Path) -> str | None:
    """Why ``path`` is not an acceptable RINEX download, or None when it is.

    Checks: not empty, not an HTML/XML page, every compression layer (identified by magic bytes, whatever
    the extension says) unpacks completely, and what is inside starts with a RINEX or CRINEX header."""
    data = Path(path).read_bytes()
    if not data:
        return "empty file (0 bytes)"
    head = data[:512].lstrip().lower()
    if outer_compression(data) is None and head.startswith(_HTML_STARTS):
        return "HTML page instead of RINEX (a login or error page?)"
    try:
        decompress_bytes(data)
    except RinexFileError as exc:
        return str(exc)
    return None
